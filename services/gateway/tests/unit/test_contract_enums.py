"""The API's names for roles, priorities and secrecy levels are the contracts' enums, no more
and no fewer. The converters derive their tables from the proto descriptors, but the request
and response schemas name the values by hand (Literal types, the platform's Clearance): a value
added to a contract and not to its schema would be a 500 on every answer that carries it."""

from __future__ import annotations

from typing import get_args

from vanban.contracts.directory.v1 import directory_pb2
from vanban.contracts.documents.v1 import documents_pb2
from vanban.gateway.api.convert.common import enum_names
from vanban.gateway.api.schemas.incoming_documents import Priority
from vanban.gateway.api.schemas.people import Role
from vanban.platform.clearance import Clearance


def test_the_roles_of_the_api_are_the_directorys() -> None:
    assert set(get_args(Role)) == set(enum_names(directory_pb2.Role).values())


def test_the_priorities_of_the_api_are_the_registrys() -> None:
    assert set(get_args(Priority)) == set(enum_names(documents_pb2.Priority).values())


def test_clearances_and_secrecy_levels_are_the_one_scale() -> None:
    levels = {level.value for level in Clearance}

    assert set(enum_names(directory_pb2.Clearance).values()) == levels
    assert set(enum_names(documents_pb2.Secrecy).values()) == levels

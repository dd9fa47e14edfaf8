"""People administration through gRPC with real caller tokens, PostgreSQL and NATS."""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf.field_mask_pb2 import FieldMask
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from services.directory.tests.integration.support import call, failure, published
from vanban.contracts.directory.v1 import directory_pb2 as pb
from vanban.contracts.directory.v1 import events_pb2
from vanban.directory.adapters.db.tables import platform_tables
from vanban.launcher.infra import NatsServer
from vanban.platform.grpc.status import remote_error
from vanban.platform.testing import TokenMint

NEW_PASSWORD = "mat-khau-tam-thoi"


def new_person(**overrides: object) -> pb.Person:
    fields: dict[str, Any] = {
        "username": "ketoan",
        "full_name": "Đỗ Thị Kế Toán",
        "position_title": "Kế toán viên",
        "roles": [pb.ROLE_SPECIALIST],
        "unit_codes": ["PTH"],
        "clearance": pb.CLEARANCE_CONFIDENTIAL,
        "email": "KeToan@Demo.gov.vn",
        "external_subject": "oidc|ketoan",
    }
    fields.update(overrides)
    return pb.Person(**fields)


async def test_an_admin_manages_a_person_from_creation_to_deactivation(
    directory: str, directory_database: str, mint: TokenMint, nats_server: NatsServer
) -> None:
    admin = mint.person("admin-1", roles=("admin",))
    gateway = mint.service("gateway")
    created = await call(
        directory,
        "CreatePerson",
        pb.CreatePersonRequest(
            person=new_person(), password=NEW_PASSWORD, password_must_change=True
        ),
        admin,
    )
    person = created.person
    assert (person.username, person.email, list(person.unit_codes)) == (
        "ketoan",
        "ketoan@demo.gov.vn",
        ["PTH"],
    )
    assert person.active and person.password_must_change and person.id

    signed_in = await call(
        directory,
        "Authenticate",
        pb.AuthenticateRequest(username="ketoan", password=NEW_PASSWORD),
        gateway,
    )
    assert signed_in.person.id == person.id and signed_in.person.password_must_change

    for key in ({"email": "ketoan@DEMO.gov.vn"}, {"external_subject": "oidc|ketoan"}):
        found = await call(directory, "FindPerson", pb.FindPersonRequest(**key), gateway)
        assert found.person.id == person.id
    lost = await failure(
        directory, "FindPerson", pb.FindPersonRequest(external_subject="oidc|nobody"), gateway
    )
    assert lost.code() is grpc.StatusCode.NOT_FOUND

    updated = await call(
        directory,
        "UpdatePerson",
        pb.UpdatePersonRequest(
            person=pb.Person(id=person.id, roles=[pb.ROLE_SPECIALIST, pb.ROLE_ARCHIVIST]),
            update_mask=FieldMask(paths=["roles"]),
        ),
        admin,
    )
    assert list(updated.person.roles) == [pb.ROLE_SPECIALIST, pb.ROLE_ARCHIVIST]
    assert updated.person.full_name == "Đỗ Thị Kế Toán"

    await call(
        directory,
        "SetPassword",
        pb.SetPasswordRequest(person_id=person.id, password="mat-khau-moi-hon", must_change=False),
        admin,
    )
    await call(
        directory,
        "Authenticate",
        pb.AuthenticateRequest(username="ketoan", password="mat-khau-moi-hon"),
        gateway,
    )
    himself = mint.person(person.id, roles=("specialist", "archivist"))
    wrong = await failure(
        directory,
        "ChangePassword",
        pb.ChangePasswordRequest(current_password="doan-bua", new_password="cua-rieng-toi"),
        himself,
    )
    assert remote_error(wrong).reason == "WRONG_CURRENT_PASSWORD"
    changed = await call(
        directory,
        "ChangePassword",
        pb.ChangePasswordRequest(current_password="mat-khau-moi-hon", new_password="cua-rieng-toi"),
        himself,
    )
    assert not changed.person.password_must_change
    await call(
        directory,
        "Authenticate",
        pb.AuthenticateRequest(username="ketoan", password="cua-rieng-toi"),
        gateway,
    )

    deactivated = await call(
        directory, "DeactivatePerson", pb.DeactivatePersonRequest(person_id=person.id), admin
    )
    assert not deactivated.person.active
    refused = await failure(
        directory,
        "Authenticate",
        pb.AuthenticateRequest(username="ketoan", password="cua-rieng-toi"),
        gateway,
    )
    assert refused.code() is grpc.StatusCode.UNAUTHENTICATED

    [gone] = await published(nats_server.url, "vanban.directory.person.deactivated", at_least=1)
    assert events_pb2.PersonDeactivated.FromString(gone.data).person.id == person.id
    upserts = await published(nats_server.url, "vanban.directory.person.upserted", at_least=10)
    mine = [
        events_pb2.PersonUpserted.FromString(m.data).person
        for m in upserts
        if events_pb2.PersonUpserted.FromString(m.data).person.id == person.id
    ]
    # Created, roles changed, password set, password changed, deactivated: every change is
    # published, and each of the last four ends the person's sessions (a newer version).
    assert len(mine) == 5 and not mine[-1].active
    assert [p.session_version for p in mine] == [1, 2, 3, 4, 5]

    engine = create_async_engine(directory_database)
    try:
        async with engine.connect() as connection:
            audit = platform_tables.audit
            rows = (
                await connection.execute(
                    select(audit.c.action, audit.c.actor, audit.c.before, audit.c.after)
                    .where(audit.c.resource == f"people/{person.id}")
                    .order_by(audit.c.id)
                )
            ).all()
    finally:
        await engine.dispose()
    assert [(r.action, r.actor) for r in rows] == [
        ("person.create", "admin-1"),
        ("person.update", "admin-1"),
        ("person.password.set", "admin-1"),
        ("person.password.change", person.id),
        ("person.deactivate", "admin-1"),
    ]
    # Neither passwords nor their hashes reach the audit log.
    text = repr([tuple(r) for r in rows])
    assert "argon2" not in text and NEW_PASSWORD not in text and "mat-khau-moi-hon" not in text
    assert "cua-rieng-toi" not in text and "doan-bua" not in text


async def test_people_rules_hold_over_grpc(directory: str, mint: TokenMint) -> None:
    admin = mint.person("admin-1", roles=("admin",))
    duplicate = await failure(
        directory,
        "CreatePerson",
        pb.CreatePersonRequest(
            person=new_person(username="VanThu", email="", external_subject=""),
            password=NEW_PASSWORD,
        ),
        admin,
    )
    assert duplicate.code() is grpc.StatusCode.ALREADY_EXISTS
    unknown_unit = await failure(
        directory,
        "CreatePerson",
        pb.CreatePersonRequest(
            person=new_person(
                username="moi", unit_codes=["KHONGCO"], email="", external_subject=""
            ),
            password=NEW_PASSWORD,
        ),
        admin,
    )
    assert unknown_unit.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert remote_error(unknown_unit).violations[0].field == "unit_codes"

    # Văn phòng has the demo people in it: it cannot go, and the answer says why.
    not_empty = await failure(directory, "DeleteUnit", pb.DeleteUnitRequest(code="VP"), admin)
    assert not_empty.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "member(s) (chuyenvien, luutru, quantri, truongphong, vanthu)" in (
        not_empty.details() or ""
    )
    assert "child unit(s) (PTH)" in (not_empty.details() or "")


async def test_people_administration_needs_an_admin(directory: str, mint: TokenMint) -> None:
    clerk = mint.person("clerk-1", roles=("clerk", "unit_head", "agency_leader"))
    for method, request in (
        ("CreatePerson", pb.CreatePersonRequest(person=new_person(), password=NEW_PASSWORD)),
        ("UpdatePerson", pb.UpdatePersonRequest(person=pb.Person(id="x", full_name="Y"))),
        ("SetPassword", pb.SetPasswordRequest(person_id="x", password=NEW_PASSWORD)),
        ("DeactivatePerson", pb.DeactivatePersonRequest(person_id="x")),
    ):
        error = await failure(directory, method, request, clerk)
        assert error.code() is grpc.StatusCode.PERMISSION_DENIED, method
    error = await failure(
        directory,
        "FindPerson",
        pb.FindPersonRequest(username="vanthu"),
        mint.person("admin-1", roles=("admin",)),
    )
    assert error.code() is grpc.StatusCode.PERMISSION_DENIED
    assert remote_error(error).reason == "SERVICE_ONLY"

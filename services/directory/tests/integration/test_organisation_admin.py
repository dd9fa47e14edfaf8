"""The agency profile and the units tree through gRPC, against real PostgreSQL and NATS."""

from __future__ import annotations

import grpc
from google.protobuf.field_mask_pb2 import FieldMask
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from services.directory.tests.integration.support import call, failure, published
from vanban.contracts.directory.v1 import directory_pb2 as pb
from vanban.contracts.directory.v1 import events_pb2
from vanban.directory.adapters.db.tables import platform_tables
from vanban.directory.domain.model import Agency
from vanban.launcher.infra import NatsServer
from vanban.platform.grpc.status import remote_error
from vanban.platform.testing import TokenMint


async def test_an_admin_updates_the_agency_profile_but_not_its_code(
    directory: str,
    directory_database: str,
    mint: TokenMint,
    agency: Agency,
    nats_server: NatsServer,
) -> None:
    admin = mint.person("admin-1", roles=("admin",))
    answer = await call(
        directory,
        "UpdateAgency",
        pb.UpdateAgencyRequest(
            agency=pb.Agency(address="Số 1 Trần Phú", phone="0238 3844 111", email="UBND@Demo.vn"),
            update_mask=FieldMask(paths=["address", "phone", "email"]),
        ),
        admin,
    )
    assert answer.agency.name == agency.name and answer.agency.abbreviation == "UBND"
    assert (answer.agency.address, answer.agency.email) == ("Số 1 Trần Phú", "ubnd@demo.vn")
    read = await call(directory, "GetAgency", pb.GetAgencyRequest(), mint.person("p"))
    assert read.agency == answer.agency

    error = await failure(
        directory,
        "UpdateAgency",
        pb.UpdateAgencyRequest(
            agency=pb.Agency(code="000.00.00.H41"), update_mask=FieldMask(paths=["code"])
        ),
        admin,
    )
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert remote_error(error).reason == "CODE_IMMUTABLE"
    error = await failure(
        directory,
        "UpdateAgency",
        pb.UpdateAgencyRequest(agency=pb.Agency(), update_mask=FieldMask(paths=["password"])),
        admin,
    )
    assert remote_error(error).reason == "INVALID_UPDATE_MASK"

    [message] = await published(nats_server.url, "vanban.directory.agency.updated", at_least=1)
    event = events_pb2.AgencyUpdated.FromString(message.data)
    assert event.agency.address == "Số 1 Trần Phú" and event.occurred_at.seconds > 0

    engine = create_async_engine(directory_database)
    try:
        async with engine.connect() as connection:
            audit = platform_tables.audit
            rows = (
                await connection.execute(
                    select(audit.c.actor, audit.c.before, audit.c.after).where(
                        audit.c.action == "agency.update"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    assert [(r.actor, r.before["address"], r.after["address"]) for r in rows] == [
        ("admin-1", "", "Số 1 Trần Phú")
    ]


async def test_a_non_admin_is_refused_every_organisation_change(
    directory: str, mint: TokenMint
) -> None:
    leader = mint.person("leader-1", roles=("agency_leader", "unit_head"))
    for method, request in (
        ("UpdateAgency", pb.UpdateAgencyRequest(agency=pb.Agency(name="Khác"))),
        ("CreateUnit", pb.CreateUnitRequest(unit=pb.Unit(code="KT", name="Phòng Kế toán"))),
        ("UpdateUnit", pb.UpdateUnitRequest(unit=pb.Unit(code="VP", name="Khác"))),
        ("DeleteUnit", pb.DeleteUnitRequest(code="PTH")),
    ):
        error = await failure(directory, method, request, leader)
        assert error.code() is grpc.StatusCode.PERMISSION_DENIED, method
        assert remote_error(error).reason == "ROLE_REQUIRED"
    error = await failure(directory, "ListUnits", pb.ListUnitsRequest(), None)
    assert error.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_the_units_tree_is_built_moved_and_guarded(
    directory: str, mint: TokenMint, nats_server: NatsServer
) -> None:
    admin = mint.person("admin-1", roles=("admin",))
    reader = mint.person("reader", roles=("specialist",))
    for unit in (
        pb.Unit(code="KT", name="Phòng Kế toán", abbreviation="KT"),
        pb.Unit(code="KT1", name="Tổ Kế toán 1", parent_code="KT"),
        pb.Unit(code="KT2", name="Tổ Kế toán 2", parent_code="KT1"),
    ):
        created = await call(directory, "CreateUnit", pb.CreateUnitRequest(unit=unit), admin)
        assert created.unit.code == unit.code
    duplicate = await failure(
        directory, "CreateUnit", pb.CreateUnitRequest(unit=pb.Unit(code="KT", name="X")), admin
    )
    assert duplicate.code() is grpc.StatusCode.ALREADY_EXISTS

    cycle = await failure(
        directory,
        "UpdateUnit",
        pb.UpdateUnitRequest(
            unit=pb.Unit(code="KT", parent_code="KT2"), update_mask=FieldMask(paths=["parent_code"])
        ),
        admin,
    )
    assert cycle.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert remote_error(cycle).reason == "UNIT_CYCLE"

    moved = await call(
        directory,
        "UpdateUnit",
        pb.UpdateUnitRequest(
            unit=pb.Unit(code="KT2", parent_code="KT"), update_mask=FieldMask(paths=["parent_code"])
        ),
        admin,
    )
    assert moved.unit.parent_code == "KT" and moved.unit.name == "Tổ Kế toán 2"

    tree = await call(directory, "ListUnits", pb.ListUnitsRequest(), reader)
    codes = [unit.code for unit in tree.units]
    assert codes.index("KT") < codes.index("KT1") < codes.index("KT2")
    got = await call(directory, "GetUnit", pb.GetUnitRequest(code="KT1"), reader)
    assert got.unit.parent_code == "KT"

    not_empty = await failure(directory, "DeleteUnit", pb.DeleteUnitRequest(code="KT"), admin)
    assert not_empty.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "child unit(s) (KT1, KT2)" in (not_empty.details() or "")
    await call(directory, "DeleteUnit", pb.DeleteUnitRequest(code="KT2"), admin)
    missing = await failure(directory, "GetUnit", pb.GetUnitRequest(code="KT2"), reader)
    assert missing.code() is grpc.StatusCode.NOT_FOUND

    upserted = await published(nats_server.url, "vanban.directory.unit.upserted", at_least=4)
    assert {events_pb2.UnitUpserted.FromString(m.data).unit.code for m in upserted} >= {
        "KT",
        "KT1",
        "KT2",
    }
    [deleted] = await published(nats_server.url, "vanban.directory.unit.deleted", at_least=1)
    assert events_pb2.UnitDeleted.FromString(deleted.data).unit.code == "KT2"


async def test_without_an_archive_peer_images_are_unavailable_not_lost(
    directory: str, mint: TokenMint
) -> None:
    error = await failure(
        directory,
        "SetSealImage",
        pb.SetSealImageRequest(png=b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + b"\x00" * 17),
        mint.person("admin-1", roles=("admin",)),
    )
    assert error.code() is grpc.StatusCode.UNAVAILABLE
    assert remote_error(error).reason == "ARCHIVE_NOT_CONFIGURED"
    agency = await call(directory, "GetAgency", pb.GetAgencyRequest(), mint.person("reader"))
    assert not agency.agency.HasField("seal_image")

from __future__ import annotations

import hashlib

import pytest

from services.directory.tests.unit.fakes import (
    ADMIN,
    AGENCY,
    NOW,
    FakeStore,
    FakeTransaction,
    make_person,
    make_png,
    person_caller,
    transactions_of,
)
from vanban.directory.domain import image_service
from vanban.directory.domain.events import AgencyUpdated, PersonUpserted
from vanban.directory.domain.model import ImageRef, Role
from vanban.platform.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
)

BLUE = make_png(rgba=b"\x00\x00\xff\x80")
RED = make_png(rgba=b"\xff\x00\x00\x80")


def organisation() -> FakeTransaction:
    tx = FakeTransaction()
    tx.agency.value = AGENCY
    tx.people.put(make_person(id="ld", username="lanhdao", roles=frozenset({Role.AGENCY_LEADER})))
    tx.people.put(make_person(id="cv", username="chuyenvien", roles=frozenset({Role.SPECIALIST})))
    return tx


async def set_signature(tx: FakeTransaction, store: FakeStore, person_id: str, png: bytes):
    return await image_service.set_signature_image(
        transactions=transactions_of(tx),
        caller=ADMIN,
        store=store,
        person_id=person_id,
        png=png,
        now=NOW,
    )


async def test_a_leaders_signature_is_stored_and_only_its_reference_kept() -> None:
    tx, store = organisation(), FakeStore()
    person = await set_signature(tx, store, "ld", BLUE)
    sha = hashlib.sha256(BLUE).hexdigest()
    assert person.signature_image == ImageRef(sha256=sha, size=len(BLUE))
    assert store.objects[sha] == (BLUE, "image/png", "signature-lanhdao.png")
    assert tx.people.rows["ld"][0].signature_image == person.signature_image
    assert tx.events == [PersonUpserted(person=person, occurred_at=NOW)]
    assert tx.audits[0]["action"] == "person.signature_image.set"
    assert tx.audits[0]["after"] == {"signature_image": {"sha256": sha, "size": len(BLUE)}}
    # The same image again changes nothing.
    await set_signature(tx, store, "ld", BLUE)
    assert len(tx.events) == 1


async def test_nothing_reaches_the_archive_unless_it_is_a_png_for_a_leader_by_an_admin() -> None:
    tx, store = organisation(), FakeStore()
    with pytest.raises(InvalidArgumentError):
        await set_signature(tx, store, "ld", b"%PDF-1.7")
    with pytest.raises(FailedPreconditionError) as raised:
        await set_signature(tx, store, "cv", BLUE)
    assert raised.value.reason == "NOT_A_SIGNER"
    with pytest.raises(NotFoundError):
        await set_signature(tx, store, "khongco", BLUE)
    with pytest.raises(PermissionDeniedError):
        await image_service.set_signature_image(
            transactions=transactions_of(tx),
            caller=person_caller("ld", "agency_leader"),
            store=store,
            person_id="ld",
            png=BLUE,
            now=NOW,
        )
    assert store.objects == {} and tx.commits == 0


async def test_an_archive_failure_changes_nothing() -> None:
    tx, store = organisation(), FakeStore()
    store.failure = UnavailableError("archive away", reason="ARCHIVE_UNAVAILABLE")
    with pytest.raises(UnavailableError):
        await set_signature(tx, store, "ld", BLUE)
    assert tx.people.rows["ld"][0].signature_image is None and tx.commits == 0


async def test_the_agency_seal_is_stored_and_published_with_the_agency() -> None:
    tx, store = organisation(), FakeStore()
    agency = await image_service.set_seal_image(
        transactions=transactions_of(tx), caller=ADMIN, store=store, png=RED, now=NOW
    )
    sha = hashlib.sha256(RED).hexdigest()
    assert agency.seal_image == ImageRef(sha256=sha, size=len(RED))
    assert agency.name == AGENCY.name and tx.agency.value == agency
    assert tx.events == [AgencyUpdated(agency=agency, occurred_at=NOW)]
    assert tx.audits[0]["action"] == "agency.seal_image.set"
    with pytest.raises(InvalidArgumentError):
        await image_service.set_seal_image(
            transactions=transactions_of(tx),
            caller=ADMIN,
            store=store,
            png=RED + b"\x00" * (1024 * 1024),
            now=NOW,
        )


async def test_an_image_refused_after_its_upload_is_given_back_at_once() -> None:
    """The leader lost their role while the image travelled to the archive: nothing will refer
    to it, so the archive is told to drop it rather than keep it for the sweeper."""
    tx, store = organisation(), FakeStore()

    def demoted() -> None:
        tx.people.put(make_person(id="ld", username="lanhdao", roles=frozenset({Role.SPECIALIST})))

    store.after_put = demoted
    with pytest.raises(FailedPreconditionError) as raised:
        await set_signature(tx, store, "ld", BLUE)
    assert raised.value.reason == "NOT_A_SIGNER"
    assert store.released == ["upload-1"]
    assert store.objects == {} and tx.events == [] and tx.commits == 0


async def test_a_stored_image_is_not_given_back() -> None:
    tx, store = organisation(), FakeStore()
    await set_signature(tx, store, "ld", BLUE)
    await image_service.set_seal_image(
        transactions=transactions_of(tx), caller=ADMIN, store=store, png=RED, now=NOW
    )
    assert store.released == [] and len(store.objects) == 2

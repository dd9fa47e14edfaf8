"""Use cases of signature and seal images: checked here, stored in the archive, referenced
by hash on the person or the agency."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import asdict, replace
from datetime import datetime

from vanban.directory.domain.access import require_admin
from vanban.directory.domain.events import AgencyUpdated, PersonUpserted
from vanban.directory.domain.image import check_png
from vanban.directory.domain.model import Agency, ImageRef, Person
from vanban.directory.domain.organisation_service import agency_not_configured
from vanban.directory.domain.person_service import person_not_found
from vanban.directory.domain.ports import ObjectStore, StoredImage, Transactions
from vanban.platform.caller import Caller
from vanban.platform.errors import DomainError, FailedPreconditionError, invalid_fields

PNG = "image/png"


def _ref(image: ImageRef | None) -> dict[str, object] | None:
    return asdict(image) if image else None


async def set_signature_image(
    *,
    transactions: Transactions,
    caller: Caller,
    store: ObjectStore,
    person_id: str,
    png: bytes,
    now: datetime,
) -> Person:
    """Stores a leader's signature image and keeps its reference on the person."""
    require_admin(caller)
    check_png(png)
    if not person_id.strip():
        raise invalid_fields({"person_id": "is required"}, reason="INVALID_PERSON_ID")
    async with transactions() as tx:
        person = await tx.people.get(person_id.strip())
    if person is None:
        raise person_not_found()
    _require_signer(person)
    stored = await store.put(png, content_type=PNG, file_name=f"signature-{person.username}.png")
    image = stored.ref
    async with _released_if_refused(store, stored), transactions() as tx:
        current = await tx.people.get(person.id, lock=True)
        if current is None:
            raise person_not_found()
        _require_signer(current)
        if current.signature_image == image:
            return current
        updated = replace(current, signature_image=image)
        await tx.people.update(updated)
        tx.record(PersonUpserted(person=updated, occurred_at=now))
        tx.audit(
            action="person.signature_image.set",
            resource=f"people/{current.id}",
            before={"signature_image": _ref(current.signature_image)},
            after={"signature_image": _ref(image)},
        )
        await tx.commit()
    return updated


async def set_seal_image(
    *, transactions: Transactions, caller: Caller, store: ObjectStore, png: bytes, now: datetime
) -> Agency:
    """Stores the agency's seal image and keeps its reference on the agency."""
    require_admin(caller)
    check_png(png)
    async with transactions() as tx:
        agency = await tx.agency.get()
    if agency is None:
        raise agency_not_configured()
    stored = await store.put(png, content_type=PNG, file_name=f"seal-{agency.code}.png")
    image = stored.ref
    async with _released_if_refused(store, stored), transactions() as tx:
        current = await tx.agency.get(lock=True)
        if current is None:
            raise agency_not_configured()
        if current.seal_image == image:
            return current
        updated = replace(current, seal_image=image)
        await tx.agency.update(updated)
        tx.record(AgencyUpdated(agency=updated, occurred_at=now))
        tx.audit(
            action="agency.seal_image.set",
            resource=f"agencies/{current.code}",
            before={"seal_image": _ref(current.seal_image)},
            after={"seal_image": _ref(image)},
        )
        await tx.commit()
    return updated


@contextlib.asynccontextmanager
async def _released_if_refused(store: ObjectStore, stored: StoredImage) -> AsyncIterator[None]:
    """The checks are made again once the image is stored, as the person or agency may have
    changed meanwhile (a leader's role taken away). Refused then, nothing will refer to the
    image: it is given back at once instead of waiting for the archive's sweeper. Other
    failures (the database) leave the outcome unknown, and the image to the sweeper."""
    try:
        yield
    except DomainError:
        await store.release(stored.upload_id)
        raise


def _require_signer(person: Person) -> None:
    if not person.signs:
        raise FailedPreconditionError(
            f"{person.username} holds no leader role, and only leaders sign",
            reason="NOT_A_SIGNER",
        )

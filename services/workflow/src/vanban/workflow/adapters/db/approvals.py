"""The approval chains, approvals and their history in PostgreSQL (ADR 0010, 5)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.platform.clearance import Secrecy
from vanban.platform.errors import AlreadyExistsError
from vanban.workflow.adapters.db.tables import approval_actions, approval_chains, approvals
from vanban.workflow.domain.approvals import (
    Approval,
    ApprovalAction,
    ApprovalState,
    Decision,
    Step,
)


def _values(approval: Approval) -> dict[str, Any]:
    return {
        "signer": approval.signer,
        "steps": [s.value for s in approval.steps],
        "position": approval.position,
        "state": approval.state.value,
        "round": approval.round,
        "version": approval.version,
        "waiting_for": approval.waiting_for,
        "numbering_since": approval.numbering_since,
        "submitted_by": approval.submitted_by,
        "submitted_at": approval.submitted_at,
        "updated_at": approval.updated_at,
    }


def _approval(row: Any) -> Approval:
    return Approval(
        id=row.id,
        document_id=row.document_id,
        document_type=row.document_type,
        drafting_unit=row.drafting_unit,
        signer=row.signer,
        steps=tuple(Step(s) for s in row.steps),
        position=row.position,
        state=ApprovalState(row.state),
        round=row.round,
        version=row.version,
        submitted_by=row.submitted_by,
        submitted_at=row.submitted_at,
        updated_at=row.updated_at,
        numbering_since=row.numbering_since,
    )


class SqlApprovals:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _one(self, where: Any, *, lock: bool) -> Approval | None:
        statement = select(approvals).where(where)
        if lock:
            statement = statement.with_for_update()
        row = (await self._session.execute(statement)).first()
        return None if row is None else _approval(row)

    async def get(self, approval_id: str, *, lock: bool) -> Approval | None:
        return await self._one(approvals.c.id == approval_id, lock=lock)

    async def of_document(self, document_id: str, *, lock: bool) -> Approval | None:
        return await self._one(approvals.c.document_id == document_id, lock=lock)

    async def add(self, approval: Approval, *, secrecy: Secrecy) -> None:
        try:
            async with self._session.begin_nested():
                await self._session.execute(
                    insert(approvals).values(
                        id=approval.id,
                        document_id=approval.document_id,
                        document_type=approval.document_type,
                        drafting_unit=approval.drafting_unit,
                        secrecy=secrecy.value,
                        **_values(approval),
                    )
                )
        except IntegrityError as error:
            if "document_id" not in str(error.orig):
                raise
            raise AlreadyExistsError(
                "the draft was submitted already", reason="ALREADY_SUBMITTED"
            ) from None

    async def update(self, approval: Approval) -> None:
        await self._session.execute(
            update(approvals).where(approvals.c.id == approval.id).values(**_values(approval))
        )

    async def add_action(self, action: ApprovalAction) -> None:
        await self._session.execute(
            insert(approval_actions).values(
                approval_id=action.approval_id,
                round=action.round,
                step=action.step,
                decision=action.decision.value,
                actor=action.actor,
                on_behalf_of=action.on_behalf_of,
                comment=action.comment,
                version=action.version,
                at=action.at,
            )
        )

    async def history(self, approval_id: str) -> list[ApprovalAction]:
        rows = await self._session.execute(
            select(approval_actions)
            .where(approval_actions.c.approval_id == approval_id)
            .order_by(approval_actions.c.id)
        )
        return [
            ApprovalAction(
                approval_id=r.approval_id,
                round=r.round,
                step=r.step,
                decision=Decision(r.decision),
                actor=r.actor,
                on_behalf_of=r.on_behalf_of,
                comment=r.comment,
                version=r.version,
                at=r.at,
            )
            for r in rows
        ]

    async def waiting(
        self,
        *,
        keys: Sequence[str],
        secrecies: Sequence[str],
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Approval]:
        a = approvals.c
        statement = select(approvals).where(
            a.waiting_for.in_(list(keys)), a.secrecy.in_(list(secrecies))
        )
        if after is not None:
            statement = statement.where(tuple_(a.updated_at, a.id) > tuple_(*after))
        rows = await self._session.execute(statement.order_by(a.updated_at, a.id).limit(limit))
        return [_approval(r) for r in rows]

    async def chain(self, document_type: str) -> tuple[Step, ...] | None:
        row = (
            await self._session.execute(
                select(approval_chains.c.steps).where(
                    approval_chains.c.document_type == document_type
                )
            )
        ).first()
        return None if row is None else tuple(Step(s) for s in row.steps)

    async def chains(self) -> dict[str, tuple[Step, ...]]:
        rows = await self._session.execute(select(approval_chains))
        return {r.document_type: tuple(Step(s) for s in r.steps) for r in rows}

    async def set_chain(self, document_type: str, steps: tuple[Step, ...], *, by: str) -> None:
        values = {
            "steps": [s.value for s in steps],
            "updated_by": by,
            "updated_at": datetime.now(UTC),
        }
        statement = pg_insert(approval_chains).values(document_type=document_type, **values)
        await self._session.execute(
            statement.on_conflict_do_update(index_elements=["document_type"], set_=values)
        )

"""The records routes (the dossier list, dossiers and their export, dispositions, the audit
chain), on the real gateway with the archive's RecordsService faked: every input is checked
before the service is asked, the roles the archive requires are required here first, refusals
are problem+json with the service's reason, and what the service is sent and answers is carried
unchanged. An export that fails once its download began is cut off, never ended as complete."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import pytest
from fastapi.testclient import TestClient
from google.protobuf.timestamp_pb2 import Timestamp
from httpx import Response

from services.gateway.tests.unit.support import AGENCY, build_gateway
from vanban.contracts.archive.v1 import records_pb2 as pb
from vanban.contracts.directory.v1 import directory_pb2
from vanban.gateway.api.admission import DOSSIER_LIST_MAX_BYTES
from vanban.gateway.api.auth import Principal, any_principal
from vanban.gateway.api.convert.records import XLSX
from vanban.gateway.api.dossier_export import ExportBrokenError
from vanban.gateway.api.problem_types import PROBLEM_TYPES
from vanban.gateway.domain import api_keys
from vanban.platform.caller import Caller
from vanban.platform.errors import (
    AlreadyExistsError,
    DomainError,
    ErrorCode,
    FailedPreconditionError,
    NotFoundError,
    PermissionDeniedError,
    ResourceExhaustedError,
    invalid_fields,
)
from vanban.platform.grpc.status import DETAILS_KEY, to_rich_status
from vanban.platform.problem import http_status

DOSSIER = "0197a3c2-0000-7000-8000-0000000000a1"
DOCUMENT = "0197a3c2-0000-7000-8000-0000000000d1"
DISPOSITION = "0197a3c2-0000-7000-8000-0000000000b1"
OPENED_AT = datetime(2026, 3, 2, 1, 2, 3, tzinfo=UTC)
APPROVED_AT = datetime(2026, 1, 15, 2, 0, 0, tzinfo=UTC)
CSV = (
    "code,title,retention,access,creator_unit,responsible,notes\n"
    "01.TCCB,Hồ sơ tuyển dụng công chức năm 2026,02,03,TCCB,nguyenvana,\n"
).encode()
EXPORT = b"PK\x03\x04" + b"z" * 100
EXPORT_NAME = "000.00.00.H99.2026.01.TCCB-bagit.zip"


class FixityMismatchError(DomainError):
    """A stored file found damaged, as the archive refuses with it."""

    code = ErrorCode.DATA_LOSS
    reason = "FIXITY_MISMATCH"

    def __init__(self) -> None:
        super().__init__("stored bytes no longer match their SHA-256")


def stamp(when: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(when)
    return value


def entry(**overrides: Any) -> pb.DossierListEntry:
    fields: dict[str, Any] = {
        "year": 2026,
        "code": "01.TCCB",
        "title": "Hồ sơ tuyển dụng công chức năm 2026",
        "retention": "02",
        "retention_years": 70,
        "access": "03",
        "creator_unit": "TCCB",
        "responsible": "nguyenvana",
        "approved_at": stamp(APPROVED_AT),
        "approved_by": "lanhdao",
        "dossier_id": DOSSIER,
    }
    fields.update(overrides)
    return pb.DossierListEntry(**fields)


def dossier(**overrides: Any) -> pb.Dossier:
    fields: dict[str, Any] = {
        "id": DOSSIER,
        "state": pb.DOSSIER_STATE_OPEN,
        "year": 2026,
        "list_code": "01.TCCB",
        "file_code": f"{AGENCY}.2026.01.TCCB",
        "title": "Hồ sơ tuyển dụng công chức năm 2026",
        "retention": "02",
        "retention_years": 70,
        "access": "03",
        "creator_unit": "TCCB",
        "responsible": "nguyenvana",
        "language": "vi",
        "start_date": "2026-02-27",
        "doc_total": 1,
        "page_total": 3,
        "opened_by": "nguyenvana",
        "opened_at": stamp(OPENED_AT),
        "documents": [
            pb.DossierDocument(
                kind="incoming",
                document_id=DOCUMENT,
                code_number="05",
                code_notation="QĐ-UBND",
                issued_date="2026-02-27",
                issuer_name="UBND tỉnh",
                document_type="Quyết định",
                subject="Về việc tuyển dụng công chức",
                page_amount=3,
                secrecy="confidential",
                files=[
                    pb.DossierFile(
                        sha256="ab" * 32,
                        size=1234,
                        content_type="application/pdf",
                        file_name="qd-05.pdf",
                    )
                ],
                added_by="nguyenvana",
                added_at=stamp(OPENED_AT),
            )
        ],
    }
    fields.update(overrides)
    return pb.Dossier(**fields)


def disposition(**overrides: Any) -> pb.Disposition:
    fields: dict[str, Any] = {
        "id": DISPOSITION,
        "state": pb.DISPOSITION_STATE_PROPOSED,
        "reason": "Tài liệu hết thời hạn bảo quản",
        "proposed_by": "luutru",
        "proposed_at": stamp(OPENED_AT),
        "items": [
            pb.DispositionItem(
                dossier_id=DOSSIER,
                file_code=f"{AGENCY}.2016.06.VP",
                title="Tập lưu công văn đi năm 2016",
                retention="06",
                retention_years=10,
                end_date="2016-12-31",
                retention_ends="2026-12-31",
                doc_total=120,
                page_total=340,
            )
        ],
    }
    fields.update(overrides)
    return pb.Disposition(**fields)


def rpc_error(code: grpc.StatusCode, error: DomainError) -> grpc.aio.AioRpcError:
    """A refusal as grpc.aio raises it, with the rich status the archive attaches."""
    trailing = grpc.aio.Metadata((DETAILS_KEY, to_rich_status(error).SerializeToString()))
    return grpc.aio.AioRpcError(
        code,
        initial_metadata=grpc.aio.Metadata(),
        trailing_metadata=trailing,
        details=error.message,
    )


def export_messages(data: bytes = EXPORT, *, size: int | None = None) -> list[Any]:
    """What the archive streams: progress while it prepares, the header, the bytes in chunks."""
    return [
        pb.ExportDossierResponse(progress=pb.ExportProgress(files_done=0, files_total=2)),
        pb.ExportDossierResponse(progress=pb.ExportProgress(files_done=2, files_total=2)),
        pb.ExportDossierResponse(
            header=pb.ExportHeader(
                content_type="application/zip",
                file_name=EXPORT_NAME,
                size=len(data) if size is None else size,
            )
        ),
        pb.ExportDossierResponse(chunk=data[:40]),
        pb.ExportDossierResponse(progress=pb.ExportProgress(files_done=2, files_total=2)),
        pb.ExportDossierResponse(chunk=data[40:]),
    ]


class ExportStream:
    """A server stream as grpc.aio gives it: `read()` for the first messages, then iteration. An
    exception among the messages is raised where it stands (the stream failing there)."""

    def __init__(self, messages: list[Any]) -> None:
        self._messages = messages
        self.cancelled = False

    def _next(self) -> Any:
        message = self._messages.pop(0)
        if isinstance(message, BaseException):
            raise message
        return message

    async def read(self) -> Any:
        return self._next() if self._messages else grpc.aio.EOF

    def __aiter__(self) -> AsyncIterator[pb.ExportDossierResponse]:
        return self._rest()

    async def _rest(self) -> AsyncIterator[pb.ExportDossierResponse]:
        while self._messages:
            yield self._next()

    def cancel(self) -> None:
        self.cancelled = True


class NoDelegations:
    """The directory, asked only for the delegations a caller holds."""

    async def ListDelegations(
        self, request: Any, **_: Any
    ) -> directory_pb2.ListDelegationsResponse:
        return directory_pb2.ListDelegationsResponse()


@dataclass
class FakeRecords:
    calls: list[tuple[str, Any]] = field(default_factory=list)
    # The next call is refused with this, when set.
    refusal: grpc.aio.AioRpcError | None = None
    import_answer: pb.ImportDossierListResponse | None = None
    export: list[Any] = field(default_factory=export_messages)
    streams: list[ExportStream] = field(default_factory=list)

    def _called(self, name: str, request: Any) -> None:
        self.calls.append((name, request))
        if self.refusal is not None:
            raise self.refusal

    async def ListDossierList(
        self, request: pb.ListDossierListRequest, **_: Any
    ) -> pb.ListDossierListResponse:
        self._called("ListDossierList", request)
        return pb.ListDossierListResponse(
            items=[
                entry(year=request.year),
                entry(
                    year=request.year,
                    code="02.VP",
                    title="Tập lưu công văn đi",
                    retention="01",
                    retention_years=0,
                    approved_at=None,
                    approved_by="",
                    dossier_id="",
                    notes="Văn thư lập",
                ),
            ]
        )

    async def ImportDossierList(
        self, request: pb.ImportDossierListRequest, **_: Any
    ) -> pb.ImportDossierListResponse:
        self._called("ImportDossierList", request)
        if self.import_answer is not None:
            return self.import_answer
        return pb.ImportDossierListResponse(
            entries=[entry(year=request.year, approved_at=None, approved_by="", dossier_id="")],
            applied=not request.dry_run,
            added=0 if request.dry_run else 1,
        )

    async def ApproveDossierList(
        self, request: pb.ApproveDossierListRequest, **_: Any
    ) -> pb.ApproveDossierListResponse:
        self._called("ApproveDossierList", request)
        return pb.ApproveDossierListResponse(approved=3)

    async def OpenDossier(self, request: pb.OpenDossierRequest, **_: Any) -> pb.OpenDossierResponse:
        self._called("OpenDossier", request)
        return pb.OpenDossierResponse(dossier=dossier(documents=[], doc_total=0, page_total=0))

    async def GetDossier(self, request: pb.GetDossierRequest, **_: Any) -> pb.GetDossierResponse:
        self._called("GetDossier", request)
        return pb.GetDossierResponse(dossier=dossier(id=request.id))

    async def ListDossiers(
        self, request: pb.ListDossiersRequest, **_: Any
    ) -> pb.ListDossiersResponse:
        self._called("ListDossiers", request)
        return pb.ListDossiersResponse(dossiers=[dossier(documents=[])], next_page_token="next")

    async def AddDossierDocument(
        self, request: pb.AddDossierDocumentRequest, **_: Any
    ) -> pb.AddDossierDocumentResponse:
        self._called("AddDossierDocument", request)
        return pb.AddDossierDocumentResponse(dossier=dossier(id=request.dossier_id))

    async def RemoveDossierDocument(
        self, request: pb.RemoveDossierDocumentRequest, **_: Any
    ) -> pb.RemoveDossierDocumentResponse:
        self._called("RemoveDossierDocument", request)
        return pb.RemoveDossierDocumentResponse(dossier=dossier(documents=[]))

    async def CloseDossier(
        self, request: pb.CloseDossierRequest, **_: Any
    ) -> pb.CloseDossierResponse:
        self._called("CloseDossier", request)
        return pb.CloseDossierResponse(
            dossier=dossier(
                state=pb.DOSSIER_STATE_CLOSED,
                end_date=request.end_date or "2026-11-30",
                closed_at=stamp(OPENED_AT),
                handover_due="2027-11-30",
                retention_ends="2096-11-30",
            )
        )

    async def HandOverDossier(
        self, request: pb.HandOverDossierRequest, **_: Any
    ) -> pb.HandOverDossierResponse:
        self._called("HandOverDossier", request)
        return pb.HandOverDossierResponse(
            dossier=dossier(
                state=pb.DOSSIER_STATE_HANDED_OVER,
                handed_over_at=stamp(OPENED_AT),
                handed_over_by="luutru",
                handover_record=pb.DossierFile(
                    sha256="cd" * 32,
                    size=999,
                    content_type="application/pdf",
                    file_name="bien-ban-giao-nop.pdf",
                ),
            )
        )

    async def SetDossierHold(
        self, request: pb.SetDossierHoldRequest, **_: Any
    ) -> pb.SetDossierHoldResponse:
        self._called("SetDossierHold", request)
        return pb.SetDossierHoldResponse(
            dossier=dossier(state=pb.DOSSIER_STATE_HANDED_OVER, legal_hold=request.hold)
        )

    async def CheckDossierFixity(
        self, request: pb.CheckDossierFixityRequest, **_: Any
    ) -> pb.CheckDossierFixityResponse:
        self._called("CheckDossierFixity", request)
        return pb.CheckDossierFixityResponse(
            ok=False,
            files=[
                pb.FileFixity(sha256="ab" * 32, ok=True),
                pb.FileFixity(sha256="cd" * 32, ok=False, problem="altered"),
            ],
        )

    def ExportDossier(self, request: pb.ExportDossierRequest, **_: Any) -> ExportStream:
        self.calls.append(("ExportDossier", request))
        messages = [self.refusal] if self.refusal is not None else list(self.export)
        stream = ExportStream(messages)
        self.streams.append(stream)
        return stream

    async def ProposeDisposition(
        self, request: pb.ProposeDispositionRequest, **_: Any
    ) -> pb.ProposeDispositionResponse:
        self._called("ProposeDisposition", request)
        return pb.ProposeDispositionResponse(disposition=disposition(reason=request.reason))

    async def GetDisposition(
        self, request: pb.GetDispositionRequest, **_: Any
    ) -> pb.GetDispositionResponse:
        self._called("GetDisposition", request)
        return pb.GetDispositionResponse(disposition=disposition(id=request.id))

    async def ListDispositions(
        self, request: pb.ListDispositionsRequest, **_: Any
    ) -> pb.ListDispositionsResponse:
        self._called("ListDispositions", request)
        return pb.ListDispositionsResponse(dispositions=[disposition()])

    async def DryRunDisposition(
        self, request: pb.DryRunDispositionRequest, **_: Any
    ) -> pb.DryRunDispositionResponse:
        self._called("DryRunDisposition", request)
        return pb.DryRunDispositionResponse(
            items=disposition().items,
            document_ids=[DOCUMENT],
            files=[
                pb.DispositionFile(sha256="ab" * 32, size=1234, kept=False),
                pb.DispositionFile(sha256="cd" * 32, size=99, kept=True),
            ],
            bytes_deleted=1234,
            blocked=["0197a3c2-0000-7000-8000-0000000000a2: on legal hold"],
        )

    async def DecideDisposition(
        self, request: pb.DecideDispositionRequest, **_: Any
    ) -> pb.DecideDispositionResponse:
        self._called("DecideDisposition", request)
        state = pb.DISPOSITION_STATE_APPROVED if request.approve else pb.DISPOSITION_STATE_REFUSED
        return pb.DecideDispositionResponse(
            disposition=disposition(
                state=state,
                decided_by="lanhdao",
                decided_at=stamp(OPENED_AT),
                decision_note=request.note,
            )
        )

    async def ExecuteDisposition(
        self, request: pb.ExecuteDispositionRequest, **_: Any
    ) -> pb.ExecuteDispositionResponse:
        self._called("ExecuteDisposition", request)
        return pb.ExecuteDispositionResponse(
            disposition=disposition(
                state=pb.DISPOSITION_STATE_EXECUTED,
                executed_by="luutru",
                executed_at=stamp(OPENED_AT),
                record=pb.DossierFile(
                    sha256="ef" * 32,
                    size=777,
                    content_type="application/pdf",
                    file_name=f"bien-ban-huy-{DISPOSITION}.pdf",
                ),
            )
        )

    async def VerifyAudit(self, request: pb.VerifyAuditRequest, **_: Any) -> pb.VerifyAuditResponse:
        self._called("VerifyAudit", request)
        return pb.VerifyAuditResponse(ok=True, checked=42, head_hash="9f" * 32)


@dataclass
class Gateway:
    client: TestClient
    records: FakeRecords
    app: Any

    def bearer(self, *roles: str) -> dict[str, str]:
        caller = Caller(agency_code=AGENCY, subject=str(uuid.uuid4()), roles=frozenset(roles))
        token = self.app.state.access_tokens.issue(caller, name="Người dùng")
        return {"Authorization": f"Bearer {token}"}

    def as_api_key(self, *scopes: str) -> dict[str, str]:
        caller = Caller(
            agency_code=AGENCY,
            subject="apikey:k1",
            roles=frozenset(r for s in scopes if (r := api_keys.SCOPES.get(s))),
        )
        key = Principal(caller=caller, metadata=(), scopes=frozenset(scopes))
        self.app.dependency_overrides[any_principal] = lambda: key
        return self.bearer()


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    app = build_gateway(tmp_path)
    records = FakeRecords()
    upstreams = app.state.upstreams
    upstreams.directory = NoDelegations()
    upstreams.records = records
    with TestClient(app) as client:
        yield Gateway(client, records, app)


def problem_of(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    return body


def csv_file(
    content: bytes = CSV, *, name: str = "danh-muc-2026.csv", media: str = "text/csv"
) -> Any:
    return {"file": (name, content, media)}


ARCHIVIST, LEADER, DEPUTY_LEADER = "archivist", "agency_leader", "deputy_agency_leader"

# Every route, the scope an API key would need, and the roles that pass the gateway (none: any).
ROUTES: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("get", "/v1/dossier-lists?year=2026", "records:read", ()),
    (
        "post",
        "/v1/dossier-lists/import?year=2026&dry_run=true",
        "records:manage",
        (ARCHIVIST,),
    ),
    ("post", "/v1/dossier-lists/2026/approve", "records:approve", (LEADER, DEPUTY_LEADER)),
    ("post", "/v1/dossiers", "records:keep", ()),
    ("get", "/v1/dossiers", "records:read", ()),
    ("get", f"/v1/dossiers/{DOSSIER}", "records:read", ()),
    ("post", f"/v1/dossiers/{DOSSIER}/documents", "records:keep", ()),
    ("delete", f"/v1/dossiers/{DOSSIER}/documents/{DOCUMENT}", "records:keep", ()),
    ("post", f"/v1/dossiers/{DOSSIER}/close", "records:keep", ()),
    ("post", f"/v1/dossiers/{DOSSIER}/handover", "records:manage", (ARCHIVIST,)),
    ("post", f"/v1/dossiers/{DOSSIER}/hold", "records:manage", (ARCHIVIST,)),
    ("post", f"/v1/dossiers/{DOSSIER}/fixity", "records:manage", (ARCHIVIST,)),
    ("get", f"/v1/dossiers/{DOSSIER}/export?format=bagit", "records:read", ()),
    ("post", "/v1/dispositions", "records:manage", (ARCHIVIST,)),
    ("get", "/v1/dispositions", "records:read", (ARCHIVIST, LEADER, DEPUTY_LEADER)),
    (
        "get",
        f"/v1/dispositions/{DISPOSITION}",
        "records:read",
        (ARCHIVIST, LEADER, DEPUTY_LEADER),
    ),
    (
        "get",
        f"/v1/dispositions/{DISPOSITION}/dry-run",
        "records:read",
        (ARCHIVIST, LEADER, DEPUTY_LEADER),
    ),
    (
        "post",
        f"/v1/dispositions/{DISPOSITION}/approve",
        "records:approve",
        (LEADER, DEPUTY_LEADER),
    ),
    (
        "post",
        f"/v1/dispositions/{DISPOSITION}/refuse",
        "records:approve",
        (LEADER, DEPUTY_LEADER),
    ),
    ("post", f"/v1/dispositions/{DISPOSITION}/execute", "records:manage", (ARCHIVIST,)),
    ("get", "/v1/audit/verify", "audit:verify", (ARCHIVIST, "admin")),
]
ROLES = ("clerk", "specialist", "unit_head", ARCHIVIST, LEADER, DEPUTY_LEADER, "admin")


def request(gateway: Gateway, method: str, path: str, headers: dict[str, str]) -> Response:
    """The route with a valid body of its own."""
    if path.startswith("/v1/dossier-lists/import"):
        return gateway.client.post(path, files=csv_file(), headers=headers)
    body: dict[str, Any] | None = None
    if path == "/v1/dossiers" and method == "post":
        body = {"list_code": "01.TCCB"}
    elif path.endswith("/documents"):
        body = {"document_id": DOCUMENT}
    elif path.endswith("/hold"):
        body = {"hold": True, "reason": "Phục vụ thanh tra"}
    elif path == "/v1/dispositions" and method == "post":
        body = {"reason": "Tài liệu hết thời hạn bảo quản"}
    elif path.endswith("/refuse"):
        body = {"note": "Giữ lại để thanh tra"}
    return gateway.client.request(method, path, json=body, headers=headers)


# Strangers, keys and roles ---------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "scope", "roles"), ROUTES)
def test_a_stranger_reaches_no_records_route(
    gateway: Gateway, method: str, path: str, scope: str, roles: tuple[str, ...]
) -> None:
    response = request(gateway, method, path, {})

    problem_of(response, 401, "TOKEN_MISSING")
    assert gateway.records.calls == []


@pytest.mark.parametrize(("method", "path", "scope", "roles"), ROUTES)
def test_an_api_key_with_every_scope_a_key_may_hold_reaches_no_records_route(
    gateway: Gateway, method: str, path: str, scope: str, roles: tuple[str, ...]
) -> None:
    response = request(gateway, method, path, gateway.as_api_key(*api_keys.SCOPES))

    problem = problem_of(response, 403, "SCOPE_REQUIRED")
    assert scope in problem["detail"]
    assert gateway.records.calls == []


@pytest.mark.parametrize(
    "scope", ["records:read", "records:keep", "records:manage", "records:approve", "audit:verify"]
)
def test_no_api_key_can_be_given_a_records_scope(scope: str) -> None:
    assert scope not in api_keys.SCOPES


@pytest.mark.parametrize(("method", "path", "scope", "roles"), [r for r in ROUTES if r[3]])
def test_the_roles_the_archive_requires_are_required_before_it_is_asked(
    gateway: Gateway, method: str, path: str, scope: str, roles: tuple[str, ...]
) -> None:
    for held in ROLES:
        gateway.records.calls.clear()
        response = request(gateway, method, path, gateway.bearer(held))

        if held in roles:
            assert response.status_code < 300, (held, response.text)
            assert len(gateway.records.calls) == 1
        else:
            problem = problem_of(response, 403, "ROLE_REQUIRED")
            assert all(r in problem["detail"] for r in roles), problem["detail"]
            assert gateway.records.calls == [], held


@pytest.mark.parametrize(("method", "path", "scope", "roles"), [r for r in ROUTES if not r[3]])
def test_anyone_of_the_agency_reaches_the_open_routes_and_the_archive_decides(
    gateway: Gateway, method: str, path: str, scope: str, roles: tuple[str, ...]
) -> None:
    response = request(gateway, method, path, gateway.bearer("specialist"))

    assert response.status_code < 300, response.text
    assert len(gateway.records.calls) == 1


# The dossier list ------------------------------------------------------------------------------


def test_the_dossier_list_of_a_year(gateway: Gateway) -> None:
    response = gateway.client.get(
        "/v1/dossier-lists?year=2026", headers=gateway.bearer("specialist")
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["year"] == 2026
    approved, waiting = body["items"]
    assert approved == {
        "code": "01.TCCB",
        "title": "Hồ sơ tuyển dụng công chức năm 2026",
        "retention": "02",
        "retention_years": 70,
        "access": "03",
        "creator_unit": "TCCB",
        "responsible": "nguyenvana",
        "notes": "",
        "approved": True,
        "approved_at": "2026-01-15T02:00:00Z",
        "approved_by": "lanhdao",
        "dossier_id": DOSSIER,
    }
    # Permanent is null, never a retention of 0 years; unapproved is null, not "".
    assert (waiting["retention"], waiting["retention_years"]) == ("01", None)
    assert (waiting["approved"], waiting["approved_at"], waiting["approved_by"]) == (
        False,
        None,
        None,
    )
    assert (waiting["dossier_id"], waiting["notes"]) == (None, "Văn thư lập")
    [(_, sent)] = gateway.records.calls
    assert sent.year == 2026


def test_the_dossier_list_is_this_years_in_the_agencys_calendar_by_default(
    gateway: Gateway,
) -> None:
    response = gateway.client.get("/v1/dossier-lists", headers=gateway.bearer("specialist"))

    assert response.status_code == 200, response.text
    this_year = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).year
    assert response.json()["year"] == this_year
    [(_, sent)] = gateway.records.calls
    assert sent.year == this_year


@pytest.mark.parametrize("year", ["1999", "2101", "năm", "2026.5"])
def test_a_year_out_of_range_is_refused_before_the_archive_is_asked(
    gateway: Gateway, year: str
) -> None:
    for path in (
        f"/v1/dossier-lists?year={year}",
        f"/v1/dossiers?year={year}",
    ):
        response = gateway.client.get(path, headers=gateway.bearer("specialist"))
        problem_of(response, 422, "VALIDATION_FAILED")
    response = gateway.client.post(
        f"/v1/dossier-lists/{year}/approve", headers=gateway.bearer(LEADER)
    )
    problem_of(response, 422, "VALIDATION_FAILED")
    assert gateway.records.calls == []


@pytest.mark.parametrize("dry_run", [True, False])
def test_the_archivist_imports_a_csv_list(gateway: Gateway, dry_run: bool) -> None:
    response = gateway.client.post(
        f"/v1/dossier-lists/import?year=2026&dry_run={str(dry_run).lower()}",
        files=csv_file(),
        headers=gateway.bearer(ARCHIVIST),
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["applied"], body["added"], body["updated"]) == (
        not dry_run,
        0 if dry_run else 1,
        0,
    )
    assert [e["code"] for e in body["entries"]] == ["01.TCCB"]
    assert body["problems"] == []
    [(name, sent)] = gateway.records.calls
    assert name == "ImportDossierList"
    assert (sent.year, sent.content, sent.content_type, sent.file_name, sent.dry_run) == (
        2026,
        CSV,
        "text/csv",
        "danh-muc-2026.csv",
        dry_run,
    )


@pytest.mark.parametrize(
    ("name", "media", "sent_as"),
    [
        ("danh-muc.xlsx", XLSX, XLSX),
        ("danh-muc.xlsx", "application/octet-stream", XLSX),
        ("DANH-MUC.XLSX", "", XLSX),
        ("danh-muc.csv", "application/octet-stream", "text/csv"),
        ("danh-muc.txt", "text/csv; charset=utf-8", "text/csv"),
    ],
)
def test_the_list_is_csv_or_xlsx_by_its_media_type_or_its_name(
    gateway: Gateway, name: str, media: str, sent_as: str
) -> None:
    response = gateway.client.post(
        "/v1/dossier-lists/import?year=2026&dry_run=true",
        files=csv_file(b"PK\x03\x04 an xlsx", name=name, media=media),
        headers=gateway.bearer(ARCHIVIST),
    )

    assert response.status_code == 200, response.text
    [(_, sent)] = gateway.records.calls
    assert sent.content_type == sent_as


@pytest.mark.parametrize(
    ("name", "media"),
    [("danh-muc.json", "application/json"), ("danh-muc", "application/octet-stream")],
)
def test_a_list_neither_csv_nor_xlsx_is_refused_before_the_archive_is_asked(
    gateway: Gateway, name: str, media: str
) -> None:
    response = gateway.client.post(
        "/v1/dossier-lists/import?year=2026&dry_run=true",
        files=csv_file(name=name, media=media),
        headers=gateway.bearer(ARCHIVIST),
    )

    problem = problem_of(response, 415, "UNSUPPORTED_IMPORT_FORMAT")
    assert [e["field"] for e in problem["errors"]] == ["file"]
    assert gateway.records.calls == []


def test_an_empty_list_file_is_refused(gateway: Gateway) -> None:
    response = gateway.client.post(
        "/v1/dossier-lists/import?year=2026&dry_run=true",
        files=csv_file(b""),
        headers=gateway.bearer(ARCHIVIST),
    )

    problem_of(response, 400, "FILE_EMPTY")
    assert gateway.records.calls == []


def test_a_list_over_2_mib_is_refused_before_its_body_is_read(gateway: Gateway) -> None:
    response = gateway.client.post(
        "/v1/dossier-lists/import?year=2026&dry_run=true",
        content=b"",
        headers={
            **gateway.bearer(ARCHIVIST),
            "Content-Type": "multipart/form-data; boundary=x",
            "Content-Length": str(3 * DOSSIER_LIST_MAX_BYTES),
        },
    )

    problem = problem_of(response, 413, "FILE_TOO_LARGE")
    assert "2 MB" in problem["detail"]
    assert gateway.records.calls == []


def test_a_list_just_over_2_mib_is_refused_once_read(gateway: Gateway) -> None:
    response = gateway.client.post(
        "/v1/dossier-lists/import?year=2026&dry_run=true",
        files=csv_file(b"x" * (DOSSIER_LIST_MAX_BYTES + 1)),
        headers=gateway.bearer(ARCHIVIST),
    )

    problem_of(response, 413, "FILE_TOO_LARGE")
    assert gateway.records.calls == []


def test_a_list_of_exactly_2_mib_is_taken(gateway: Gateway) -> None:
    response = gateway.client.post(
        "/v1/dossier-lists/import?year=2026&dry_run=true",
        files=csv_file(b"x" * DOSSIER_LIST_MAX_BYTES),
        headers=gateway.bearer(ARCHIVIST),
    )

    assert response.status_code == 200, response.text


def test_only_archivists_import_the_list(gateway: Gateway) -> None:
    # The role is checked before the handler reads the file.
    response = gateway.client.post(
        "/v1/dossier-lists/import?year=2026&dry_run=false",
        files=csv_file(),
        headers=gateway.bearer("clerk", "admin"),
    )

    problem = problem_of(response, 403, "ROLE_REQUIRED")
    assert "archivist" in problem["detail"]
    assert gateway.records.calls == []


@pytest.mark.parametrize(
    "query",
    ["dry_run=true", "year=2026", "year=2026&dry_run=maybe", "year=1999&dry_run=true"],
)
def test_the_import_needs_its_year_and_whether_it_is_a_dry_run(
    gateway: Gateway, query: str
) -> None:
    response = gateway.client.post(
        f"/v1/dossier-lists/import?{query}", files=csv_file(), headers=gateway.bearer(ARCHIVIST)
    )

    problem_of(response, 422, "VALIDATION_FAILED")
    assert gateway.records.calls == []


def test_the_import_needs_its_file_part(gateway: Gateway) -> None:
    response = gateway.client.post(
        "/v1/dossier-lists/import?year=2026&dry_run=true",
        files={"list": ("danh-muc.csv", CSV, "text/csv")},
        headers=gateway.bearer(ARCHIVIST),
    )

    problem_of(response, 422, "VALIDATION_FAILED")
    assert gateway.records.calls == []


PROBLEMS = [
    pb.ImportProblem(line=0, field="", message="holds more than one sheet"),
    pb.ImportProblem(line=3, field="retention", message="unknown retention code 9"),
]


def test_a_dry_run_reports_every_problem(gateway: Gateway) -> None:
    gateway.records.import_answer = pb.ImportDossierListResponse(problems=PROBLEMS)

    response = gateway.client.post(
        "/v1/dossier-lists/import?year=2026&dry_run=true",
        files=csv_file(),
        headers=gateway.bearer(ARCHIVIST),
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "applied": False,
        "added": 0,
        "updated": 0,
        "entries": [],
        "problems": [
            {"line": 0, "field": None, "message": "holds more than one sheet"},
            {"line": 3, "field": "retention", "message": "unknown retention code 9"},
        ],
    }


def test_an_import_with_problems_is_refused_with_every_problem(gateway: Gateway) -> None:
    gateway.records.import_answer = pb.ImportDossierListResponse(problems=PROBLEMS)

    response = gateway.client.post(
        "/v1/dossier-lists/import?year=2026&dry_run=false",
        files=csv_file(),
        headers=gateway.bearer(ARCHIVIST),
    )

    problem = problem_of(response, 422, "DOSSIER_LIST_INVALID")
    assert problem["type"] == "/problems/DOSSIER_LIST_INVALID"
    assert PROBLEM_TYPES["DOSSIER_LIST_INVALID"].status == 422
    assert "nothing was imported" in problem["detail"]
    assert problem["problems"] == [
        {"line": 0, "field": None, "message": "holds more than one sheet"},
        {"line": 3, "field": "retention", "message": "unknown retention code 9"},
    ]


def test_the_leader_approves_the_years_list(gateway: Gateway) -> None:
    response = gateway.client.post(
        "/v1/dossier-lists/2026/approve", headers=gateway.bearer(DEPUTY_LEADER)
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"year": 2026, "approved": 3}
    [(_, sent)] = gateway.records.calls
    assert sent.year == 2026


# Dossiers --------------------------------------------------------------------------------------


def test_a_dossier_is_opened_from_the_list(gateway: Gateway) -> None:
    response = gateway.client.post(
        "/v1/dossiers",
        json={
            "list_code": " 01.TCCB ",
            "title": "Hồ sơ tuyển dụng đợt 1",
            "description": "Kế hoạch và kết quả",
            "year": 2026,
        },
        headers=gateway.bearer("specialist"),
    )

    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/dossiers/{DOSSIER}"
    assert response.json()["documents"] == []
    [(_, sent)] = gateway.records.calls
    assert (sent.list_code, sent.title, sent.description, sent.year) == (
        "01.TCCB",
        "Hồ sơ tuyển dụng đợt 1",
        "Kế hoạch và kết quả",
        2026,
    )


def test_a_dossier_is_of_this_year_by_default(gateway: Gateway) -> None:
    response = gateway.client.post(
        "/v1/dossiers", json={"list_code": "01.TCCB"}, headers=gateway.bearer("specialist")
    )

    assert response.status_code == 201, response.text
    [(_, sent)] = gateway.records.calls
    assert (sent.year, sent.title, sent.description) == (0, "", "")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "list_code"),
        ({"list_code": "  "}, "list_code"),
        ({"list_code": "1" * 41}, "list_code"),
        ({"list_code": "01.TCCB", "title": "x" * 501}, "title"),
        ({"list_code": "01.TCCB", "description": "x" * 2001}, "description"),
        ({"list_code": "01.TCCB", "title": "Hồ\x00sơ"}, "title"),
        ({"list_code": "01.TCCB", "year": 1999}, "year"),
        ({"list_code": "01.TCCB", "year": "2026"}, "year"),
        ({"list_code": "01.TCCB", "year": True}, "year"),
        ({"list_code": "01.TCCB", "owner": "tôi"}, "owner"),
    ],
)
def test_a_dossier_that_is_not_valid_is_refused_before_the_archive_is_asked(
    gateway: Gateway, body: dict[str, Any], field: str
) -> None:
    response = gateway.client.post("/v1/dossiers", json=body, headers=gateway.bearer("specialist"))

    problem = problem_of(response, 422, "VALIDATION_FAILED")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert gateway.records.calls == []


def test_the_dossiers_listed_by_year_state_and_handover(gateway: Gateway) -> None:
    response = gateway.client.get(
        "/v1/dossiers?year=2025&state=closed&handover_due=true&page_size=50&page_token=t",
        headers=gateway.bearer(ARCHIVIST),
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_page_token"] == "next"
    assert [d["id"] for d in body["items"]] == [DOSSIER]
    [(_, sent)] = gateway.records.calls
    assert (sent.year, sent.state, sent.handover_due, sent.page_size, sent.page_token) == (
        2025,
        pb.DOSSIER_STATE_CLOSED,
        True,
        50,
        "t",
    )


def test_every_dossier_by_default(gateway: Gateway) -> None:
    response = gateway.client.get("/v1/dossiers", headers=gateway.bearer("specialist"))

    assert response.status_code == 200, response.text
    [(_, sent)] = gateway.records.calls
    assert (sent.year, sent.state, sent.handover_due) == (0, pb.DOSSIER_STATE_UNSPECIFIED, False)


@pytest.mark.parametrize(
    "query", ["state=archived", "page_size=101", "page_size=-1", "handover_due=soon"]
)
def test_a_list_query_that_is_not_valid_is_refused(gateway: Gateway, query: str) -> None:
    response = gateway.client.get(f"/v1/dossiers?{query}", headers=gateway.bearer("specialist"))

    problem_of(response, 422, "VALIDATION_FAILED")
    assert gateway.records.calls == []


def test_a_dossier_with_its_documents(gateway: Gateway) -> None:
    response = gateway.client.get(f"/v1/dossiers/{DOSSIER}", headers=gateway.bearer(LEADER))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"] == "open"
    assert body["file_code"] == f"{AGENCY}.2026.01.TCCB"
    assert (body["start_date"], body["end_date"], body["handover_due"]) == (
        "2026-02-27",
        None,
        None,
    )
    assert (body["closed_at"], body["handed_over_at"], body["handed_over_by"]) == (
        None,
        None,
        None,
    )
    assert (body["handover_record"], body["retention_ends"], body["legal_hold"]) == (
        None,
        None,
        False,
    )
    assert body["documents"] == [
        {
            "kind": "incoming",
            "document_id": DOCUMENT,
            "identifier": None,
            "code_number": "05",
            "code_notation": "QĐ-UBND",
            "issued_date": "2026-02-27",
            "issuer_name": "UBND tỉnh",
            "document_type": "Quyết định",
            "subject": "Về việc tuyển dụng công chức",
            "page_amount": 3,
            "secrecy": "confidential",
            "files": [
                {
                    "sha256": "ab" * 32,
                    "size": 1234,
                    "content_type": "application/pdf",
                    "file_name": "qd-05.pdf",
                }
            ],
            "added_by": "nguyenvana",
            "added_at": "2026-03-02T01:02:03Z",
        }
    ]
    [(_, sent)] = gateway.records.calls
    assert sent.id == DOSSIER


@pytest.mark.parametrize(
    "path",
    [
        "/v1/dossiers/d1",
        "/v1/dossiers/d1/export?format=pdf",
        "/v1/dispositions/x",
        "/v1/dispositions/x/dry-run",
    ],
)
def test_an_id_that_is_not_a_uuid_is_refused_before_the_archive_is_asked(
    gateway: Gateway, path: str
) -> None:
    response = gateway.client.get(path, headers=gateway.bearer(ARCHIVIST))

    problem_of(response, 422, "VALIDATION_FAILED")
    assert gateway.records.calls == []


@pytest.mark.parametrize(
    ("body", "kind"),
    [({"document_id": DOCUMENT}, ""), ({"document_id": DOCUMENT, "kind": "outgoing"}, "outgoing")],
)
def test_a_document_is_added_by_reference(
    gateway: Gateway, body: dict[str, Any], kind: str
) -> None:
    response = gateway.client.post(
        f"/v1/dossiers/{DOSSIER}/documents", json=body, headers=gateway.bearer("specialist")
    )

    assert response.status_code == 201, response.text
    [(_, sent)] = gateway.records.calls
    assert (sent.dossier_id, sent.document_id, sent.kind) == (DOSSIER, DOCUMENT, kind)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "document_id"),
        ({"document_id": "d1"}, "document_id"),
        ({"document_id": DOCUMENT, "kind": "task"}, "kind"),
        ({"document_id": DOCUMENT, "note": "x"}, "note"),
    ],
)
def test_a_document_to_add_that_is_not_valid_is_refused(
    gateway: Gateway, body: dict[str, Any], field: str
) -> None:
    response = gateway.client.post(
        f"/v1/dossiers/{DOSSIER}/documents", json=body, headers=gateway.bearer("specialist")
    )

    problem = problem_of(response, 422, "VALIDATION_FAILED")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert gateway.records.calls == []


def test_a_document_is_removed(gateway: Gateway) -> None:
    response = gateway.client.delete(
        f"/v1/dossiers/{DOSSIER}/documents/{DOCUMENT}", headers=gateway.bearer("specialist")
    )

    assert response.status_code == 204, response.text
    assert response.content == b""
    [(name, sent)] = gateway.records.calls
    assert (name, sent.dossier_id, sent.document_id) == (
        "RemoveDossierDocument",
        DOSSIER,
        DOCUMENT,
    )


@pytest.mark.parametrize(
    ("body", "end_date"),
    [(None, ""), ({}, ""), ({"end_date": None}, ""), ({"end_date": "2026-11-15"}, "2026-11-15")],
)
def test_a_dossier_is_closed_today_or_on_a_given_day(
    gateway: Gateway, body: dict[str, Any] | None, end_date: str
) -> None:
    response = gateway.client.post(
        f"/v1/dossiers/{DOSSIER}/close", json=body, headers=gateway.bearer("specialist")
    )

    assert response.status_code == 200, response.text
    closed = response.json()
    assert closed["state"] == "closed"
    assert (closed["handover_due"], closed["retention_ends"]) == ("2027-11-30", "2096-11-30")
    [(_, sent)] = gateway.records.calls
    assert (sent.id, sent.end_date) == (DOSSIER, end_date)


@pytest.mark.parametrize(
    "end_date", ["15/11/2026", "2026-11-15T00:00:00", 1763164800, "2026-13-01"]
)
def test_an_end_date_not_written_yyyy_mm_dd_is_refused(gateway: Gateway, end_date: Any) -> None:
    response = gateway.client.post(
        f"/v1/dossiers/{DOSSIER}/close",
        json={"end_date": end_date},
        headers=gateway.bearer("specialist"),
    )

    problem = problem_of(response, 422, "VALIDATION_FAILED")
    assert [e["field"] for e in problem["errors"]] == ["end_date"]
    assert gateway.records.calls == []


def test_the_archivist_receives_a_dossier(gateway: Gateway) -> None:
    response = gateway.client.post(
        f"/v1/dossiers/{DOSSIER}/handover", headers=gateway.bearer(ARCHIVIST)
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["state"], body["handed_over_by"]) == ("handed_over", "luutru")
    assert body["handover_record"] == {
        "sha256": "cd" * 32,
        "size": 999,
        "content_type": "application/pdf",
        "file_name": "bien-ban-giao-nop.pdf",
    }
    [(_, sent)] = gateway.records.calls
    assert sent.id == DOSSIER


@pytest.mark.parametrize("hold", [True, False])
def test_the_archivist_holds_a_dossier_or_lifts_the_hold(gateway: Gateway, hold: bool) -> None:
    response = gateway.client.post(
        f"/v1/dossiers/{DOSSIER}/hold",
        json={"hold": hold, "reason": "Phục vụ thanh tra"},
        headers=gateway.bearer(ARCHIVIST),
    )

    assert response.status_code == 200, response.text
    assert response.json()["legal_hold"] is hold
    [(_, sent)] = gateway.records.calls
    assert (sent.id, sent.hold, sent.reason) == (DOSSIER, hold, "Phục vụ thanh tra")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"hold": True}, "reason"),
        ({"hold": True, "reason": " "}, "reason"),
        ({"hold": True, "reason": "x" * 501}, "reason"),
        ({"hold": "true", "reason": "Thanh tra"}, "hold"),
        ({"hold": 1, "reason": "Thanh tra"}, "hold"),
        ({"reason": "Thanh tra"}, "hold"),
    ],
)
def test_a_hold_that_is_not_valid_is_refused(
    gateway: Gateway, body: dict[str, Any], field: str
) -> None:
    response = gateway.client.post(
        f"/v1/dossiers/{DOSSIER}/hold", json=body, headers=gateway.bearer(ARCHIVIST)
    )

    problem = problem_of(response, 422, "VALIDATION_FAILED")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert gateway.records.calls == []


def test_the_fixity_of_every_file_is_reported(gateway: Gateway) -> None:
    response = gateway.client.post(
        f"/v1/dossiers/{DOSSIER}/fixity", headers=gateway.bearer(ARCHIVIST)
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "ok": False,
        "files": [
            {"sha256": "ab" * 32, "ok": True, "problem": None},
            {"sha256": "cd" * 32, "ok": False, "problem": "altered"},
        ],
    }


# The export ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("export_format", "media_type", "sent"),
    [
        ("bagit", "application/zip", pb.EXPORT_FORMAT_BAGIT),
        ("eark", "application/zip", pb.EXPORT_FORMAT_EARK),
        ("pdf", "application/pdf", pb.EXPORT_FORMAT_PDF),
    ],
)
def test_a_dossier_is_exported_as_it_is_streamed(
    gateway: Gateway, export_format: str, media_type: str, sent: int
) -> None:
    response = gateway.client.get(
        f"/v1/dossiers/{DOSSIER}/export?format={export_format}",
        headers=gateway.bearer("specialist"),
    )

    assert response.status_code == 200, response.text
    assert response.content == EXPORT
    assert response.headers["content-type"] == media_type
    assert response.headers["content-length"] == str(len(EXPORT))
    assert response.headers["content-disposition"] == (
        f"attachment; filename=\"{EXPORT_NAME}\"; filename*=UTF-8''{EXPORT_NAME}"
    )
    [(_, request_sent)] = gateway.records.calls
    assert (request_sent.id, request_sent.format) == (DOSSIER, sent)
    [stream] = gateway.records.streams
    assert stream.cancelled  # the upstream stream is closed once the body is sent


def test_a_vietnamese_file_name_is_saved_in_ascii_and_in_utf_8(gateway: Gateway) -> None:
    messages = export_messages()
    messages[2] = pb.ExportDossierResponse(
        header=pb.ExportHeader(
            content_type="application/pdf", file_name="Hồ sơ tuyển dụng/2026.pdf", size=len(EXPORT)
        )
    )
    gateway.records.export = messages

    response = gateway.client.get(
        f"/v1/dossiers/{DOSSIER}/export?format=pdf", headers=gateway.bearer("specialist")
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == (
        'attachment; filename="Ho_so_tuyen_dung_2026.pdf"; '
        "filename*=UTF-8''H%E1%BB%93%20s%C6%A1%20tuy%E1%BB%83n%20d%E1%BB%A5ng_2026.pdf"
    )


def test_an_export_without_a_file_name_is_named_after_the_dossier(gateway: Gateway) -> None:
    messages = export_messages()
    messages[2] = pb.ExportDossierResponse(header=pb.ExportHeader(size=len(EXPORT)))
    gateway.records.export = messages

    response = gateway.client.get(
        f"/v1/dossiers/{DOSSIER}/export?format=eark", headers=gateway.bearer("specialist")
    )

    assert response.status_code == 200, response.text
    name = f"ho-so-{DOSSIER}.zip"
    assert response.headers["content-disposition"] == (
        f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}"
    )


@pytest.mark.parametrize("query", ["", "?format=zip", "?format=PDF"])
def test_an_export_format_that_is_not_valid_is_refused(gateway: Gateway, query: str) -> None:
    response = gateway.client.get(
        f"/v1/dossiers/{DOSSIER}/export{query}", headers=gateway.bearer("specialist")
    )

    problem_of(response, 422, "VALIDATION_FAILED")
    assert gateway.records.calls == []


def test_a_refusal_before_the_header_is_a_problem(gateway: Gateway) -> None:
    gateway.records.refusal = rpc_error(
        grpc.StatusCode.NOT_FOUND,
        NotFoundError("no dossier with this id", reason="DOSSIER_NOT_FOUND"),
    )

    response = gateway.client.get(
        f"/v1/dossiers/{DOSSIER}/export?format=bagit", headers=gateway.bearer("specialist")
    )

    problem_of(response, 404, "DOSSIER_NOT_FOUND")
    [stream] = gateway.records.streams
    assert stream.cancelled


def test_a_failure_while_the_export_is_prepared_is_a_problem(gateway: Gateway) -> None:
    damaged = FixityMismatchError()
    gateway.records.export = [export_messages()[0], rpc_error(grpc.StatusCode.DATA_LOSS, damaged)]

    response = gateway.client.get(
        f"/v1/dossiers/{DOSSIER}/export?format=bagit", headers=gateway.bearer("specialist")
    )

    problem = problem_of(response, 500, "FIXITY_MISMATCH")
    assert damaged.message not in problem["detail"]  # logged, not shown
    assert gateway.records.streams[0].cancelled


@pytest.mark.parametrize(
    "messages",
    [
        [],
        [pb.ExportDossierResponse(progress=pb.ExportProgress(files_done=1, files_total=2))],
        [pb.ExportDossierResponse(chunk=EXPORT)],
        [pb.ExportDossierResponse(header=pb.ExportHeader(file_name="x.zip", size=-1))],
    ],
    ids=["nothing", "progress only", "bytes before the header", "a negative size"],
)
def test_an_export_stream_without_a_sound_header_is_the_archives_fault(
    gateway: Gateway, messages: list[Any]
) -> None:
    gateway.records.export = messages

    response = gateway.client.get(
        f"/v1/dossiers/{DOSSIER}/export?format=bagit", headers=gateway.bearer("specialist")
    )

    problem_of(response, 502, "ARCHIVE_PROTOCOL")
    assert gateway.records.streams[0].cancelled


def cut_off(gateway: Gateway, messages: list[Any]) -> tuple[Response, bytes]:
    """A download the gateway began and then cut off: its answer and the bytes that came."""
    gateway.records.export = messages
    received = b""
    with (
        pytest.raises(ExportBrokenError),
        gateway.client.stream(
            "GET",
            f"/v1/dossiers/{DOSSIER}/export?format=bagit",
            headers=gateway.bearer("specialist"),
        ) as response,
    ):
        for chunk in response.iter_bytes():
            received += chunk
    assert gateway.records.streams[0].cancelled
    return response, received


def test_a_failure_after_the_header_cuts_the_download_off(gateway: Gateway) -> None:
    messages = export_messages()
    failure = rpc_error(
        grpc.StatusCode.UNAVAILABLE,
        DomainError("the object store went away", reason="OBJECT_STORE_UNAVAILABLE"),
    )
    messages.insert(4, failure)  # after the first chunk

    response, received = cut_off(gateway, messages)

    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(EXPORT)
    assert len(received) < len(EXPORT)


def test_a_failure_after_the_last_byte_still_cuts_the_download_off(gateway: Gateway) -> None:
    # The last chunk is held back until the archive's stream ended well.
    failure = rpc_error(grpc.StatusCode.DATA_LOSS, FixityMismatchError())

    response, received = cut_off(gateway, [*export_messages(), failure])

    assert int(response.headers["content-length"]) == len(EXPORT)
    assert len(received) < len(EXPORT)


def test_fewer_bytes_than_announced_cut_the_download_off(gateway: Gateway) -> None:
    response, received = cut_off(gateway, export_messages(size=len(EXPORT) + 10))

    assert int(response.headers["content-length"]) == len(EXPORT) + 10
    assert len(received) < len(EXPORT) + 10


def test_more_bytes_than_announced_cut_the_download_off(gateway: Gateway) -> None:
    response, received = cut_off(gateway, export_messages(size=50))

    assert int(response.headers["content-length"]) == 50
    assert len(received) < 50


def test_a_second_header_cuts_the_download_off(gateway: Gateway) -> None:
    messages = export_messages()
    messages.insert(4, messages[2])

    _, received = cut_off(gateway, messages)

    assert len(received) < len(EXPORT)


# Dispositions ----------------------------------------------------------------------------------


def test_the_archivist_proposes_a_disposition(gateway: Gateway) -> None:
    second = "0197a3c2-0000-7000-8000-0000000000a2"
    response = gateway.client.post(
        "/v1/dispositions",
        json={"reason": "Tài liệu hết thời hạn bảo quản", "dossier_ids": [DOSSIER, second]},
        headers=gateway.bearer(ARCHIVIST),
    )

    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/dispositions/{DISPOSITION}"
    body = response.json()
    assert body["state"] == "proposed"
    assert body["items"] == [
        {
            "dossier_id": DOSSIER,
            "file_code": f"{AGENCY}.2016.06.VP",
            "title": "Tập lưu công văn đi năm 2016",
            "retention": "06",
            "retention_years": 10,
            "end_date": "2016-12-31",
            "retention_ends": "2026-12-31",
            "doc_total": 120,
            "page_total": 340,
        }
    ]
    for name in ("decided_by", "decided_at", "decision_note", "executed_by", "executed_at"):
        assert body[name] is None, name
    assert body["record"] is None
    [(_, sent)] = gateway.records.calls
    assert (sent.reason, list(sent.dossier_ids)) == (
        "Tài liệu hết thời hạn bảo quản",
        [DOSSIER, second],
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 1001}, "reason"),
        ({"reason": "Hết hạn", "dossier_ids": ["d1"]}, "dossier_ids.0"),
        ({"reason": "Hết hạn", "dossier_ids": [DOSSIER, DOSSIER]}, "dossier_ids"),
        (
            {"reason": "Hết hạn", "dossier_ids": [str(uuid.uuid4()) for _ in range(501)]},
            "dossier_ids",
        ),
        ({"reason": "Hết hạn", "approve": True}, "approve"),
    ],
)
def test_a_proposal_that_is_not_valid_is_refused(
    gateway: Gateway, body: dict[str, Any], field: str
) -> None:
    response = gateway.client.post("/v1/dispositions", json=body, headers=gateway.bearer(ARCHIVIST))

    problem = problem_of(response, 422, "VALIDATION_FAILED")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert gateway.records.calls == []


def test_dispositions_are_listed_and_read(gateway: Gateway) -> None:
    listed = gateway.client.get(
        "/v1/dispositions?page_size=10&page_token=t", headers=gateway.bearer(LEADER)
    )
    read = gateway.client.get(f"/v1/dispositions/{DISPOSITION}", headers=gateway.bearer(LEADER))

    assert listed.status_code == 200, listed.text
    assert listed.json()["next_page_token"] is None
    assert [d["id"] for d in listed.json()["items"]] == [DISPOSITION]
    assert read.status_code == 200, read.text
    assert read.json() == listed.json()["items"][0]
    (_, listing), (_, getting) = gateway.records.calls
    assert (listing.page_size, listing.page_token, getting.id) == (10, "t", DISPOSITION)


def test_the_dry_run_shows_what_would_go(gateway: Gateway) -> None:
    response = gateway.client.get(
        f"/v1/dispositions/{DISPOSITION}/dry-run", headers=gateway.bearer(ARCHIVIST)
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert [i["dossier_id"] for i in body["items"]] == [DOSSIER]
    assert body["document_ids"] == [DOCUMENT]
    assert body["files"] == [
        {"sha256": "ab" * 32, "size": 1234, "kept": False},
        {"sha256": "cd" * 32, "size": 99, "kept": True},
    ]
    assert body["bytes_deleted"] == 1234
    assert body["blocked"] == ["0197a3c2-0000-7000-8000-0000000000a2: on legal hold"]


@pytest.mark.parametrize(
    ("body", "note"),
    [(None, ""), ({}, ""), ({"note": "Đồng ý hủy"}, "Đồng ý hủy")],
)
def test_the_leader_approves_with_a_note_or_without(
    gateway: Gateway, body: dict[str, Any] | None, note: str
) -> None:
    response = gateway.client.post(
        f"/v1/dispositions/{DISPOSITION}/approve", json=body, headers=gateway.bearer(LEADER)
    )

    assert response.status_code == 200, response.text
    assert response.json()["state"] == "approved"
    assert response.json()["decision_note"] == (note or None)
    [(name, sent)] = gateway.records.calls
    assert (name, sent.id, sent.approve, sent.note) == (
        "DecideDisposition",
        DISPOSITION,
        True,
        note,
    )


def test_the_leader_refuses_saying_why(gateway: Gateway) -> None:
    response = gateway.client.post(
        f"/v1/dispositions/{DISPOSITION}/refuse",
        json={"note": "Giữ lại để thanh tra"},
        headers=gateway.bearer(LEADER),
    )

    assert response.status_code == 200, response.text
    assert response.json()["state"] == "refused"
    [(_, sent)] = gateway.records.calls
    assert (sent.approve, sent.note) == (False, "Giữ lại để thanh tra")


@pytest.mark.parametrize(
    "body",
    [None, {}, {"note": ""}, {"note": "  "}, {"note": "x" * 1001}, {"note": "a\x07b"}],
)
def test_a_refusal_needs_its_note(gateway: Gateway, body: dict[str, Any] | None) -> None:
    response = gateway.client.post(
        f"/v1/dispositions/{DISPOSITION}/refuse", json=body, headers=gateway.bearer(LEADER)
    )

    problem_of(response, 422, "VALIDATION_FAILED")
    assert gateway.records.calls == []


def test_an_approval_note_over_1000_characters_is_refused(gateway: Gateway) -> None:
    response = gateway.client.post(
        f"/v1/dispositions/{DISPOSITION}/approve",
        json={"note": "x" * 1001},
        headers=gateway.bearer(LEADER),
    )

    problem_of(response, 422, "VALIDATION_FAILED")
    assert gateway.records.calls == []


def test_the_archivist_executes_an_approved_disposition(gateway: Gateway) -> None:
    response = gateway.client.post(
        f"/v1/dispositions/{DISPOSITION}/execute", headers=gateway.bearer(ARCHIVIST)
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["state"], body["executed_by"]) == ("executed", "luutru")
    assert body["record"]["file_name"] == f"bien-ban-huy-{DISPOSITION}.pdf"


# The audit chain -------------------------------------------------------------------------------


def test_an_intact_audit_chain(gateway: Gateway) -> None:
    response = gateway.client.get("/v1/audit/verify", headers=gateway.bearer("admin"))

    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True, "checked": 42, "head_hash": "9f" * 32, "broken": None}


def test_a_broken_audit_chain_names_its_first_broken_link(gateway: Gateway) -> None:
    class Broken(FakeRecords):
        async def VerifyAudit(self, request: Any, **_: Any) -> pb.VerifyAuditResponse:
            return pb.VerifyAuditResponse(
                ok=False,
                checked=17,
                head_hash="9f" * 32,
                broken=pb.AuditLink(
                    id=17,
                    occurred_at=stamp(OPENED_AT),
                    action="dossier.hold",
                    resource=f"dossiers/{DOSSIER}",
                    problem="content altered",
                ),
            )

    gateway.app.state.upstreams.records = Broken()

    response = gateway.client.get("/v1/audit/verify", headers=gateway.bearer(ARCHIVIST))

    assert response.status_code == 200, response.text
    assert response.json()["broken"] == {
        "id": 17,
        "occurred_at": "2026-03-02T01:02:03Z",
        "action": "dossier.hold",
        "resource": f"dossiers/{DOSSIER}",
        "problem": "content altered",
    }


# The archive's refusals ------------------------------------------------------------------------


REFUSALS: list[tuple[str, str, grpc.StatusCode, DomainError]] = [
    (
        "post",
        "/v1/dossier-lists/import?year=2026&dry_run=true",
        grpc.StatusCode.INVALID_ARGUMENT,
        invalid_fields(
            {"file": "line 0: is not a CSV or XLSX file"}, reason="INVALID_DOSSIER_LIST_FILE"
        ),
    ),
    (
        "post",
        "/v1/dossiers",
        grpc.StatusCode.NOT_FOUND,
        NotFoundError("the dossier list of 2026 has no entry 01.TCCB", reason="UNKNOWN_LIST_CODE"),
    ),
    (
        "post",
        "/v1/dossiers",
        grpc.StatusCode.FAILED_PRECONDITION,
        FailedPreconditionError("the entry is not approved yet", reason="LIST_ENTRY_NOT_APPROVED"),
    ),
    (
        "post",
        "/v1/dossiers",
        grpc.StatusCode.ALREADY_EXISTS,
        AlreadyExistsError("this entry already has its dossier", reason="DOSSIER_EXISTS"),
    ),
    (
        "post",
        "/v1/dossiers",
        grpc.StatusCode.PERMISSION_DENIED,
        PermissionDeniedError("opened by its creator unit", reason="NOT_DOSSIER_KEEPER"),
    ),
    (
        "get",
        f"/v1/dossiers/{DOSSIER}",
        grpc.StatusCode.NOT_FOUND,
        NotFoundError("no dossier with this id", reason="DOSSIER_NOT_FOUND"),
    ),
    (
        "post",
        f"/v1/dossiers/{DOSSIER}/documents",
        grpc.StatusCode.FAILED_PRECONDITION,
        FailedPreconditionError("the dossier is closed", reason="DOSSIER_NOT_OPEN"),
    ),
    (
        "post",
        f"/v1/dossiers/{DOSSIER}/documents",
        grpc.StatusCode.FAILED_PRECONDITION,
        FailedPreconditionError("it is read-only", reason="DOSSIER_HANDED_OVER"),
    ),
    (
        "post",
        f"/v1/dossiers/{DOSSIER}/documents",
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        ResourceExhaustedError("at most 2000 documents", reason="DOSSIER_TOO_LARGE"),
    ),
    (
        "post",
        f"/v1/dossiers/{DOSSIER}/documents",
        grpc.StatusCode.FAILED_PRECONDITION,
        FailedPreconditionError("only an issued document", reason="DOCUMENT_NOT_ISSUED"),
    ),
    (
        "post",
        f"/v1/dossiers/{DOSSIER}/documents",
        grpc.StatusCode.NOT_FOUND,
        NotFoundError("no incoming document with this id", reason="INCOMING_NOT_FOUND"),
    ),
    (
        "delete",
        f"/v1/dossiers/{DOSSIER}/documents/{DOCUMENT}",
        grpc.StatusCode.NOT_FOUND,
        NotFoundError("the dossier does not hold it", reason="DOSSIER_DOCUMENT_NOT_FOUND"),
    ),
    (
        "post",
        f"/v1/dossiers/{DOSSIER}/close",
        grpc.StatusCode.FAILED_PRECONDITION,
        FailedPreconditionError("an empty dossier", reason="DOSSIER_EMPTY"),
    ),
    (
        "post",
        f"/v1/dossiers/{DOSSIER}/close",
        grpc.StatusCode.INVALID_ARGUMENT,
        invalid_fields({"end_date": "cannot be in the future"}, reason="INVALID_END_DATE"),
    ),
    (
        "post",
        f"/v1/dossiers/{DOSSIER}/handover",
        grpc.StatusCode.FAILED_PRECONDITION,
        FailedPreconditionError("only a closed dossier", reason="DOSSIER_NOT_CLOSED"),
    ),
    (
        "post",
        f"/v1/dossiers/{DOSSIER}/hold",
        grpc.StatusCode.FAILED_PRECONDITION,
        FailedPreconditionError("in the archive only", reason="DOSSIER_NOT_HANDED_OVER"),
    ),
    (
        "post",
        f"/v1/dossiers/{DOSSIER}/hold",
        grpc.StatusCode.INVALID_ARGUMENT,
        invalid_fields({"reason": "say why"}, reason="INVALID_ARGUMENT"),
    ),
    (
        "post",
        "/v1/dispositions",
        grpc.StatusCode.FAILED_PRECONDITION,
        FailedPreconditionError("some dossiers cannot be destroyed", reason="NOT_DISPOSABLE"),
    ),
    (
        "post",
        "/v1/dispositions",
        grpc.StatusCode.FAILED_PRECONDITION,
        FailedPreconditionError("no dossier is past its retention", reason="NOTHING_TO_DISPOSE"),
    ),
    (
        "get",
        f"/v1/dispositions/{DISPOSITION}",
        grpc.StatusCode.NOT_FOUND,
        NotFoundError("no disposition with this id", reason="DISPOSITION_NOT_FOUND"),
    ),
    (
        "post",
        f"/v1/dispositions/{DISPOSITION}/approve",
        grpc.StatusCode.FAILED_PRECONDITION,
        FailedPreconditionError("already decided", reason="DISPOSITION_NOT_PROPOSED"),
    ),
    (
        "post",
        f"/v1/dispositions/{DISPOSITION}/execute",
        grpc.StatusCode.FAILED_PRECONDITION,
        FailedPreconditionError("not approved", reason="DISPOSITION_NOT_APPROVED"),
    ),
    (
        "get",
        "/v1/audit/verify",
        grpc.StatusCode.PERMISSION_DENIED,
        PermissionDeniedError("needs a role", reason="ROLE_REQUIRED"),
    ),
]


@pytest.mark.parametrize(("method", "path", "grpc_code", "error"), REFUSALS)
def test_the_archives_refusal_is_a_problem_with_its_reason_and_its_page(
    gateway: Gateway, method: str, path: str, grpc_code: grpc.StatusCode, error: DomainError
) -> None:
    gateway.records.refusal = rpc_error(grpc_code, error)
    roles = next(r for m, p, _, r in ROUTES if (m, p.split("?")[0]) == (method, path.split("?")[0]))

    response = request(gateway, method, path, gateway.bearer(*(roles or ("specialist",))))

    problem = problem_of(response, http_status(error.code), error.reason)
    assert problem["type"] == f"/problems/{error.reason}"
    assert PROBLEM_TYPES[error.reason].status == problem["status"]
    assert problem["detail"] == error.message
    assert [e["field"] for e in problem.get("errors", ())] == [v.field for v in error.violations]


# Every reason the archive's records answer: its page, and the status its gRPC code maps to.
REASONS = {
    "INVALID_DOSSIER_LIST_ENTRY": 400,
    "INVALID_DOSSIER_LIST_FILE": 400,
    "LIST_FILE_TOO_LARGE": 429,
    "UNKNOWN_RETENTION_CODE": 400,
    "RETENTION_YEARS_REQUIRED": 400,
    "INVALID_RETENTION_YEARS": 400,
    "DOSSIER_LIST_INVALID": 422,
    "UNKNOWN_LIST_CODE": 404,
    "LIST_ENTRY_NOT_APPROVED": 400,
    "DOSSIER_EXISTS": 409,
    "DOSSIER_NOT_FOUND": 404,
    "DOSSIER_DOCUMENT_NOT_FOUND": 404,
    "DOSSIER_NOT_OPEN": 400,
    "DOSSIER_NOT_CLOSED": 400,
    "DOSSIER_NOT_HANDED_OVER": 400,
    "DOSSIER_HANDED_OVER": 400,
    "DOSSIER_EMPTY": 400,
    "DOSSIER_TOO_LARGE": 429,
    "DOCUMENT_NOT_ISSUED": 400,
    "INVALID_END_DATE": 400,
    "NOT_DOSSIER_KEEPER": 403,
    "DISPOSITION_NOT_FOUND": 404,
    "DISPOSITION_NOT_PROPOSED": 400,
    "DISPOSITION_NOT_APPROVED": 400,
    "NOT_DISPOSABLE": 400,
    "NOTHING_TO_DISPOSE": 400,
    "INVALID_EXPORT_FORMAT": 400,
    "EXPORT_FAILED": 500,
    "FIXITY_MISMATCH": 500,
    "ROLE_REQUIRED": 403,
    "INVALID_ARGUMENT": 400,
}


@pytest.mark.parametrize(("code", "status"), REASONS.items())
def test_every_reason_of_the_records_has_its_page_with_its_status(
    gateway: Gateway, code: str, status: int
) -> None:
    assert PROBLEM_TYPES[code].status == status
    page = gateway.client.get(f"/problems/{code}")
    assert page.status_code == 200 and code in page.text

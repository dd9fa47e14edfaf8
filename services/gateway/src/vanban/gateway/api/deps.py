"""What a route receives, as typed dependencies: its upstream clients, the use cases, the caller
with the scopes and roles the route needs, the client's address and the settings.

Routes never look into `request.app.state`; these functions do, once, for all of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Request, Security
from fastapi.security import SecurityScopes

from vanban.contracts.directory.v1 import directory_pb2
from vanban.gateway.adapters.events.notices import NoticeHub
from vanban.gateway.adapters.grpc.upstreams import (
    ArchiveStub,
    DirectoryStub,
    DocumentsStub,
    ExchangeStub,
    NotifyStub,
    RecordsStub,
    SigningStub,
    Upstreams,
    WebhooksStub,
    WorkflowStub,
)
from vanban.gateway.api.admission import ClientAddress, client_of
from vanban.gateway.api.auth import CurrentPrincipal, Principal
from vanban.gateway.domain.ports import CallerCredentials, Transactions
from vanban.gateway.domain.revocations import Revocations
from vanban.gateway.domain.sign_in import SignInService
from vanban.gateway.settings import GatewaySettings
from vanban.platform.caller import CallerTokenIssuer

StubT = TypeVar("StubT")


@dataclass(frozen=True, slots=True)
class Upstream(Generic[StubT]):
    """A service behind the gateway as a route calls it: its stub and the seconds a call gets.
    Each call names its caller (`metadata=`): the principal's, or the gateway's own identity."""

    stub: StubT
    timeout: float


def _upstreams(request: Request) -> Upstreams:
    upstreams: Upstreams = request.app.state.upstreams
    return upstreams


_AllUpstreams = Annotated[Upstreams, Depends(_upstreams)]


def _directory(up: _AllUpstreams) -> Upstream[DirectoryStub]:
    return Upstream(up.directory, up.timeout)


def _documents(up: _AllUpstreams) -> Upstream[DocumentsStub]:
    return Upstream(up.documents, up.timeout)


def _archive(up: _AllUpstreams) -> Upstream[ArchiveStub]:
    return Upstream(up.archive, up.timeout)


def _records(up: _AllUpstreams) -> Upstream[RecordsStub]:
    return Upstream(up.records, up.timeout)


def _notify(up: _AllUpstreams) -> Upstream[NotifyStub]:
    return Upstream(up.notify, up.timeout)


def _webhooks(up: _AllUpstreams) -> Upstream[WebhooksStub]:
    return Upstream(up.webhooks, up.timeout)


def _workflow(up: _AllUpstreams) -> Upstream[WorkflowStub]:
    return Upstream(up.workflow, up.timeout)


def _signing(up: _AllUpstreams) -> Upstream[SigningStub]:
    return Upstream(up.signing, up.timeout)


def _exchange(up: _AllUpstreams) -> Upstream[ExchangeStub]:
    return Upstream(up.exchange, up.timeout)


def _gateway_identity(up: _AllUpstreams) -> CallerCredentials:
    return up.service_metadata()


def _readiness(up: _AllUpstreams) -> Callable[[], Awaitable[dict[str, str]]]:
    return up.readiness


Directory = Annotated[Upstream[DirectoryStub], Depends(_directory)]
Documents = Annotated[Upstream[DocumentsStub], Depends(_documents)]
Archive = Annotated[Upstream[ArchiveStub], Depends(_archive)]
# The archive's RecordsService, on the archive's channel.
Records = Annotated[Upstream[RecordsStub], Depends(_records)]
Notify = Annotated[Upstream[NotifyStub], Depends(_notify)]
Webhooks = Annotated[Upstream[WebhooksStub], Depends(_webhooks)]
Workflow = Annotated[Upstream[WorkflowStub], Depends(_workflow)]
Signing = Annotated[Upstream[SigningStub], Depends(_signing)]
Exchange = Annotated[Upstream[ExchangeStub], Depends(_exchange)]
# The gateway's own identity, for the calls it makes on its own account (reading the archive once
# documents agreed the caller may open a document).
GatewayIdentity = Annotated[CallerCredentials, Depends(_gateway_identity)]
# The health of every service behind the gateway (asked at most once a second).
Readiness = Annotated[Callable[[], Awaitable[dict[str, str]]], Depends(_readiness)]


@dataclass(frozen=True, slots=True)
class StreamSupport:
    """What a live stream needs beyond one call: the hub of new notices, fresh caller tokens for
    the calls it makes long after it opened, and the ended sessions it must stop for."""

    hub: NoticeHub
    caller_tokens: CallerTokenIssuer
    revocations: Revocations


def _streams(request: Request) -> StreamSupport:
    return StreamSupport(
        hub=request.app.state.notice_hub,
        caller_tokens=request.app.state.caller_tokens,
        revocations=request.app.state.revocations,
    )


Streams = Annotated[StreamSupport, Depends(_streams)]


def _settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


def _stopping(request: Request) -> bool:
    return bool(request.app.state.stopping)


def _transactions(request: Request) -> Transactions:
    transactions: Transactions = request.app.state.transactions
    return transactions


def _sign_in(request: Request) -> SignInService[directory_pb2.Person]:
    service: SignInService[directory_pb2.Person] = request.app.state.sign_in
    return service


def _client(request: Request) -> ClientAddress:
    return client_of(request.scope)


Settings = Annotated[GatewaySettings, Depends(_settings)]
# The gateway is shutting down: readiness says so, so that no new work is sent here.
Stopping = Annotated[bool, Depends(_stopping)]
DbTransactions = Annotated[Transactions, Depends(_transactions)]
SignIns = Annotated[SignInService[directory_pb2.Person], Depends(_sign_in)]
# The client as the sign-in limits count it (found by the admission middleware).
Client = Annotated[ClientAddress, Depends(_client)]

# Scopes naming a role: the caller needs one of the roles the route names this way.
ROLE = "role:"

# What each scope a route may name stands for (in the OpenAPI document's security scheme).
SCOPES = {
    "incoming:register": "Register incoming documents (API keys may hold it; they act as clerks)",
    "incoming:read": "Read incoming documents and their files (API keys may hold it)",
    "documents:search": "Search incoming and outgoing documents (people only)",
    "incoming:assign": "Assign incoming documents (people only; workflow decides who)",
    "tasks:handle": "Read, forward and handle tasks (people only; workflow decides who)",
    "stats:read": "Read handling statistics (people only; workflow decides how far)",
    "outgoing:draft": "Draft outgoing documents and add versions (people only)",
    "outgoing:read": "Read outgoing documents and their files (API keys may hold it)",
    "outgoing:issue": "Number, issue and recall outgoing documents (people only: the clerk)",
    "outgoing:approve": "Submit, approve, sign and return drafts (people only; workflow decides)",
    "notifications:read": "Read one's own notifications (people only)",
    "notifications:manage": "Register the agency systems' webhooks, see their deliveries and "
    "the e-mails of notices (people only: administrators)",
    "directory:read": "Read the agency, units, people and delegations (people only)",
    "directory:manage": "Change the directory (people only; the directory decides who)",
    "api-keys:manage": "Manage API keys (people only)",
    "registers:book": "Print register books (people only; documents decides who)",
    "signatures:validate": "Validate the signatures of a PDF and read the reports (people only)",
    "certificates:read": "Read the agency's certificates (people only)",
    "certificates:manage": "Import certificates and trust roots (people only: administrators)",
    "exchange:read": "Read the exchange inbox and the packages exchanged with other agencies "
    "(people only; the exchange service decides who)",
    "exchange:handle": "Register or reject packages that arrived from other agencies, and "
    "answer their recalls (people only: the clerk)",
    "records:read": "Read the dossier list, dossiers and their exports, and dispositions "
    "(people only; the archive decides who sees which)",
    "records:keep": "Open dossiers, add and remove their documents, close them (people only; "
    "the archive decides: the dossier's creator unit and the person responsible)",
    "records:manage": "Import the dossier list, receive dossiers into the agency archive, hold "
    "them, check their fixity, propose and execute dispositions (people only: archivists)",
    "records:approve": "Approve the dossier list, approve or refuse dispositions (people only: "
    "the agency's leaders)",
    "audit:verify": "Verify the archive's audit chain (people only: archivists and administrators)",
    "role:clerk": "The caller holds the role clerk (văn thư)",
    "role:admin": "The caller holds the role admin (quản trị)",
    "role:specialist": "The caller holds the role specialist (chuyên viên)",
    "role:unit_head": "The caller holds the role unit_head (trưởng đơn vị)",
    "role:deputy_unit_head": "The caller holds the role deputy_unit_head (phó đơn vị)",
    "role:agency_leader": "The caller holds the role agency_leader (lãnh đạo cơ quan)",
    "role:deputy_agency_leader": "The caller holds the role deputy_agency_leader (phó lãnh đạo)",
    "role:archivist": "The caller holds the role archivist (lưu trữ)",
}


def role(name: str) -> str:
    return f"{ROLE}{name}"


def require(principal: Principal, *scopes: str) -> Principal:
    """The caller, once it may do what needs these scopes: an API key must hold every scope
    named (people are not limited by scopes: their roles decide, here and in the services), and
    the caller must hold one of the roles named (`role:<name>`), if any is."""
    roles = [scope.removeprefix(ROLE) for scope in scopes if scope.startswith(ROLE)]
    for scope in scopes:
        if not scope.startswith(ROLE):
            principal.require_scope(scope)
    if roles:
        principal.caller.require_role(*roles)
    return principal


async def authorized(security_scopes: SecurityScopes, principal: CurrentPrincipal) -> Principal:
    """The caller, once it may use the route: `require` with the scopes the route names."""
    return require(principal, *security_scopes.scopes)


def allowed(*scopes: str) -> Any:
    """`Annotated[Principal, allowed("incoming:read")]`: the caller of a route that needs these
    scopes (and roles, `role(...)`)."""
    return Security(authorized, scopes=list(scopes))


# The directory's routes (agency, units, people, delegations): scopes no API key holds. People
# pass; their roles decide in the directory (administrators manage; a delegator their own
# delegations).
DirectoryReader = Annotated[Principal, allowed("directory:read")]
DirectoryManager = Annotated[Principal, allowed("directory:manage")]

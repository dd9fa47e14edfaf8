"""Every problem code a client of the gateway can meet: its HTTP status, a title and what it
means. A problem's `type` is `/problems/<code>` on the gateway itself, which answers a page
describing the code; a code not listed here (a newer service's) is `about:blank`.

The gateway's own codes, and the codes it passes on from the services behind it, are listed
here; the canonical codes of `google.rpc.Code` too, for a service's refusal without a reason of
its own. A test holds every code the gateway raises to having an entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from vanban.platform.errors import ErrorCode
from vanban.platform.problem import TITLES, http_status

PROBLEMS_PATH = "/problems"


@dataclass(frozen=True, slots=True)
class ProblemType:
    code: str
    status: int
    title: str
    meaning: str

    @property
    def uri(self) -> str:
        return f"{PROBLEMS_PATH}/{self.code}"


_ENTRIES: tuple[tuple[str, int, str, str], ...] = (
    # Any request ------------------------------------------------------------------------------
    (
        "HOST_NOT_ALLOWED",
        400,
        "Host not served",
        "The Host header names a host this gateway "
        "does not answer to (a protection against DNS rebinding). Use the gateway's own name.",
    ),
    ("ROUTE_NOT_FOUND", 404, "No such route", "No operation of the API has this path."),
    ("METHOD_NOT_ALLOWED", 405, "Method not allowed", "The path exists, but not with this method."),
    (
        "BODY_TOO_LARGE",
        413,
        "Body too large",
        "The request body is larger than this route "
        "takes; the refusal comes before the body is read.",
    ),
    (
        "VALIDATION_FAILED",
        422,
        "Request not valid",
        "A parameter or a field of the body is missing or not valid; `errors` names each one.",
    ),
    (
        "HTTP_ERROR",
        400,
        "Request not understood",
        "The request could not be read as HTTP (a malformed multipart body, for instance).",
    ),
    (
        "INTERNAL",
        500,
        "Internal error",
        "Something unexpected failed. Nothing about it is "
        "shown; quote the `trace_id` when you report it.",
    ),
    (
        "UPSTREAM_ERROR",
        500,
        "A service failed",
        "A service behind the gateway failed; quote the `trace_id` when you report it.",
    ),
    (
        "UNAVAILABLE",
        503,
        "Service unavailable",
        "A service behind the gateway is not answering right now; try again shortly.",
    ),
    (
        "ARCHIVE_PROTOCOL",
        502,
        "Archive answer not understood",
        "The archive answered a download without the object's description.",
    ),
    # Who the caller is ------------------------------------------------------------------------
    (
        "TOKEN_MISSING",
        401,
        "Sign in first",
        "The route needs a caller: send `Authorization: Bearer <token>` (or `X-API-Key`).",
    ),
    (
        "TOKEN_INVALID",
        401,
        "Token not valid",
        "The access token is not one this gateway issued for this agency, or it was altered.",
    ),
    (
        "TOKEN_EXPIRED",
        401,
        "Token expired",
        "The access token (or the identity provider's) has expired: refresh it or sign in again.",
    ),
    (
        "SESSION_ENDED",
        401,
        "Session ended",
        "The session was signed out, or the person "
        "changed since it began (password, roles, units, clearance, deactivation): sign in "
        "again.",
    ),
    ("API_KEY_INVALID", 401, "API key not valid", "The API key is not one of this agency."),
    ("API_KEY_REVOKED", 401, "API key revoked", "An administrator revoked this API key."),
    ("API_KEY_EXPIRED", 401, "API key expired", "The API key is past its expiry."),
    (
        "OIDC_TOKEN_INVALID",
        401,
        "Identity provider token not valid",
        "The identity provider's token did not verify (signature, issuer, audience or time).",
    ),
    (
        "OIDC_NOT_ACCESS_TOKEN",
        401,
        "Not an access token",
        "Only the identity provider's access tokens are taken, not ID tokens.",
    ),
    (
        "OIDC_WRONG_CLIENT",
        401,
        "Token of another client",
        "The identity provider issued the token to a client this gateway does not accept.",
    ),
    (
        "OIDC_UNKNOWN_PERSON",
        401,
        "Unknown person",
        "Nobody of this agency matches the identity the provider vouches for.",
    ),
    ("ACCOUNT_INACTIVE", 401, "Account deactivated", "The person's account is deactivated."),
    ("CALLER_MISSING", 401, "Caller missing", "A service received no caller token."),
    ("CALLER_INVALID", 401, "Caller not valid", "A service could not verify the caller token."),
    ("CALLER_EXPIRED", 401, "Caller expired", "The caller token a service received expired."),
    (
        "CALLER_WRONG_AGENCY",
        401,
        "Caller of another agency",
        "The caller token belongs to another agency.",
    ),
    # What the caller may do -------------------------------------------------------------------
    (
        "SCOPE_REQUIRED",
        403,
        "Scope required",
        "The API key lacks the scope this route needs (`metadata.scope` names it).",
    ),
    (
        "ROLE_REQUIRED",
        403,
        "Role required",
        "The action needs one of the roles named in the detail.",
    ),
    (
        "PASSWORD_CHANGE_REQUIRED",
        403,
        "Change your password first",
        "An administrator set the password: change it (POST /v1/me/password) before anything else.",
    ),
    (
        "LOCAL_SIGN_IN_REQUIRED",
        403,
        "Password sign-in required",
        "Only a person signed in "
        "here with a password can change it (not an API key or an identity provider's token).",
    ),
    (
        "CLEARANCE_TOO_LOW",
        403,
        "Clearance too low",
        "Registering a document above your clearance is not allowed; nothing was stored.",
    ),
    ("NOT_A_PERSON", 403, "Not a person", "The action needs a person, not a service."),
    ("SERVICE_ONLY", 403, "Platform services only", "Only platform services may do this."),
    (
        "DELEGATION_REQUIRED",
        403,
        "Delegation required",
        "Acting for someone else needs their "
        "delegation, with this action in its scope, in force now.",
    ),
    ("NOT_A_LEADER", 403, "Not a leader", "The person acted for is not an agency leader."),
    (
        "NOT_DELEGATOR",
        403,
        "Not the delegator",
        "Only the delegator (or an administrator) may create or revoke this delegation.",
    ),
    # Sign-in ----------------------------------------------------------------------------------
    (
        "BAD_CREDENTIALS",
        401,
        "Wrong user name or password",
        "The user name or the password is "
        "wrong (the same answer for an unknown user). Each one counts towards the limits.",
    ),
    (
        "INVALID_CREDENTIALS_FORMAT",
        400,
        "Credentials malformed",
        "A blank user name, or an empty or overlong password: refused before anything is counted.",
    ),
    (
        "UNSUPPORTED_GRANT_TYPE",
        400,
        "Grant type not supported",
        "grant_type must be password or refresh_token.",
    ),
    (
        "REFRESH_TOKEN_MISSING",
        400,
        "Refresh token missing",
        "refresh_token is required with grant_type=refresh_token.",
    ),
    (
        "REFRESH_TOKEN_INVALID",
        401,
        "Refresh token not valid",
        "The refresh token is not one this gateway issued.",
    ),
    (
        "REFRESH_TOKEN_REVOKED",
        401,
        "Session signed out",
        "The refresh token's session was signed out.",
    ),
    ("REFRESH_TOKEN_EXPIRED", 401, "Refresh token expired", "The session is over: sign in again."),
    (
        "REFRESH_TOKEN_REUSED",
        401,
        "Refresh token reused",
        "This refresh token was used before: "
        "it was copied, so its whole session is closed for safety.",
    ),
    (
        "ACCOUNT_LOCKED",
        429,
        "Locked out from this address",
        "Too many wrong passwords for "
        "this account from your address; Retry-After says when to try again. Elsewhere the "
        "person signs in as usual.",
    ),
    (
        "ACCOUNT_THROTTLED",
        429,
        "Account throttled",
        "Too many wrong passwords for this account "
        "from everywhere; addresses the person signed in from lately are spared.",
    ),
    (
        "ADDRESS_THROTTLED",
        429,
        "Address throttled",
        "Too many wrong passwords from your address over all accounts.",
    ),
    (
        "SIGN_IN_THROTTLED",
        429,
        "Sign-in throttled",
        "Too many wrong passwords; Retry-After says when to try again.",
    ),
    (
        "TOO_MANY_SIGN_IN_ATTEMPTS",
        429,
        "Too many sign-ins at once",
        "Your address has as many sign-ins in flight and waiting as it may; try again in a second.",
    ),
    (
        "SIGN_IN_BUSY",
        503,
        "Sign-in busy",
        "Every password check stayed busy for the whole queue time; try again in a moment.",
    ),
    (
        "WRONG_CURRENT_PASSWORD",
        400,
        "Wrong current password",
        "The current password is wrong; it counts like a wrong sign-in.",
    ),
    (
        "INVALID_PASSWORD",
        400,
        "Password not acceptable",
        "The new password is too short or too long.",
    ),
    ("PASSWORD_UNCHANGED", 400, "Password unchanged", "The new password is the current one."),
    # API keys ---------------------------------------------------------------------------------
    (
        "INVALID_API_KEY",
        400,
        "API key not valid",
        "The key's name, scopes or expiry are not valid; `errors` names each.",
    ),
    ("API_KEY_NOT_FOUND", 404, "No such API key", "No active API key has this id."),
    # Incoming documents -----------------------------------------------------------------------
    (
        "INVALID_METADATA",
        400,
        "Metadata not valid",
        "The registration's `metadata` part is not "
        "valid; `errors` names each field. Nothing was stored.",
    ),
    (
        "INVALID_INCOMING_DOCUMENT",
        400,
        "Document not valid",
        "The documents service refused the registration's fields.",
    ),
    ("FILE_EMPTY", 400, "File empty", "The file part is empty."),
    ("FILE_TOO_LARGE", 413, "File too large", "The file is larger than the route's limit."),
    ("NOT_A_PDF", 415, "Not a PDF", "The file is not a PDF document."),
    (
        "INVALID_PDF",
        422,
        "PDF cannot be opened",
        "The file looks like a PDF but cannot be opened: it is damaged, or protected by a "
        "password. Nothing was stored.",
    ),
    (
        "REGISTER_NOT_FOUND",
        404,
        "No such register",
        "No register with this id that you may read (one numbering a secrecy level above "
        "your clearance is not found either).",
    ),
    (
        "INVALID_BOOK_REQUEST",
        400,
        "Register book request not valid",
        "The period of the book is not valid (`from` after `to`, or longer than one year); "
        "`errors` names the field.",
    ),
    (
        "BOOKS_BUSY",
        429,
        "Register books busy",
        "As many register books as the documents service renders at once are being made; "
        "nothing is queued. Try again in a minute.",
    ),
    (
        "INCOMING_NOT_FOUND",
        404,
        "No such document",
        "No incoming document with this id that "
        "you may open (one above your clearance is not found either).",
    ),
    (
        "NO_REGISTER",
        400,
        "No register",
        "No active register (sổ) of the agency numbers a document of this direction, type and "
        "secrecy: the registers need configuring. Nothing was numbered.",
    ),
    (
        "AMBIGUOUS_REGISTER",
        400,
        "Several registers",
        "More than one register would number this document: the registers need configuring. "
        "Nothing was numbered.",
    ),
    # Outgoing documents -----------------------------------------------------------------------
    (
        "INVALID_OUTGOING_DOCUMENT",
        400,
        "Draft not valid",
        "The documents service refused the draft's fields; `errors` names each. Nothing was kept.",
    ),
    (
        "INVALID_OUTGOING_VERSION",
        400,
        "Version not valid",
        "The documents service refused the new version's fields; `errors` names each.",
    ),
    (
        "OUTGOING_NOT_FOUND",
        404,
        "No such document",
        "No outgoing document with this id that you may open (one above your clearance, or "
        "another unit's draft, is not found either).",
    ),
    (
        "DOCUMENT_NOT_DRAFT",
        400,
        "Not a draft",
        "The document has been issued (or cancelled or recalled): its registered fields and "
        "versions are locked.",
    ),
    (
        "OBJECT_DESTROYED",
        404,
        "File destroyed",
        "The file was destroyed by a disposition (hủy tài liệu hết giá trị) once its retention "
        "had ended and the agency's leader approved: the document's record stays, its bytes "
        "are gone.",
    ),
    (
        "DOCUMENT_ARCHIVED",
        400,
        "Document in the archive",
        "A dossier (hồ sơ) holding the document was handed over to the agency archive, or a "
        "disposition destroyed it: the document is read-only and nothing of it can change.",
    ),
    (
        "DOCUMENT_NOT_ISSUED",
        400,
        "Not issued",
        "Only an issued document's number can be cancelled, and only an issued document takes "
        "the agency signature or goes into a dossier (hồ sơ): this one is a draft (it has no "
        "number yet) or was recalled.",
    ),
    (
        "ALREADY_CANCELLED",
        400,
        "Already cancelled",
        "The document's number is already cancelled; its first reason is kept.",
    ),
    (
        "INVALID_CANCELLATION",
        400,
        "Cancellation not valid",
        "The cancellation needs a reason (at most 500 characters, no control characters); "
        "`errors` names the field.",
    ),
    (
        "VERSION_CONFLICT",
        409,
        "Version moved on",
        "The draft's current version is not the one the request names (`expected_version`): "
        "someone added a version meanwhile. Read the draft again.",
    ),
    (
        "TOO_MANY_VERSIONS",
        400,
        "Too many versions",
        "The draft has the most versions one draft keeps.",
    ),
    ("VERSION_NOT_FOUND", 404, "No such version", "The draft has no version with this number."),
    (
        "NOT_SIGNED",
        404,
        "Not signed yet",
        "The document's current version carries no signature yet: its file is the unsigned one.",
    ),
    (
        "DRAFTING_UNIT_REQUIRED",
        400,
        "Drafting unit required",
        "A công văn's ký hiệu names its drafting unit, and the draft names no unit the "
        "directory knows. Nothing was numbered.",
    ),
    (
        "INVALID_NOTATION",
        400,
        "Ký hiệu not possible",
        "The agency's or the unit's abbreviation cannot form a ký hiệu (capitals and digits, "
        "at most 30 characters together). Nothing was numbered.",
    ),
    (
        "RELATION_NOT_VISIBLE",
        400,
        "Related document not visible",
        "The draft names a related document the issuing clerk may not open. Nothing was numbered.",
    ),
    (
        "UNKNOWN_DOCUMENT_TYPE",
        400,
        "Document type withdrawn",
        "The draft's document type is no longer in the agency's catalogue. Nothing was numbered.",
    ),
    (
        "DIRECTORY_UNAVAILABLE",
        503,
        "Directory unavailable",
        "The directory, which gives the agency's abbreviation for the ký hiệu, did not answer. "
        "Nothing was numbered; try again.",
    ),
    (
        "OBJECT_TOO_LARGE",
        429,
        "File too large for the archive",
        "The archive refused the file's size.",
    ),
    ("SIZE_MISMATCH", 400, "File size changed", "The file's size differs from the one announced."),
    ("EMPTY_OBJECT", 400, "File empty", "The archive refused an empty file."),
    (
        "OBJECT_STORE_UNAVAILABLE",
        503,
        "Storage unavailable",
        "The archive's storage is not answering; try again shortly.",
    ),
    (
        "FIXITY_MISMATCH",
        500,
        "File damaged",
        "The stored file no longer matches its SHA-256; it is not served.",
    ),
    ("OBJECT_MISSING", 500, "File missing", "The stored file is missing from the archive."),
    ("OBJECT_NOT_FOUND", 404, "No such file", "The archive holds no such file."),
    # Assignments ------------------------------------------------------------------------------
    ("ASSIGNMENT_NOT_FOUND", 404, "Not assigned", "The document has no assignment you may see."),
    (
        "INVALID_ASSIGNMENT",
        400,
        "Assignment not valid",
        "The assignment's fields are not valid; `errors` names each.",
    ),
    ("UNKNOWN_UNITS", 400, "Unknown units", "The assignment names units that do not exist."),
    (
        "UNKNOWN_PEOPLE",
        400,
        "People not assignable",
        "The assignment names people who are unknown, inactive or not cleared for the document.",
    ),
    # Tasks ------------------------------------------------------------------------------------
    ("TASK_NOT_FOUND", 404, "No such task", "No task with this id that you may see."),
    (
        "TASK_NOT_HELD",
        403,
        "Not your task",
        "Only the task's holder may do this: its person, or its unit's head or deputy.",
    ),
    ("TASK_CLOSED", 400, "Task closed", "The task is completed, returned or recalled already."),
    (
        "INVALID_FORWARD",
        400,
        "Forward not valid",
        "A unit or person outside your unit's subtree, a deadline after the task's or in the "
        "past, or a role an informed task cannot give; `errors` names each.",
    ),
    (
        "FORWARD_NOT_ALLOWED",
        400,
        "Not forwarded",
        "A person's task is handled, not forwarded; their unit's head forwards the unit's.",
    ),
    (
        "ALREADY_ASSIGNED",
        409,
        "Sent already",
        "A unit or person named already holds a task of this assignment: a document is never "
        "sent twice.",
    ),
    (
        "OPEN_SUBTASKS",
        400,
        "Tasks still open",
        "Tasks forwarded from this one (lead or coordinating) are still open.",
    ),
    ("INVALID_PROGRESS", 400, "Progress not valid", "The note is too long or not printable."),
    (
        "INVALID_COMPLETION",
        400,
        "Completion not valid",
        "A result is required (except to acknowledge an informed task); the reply must be a "
        "document id.",
    ),
    ("INVALID_RETURN", 400, "Return not valid", "A reason is required to return a task."),
    (
        "RECALL_NOT_ALLOWED",
        403,
        "Not yours to recall",
        "Only whoever forwarded the task, or a leader, may recall it.",
    ),
    (
        "INVALID_CALENDAR",
        400,
        "Calendar not valid",
        "A day outside the year, given twice, not an exception to Monday-Friday, or unnamed.",
    ),
    (
        "INVALID_STATS_QUERY",
        400,
        "Statistics query not valid",
        "Dates are YYYY-MM-DD, from no later than to, at most 400 days; the unit must exist.",
    ),
    (
        "STATS_NOT_ALLOWED",
        403,
        "Not your statistics",
        "A unit's figures are for its head, deputies and the agency's leaders; a person's for "
        "themself and the leaders.",
    ),
    (
        "WORK_DOSSIER_NOT_FOUND",
        404,
        "No such work dossier",
        "No work dossier with this id that you may see (or, to change it, that is yours).",
    ),
    ("WORK_DOSSIER_CLOSED", 400, "Work dossier closed", "A closed work dossier changes no more."),
    (
        "INVALID_WORK_DOSSIER",
        400,
        "Work dossier not valid",
        "A title is required; texts have their limits; an item is incoming, outgoing or task.",
    ),
    (
        "ITEM_NOT_FOUND",
        404,
        "No such item",
        "No document or task with this id that you may open, or the dossier does not hold it.",
    ),
    ("ITEM_ALREADY_IN_DOSSIER", 400, "Already in it", "The work dossier holds this item already."),
    ("TOO_MANY_ITEMS", 429, "Dossier full", "A work dossier holds at most 500 items."),
    (
        "TOO_MANY_DOSSIERS",
        429,
        "Too many open dossiers",
        "A person keeps at most 1,000 open work dossiers: close some first.",
    ),
    # Approvals ---------------------------------------------------------------------------------
    (
        "APPROVAL_NOT_FOUND",
        404,
        "No such approval",
        "No approval with this id, or of this draft, that you may see.",
    ),
    (
        "NOT_THE_DRAFTER",
        403,
        "Not the drafter",
        "Only the drafter, or a person of the drafting unit, submits a draft.",
    ),
    (
        "INVALID_SIGNER",
        400,
        "Signer not valid",
        "The signer must be an active agency leader or unit head cleared for the draft.",
    ),
    (
        "ALREADY_SUBMITTED",
        409,
        "Submitted already",
        "The draft is in its chain already; it is submitted again only after a return.",
    ),
    (
        "APPROVAL_CLOSED",
        400,
        "Approval closed",
        "The approval is returned or issued: nothing waits for a decision.",
    ),
    (
        "NOT_YOUR_STEP",
        403,
        "Not your step",
        "The current step of the chain waits for someone else's decision.",
    ),
    (
        "WRONG_STEP",
        400,
        "Another step",
        "A sign step is approved by signing (…/sign); other steps by …/approve.",
    ),
    (
        "NOT_SUBMITTED",
        400,
        "Not submitted",
        "The draft was never submitted for approval.",
    ),
    (
        "DRAFT_CHANGED",
        400,
        "Draft changed",
        "A version was added since the draft was submitted: return it and submit it again.",
    ),
    (
        "ISSUE_IN_PROGRESS",
        400,
        "Being numbered",
        "The clerk is numbering the draft right now; it can be returned only if that fails.",
    ),
    (
        "NOT_APPROVED",
        400,
        "Not approved",
        "The draft has not passed its approval chain: it cannot be numbered yet.",
    ),
    (
        "WORKFLOW_UNAVAILABLE",
        503,
        "Workflow unavailable",
        "The workflow is not answering: the draft's approval cannot be checked; try again.",
    ),
    (
        "INVALID_CHAIN",
        400,
        "Chain not valid",
        "Steps among review, form_check, approve, each once, in that order, ending with sign.",
    ),
    (
        "INVALID_DECISION",
        400,
        "Decision not valid",
        "The comment is too long or holds control characters; a return needs one.",
    ),
    # Signatures (chữ ký số) --------------------------------------------------------------------
    (
        "LEADER_SIGNATURE_REQUIRED",
        400,
        "Leader's signature required",
        "The leader signs first: the agency signature (chữ ký số của cơ quan) goes only on an "
        "issued document whose leader's signature validates, and where the approval chain is in "
        "force a draft is numbered only once its current version carries the leader's "
        "signature. Nothing was signed or numbered.",
    ),
    (
        "NOT_A_PDF_DOCUMENT",
        400,
        "Document not a PDF",
        "The document's file is not a PDF, so it cannot carry a digital signature (PAdES). "
        "Nothing was signed.",
    ),
    (
        "ALREADY_SIGNED",
        400,
        "Signed already",
        "The document carries this signature already; its signatures are listed at "
        "`/v1/outgoing-documents/{id}/signatures`.",
    ),
    (
        "CERTIFICATE_EXPIRED",
        400,
        "Certificate expired",
        "The signing certificate (chứng thư số: the leader's or the agency's) is past its "
        "validity. Nothing was signed; an administrator imports a new one.",
    ),
    (
        "CERTIFICATE_REVOKED",
        400,
        "Certificate revoked",
        "The signing certificate (chứng thư số) was revoked by its certification authority. "
        "Nothing was signed; an administrator imports a new one.",
    ),
    (
        "TOKEN_UNAVAILABLE",
        503,
        "Signing token unavailable",
        "The token (PKCS#11) that holds the signing keys is not answering. Nothing was signed; "
        "try again shortly.",
    ),
    (
        "ENCRYPTED_PDF",
        400,
        "PDF encrypted",
        "The PDF is encrypted: its signatures cannot be validated.",
    ),
    (
        "REPORT_NOT_FOUND",
        404,
        "No such validation report",
        "No signature validation report with this id that you may read.",
    ),
    (
        "INVALID_CERTIFICATE",
        400,
        "Certificates not readable",
        "The file holds no certificate as PEM, DER or PKCS#12, or the PKCS#12 password is "
        "wrong. Nothing was imported.",
    ),
    (
        "PRIVATE_KEY_REFUSED",
        400,
        "Private key refused",
        "The file carries a private key: keys are made in the token and never imported. Send "
        "the certificates alone. Nothing was imported.",
    ),
    (
        "CERTIFICATE_WITHOUT_KEY",
        400,
        "No key for the certificate",
        "A certificate that is not a CA's must match a key in the token (the agency's or a "
        "leader's), and none does. Nothing was imported.",
    ),
    (
        "TOO_MANY_CERTIFICATES",
        400,
        "Too many certificates",
        "The file holds more certificates than one import takes. Nothing was imported.",
    ),
    (
        "CERTIFICATE_NOT_FOUND",
        404,
        "No such certificate",
        "The agency has no certificate with this id.",
    ),
    (
        "CERTIFICATE_NOT_REVOCABLE",
        400,
        "Certificate not revocable here",
        "The agency CA and the timestamping certificate are replaced with the agency's "
        "token, not revoked one by one.",
    ),
    (
        "INVALID_REVOCATION_REASON",
        400,
        "Reason required",
        "A revocation names its reason: 1 to 500 printable characters.",
    ),
    # Exchange with other agencies (edXML over the axis) ---------------------------------------
    (
        "INBOX_ITEM_NOT_FOUND",
        404,
        "No such inbox item",
        "The agency's exchange inbox holds no package with this id.",
    ),
    (
        "INBOX_ITEM_NOT_RECEIVED",
        400,
        "Handled already",
        "Only a package that arrived and waits for the clerk (state `received`) is registered "
        "or rejected (registering a registered one again answers its incoming document): this "
        "one is in another state, which the detail names.",
    ),
    (
        "INVALID_REJECTION",
        400,
        "Reason required",
        "A rejection names its reason, sent to the sender with status 02: 1 to 500 printable "
        "characters.",
    ),
    (
        "NOT_SENT",
        400,
        "Not sent to other agencies",
        "The document was not sent to any agency over the axis: there is nothing to recall.",
    ),
    (
        "RECALL_NOT_ASKED",
        400,
        "No recall to answer",
        "No recall waits for an answer on this package: its sender asked for none, or it was "
        "answered already.",
    ),
    (
        "INVALID_RECALL",
        400,
        "Reason required",
        "A recall names its reason, sent to every recipient with status 13, and refusing one "
        "names its own, sent back with status 16: 1 to 500 printable characters.",
    ),
    (
        "PACKAGE_NOT_FOUND",
        404,
        "No such package",
        "No package or status message was sent or received with this id.",
    ),
    (
        "PACKAGE_TOO_LARGE",
        400,
        "Package too large",
        "The package, or a file it carries, is larger than the exchange service handles (the "
        "most the axis carries).",
    ),
    # Records: the dossier list, dossiers, the agency archive, dispositions --------------------
    (
        "INVALID_DOSSIER_LIST_ENTRY",
        400,
        "Dossier list entry not valid",
        "An entry of the dossier list (danh mục hồ sơ) is not valid: its code, title, "
        "retention (01 to 07), access (01 to 03), creator unit or person responsible; "
        "`errors` names each field.",
    ),
    (
        "DOSSIER_LIST_INVALID",
        422,
        "Dossier list has problems",
        "The file imported has problems: `problems` names each by line (the header is line 1) "
        "and field. Nothing was imported; a dry run lists the same problems without refusing.",
    ),
    (
        "INVALID_DOSSIER_LIST_FILE",
        400,
        "Not a dossier list",
        "The file cannot be read as a dossier list at all (not CSV or XLSX, damaged, empty, or "
        "a header without the required columns code, title, retention, access and "
        "creator_unit); `errors` says where and why. Nothing was imported.",
    ),
    (
        "LIST_FILE_TOO_LARGE",
        429,
        "Dossier list too large",
        "A dossier list file is at most 2 MiB.",
    ),
    (
        "UNKNOWN_RETENTION_CODE",
        400,
        "Unknown retention code",
        "A retention (thời hạn bảo quản) is a code from 01 (permanent) to 07 (other).",
    ),
    (
        "RETENTION_YEARS_REQUIRED",
        400,
        "Retention years required",
        "Retention 07 (other) needs its number of years, from 1 to 100.",
    ),
    (
        "INVALID_RETENTION_YEARS",
        400,
        "Retention years not valid",
        "The years of retention 07 (other) are from 1 to 100, and those given with another "
        "code must be the code's own.",
    ),
    (
        "UNKNOWN_LIST_CODE",
        404,
        "Unknown list code",
        "The year's dossier list has no entry with this code.",
    ),
    (
        "LIST_ENTRY_NOT_APPROVED",
        400,
        "Entry not approved",
        "A dossier is opened only from an entry of the dossier list that the agency's leader "
        "approved.",
    ),
    (
        "DOSSIER_EXISTS",
        409,
        "Dossier opened already",
        "The entry's dossier of this year exists already: one dossier per entry and year (the "
        "dossier list names it, `dossier_id`).",
    ),
    (
        "DOSSIER_NOT_FOUND",
        404,
        "No such dossier",
        "No dossier with this id that you may see (one holding a document above your clearance "
        "is not found either).",
    ),
    (
        "DOSSIER_DOCUMENT_NOT_FOUND",
        404,
        "Not in the dossier",
        "The dossier does not hold this document.",
    ),
    (
        "DOSSIER_NOT_OPEN",
        400,
        "Dossier closed",
        "The dossier is closed: no document is added or removed.",
    ),
    (
        "DOSSIER_NOT_CLOSED",
        400,
        "Dossier still open",
        "Only a closed dossier is handed over to the agency archive (nộp lưu).",
    ),
    (
        "DOSSIER_NOT_HANDED_OVER",
        400,
        "Dossier not in the archive",
        "A legal hold is put on (or lifted from) a dossier in the agency archive only: this one "
        "was not handed over.",
    ),
    (
        "HANDOVER_RECORD_NOT_FOUND",
        404,
        "No handover record",
        "The dossier has not been handed over to the agency archive: it has no handover record "
        "(biên bản giao nộp) yet.",
    ),
    (
        "DOSSIER_DISPOSED",
        400,
        "Dossier destroyed",
        "A disposition destroyed the dossier: only its record (and the disposition record) "
        "remains, nothing of it can be exported.",
    ),
    (
        "DOCUMENT_DESTROYED",
        400,
        "Document destroyed",
        "A disposition destroyed the document's files: it cannot go into a dossier.",
    ),
    (
        "DOSSIER_HANDED_OVER",
        400,
        "Dossier in the archive",
        "The dossier was handed over to the agency archive (or destroyed): it and its documents "
        "are read-only.",
    ),
    (
        "DOSSIER_EMPTY",
        400,
        "Dossier empty",
        "A dossier without documents is not closed.",
    ),
    (
        "DOSSIER_TOO_LARGE",
        429,
        "Dossier full",
        "The dossier holds the most documents one dossier may (the detail names the limit).",
    ),
    (
        "INVALID_END_DATE",
        400,
        "End date not valid",
        "A dossier's end date is not in the future, nor before its start date (its earliest "
        "document's date); `errors` names `end_date`.",
    ),
    (
        "NOT_DOSSIER_KEEPER",
        403,
        "Not the dossier's keeper",
        "Only who forms the dossier, a person of its creator unit or the person responsible, "
        "adds or removes its documents and closes it; the archivist receives it.",
    ),
    (
        "DISPOSITION_NOT_FOUND",
        404,
        "No such disposition",
        "No disposition (hủy tài liệu) with this id.",
    ),
    (
        "DISPOSITION_NOT_PROPOSED",
        400,
        "Decided already",
        "The disposition was approved or refused already: its decision stands.",
    ),
    (
        "DISPOSITION_NOT_APPROVED",
        400,
        "Disposition not approved",
        "Nothing is destroyed without the leader's approval: this disposition is not approved "
        "(it waits for the decision, was refused, or was executed already).",
    ),
    (
        "NOT_DISPOSABLE",
        400,
        "Not to be destroyed",
        "Some dossiers cannot be destroyed: permanent, still open, on legal hold or not past "
        "their retention; the detail names each. Nothing was proposed or destroyed.",
    ),
    (
        "NOTHING_TO_DISPOSE",
        400,
        "Nothing to destroy",
        "No dossier is past its retention and free to go (or none of those named is): there is "
        "nothing to propose or destroy.",
    ),
    (
        "INVALID_EXPORT_FORMAT",
        400,
        "Export format not valid",
        "A dossier is exported as bagit, eark or pdf.",
    ),
    (
        "EXPORT_FAILED",
        500,
        "Export failed",
        "The archive could not build the dossier's export; quote the `trace_id` when you report "
        "it. A download that had begun is cut off, never ended as if complete.",
    ),
    # Directory --------------------------------------------------------------------------------
    ("AGENCY_NOT_CONFIGURED", 404, "Agency not set up", "The agency's profile is missing."),
    ("AGENCY_MISMATCH", 400, "Another agency", "This directory already serves another agency."),
    ("INVALID_AGENCY", 400, "Agency profile not valid", "The profile's fields are not valid."),
    ("CODE_IMMUTABLE", 400, "Code cannot change", "An agency's or unit's code never changes."),
    (
        "INVALID_UPDATE_MASK",
        400,
        "Unknown field to change",
        "The update names a field that cannot be changed.",
    ),
    ("INVALID_IMAGE", 400, "Image not valid", "The image is not a PNG image of the allowed size."),
    (
        "ARCHIVE_NOT_CONFIGURED",
        503,
        "Archive not configured",
        "The directory cannot store images: its archive is not configured.",
    ),
    (
        "ARCHIVE_UNAVAILABLE",
        503,
        "Archive unavailable",
        "The archive is not answering; try again shortly.",
    ),
    (
        "ARCHIVE_MISMATCH",
        500,
        "Archive answer wrong",
        "The archive stored something other than what was sent.",
    ),
    ("UNIT_NOT_FOUND", 404, "No such unit", "No unit has this code."),
    ("UNIT_EXISTS", 409, "Unit exists", "A unit with this code exists already."),
    (
        "UNIT_NOT_EMPTY",
        400,
        "Unit not empty",
        "The unit still has members or child units; the detail names them.",
    ),
    (
        "UNIT_CYCLE",
        400,
        "Unit under itself",
        "A unit cannot move under itself or its own descendant.",
    ),
    ("INVALID_UNIT", 400, "Unit not valid", "The unit's fields are not valid."),
    (
        "INVALID_UNIT_CODE",
        400,
        "Unit code not valid",
        "A unit code is A-Z, 0-9, '.', '_' or '-', at most 32 characters.",
    ),
    ("UNKNOWN_UNIT", 400, "Unknown unit", "The request names a unit that does not exist."),
    ("PERSON_NOT_FOUND", 404, "No such person", "No person has this id."),
    ("PERSON_EXISTS", 409, "User name taken", "A person with this user name exists already."),
    ("INVALID_PERSON", 400, "Person not valid", "The person's fields are not valid."),
    ("INVALID_PERSON_ID", 400, "Person id not valid", "A person id is a UUID."),
    ("UNKNOWN_PERSON", 400, "Unknown person", "The request names a person who does not exist."),
    ("INVALID_ROLE", 400, "Role not valid", "A role is one of those the API lists."),
    (
        "INVALID_CLEARANCE",
        400,
        "Clearance not valid",
        "A clearance is none, confidential, secret or top_secret.",
    ),
    (
        "LAST_ADMIN",
        400,
        "Last administrator",
        "The agency's last administrator cannot lose the role or be deactivated.",
    ),
    (
        "NOT_A_SIGNER",
        400,
        "Not a signer",
        "Only people holding a leader role sign: only they have a signature image.",
    ),
    (
        "INVALID_LOOKUP",
        400,
        "Lookup not valid",
        "A person is looked up by exactly one of user name, OIDC subject and e-mail.",
    ),
    ("INVALID_FORMAT", 400, "Import format not valid", "The import is neither CSV nor JSON."),
    (
        "UNSUPPORTED_IMPORT_FORMAT",
        415,
        "Import format not supported",
        "Send people as text/csv or application/json (or name the file .csv or .json), a "
        "dossier list as text/csv or XLSX (or name it .csv or .xlsx).",
    ),
    ("IMPORT_TOO_LARGE", 400, "Import too large", "The import file is larger than 5 MiB."),
    ("DELEGATION_NOT_FOUND", 404, "No such delegation", "No delegation has this id."),
    (
        "INVALID_DELEGATION",
        400,
        "Delegation not valid",
        "The delegation's people, scope or dates are not valid.",
    ),
    (
        "OVERLAPPING_DELEGATION",
        400,
        "Delegation overlaps",
        "Another delegation of the same person "
        "already hands some of these actions to someone else at these dates.",
    ),
    ("DELEGATION_ENDED", 400, "Delegation ended", "The delegation has ended already."),
    ("DELEGATION_REVOKED", 400, "Delegation revoked", "The delegation was revoked already."),
    ("INVALID_INSTANT", 400, "Time not valid", "A time must carry its UTC offset."),
    ("INVALID_PAGE", 400, "Page size not valid", "The page size must not be negative."),
    (
        "INVALID_PAGE_TOKEN",
        400,
        "Page token not valid",
        "The page token is not one this list gave out.",
    ),
    (
        "INVALID_FILTER",
        400,
        "Filter not valid",
        "A filter or sort of a document list or search is not valid; `errors` names each one.",
    ),
    (
        "INVALID_QUERY",
        400,
        "Search text not valid",
        "The search text has no letter or digit, is longer than 500 characters or has more "
        "than 32 words; `errors` names `q`.",
    ),
    (
        "DIRECTORY_UNAVAILABLE",
        503,
        "Directory unavailable",
        "The directory is not answering; try again shortly.",
    ),
    (
        "NOTIFICATION_NOT_FOUND",
        404,
        "No such notification",
        "You have no notification with this id (or none you are cleared to see now).",
    ),
    (
        "INVALID_SEQUENCE",
        400,
        "Sequence not valid",
        "A notification sequence (Last-Event-ID, up_to_sequence) must be a whole number, "
        "0 or more.",
    ),
    (
        "INVALID_PREFERENCES",
        400,
        "Preferences not valid",
        "E-mail choices name a kind of notice and each, digest or off; quiet hours have both a "
        "start and a different end (HH:MM), or neither.",
    ),
    (
        "INVALID_DESCRIPTION",
        400,
        "Description not valid",
        "A description is one line of text of at most 500 characters.",
    ),
    (
        "INVALID_WEBHOOK_URL",
        400,
        "Webhook URL not valid",
        "A webhook URL is an absolute https URL of at most 2,048 characters, without user, "
        "password or fragment.",
    ),
    (
        "WEBHOOK_URL_NOT_ALLOWED",
        400,
        "Webhook URL not allowed",
        "Deliveries go only to https URLs on public addresses: the host is, or resolves to, a "
        "loopback, private, link-local or reserved address, or does not resolve.",
    ),
    (
        "UNKNOWN_EVENT_TYPE",
        400,
        "Unknown event type",
        "A webhook hears only the platform's event types (docs/webhooks.md).",
    ),
    (
        "TOO_MANY_WEBHOOKS",
        429,
        "Too many webhooks",
        "The agency has as many webhooks as it may: remove one first.",
    ),
    ("WEBHOOK_NOT_FOUND", 404, "No such webhook", "The agency has no webhook with this id."),
    (
        "DELIVERY_NOT_FOUND",
        404,
        "No such delivery",
        "The webhook has no delivery with this id.",
    ),
    (
        "TOO_MANY_STREAMS",
        429,
        "Too many notification streams",
        "A person holds at most a few notification streams at once, and each gateway a "
        "limited number in all: close one, or try again shortly.",
    ),
    ("PROBLEM_TYPE_NOT_FOUND", 404, "No such problem type", "No problem of the API has this code."),
)

# `google.rpc.Code`: the code of a refusal that carries no reason of its own.
_CANONICAL = {
    ErrorCode.CANCELLED: "The call was cancelled.",
    ErrorCode.UNKNOWN: "An unknown error.",
    ErrorCode.INVALID_ARGUMENT: "An argument is not valid.",
    ErrorCode.DEADLINE_EXCEEDED: "A service did not answer in time; try again.",
    ErrorCode.NOT_FOUND: "What was asked for does not exist.",
    ErrorCode.ALREADY_EXISTS: "What was to be created exists already.",
    ErrorCode.PERMISSION_DENIED: "The caller may not do this.",
    ErrorCode.RESOURCE_EXHAUSTED: "A limit was reached; try again later.",
    ErrorCode.FAILED_PRECONDITION: "The state of things does not allow this now.",
    ErrorCode.ABORTED: "A concurrent change got in the way; try again.",
    ErrorCode.OUT_OF_RANGE: "A value is out of range.",
    ErrorCode.UNIMPLEMENTED: "This is not implemented.",
    ErrorCode.DATA_LOSS: "Data was lost or damaged.",
    ErrorCode.UNAUTHENTICATED: "The caller is not established.",
}

PROBLEM_TYPES: dict[str, ProblemType] = {
    code: ProblemType(code=code, status=status, title=title, meaning=meaning)
    for code, status, title, meaning in _ENTRIES
}
for _code, _meaning in _CANONICAL.items():
    _status = http_status(_code)
    PROBLEM_TYPES.setdefault(
        _code.name,
        ProblemType(
            code=_code.name, status=_status, title=TITLES.get(_status, "Error"), meaning=_meaning
        ),
    )


def type_uri(code: str) -> str:
    """The problem's `type`: the page describing its code, or `about:blank`."""
    found = PROBLEM_TYPES.get(code)
    return found.uri if found is not None else "about:blank"

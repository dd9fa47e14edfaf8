"""Names on the exchange axis, derived from an agency's code (mã định danh).

One pure module that both the launcher (which configures the axis and provisions the inboxes)
and the exchange service (which sends to them and reads its own) import, so that the two can
never disagree on a subject or a stream name, and neither depends on the other.

An agency code such as ``000.00.00.H98`` cannot be a NATS token as it is: dots separate subject
tokens and are not allowed in stream names. Its token replaces them with ``_``, which a code
never contains, so two codes never share a token.
"""

from __future__ import annotations

from vanban.platform.organ_id import is_organ_id

INBOX_SUBJECT_PREFIX = "axis.inbox"
# Every agency's inbox has one durable pull consumer, its exchange service, under this name.
INBOX_CONSUMER = "exchange"


def agency_token(code: str) -> str:
    """The code as one NATS token (``000.00.00.H98`` -> ``000_00_00_H98``).

    Raises ``ValueError`` for anything that is not an agency code, so that a stray wildcard or
    space can never widen a subject or a permission built from it.
    """
    if not is_organ_id(code):
        raise ValueError(f"{code!r} is not an agency code (digits, capitals and dots, ≤13)")
    return code.replace(".", "_")


def inbox_subject(code: str) -> str:
    """Where a package for the agency ``code`` is published: ``axis.inbox.<token>``."""
    return f"{INBOX_SUBJECT_PREFIX}.{agency_token(code)}"


def inbox_stream(code: str) -> str:
    """The JetStream stream that keeps the agency's arrivals: ``INBOX_<token>``."""
    return f"INBOX_{agency_token(code)}"


def inbox_pull_subject(code: str) -> str:
    """The JetStream API subject the agency asks for its next arrivals on."""
    return f"$JS.API.CONSUMER.MSG.NEXT.{inbox_stream(code)}.{INBOX_CONSUMER}"


def inbox_ack_subjects(code: str) -> str:
    """The subjects (a wildcard) of the acks, naks and in-progress of the agency's arrivals."""
    return f"$JS.ACK.{inbox_stream(code)}.{INBOX_CONSUMER}.>"

"""The exchange's use cases (ADR 0012): an issued document leaves once per recipient, a package
arrives once, and both sides keep the signed bytes of everything that passed.

Outbound (`outbound`): when the agency signature is on an outgoing document with recipients
outside the agency, one edXML package is built, signed with the organisation key and kept; a
transmission per recipient is then retried until the axis acknowledges it. Inbound (`inbound`):
an arrival is verified (signature, certificate, sender) before it is read, kept, and answered
with status 01. The clerk (`inbox`) registers it (03) or rejects it (02).
"""

from __future__ import annotations

from vanban.exchange.core import Options
from vanban.exchange.inbound import Inbound
from vanban.exchange.inbox import INBOX_FROM_PB, Inbox
from vanban.exchange.outbound import Outbound

__all__ = ["INBOX_FROM_PB", "ExchangeService", "Options"]


class ExchangeService(Outbound, Inbound, Inbox):
    """The whole service, as app.py wires it and the servicer calls it."""

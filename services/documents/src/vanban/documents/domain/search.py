"""Lists and search of the registry (ADR 0009 section 4): what is asked, who asks, where a page
starts. Pure: the query builder (adapters/db/search.py) turns a `DocumentQuery` into SQL.

One model serves `SearchDocuments`, `ListIncomingDocuments` and `ListOutgoingDocuments`; search
adds the terms of the search box.
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from vanban.documents.domain.model import CONTROL_RE
from vanban.documents.domain.search_text import query_terms
from vanban.documents.domain.service import Reader
from vanban.platform.clearance import Clearance
from vanban.platform.errors import InvalidArgumentError, invalid_fields
from vanban.platform.paging import bad_token, decode_token, encode_token, page_size

PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MAX = 100
# Totals are counted exactly up to this many matches; above it the answer is a lower bound
# ("more than"): a list's (filters only: an index counts it), and a search's (words: counting
# them means reading the rows of the words, ADR 0009 section 4).
TOTAL_CAP = 1_000
SEARCH_TOTAL_CAP = 100
FILTER_VALUES_MAX = 50  # entries of one repeated filter
TYPE_NAME_MAX = 100
UNIT_CODE_MAX = 64

DIRECTIONS = ("incoming", "outgoing")
STATUSES = {
    "incoming": ("registered", "recalled"),
    "outgoing": ("draft", "issued", "cancelled", "recalled"),
}
PRIORITIES = ("normal", "urgent", "very_urgent", "flash")
SECRECY_RANKS = {level.value: rank for rank, level in enumerate(Clearance)}


class Sort(enum.Enum):
    """The orders a list can take; each ends with the id, so every position is unique."""

    REGISTERED_AT = "registered_at"  # arrival or issue; drafts (none yet) first when newest first
    ISSUED_DATE = "issued_date"
    NUMBER = "number"  # register year, then number (số đến / số)


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who reads, as the visibility predicate needs it: READ_ALL_ROLES see every document up to
    their clearance; others the documents whose reach holds one of their principals
    ("unit:<code>" of their units, "person:<id>")."""

    clearance_rank: int
    reads_all: bool
    principals: tuple[str, ...]
    drafts: bool = True  # False for an API key's reader (service.KEY_READER_ROLE)

    @classmethod
    def of(cls, reader: Reader) -> Viewer:
        """The reader as the predicate needs it: the same rule as `service.may_open`."""
        if reader.is_service:
            return cls(clearance_rank=SECRECY_RANKS["top_secret"], reads_all=True, principals=())
        return cls(
            clearance_rank=SECRECY_RANKS[reader.clearance.value],
            reads_all=reader.reads_all,
            principals=reader.principals,
            drafts=reader.sees_drafts,
        )


@dataclass(frozen=True, slots=True)
class Filter:
    """Filters of lists and search; every tuple empty means "any"."""

    direction: str | None = None
    document_types: tuple[str, ...] = ()
    registered_from: date | None = None  # Vietnam calendar days, both inclusive
    registered_to: date | None = None
    priorities: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    unit: str | None = None
    duplicates_only: bool = False
    secrecy: tuple[str, ...] = ()

    def validated(self) -> Filter:
        problems: dict[str, str] = {}
        if self.direction is not None and self.direction not in DIRECTIONS:
            problems["direction"] = "must be incoming or outgoing"
        for name, values in (
            ("document_types", self.document_types),
            ("priorities", self.priorities),
            ("statuses", self.statuses),
            ("secrecy", self.secrecy),
        ):
            if len(values) > FILTER_VALUES_MAX:
                problems[name] = f"at most {FILTER_VALUES_MAX} values"
        if any(
            not t.strip() or len(t) > TYPE_NAME_MAX or CONTROL_RE.search(t)
            for t in self.document_types
        ):
            problems["document_types"] = (
                f"each a type name of 1 to {TYPE_NAME_MAX} characters, no control characters"
            )
        if self.unit is not None and (
            not self.unit.strip() or len(self.unit) > UNIT_CODE_MAX or CONTROL_RE.search(self.unit)
        ):
            problems["unit"] = f"a unit code of 1 to {UNIT_CODE_MAX} characters"
        allowed_statuses = (
            STATUSES[self.direction]
            if self.direction in STATUSES
            else tuple(dict.fromkeys(s for group in STATUSES.values() for s in group))
        )
        if any(s not in allowed_statuses for s in self.statuses):
            problems["statuses"] = "each one of " + ", ".join(allowed_statuses)
        if any(p not in PRIORITIES for p in self.priorities):
            problems["priorities"] = "each one of " + ", ".join(PRIORITIES)
        if any(s not in SECRECY_RANKS for s in self.secrecy):
            problems["secrecy"] = "each one of " + ", ".join(SECRECY_RANKS)
        if (
            self.registered_from is not None
            and self.registered_to is not None
            and self.registered_from > self.registered_to
        ):
            problems["registered_to"] = "must not be before registered_from"
        if self.duplicates_only and self.direction == "outgoing":
            problems["duplicates_only"] = "only incoming documents have duplicates"
        if problems:
            raise invalid_fields(problems, reason="INVALID_FILTER")
        return self

    def registered_range(self, tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        """[start, end) instants of the date range, the days taken in `tz` (Vietnam time)."""
        start = datetime.combine(self.registered_from, time(), tz) if self.registered_from else None
        end = (
            datetime.combine(self.registered_to + timedelta(days=1), time(), tz)
            if self.registered_to
            else None
        )
        return start, end


# The days a filter may name: a registry's documents lie well inside them, and the instants of
# their Vietnam midnights (and the day after) exist in every driver and in PostgreSQL.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)


def parse_day(value: str, *, field_name: str) -> date | None:
    """A YYYY-MM-DD filter value from 1900-01-01 to 2999-12-31; empty is None."""
    if not value:
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        raise invalid_fields(
            {field_name: "must be a date YYYY-MM-DD"}, reason="INVALID_FILTER"
        ) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise invalid_fields(
            {field_name: f"must be from {FIRST_DAY} to {LAST_DAY}"}, reason="INVALID_FILTER"
        )
    return day


class TextMatch(enum.Enum):
    """How a search's terms are matched; the first that finds a page holds for its next pages.

    TYPED: as typed, the last word a prefix unless a number is sought (then every term whole).
    PREFIX_LAST: a number sought, the last word a prefix ("ke hoach 2025 chuyen doi s"): when
    TYPED found nothing and the last term is a word.
    CORRECTED: a typo: each word not in the vocabulary of the search replaced by the words of
    it it is nearest to, numbers as written (ADR 0009).
    FUZZY: a number sought and nothing else found: the number as written and the trigram
    similarity of the whole query to the document's head (a mangled ký hiệu)."""

    TYPED = "typed"
    PREFIX_LAST = "prefix_last"
    CORRECTED = "corrected"
    FUZZY = "fuzzy"


# A page token's mark of the match that found the first page (none for TYPED).
_MATCH_MARKS = {TextMatch.FUZZY: "z", TextMatch.PREFIX_LAST: "p", TextMatch.CORRECTED: "c"}


@dataclass(frozen=True, slots=True)
class Position:
    """Where the next page starts (the last row's sort key and id), and the total counted on
    the first page, carried so every page answers it without counting again."""

    keys: tuple[str | None, ...]
    id: str
    total: int
    total_exact: bool
    match: TextMatch = TextMatch.TYPED  # the match that found the first page
    # CORRECTED: a digest of the words the first page sought. The next pages correct again
    # and must come to the same words; the words themselves are not carried, since they may
    # come from documents the caller cannot open.
    corrected: str = ""


@dataclass(frozen=True, slots=True)
class DocumentQuery:
    filter: Filter = field(default_factory=Filter)
    terms: tuple[str, ...] = ()  # search only: query_terms of the search box
    text: str = ""  # the folded query (the terms joined), for the trigram branch
    sort: Sort = Sort.REGISTERED_AT
    ascending: bool = False
    page_size: int = PAGE_SIZE_DEFAULT
    after: Position | None = None
    # Set by the search (from the page token, or trying the next), never by the caller.
    match: TextMatch = TextMatch.TYPED
    # CORRECTED: each term's words of the vocabulary it may have meant, the term itself first
    # when it is a word of it or a number (set by the search from `search_words`).
    corrections: tuple[tuple[str, ...], ...] = ()
    # The last term typed as a prefix: the words of the vocabulary it begins, when they are
    # few (set by the search from `search_words`; empty: the prefix itself).
    last_words: tuple[str, ...] = ()
    # The last term typed as a prefix begins more words than are sought one by one: it is
    # tested on the rows the other terms find (set by the search from `search_words`).
    common_prefix: bool = False

    @property
    def has_number(self) -> bool:
        """A term that is a number: a số may be sought; it is matched whole, as written."""
        return any(term.isdigit() for term in self.terms)

    @property
    def total_cap(self) -> int:
        """Up to how many matches its total is exact."""
        return SEARCH_TOTAL_CAP if self.terms else TOTAL_CAP

    def fingerprint(self) -> str:
        """What a page token is bound to: the same filters, terms and order."""
        f = self.filter
        shape: dict[str, Any] = {
            "d": f.direction,
            "t": sorted(f.document_types),
            "f": f.registered_from.isoformat() if f.registered_from else None,
            "u": f.registered_to.isoformat() if f.registered_to else None,
            "p": sorted(f.priorities),
            "s": sorted(f.statuses),
            "n": f.unit,
            "x": f.duplicates_only,
            "c": sorted(f.secrecy),
            "q": list(self.terms),
            "o": self.sort.value,
            "a": self.ascending,
        }
        raw = json.dumps(shape, separators=(",", ":"), sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


def make_query(
    *,
    filter: Filter,
    q: str | None = None,
    sort: Sort = Sort.REGISTERED_AT,
    ascending: bool = False,
    requested_page_size: int = 0,
    page_token: str = "",
) -> DocumentQuery:
    """A validated query; a token from another query (or not ours) is INVALID_PAGE_TOKEN."""
    terms: tuple[str, ...] = ()
    if q is not None:
        try:
            terms = tuple(query_terms(q))
        except InvalidArgumentError as exc:
            raise invalid_fields(
                {v.field: v.description for v in exc.violations}, reason="INVALID_QUERY"
            ) from None
    query = DocumentQuery(
        filter=filter.validated(),
        terms=terms,
        text=" ".join(terms),
        sort=sort,
        ascending=ascending,
        page_size=page_size(requested_page_size, default=PAGE_SIZE_DEFAULT, maximum=PAGE_SIZE_MAX),
    )
    if not page_token:
        return query
    after = decode_position(page_token, fingerprint=query.fingerprint(), cap=query.total_cap)
    return replace(query, after=after, match=after.match)


def encode_position(position: Position, *, fingerprint: str) -> str:
    data = {
        "q": fingerprint,
        "k": json.dumps(list(position.keys)),
        "id": position.id,
        "t": str(position.total),
        "x": "1" if position.total_exact else "0",
    }
    if position.match in _MATCH_MARKS:
        data[_MATCH_MARKS[position.match]] = "1"
    if position.corrected:
        data["w"] = position.corrected
    return encode_token(data)


def corrections_digest(corrections: tuple[tuple[str, ...], ...]) -> str:
    """What a page token keeps of a search's corrected words: enough to tell the next pages
    corrected them the same way, not the words (a guess can only be confirmed, as by the
    time a search takes)."""
    raw = json.dumps([list(words) for words in corrections], separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def decode_position(token: str, *, fingerprint: str, cap: int) -> Position:
    data = decode_token(token)
    if data.get("q") != fingerprint:
        raise bad_token("was given for another query, filter or order: start from the first page")
    try:
        keys = json.loads(data["k"])
        total = int(data["t"])
        position_id = data["id"]
    except (KeyError, ValueError, RecursionError):
        raise bad_token() from None
    if (
        not isinstance(keys, list)
        or not all(k is None or isinstance(k, str) for k in keys)
        or not 0 <= total <= cap
        or not position_id
    ):
        raise bad_token()
    return Position(
        keys=tuple(keys),
        id=position_id,
        total=total,
        total_exact=data.get("x") == "1",
        match=next(
            (match for match, mark in _MATCH_MARKS.items() if data.get(mark) == "1"),
            TextMatch.TYPED,
        ),
        corrected=data.get("w", ""),
    )


@dataclass(frozen=True, slots=True)
class Summary:
    """One row of a list or search result (DocumentSummary)."""

    id: str
    direction: str
    status: str
    document_type: str
    subject: str
    code_number: str | None
    code_notation: str | None
    issued_date: date | None
    issuer_code: str | None
    issuer_name: str | None
    register_id: str | None
    number: int | None
    year: int | None
    registered_at: datetime | None
    priority: str
    secrecy: str
    unit: str | None
    received_via: str | None
    duplicate_count: int


@dataclass(frozen=True, slots=True)
class Page:
    documents: tuple[Summary, ...]
    next_page_token: str
    total: int
    total_exact: bool

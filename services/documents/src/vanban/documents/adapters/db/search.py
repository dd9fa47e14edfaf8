"""The one query builder of lists and search (ADR 0009 section 4).

Every statement carries the visibility predicate in its WHERE clause, rows and totals alike:
`secrecy_rank <= clearance AND (reads all OR reach && principals)`; nothing is filtered after
the database answered, so a total never counts what the caller may not open.

Text: the terms ANDed in `search_tsv`, the last one as a prefix as the box is being typed
(sought as the vocabulary's words it begins, `search_words`), unless the query holds a number:
a số/ký hiệu is typed whole ("QD-UBND 5" is 5, not 50..599, and "18 QD-UBND" is ubnd, not
ubnd*), so "QD-UBND 5" finds "05/QĐ-UBND" in any order. When that finds nothing on the first
page: with a number, its last word as a prefix, then the number as written with the trigram
word similarity of the whole query to `search_head` (a mangled ký hiệu); words alone, each
word not in the vocabulary replaced by the vocabulary's words within an edit or two of it (a
typo). ADR 0009 has the measurements behind each.

Order: the sort key, then the id, and the next page starts after the last row's (key, id):
keyset paging, no OFFSET, no duplicates or gaps between pages when rows are added meanwhile.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rapidfuzz.distance import OSA
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    any_,
    case,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, TEXT, VARCHAR
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.documents.adapters.db.indexing import is_vocabulary_word
from vanban.documents.adapters.db.tables import (
    SEARCH_INDEX_YEARS,
    documents,
    incoming_duplicates,
    search_words,
)
from vanban.documents.domain.model import DocumentStatus
from vanban.documents.domain.search import (
    FIRST_DAY,
    LAST_DAY,
    DocumentQuery,
    Filter,
    Page,
    Position,
    Sort,
    Summary,
    TextMatch,
    Viewer,
    corrections_digest,
    encode_position,
)
from vanban.platform.paging import bad_token

# As indexing.search_vector makes search_tsv; a constant of the SQL text, never a parameter.
_CONFIG: Any = literal_column("'simple'::regconfig")
# pg_trgm word similarity a number's query must reach in search_head (ADR 0009: "qd ubn 5" in
# "5 qd ubnd ve viec" is 0.89; unrelated numbers stay below 0.5).
WORD_SIMILARITY = 0.5

d = documents.c
_SORT_COLUMNS: dict[Sort, tuple[Any, ...]] = {
    Sort.REGISTERED_AT: (d.registered_at,),
    Sort.ISSUED_DATE: (d.issued_date,),
    Sort.NUMBER: (d.reg_year, d.reg_number),
}


def visible_to(viewer: Viewer) -> ColumnElement[bool]:
    """The visibility predicate: built per viewer so the planner sees plain conditions."""
    rank = d.secrecy_rank <= viewer.clearance_rank
    if not viewer.drafts:
        rank = and_(rank, d.status != DocumentStatus.DRAFT.value)
    if viewer.reads_all:
        return rank
    if not viewer.principals:
        return false()
    return and_(rank, d.reach.op("&&")(literal(list(viewer.principals), ARRAY(VARCHAR(100)))))


def last_is_prefix(terms: tuple[str, ...], match: TextMatch) -> bool:
    """Whether the last term is taken as a prefix: as the box is being typed, unless a number
    is sought (then in the retry only, and never a number itself)."""
    if not terms or match in (TextMatch.FUZZY, TextMatch.CORRECTED):
        return False
    if any(t.isdigit() for t in terms):
        return match is TextMatch.PREFIX_LAST and not terms[-1].isdigit()
    return True


def tsquery_text(
    terms: tuple[str, ...],
    *,
    match: TextMatch = TextMatch.TYPED,
    last_words: tuple[str, ...] = (),
) -> str:
    """'chuyen & doi & s:*': the last word a prefix, as the box is being typed; 'qd & ubnd & 5'
    or '18 & qd & ubnd': a query with a number is a số/ký hiệu, typed whole, so no term of it is
    a prefix ("ubnd:*" made GIN gather every ubnd document before the number could narrow them:
    0.1 s against 6 ms at 1M, ADR 0009). Terms are letters and digits only (search_terms), so no
    operator of tsquery syntax can come from the user. PREFIX_LAST: the retry of a query with
    a number whose whole terms found nothing ("ke hoach 2025 chuyen doi s"); a last term that is
    a number stays whole."""
    if not last_is_prefix(terms, match):
        return " & ".join(terms)
    if last_words:  # the words the prefix begins, whole: GIN skips through them (see _prepared)
        last = last_words[0] if len(last_words) == 1 else f"( {' | '.join(last_words)} )"
        return " & ".join([*terms[:-1], last])
    return " & ".join([*terms[:-1], f"{terms[-1]}:*"])


def corrected_tsquery_text(corrections: tuple[tuple[str, ...], ...]) -> str:
    """'ke & hoach & ( van | vat ) & ( s:* | so )': each term by the words it may have meant,
    the last one also as a prefix, as the box is being typed. Words of the vocabulary are
    letters and digits (lexemes of search texts), as terms are: no tsquery syntax."""
    groups = []
    for i, words in enumerate(corrections):
        last = i == len(corrections) - 1 and not words[0].isdigit()  # a number stays whole
        options = [f"{words[0]}:*", *words[1:]] if last else list(words)
        groups.append(options[0] if len(options) == 1 else f"( {' | '.join(options)} )")
    return " & ".join(groups)


def _tsquery_of(query: DocumentQuery) -> str:
    if query.match is TextMatch.CORRECTED:
        return corrected_tsquery_text(query.corrections)
    return tsquery_text(query.terms, match=query.match, last_words=query.last_words)


def matches_terms(tsv: Any, query: DocumentQuery) -> ColumnElement[bool]:
    """`tsv @@ to_tsquery(...)` of the query's terms, as its match takes them: for
    `search_tsv` itself, or for the column of the rows a walk or a count reads."""
    return tsv.op("@@")(func.to_tsquery(_CONFIG, _tsquery_of(query)))


def _prefix_off_index(query: DocumentQuery) -> bool:
    """Whether the last word's prefix is tested on the rows the other terms find instead of
    being looked up in GIN: in the retry of a number's last word, whose other terms hold the
    number, rare; and a prefix of words that begins more words than are sought one by one (a
    letter alone always). A prefix is a partial match: GIN gathers the rows of every word it
    begins (`vp:*`: most of the table) into one bitmap before the other terms can narrow it
    (at 1M: "287 bnv vp:*" 100 ms, "287 bnv" whole 3 ms; a reader by reach's "chuyen d" within
    a year 54 ms, tested on the rows of "chuyen" 7 ms). A prefix that begins no word never
    gets here (the vocabulary says the query finds nothing): "quyet dihn" tested so read every
    row of "quyet" (1.1 s; ADR 0009)."""
    return len(query.terms) > 1 and (query.match is TextMatch.PREFIX_LAST or query.common_prefix)


def text_match(query: DocumentQuery) -> ColumnElement[bool] | None:
    """The text test as the indexes serve it; within one registration year, with that year,
    so the year's own text index serves it (tables.SEARCH_INDEX_YEARS)."""
    match = _text_match(query)
    year = _one_year(query.filter)
    if match is None or year is None:
        return match
    # The numbering year is the Vietnam year of registered_at, as the range's days are. Here
    # only, not among the filters: there the planner ANDed the year's rows by other indexes
    # into every statement (at 1M a count went from 82 to 274 ms, ADR 0009).
    return and_(match, d.reg_year == year)


def _one_year(f: Filter) -> int | None:
    """The year the registration date range lies within, if it does."""
    if f.registered_from and f.registered_to and f.registered_from.year == f.registered_to.year:
        return f.registered_from.year
    return None


def _text_match(query: DocumentQuery) -> ColumnElement[bool] | None:
    if not query.terms:
        return None
    if query.match is not TextMatch.FUZZY:  # else the number's trigram branch, below
        if not _prefix_off_index(query):
            return matches_terms(d.search_tsv, query)
        others = func.to_tsquery(_CONFIG, " & ".join(query.terms[:-1]))
        # ts_match_vq is what `@@` calls; as a function, no index serves it, so it tests the
        # rows the index found for the other terms (its matches are among theirs).
        whole = _tsquery_of(query)
        return and_(
            d.search_tsv.op("@@")(others),
            func.ts_match_vq(d.search_tsv, func.to_tsquery(_CONFIG, whole)),
        )
    numbers = tuple(t for t in query.terms if t.isdigit())
    if not numbers:
        # Words alone are corrected against the vocabulary instead (CORRECTED): the trigram
        # similarity of the whole query to every head took 0.5-3 s at 1M, its GIN gathering
        # every head sharing a trigram. Never asked; nothing matches.
        return false()
    # A mistyped ký hiệu, but the number as written: trigrams of a ký hiệu alone match every
    # document of that series (measured: 0.1-0.15 s at 100k), the number narrows them first;
    # the similarity is then a test of those few rows, in a form no index serves (as `%>` the
    # planner ANDed the trigram bitmap of the whole series, 72 000 rows: 0.07-0.24 s at 1M).
    near = func.word_similarity(query.text, d.search_head) >= WORD_SIMILARITY
    return and_(d.search_tsv.op("@@")(func.to_tsquery(_CONFIG, " & ".join(numbers))), near)


def visible_duplicates(viewer: Viewer, document_id: Any) -> Select[Any]:
    """The earlier documents `document_id` warns of (a row per rule that matched) that the
    viewer is cleared for: a warning about a secret document would tell of its existence
    (ADR 0009, 3)."""
    earlier = documents.alias("earlier")
    return (
        select(incoming_duplicates.c.duplicate_of)
        .select_from(
            incoming_duplicates.join(earlier, earlier.c.id == incoming_duplicates.c.duplicate_of)
        )
        .where(
            incoming_duplicates.c.document_id == document_id,
            earlier.c.secrecy_rank <= viewer.clearance_rank,
        )
    )


def duplicate_count(viewer: Viewer, document_id: Any) -> Any:
    """The row's own count of `visible_duplicates` (each earlier document once, whichever rules
    matched), a scalar subquery correlated with the row: no FROM-clause subquery inside, which
    PostgreSQL cannot correlate (one such made every row show the count of the whole register's
    warnings, and took 0.2-0.3 s at 1M)."""
    return (
        visible_duplicates(viewer, document_id)
        .with_only_columns(
            func.count(incoming_duplicates.c.duplicate_of.distinct()), maintain_column_froms=False
        )
        .scalar_subquery()
        .label("duplicate_count")
    )


def filters(
    query: DocumentQuery, tz: ZoneInfo, viewer: Viewer | None = None
) -> list[ColumnElement[bool]]:
    f = query.filter
    where: list[ColumnElement[bool]] = []
    if f.direction:
        where.append(d.direction == f.direction)
    if f.document_types:
        where.append(d.document_type.in_(f.document_types))
    start, end = f.registered_range(tz)
    if start is not None:
        where.append(d.registered_at >= start)
    if end is not None:
        where.append(d.registered_at < end)
    if f.priorities:
        where.append(d.priority.in_(f.priorities))
    if f.statuses:
        where.append(d.status.in_(f.statuses))
    if f.secrecy:
        where.append(d.secrecy.in_(f.secrecy))
    if f.unit:
        where.append(d.unit_code == f.unit)
    if f.duplicates_only:
        assert viewer is not None, "whose duplicates: the viewer decides which count"
        where.append(visible_duplicates(viewer, d.id).correlate(documents).exists())
    return where


def _key_values(sort: Sort, keys: tuple[str | None, ...]) -> tuple[Any, ...] | None:
    """The typed sort key of a page token; None when the row had none (a draft)."""
    columns = _SORT_COLUMNS[sort]
    if len(keys) != len(columns):
        raise bad_token()
    if all(k is None for k in keys):
        return None
    if any(k is None for k in keys):
        raise bad_token()
    try:
        if sort is Sort.REGISTERED_AT:
            instant = datetime.fromisoformat(str(keys[0]))
            if instant.tzinfo is None or not FIRST_DAY <= instant.date() <= LAST_DAY:
                raise ValueError(keys[0])
            return (instant,)
        if sort is Sort.ISSUED_DATE:
            day = date.fromisoformat(str(keys[0]))
            if not FIRST_DAY <= day <= LAST_DAY:
                raise ValueError(keys[0])
            return (day,)
        numbers = tuple(int(str(k)) for k in keys)
        # Year and number: the columns' int4 and int8.
        if not (0 <= numbers[0] < 2**31 and 0 <= numbers[-1] < 2**63):
            raise ValueError(keys)
        return numbers
    except ValueError:
        raise bad_token() from None


def _key_strings(sort: Sort, row: Any) -> tuple[str | None, ...]:
    values = [row._mapping[c.name] for c in _SORT_COLUMNS[sort]]
    return tuple(
        None if v is None else v.isoformat() if hasattr(v, "isoformat") else str(v) for v in values
    )


def after(query: DocumentQuery, position: Position) -> ColumnElement[bool]:
    """Rows after `position` in the query's order: DESC puts rows without a key (drafts) first,
    ASC last, as PostgreSQL orders NULLs, so the btree index serves both."""
    columns = _SORT_COLUMNS[query.sort]
    keys = _key_values(query.sort, position.keys)
    first = columns[0]
    if query.ascending:
        if keys is None:
            return and_(first.is_(None), d.id > position.id)
        return or_(tuple_(*columns, d.id) > tuple_(*keys, position.id), first.is_(None))
    if keys is None:
        return or_(and_(first.is_(None), d.id < position.id), first.is_not(None))
    return tuple_(*columns, d.id) < tuple_(*keys, position.id)


def _order(query: DocumentQuery, rows: Any = d) -> list[Any]:
    """The list order over `documents`, or over `rows` that carry its columns (a subquery's)."""
    columns = [rows[c.name] for c in _SORT_COLUMNS[query.sort]] + [rows.id]
    return [c.asc() if query.ascending else c.desc() for c in columns]


_SUMMARY_COLUMNS = (
    d.id,
    d.direction,
    d.status,
    d.document_type,
    d.subject,
    d.code_number,
    d.code_notation,
    d.issued_date,
    d.issuer_code,
    d.issuer_name,
    d.register_id,
    d.reg_number,
    d.reg_year,
    d.registered_at,
    d.priority,
    d.secrecy,
    d.unit_code,
    d.received_via,
)


def _summary(row: Any) -> Summary:
    m = row._mapping
    return Summary(
        id=m["id"],
        direction=m["direction"],
        status=m["status"],
        document_type=m["document_type"],
        subject=m["subject"],
        code_number=m["code_number"],
        code_notation=m["code_notation"],
        issued_date=m["issued_date"],
        issuer_code=m["issuer_code"],
        issuer_name=m["issuer_name"],
        register_id=m["register_id"],
        number=m["reg_number"],
        year=m["reg_year"],
        registered_at=m["registered_at"],
        priority=m["priority"],
        secrecy=m["secrecy"],
        unit=m["unit_code"],
        received_via=m["received_via"],
        duplicate_count=m["duplicate_count"],
    )


# A reader by reach's matches within one year, gathered before any walk: up to this many, the
# page is sorted from them (a unit's matches of a year are a few hundred at 1M: 5-15 ms, where
# the walk through the year's rows in the list order took 20-40 ms).
YEAR_GATHER = 2000
# Rows of the list order a search page first looks through (see _walk).
WALK_ROWS = 4000
# Rows of the list order a total may read to find the cap + 1 matches (see _count).
COUNT_ROWS = 40_000


@dataclass(frozen=True, slots=True)
class Walked:
    rows: list[Any]
    depth: int  # how many rows of the list order held the page's matches and one more


async def _walk(
    session: AsyncSession,
    query: DocumentQuery,
    where: list[ColumnElement[bool]],
    viewer: Viewer,
) -> Walked | None:
    """The page from the newest `WALK_ROWS` visible, filtered rows (in the list order), when
    that many hold a full page of matches; None to run the whole query.

    Why: the planner estimates a tsquery of several words as if the words were independent
    ("chuyen & doi & so": 413 rows estimated, 28 481 found at 1M), so it fetches every match
    by bitmap and sorts them (0.3 s), where walking the order index until a page of matches
    is found takes milliseconds. A query whose matches are rarer than a page in WALK_ROWS
    falls through to the bitmap plan, which is then the right one.
    """
    depth = func.row_number().over(order_by=_order(query)).label("depth")
    # The text is tested as the rows are read and only its answer carried: a sorted walk (a
    # reader's rows come from the reach bitmap) sorted each row's tsvector with it.
    inner = (
        select(*_SUMMARY_COLUMNS, matches_terms(d.search_tsv, query).label("hit"), depth)
        .where(*where)
        .order_by(*_order(query))
        .limit(WALK_ROWS)
        .subquery("recent")
    )
    r = inner.c
    statement = (
        select(
            *(r[c.name] for c in _SUMMARY_COLUMNS),
            duplicate_count(viewer, r.id),
            r.depth,
        )
        .where(r.hit)
        .order_by(*_order(query, r))
        .limit(query.page_size + 1)
    )
    rows = (await session.execute(statement)).all()
    if len(rows) <= query.page_size:
        return None
    return Walked(list(rows), depth=rows[-1]._mapping["depth"])


async def _count(
    session: AsyncSession,
    query: DocumentQuery,
    where: list[ColumnElement[bool]],
    match: ColumnElement[bool] | None,
    walked: Walked | None,
    viewer: Viewer,
    tz: ZoneInfo,
) -> int:
    """How many rows `where` and `match` find, counted up to its cap + 1 (DocumentQuery.total_cap).

    Dense matches (the walk found a page and one more in `depth` rows) are counted by reading
    the visible, filtered rows and testing the text on each, which stops at the cap: when the
    walk's density says the cap is within COUNT_ROWS.
    Otherwise, and when that many rows did not hold the cap, the bitmap of the indexes counts;
    it is built whole before any LIMIT, which is cheap for rare matches and what made dense
    ones take 0.2-0.5 s at 1M (ADR 0009).
    A reader by reach's matches over more than one year are counted year by year instead
    (_count_by_year): their rows to read come from the reach's bitmap (62 000 rows for a unit
    at 1M, 30-60 ms), while a year's text index holds the reach and answers in a few ms."""
    if match is not None and not viewer.reads_all and _one_year(query.filter) is None:
        return await _count_by_year(session, query, where, match, datetime.now(tz).year)
    # Whole words within one year: their year's text index counts them in a few ms, where
    # reading the year's filtered rows took 20-30 ms at 1M; a prefix's partial match or ORed
    # words make that index's scan the slower (ADR 0009).
    one_year_words = _one_year(query.filter) is not None and _whole_words(query)
    if match is not None and walked is not None and not one_year_words:
        needed = (query.total_cap + 1) * walked.depth // len(walked.rows)
        if needed <= COUNT_ROWS:
            counted = await _count_by_reading(session, query, where, viewer)
            if counted is not None:
                return counted
    where = where if match is None else [*where, match]
    capped = select(literal(1)).where(*where).limit(query.total_cap + 1).subquery()
    return (await session.execute(select(func.count()).select_from(capped))).scalar_one()


def _whole_words(query: DocumentQuery) -> bool:
    """Whether the index is asked whole words only: no prefix (in the index or tested off it),
    no words ORed for one."""
    text = _tsquery_of(query)
    return "|" not in text and ":*" not in text


def _partial_match(query: DocumentQuery) -> bool:
    """Whether GIN is asked a prefix as a partial match (not tested on the other words' rows)."""
    return ":*" in _tsquery_of(query) and not _prefix_off_index(query)


async def _count_by_year(
    session: AsyncSession,
    query: DocumentQuery,
    where: list[ColumnElement[bool]],
    match: ColumnElement[bool],
    this_year: int,
) -> int:
    """`_count` year by year, newest first, each year by its own text index (which holds the
    reach), stopping at the cap + 1: one statement, a UNION ALL under a LIMIT, whose branches
    PostgreSQL runs in order and only while the cap is not reached; dense words settle it in the
    newest year. The rows no year's index holds (drafts, which have no registration year yet,
    and years outside tables.SEARCH_INDEX_YEARS) are the last branch."""
    cap = query.total_cap + 1
    years = [y for y in reversed(SEARCH_INDEX_YEARS) if y <= this_year] or [this_year]
    branches = [
        select(literal(1).label("one")).where(*where, match, d.reg_year == year).limit(cap)
        for year in years
    ]
    rest = or_(d.reg_year.is_(None), d.reg_year < years[-1], d.reg_year > years[0])
    branches.append(select(literal(1).label("one")).where(*where, match, rest).limit(cap))
    found = union_all(*branches).subquery("found")
    capped = select(found.c.one).limit(cap).subquery("capped")
    return (await session.execute(select(func.count()).select_from(capped))).scalar_one()


async def _count_by_reading(
    session: AsyncSession, query: DocumentQuery, where: list[ColumnElement[bool]], viewer: Viewer
) -> int | None:
    """The matches among COUNT_ROWS visible, filtered rows, stopping at the cap + 1; None
    when those rows held fewer than that and were not all there are to see.

    The rows: whichever COUNT_ROWS the access path of the visible, filtered rows gives, in its
    own order (a count needs none). Measured at 1M: in the list order, where the walk took its
    density, p95 went from 66 to 109 ms (clerk) and 123 to 196 ms (filtered), the index's order
    costing more per row than the table's; for a reader by reach, ordering sorted all of a
    unit's 62 000 rows (0.35 s). The LIMIT keeps the text test out of the subquery, so no GIN
    bitmap is built. One statement, one snapshot: the rows read and the rows there agree (the
    second is only counted when the first did not reach the cap)."""

    # One read of the rows, as they are pulled (a CTE is computed on demand and kept): the
    # matches stop pulling at the cap; only when they did not reach it are the rest counted.
    # Two subqueries each built the rows' bitmaps (a reader's reach: 20 ms each at 1M).
    read = (
        select(matches_terms(d.search_tsv, query).label("hit"))
        .where(*where)
        .limit(COUNT_ROWS)
        .cte("read")
        .prefix_with("MATERIALIZED")
    )
    matches = (
        select(func.count())
        .select_from(select(literal(1)).where(read.c.hit).limit(query.total_cap + 1).subquery())
        .scalar_subquery()
    )
    there = select(func.count()).select_from(read).scalar_subquery()
    # LIMIT 1: a subquery with a LIMIT is not pulled up, so `matches` runs once (pulled up,
    # each of its two uses below ran it).
    found = select(matches.label("matches")).limit(1).subquery()
    statement = select(
        found.c.matches,
        # Evaluated only when needed: PostgreSQL runs a CASE branch's subquery when reached.
        case((found.c.matches > query.total_cap, literal(None)), else_=there).label("there"),
    )
    counted, seen = (await session.execute(statement)).one()
    if counted > query.total_cap or seen < COUNT_ROWS:
        return int(counted)
    return None


async def _set_local(session: AsyncSession, **settings: str) -> None:
    """SET LOCAL of each setting, for the rest of the transaction, in one round trip."""
    names = list(settings)
    calls = ", ".join(f"set_config(:n{i}, :v{i}, true)" for i in range(len(names)))
    values = {f"n{i}": n for i, n in enumerate(names)} | {
        f"v{i}": settings[n] for i, n in enumerate(names)
    }
    await session.execute(text(f"SELECT {calls}"), values)


async def find_documents(
    session: AsyncSession, query: DocumentQuery, *, viewer: Viewer, tz: ZoneInfo
) -> Page:
    """One page of what `viewer` may see that matches `query`, with the total: the first page
    by the first match that finds one (TextMatch), the next pages by that same match."""
    # Plans for the values at hand: a generic plan of a prepared statement (asyncpg prepares
    # each) cannot know how common the searched words are, and picked plans 4x slower at 1M.
    # A page is a small read: compiling it (JIT, on by default where PostgreSQL has LLVM) took
    # 90 ms of a 350 ms count at 1M.
    await _set_local(session, plan_cache_mode="force_custom_plan", jit="off")
    if query.after is not None:
        _key_values(query.sort, query.after.keys)  # a forged key is refused before any read
    prepared = await _prepared(session, query)
    page = _NOTHING if prepared is None else await _page(session, prepared, viewer=viewer, tz=tz)
    if query.after is not None or page.documents or not query.terms:
        return page
    # Nothing for the terms as typed: with a number, perhaps the last word is still being
    # typed; else, or then too, a typo; with a number, last, a mangled ký hiệu.
    retries = [TextMatch.CORRECTED]
    if query.has_number:
        if not query.terms[-1].isdigit():
            retries.insert(0, TextMatch.PREFIX_LAST)
        retries.append(TextMatch.FUZZY)
    for match in retries:
        if match is TextMatch.FUZZY and await _typed_outside_filters(session, query, viewer, tz):
            break
        retry = await _prepared(session, replace(query, match=match))
        if retry is None:
            continue
        page = await _page(session, retry, viewer=viewer, tz=tz)
        if page.documents:
            break
    return page


async def _typed_outside_filters(
    session: AsyncSession, query: DocumentQuery, viewer: Viewer, tz: ZoneInfo
) -> bool:
    """Whether the số/ký hiệu as typed is among what the viewer may see, outside the filters
    that found nothing: then it was typed right, and no mangled one is guessed at.

    Why: "4 TB-UBND" sought among a year's Công văn finds nothing, and the trigram branch then
    offered every Công văn numbered 4 whose head looks like it (351 at 1M, 40-80 ms). Without
    filters the typed match is what already found nothing, so nothing is asked. Every filter
    is left out, the dates too: a số restarts each year, so one typed right is often in another
    year, and a guess among this year's would offer numbers the caller did not type. Only what
    the viewer may open is looked at: the answer must not tell them of a document they cannot."""
    if not filters(query, tz, viewer):
        return False
    match = _text_match(replace(query, match=TextMatch.TYPED))
    if match is None:
        return False
    statement = select(literal(1)).where(visible_to(viewer), match).limit(1)
    return (await session.execute(statement)).first() is not None


_NOTHING = Page(documents=(), next_page_token="", total=0, total_exact=True)
# A prefix beginning more words of the vocabulary than this stays a prefix (GIN's partial
# match); fewer are sought as those words, whole.
PREFIX_WORDS = 50


async def _prepared(session: AsyncSession, query: DocumentQuery) -> DocumentQuery | None:
    """The query as the index is asked it, from the vocabulary (`search_words`); None when it
    can match nothing. On every page alike, so the next pages ask what the first did.

    - A typo (CORRECTED): each term by the words it may have meant (_corrections).
    - A last word typed as a prefix: the words of the vocabulary it begins, when at most
      PREFIX_WORDS, sought whole; none: nothing can match. Why: GIN takes a prefix as a partial
      match, gathering the rows of every word it begins into one bitmap before the other terms
      narrow them ("giay moi hoi nghi:*": 125 ms at 1M), while whole words it skips through,
      guided by the rarest. Those words are all there: every writer of a text adds its words
      in the same transaction (a trigger on `documents`, migration e1f3a5c7b9d2)."""
    if query.match is TextMatch.FUZZY:
        return query
    if query.match is TextMatch.CORRECTED:
        corrections = await _corrections(session, query.terms)
        if query.after is not None and (
            corrections is None or corrections_digest(corrections) != query.after.corrected
        ):
            # The vocabulary gained a word since the first page that changes the correction:
            # these pages would not follow the first one.
            raise bad_token("the search's words have changed since: start from the first page")
        return None if corrections is None else replace(query, corrections=corrections)
    if not last_is_prefix(query.terms, query.match):
        return query
    prefix = query.terms[-1]
    letter = len(prefix) == 1 and "a" <= prefix <= "z"
    if not letter and not is_vocabulary_word(prefix):
        return query
    word = search_words.c.word
    # The words from the prefix up to the next prefix (byte order, the column's collation).
    after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    words = (
        (
            await session.execute(
                select(word)
                .where(word >= prefix, word < after)
                .order_by(word)
                .limit(PREFIX_WORDS + 1)
            )
        )
        .scalars()
        .all()
    )
    if letter:
        # The vocabulary keeps no word of one letter ("d" of "điểm d"): a letter that begins
        # no word is sought whole, by the index ("quyet w"); one that begins words is tested on
        # the rows the other words find. Its words are the commonest (GIN's union of 30 of
        # them took 40-60 ms at 1M, the bench's "thi xa c" and "tuyen s").
        return replace(query, common_prefix=True) if words else replace(query, last_words=(prefix,))
    if not words:
        return None
    if len(words) > PREFIX_WORDS:
        return replace(query, common_prefix=True)
    return replace(query, last_words=tuple(words))


# How many of a term's nearest words are kept: those within the edits allowed.
CORRECTIONS = 3
# Trigram similarity a vocabulary word needs to be looked at as a correction of a longer term
# (six letters or more, two edits allowed), and how many are looked at.
CANDIDATE_SIMILARITY = 0.3
CANDIDATES = 20


def _edits_allowed(term: str) -> int:
    """Typos a term may hold: one up to five letters, two from six (a swap of two neighbours
    is one: 'dihn' is 'dinh')."""
    return 1 if len(term) <= 5 else 2


_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def _one_edit(term: str) -> set[str]:
    """Every string one edit from `term` (a letter deleted, inserted, replaced, or two
    neighbours swapped): a short term's candidates, looked up by key. Trigrams are blind to
    a short word's swaps ('bnag' and 'bang' share one trigram of nine)."""
    splits = [(term[:i], term[i:]) for i in range(len(term) + 1)]
    return (
        {a + b[1:] for a, b in splits if b}
        | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        | {a + c + b[1:] for a, b in splits if b for c in _ALPHABET}
        | {a + c + b for a, b in splits for c in _ALPHABET}
    )


async def _corrections(
    session: AsyncSession, terms: tuple[str, ...]
) -> tuple[tuple[str, ...], ...] | None:
    """Each term with the words of the vocabulary it may have meant (itself first when it is
    one, or a number, or a term the vocabulary cannot hold: `is_vocabulary_word`). Candidates:
    for a term of five letters or fewer, the vocabulary's words one edit from it (looked up
    by key); longer, the most trigram-similar; kept when within `_edits_allowed` edits (OSA
    distance). None when some term has none, or none needed correcting (the query as typed
    already found nothing)."""
    word = search_words.c.word
    checked = [t for t in terms if not t.isdigit() and is_vocabulary_word(t)]
    known = (
        set((await session.execute(select(word).where(word.in_(checked)))).scalars().all())
        if checked
        else set()
    )
    unknown = [t for t in dict.fromkeys(checked) if t not in known]
    found: dict[str, list[str]] = {}
    short = [t for t in unknown if len(t) <= 5]
    if short:
        variants = sorted({v for t in short for v in _one_edit(t) if is_vocabulary_word(v)})
        # One array parameter: up to 32 terms' variants (12 000) as an IN list took 0.3-0.4 s.
        rows = await session.execute(
            select(word).where(word == any_(literal(variants, ARRAY(TEXT))))
        )
        for (w,) in rows:
            for t in short:
                if OSA.distance(t, w) <= 1:
                    found.setdefault(t, []).append(w)
    long = [t for t in unknown if len(t) > 5]
    if long:
        await _set_local(session, **{"pg_trgm.similarity_threshold": str(CANDIDATE_SIMILARITY)})
    for t in long:
        rows = await session.execute(
            select(word)
            .where(word.op("%")(t))
            .order_by(func.similarity(word, t).desc(), word)
            .limit(CANDIDATES)
        )
        found[t] = [w for (w,) in rows if OSA.distance(t, w) <= _edits_allowed(t)]
    corrections: list[tuple[str, ...]] = []
    for i, typed in enumerate(terms):
        if typed not in found:  # a word, a number, or a term the vocabulary cannot hold
            corrections.append((typed,))
            continue
        near = sorted(found[typed], key=lambda w: (OSA.distance(typed, w), w))[:CORRECTIONS]
        if i == len(terms) - 1:
            # Perhaps still being typed: itself (a prefix, corrected_tsquery_text) first.
            corrections.append((typed, *near))
            continue
        if not near:
            return None
        corrections.append(tuple(near))
    if all(c == (t,) for c, t in zip(corrections, terms, strict=True)):
        return None
    return tuple(corrections)


async def _capped_page(
    session: AsyncSession,
    query: DocumentQuery,
    where: list[ColumnElement[bool]],
    viewer: Viewer,
    gather: int | None = None,
) -> tuple[Sequence[Any] | None, int | None]:
    """The first page and how many matches there are from one gathering of the matches, when
    there are no more than `gather` (the total's cap unless told); (None, None) when there are
    more (the page is then not among the ones gathered, and the total is "more than").

    Why: the page (every match sorted) and the count each built the text's bitmap, the cost
    of a query the walk could not serve (at 1M: "07/BC-UBND" of one year, 77 + 66 ms; the
    text's bitmap is most of both). The matches' rows stop at the cap + 1, in one statement
    (one snapshot): the page is sorted from them, the total is their count."""
    gathered = (
        select(*_SUMMARY_COLUMNS)
        .where(*where)
        .limit((gather or query.total_cap) + 1)
        .cte("gathered")
        .prefix_with("MATERIALIZED")
    )
    g = gathered.c
    total = select(func.count()).select_from(gathered).scalar_subquery().label("gathered")
    statement = (
        select(*(g[c.name] for c in _SUMMARY_COLUMNS), duplicate_count(viewer, g.id), total)
        .order_by(*_order(query, g))
        .limit(query.page_size + 1)
    )
    rows = (await session.execute(statement)).all()
    counted = rows[0]._mapping["gathered"] if rows else 0
    if counted > (gather or query.total_cap):
        return None, None
    return rows, counted


def _seeks_number(query: DocumentQuery) -> bool:
    """A số/ký hiệu is sought: a number that is no year, and no word longer than a ký hiệu's
    parts (UBND, QĐ, BNV, VP...). Its rows are a handful a year. Not "ke hoach 2025" (a year
    is in the text of a large share of a year's documents) nor "quyet dinh 1" (a small number
    is in most bodies, next to common words): the walk serves those."""
    return any(t.isdigit() and not _YEAR.fullmatch(t) for t in query.terms) and all(
        t.isdigit() or len(t) <= NOTATION_PART for t in query.terms
    )


_YEAR = re.compile(r"(19|20)\d\d")
# The longest word of a ký hiệu (its parts are abbreviations: "UBND", "SNNPTNT" is seven).
NOTATION_PART = 7


async def _page(
    session: AsyncSession, query: DocumentQuery, *, viewer: Viewer, tz: ZoneInfo
) -> Page:
    where = [visible_to(viewer), *filters(query, tz, viewer)]
    match = text_match(query)
    fuzzy = query.match is TextMatch.FUZZY
    if match is not None and fuzzy:
        await _set_local(session, **{"pg_trgm.word_similarity_threshold": str(WORD_SIMILARITY)})
    # The page's rows: visible, filtered, after the position, and matching.
    positioned = [*where, *([] if query.after is None else [after(query, query.after)])]
    page_where = [*positioned, *([] if match is None else [match])]
    rows: Sequence[Any] | None = None
    walked: Walked | None = None
    walked_failed = False
    counted: int | None = None
    # A reader by reach within one year: the matches are gathered from the year's own text
    # index, which holds the reach (a few ms at 1M), before any walk; a walk reads the year's
    # rows in the list order and keeps the few the reach lets through (30-80 ms at 1M).
    gathered_first = (
        match is not None
        and query.after is None
        and not viewer.reads_all
        and not fuzzy
        and _one_year(query.filter) is not None
        and not _partial_match(query)
    )
    if gathered_first:
        rows, counted = await _capped_page(session, query, page_where, viewer, YEAR_GATHER)
    # More matches than the cap were gathered: the total is known to be "more than".
    over_cap = gathered_first and rows is None
    # Only the registration order has an index to walk (both directions, or one). A số is not
    # walked: its rows are a handful a year, so the walk would read its WALK_ROWS for nothing
    # (at 1M, 75-100 ms for a reader by reach) before the index finds them in a few.
    if (
        rows is None
        and match is not None
        and not fuzzy
        and query.sort is Sort.REGISTERED_AT
        and not _seeks_number(query)
    ):
        walked = await _walk(session, query, positioned, viewer)
        rows = None if walked is None else walked.rows
        walked_failed = walked is None
    # The matches are gathered when they are known to be few: the walk found no page among
    # the newest rows, or a số is sought. (Another order's dense matches would be gathered to
    # the cap and dropped.)
    if (
        rows is None
        and not gathered_first
        and match is not None
        and query.after is None
        and (walked_failed or _seeks_number(query))
    ):
        rows, counted = await _capped_page(session, query, page_where, viewer)
        over_cap = rows is None
    if rows is None:
        statement = (
            select(*_SUMMARY_COLUMNS, duplicate_count(viewer, d.id))
            .where(*page_where)
            .order_by(*_order(query))
            .limit(query.page_size + 1)
        )
        rows = (await session.execute(statement)).all()
    more = len(rows) > query.page_size
    rows = rows[: query.page_size]
    if query.after is not None:
        total, exact = query.after.total, query.after.total_exact
    elif counted is not None:
        total, exact = min(counted, query.total_cap), counted <= query.total_cap
    elif over_cap:
        total, exact = query.total_cap, False
    elif not more:
        total, exact = len(rows), True
    else:
        counted = await _count(session, query, where, match, walked, viewer, tz)
        total, exact = min(counted, query.total_cap), counted <= query.total_cap
    token = ""
    if more:
        last = rows[-1]
        token = encode_position(
            Position(
                keys=_key_strings(query.sort, last),
                id=last._mapping["id"],
                total=total,
                total_exact=exact,
                match=query.match,
                corrected=corrections_digest(query.corrections) if query.corrections else "",
            ),
            fingerprint=query.fingerprint(),
        )
    return Page(
        documents=tuple(_summary(r) for r in rows),
        next_page_token=token,
        total=total,
        total_exact=exact,
    )

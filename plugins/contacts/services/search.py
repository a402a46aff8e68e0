"""Quick search, advanced search and the likely-duplicate warning at creation.

Quick search rules (the seeds' "Trucs et astuces"):
- by last name (or structure name), first name, contact number or e-mail;
- case and accent insensitive ("celine" finds Céline, CELINE), hyphens and apostrophes count as
  spaces ("dupont rougier" finds DUPONT-ROUGIER);
- prefix completion ("dup" finds DUPONT, DUPONT SADIER, DUPONT-ROUGIER);
- ``*`` is a wildcard for any run of characters, and completion adds an implicit one at the end:
  "*pont" finds names containing "pont" (ending with it included), "du*t" names starting with "du"
  and containing a "t" after it;
- "Name, First name" narrows ("Dupont, j"); "dupont chantal" (no comma) also tries last name then
  first name;
- a query of digits is a contact number; a query with "@" is an e-mail (prefix);
- invalid contacts are hidden unless asked for; results sorted by name, first name, number through
  the stored sort columns ``Contact.sort_last`` / ``sort_first`` (``normalize.sort_key``: a space
  before a hyphen, as the seed lists DUPONT SADIER before DUPONT-ROUGIER); "*pont" gives the names
  ending with "pont" first, then those containing it;
- paged: ``quick_search_window`` takes ``offset`` and says whether more matches follow (``has_more``,
  from one row more than the page) and, when asked, how many match, counted up to ``COUNT_CAP``
  (beyond, a lower bound: ``total_is_exact`` false, "1 000+"); ``quick_search_page`` gives the page
  and that number.

The advanced search (the result list, the API's list, exports, likely duplicates) sorts in SQL by
the same columns ``(sort_last, sort_first, number)``, so ``OFFSET`` paging is exact and every list
of contacts has one order, on SQLite and PostgreSQL alike; it counts its matches the same way.

How it stays fast on 1,000,000 contacts: each branch (last-name prefix, first-name prefix…) gives its
first ``offset + limit + 1`` rows in the display order ``(sort_last, sort_first, number)``:

- a last-name prefix without a separator ("dup") is a range on ``sort_last`` itself: the index
  ``ix_contacts_contact_sort_name`` gives the rows in order and the walk stops at ``LIMIT``;
- any other branch is first *probed* (``_branch_forms``: its own index, or the trigram table for a
  ``*`` search, counts up to ``PROBE_CAP`` candidates, reading the index alone): with fewer, its
  matches are read and sorted (``sparse``); with more, walking the display-order index finds the
  page after about ``LIMIT × contacts ÷ PROBE_CAP`` entries (``dense``), testing the names on the
  sort columns the index holds before reading the table (``_dense_spec``).

The branches are merged in the same statement (``UNION ALL`` of the branches, then the page in the
same order), which also reads what the result label needs (the contact's columns and its main
address: no ORM object); the relays of the relays and members on the page come from one more
batched query. ``*`` searches use the trigram index (PostgreSQL: ``pg_trgm``; SQLite: the FTS5 table
``contacts_contact_trigram``, see ``plugins/contacts/models.py``). The count reads at most
``COUNT_CAP`` + 1 matches per branch, from the search indexes (which hold ``valid``).
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Integer, String, and_, bindparam, case, column, exists, func, literal_column, or_, select, table, union, union_all,
)
from sqlalchemy.orm import Session, aliased

from unidecode import unidecode

from coulisses import InvalidError
from coulisses.i18n import _

from plugins.contacts.models import (
    TRIGRAM_TABLE, Address, Contact, ContactCriterion, ContactLink, Criterion, display_name_of, trigram_table,
)
from plugins.contacts.services import validation as v
from plugins.contacts.services.normalize import next_prefix, normalize, normalize_email, phonetic_fr, sort_key

MAX_LIMIT = 1000  # the API's documented maximum (``SearchQuerySchema.limit``)
COUNT_CAP = 1000  # the quick search counts at most this many matches (the screens show "1 000+")
PROBE_CAP = 1000  # a branch with fewer matches sorts them; one with more walks the display order
# How a branch gives its first rows in the display order (``_branch_forms``):
ORDERED, SPARSE, DENSE = "ordered", "sparse", "dense"
# The display order of every list of contacts (``normalize.sort_key``; index ix_contacts_contact_sort_name).
DISPLAY_ORDER = (Contact.sort_last, Contact.sort_first, Contact.number)

__all__ = ["DISPLAY_ORDER", "advanced_search", "quick_search", "quick_search_page", "sort_key"]


@dataclass
class SearchHit:
    contact_id: int
    number: int
    label: str
    name: str
    first_name: str
    kind: str
    type_code: str
    role: str
    postal_code: str
    city: str
    country: str
    valid: bool
    status: str
    relay_name: str = ""


@dataclass
class QuickPage:
    """One page of the quick search (``quick_search_window``)."""

    hits: list[SearchHit]
    has_more: bool  # more matches after this page
    total: int | None  # None when not asked for; a lower bound when ``total_is_exact`` is false
    total_is_exact: bool = True


@dataclass
class ResultRow:
    contact_id: int
    number: int
    role: str
    role_label: str
    name: str
    relay_contact: str
    relay_number: int | None
    city: str
    address: str
    kind: str
    type_code: str
    valid: bool
    status: str
    email: str | None = None


@dataclass
class SearchPage:
    rows: list[ResultRow] = field(default_factory=list)
    total: int = 0  # a lower bound when ``total_is_exact`` is false (more than ``COUNT_CAP`` match)
    total_is_exact: bool = True
    has_more: bool = False  # more matches after this page


# --------------------------------------------------------------------------- conditions


# A condition is first a *spec*, a small tuple: ("range", column, low, high), ("notnull", column),
# ("like" | "notlike" | "eq", column, value), ("true", column) or ("and", [specs]). ``_sql`` makes
# it SQL with its values inline (the advanced search, exports); the quick search makes it SQL with
# numbered parameters once per *shape* (the spec without its values) and keeps the statement, so that
# a keystroke of the autocomplete costs the query, not the building of it.


def _sql(spec, binder=None, plain: bool = False):
    """The SQL of a condition spec: values inline, or parameters from ``binder`` (``_Binder``);
    ``plain``: the columns compared as expressions (``column || ''``), so that no index of theirs
    is used (a ``dense`` branch walks the display-order index instead: ``_branch_forms``)."""
    op = spec[0]
    if op == "and":
        return and_(*(_sql(part, binder, plain) for part in spec[1]))
    column = spec[1] if binder is None else Contact.__table__.c[spec[1].key]
    value = (lambda v: v) if binder is None else binder.param
    if op == "fts":  # SQLite: the contacts whose name holds these runs of characters (the trigram table)
        table = trigram_table()
        return Contact.__table__.c.id.in_(select(table.c.rowid).where(table.c.search_last.op("MATCH")(value(spec[2]))))
    if plain and op in ("range", "like", "notlike") and column.key.startswith("search_"):
        column = column.concat(literal_column("''", String))
    if op == "range":
        return and_(column >= value(spec[2]), column < value(spec[3]))
    if op == "notnull":
        return column.is_not(None)
    if op == "true":
        return column.is_(True)
    if op == "like":
        return column.like(value(spec[2]))
    if op == "notlike":
        return column.not_like(value(spec[2]))
    if op == "eq":
        return column == value(spec[2])
    raise ValueError(op)


def _fts_spec(spec):
    """SQLite: ``spec`` with each ``search_last LIKE`` pattern that holds a run of 3 characters or
    more also looked up in the trigram table (``models.TRIGRAM_TABLE``), which finds the names
    holding those runs without reading every name; the LIKE itself stays, so the result is the same."""
    if spec[0] == "and":
        return ("and", [_fts_spec(part) for part in spec[1]])
    if spec[0] == "like" and spec[1] is Contact.search_last:
        query = _trigram_query(spec[2])
        if query:
            return ("and", [("fts", spec[1], query), spec])
    return spec


def _trigram_query(pattern: str) -> str | None:
    """The trigram table's query for a LIKE pattern: its runs of 3 characters or more, each a phrase
    (``"%du%pont%"`` → ``"pont"``); None when no run is long enough. Normalised text holds only
    letters, digits and spaces, so no quoting is needed."""
    runs = [run for run in pattern.split("%") if len(run) >= 3]
    return " AND ".join(f'"{run}"' for run in runs) or None


def _probe_spec(spec):
    """What the probe of a branch counts (``_branch_forms``): its trigram look-up when it has one
    (the names holding the text: at least every match), else its own condition; never the
    visibility (an index alone answers)."""
    if spec[0] == "fts":
        return spec
    if spec[0] == "and":
        found = [part for part in map(_probe_spec, spec[1]) if part[0] == "fts"]
        if found:
            return found[0]
    return spec


def _counted_spec(spec):
    """A branch's condition for counting (order does not matter): a range on ``sort_last`` (a prefix
    without a separator) made the same range on ``search_last``, whose index also holds the first
    name and ``valid``, so that the count reads that index alone."""
    if spec[0] == "and":
        return ("and", [_counted_spec(part) for part in spec[1]])
    if spec[0] == "range" and spec[1] is Contact.sort_last:
        return ("range", Contact.search_last, spec[2], spec[3])
    return spec


def _dense_spec(spec):
    """A branch's condition for walking the display-order index: each test of a search column made,
    where it gives the same answer, on the sort column the index holds (``sort_last`` differs from
    ``search_last`` only by a hyphen where the latter has a space), so that the walk reads the
    table only for the contacts that pass; the search columns' indexes left aside (``plain``)."""
    op = spec[0]
    if op == "and":
        return ("and", [_dense_spec(part) for part in spec[1]])
    column = spec[1] if op != "true" else None
    sort = {"search_last": Contact.sort_last, "search_first": Contact.sort_first}.get(getattr(column, "key", None))
    if sort is None:
        return spec
    if op == "range" and " " not in spec[2]:
        return ("range", sort, spec[2], spec[3])
    if op == "range":  # "jean fr": the sort column lets through "jean-fr…" (and more), the range decides
        return ("and", [("like", sort, spec[2].replace(" ", "_") + "%"), spec])
    if op in ("like", "notlike") and " " not in spec[2]:
        return (op, sort, spec[2])
    if op == "like":  # a space: "_" on the sort column lets through a hyphen (and more), the LIKE decides
        return ("and", [("like", sort, spec[2].replace(" ", "_")), spec])
    return spec


_TRIGRAM_READY: set[str] = set()


def trigram_search_ready(session: Session) -> bool:
    """Whether this SQLite database has the trigram table (``models.create_trigram_search``:
    created with the contacts tables and by the migration contacts_0004); remembered once seen."""
    url = str(session.get_bind().url)
    if url in _TRIGRAM_READY:
        return True
    master = table("sqlite_master", column("name", String))
    found = session.execute(select(master.c.name).where(master.c.name == TRIGRAM_TABLE)).first()
    if found is not None:
        _TRIGRAM_READY.add(url)
    return found is not None


def _shape(spec) -> tuple:
    """A spec without its values (the key of the statements kept)."""
    if spec[0] == "and":
        return ("and", tuple(_shape(part) for part in spec[1]))
    return (spec[0], spec[1].key)


def _values(spec, out: list) -> list:
    """The values of a spec, in the order ``_sql`` numbers its parameters."""
    if spec[0] == "and":
        for part in spec[1]:
            _values(part, out)
    else:
        out.extend(spec[2:])
    return out


class _Binder:
    """Numbered parameters ``p0``, ``p1``… in the order ``_sql`` asks for them."""

    def __init__(self) -> None:
        self.count = 0

    def param(self, _value):
        name = f"p{self.count}"
        self.count += 1
        return bindparam(name)


def _prefix_spec(column, prefix: str):
    """``column`` starts with ``prefix``, as a range the btree serves on both databases."""
    if not prefix:
        return ("notnull", column)
    return ("range", column, prefix, next_prefix(prefix))


def _prefix(column, prefix: str):
    return _sql(_prefix_spec(column, prefix))


def _wildcard_pattern(text: str) -> str | None:
    """``"*pont"`` → ``"%pont%"``; ``"du*t"`` → ``"du%t%"``; None when nothing is left to search."""
    parts = [normalize(p) for p in text.split("*")]
    if not any(parts):
        return None
    pattern = "%".join(parts)
    if not pattern.endswith("%"):
        pattern += "%"
    return re.sub("%+", "%", pattern)


def _last_prefix_spec(text: str):
    """Last names (structure names) starting with the normalised ``text``. Without a separator in
    ``text`` this is the same range on ``sort_last`` (which differs from ``search_last`` only where
    the latter has a space), so the display-order index serves it and gives the rows in order."""
    if text and " " not in text:
        return _prefix_spec(Contact.sort_last, text)
    return _prefix_spec(Contact.search_last, text)


def _name_spec(column, text: str):
    """A name criterion: prefix (range) or wildcard (LIKE); None when nothing is left to search."""
    if column is Contact.search_last and "*" not in text:
        return _last_prefix_spec(normalize(text))
    if "*" in text:
        pattern = _wildcard_pattern(text)
        if pattern is None:
            return None
        head = pattern.split("%", 1)[0]
        cond = ("like", column, pattern)
        return ("and", [_prefix_spec(column, head), cond]) if head else cond
    return _prefix_spec(column, normalize(text))


def _name_condition(column, text: str):
    """A name criterion: prefix (range) or wildcard (LIKE)."""
    spec = _name_spec(column, text)
    return None if spec is None else _sql(spec)


def _visibility_specs(include_invalid: bool, type_code: str | None, kind: str | None) -> list:
    specs = []
    if not include_invalid:
        specs.append(("true", Contact.valid))
    if type_code:
        specs.append(("eq", Contact.type_code, type_code))
    if kind:
        specs.append(("eq", Contact.kind, kind))
    return specs


def _quick_branches(q: str) -> list[tuple[Any, list]]:
    """The branches of a quick search as SQL: ``(condition, order_by)`` pairs."""
    return [(_sql(spec), list(DISPLAY_ORDER)) for spec in _quick_branch_specs(q)]


def _quick_branch_specs(q: str) -> list:
    """The branches of a quick search, as condition specs. Every branch is fetched in the display
    order, so that its first ``offset + limit`` rows are the ones the merged page may need."""
    q = q.strip()
    if not q:
        return []
    digits = q.lstrip("#").strip()
    if digits.isdigit():
        return [("eq", Contact.number, int(digits))]
    if "@" in q:
        return [_prefix_spec(Contact.search_email, normalize_email(q) or "")]
    if "," in q:
        last, first = (part.strip() for part in q.split(",", 1))
        cond = _name_spec(Contact.search_last, last) if last else None
        if first:
            first_cond = _name_spec(Contact.search_first, first)
            cond = first_cond if cond is None else ("and", [cond, first_cond])
        return [cond] if cond is not None else []
    if "*" in q:
        cond = _name_spec(Contact.search_last, q)
        return [cond] if cond is not None else []
    text = normalize(q)
    if not text:
        return []
    branches = [_last_prefix_spec(text), _prefix_spec(Contact.search_first, text)]
    words = text.split()
    if len(words) > 1:
        # "dupont chantal": last name then first name, and "chantal dupont": first name then last.
        for i in range(1, len(words)):
            a, b = " ".join(words[:i]), " ".join(words[i:])
            branches.append(("and", [_last_prefix_spec(a), _prefix_spec(Contact.search_first, b)]))
            branches.append(("and", [_prefix_spec(Contact.search_first, a), _last_prefix_spec(b)]))
    return branches


def _ends_with_pattern(q: str) -> str | None:
    """``"*pont"`` → ``"%pont"`` (names ending with the text), None when the query is not a leading
    wildcard followed by plain text."""
    q = q.strip()
    if not q.startswith("*") or "*" in q[1:] or "," in q:
        return None
    text = normalize(q[1:])
    return f"%{text}" if text else None


def quick_condition(q: str):
    """The quick search as one SQL condition (for the advanced search's box and exports)."""
    conds = [_sql(spec) for spec in _quick_branch_specs(q)]
    if not conds:
        return None
    return or_(*conds)


# --------------------------------------------------------------------------- quick search


def quick_search(session: Session, q: str, *, limit: int = 20, include_invalid: bool = False,
                 type_code: str | None = None, kind: str | None = None) -> list[SearchHit]:
    """The quick search box (screen, API, autocomplete when selling). See the module docstring."""
    return quick_search_window(session, q, limit=limit, include_invalid=include_invalid, type_code=type_code,
                               kind=kind, with_total=False).hits


def quick_search_page(session: Session, q: str, *, limit: int = 20, offset: int = 0, include_invalid: bool = False,
                      type_code: str | None = None, kind: str | None = None, with_total: bool = True,
                      count_cap: int | None = COUNT_CAP) -> tuple[list[SearchHit], int | None]:
    """One page of the quick search and the number of matches (None when ``with_total`` is false);
    past ``count_cap`` matches the number is ``count_cap`` or more (``quick_search_window`` says
    whether it is exact)."""
    page = quick_search_window(session, q, limit=limit, offset=offset, include_invalid=include_invalid,
                               type_code=type_code, kind=kind, with_total=with_total, count_cap=count_cap)
    return page.hits, page.total


def quick_search_window(session: Session, q: str, *, limit: int = 20, offset: int = 0, include_invalid: bool = False,
                        type_code: str | None = None, kind: str | None = None, with_total: bool = True,
                        count_cap: int | None = COUNT_CAP) -> QuickPage:
    """One page of the quick search, whether more matches follow, and (``with_total``) how many match.

    Order: for ``*text``, names ending with the text first, then names containing it; then by the
    stored sort columns (name, first name) and the number. Each branch gives its first
    ``offset + limit + 1`` rows in that order (``_branch_forms``: walking the display-order index, or
    sorting the branch's few matches); the merge (in the same SQL statement) sorts them on the same
    key and cuts the page, one row more than asked telling whether more follow (``has_more``).

    The number of matches is counted only when the page does not tell it (a first page that holds
    every match is its own count), and at most ``count_cap`` + 1 of them are read: past ``count_cap``
    the total is a lower bound (``total_is_exact`` false; the screens show "1 000+"). ``count_cap``
    None counts every match."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset or 0))
    visible = _visibility_specs(include_invalid, type_code, kind)
    branches = _quick_branch_specs(q or "")
    if not branches:
        return QuickPage([], False, 0 if with_total else None, True)
    dialect = session.get_bind().dialect.name
    fts = dialect == "sqlite" and trigram_search_ready(session)
    ends = _ends_with_pattern(q or "")
    parts = []  # (spec, flag): "*pont": the names ending with the text first (flag 0), then the others
    if ends is not None:
        parts.append((("like", Contact.search_last, ends), 0))
        parts += [(("and", [spec, ("notlike", Contact.search_last, ends)]), 1) for spec in branches]
    else:
        parts += [(spec, 1) for spec in branches]
    forms = _branch_forms(session, parts, visible, fts)
    values = []
    for (spec, _flag), form in zip(parts, forms):
        _values(_form_spec(spec, form, fts), values)
        for v in visible:
            _values(v, values)
    params = {f"p{i}": v for i, v in enumerate(values)}
    params.update(fetch=offset + limit + 1, limit=limit + 1, offset=offset, cap=PROBE_CAP)
    key = ("page", dialect, tuple((_shape(_form_spec(spec, form, fts)), flag, form)
                                  for (spec, flag), form in zip(parts, forms)), tuple(map(_shape, visible)))
    stmt = _kept_statement(key, lambda: _page_statement(parts, forms, visible, fts))
    rows = session.execute(stmt, params).all()
    has_more = len(rows) > limit
    hits = _hits_from_rows(session, rows[:limit])
    if not with_total:
        return QuickPage(hits, has_more, None, True)
    if not has_more and (hits or offset == 0):
        return QuickPage(hits, False, offset + len(hits), True)
    total, exact = _count(session, branches, visible, fts, dialect, count_cap)
    if not exact:
        total = max(total, offset + len(hits) + (1 if has_more else 0))
    return QuickPage(hits, has_more, total, exact)


def _count(session: Session, branches, visible, fts: bool, dialect: str, cap: int | None) -> tuple[int, bool]:
    """The number of matches of a quick search's branches, and whether it is exact: with a ``cap``,
    each branch reads at most ``cap + 1`` matches (an index range stopped early), so the number is
    exact up to ``cap`` and "more than ``cap``" beyond."""
    specs = [_fts_spec(spec) if fts else spec for spec in map(_counted_spec, branches)]
    values = [v for spec in specs for v in _values(spec, []) + [x for s in visible for x in _values(s, [])]]
    params = {f"p{i}": v for i, v in enumerate(values)}
    if cap is None:
        key = ("count", dialect, tuple(map(_shape, specs)), tuple(map(_shape, visible)))
        return session.scalar(_kept_statement(key, lambda: _count_statement(specs, visible, False)), params), True
    key = ("count-capped", dialect, tuple(map(_shape, specs)), tuple(map(_shape, visible)))
    params["countcap"] = cap + 1
    found = session.scalar(_kept_statement(key, lambda: _count_statement(specs, visible, True)), params)
    return (found, True) if found <= cap else (cap, False)




def _is_ordered(spec) -> bool:
    """Whether the index serving ``spec`` gives its rows in the display order (a range on
    ``sort_last``, possibly narrowed, or one contact number)."""
    if spec[0] == "and":
        return _is_ordered(spec[1][0])
    return (spec[0] == "range" and spec[1] is Contact.sort_last) or (spec[0] == "eq" and spec[1] is Contact.number)


def _branch_forms(session: Session, parts, visible, fts: bool) -> list[str]:
    """How each branch of a quick search gives its first rows in the display order:

    - ``ordered``: its index (``ix_contacts_contact_sort_name``) gives them in that order; the walk
      stops at ``LIMIT``;
    - ``sparse``: fewer than ``PROBE_CAP`` contacts match (its own index, or the trigram index for a
      ``*`` search, finds them): they are read and sorted, a few hundred rows at most;
    - ``dense``: ``PROBE_CAP`` or more match (a short prefix of a first name, "*ier"…): walking the
      display-order index and testing each contact finds ``LIMIT`` of them after reading about
      ``LIMIT × contacts ÷ PROBE_CAP`` index entries at worst, instead of sorting every match.

    One statement counts, for every branch not ``ordered``, up to ``PROBE_CAP`` of its matches."""
    forms = [ORDERED if _is_ordered(spec) else None for spec, _flag in parts]
    probed = [i for i, form in enumerate(forms) if form is None]
    if not probed:
        return forms
    specs = [_probe_spec(_form_spec(parts[i][0], SPARSE, fts)) for i in probed]
    values = [v for spec in specs for v in _values(spec, [])]
    key = ("probe", session.get_bind().dialect.name, tuple(map(_shape, specs)))
    stmt = _kept_statement(key, lambda: _probe_statement(specs))
    params = {f"p{i}": v for i, v in enumerate(values)}
    params["cap"] = PROBE_CAP
    counts = session.execute(stmt, params).one()
    for i, found in zip(probed, counts):
        forms[i] = SPARSE if found < PROBE_CAP else DENSE
    return forms


def _form_spec(spec, form: str, fts: bool):
    """The condition of a branch as its form reads it: a ``sparse`` one on the search columns (whose
    indexes hold the name, the first name and ``valid``) and through the trigram table when there is
    one (SQLite), a ``dense`` one on the columns of the display-order index."""
    if form in (ORDERED, DENSE):  # walking the display-order index: test what it holds first
        return _dense_spec(spec)
    spec = _counted_spec(spec)
    return _fts_spec(spec) if fts and form == SPARSE else spec


_KEPT_STATEMENTS = 512  # shapes of quick searches (a few dozen in practice: one per number of words…)
_kept: dict[tuple, Any] = {}


def _kept_statement(key: tuple, build):
    """The statement of a quick search's shape, built once (``build()``) and kept."""
    stmt = _kept.get(key)
    if stmt is None:
        if len(_kept) >= _KEPT_STATEMENTS:
            _kept.clear()
        stmt = _kept[key] = build()
    return stmt


def _probe_statement(specs):
    """For each branch, how many contacts its probe finds, counting up to ``:cap`` (one scalar each)."""
    binder = _Binder()
    contact = Contact.__table__.c
    counts = []
    for spec in specs:
        if spec[0] == "fts":
            table = trigram_table()
            found = select(table.c.rowid).where(table.c.search_last.op("MATCH")(binder.param(spec[2])))
        else:
            found = select(contact.id).where(_sql(spec, binder))
        found = found.limit(bindparam("cap", type_=Integer)).subquery()
        counts.append(select(func.count()).select_from(found).scalar_subquery())
    return select(*counts)


def _count_statement(specs, visible, capped: bool):
    """The number of matches of a quick search (its branches' conditions joined by OR); ``capped``:
    the union of each branch's first ``:countcap`` matches (the count is exact below the cap)."""
    binder = _Binder()
    contact = Contact.__table__.c
    if not capped:
        cond = or_(*(_sql(spec, binder) for spec in specs))
        where = [cond, *(_sql(spec, binder) for spec in visible)]
        return select(func.count()).select_from(select(contact.id).where(*where).subquery())
    selects = []
    for spec in specs:
        where = [_sql(spec, binder), *(_sql(v, binder) for v in visible)]
        inner = select(contact.id).where(*where).limit(bindparam("countcap", type_=Integer)).subquery()
        selects.append(select(inner.c.id))
    found = (selects[0] if len(selects) == 1 else union(*selects)).subquery("found")
    return select(func.count()).select_from(found)


def _page_statement(parts, forms, visible, fts: bool):
    """One page of a quick search of this shape: each branch's first ``:fetch`` ids in the display
    order (its form: ``_branch_forms``), merged in the same statement (``UNION ALL``, a contact found
    twice kept once with its best flag), then the page in the merged order with the columns of its
    labels (``_hit_select``)."""
    contact = Contact.__table__.c
    order = (contact.sort_last, contact.sort_first, contact.number)
    binder = _Binder()
    selects = []
    for (spec, flag), form in zip(parts, forms):
        cond = _sql(_form_spec(spec, form, fts), binder, plain=form == DENSE)  # plain: search columns only
        where = [cond, *(_sql(v, binder) for v in visible)]
        if form == SPARSE:  # every match (fewer than :cap), then sorted
            found = select(contact.id, *order).where(*where).limit(bindparam("cap", type_=Integer)).subquery()
            inner = (select(found.c.id).order_by(found.c.sort_last, found.c.sort_first, found.c.number)
                     .limit(bindparam("fetch", type_=Integer)).subquery())
        else:  # the display-order index, walked until :fetch rows match
            inner = select(contact.id).where(*where).order_by(*order).limit(bindparam("fetch", type_=Integer)).subquery()
        selects.append(select(inner.c.id.label("id"), literal_column(str(int(flag)), Integer).label("flag")))
    found = (selects[0] if len(selects) == 1 else union_all(*selects)).subquery("found")
    page = (select(found.c.id, func.min(found.c.flag).label("flag")).group_by(found.c.id)).subquery("page")
    return (_hit_select(page).order_by(page.c.flag, contact.sort_last, contact.sort_first, contact.number)
            .limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer)))


def _hit_select(source=None):
    """The columns a search hit's label needs: the contact's and its main address's (the first
    ``main`` one, as ``Contact.main_address``), in one Core statement (no ORM objects), on the ids
    of ``source`` (a subquery with an ``id`` column), else on every contact."""
    contact, address, main = Contact.__table__, Address.__table__, Address.__table__.alias("main_address")
    first_main = (select(func.min(main.c.id)).where(main.c.contact_id == contact.c.id, main.c.usage == "main")
                  .correlate(contact).scalar_subquery())
    joined = source.join(contact, source.c.id == contact.c.id) if source is not None else contact
    return (select(*(contact.c[name] for name in _HIT_COLUMNS), address.c.postal_code, address.c.city,
                   address.c.country)
            .select_from(joined.outerjoin(address, and_(address.c.contact_id == contact.c.id,
                                                        address.c.id == first_main))))


_HIT_COLUMNS = ("id", "number", "kind", "type_code", "role", "last_name", "first_name", "structure_name", "valid",
                "customer_since")


@functools.cache
def _hits_by_id_statement():
    return _hit_select().where(Contact.__table__.c.id.in_(bindparam("ids", expanding=True)))


def hits_for(session: Session, ids: list[int]) -> list[SearchHit]:
    """Search hits (with their labels) for contact ids, in the given order."""
    if not ids:
        return []
    rows = {row.id: row for row in session.execute(_hits_by_id_statement(), {"ids": list(ids)})}
    return _hits_from_rows(session, [rows[i] for i in ids if i in rows])


def _hits_from_rows(session: Session, rows: list) -> list[SearchHit]:
    """Search hits from ``_hit_select`` rows (in their order): the labels, with one batched look-up
    of the relays of the relays and members among them."""
    from plugins.contacts.services.contacts import label_of
    from plugins.contacts.services.links import ROLE_LABELS, relay_names

    relays = relay_names(session, [r.id for r in rows if r.kind == "individual" and r.role in ("relay", "member")])
    hits = []
    for r in rows:
        display = display_name_of(r.kind, r.structure_name, r.last_name, r.first_name)
        relay = relays.get(r.id)
        role_label = None
        if relay:
            role_label = str(ROLE_LABELS["relay" if relay[1] == "relay_of" else "member"])
        hits.append(SearchHit(
            contact_id=r.id, number=r.number,
            label=label_of(display, r.number, r.country or "", r.postal_code,
                           relay[0] if relay else None, role_label),
            name=r.structure_name if r.kind == "structure" else r.last_name,
            first_name=r.first_name if r.kind == "individual" else "", kind=r.kind, type_code=r.type_code,
            role=r.role, postal_code=r.postal_code or "", city=r.city or "", country=r.country or "",
            valid=r.valid, status="customer" if r.customer_since is not None else "prospect",
            relay_name=relay[0] if relay else ""))
    return hits


# --------------------------------------------------------------------------- advanced search

ADVANCED_KEYS = (
    "q", "name", "number", "relay", "nature", "type_code", "phone", "email", "country", "postal_code", "city",
    "with_invalid", "with_prospects", "with_relays", "administrative_number", "criterion", "iban",
    "reference_code", "connection_type", "connection_with", "ambassadors_only",
)


def _truthy(value, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "oui", "on")


def advanced_condition(criteria: dict[str, Any], *, main_address=None) -> tuple[list, Any]:
    """The SQL conditions of an advanced search, and the main-address alias they use."""
    from plugins.contacts.registry import get_registry

    errors: dict[str, str] = {}
    addr = main_address if main_address is not None else aliased(Address)
    conds: list = []
    c = dict(criteria)

    def text(key) -> str:
        value = c.get(key)
        return str(value).strip() if value not in (None, "") else ""

    if text("q"):
        cond = quick_condition(text("q"))
        if cond is not None:
            conds.append(cond)
    if text("name"):
        name = text("name")
        if "," in name:
            last, first = (p.strip() for p in name.split(",", 1))
            if last:
                conds.append(_name_condition(Contact.search_last, last))
            if first:
                conds.append(_name_condition(Contact.search_first, first))
        else:
            cond = _name_condition(Contact.search_last, name)
            if cond is not None:
                conds.append(cond)
    if text("number"):
        try:
            conds.append(Contact.number == int(text("number")))
        except ValueError:
            errors["number"] = _("Numéro de contact : nombre attendu")
    if text("nature"):
        if text("nature") not in ("individual", "structure"):
            errors["nature"] = _("Nature : individuel (individual) ou structure (structure)")
        conds.append(Contact.kind == text("nature"))
    if text("type_code"):
        conds.append(Contact.type_code == text("type_code"))
    if text("phone"):
        try:
            number = v.parse_phone(text("phone"), text("country") or "FR")
            conds.append(or_(Contact.mobile_phone == number, Contact.phone == number, Contact.fax == number))
        except ValueError as exc:
            errors["phone"] = str(exc)
    if text("email"):
        conds.append(_prefix(Contact.search_email, normalize_email(text("email")) or ""))
    if text("country"):
        conds.append(addr.country == text("country").upper())
    if text("postal_code"):
        conds.append(_prefix(addr.postal_code, text("postal_code").upper()))
    if text("city"):
        conds.append(_name_condition(addr.search_city, text("city")))
    if not _truthy(c.get("with_invalid"), False):
        conds.append(Contact.valid.is_(True))
    if not _truthy(c.get("with_prospects"), True):
        conds.append(Contact.customer_since.is_not(None))
    if not _truthy(c.get("with_relays"), True):
        conds.append(Contact.role != "relay")
    if _truthy(c.get("ambassadors_only"), False):
        conds.append(Contact.ambassador.is_(True))
    if text("administrative_number"):
        conds.append(Contact.administrative_number == re.sub(r"[\s.-]", "", text("administrative_number")))
    if text("reference_code"):
        conds.append(func.lower(Contact.reference_code) == text("reference_code").lower())
    if text("criterion"):
        conds.append(exists().where(ContactCriterion.contact_id == Contact.id,
                                    ContactCriterion.criterion_id == Criterion.id,
                                    Criterion.code == text("criterion")))
    if text("iban"):
        flag = text("iban").lower()
        if flag in ("yes", "oui", "true", "1"):
            conds.append(Contact.iban.is_not(None))
        elif flag in ("no", "non", "false", "0"):
            conds.append(Contact.iban.is_(None))
        else:
            try:
                conds.append(Contact.iban == v.parse_iban(text("iban")))
            except ValueError as exc:
                errors["iban"] = str(exc)
    if text("relay"):
        other = aliased(Contact)
        rel = _name_condition(other.search_last, text("relay"))
        conds.append(or_(
            exists().where(ContactLink.kind == "relay_of", ContactLink.to_contact_id == Contact.id,
                           ContactLink.from_contact_id == other.id, rel),
            exists().where(ContactLink.kind == "relay_of", ContactLink.from_contact_id == Contact.id,
                           ContactLink.to_contact_id == other.id, rel),
        ))
    if text("connection_type") or text("connection_with"):
        kind = text("connection_type")
        other = aliased(Contact)
        link_conds = [or_(and_(ContactLink.from_contact_id == Contact.id, ContactLink.to_contact_id == other.id),
                          and_(ContactLink.to_contact_id == Contact.id, ContactLink.from_contact_id == other.id))]
        if kind:
            from plugins.contacts.models import LINK_KINDS

            if kind not in LINK_KINDS:
                errors["connection_type"] = _("Type de connexion : %(choices)s", choices=", ".join(LINK_KINDS))
            link_conds.append(ContactLink.kind == kind)
        if text("connection_with"):
            try:
                link_conds.append(other.number == int(text("connection_with")))
            except ValueError:
                errors["connection_with"] = _("Numéro de contact attendu")
        conds.append(exists().where(*link_conds))
    registry = get_registry()
    searchable = {f.name: f for t in registry.types.values() for f in t.fields if f.searchable}
    for key, value in c.items():
        if key.startswith("extra.") or key.startswith("extra_"):
            name = key[6:]
            if name not in searchable:
                errors[key] = _("Champ de type non cherchable")
            elif value not in (None, ""):
                conds.append(func.lower(Contact.extra[name].as_string()) == str(value).strip().lower())
        elif key not in ADVANCED_KEYS:
            errors[key] = _("Critère inconnu")
    if errors:
        raise InvalidError(_("La recherche n'est pas valide"), errors)
    return conds, addr


def advanced_search(session: Session, criteria: dict[str, Any], *, limit: int = 50, offset: int = 0,
                    with_total: bool = True, count_cap: int | None = COUNT_CAP) -> SearchPage:
    """The advanced search form of the seeds; result rows: number, role, name, relay contact, city,
    address. Unknown criteria are refused (``InvalidError``).

    ``has_more`` comes from reading one row more than the page; the number of matches is counted
    only when the page does not tell it, and then at most ``count_cap`` + 1 of them (past it the
    total is a lower bound, ``total_is_exact`` false: "1 000+"); ``count_cap`` None counts them all."""
    from plugins.contacts.services.links import ROLE_LABELS, relay_map

    limit = max(1, min(int(limit), 1000))
    addr = aliased(Address)
    conds, addr = advanced_condition(criteria, main_address=addr)
    base = (select(Contact, addr)
            .outerjoin(addr, and_(addr.contact_id == Contact.id, addr.usage == "main"))
            .where(*conds))
    order = list(DISPLAY_ORDER)
    ends = next((p for p in (_ends_with_pattern(str(criteria.get(k) or "")) for k in ("q", "name")) if p), None)
    if ends is not None:  # "*pont": names ending with "pont" first, then those containing it
        order.insert(0, case((Contact.search_last.like(ends), 0), else_=1))
    offset = max(0, int(offset))
    rows = session.execute(base.order_by(*order).limit(limit + 1).offset(offset)).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    total, exact = 0, True
    if with_total and not has_more and (rows or offset == 0):
        total = offset + len(rows)
    elif with_total:
        matches = select(Contact.id).outerjoin(addr, and_(addr.contact_id == Contact.id, addr.usage == "main")).where(*conds)
        if count_cap is not None:
            matches = matches.limit(count_cap + 1)
        total = session.scalar(select(func.count()).select_from(matches.subquery()))
        if count_cap is not None and total > count_cap:
            total, exact = max(count_cap, offset + len(rows) + (1 if has_more else 0)), False
    relays = relay_map(session, [r[0].id for r in rows])
    page = SearchPage(total=total, total_is_exact=exact, has_more=has_more)
    for contact, address in rows:
        relay = relays.get(contact.id)
        page.rows.append(ResultRow(
            contact_id=contact.id, number=contact.number, role=contact.role,
            role_label=str(ROLE_LABELS.get(contact.role, contact.role)), name=contact.display_name,
            relay_contact=relay[0].display_name if relay else "",
            relay_number=relay[0].number if relay else None,
            city=address.city if address else "",
            address=", ".join(p for p in ([*address.street_lines, f"{address.postal_code} {address.city}".strip()]
                                          if address else []) if p),
            kind=contact.kind, type_code=contact.type_code, valid=contact.valid, status=contact.status,
            email=contact.email))
    return page


# --------------------------------------------------------------------------- likely duplicates


def likely_duplicates(session: Session, data: dict[str, Any], limit: int = 10) -> list[SearchHit]:
    """Contacts that probably are the one about to be created (the warning of the creation form).

    A contact is proposed when it has the same e-mail, or the same phonetic last name (Dupont =
    Dupond) with a first name starting with the same letter and — when a postal code is given —
    a main address in that postal code (or the same mobile phone). Invalid contacts are ignored.
    """
    kind = "structure" if data.get("structure_name") and not data.get("last_name") else "individual"
    name = data.get("structure_name") if kind == "structure" else data.get("last_name")
    conds = []
    email = normalize_email(data.get("email"))
    if email:
        conds.append(Contact.search_email == email)
    mobile = None
    if data.get("mobile_phone"):
        try:
            mobile = v.parse_phone(data.get("mobile_phone"), data.get("country") or "FR")
        except ValueError:
            mobile = None
    if mobile:
        conds.append(Contact.mobile_phone == mobile)
    key = phonetic_fr(name)
    if key:
        name_cond = [Contact.phonetic_name == key, Contact.kind == kind]
        first = normalize(data.get("first_name"))
        if first and kind == "individual":
            name_cond.append(_prefix(Contact.search_first, first[0]))
        postal = str(data.get("postal_code") or "").strip()
        if postal:
            name_cond.append(exists().where(Address.contact_id == Contact.id, Address.usage == "main",
                                            Address.postal_code == postal))
        conds.append(and_(*name_cond))
    if not conds:
        return []
    ids = list(session.scalars(select(Contact.id).where(or_(*conds), Contact.valid.is_(True))
                               .order_by(*DISPLAY_ORDER).limit(limit)))
    return hits_for(session, ids)

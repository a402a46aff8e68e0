"""Ticket barcodes: 11 digits, a 10-digit payload and a Luhn check digit (``01010002748``).

Allocation: each order takes a run of consecutive payloads starting at a random base drawn with
``secrets`` among the 10^10 payloads, checked free with one range query on the unique barcode
index. So:
- barcodes are unique (the unique index is the guarantee; two concurrent orders drawing overlapping
  runs — odds ~ run size / 10^10 — fail on it and are retried by the client, HTTP 409);
- one order's barcodes say nothing of another's (the base is random): a forger must guess among
  10^10 payloads, of which only those sold are valid — access control checks the barcode against
  the database; the check digit guards what we generate, but look-ups find ANY stored barcode
  (tickets imported or issued elsewhere, the seed's ``01010002748``, do not follow our scheme);
- a group's tickets form a range: the cancellation basket takes "first..last" (``find_tickets_range``).
"""
from __future__ import annotations

import contextlib
import contextvars
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugins.sales.models import Ticket

PAYLOAD_DIGITS = 10
SPACE = 10 ** PAYLOAD_DIGITS


def check_digit(payload: str) -> str:
    """The Luhn check digit of a string of digits."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def make(payload: int) -> str:
    p = f"{payload:0{PAYLOAD_DIGITS}d}"
    return p + check_digit(p)


def is_valid(barcode: str) -> bool:
    return (isinstance(barcode, str) and len(barcode) == PAYLOAD_DIGITS + 1 and barcode.isdigit()
            and check_digit(barcode[:-1]) == barcode[-1])


_random_source: contextvars.ContextVar = contextvars.ContextVar("sales_barcode_random", default=None)


def _randbelow(n: int) -> int:
    source = _random_source.get()
    return source.randbelow(n) if source is not None else secrets.randbelow(n)


@contextlib.contextmanager
def random_source(source):
    """Within the block, barcodes are drawn from ``source`` (anything with ``randbelow(n)``) instead of
    ``secrets``: reproducible demo data. Production barcodes always come from ``secrets``."""
    token = _random_source.set(source)
    try:
        yield source
    finally:
        _random_source.reset(token)


def allocate(session: Session, count: int, *, attempts: int = 20) -> list[str]:
    """``count`` new barcodes, consecutive payloads from a random free base."""
    if count <= 0:
        return []
    for _ in range(attempts):
        base = _randbelow(SPACE - count)
        first, last = make(base), make(base + count - 1)
        taken = session.scalar(select(Ticket.id).where(Ticket.barcode >= first, Ticket.barcode <= last).limit(1))
        if taken is None:
            return [make(base + i) for i in range(count)]
    raise RuntimeError("could not find a free barcode range")  # pragma: no cover - 10^10 payloads

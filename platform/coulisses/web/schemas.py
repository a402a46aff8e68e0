"""Marshmallow fields with documented bounds, for every plugin's REST schemas.

Every identifier, number, offset, quantity, amount and text of a request has a range the OpenAPI
document states and the REST base checks before any query runs (422 naming the field)::

    from coulisses.web.schemas import Amount, Id, Int, Limit, Money, Number, Offset, SafeString

    class PledgeInSchema(Schema):
        contact = Number(load_default=None, allow_none=True)   # a contact number
        amount = Amount(required=True, minimum="0.01")          # "2420.00": a decimal string
        note = SafeString(max_length=2000, multiline=True, load_default="")
        quantity = Int(1, 100, load_default=1)                  # 1.5 is refused, never truncated

- ``Int(minimum, maximum)``: a whole number. In a JSON body, a JSON integer only (``1.5``, ``"2"``,
  ``true`` refused); in a query string or a path, its decimal digits.
- ``Id`` (1…2 147 483 647: a row's id), ``Number`` (1…2^53−1: a number people read, such as a
  contact or an order number), ``Limit(default, maximum)``, ``Offset`` (0…2 147 483 647).
- ``Amount``: an amount sent as a decimal string matching ``AMOUNT_PATTERN`` (``"1e3"`` and JSON
  numbers refused), at most ``MAX_AMOUNT`` in absolute value and no more decimals than the currency
  has; loads as a ``Decimal``.
- ``Money`` (responses): a ``Decimal`` sent as a plain decimal string (``"2420.00"``, never ``1E+3``);
  ``DecimalString`` the same for other decimal values (indicators).
- ``SafeString(max_length, multiline=False)``: text without control characters (tab and line breaks
  only when ``multiline``), at most ``max_length`` characters.
"""
from __future__ import annotations

import contextlib
import contextvars
import re
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, validate

from coulisses.db import to_money
from coulisses.i18n import _
from coulisses.web.inputs import MULTILINE_PATTERN, SINGLE_LINE_PATTERN, text_problem

INT32_MAX = 2**31 - 1
ID_MAX = INT32_MAX
NUMBER_MAX = 2**53 - 1  # the largest integer every JSON client reads exactly
OFFSET_MAX = INT32_MAX
MAX_AMOUNT = Decimal("999999999.99")
AMOUNT_PATTERN = r"^-?[0-9]{1,9}(\.[0-9]{1,3})?$"
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"

_text_input: contextvars.ContextVar[bool] = contextvars.ContextVar("coulisses_text_input", default=False)
_DIGITS = re.compile(r"[+-]?[0-9]{1,20}")


@contextlib.contextmanager
def text_input():
    """Load a query string or path parameters: integers arrive as their digits (the REST base uses it)."""
    token = _text_input.set(True)
    try:
        yield
    finally:
        _text_input.reset(token)


class Int(fields.Integer):
    """A whole number between ``minimum`` and ``maximum`` (both included)."""

    default_error_messages = {"invalid": "Not a whole number."}

    def __init__(self, minimum: int | None = 0, maximum: int | None = INT32_MAX, **kwargs: Any):
        extra = kwargs.pop("validate", None)
        validators = [validate.Range(minimum, maximum)]
        if extra is not None:
            validators.extend(extra if isinstance(extra, (list, tuple)) else [extra])
        super().__init__(validate=validators, **kwargs)

    def _validated(self, value: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        if isinstance(value, int):
            return value
        if isinstance(value, str) and _text_input.get() and _DIGITS.fullmatch(value.strip()):
            return int(value.strip())
        raise self.make_error("invalid", input=value)


def Id(**kwargs: Any) -> Int:  # noqa: N802 - a field factory
    """The id of a row (1…2 147 483 647)."""
    return Int(1, ID_MAX, **kwargs)


def Number(**kwargs: Any) -> Int:  # noqa: N802 - a field factory
    """A number people read: a contact's, an order's (1…2^53−1)."""
    return Int(1, NUMBER_MAX, **kwargs)


def Limit(default: int = 50, maximum: int = 1000, **kwargs: Any) -> Int:  # noqa: N802
    """How many rows to return (1…``maximum``)."""
    return Int(1, maximum, load_default=default, **kwargs)


def Offset(**kwargs: Any) -> Int:  # noqa: N802 - a field factory
    """How many rows to skip (0…2 147 483 647)."""
    return Int(0, OFFSET_MAX, load_default=0, **kwargs)


class SafeString(fields.String):
    """Text without control characters, at most ``max_length`` characters; ``multiline`` allows tabs
    and line breaks."""

    def __init__(self, max_length: int | None = 200, *, multiline: bool = False, min_length: int | None = None,
                 **kwargs: Any):
        self.multiline = multiline
        extra = kwargs.pop("validate", None)
        validators: list = []
        if max_length is not None or min_length is not None:
            validators.append(validate.Length(min=min_length, max=max_length))
        if extra is not None:
            validators.extend(extra if isinstance(extra, (list, tuple)) else [extra])
        metadata = {"pattern": MULTILINE_PATTERN if multiline else SINGLE_LINE_PATTERN, **kwargs.pop("metadata", {})}
        super().__init__(validate=validators, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = text_problem(text, multiline=self.multiline)
        if problem:
            raise ValidationError(problem)
        return text


class Amount(fields.String):
    """An amount in a request: a decimal string (``"2420.00"``), loaded as a ``Decimal``."""

    def __init__(self, *, minimum: Any = None, maximum: Any = MAX_AMOUNT, **kwargs: Any):
        self.minimum = Decimal(str(minimum)) if minimum is not None else -Decimal(str(maximum))
        self.maximum = Decimal(str(maximum))
        description = (f"An amount as a decimal string (\"2420.00\"), from {self.minimum} to {self.maximum}, "
                       "with at most the currency's decimals")
        metadata = {"pattern": AMOUNT_PATTERN, "example": "2420.00", "description": description,
                    **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:
        if not isinstance(value, str):
            raise ValidationError(_("Un montant s'écrit comme un texte décimal, par exemple \"20.00\" (pas un nombre JSON)."))
        if not re.fullmatch(AMOUNT_PATTERN, value):
            raise ValidationError(_("Ce n'est pas un montant : écrivez-le comme \"2420.00\"."))
        try:
            amount = to_money(value)
        except (TypeError, ValueError) as exc:
            raise ValidationError(str(exc)) from None
        if not self.minimum <= amount <= self.maximum:
            raise ValidationError(_("Doit être compris entre %(min)s et %(max)s.", min=self.minimum, max=self.maximum))
        return amount

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else _plain(value)


def _plain(value: Any) -> str:
    return format(Decimal(value), "f")


class DecimalString(fields.Decimal):
    """A decimal value sent as a plain decimal string (``"12.5"``, never ``"1.25E+1"``)."""

    def __init__(self, **kwargs: Any):
        metadata = {"type": "string", "pattern": DECIMAL_PATTERN, "example": "12.50", **kwargs.pop("metadata", {})}
        super().__init__(as_string=True, metadata=metadata, **kwargs)

    def _to_string(self, value) -> str:
        return _plain(value)


class Money(DecimalString):
    """An amount in a response, as a decimal string (``"2420.00"``); never a JSON number."""

    def __init__(self, **kwargs: Any):
        metadata = {"description": "An amount as a decimal string, e.g. \"2420.00\"", "example": "2420.00",
                    **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

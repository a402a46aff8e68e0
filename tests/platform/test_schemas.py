"""The host's bounded marshmallow fields (``coulisses.web.schemas``): what they load, what they refuse
and what the OpenAPI document says of them."""
from __future__ import annotations

from decimal import Decimal

import pytest
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, ValidationError

from coulisses.web.schemas import (
    Amount, DecimalString, Id, Int, Limit, Money, Number, Offset, SafeString, text_input,
)


class In(Schema):
    id = Id(load_default=None)
    number = Number(load_default=None)
    quantity = Int(1, 5000, load_default=1)
    limit = Limit(20, 100)
    offset = Offset()
    amount = Amount(load_default=None)
    name = SafeString(max_length=10, load_default="")
    note = SafeString(max_length=100, multiline=True, load_default="")


class Out(Schema):
    amount = Money()
    value = DecimalString(allow_none=True)


def errors_of(data, query=False) -> dict:
    try:
        if query:
            with text_input():
                In().load(data)
        else:
            In().load(data)
    except ValidationError as exc:
        return exc.messages
    return {}


def test_defaults_and_good_values_load():
    loaded = In().load({"id": 7, "number": 2**53 - 1, "quantity": 3, "amount": "-12.50", "name": "Dupont",
                        "note": "a\n\tb"})
    assert loaded == {"id": 7, "number": 2**53 - 1, "quantity": 3, "limit": 20, "offset": 0,
                      "amount": Decimal("-12.50"), "name": "Dupont", "note": "a\n\tb"}


@pytest.mark.parametrize("field, value", [
    ("id", 0), ("id", 2**31), ("id", 9223372036854775808), ("number", 2**53), ("quantity", 1.5),
    ("quantity", 2.0), ("quantity", "2"), ("quantity", True), ("quantity", 0), ("quantity", 5001),
    ("limit", 101), ("offset", -1), ("offset", 2**31),
])
def test_integers_are_whole_and_within_their_range(field, value):
    assert field in errors_of({field: value})


def test_a_query_string_gives_integers_as_digits_but_never_a_fraction():
    with text_input():
        assert In().load({"quantity": "12", "offset": "0"})["quantity"] == 12
    for value in ("1.5", "1e3", "", "0x10", "12a", "9" * 30):
        assert "quantity" in errors_of({"quantity": value}, query=True), value


@pytest.mark.parametrize("value, problem", [
    ("1e3", "Ce n'est pas un montant"), ("92233720368547758.08", "Ce n'est pas un montant"), ("1000000000.00", "Ce n'est pas un montant"),
    ("12.345", "decimal places"), (12.5, "texte décimal"), (12, "texte décimal"), (" 12.00", "Ce n'est pas un montant"),
    ("NaN", "Ce n'est pas un montant"), ("-999999999.999", "decimal places"),
])
def test_amounts_are_decimal_strings_with_a_documented_maximum(value, problem):
    assert problem in " ".join(errors_of({"amount": value})["amount"])


def test_amount_bounds():
    class Pay(Schema):
        amount = Amount(minimum="0.01", maximum="500.00")

    assert Pay().load({"amount": "500.00"})["amount"] == Decimal("500.00")
    for value in ("0.00", "500.01", "-1.00"):
        with pytest.raises(ValidationError):
            Pay().load({"amount": value})


@pytest.mark.parametrize("field, value", [
    ("name", "a\x00b"), ("name", "tab\there"), ("name", "two\nlines"), ("name", "x" * 11), ("note", "\ud800"),
    ("note", "esc\x1b[0m"), ("note", "c1\x85"), ("note", "x" * 101),
])
def test_text_refuses_control_characters_and_is_bounded(field, value):
    assert field in errors_of({field: value})


def test_responses_send_decimals_as_plain_strings():
    assert Out().dump({"amount": Decimal("2420.00"), "value": Decimal("1E+3")}) == {"amount": "2420.00",
                                                                                     "value": "1000"}
    assert Out().dump({"amount": Decimal("-0.50"), "value": Decimal("1E-7")})["value"] == "0.0000001"


def test_the_openapi_document_states_every_bound():
    spec = APISpec("t", "1", "3.0.3", plugins=[MarshmallowPlugin()])
    spec.components.schema("In", schema=In)
    spec.components.schema("Out", schema=Out)
    props = spec.to_dict()["components"]["schemas"]["In"]["properties"]
    assert props["id"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1, "default": None, "nullable": True}
    assert props["number"]["maximum"] == 2**53 - 1
    assert props["quantity"]["minimum"] == 1 and props["quantity"]["maximum"] == 5000
    assert props["offset"]["minimum"] == 0 and props["limit"]["maximum"] == 100
    assert props["amount"]["type"] == "string" and props["amount"]["pattern"] == r"^-?[0-9]{1,9}(\.[0-9]{1,3})?$"
    assert "999999999.99" in props["amount"]["description"]
    assert props["name"]["maxLength"] == 10 and props["name"]["pattern"].startswith("^[^")
    out = spec.to_dict()["components"]["schemas"]["Out"]["properties"]
    assert out["amount"]["type"] == "string" and out["value"]["type"] == "string"

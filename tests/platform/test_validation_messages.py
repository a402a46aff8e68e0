"""Marshmallow's English messages reach an API client whole in its language, never half translated."""
from __future__ import annotations

import pytest
from marshmallow import Schema, ValidationError, fields, validate

from coulisses.i18n import use_locale
from coulisses.web.validation_messages import translate


class Page(Schema):
    offset = fields.Integer(validate=validate.Range(min=0, max=2147483647))
    quantity = fields.Integer(validate=validate.Range(min=1))


@pytest.mark.parametrize("locale, both, lower", [
    ("fr", "Doit être compris entre 0 et 2147483647.", "Doit être supérieur ou égal à 1."),
    ("en", "Must be between 0 and 2147483647.", "Must be greater than or equal to 1."),
    ("es", "Debe estar entre 0 y 2147483647.", "Debe ser mayor o igual que 1."),
])
def test_a_range_with_two_bounds_is_translated_whole(locale, both, lower):
    with pytest.raises(ValidationError) as refused:
        Page().load({"offset": -1, "quantity": 0})
    with use_locale(locale):
        messages = translate(refused.value.messages)
    assert messages == {"offset": [both], "quantity": [lower]}

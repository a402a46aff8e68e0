"""The host's admin form fields: ``MoneyField`` (amounts as people type them) and
``LocalDateTimeField`` (moments stored in UTC, typed and shown in the deployment's time zone), and
the converter that gives every ``UTCDateTime`` column the latter."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form

from coulisses.config import use_config
from coulisses.web.admin import LocalDateTimeField, MoneyField, local_datetime_formatter


class F(Form):
    at = LocalDateTimeField()
    amount = MoneyField(places=2)


def typed(**values):
    return F(MultiDict(values))


@pytest.mark.parametrize("text, utc", [
    ("02.11.2015 20:15", datetime(2015, 11, 2, 19, 15, tzinfo=timezone.utc)),   # winter: UTC+1
    ("28.09.2015 17:03", datetime(2015, 9, 28, 15, 3, tzinfo=timezone.utc)),    # summer: UTC+2
    ("2015-11-02 20:15", datetime(2015, 11, 2, 19, 15, tzinfo=timezone.utc)),
    ("2015-11-02T20:15", datetime(2015, 11, 2, 19, 15, tzinfo=timezone.utc)),
    ("25.10.2015 02:30", datetime(2015, 10, 25, 0, 30, tzinfo=timezone.utc)),   # the repeated hour: the first
])
def test_local_datetime_is_typed_in_paris_and_stored_in_utc(text, utc):
    with use_config({"TIMEZONE": "Europe/Paris"}):
        form = typed(at=text)
        assert form.validate(), form.errors
        assert form.at.data == utc and form.at.data.tzinfo is not None


def test_local_datetime_is_shown_back_in_local_time_and_follows_the_configured_zone():
    with use_config({"TIMEZONE": "Europe/Paris"}):
        form = F(data={"at": datetime(2015, 11, 2, 19, 15, tzinfo=timezone.utc)})
        assert form.at._value() == "02.11.2015 20:15"
        assert local_datetime_formatter(None, datetime(2015, 9, 28, 15, 3, tzinfo=timezone.utc)) == "28.09.2015 17:03"
    with use_config({"TIMEZONE": "America/New_York"}):
        assert F(data={"at": datetime(2015, 11, 2, 19, 15, tzinfo=timezone.utc)}).at._value() == "02.11.2015 14:15"


def test_local_datetime_refuses_a_wrong_text_or_a_time_that_does_not_exist():
    with use_config({"TIMEZONE": "Europe/Paris"}):
        form = typed(at="le 2 novembre")
        assert not form.validate()
        assert "jj.mm.aaaa hh:mm" in form.errors["at"][0]
        assert form.at._value() == "le 2 novembre"  # what was typed stays in the box
        form = typed(at="29.03.2015 02:30")  # clocks go from 02:00 to 03:00
        assert not form.validate() and "changement d'heure" in form.errors["at"][0]
        assert typed(at="").at.data is None


@pytest.mark.parametrize("text, amount", [("1 500,50", "1500.50"), ("1500.50", "1500.50"), ("110", "110.00"),
                                          ("2\u202f420,00", "2420.00")])
def test_money_field_takes_amounts_as_people_type_them(text, amount):
    form = typed(amount=text)
    assert form.validate(), form.errors
    assert form.amount.data == Decimal(amount)


def test_money_field_refuses_more_decimals_than_the_currency():
    form = typed(amount="12,345")
    assert not form.validate() and form.amount.data is None


def test_the_converter_gives_utc_columns_the_local_field():
    from sqlalchemy import Column

    from coulisses.db import UTCDateTime
    from coulisses.web.admin import CoulissesModelConverter

    converter = CoulissesModelConverter(None, None)
    column = Column("starts_at", UTCDateTime(), nullable=False)
    field = converter.get_converter(column)(column=column, field_args={"validators": []})
    assert field.field_class is LocalDateTimeField


@pytest.mark.parametrize("locale, shown, placeholder, error", [
    ("en", "28/09/2015 17:03", "dd/mm/yyyy hh:mm", "Date and time expected as dd/mm/yyyy hh:mm (e.g. 02/11/2015 20:15)"),
    ("es", "28/09/2015 17:03", "dd/mm/aaaa hh:mm",
     "Fecha y hora esperadas con el formato dd/mm/aaaa hh:mm (p. ej. 02/11/2015 20:15)"),
])
def test_local_datetime_is_shown_typed_and_refused_in_the_operators_language(locale, shown, placeholder, error):
    from coulisses.i18n import use_locale

    with use_config({"TIMEZONE": "Europe/Paris"}), use_locale(locale):
        assert local_datetime_formatter(None, datetime(2015, 9, 28, 15, 3, tzinfo=timezone.utc)) == shown
        assert F(data={"at": datetime(2015, 9, 28, 15, 3, tzinfo=timezone.utc)}).at._value() == shown
        form = typed(at=shown)
        assert form.validate(), form.errors  # what is shown can be typed back
        assert form.at.data == datetime(2015, 9, 28, 15, 3, tzinfo=timezone.utc)
        assert f'placeholder="{placeholder}"' in str(form.at())
        form = typed(at="tomorrow")
        assert not form.validate() and form.errors["at"] == [error]


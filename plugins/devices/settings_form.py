"""A WTForms form generated from a driver's marshmallow settings schema: the operator edits a
device's settings as labelled fields (lists, numbers, check boxes), never as raw JSON."""
from __future__ import annotations

from flask_wtf import FlaskForm
from marshmallow import fields as mf
from marshmallow import validate as mv
from wtforms import BooleanField, FloatField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional


def _choices(field) -> list | None:
    for v in field.validators:
        if isinstance(v, mv.OneOf):
            return [SelectChoice(c, str(c)) for c in v.choices]
    return None


def _wtf_validators(field) -> list:
    out = []
    for v in field.validators:
        if isinstance(v, mv.Range):
            out.append(NumberRange(min=v.min, max=v.max))
        elif isinstance(v, mv.Length):
            out.append(Length(min=v.min or -1, max=v.max if v.max is not None else -1))
    return out


def form_class(schema_cls):
    """A ``FlaskForm`` subclass with one field per schema field, labelled by ``metadata["label"]``."""
    attrs = {}
    for name, field in schema_cls().fields.items():
        label = field.metadata.get("label", name)
        default = field.load_default if field.load_default is not mf.missing_ else None
        choices = _choices(field)
        if isinstance(field, mf.Boolean):
            attrs[name] = BooleanField(label, default=default)
        elif choices is not None:
            coerce = int if isinstance(field, mf.Integer) else str
            attrs[name] = SelectField(label, choices=choices, coerce=coerce, default=default,
                                      validators=[InputRequired()])
        elif isinstance(field, mf.Integer):
            attrs[name] = IntegerField(label, default=default, validators=[InputRequired(), *_wtf_validators(field)])
        elif isinstance(field, (mf.Float, mf.Decimal)):
            attrs[name] = FloatField(label, default=default, validators=[InputRequired(), *_wtf_validators(field)])
        else:
            attrs[name] = StringField(label, default=default, validators=[Optional(), *_wtf_validators(field)])
    return type(f"{schema_cls.__name__}Form", (FlaskForm,), attrs)


def schema_field_names(schema_cls) -> list[str]:
    return list(schema_cls().fields)

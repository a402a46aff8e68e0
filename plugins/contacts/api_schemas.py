"""Marshmallow schemas of the contacts REST API (``plugins/contacts/api.py``)."""
from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields, validate

from plugins.contacts.models import ADDRESS_USAGES, LINK_KINDS

class SearchQuerySchema(Schema):
    """Quick search (``q``) and, when any other criterion is given, the advanced search."""

    class Meta:
        unknown = INCLUDE  # extra.<field> criteria of integrators' types; checked by the service

    q = fields.String(load_default=None, metadata={"description": "Name, first name, number or e-mail; "
                                                   "'*' wildcard; 'Name, First name'"})
    limit = fields.Integer(load_default=None, validate=validate.Range(1, 1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(0))
    name = fields.String()
    number = fields.String()
    relay = fields.String()
    nature = fields.String(validate=validate.OneOf(["individual", "structure"]))
    type_code = fields.String()
    phone = fields.String()
    email = fields.String()
    country = fields.String()
    postal_code = fields.String()
    city = fields.String()
    with_invalid = fields.Boolean()
    with_prospects = fields.Boolean()
    with_relays = fields.Boolean()
    administrative_number = fields.String()
    criterion = fields.String()
    iban = fields.String(metadata={"description": "yes / no / an IBAN"})
    reference_code = fields.String()
    connection_type = fields.String(validate=validate.OneOf(list(LINK_KINDS)))
    connection_with = fields.String(metadata={"description": "number of the contact linked by connection_type"})
    ambassadors_only = fields.Boolean()


class SearchItemSchema(Schema):
    number = fields.Integer()
    label = fields.String(metadata={"description": "DUPONT, Chantal | FR-75012 [7611]"})
    name = fields.String()
    first_name = fields.String()
    kind = fields.String()
    type_code = fields.String()
    role = fields.String()
    role_label = fields.String()
    relay_contact = fields.String()
    relay_number = fields.Integer(allow_none=True)
    postal_code = fields.String()
    city = fields.String()
    country = fields.String()
    address = fields.String()
    valid = fields.Boolean()
    status = fields.String()


class SearchResultSchema(Schema):
    mode = fields.String(metadata={"description": "quick or advanced"})
    total = fields.Integer(allow_none=True)
    items = fields.List(fields.Nested(SearchItemSchema))


class AddressSchema(Schema):
    id = fields.Integer(dump_only=True)
    usage = fields.String(validate=validate.OneOf(ADDRESS_USAGES))
    line1 = fields.String()
    line2 = fields.String()
    line3 = fields.String()
    postal_code = fields.String()
    city = fields.String()
    country = fields.String()
    country_name = fields.String(dump_only=True)
    department = fields.String(allow_none=True)
    region = fields.String(allow_none=True)


class ExtraValueSchema(Schema):
    name = fields.String()
    label = fields.String()
    type = fields.String()
    value = fields.Raw(allow_none=True)
    display = fields.String()


class GeneralSchema(Schema):
    civility = fields.String(allow_none=True)
    civility_label = fields.String()
    last_name = fields.String()
    first_name = fields.String()
    structure_name = fields.String()
    birth_date = fields.Date(allow_none=True)
    age = fields.Integer(allow_none=True)
    function = fields.String(allow_none=True)
    language = fields.String()
    email = fields.String(allow_none=True)
    mobile_phone = fields.String(allow_none=True, metadata={"description": "E.164"})
    mobile_phone_display = fields.String(metadata={"description": "+33 6 12 34 56 78"})
    phone = fields.String(allow_none=True)
    phone_display = fields.String()
    fax = fields.String(allow_none=True)
    fax_display = fields.String()
    administrative_number = fields.String(allow_none=True)
    reference_code = fields.String(allow_none=True)
    iban = fields.String(allow_none=True)
    iban_display = fields.String()
    ambassador = fields.Boolean()
    extra = fields.List(fields.Nested(ExtraValueSchema))


class InternetAccountSchema(Schema):
    login = fields.String()
    active = fields.Boolean()
    updated_at = fields.DateTime()
    updated_by = fields.String()
    password_set_at = fields.DateTime(allow_none=True)
    last_login_at = fields.DateTime(allow_none=True)


class MarketingAlertSchema(Schema):
    id = fields.Integer(dump_only=True)
    type = fields.String()
    offer = fields.String(required=True)
    internal_info = fields.String()
    recipients = fields.String()
    availability = fields.Integer(allow_none=True)
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)


class ConsentSchema(Schema):
    channel = fields.String()
    label = fields.String()
    opt_in = fields.Boolean(allow_none=True)


class IndicatorSchema(Schema):
    code = fields.String()
    label = fields.String()
    value = fields.Decimal(as_string=True, allow_none=True)
    level = fields.String()
    level_label = fields.String()
    icon = fields.String()
    description = fields.String()
    computed_at = fields.DateTime(allow_none=True)


class NoteSchema(Schema):
    id = fields.Integer(dump_only=True)
    text = fields.String(required=True)
    created_at = fields.DateTime(dump_only=True)
    created_by = fields.String(dump_only=True)


class CriterionSchema(Schema):
    code = fields.String(required=True)
    label = fields.String(required=True)
    group = fields.String()
    applies_to = fields.String(validate=validate.OneOf(["individual", "structure", "both"]))


class PreferredSeatSchema(Schema):
    id = fields.Integer(dump_only=True)
    venue = fields.String()
    area = fields.String()
    row = fields.String()
    seat = fields.String()
    comment = fields.String()


class LinkSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    direction = fields.String(metadata={"description": "out: this contact is the link's origin; in: its target"})
    label = fields.String(metadata={"description": "Relais de / A pour relais …"})
    other_number = fields.Integer()
    other_name = fields.String()
    start_date = fields.Date(allow_none=True)
    end_date = fields.Date(allow_none=True)
    active = fields.Boolean()
    comment = fields.String(allow_none=True)


class SectionSchema(Schema):
    code = fields.String()
    label = fields.String()
    tab = fields.String()
    template = fields.String(allow_none=True)
    data = fields.Raw()


class HistoryKindSchema(Schema):
    kind = fields.String()
    label = fields.String()


class AdministrationSchema(Schema):
    created_at = fields.DateTime()
    created_by = fields.String()
    updated_at = fields.DateTime()
    updated_by = fields.String()
    customer_since = fields.DateTime(allow_none=True)
    last_purchase_at = fields.DateTime(allow_none=True)


class SheetSchema(Schema):
    number = fields.Integer()
    header = fields.String(metadata={"description": "17 Monsieur Michel SHAPIRA (Client)"})
    type_code = fields.String()
    type_label = fields.String()
    kind = fields.String()
    kind_label = fields.String()
    role = fields.String()
    role_label = fields.String()
    status = fields.String(metadata={"description": "customer or prospect"})
    status_label = fields.String()
    valid = fields.Boolean()
    invalid_reason = fields.String(allow_none=True)
    general = fields.Nested(GeneralSchema)
    internet_account = fields.Nested(InternetAccountSchema, allow_none=True)
    main_address = fields.Nested(AddressSchema, allow_none=True)
    addresses = fields.List(fields.Nested(AddressSchema))
    marketing_alerts = fields.List(fields.Nested(MarketingAlertSchema))
    consents = fields.List(fields.Nested(ConsentSchema))
    indicators = fields.List(fields.Nested(IndicatorSchema))
    notes = fields.List(fields.Nested(NoteSchema))
    criteria = fields.List(fields.Nested(CriterionSchema))
    preferred_seats = fields.List(fields.Nested(PreferredSeatSchema))
    links = fields.List(fields.Nested(LinkSchema))
    sections = fields.List(fields.Nested(SectionSchema))
    histories = fields.List(fields.Nested(HistoryKindSchema))
    administration = fields.Nested(AdministrationSchema)
    generated_password = fields.String(metadata={"description": "only in the response that created the "
                                                  "internet account; never shown again"})


class CreateSchema(Schema):
    """Quick creation of an individual (the seeds' form), or of a structure when ``type_code`` is a
    structure type (then ``structure_name`` replaces civility / names)."""

    type_code = fields.String(load_default="individual")
    civility = fields.String()
    last_name = fields.String()
    first_name = fields.String()
    structure_name = fields.String(allow_none=True)
    mobile_phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    create_internet_account = fields.Boolean(load_default=False)
    structure_number = fields.Integer(allow_none=True)
    new_structure_name = fields.String(allow_none=True)
    link_kind = fields.String(validate=validate.OneOf(["relay_of", "member_of"]))
    use_structure_address = fields.Boolean(load_default=False)
    country = fields.String()
    postal_code = fields.String()
    city = fields.String()
    line1 = fields.String(allow_none=True)
    line2 = fields.String(allow_none=True)
    line3 = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    extra = fields.Dict()


class UpdateSchema(Schema):
    type_code = fields.String()
    civility = fields.String(allow_none=True)
    last_name = fields.String()
    first_name = fields.String()
    structure_name = fields.String()
    birth_date = fields.String(allow_none=True, metadata={"description": "YYYY-MM-DD or DD.MM.YYYY"})
    function = fields.String(allow_none=True)
    language = fields.String()
    email = fields.String(allow_none=True)
    mobile_phone = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    fax = fields.String(allow_none=True)
    administrative_number = fields.String(allow_none=True)
    reference_code = fields.String(allow_none=True)
    iban = fields.String(allow_none=True)
    ambassador = fields.Boolean()
    valid = fields.Boolean()
    invalid_reason = fields.String(allow_none=True)
    extra = fields.Dict()


class LinkCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(list(LINK_KINDS)))
    other_number = fields.Integer(required=True)
    direction = fields.String(load_default="out", validate=validate.OneOf(["out", "in"]),
                              metadata={"description": "out: this contact <kind> other; in: other <kind> this contact"})
    start_date = fields.Date(allow_none=True, load_default=None)
    end_date = fields.Date(allow_none=True, load_default=None)
    comment = fields.String(allow_none=True, load_default=None)


class LinkUpdateSchema(Schema):
    start_date = fields.Date(allow_none=True)
    end_date = fields.Date(allow_none=True)
    comment = fields.String(allow_none=True)


class CriteriaSetSchema(Schema):
    codes = fields.List(fields.String(), required=True)


class CriteriaListQuery(Schema):
    kind = fields.String(load_default=None, validate=validate.OneOf(["individual", "structure"]))


class ConsentsSetSchema(Schema):
    class Meta:
        unknown = INCLUDE

    source = fields.String(load_default="")


class HistoryRowSchema(Schema):
    kind = fields.String()
    date = fields.Raw()
    label = fields.String()
    reference = fields.String()
    amount = fields.Decimal(as_string=True, allow_none=True)
    status = fields.String()
    url = fields.String(allow_none=True)
    source = fields.String()
    details = fields.Dict()


class PasswordSchema(Schema):
    login = fields.String()
    password = fields.String(metadata={"description": "shown once, stored hashed"})


class TypeFieldSchema(Schema):
    name = fields.String()
    label = fields.String()
    type = fields.String()
    required = fields.Boolean()
    choices = fields.List(fields.List(fields.String()))
    searchable = fields.Boolean()


class TypeSchema(Schema):
    code = fields.String()
    label = fields.String()
    kind = fields.String()
    description = fields.String()
    fields = fields.List(fields.Nested(TypeFieldSchema))


class DuplicateCheckSchema(CreateSchema):
    pass



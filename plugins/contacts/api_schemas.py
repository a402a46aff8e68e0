"""Marshmallow schemas of the contacts REST API (``plugins/contacts/api.py``). Every number, offset and
text of a request has the bounds the OpenAPI document states (the host's ``coulisses.web.schemas``
fields; text lengths are the columns')."""
from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields, validate

from coulisses.web.schemas import DecimalString, Int, Number, Offset, SafeString

from plugins.contacts.models import ADDRESS_USAGES, LINK_KINDS

TEXT = 200  # the longest one-line text of a search criterion


def Extra(**kwargs):  # noqa: N802 - a field factory
    """The values of an integrator's type's extra fields (``{"level": "gold"}``), checked by the service."""
    return fields.Dict(keys=SafeString(60), validate=validate.Length(max=100), **kwargs)

class SearchQuerySchema(Schema):
    """Quick search (``q``) and, when any other criterion is given, the advanced search."""

    class Meta:
        unknown = INCLUDE  # extra.<field> criteria of integrators' types; checked by the service

    q = SafeString(TEXT, load_default=None, metadata={"description": "Name, first name, number or e-mail; "
                                                   "'*' wildcard; 'Name, First name'"})
    limit = Int(1, 1000, load_default=None, metadata={
        "description": "Page size: 1 to 1000 (default 20 for the quick search, 50 for the advanced one)"})
    offset = Offset(metadata={"description": "Matches to skip (paging); see total and has_more"})
    with_total = fields.Boolean(load_default=True, metadata={
        "description": "Count the matches (default true; up to 1000, see total_is_exact); false: total is "
                       "null and the answer comes sooner (has_more still says whether more follow)"})
    name = SafeString(TEXT)
    number = SafeString(TEXT)
    relay = SafeString(TEXT)
    nature = SafeString(TEXT, validate=validate.OneOf(["individual", "structure"]))
    type_code = SafeString(TEXT)
    phone = SafeString(TEXT)
    email = SafeString(TEXT)
    country = SafeString(TEXT)
    postal_code = SafeString(TEXT)
    city = SafeString(TEXT)
    with_invalid = fields.Boolean()
    with_prospects = fields.Boolean()
    with_relays = fields.Boolean()
    administrative_number = SafeString(TEXT)
    criterion = SafeString(TEXT)
    iban = SafeString(TEXT, metadata={"description": "yes / no / an IBAN"})
    reference_code = SafeString(TEXT)
    connection_type = SafeString(TEXT, validate=validate.OneOf(list(LINK_KINDS)))
    connection_with = SafeString(TEXT, metadata={"description": "number of the contact linked by connection_type"})
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
    total = fields.Integer(allow_none=True, metadata={
        "description": "Number of matches, all pages together, counted up to 1000: when more match, a lower "
                       "bound (total_is_exact false; show it as '1 000+'); null with with_total=false"})
    total_is_exact = fields.Boolean(allow_none=True, metadata={
        "description": "Whether total is the exact number of matches (false: more than 1000 match)"})
    offset = fields.Integer(metadata={"description": "Matches skipped before this page"})
    limit = fields.Integer(metadata={"description": "Page size"})
    has_more = fields.Boolean(metadata={"description": "More matches after this page (next offset: offset + limit)"})
    items = fields.List(fields.Nested(SearchItemSchema))


class AddressSchema(Schema):
    id = fields.Integer(dump_only=True)
    usage = fields.String(validate=validate.OneOf(ADDRESS_USAGES))
    line1 = SafeString(200)
    line2 = SafeString(200)
    line3 = SafeString(200)
    postal_code = SafeString(16)
    city = SafeString(120)
    country = SafeString(2, metadata={"description": "ISO 3166-1 alpha-2 (FR)"})
    country_name = fields.String(dump_only=True)
    department = SafeString(80, allow_none=True)
    region = SafeString(80, allow_none=True)


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
    type = SafeString(80)
    offer = SafeString(200, required=True)
    internal_info = SafeString(5000, multiline=True)
    recipients = SafeString(200)
    availability = Int(0, 1_000_000, allow_none=True)
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)


class ConsentSchema(Schema):
    channel = fields.String()
    label = fields.String()
    opt_in = fields.Boolean(allow_none=True)


class IndicatorSchema(Schema):
    code = fields.String()
    label = fields.String()
    value = DecimalString(allow_none=True, metadata={"description": "A decimal as a string (\"12.5\")"})
    level = fields.String()
    level_label = fields.String()
    icon = fields.String()
    description = fields.String()
    computed_at = fields.DateTime(allow_none=True)


class NoteSchema(Schema):
    id = fields.Integer(dump_only=True)
    text = SafeString(10_000, multiline=True, min_length=1, required=True)
    created_at = fields.DateTime(dump_only=True)
    created_by = fields.String(dump_only=True)


class CriterionSchema(Schema):
    code = SafeString(60, min_length=1, required=True)
    label = SafeString(200, min_length=1, required=True)
    group = SafeString(120)
    applies_to = fields.String(validate=validate.OneOf(["individual", "structure", "both"]))


class PreferredSeatSchema(Schema):
    id = fields.Integer(dump_only=True)
    venue = SafeString(120)
    area = SafeString(80)
    row = SafeString(20)
    seat = SafeString(20)
    comment = SafeString(200)


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

    type_code = SafeString(40, load_default="individual")
    civility = SafeString(12)
    last_name = SafeString(120)
    first_name = SafeString(120)
    structure_name = SafeString(200, allow_none=True)
    mobile_phone = SafeString(40, allow_none=True)
    email = SafeString(254, allow_none=True)
    create_internet_account = fields.Boolean(load_default=False)
    structure_number = Number(allow_none=True)
    new_structure_name = SafeString(200, allow_none=True)
    link_kind = fields.String(validate=validate.OneOf(["relay_of", "member_of"]))
    use_structure_address = fields.Boolean(load_default=False)
    country = SafeString(2)
    postal_code = SafeString(16)
    city = SafeString(120)
    line1 = SafeString(200, allow_none=True)
    line2 = SafeString(200, allow_none=True)
    line3 = SafeString(200, allow_none=True)
    department = SafeString(80, allow_none=True)
    region = SafeString(80, allow_none=True)
    extra = Extra()


class UpdateSchema(Schema):
    type_code = SafeString(40)
    civility = SafeString(12, allow_none=True)
    last_name = SafeString(120)
    first_name = SafeString(120)
    structure_name = SafeString(200)
    birth_date = SafeString(10, allow_none=True, metadata={"description": "YYYY-MM-DD or DD.MM.YYYY"})
    function = SafeString(120, allow_none=True)
    language = SafeString(5)
    email = SafeString(254, allow_none=True)
    mobile_phone = SafeString(40, allow_none=True)
    phone = SafeString(40, allow_none=True)
    fax = SafeString(40, allow_none=True)
    administrative_number = SafeString(40, allow_none=True)
    reference_code = SafeString(60, allow_none=True)
    iban = SafeString(50, allow_none=True)
    ambassador = fields.Boolean()
    valid = fields.Boolean()
    invalid_reason = SafeString(200, allow_none=True)
    extra = Extra()


class LinkCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(list(LINK_KINDS)))
    other_number = Number(required=True)
    direction = fields.String(load_default="out", validate=validate.OneOf(["out", "in"]),
                              metadata={"description": "out: this contact <kind> other; in: other <kind> this contact"})
    start_date = fields.Date(allow_none=True, load_default=None)
    end_date = fields.Date(allow_none=True, load_default=None)
    comment = SafeString(200, allow_none=True, load_default=None)


class LinkUpdateSchema(Schema):
    start_date = fields.Date(allow_none=True)
    end_date = fields.Date(allow_none=True)
    comment = SafeString(200, allow_none=True)


class CriteriaSetSchema(Schema):
    codes = fields.List(SafeString(60), required=True, validate=validate.Length(max=500))


class CriteriaListQuery(Schema):
    kind = fields.String(load_default=None, validate=validate.OneOf(["individual", "structure"]))


class ConsentsSetSchema(Schema):
    class Meta:
        unknown = INCLUDE

    source = SafeString(60, load_default="")


class HistoryRowSchema(Schema):
    kind = fields.String()
    date = fields.Raw()
    label = fields.String()
    reference = fields.String()
    amount = DecimalString(allow_none=True)
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




class PostalCodeQuerySchema(Schema):
    q = SafeString(10, required=True, metadata={"description": "The start of a French postal code (2 to 5 digits)"})
    country = SafeString(2, load_default="FR", metadata={"description": "ISO country code; only France has a list"})
    limit = Int(1, 100, load_default=15)


class PostalCitySchema(Schema):
    postal_code = fields.String(metadata={"description": "\"07000\""})
    city = fields.String(metadata={"description": "La Poste's line, what the address shows (\"FREYSSENET\")"})
    name = fields.String(metadata={"description": "The commune's name (\"Freyssenet\")"})
    commune_code = fields.String(metadata={"description": "INSEE code of the commune"})
    label = fields.String(metadata={"description": "\"07000 FREYSSENET\""})


class PostalCitiesSchema(Schema):
    items = fields.List(fields.Nested(PostalCitySchema))
    has_more = fields.Boolean(metadata={"description": "More cities match than listed: type more digits"})

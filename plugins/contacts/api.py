"""The contacts REST API (``/api/v1``): search, sheet, quick creation, update, and the sheet's parts
(links, addresses, criteria, notes, consents, preferred seats, marketing alerts, indicators,
internet account, histories). Duplicates, merge and import endpoints: see ``register_routes``.
"""
from __future__ import annotations

from flask import current_app
from flask_login import current_user

from coulisses import InvalidError
from coulisses.web.extensions import db
from coulisses.i18n import _

from plugins.contacts.api_schemas import (
    AddressSchema, CreateSchema, CriteriaListQuery, CriteriaSetSchema, CriterionSchema, ConsentSchema,
    ConsentsSetSchema, DuplicateCheckSchema, HistoryRowSchema, IndicatorSchema, LinkCreateSchema, LinkSchema,
    LinkUpdateSchema, MarketingAlertSchema, NoteSchema, PasswordSchema, PostalCitiesSchema, PostalCodeQuerySchema,
    PreferredSeatSchema, SearchItemSchema,
    SearchQuerySchema, SearchResultSchema, SheetSchema, TypeSchema, UpdateSchema,
)
from plugins.contacts.models import CONSENT_CHANNELS
from plugins.contacts.registry import HISTORY_KINDS, get_registry
from plugins.contacts.services import accounts, addresses, details, links, search, sheet
from plugins.contacts.services import contacts as svc
from plugins.contacts.services.indicators import indicators_of, recompute_indicators

TAG = ["contacts"]


# --------------------------------------------------------------------------- helpers


def _item_from_hit(hit: search.SearchHit) -> dict:
    from plugins.contacts.services.links import ROLE_LABELS

    return {**vars(hit), "role_label": str(ROLE_LABELS.get(hit.role, hit.role)), "relay_contact": hit.relay_name,
            "address": ""}


def _item_from_row(row: search.ResultRow) -> dict:
    return {**vars(row), "label": "", "first_name": "", "postal_code": "", "country": ""}


def _sheet(contact) -> dict:
    return sheet.get_sheet(db.session, contact, can=current_user.has_permission)


def _contact(number: int):
    return svc.get_contact(db.session, number)


# --------------------------------------------------------------------------- routes


def register_routes(api) -> None:  # noqa: C901 - one declaration per endpoint
    @api.route("/contacts", permission="contacts.view", query=SearchQuerySchema, response=SearchResultSchema,
               summary="Search contacts", tags=TAG)
    def search_contacts(args):
        """Quick search with ``q`` (name, first name, number, e-mail; accent and case insensitive,
        prefix completion, '*' wildcard, 'Name, First name'); any other criterion makes it the
        advanced search (``q`` then combines with them). Invalid contacts are hidden unless
        ``with_invalid=true``. Paged: ``limit`` (up to 1000) and ``offset``; ``has_more`` says
        whether more matches follow this page. ``total`` counts the matches up to 1000: beyond,
        it is a lower bound and ``total_is_exact`` is false (show "1 000+"). ``with_total=false``
        skips the count (``total`` null), as the autocomplete does."""
        args = dict(args)
        limit = args.pop("limit", None)
        offset = args.pop("offset", 0)
        q = args.pop("q", None)
        with_total = args.pop("with_total", True)
        cap = int(current_app.config.get("CONTACTS_SEARCH_COUNT_CAP", search.COUNT_CAP))
        if not args:
            limit = limit or current_app.config.get("CONTACTS_QUICK_SEARCH_LIMIT", 20)
            page = search.quick_search_window(db.session, q or "", limit=limit, offset=offset, with_total=with_total,
                                              count_cap=cap)
            return {"mode": "quick", "total": page.total,
                    "total_is_exact": page.total_is_exact if with_total else None, "offset": offset,
                    "limit": limit, "has_more": page.has_more, "items": [_item_from_hit(h) for h in page.hits]}
        if q:
            args["q"] = q
        limit = limit or 50
        page = search.advanced_search(db.session, args, limit=limit, offset=offset, with_total=with_total,
                                      count_cap=cap)
        return {"mode": "advanced", "total": page.total if with_total else None,
                "total_is_exact": page.total_is_exact if with_total else None,
                "offset": offset, "limit": limit, "has_more": page.has_more,
                "items": [_item_from_row(r) for r in page.rows]}

    @api.route("/contacts/postal-codes", permission="contacts.view", query=PostalCodeQuerySchema,
               response=PostalCitiesSchema, summary="The cities of a French postal code", tags=TAG)
    def postal_cities(args):
        """The cities whose postal code starts with ``q`` (France: La Poste's and INSEE's reference
        list shipped with the plugin), for the address fields' suggestions; ``has_more`` when more
        match than ``limit``. Another country: no suggestion."""
        from plugins.contacts.services.postal_codes import cities_for

        cities, more = cities_for(args["q"], country=args["country"], limit=args["limit"])
        return {"items": [{**vars(c), "label": c.label} for c in cities], "has_more": more}

    @api.route("/contacts", methods=["POST"], permission="contacts.edit", body=CreateSchema,
               response=SheetSchema, status=201, summary="Create a contact (quick creation)", tags=TAG)
    def create_contact(body):
        """The quick creation form: 422 with every field error at once (``error.fields``)."""
        registry = get_registry()
        ctype = registry.types.get(body.get("type_code") or "individual")
        if ctype is not None and ctype.kind == "structure":
            data = {k: body.get(k) for k in ("type_code", "structure_name", "email", "mobile_phone", "extra")
                    if body.get(k) is not None}
            address = {k: body.get(k) for k in svc.ADDRESS_FIELDS}
            contact = svc.create_contact(db.session, data, address=address)
            password = None
            if body.get("create_internet_account"):
                _account, password = accounts.create_internet_account(db.session, contact)
        else:
            contact = svc.create_quick(db.session, body)
            password = getattr(contact, "generated_password", None)
        result = _sheet(contact)
        if password:
            result["generated_password"] = password
        return result

    @api.route("/contacts/likely-duplicates", methods=["POST"], permission="contacts.view",
               body=DuplicateCheckSchema, response=SearchItemSchema, many=True,
               summary="Likely duplicates of a contact about to be created", tags=TAG)
    def likely_duplicates(body):
        return [_item_from_hit(h) for h in search.likely_duplicates(db.session, body)]

    @api.route("/contacts/<int:number>", permission="contacts.view", response=SheetSchema,
               summary="A contact's whole sheet", tags=TAG)
    def get_contact(number):
        return _sheet(_contact(number))

    @api.route("/contacts/<int:number>", methods=["PATCH"], permission="contacts.edit", body=UpdateSchema,
               response=SheetSchema, summary="Change a contact", tags=TAG)
    def update_contact(number, body):
        """Partial update. ``valid=false`` needs an ``invalid_reason``."""
        contact = _contact(number)
        body = dict(body)
        if "valid" in body:
            valid = body.pop("valid")
            reason = body.pop("invalid_reason", None)
            svc.set_validity(db.session, contact, valid, reason)
        body.pop("invalid_reason", None)
        svc.update_contact(db.session, contact, body)
        return _sheet(contact)

    @api.route("/contacts/<int:number>", methods=["DELETE"], permission="contacts.delete",
               summary="Delete a prospect", tags=TAG, status=204)
    def delete_contact(number):
        svc.delete_contact(db.session, _contact(number))
        return "", 204

    # ---------------------------------------------------------------- links

    @api.route("/contacts/<int:number>/links", permission="contacts.view", response=LinkSchema, many=True,
               summary="A contact's links, read from its side", tags=TAG)
    def list_links(number):
        return _links(_contact(number))

    @api.route("/contacts/<int:number>/links", methods=["POST"], permission="contacts.edit",
               body=LinkCreateSchema, response=LinkSchema, many=True, status=201,
               summary="Link a contact to another", tags=TAG)
    def add_link(number, body):
        """``{"kind": "relay_of", "other_number": 42}``: this contact becomes relay of structure 42;
        ``"direction": "in"`` reverses it (42 becomes relay of this structure)."""
        contact, other = _contact(number), _contact(body["other_number"])
        src, dst = (contact, other) if body["direction"] == "out" else (other, contact)
        links.add_link(db.session, src, body["kind"], dst, body["start_date"], body["end_date"], body["comment"])
        return _links(contact)

    @api.route("/contacts/<int:number>/links/<int:link_id>", methods=["PATCH"], permission="contacts.edit",
               body=LinkUpdateSchema, response=LinkSchema, many=True, summary="Change a link's dates", tags=TAG)
    def update_link(number, link_id, body):
        contact, link = _contact(number), _link(number, link_id)
        links.update_link(db.session, link, **body)
        return _links(contact)

    @api.route("/contacts/<int:number>/links/<int:link_id>", methods=["DELETE"], permission="contacts.edit",
               summary="Remove a link", tags=TAG, status=204)
    def delete_link(number, link_id):
        links.remove_link(db.session, _link(number, link_id))
        return "", 204

    # ---------------------------------------------------------------- addresses

    @api.route("/contacts/<int:number>/addresses", permission="contacts.view", response=AddressSchema,
               many=True, summary="A contact's address book", tags=TAG)
    def list_addresses(number):
        return [sheet.address_dict(a) for a in addresses.addresses_of(db.session, _contact(number))]

    @api.route("/contacts/<int:number>/addresses", methods=["POST"], permission="contacts.edit",
               body=AddressSchema, response=AddressSchema, status=201, summary="Add an address", tags=TAG)
    def add_address(number, body):
        return sheet.address_dict(addresses.add_address(db.session, _contact(number), body))

    @api.route("/contacts/<int:number>/addresses/<int:address_id>", methods=["PATCH"],
               permission="contacts.edit", body=AddressSchema, response=AddressSchema,
               summary="Change an address (usage main makes it the main address)", tags=TAG)
    def update_address(number, address_id, body):
        address = addresses.get_address(db.session, _contact(number), address_id)
        return sheet.address_dict(addresses.update_address(db.session, address, body))

    @api.route("/contacts/<int:number>/addresses/<int:address_id>", methods=["DELETE"],
               permission="contacts.edit", summary="Remove an address", tags=TAG, status=204)
    def delete_address(number, address_id):
        addresses.remove_address(db.session, addresses.get_address(db.session, _contact(number), address_id))
        return "", 204

    # ---------------------------------------------------------------- criteria

    @api.route("/contact-criteria", permission="contacts.view", query=CriteriaListQuery,
               response=CriterionSchema, many=True, summary="The criteria lists", tags=TAG)
    def list_all_criteria(args):
        from sqlalchemy import select

        from plugins.contacts.models import Criterion

        if args.get("kind"):
            return details.criteria_for(db.session, args["kind"])
        return list(db.session.scalars(select(Criterion).order_by(Criterion.group, Criterion.position,
                                                                   Criterion.label)))

    @api.route("/contact-criteria", methods=["POST"], permission="contacts.edit", body=CriterionSchema,
               response=CriterionSchema, status=201, summary="Define a criterion", tags=TAG)
    def create_criterion(body):
        return details.create_criterion(db.session, body["code"], body["label"], body.get("applies_to", "both"),
                                        body.get("group", ""))

    @api.route("/contacts/<int:number>/criteria", permission="contacts.view", response=CriterionSchema,
               many=True, summary="A contact's criteria", tags=TAG)
    def list_criteria(number):
        return details.criteria_of(db.session, _contact(number))

    @api.route("/contacts/<int:number>/criteria", methods=["PUT"], permission="contacts.edit",
               body=CriteriaSetSchema, response=CriterionSchema, many=True,
               summary="Set a contact's criteria", tags=TAG)
    def set_criteria(number, body):
        return details.set_criteria(db.session, _contact(number), body["codes"])

    # ---------------------------------------------------------------- notes

    @api.route("/contacts/<int:number>/notes", permission="contacts.view", response=NoteSchema, many=True,
               summary="A contact's notes, newest first", tags=TAG)
    def list_notes(number):
        return sheet.get_sheet(db.session, _contact(number))["notes"]

    @api.route("/contacts/<int:number>/notes", methods=["POST"], permission="contacts.edit", body=NoteSchema,
               response=NoteSchema, status=201, summary="Add a note", tags=TAG)
    def add_note(number, body):
        contact = _contact(number)
        note = details.add_note(db.session, contact, body["text"])
        return {"id": note.id, "text": note.text, "created_at": note.created_at,
                "created_by": current_user.login}

    @api.route("/contacts/<int:number>/notes/<int:note_id>", methods=["DELETE"], permission="contacts.edit",
               summary="Delete a note", tags=TAG, status=204)
    def delete_note(number, note_id):
        details.delete_note(db.session, _contact(number), note_id)
        return "", 204

    # ---------------------------------------------------------------- marketing

    @api.route("/contacts/<int:number>/consents", methods=["PUT"], permission="contacts.edit",
               body=ConsentsSetSchema, response=ConsentSchema, many=True,
               summary="Set opt-ins per channel ({\"email\": true, \"sms\": false})", tags=TAG)
    def set_consents(number, body):
        contact = _contact(number)
        body = dict(body)
        source = body.pop("source", "")
        errors = {k: _("Canal inconnu") for k in body if k not in CONSENT_CHANNELS}
        errors.update({k: _("true ou false attendu") for k, val in body.items()
                       if k in CONSENT_CHANNELS and not isinstance(val, bool)})
        if errors:
            raise InvalidError(_("Consentements non valides"), errors)
        for channel, opt_in in body.items():
            details.set_consent(db.session, contact, channel, opt_in, source)
        return _sheet(contact)["consents"]

    @api.route("/contacts/<int:number>/preferred-seats", methods=["POST"], permission="contacts.edit",
               body=PreferredSeatSchema, response=PreferredSeatSchema, status=201,
               summary="Add a preferred seat", tags=TAG)
    def add_seat(number, body):
        return details.add_preferred_seat(db.session, _contact(number), body)

    @api.route("/contacts/<int:number>/preferred-seats/<int:seat_id>", methods=["DELETE"],
               permission="contacts.edit", summary="Remove a preferred seat", tags=TAG, status=204)
    def delete_seat(number, seat_id):
        details.remove_preferred_seat(db.session, _contact(number), seat_id)
        return "", 204

    @api.route("/contacts/<int:number>/marketing-alerts", methods=["POST"], permission="contacts.edit",
               body=MarketingAlertSchema, response=MarketingAlertSchema, status=201,
               summary="Reserve an advantage for the contact (marketing alert)", tags=TAG)
    def add_alert(number, body):
        return details.add_marketing_alert(db.session, _contact(number), body)

    @api.route("/contacts/<int:number>/marketing-alerts/<int:alert_id>", methods=["DELETE"],
               permission="contacts.edit", summary="Remove a marketing alert", tags=TAG, status=204)
    def delete_alert(number, alert_id):
        details.remove_marketing_alert(db.session, _contact(number), alert_id)
        return "", 204

    # ---------------------------------------------------------------- indicators, account, histories

    @api.route("/contacts/<int:number>/indicators", permission="contacts.view", response=IndicatorSchema,
               many=True, summary="A contact's indicators", tags=TAG)
    def list_indicators(number):
        return [vars(iv) for iv in indicators_of(db.session, _contact(number))]

    @api.route("/contacts/<int:number>/indicators/recompute", methods=["POST"], permission="contacts.edit",
               response=IndicatorSchema, many=True, summary="Recompute a contact's indicators", tags=TAG)
    def recompute(number):
        contact = _contact(number)
        recompute_indicators(db.session, contact)
        return [vars(iv) for iv in indicators_of(db.session, contact)]

    @api.route("/contacts/<int:number>/internet-account", methods=["POST"], permission="contacts.edit",
               response=PasswordSchema, status=201,
               summary="Open the contact's internet account (login: its e-mail)", tags=TAG)
    def open_account(number):
        account, password = accounts.create_internet_account(db.session, _contact(number))
        return {"login": account.login, "password": password}

    @api.route("/contacts/<int:number>/internet-account/password", methods=["POST"], permission="contacts.edit",
               response=PasswordSchema, summary="Generate a new password (shown once)", tags=TAG)
    def new_password(number):
        contact = _contact(number)
        password = accounts.generate_password(db.session, contact)
        return {"login": accounts.account_of(db.session, contact).login, "password": password}

    @api.route("/contacts/<int:number>/histories/<kind>", permission="contacts.view", response=HistoryRowSchema,
               many=True, summary="One of the four histories: sends, purchases, cultural, financial", tags=TAG)
    def get_history(number, kind):
        if kind not in HISTORY_KINDS:
            raise InvalidError(_("Historique inconnu"),
                               {"kind": _("Attendu : %(choices)s", choices=", ".join(HISTORY_KINDS))})
        rows = sheet.history(db.session, _contact(number), kind)
        return [{**vars(r), "date": r.date.isoformat()} for r in rows]

    @api.route("/contact-types", permission="contacts.view", response=TypeSchema, many=True,
               summary="The contact types (built-in and plugins')", tags=TAG)
    def list_types():
        return list(get_registry().types.values())

    # Duplicates, merge, import and export endpoints: registered by their owners' modules here, e.g.
    #   from plugins.contacts.api_duplicates import register_routes as _dup; _dup(api)


def _links(contact) -> list[dict]:
    return [{"id": lv.link.id, "kind": lv.kind, "direction": lv.direction, "label": str(lv.label),
             "other_number": lv.other.number, "other_name": lv.other.display_name,
             "start_date": lv.link.start_date, "end_date": lv.link.end_date, "active": lv.active,
             "comment": lv.link.comment} for lv in links.links_of(db.session, contact)]


def _link(number: int, link_id: int):
    from coulisses import NotFoundError

    contact = _contact(number)
    link = links.get_link(db.session, link_id)
    if contact.id not in (link.from_contact_id, link.to_contact_id):
        raise NotFoundError(_("Le contact %(number)s n'a pas de lien %(id)s", number=number, id=link_id))
    return link

"""The contact sheet: address book, notes, criteria, consents, preferred seats, marketing alerts,
internet account, indicators, the four histories and sections contributed by other plugins."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from coulisses import ConflictError, InvalidError, NotFoundError
from coulisses import plugins as cplugins
from coulisses.db import clock, utcnow
from plugins.contacts.registry import HistoryRow, Registry, SheetSection, use_registry
from plugins.contacts.services import accounts, addresses, details
from plugins.contacts.services.activity import record_purchase, record_send
from plugins.contacts.services.indicators import indicator_config, indicators_of, recompute_all, recompute_indicators
from plugins.contacts.services.sheet import get_sheet, history
from tests.platform.conftest import make_plugin


def test_the_address_book_keeps_one_main_address(db, person):
    contact = person("Shapira", "Michel", postal_code="07000", city="Freyssenet")
    main = contact.main_address
    delivery = addresses.add_address(db, contact, {"usage": "delivery", "country": "FR", "postal_code": "75001",
                                                   "city": "Paris", "line1": "1 rue de Rivoli"})
    billing = addresses.add_address(db, contact, {"usage": "billing", "country": "BE", "postal_code": "1000",
                                                  "city": "Bruxelles"})
    assert [a.usage for a in addresses.addresses_of(db, contact)] == ["main", "delivery", "billing"]
    addresses.set_main_address(db, billing)
    assert [(a.id, a.usage) for a in addresses.addresses_of(db, contact)] == \
        [(billing.id, "main"), (main.id, "delivery"), (delivery.id, "delivery")]
    with pytest.raises(InvalidError):
        addresses.remove_address(db, billing)  # the main one, while others exist
    with pytest.raises(InvalidError) as exc:
        addresses.update_address(db, billing, {"usage": "delivery"})
    assert "usage" in exc.value.fields
    with pytest.raises(InvalidError) as exc:
        addresses.add_address(db, contact, {"country": "FR", "postal_code": "1000", "city": "Paris"})
    assert exc.value.fields == {"postal_code": "Code postal non valide pour le pays FR : 1000"}
    addresses.update_address(db, main, {"usage": "main"})
    assert contact.main_address.id == main.id and billing.usage == "delivery"
    with pytest.raises(NotFoundError):
        addresses.get_address(db, person("Other", "One"), main.id)


def test_notes_are_dated_and_signed(db, person, operator_id):
    contact = person("Shapira", "Michel")
    with pytest.raises(InvalidError):
        details.add_note(db, contact, "   ")
    details.add_note(db, contact, "Préfère le premier rang.")
    details.add_note(db, contact, "Rappeler pour l'abonnement.")
    notes = get_sheet(db, contact)["notes"]
    assert [n["text"] for n in notes] == ["Rappeler pour l'abonnement.", "Préfère le premier rang."]
    assert notes[0]["created_by"] == "guichet1" and notes[0]["created_at"] is not None


def test_criteria_lists_differ_for_individuals_and_structures(db, person, structure):
    details.create_criterion(db, "dance", "Danse", "individual", "Centres d'intérêt")
    details.create_criterion(db, "school", "Établissement scolaire", "structure")
    details.create_criterion(db, "newsletter", "Lettre d'information", "both")
    with pytest.raises(ConflictError):
        details.create_criterion(db, "dance", "Danse contemporaine")
    assert {c.code for c in details.criteria_for(db, "individual")} == {"dance", "newsletter"}
    assert {c.code for c in details.criteria_for(db, "structure")} == {"school", "newsletter"}
    michel, univ = person("Shapira", "Michel"), structure("UNIVERSITY PARIS")
    # listed by list (group), then label
    assert [c.code for c in details.set_criteria(db, michel, ["dance", "newsletter"])] == ["newsletter", "dance"]
    with pytest.raises(InvalidError, match="non applicable"):
        details.add_criterion(db, univ, "dance")
    with pytest.raises(InvalidError, match="inconnu"):
        details.set_criteria(db, michel, ["dance", "golf"])
    assert {c.code for c in details.criteria_of(db, michel)} == {"dance", "newsletter"}  # unchanged
    details.remove_criterion(db, michel, "dance")
    assert [c["code"] for c in get_sheet(db, michel)["criteria"]] == ["newsletter"]


def test_consents_per_channel(db, person):
    contact = person("Shapira", "Michel")
    assert details.consents_of(db, contact) == {"email": None, "sms": None, "post": None, "phone": None}
    details.set_consent(db, contact, "email", True, "guichet")
    details.set_consent(db, contact, "sms", False)
    details.set_consent(db, contact, "email", False)
    assert details.consents_of(db, contact) == {"email": False, "sms": False, "post": None, "phone": None}
    with pytest.raises(InvalidError):
        details.set_consent(db, contact, "pigeon", True)


def test_preferred_seats_and_marketing_alerts(db, person):
    contact = person("Shapira", "Michel")
    seat = details.add_preferred_seat(db, contact, {"venue": "Grande salle", "area": "Orchestre", "row": "C", "seat": "12"})
    with pytest.raises(InvalidError):
        details.add_preferred_seat(db, contact, {"comment": "n'importe où"})
    alert = details.add_marketing_alert(db, contact, {
        "type": "Grand public", "offer": 'Promo "Package deux ballets" - 50%',
        "internal_info": "En 1ere catégorie, le package est à 100€ au lieu de 160€", "availability": 100})
    details.add_marketing_alert(db, contact, {"offer": "Ancienne offre", "valid_until": "2001-01-01"})
    with pytest.raises(InvalidError) as exc:
        details.add_marketing_alert(db, contact, {"offer": "", "availability": -3})
    assert set(exc.value.fields) == {"offer", "availability"}
    sheet = get_sheet(db, contact)
    assert [(a["type"], a["offer"], a["availability"]) for a in sheet["marketing_alerts"]] == \
        [("Grand public", 'Promo "Package deux ballets" - 50%', 100)]
    assert sheet["preferred_seats"][0]["row"] == "C"
    details.remove_preferred_seat(db, contact, seat.id)
    details.remove_marketing_alert(db, contact, alert.id)
    assert get_sheet(db, contact)["preferred_seats"] == [] and get_sheet(db, contact)["marketing_alerts"] == []


def test_generate_password_records_date_and_operator(db, person, operator_id):
    contact = person("Shapira", "Michel", email="michel.shapira@gmail.com")
    with pytest.raises(ConflictError):
        accounts.generate_password(db, contact)
    account, first = accounts.create_internet_account(db, contact)
    with pytest.raises(ConflictError):
        accounts.create_internet_account(db, contact)
    second = accounts.generate_password(db, contact)
    assert second != first
    assert accounts.check_internet_password(db, "michel.shapira@gmail.com", first) is None
    assert accounts.check_internet_password(db, "michel.shapira@gmail.com", second) is contact
    info = get_sheet(db, contact)["internet_account"]
    assert info["login"] == "michel.shapira@gmail.com" and info["updated_by"] == "guichet1"
    assert info["password_set_at"] >= account.created_at
    other = person("Shapira", "Michelle", email="Michel.Shapira@gmail.com")
    with pytest.raises(InvalidError) as exc:
        accounts.create_internet_account(db, other)
    assert "email" in exc.value.fields


def test_the_sheet_header_and_tabs(db, person):
    contact = person("Shapira", "Michel", postal_code="07000", city="Freyssenet", line1="123 ELCA",
                     email="michel.shapira@gmail.com", mobile_phone="0612345678")
    record_purchase(db, contact, datetime(2015, 9, 21, 6, 36, tzinfo=timezone.utc))
    sheet = get_sheet(db, contact)
    assert sheet["header"] == f"{contact.number} Monsieur Michel SHAPIRA (Client)"
    assert (sheet["kind_label"], sheet["role_label"], sheet["status_label"]) == ("Individuel", "Public", "Client")
    assert sheet["general"]["mobile_phone_display"] == "+33 6 12 34 56 78"
    assert sheet["main_address"]["country_name"] == "France" and sheet["main_address"]["line1"] == "123 ELCA"
    assert [h["label"] for h in sheet["histories"]] == [
        "Liste des envois billetterie", "Historique d'achat", "Historique culturel", "Historique financier"]
    assert sheet["administration"]["customer_since"] == datetime(2015, 9, 21, 6, 36, tzinfo=timezone.utc)


# --------------------------------------------------------------------------- indicators


def test_without_sales_data_indicators_show_an_honest_empty_level(db, person):
    contact = person("Shapira", "Michel")
    views = {iv.code: iv for iv in indicators_of(db, contact)}
    assert list(views) == ["attendance", "member", "season_ticket", "children_product", "pmg", "seniority", "channel"]
    assert (views["attendance"].value, views["attendance"].level_label) == (Decimal(0), "Inactif")
    assert (views["pmg"].value, views["pmg"].level) == (Decimal("0.00"), "none")
    assert (views["seniority"].value, views["seniority"].level_label) == (None, "Prospect")
    assert all(iv.description for iv in views.values())


def _registry_with_facts(register_plugin, facts, **more_hooks):
    register_plugin(make_plugin("tp_sales", depends=["contacts"],
                                hooks={"contacts_facts": lambda session, contact: facts, **more_hooks}))
    infos = cplugins.discover()
    return Registry.from_manager(cplugins.build_manager(infos, cplugins.resolve(infos, ["tp_sales"])))


@pytest.mark.parametrize("performances, level", [(0, "inactive"), (1, "occasional"), (2, "regular"),
                                                 (5, "regular"), (6, "constant")])
def test_attendance_levels(db, person, register_plugin, performances, level):
    registry = _registry_with_facts(register_plugin, {"performances_this_season": performances})
    contact = person("Shapira", "Michel")
    with use_registry(registry):
        assert recompute_indicators(db, contact)["attendance"].level == level


@pytest.mark.parametrize("spend, default_level, custom_level", [
    ("0", "none", "none"), ("149.99", "S", "S"), ("150.00", "M", "S"), ("599.99", "M", "M"),
    ("600.00", "L", "M"), ("1000.00", "L", "L")])
def test_pmg_bands_with_default_and_configured_thresholds(db, person, register_plugin, spend, default_level,
                                                         custom_level):
    registry = _registry_with_facts(register_plugin, {"spend_previous_season": Decimal(spend)})
    contact = person("Shapira", "Michel")
    with use_registry(registry):
        assert recompute_indicators(db, contact)["pmg"].level == default_level
        row = recompute_indicators(db, contact, {"CONTACTS_PMG_THRESHOLDS": "300,1000"})["pmg"]
        assert row.level == custom_level and row.value == Decimal(spend)


def test_pmg_refuses_a_float_spend(db, person, register_plugin):
    registry = _registry_with_facts(register_plugin, {"spend_previous_season": 12.5})
    contact = person("Shapira", "Michel")
    with use_registry(registry), pytest.raises(TypeError, match="float"):
        recompute_indicators(db, contact)


def test_flags_and_channels_from_facts(db, person, register_plugin):
    registry = _registry_with_facts(register_plugin, {"membership_valid": True, "season_ticket": True,
                                                      "children_product": False, "channels": ["guichet", "web"]})
    contact = person("Shapira", "Michel")  # computed at creation, without facts
    assert {iv.code: iv.level for iv in indicators_of(db, contact)}["member"] == "no"
    with use_registry(registry):
        recompute_indicators(db, contact)  # what the nightly task and record_purchase do
        views = {iv.code: iv.level for iv in indicators_of(db, contact)}
    assert (views["member"], views["season_ticket"], views["children_product"], views["channel"]) == \
        ("yes", "yes", "no", "multi")


@pytest.mark.parametrize("today", [datetime(2026, 6, 15, 10, tzinfo=timezone.utc),
                                   datetime(2026, 12, 1, 0, 30, tzinfo=timezone.utc)])
def test_seniority_counts_seasons_since_the_first_purchase(db, person, today):
    # The host's clock is set, so that the rule is tested on a fixed day, a month's first day included.
    with clock(lambda: today):
        _check_seniority(db, person)


def _check_seniority(db, person):
    contact = person("Shapira", "Michel")
    now = utcnow()
    config = {"CONTACTS_SEASON_START_MONTH": (now - timedelta(days=3)).month}  # the purchase opens a season
    record_purchase(db, contact, now - timedelta(days=3))
    assert recompute_indicators(db, contact, config)["seniority"].level == "new"
    contact.customer_since = now.replace(year=now.year - 2, day=min(now.day, 28))
    assert recompute_indicators(db, contact, config)["seniority"].value == Decimal(2)
    assert recompute_indicators(db, contact, config)["seniority"].level == "confirmed"
    contact.customer_since = now.replace(year=now.year - 6, day=min(now.day, 28))
    assert recompute_indicators(db, contact, config)["seniority"].level == "historic"
    assert recompute_indicators(db, contact, {**config, "CONTACTS_SENIORITY_THRESHOLDS": "1,3,10"})[
        "seniority"].level == "loyal"


def test_indicator_config_defaults():
    cfg = indicator_config()
    assert cfg["pmg"] == [Decimal("150.00"), Decimal("600.00")] and cfg["seniority"] == [1, 3, 5]
    assert indicator_config({"CONTACTS_PMG_THRESHOLDS": ["100", "200"]})["pmg"] == [Decimal(100), Decimal(200)]


def test_recompute_all_visits_every_contact(db, person, register_plugin):
    registry = _registry_with_facts(register_plugin, {"performances_this_season": 3})
    for i in range(5):
        person(f"Nom{i}", "Prenom")
    with use_registry(registry):
        assert recompute_all(db, batch=2) == 5
    from sqlalchemy import func, select

    from plugins.contacts.models import IndicatorValue

    assert db.scalar(select(func.count()).where(IndicatorValue.code == "attendance",
                                                IndicatorValue.level == "regular")) == 5


# --------------------------------------------------------------------------- histories and sections


def test_histories_merge_the_plugins_rows_newest_first(db, person, register_plugin):
    contact = person("Shapira", "Michel")
    record_send(db, contact, "email", "Votre commande", datetime(2015, 9, 20, tzinfo=timezone.utc))
    record_send(db, contact, "campaign", "Saison 2015-2016", datetime(2015, 9, 1, tzinfo=timezone.utc),
                campaign="Lancement")

    def sales_history(session, contact, kind):
        if kind == "purchases":
            return [HistoryRow("purchases", datetime(2015, 9, 28, 17, 3, tzinfo=timezone.utc), "Dossier 1042",
                               "1042", Decimal("2420.00"), "Payé")]
        if kind == "sends":
            return [HistoryRow("sends", date(2015, 9, 10), "Billets électroniques")]
        return []

    registry = _registry_with_facts(register_plugin, {}, contacts_history=sales_history)
    with use_registry(registry):
        sends = history(db, contact, "sends")
        assert [r.label for r in sends] == ["Votre commande", "Billets électroniques", "Saison 2015-2016"]
        assert [r.source for r in sends] == ["contacts", "tp_sales", "contacts"]
        [purchase] = history(db, contact, "purchases")
        assert purchase.amount == Decimal("2420.00")
        assert history(db, contact, "financial") == []
    with pytest.raises(InvalidError):
        history(db, contact, "gossip")
    # without the sales plugin: an honest empty history
    assert history(db, contact, "purchases") == []


def test_other_plugins_contribute_sheet_sections(db, person, register_plugin):
    section = SheetSection("waiting_account", "Compte d'attente", "management",
                           data=lambda session, contact: {"balance": "120.00"}, permission="tp.secret")
    register_plugin(make_plugin("tp_wait", depends=["contacts"], hooks={"contacts_sheet_sections": lambda: [section]}))
    infos = cplugins.discover()
    registry = Registry.from_manager(cplugins.build_manager(infos, cplugins.resolve(infos, ["tp_wait"])))
    contact = person("Shapira", "Michel")
    with use_registry(registry):
        [shown] = get_sheet(db, contact)["sections"]
        assert shown == {"code": "waiting_account", "label": "Compte d'attente", "tab": "management",
                         "template": None, "data": {"balance": "120.00"}}
        assert get_sheet(db, contact, can=lambda perm: False)["sections"] == []


def test_a_section_whose_data_is_none_is_left_out_for_that_contact(db, person, structure, register_plugin):
    section = SheetSection("tp_schools", "Sorties scolaires", "management",
                           data=lambda session, contact: {"visits": 3} if contact.kind == "structure" else None)
    register_plugin(make_plugin("tp_schools", depends=["contacts"], hooks={"contacts_sheet_sections": lambda: [section]}))
    infos = cplugins.discover()
    registry = Registry.from_manager(cplugins.build_manager(infos, cplugins.resolve(infos, ["tp_schools"])))
    with use_registry(registry):
        assert get_sheet(db, person("Shapira", "Michel"))["sections"] == []
        assert [s["data"] for s in get_sheet(db, structure("Lycée Voltaire"))["sections"]] == [{"visits": 3}]


def test_a_structure_gathers_the_histories_of_its_relays_and_members(db, person, structure, register_plugin):
    """Seeds: "Structure publique : fiche de la personne morale regroupant les historiques des différents
    individuels qui lui sont liés" — within the dates of each link."""
    from plugins.contacts.services.links import add_link

    school = structure("Lycée Voltaire")
    akoka, other = person("Akoka", "Viviane"), person("Durand", "Paul")
    add_link(db, akoka, "relay_of", school, start_date=date(2015, 9, 1))
    add_link(db, other, "member_of", school, start_date=date(2014, 1, 1), end_date=date(2014, 12, 31))

    def sales_history(session, contact, kind):
        if kind != "purchases":
            return []
        rows = {akoka.id: [HistoryRow("purchases", date(2015, 8, 1), "Commande privée", "900"),
                           HistoryRow("purchases", datetime(2015, 10, 2, 9, 0, tzinfo=timezone.utc), "Sortie scolaire", "1042")],
                other.id: [HistoryRow("purchases", date(2014, 6, 1), "Groupe 2014", "777"),
                           HistoryRow("purchases", date(2016, 6, 1), "Après son départ", "778")],
                school.id: [HistoryRow("purchases", date(2013, 5, 1), "Achat direct", "500")]}
        return rows.get(contact.id, [])

    registry = _registry_with_facts(register_plugin, {}, contacts_history=sales_history)
    with use_registry(registry):
        rows = history(db, school, "purchases")
        assert [(r.label, r.details.get("via_name")) for r in rows] == [
            ("Sortie scolaire", "AKOKA, Viviane"), ("Groupe 2014", "DURAND, Paul"), ("Achat direct", None)]
        assert rows[0].details["via_number"] == akoka.number
        assert [r.label for r in history(db, akoka, "purchases")] == ["Sortie scolaire", "Commande privée"]


def test_indicators_are_recomputed_on_every_change_without_waiting_for_the_night(db, person, register_plugin):
    """Recalculation "on change": creation, update and each recorded purchase recompute the contact's
    indicators at once (the nightly task catches what changes with time alone)."""
    from sqlalchemy import select

    from plugins.contacts.models import IndicatorValue
    from plugins.contacts.services.contacts import update_contact

    facts = {"performances_this_season": 0}
    registry = _registry_with_facts(register_plugin, facts)

    def level(contact, code):
        return db.scalar(select(IndicatorValue.level).where(IndicatorValue.contact_id == contact.id,
                                                            IndicatorValue.code == code))

    with use_registry(registry):
        contact = person("Shapira", "Michel")
        assert (level(contact, "attendance"), level(contact, "seniority")) == ("inactive", "none")  # at creation
        facts["performances_this_season"] = 6
        update_contact(db, contact, {"function": "Directeur"})
        assert level(contact, "attendance") == "constant"  # on update
        record_purchase(db, contact, utcnow())
        assert level(contact, "seniority") == "new"  # on a purchase

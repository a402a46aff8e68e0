"""Quick creation (the seeds' form), numbering, validity, customer vs prospect, likely duplicates."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from coulisses import ConflictError, InvalidError
from coulisses.db import peek_number
from plugins.contacts.models import Contact, ContactLink
from plugins.contacts.services import contacts as svc
from plugins.contacts.services.accounts import check_internet_password
from plugins.contacts.services.activity import mark_prospect, record_purchase
from plugins.contacts.services.search import likely_duplicates, quick_search


def test_quick_creation_reports_every_missing_field_at_once(db):
    with pytest.raises(InvalidError) as exc:
        svc.create_quick(db, {"last_name": "DUPONT", "first_name": "", "country": "FR", "postal_code": "7500"})
    assert exc.value.fields == {
        "civility": "Civilité : obligatoire",
        "first_name": "Prénom : obligatoire",
        "city": "Ville : obligatoire",
        "postal_code": "Code postal non valide pour le pays FR : 7500",
    }
    assert db.scalar(select(Contact.id)) is None  # nothing created


def test_quick_creation_validates_phone_and_email_with_the_field_names(db):
    with pytest.raises(InvalidError) as exc:
        svc.create_quick(db, {"civility": "M", "last_name": "Dupont", "first_name": "Marc", "country": "FR",
                              "postal_code": "75012", "city": "Paris", "mobile_phone": "06 12",
                              "email": "marc@", "create_internet_account": True})
    assert set(exc.value.fields) == {"mobile_phone", "email"}


def test_quick_creation_creates_the_contact_its_main_address_and_its_internet_account(db, operator_id):
    contact = svc.create_quick(db, {
        "civility": "M", "last_name": "Dupont", "first_name": "marc", "mobile_phone": "06 12 34 56 78",
        "email": "marc.dupont@example.org", "create_internet_account": True, "country": "fr",
        "postal_code": "75012", "city": "Paris", "line1": "12 rue de Lyon", "department": "Paris",
        "region": "Île-de-France"})
    db.commit()
    assert (contact.last_name, contact.first_name, contact.civility) == ("DUPONT", "Marc", "M")
    assert contact.mobile_phone == "+33612345678"
    assert contact.kind == "individual" and contact.role == "public" and contact.status == "prospect"
    address = contact.main_address
    assert (address.usage, address.country, address.postal_code, address.city, address.line1, address.region) == \
        ("main", "FR", "75012", "PARIS", "12 rue de Lyon", "Île-de-France")
    assert contact.created_by_id == operator_id
    password = contact.generated_password
    assert password and len(password) >= 12
    assert contact.internet_account.login == "marc.dupont@example.org"
    assert password not in contact.internet_account.password_hash
    assert check_internet_password(db, "MARC.DUPONT@example.org", password) is contact
    assert svc.contact_label(contact) == f"DUPONT, Marc | FR-75012 [{contact.number}]"
    assert svc.header(contact) == f"{contact.number} Monsieur Marc DUPONT (Prospect)"


def test_quick_creation_with_an_existing_structure_and_its_address(db, structure):
    university = structure("UNIVERSITY PARIS", postal_code="75005")
    university.addresses[0].line1 = "1 rue Victor Cousin"
    akoka = svc.create_quick(db, {"civility": "MME", "last_name": "Akoka", "first_name": "Viviane",
                                  "structure_number": university.number, "use_structure_address": True})
    assert akoka.role == "relay"
    assert (akoka.main_address.postal_code, akoka.main_address.line1) == ("75005", "1 rue Victor Cousin")
    assert akoka.main_address.id != university.main_address.id  # a copy, not a shared row
    assert svc.contact_label(akoka) == f"AKOKA, Viviane | FR-75005 [{akoka.number}]"
    hit = quick_search(db, "akoka")[0]
    assert hit.label == f"AKOKA, Viviane | UNIVERSITY PARIS / Relais [{akoka.number}]"


def test_quick_creation_with_a_new_structure_as_member(db):
    person = svc.create_quick(db, {"civility": "M", "last_name": "Martin", "first_name": "Paul",
                                   "new_structure_name": "Lycée Buffon", "link_kind": "member_of",
                                   "country": "FR", "postal_code": "75015", "city": "Paris"})
    link = db.scalar(select(ContactLink).where(ContactLink.from_contact_id == person.id))
    assert link.kind == "member_of" and link.to_contact.structure_name == "Lycée Buffon"
    assert link.to_contact.kind == "structure" and link.to_contact.main_address.postal_code == "75015"
    assert person.role == "member"


def test_quick_creation_refuses_a_structure_number_that_is_not_a_structure(db, person):
    other = person("Durand", "Anne")
    with pytest.raises(InvalidError) as exc:
        svc.create_quick(db, {"civility": "M", "last_name": "X", "first_name": "Y", "structure_number": other.number,
                              "country": "FR", "postal_code": "75001", "city": "Paris"})
    assert exc.value.fields == {"structure_number": f"Le contact {other.number} n'est pas une structure"}


def test_contact_numbers_are_gapless_and_a_refused_creation_takes_none(db, person):
    first = person("Alpha", "A")
    with pytest.raises(InvalidError):
        person("Beta", "")
    second = person("Gamma", "G")
    assert second.number == first.number + 1
    imported = svc.create_contact(db, {"type_code": "individual", "last_name": "Imported", "number": 7611})
    assert imported.number == 7611
    assert peek_number(db, svc.SEQUENCE) == 7612
    with pytest.raises(InvalidError) as exc:
        svc.create_contact(db, {"type_code": "individual", "last_name": "Again", "number": 7611})
    assert exc.value.fields == {"number": "Le numéro 7611 est déjà pris"}


def test_a_deleted_contacts_number_is_never_given_again(db, person):
    gone = person("Ephemere", "Eve")
    number = gone.number
    svc.delete_contact(db, gone)
    db.flush()
    with pytest.raises(InvalidError) as exc:
        svc.create_contact(db, {"type_code": "individual", "last_name": "Reuse", "number": number})
    assert exc.value.fields == {"number": f"Le numéro {number} était celui d'un contact supprimé : un numéro "
                                          f"de contact n'est jamais réutilisé"}
    assert person("Next", "N").number == number + 1


def test_a_number_the_counter_jumped_over_was_never_given_and_stays_free(db, person):
    svc.create_contact(db, {"type_code": "individual", "last_name": "Seed", "number": 7611})
    earlier = svc.create_contact(db, {"type_code": "individual", "last_name": "Seed", "number": 2301})
    assert earlier.number == 2301
    assert peek_number(db, svc.SEQUENCE) == 7612


def test_invalid_contacts_are_hidden_from_search_unless_asked(db, person):
    contact = person("Dupont", "Chantal")
    with pytest.raises(InvalidError):
        svc.set_validity(db, contact, False)  # a reason is required
    svc.set_validity(db, contact, False, "Doublon de 7611")
    assert quick_search(db, "dupont") == []
    assert [h.number for h in quick_search(db, "dupont", include_invalid=True)] == [contact.number]
    svc.set_validity(db, contact, True)
    assert contact.invalid_reason is None and len(quick_search(db, "dupont")) == 1


def test_a_purchase_makes_a_prospect_a_customer(db, person):
    contact = person("Shapira", "Michel")
    assert contact.status == "prospect"
    when = datetime(2015, 9, 28, 15, 3, tzinfo=timezone.utc)
    record_purchase(db, contact.id, when)
    assert contact.status == "customer" and contact.customer_since == when
    later = datetime(2016, 1, 2, tzinfo=timezone.utc)
    record_purchase(db, contact, later)
    assert contact.customer_since == when and contact.last_purchase_at == later
    assert svc.header(contact).endswith("(Client)")
    with pytest.raises(ConflictError, match="client"):
        svc.delete_contact(db, contact)
    mark_prospect(db, contact)
    assert contact.status == "prospect"
    svc.delete_contact(db, contact)
    assert db.get(Contact, contact.id) is None


def test_likely_duplicates_warn_before_creating(db, person):
    chantal = person("Dupont", "Chantal", postal_code="75012", email="c.dupont@example.org")
    person("Dupont", "Chantal", postal_code="13001", city="Marseille")
    person("Durand", "Chantal", postal_code="75012")
    # same phonetic name (Dupond = Dupont), same first-name initial, same postal code
    assert [h.number for h in likely_duplicates(db, {"last_name": "Dupond", "first_name": "Chantale",
                                                      "postal_code": "75012"})] == [chantal.number]
    # same e-mail, whatever the name
    assert [h.number for h in likely_duplicates(db, {"last_name": "Autre", "email": "C.Dupont@example.org"})] \
        == [chantal.number]
    assert likely_duplicates(db, {"last_name": "Zyx", "first_name": "A", "postal_code": "75012"}) == []


def test_update_contact_reports_what_changed_and_refuses_unknown_fields(db, person, operator_id):
    contact = person("Shapira", "Michel", postal_code="07000", city="Freyssenet")
    changed = svc.update_contact(db, contact, {"birth_date": "08.07.2000", "phone": "04 75 12 34 56",
                                               "function": "Enseignant", "language": "fr", "first_name": "Michel"})
    assert changed == {"birth_date", "phone", "function"}
    assert contact.phone == "+33475123456"
    with pytest.raises(InvalidError) as exc:
        svc.update_contact(db, contact, {"last_name": "", "number": 3, "iban": "FR00"})
    assert set(exc.value.fields) == {"last_name", "number", "iban"}
    assert contact.last_name == "SHAPIRA"


def test_french_department_and_region_come_from_the_iso_lists_and_stay_free_elsewhere(db):
    """G3: France's 101 departments and 18 regions (ISO 3166-2:FR); a code or a near spelling is stored
    as the name, an unknown one is refused beside its field; other countries keep free text."""
    from plugins.contacts.data import fr_subdivisions as fr

    assert len(fr.DEPARTMENTS) == 101 and len(fr.REGIONS) == 18
    assert {code for code, _n, _r in fr.DEPARTMENTS} >= {"01", "2A", "2B", "95", "971", "976"}
    assert fr.region_of_department("07") == "Auvergne-Rhône-Alpes"
    base = {"civility": "M", "last_name": "Listes", "first_name": "Paul", "country": "FR",
            "postal_code": "07000", "city": "Freyssenet"}
    contact = svc.create_quick(db, {**base, "department": "7", "region": "ara"})
    assert (contact.main_address.department, contact.main_address.region) == ("Ardèche", "Auvergne-Rhône-Alpes")
    with pytest.raises(InvalidError) as refused:
        svc.create_quick(db, {**base, "last_name": "Inconnu", "department": "Seine-et-Oise", "region": "Neustrie"})
    assert refused.value.fields["department"] == "Département : inconnu en France (Seine-et-Oise)"
    assert "region" in refused.value.fields
    abroad = svc.create_quick(db, {**base, "last_name": "Ailleurs", "country": "BE", "postal_code": "1000",
                                   "city": "Bruxelles", "department": "Bruxelles-Capitale", "region": "Bruxelles"})
    assert abroad.main_address.department == "Bruxelles-Capitale"


def test_import_stores_french_departments_and_regions_by_name(db):
    """G3, the import: a French department or region given by code or spelling is stored by name, as the
    forms store it; an unknown one is kept as read (an import is not refused for it); abroad, free text."""
    import io

    from plugins.contacts.services import importing

    text = ("Nom;Prénom;Code postal;Ville;Pays;Département;Région\n"
            "Importe;Ana;07000;Privas;FR;07;idf\n"
            "Importe;Bob;75012;Paris;FR;Seine-et-Oise;Île de France\n"
            "Importe;Cid;1000;Bruxelles;BE;Bruxelles-Capitale;Bruxelles\n")
    report = importing.import_file(db, io.BytesIO(text.encode("utf-8")), filename="contacts.csv")
    assert report.imported == 3, report
    rows = {c.first_name: c.main_address for c in db.scalars(select(Contact).where(Contact.last_name == "IMPORTE"))}
    assert (rows["Ana"].department, rows["Ana"].region) == ("Ardèche", "Île-de-France")
    assert (rows["Bob"].department, rows["Bob"].region) == ("Seine-et-Oise", "Île-de-France")
    assert (rows["Cid"].department, rows["Cid"].region) == ("Bruxelles-Capitale", "Bruxelles")


def test_function_is_chosen_from_the_organisation_list_and_a_current_value_is_kept(db, person, operator_id):
    """G4: the seed's "Fonction [dropdown]": CONTACTS_FUNCTIONS lists the values; another one is refused
    beside the field, the contact's current value (dropped from the list since) is kept on save."""
    from coulisses.config import use_config
    from plugins.contacts.services.validation import FUNCTION_NOT_IN_LIST, function_choices

    assert "Directrice" in function_choices() and "Responsable billetterie" in function_choices()
    contact = svc.create_contact(db, {"type_code": "individual", "last_name": "Akoka", "first_name": "Viviane",
                                      "function": "Directrice"})
    assert contact.function == "Directrice"
    with pytest.raises(InvalidError) as exc:
        svc.create_contact(db, {"type_code": "individual", "last_name": "Akoka", "function": "Astronaute"})
    assert exc.value.fields == {"function": FUNCTION_NOT_IN_LIST}
    with pytest.raises(InvalidError) as exc:
        svc.update_contact(db, contact, {"function": "Astronaute"})
    assert exc.value.fields == {"function": "Fonction : choisissez une valeur de la liste"}
    assert contact.function == "Directrice"
    with use_config({"CONTACTS_FUNCTIONS": "Pilote, Copilote"}):  # the organisation changed its list
        assert function_choices() == ["Pilote", "Copilote"]
        assert svc.update_contact(db, contact, {"function": "Directrice", "first_name": "Viviane"}) == set()
        assert svc.update_contact(db, contact, {"function": "Pilote"}) == {"function"}
        with pytest.raises(InvalidError):
            svc.update_contact(db, contact, {"function": "Directrice"})  # no longer current, no longer listed
        assert svc.update_contact(db, contact, {"function": ""}) == {"function"}
    assert contact.function is None

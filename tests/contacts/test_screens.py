"""The contacts screens through the Flask test client: search, quick creation, sheet, reference lists.

What an operator sees: French labels of the seeds, the sheet's header, the form that keeps what was
typed, each screen refused (403) without its permission."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from coulisses.db import Actor, acting_as
from coulisses import security
from tests.conftest import app_session, csrf_token_of

SCREENS = ["/admin/contacts/", "/admin/contacts/?q=shap", "/admin/contacts/types/", "/admin/contacts_criterion/"]
SHEET_TABS = ["summary", "general", "marketing", "management", "notes", "administration"]
SIDE = ["addresses", "indicators", "seats", "criteria", "links"]
HISTORIES = ["sends", "purchases", "cultural", "financial"]


def text_of(response) -> str:
    return response.get_data(as_text=True)


def visible(html: str) -> str:
    """The page's text without tags and with one space between words (what a person reads)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&gt;", ">").replace("&#39;", "'").strip()


def shapira(app, *, customer=True) -> int:
    """Monsieur Michel SHAPIRA, number 17, as on the seed's sheet."""
    from plugins.contacts.services import activity
    from plugins.contacts.services import contacts as svc

    with app_session(app) as s:
        op = security.get_operator(s, "boss") if security.get_operator(s, "boss") else None
        with acting_as(Actor(op.id if op else None, "boss")):
            c = svc.create_contact(s, {"number": 17, "type_code": "individual", "civility": "M", "last_name": "Shapira",
                                       "first_name": "Michel", "email": "michel.shapira@gmail.com",
                                       "birth_date": "08.07.2000"},
                                   address={"country": "FR", "postal_code": "07000", "city": "Freyssenet",
                                            "line1": "123 ELCA"})
            if customer:
                activity.mark_customer(s, c, datetime(2015, 9, 28, 15, 3, tzinfo=timezone.utc))
            s.commit()
            return c.number


@pytest.fixture
def boss(make_operator, client_for):
    make_operator("boss", roles=["administrator"])
    return client_for("boss")


@pytest.fixture
def viewer(make_operator, client_for):
    make_operator("lecteur", roles=[], permissions=["contacts.view"])
    return client_for("lecteur")


@pytest.fixture
def nobody(make_operator, client_for):
    make_operator("autre", roles=[], permissions=["core.api.docs"])
    return client_for("autre")


def test_every_screen_renders_with_contacts_view_and_is_refused_without(app, boss, viewer, nobody):
    number = shapira(app)
    urls = SCREENS + [f"/admin/contacts/sheet/{number}/?tab={t}" for t in SHEET_TABS]
    urls += [f"/admin/contacts/sheet/{number}/{m}" for m in SIDE]
    urls += [f"/admin/contacts/sheet/{number}/history/{k}" for k in HISTORIES]
    for url in urls:
        assert viewer.get(url).status_code == 200, url
        assert nobody.get(url).status_code == 403, url
    # creating needs contacts.edit: a reader neither sees the form nor the buttons
    assert viewer.get("/admin/contacts/new/").status_code == 403
    assert boss.get("/admin/contacts/new/").status_code == 200
    page = text_of(viewer.get("/admin/contacts/?q=shapira"))
    assert "+ NOUVEAU" not in page and "SUPPRIMER" not in page
    assert "GÉNÉRER MOT DE PASSE" not in text_of(viewer.get(f"/admin/contacts/sheet/{number}/"))
    # the menu "Contacts" lists the screens, not the sheet (opened from a search)
    menu = text_of(boss.get("/admin/contacts/"))
    assert "Rechercher un contact" in menu and "Création d&#39;un contact" in menu and "Critères" in menu


def test_anonymous_is_sent_to_login(app):
    response = app.test_client().get("/admin/contacts/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_sheet_shows_the_seed_header_and_summary(app, boss):
    number = shapira(app)
    page = visible(text_of(boss.get(f"/admin/contacts/sheet/{number}/")))
    assert "☆ Contact > 17 Monsieur Michel SHAPIRA (Client)" in page
    for tab in ("Résumé", "Général", "Marketing", "Gestion", "Notes", "Administration"):
        assert tab in page
    for menu in ("Information", "Adresses", "Indicateurs", "Places préférées", "Critères", "Envois billetterie",
                 "Historique d'achat", "Historique culturel", "Historique financier"):
        assert menu in page
    for indicator in ("Langue de communication", "Abonné", "Ancienneté", "Assiduité", "Filière utilisée", "PMG",
                      "Produit enfant", "Adhérent"):
        assert indicator + " :" in page
    assert "Numéro de contact : 17" in page and "Rôle : Public" in page
    assert "Date de naissance 08.07.2000" in page
    assert "Adresse principale" in page and "FRANCE" in page and "123 ELCA" in page and "07000" in page
    assert "FREYSSENET" in page
    assert "Alertes marketing" in page and "DISPONIBILITÉ" in page
    assert "Pas de compte internet" in page  # and a button to open one
    prospect = visible(text_of(boss.get("/admin/contacts/")))
    assert "{" not in prospect  # never raw JSON


def test_internet_account_opened_then_password_generated_shown_once(app, boss):
    number = shapira(app)
    page = text_of(boss.get(f"/admin/contacts/sheet/{number}/"))
    response = boss.post(f"/admin/contacts/sheet/{number}/account",
                         data={"csrf_token": csrf_token_of(page), "login": "michel.shapira@gmail.com"})
    html = text_of(response)
    first = re.search(r'data-testid="new-password">([^<]+)<', html).group(1)
    text = visible(html)
    assert "Identifiant de connexion michel.shapira@gmail.com" in text
    assert "Opérateur de dernière mise à jour du compte boss" in text
    response = boss.post(f"/admin/contacts/sheet/{number}/password", data={"csrf_token": csrf_token_of(html)})
    second = re.search(r'data-testid="new-password">([^<]+)<', text_of(response)).group(1)
    assert first != second and len(second) == 12
    from plugins.contacts.services.accounts import check_internet_password

    with app_session(app) as s:
        assert check_internet_password(s, "michel.shapira@gmail.com", second) is not None
        assert check_internet_password(s, "michel.shapira@gmail.com", first) is None
    again = text_of(boss.get(f"/admin/contacts/sheet/{number}/"))
    assert second not in again  # shown once, never again


def _quick_form(boss, **values):
    page = text_of(boss.get("/admin/contacts/new/"))
    data = {"csrf_token": csrf_token_of(page), "civility": "M", "last_name": "Dupont", "first_name": "Marc",
            "mobile_phone_country": "FR", "mobile_phone": "", "email": "", "country": "FR", "postal_code": "75012",
            "city": "Paris", "line1": "", "line2": "", "line3": "", "department": "", "region": "",
            "link_kind": "member_of", "structure_number": "", "new_structure_name": "", "exit": "validate"}
    data.update(values)
    return data


def test_quick_creation_form_has_the_seed_fields(app, boss):
    page = visible(text_of(boss.get("/admin/contacts/new/?name=Dupont, marc")))
    for label in ("Civilité *", "Nom *", "Prénom *", "Téléphone portable", "+33 (FR)", "Mél",
                  "Créer un compte internet", "Structure", "NOUVEAU", "Utilisez l'adresse de la structure",
                  "Pays *", "Code postal *", "Ville *", "Adresse", "Département", "Région", "VALIDER", "ANNULER",
                  "FICHE COMPLÈTE"):
        assert label in page, label
    html = text_of(boss.get("/admin/contacts/new/?name=Dupont, marc"))
    assert 'name="last_name" value="DUPONT"' in html and 'name="first_name" value="marc"' in html
    assert re.search(r'<option value="FR" selected>France</option>', html)


def test_quick_creation_error_keeps_every_typed_value(app, boss):
    data = _quick_form(boss, civility="", last_name="Zyxwu", first_name="Élodie", postal_code="7501",
                       city="Paris", line1="12 rue des Lilas", mobile_phone="06 12", email="pas-un-mail",
                       department="Paris", region="Île-de-France")
    response = boss.post("/admin/contacts/new/", data=data)
    assert response.status_code == 422
    html = text_of(response)
    for name, value in (("last_name", "Zyxwu"), ("first_name", "Élodie"), ("postal_code", "7501"),
                        ("line1", "12 rue des Lilas"), ("mobile_phone", "06 12"), ("email", "pas-un-mail")):
        assert f'name="{name}" value="{value}"' in html, name
    assert '<option value="Paris" selected>75 — Paris</option>' in html  # France: the lists keep the choice
    assert '<option value="Île-de-France" selected>Île-de-France</option>' in html
    for field in ("civility", "postal_code", "email", "mobile_phone"):
        assert f'data-error-for="{field}"' in html, field
    assert "Civilité : obligatoire" in html
    with app_session(app) as s:
        from plugins.contacts.services.search import quick_search

        assert quick_search(s, "zyxwu") == []


def test_quick_creation_validate_goes_back_to_the_list_and_sheet_exit_opens_the_sheet(app, boss):
    response = boss.post("/admin/contacts/new/", data=_quick_form(boss, last_name="Arnaud", first_name="Céline"))
    assert response.status_code == 302 and "/admin/contacts/?q=" in response.headers["Location"]
    listing = visible(text_of(boss.get(response.headers["Location"])))
    assert "ARNAUD, Céline" in listing and "créé" in listing
    response = boss.post("/admin/contacts/new/", data=_quick_form(boss, last_name="Bernard", first_name="Luc",
                                                                  exit="sheet"))
    assert response.status_code == 302 and "/admin/contacts/sheet/" in response.headers["Location"]
    sheet = visible(text_of(boss.get(response.headers["Location"])))
    assert "Monsieur Luc BERNARD (Prospect)" in sheet


def test_quick_creation_warns_of_a_likely_duplicate_before_creating(app, boss):
    boss.post("/admin/contacts/new/", data=_quick_form(boss, last_name="Dupont", first_name="Marc"))
    response = boss.post("/admin/contacts/new/", data=_quick_form(boss, last_name="Dupond", first_name="Marc"))
    html = text_of(response)
    assert response.status_code == 200 and 'data-testid="duplicates-warning"' in html
    assert "DUPONT, Marc | FR-75012 [" in html and "Créer quand même" in html
    assert 'name="last_name" value="Dupond"' in html
    with app_session(app) as s:
        from plugins.contacts.services.search import quick_search

        assert len(quick_search(s, "dupon")) == 1
    response = boss.post("/admin/contacts/new/", data={**_quick_form(boss, last_name="Dupond", first_name="Marc"),
                                                      "force": "1"})
    assert response.status_code == 302
    with app_session(app) as s:
        assert len(quick_search(s, "dupon")) == 2


def test_quick_creation_with_new_structure_and_internet_account_shows_the_password(app, boss):
    response = boss.post("/admin/contacts/new/", data=_quick_form(
        boss, last_name="Akoka", first_name="Viviane", new_structure_name="University Paris", link_kind="relay_of",
        email="v.akoka@example.org", create_internet_account="1"))
    html = text_of(response)
    assert response.status_code == 200 and re.search(r'data-testid="new-password">\w{12}<', html)
    listing = visible(text_of(boss.get("/admin/contacts/?q=akoka")))
    assert "Relais" in listing and "University Paris" in listing


def test_advanced_search_form_and_result_columns(app, boss):
    shapira(app)
    page = visible(text_of(boss.get("/admin/contacts/?adv=1")))
    for label in ("Avancé", "Nom", "Numéro de contact", "Relais", "Nature", "Téléphone", "Mél", "Pays", "Tous",
                  "Code postal", "Ville", "Avec contacts non valides", "Avec contacts prospects",
                  "Avec contacts relais", "Numéro administratif de structure", "Critère contact", "IBAN",
                  "Code référence", "Connexion de type", "avec le contact", "Seuls les contacts ambassadeur", "Type",
                  "RECHERCHER", "EFFACER", "+ NOUVEAU", "− SUPPRIMER", "+ NOUVEAU RELAIS", "✎ CHANGER MOT DE PASSE",
                  "NR", "RÔLE", "NOM", "CONTACT RELAIS", "VILLE", "ADRESSE"):
        assert label in page, label
    html = text_of(boss.get("/admin/contacts/?searched=1&name=shap&postal_code=07&with_prospects=1&with_relays=1"))
    row = visible(re.search(r"<tbody>.*?</tbody>", html, re.S).group(0))
    assert "17 Public SHAPIRA, Michel FREYSSENET 123 ELCA, 07000 FREYSSENET" in row
    assert "Exporter CSV" in html
    # prospects unchecked: a prospect disappears, the customer stays
    boss.post("/admin/contacts/new/", data=_quick_form(boss, last_name="Shapiro", first_name="Anna", postal_code="07000",
                                                       city="Freyssenet"))
    both = visible(text_of(boss.get("/admin/contacts/?searched=1&name=shap&with_prospects=1&with_relays=1")))
    assert "SHAPIRO, Anna" in both
    customers = visible(text_of(boss.get("/admin/contacts/?searched=1&name=shap&with_relays=1")))
    assert "SHAPIRO, Anna" not in customers and "SHAPIRA, Michel" in customers
    wrong = text_of(boss.get("/admin/contacts/?searched=1&number=abc"))
    assert 'data-error-for="number"' in wrong and 'value="abc"' in wrong


def test_export_csv_of_the_current_result(app, boss):
    shapira(app)
    response = boss.get("/admin/contacts/export.csv?searched=1&name=shap&with_prospects=1&with_relays=1")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    lines = body.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Numéro;Type;Rôle;Civilité;Nom;Prénom") and len(lines) == 2
    assert lines[1].startswith("17;Individuel;Public;Monsieur;") and ";SHAPIRA;Michel;" in lines[1] and "FREYSSENET" in lines[1]
    wrong = boss.get("/admin/contacts/export.csv?searched=1&number=abc", follow_redirects=True)
    assert wrong.mimetype == "text/html" and "La recherche n&#39;est pas valide" in wrong.get_data(as_text=True)


def test_delete_asks_confirmation_and_a_refusal_is_explained(app, boss, make_operator, client_for):
    number = shapira(app)  # a customer: the domain refuses to delete it
    boss.post("/admin/contacts/new/", data=_quick_form(boss, last_name="Effacer", first_name="Moi"))
    with app_session(app) as s:
        from plugins.contacts.services.search import quick_search

        other = quick_search(s, "effacer")[0].number
    page = text_of(boss.get("/admin/contacts/?q=a"))
    token = csrf_token_of(page)
    confirm = boss.post("/admin/contacts/delete", data={"csrf_token": token, "numbers": [str(number), str(other)],
                                                         "back": "/admin/contacts/?q=a"})
    assert confirm.status_code == 200 and "Confirmer la suppression" in text_of(confirm)
    done = boss.post("/admin/contacts/delete", data={"csrf_token": token, "numbers": [str(number), str(other)],
                                                      "confirmed": "1", "back": "/admin/contacts/?q=a"},
                     follow_redirects=True)
    text = visible(text_of(done))
    assert "Suppression refusée pour 17 SHAPIRA, Michel" in text and "est client" in text
    assert f"Contact supprimé : {other} EFFACER, Moi" in text
    # without contacts.delete: refused
    make_operator("guichet", roles=["operator"])
    operator = client_for("guichet")
    assert operator.post("/admin/contacts/delete", data={"csrf_token": csrf_token_of(text_of(operator.get("/admin/contacts/"))),
                                                          "numbers": [str(number)]}).status_code == 403


def test_change_password_and_new_relay_actions(app, boss):
    boss.post("/admin/contacts/new/", data=_quick_form(boss, last_name="Compte", first_name="Avec",
                                                       email="avec.compte@example.org", create_internet_account="1"))
    with app_session(app) as s:
        from plugins.contacts.services.contacts import create_contact
        from plugins.contacts.services.search import quick_search

        number = quick_search(s, "compte")[0].number
        structure = create_contact(s, {"type_code": "structure", "structure_name": "Lycée Voltaire"},
                                   address={"country": "FR", "postal_code": "75011", "city": "Paris"}).number
        s.commit()
    token = csrf_token_of(text_of(boss.get("/admin/contacts/")))
    response = boss.post("/admin/contacts/password", data={"csrf_token": token, "numbers": [str(number)]})
    assert re.search(r'data-testid="new-password">\w{12}<', text_of(response))
    none = boss.post("/admin/contacts/password", data={"csrf_token": token, "numbers": [str(structure)]},
                     follow_redirects=True)
    assert "pas de compte internet" in text_of(none)
    relay = boss.post("/admin/contacts/new-relay", data={"csrf_token": token, "numbers": [str(structure)]})
    assert relay.status_code == 302 and f"structure_number={structure}" in relay.headers["Location"]
    form = text_of(boss.get(relay.headers["Location"]))
    assert "LYCÉE VOLTAIRE" in form.upper() and '<option value="relay_of" selected>' in form


def test_general_tab_edits_and_keeps_errors_in_the_form(app, boss):
    number = shapira(app)
    page = text_of(boss.get(f"/admin/contacts/sheet/{number}/?tab=general"))
    assert 'name="birth_date" value="08.07.2000"' in page and "Âge" in page
    data = {"csrf_token": csrf_token_of(page), "civility": "M", "last_name": "Shapira", "first_name": "Michel",
            "birth_date": "31.02.2001", "function": "Directeur", "language": "fr", "email": "michel.shapira@gmail.com",
            "mobile_phone_country": "FR", "mobile_phone": "06 12 34 56 78", "phone_country": "BE", "phone": "02 555 12 12",
            "fax_country": "FR", "fax": "", "type_code": "individual", "reference_code": "", "iban": ""}
    response = boss.post(f"/admin/contacts/sheet/{number}/general", data=data)
    html = text_of(response)
    assert response.status_code == 422 and 'data-error-for="birth_date"' in html
    assert 'value="31.02.2001"' in html and 'value="Directeur"' in html and 'value="06 12 34 56 78"' in html
    response = boss.post(f"/admin/contacts/sheet/{number}/general", data={**data, "birth_date": "08.07.2000"},
                         follow_redirects=True)
    text = visible(text_of(response))
    assert "Modification enregistrée" in text
    summary = visible(text_of(boss.get(f"/admin/contacts/sheet/{number}/")))
    assert "Téléphone portable +33 6 12 34 56 78" in summary and "Téléphone +32 2 555 12 12" in summary
    assert "Fonction Directeur" in summary


def test_notes_marketing_management_and_administration_tabs(app, boss):
    number = shapira(app)
    base = f"/admin/contacts/sheet/{number}"
    token = csrf_token_of(text_of(boss.get(base + "/")))
    empty = boss.post(base + "/notes", data={"csrf_token": token, "text": "  "})
    assert empty.status_code == 422 and 'data-error-for="text"' in text_of(empty)
    boss.post(base + "/notes", data={"csrf_token": token, "text": "Préfère le balcon.\nAppeler le matin."})
    notes = visible(text_of(boss.get(base + "/?tab=notes")))
    assert re.search(r"\d\d\.\d\d\.\d{4} \d\d:\d\d — boss", notes) and "Préfère le balcon." in notes
    boss.post(base + "/consents", data={"csrf_token": token, "consent_email": "yes", "consent_sms": "no"})
    marketing = text_of(boss.get(base + "/?tab=marketing"))
    assert re.search(r'name="consent_email".*?<option value="yes" selected>', marketing, re.S)
    assert re.search(r'name="consent_sms".*?<option value="no" selected>', marketing, re.S)
    boss.post(base + "/alerts", data={"csrf_token": token, "type": "Grand public",
                                      "offer": 'Promo "Package deux ballets" - 50%', "availability": "100"})
    summary = visible(text_of(boss.get(base + "/")))
    assert 'Grand public Promo "Package deux ballets" - 50%' in summary.replace("&#34;", '"').replace("&quot;", '"')
    management = visible(text_of(boss.get(base + "/?tab=management")))
    assert "Aucun module de gestion n'apporte d'information pour ce contact" in management
    admin = visible(text_of(boss.get(base + "/?tab=administration")))
    assert re.search(r"Création \d\d\.\d\d\.\d{4} \d\d:\d\d par boss", admin)
    assert "Client depuis le 28.09.2015" in admin


def test_side_menus_addresses_criteria_links_seats_histories(app, boss):
    number = shapira(app)
    base = f"/admin/contacts/sheet/{number}"
    with app_session(app) as s:
        from plugins.contacts.services import details
        from plugins.contacts.services.contacts import create_contact

        details.create_criterion(s, "opera", "Amateur d'opéra", "individual", "Goûts")
        details.create_criterion(s, "school", "Établissement scolaire", "structure", "Secteur")
        structure = create_contact(s, {"type_code": "structure", "structure_name": "University Paris"},
                                   address={"country": "FR", "postal_code": "75005", "city": "Paris"}).number
        s.commit()
    token = csrf_token_of(text_of(boss.get(base + "/")))
    # addresses: add a delivery address, make it the main one
    bad = boss.post(base + "/addresses", data={"csrf_token": token, "usage": "delivery", "country": "FR",
                                               "postal_code": "ABC", "city": "Lyon", "line1": "1 place Bellecour"})
    assert bad.status_code == 422 and 'value="1 place Bellecour"' in text_of(bad)
    boss.post(base + "/addresses", data={"csrf_token": token, "usage": "delivery", "country": "FR",
                                         "postal_code": "69002", "city": "Lyon", "line1": "1 place Bellecour"})
    page = text_of(boss.get(base + "/addresses"))
    address_id = re.search(r"/addresses/(\d+)/main", page).group(1)
    boss.post(f"{base}/addresses/{address_id}/main", data={"csrf_token": token})
    assert "LYON" in visible(text_of(boss.get(base + "/")))
    # criteria: only the individuals' list is offered
    crit = text_of(boss.get(base + "/criteria"))
    assert "Amateur d&#39;opéra" in crit and "Établissement scolaire" not in crit
    boss.post(base + "/criteria", data={"csrf_token": token, "code": "opera"})
    assert "Amateur d&#39;opéra" in re.search(r'data-testid="criteria".*?</div>', text_of(boss.get(base + "/criteria")), re.S).group(0)
    # links: relay of a structure; the role follows
    links = visible(text_of(boss.get(base + "/links")))
    assert "Relais de" in links and "Membre de" in links and "Enfant de" in links and "Filiale de" not in links
    boss.post(base + "/links", data={"csrf_token": token, "kind": "out:relay_of", "other_number": str(structure),
                                     "start_date": "2024-09-01"})
    links = visible(text_of(boss.get(base + "/links")))
    assert f"Relais de University Paris [{structure}] 01.09.2024" in links
    assert "Rôle : Relais" in visible(text_of(boss.get(base + "/")))
    refused = boss.post(base + "/links", data={"csrf_token": token, "kind": "out:child_of", "other_number": str(number)})
    assert refused.status_code == 422
    # preferred seats
    boss.post(base + "/seats", data={"csrf_token": token, "venue": "Grande salle", "area": "Balcon", "row": "C",
                                     "seat": "12"})
    assert "Grande salle Balcon C 12" in visible(text_of(boss.get(base + "/seats")))
    # histories: an honest empty state until the sales plugin exists
    for kind, message in (("purchases", "Aucune commande pour ce contact."),
                          ("cultural", "Aucune séance assistée ou à venir pour ce contact."),
                          ("financial", "Aucun règlement pour ce contact.")):
        text = visible(text_of(boss.get(f"{base}/history/{kind}")))
        assert message in text and "Le module Ventes n'est pas activé" in text
    from plugins.contacts.services.activity import record_send

    with app_session(app) as s:
        from plugins.contacts.services.contacts import get_contact

        record_send(s, get_contact(s, number), "email", "Votre billet pour Giselle", reference="CMD-42")
        s.commit()
    assert "Votre billet pour Giselle CMD-42" in visible(text_of(boss.get(f"{base}/history/sends")))


def test_a_plugin_type_extra_fields_are_shown_and_edited_on_the_sheet(make_app, make_operator, register_plugin):
    from plugins.contacts.registry import ContactType, ExtraField
    from tests.conftest import login
    from tests.platform.conftest import make_plugin

    patron = ContactType("patron", "Mécène", "individual",
                         fields=(ExtraField("level", "Niveau", "choice", required=True,
                                            choices=(("silver", "Argent"), ("gold", "Or")), searchable=True),
                                 ExtraField("yearly_gift", "Don annuel", "int")))
    register_plugin(make_plugin("tp_patrons", hooks={"contacts_types": lambda: [patron]}))
    make_operator("boss", roles=["administrator"])
    app = make_app(["contacts", "tp_patrons"])
    client = app.test_client()
    login(client, "boss")
    with app_session(app) as s:
        from plugins.contacts.services.contacts import create_contact

        number = create_contact(s, {"type_code": "patron", "last_name": "Medicis", "first_name": "Laurent",
                                    "extra": {"level": "silver", "yearly_gift": 500}}).number
        s.commit()
    summary = visible(text_of(client.get(f"/admin/contacts/sheet/{number}/")))
    assert "Mécène" in summary and "Niveau Argent" in summary and "Don annuel 500" in summary
    page = text_of(client.get(f"/admin/contacts/sheet/{number}/?tab=general"))
    assert 'name="extra.level"' in page and '<option value="silver" selected>Argent</option>' in page
    data = {"csrf_token": csrf_token_of(page), "civility": "M", "last_name": "Medicis", "first_name": "Laurent",
            "language": "fr", "type_code": "patron", "extra.level": "", "extra.yearly_gift": "douze"}
    response = client.post(f"/admin/contacts/sheet/{number}/general", data=data)
    html = text_of(response)
    assert response.status_code == 422 and 'data-error-for="extra.level"' in html
    assert 'data-error-for="extra.yearly_gift"' in html and 'value="douze"' in html
    client.post(f"/admin/contacts/sheet/{number}/general", data={**data, "extra.level": "gold", "extra.yearly_gift": "5000"})
    assert "Niveau Or" in visible(text_of(client.get(f"/admin/contacts/sheet/{number}/")))
    # and searchable from the advanced search
    adv = text_of(client.get("/admin/contacts/?searched=1&extra.level=gold&with_prospects=1&with_relays=1"))
    assert "Niveau (Mécène)" in visible(adv) and "MEDICIS, Laurent" in visible(adv)


def test_criteria_reference_list_crud(app, boss, viewer):
    page = text_of(boss.get("/admin/contacts_criterion/new/"))
    response = boss.post("/admin/contacts_criterion/new/", data={
        "csrf_token": csrf_token_of(page), "group": "Goûts", "code": "danse", "label": "Amateur de danse",
        "applies_to": "individual", "active": "y", "position": "1"})
    assert response.status_code == 302
    listing = visible(text_of(viewer.get("/admin/contacts_criterion/")))
    assert "Amateur de danse" in listing and "Individuels" in listing
    assert viewer.get("/admin/contacts_criterion/new/").status_code == 403
    types = visible(text_of(viewer.get("/admin/contacts/types/")))
    assert "Guide" in types and "Fournisseur" in types and "Support" in types


def test_a_structure_sheet_shows_its_information_and_its_relays_history(make_app, make_operator, register_plugin):
    """Seeds: the summary's "informations générales sur le contact … structure", and "Structure publique :
    fiche … regroupant les historiques des différents individuels qui lui sont liés"."""
    from datetime import date

    from plugins.contacts.registry import HistoryRow
    from plugins.contacts.services.contacts import create_contact, create_quick
    from tests.conftest import login
    from tests.platform.conftest import make_plugin

    def sales_history(session, contact, kind):
        if kind == "purchases" and contact.kind == "individual":
            return [HistoryRow("purchases", date(2030, 1, 5), "Sortie scolaire Giselle", "CMD-7")]
        return []

    register_plugin(make_plugin("tp_sales", depends=["contacts"], hooks={"contacts_history": sales_history}))
    make_operator("boss", roles=["administrator"])
    app = make_app(["contacts", "tp_sales"])
    client = app.test_client()
    login(client, "boss")
    with app_session(app) as s:
        univ = create_contact(s, {"type_code": "structure", "structure_name": "UNIVERSITY PARIS",
                                  "administrative_number": "73282932000074"},
                              address={"country": "FR", "postal_code": "75005", "city": "Paris"})
        akoka = create_quick(s, {"civility": "MME", "last_name": "Akoka", "first_name": "Viviane",
                                 "structure_number": univ.number, "link_kind": "relay_of",
                                 "use_structure_address": True})
        s.commit()
        number, relay = univ.number, akoka.number
    summary = visible(text_of(client.get(f"/admin/contacts/sheet/{number}/")))
    assert f"Contact > {number} UNIVERSITY PARIS (Prospect)" in summary
    assert "Structure" in summary and "Nom UNIVERSITY PARIS" in summary
    assert "Numéro administratif 73282932000074" in summary and "Rôle : Public" in summary
    purchases = visible(text_of(client.get(f"/admin/contacts/sheet/{number}/history/purchases")))
    assert f"Sortie scolaire Giselle par AKOKA, Viviane [{relay}] CMD-7" in purchases


def test_quick_creation_ticks_internet_account_and_then_requires_the_email(app, boss):
    """G5 + G7: ticked by default as in the seed; ticked without Mél is refused beside the Mél field and
    keeps what was typed; unticked, a contact without e-mail is created (and has no account)."""
    html = text_of(boss.get("/admin/contacts/new/"))
    assert re.search(r'name="create_internet_account" value="1" checked', html)
    data = _quick_form(boss, last_name="Sansmel", first_name="Léa", line1="3 rue Haute", create_internet_account="1")
    response = boss.post("/admin/contacts/new/", data=data)
    assert response.status_code == 422
    html = text_of(response)
    assert re.search(r'name="email".*?data-error-for="email">Mél : obligatoire pour créer un compte internet<', html, re.S)
    for name, value in (("last_name", "Sansmel"), ("first_name", "Léa"), ("line1", "3 rue Haute"), ("postal_code", "75012")):
        assert f'name="{name}" value="{value}"' in html, name
    assert re.search(r'name="create_internet_account" value="1" checked', html)
    with app_session(app) as s:
        from plugins.contacts.services.search import quick_search

        assert quick_search(s, "sansmel") == []
    data.pop("create_internet_account")  # unticked: no e-mail needed
    assert boss.post("/admin/contacts/new/", data=data).status_code == 302
    with app_session(app) as s:
        from plugins.contacts.services.accounts import account_of
        from plugins.contacts.services.search import quick_search

        (hit,) = quick_search(s, "sansmel")
        from plugins.contacts.services.contacts import get_contact

        assert account_of(s, get_contact(s, hit.number)) is None


def test_sheet_refuses_an_internet_account_for_a_contact_without_email(app, boss):
    """G7 on the sheet: no account without the e-mail that is its login; the e-mail of a contact who has
    an account is required (Mél *) and cannot be removed."""
    from plugins.contacts.services import accounts
    from plugins.contacts.services import contacts as svc
    from coulisses import InvalidError

    with app_session(app) as s:
        c = svc.create_contact(s, {"type_code": "individual", "civility": "MME", "last_name": "Nomail",
                                   "first_name": "Ada"}, address={"country": "FR", "postal_code": "75012", "city": "Paris"})
        s.commit()
        number = c.number
    sheet = text_of(boss.get(f"/admin/contacts/sheet/{number}/"))
    assert 'data-testid="account-needs-email"' in sheet
    response = boss.post(f"/admin/contacts/sheet/{number}/account",
                         data={"csrf_token": csrf_token_of(sheet), "login": "ada@example.org"}, follow_redirects=True)
    assert ("n'a pas de mél, l'identifiant de son compte internet : Mél : obligatoire pour créer un compte "
            "internet — saisissez-le dans l'onglet Général") in visible(text_of(response))
    with app_session(app) as s:
        contact = svc.get_contact(s, number)
        assert accounts.account_of(s, contact) is None
        with pytest.raises(InvalidError) as refused:
            accounts.create_internet_account(s, contact)
        assert "Mél : obligatoire pour créer un compte internet" in refused.value.fields["email"]
        svc.update_contact(s, contact, {"email": "ada@example.org"})
        accounts.create_internet_account(s, contact)
        with pytest.raises(InvalidError) as removed:
            svc.update_contact(s, contact, {"email": ""})
        assert "identifiant du compte internet" in removed.value.fields["email"]
        s.commit()
    general = text_of(boss.get(f"/admin/contacts/sheet/{number}/?tab=general"))
    assert re.search(r'for="f-email"[^>]*>Mél <span class="text-danger"[^>]*>\*</span>', general)


def test_sheet_summary_indicator_selector_shows_value_level_and_definition(app, boss):
    """G6: "Valeur des indicateurs — Sélectionner…" above the pictograms lists the indicators; choosing
    one (GET ?indicator=) shows its value, level, definition, when it is computed and its thresholds."""
    number = shapira(app)
    page = text_of(boss.get(f"/admin/contacts/sheet/{number}/"))
    selector = re.search(r'data-testid="indicator-selector".*?</form>', page, re.S).group(0)
    assert page.index('data-testid="indicator-selector"') < page.index('data-testid="indicators-strip"')
    assert '<option value="">Sélectionner...</option>' in selector
    for code, label in (("attendance", "Assiduité"), ("pmg", "PMG"), ("seniority", "Ancienneté"), ("member", "Adhérent")):
        assert f'<option value="{code}">{label}</option>' in selector
    assert 'data-testid="indicator-value"' not in page
    chosen = text_of(boss.get(f"/admin/contacts/sheet/{number}/?tab=summary&indicator=attendance"))
    assert '<option value="attendance" selected>Assiduité</option>' in chosen
    panel = visible(re.search(r'data-testid="indicator-value".*?</table>', chosen, re.S).group(0))
    assert "Assiduité : 0 — niveau Inactif" in panel
    assert "séances distinctes" in panel and "chaque nuit" in panel
    for band in ("0 Inactif", "1 Occasionnel", "2 à 5 Régulier", "6 et plus Constant"):
        assert band in panel, band
    pmg = visible(re.search(r'data-testid="indicator-value".*?</table>', text_of(
        boss.get(f"/admin/contacts/sheet/{number}/?indicator=pmg")), re.S).group(0))
    assert "moins de 150,00 € Petit" in pmg and "600,00 € et plus Gros" in pmg
    unknown = text_of(boss.get(f"/admin/contacts/sheet/{number}/?indicator=nope"))
    assert 'data-testid="indicator-value"' not in unknown


def test_department_and_region_are_lists_for_france_and_free_text_elsewhere(app, boss):
    """G3 on the screens: quick creation and the sheet's address forms show the ISO 3166-2:FR lists for
    France (the other control disabled), free text for another country; the name is stored."""
    html = text_of(boss.get("/admin/contacts/new/"))
    dept = re.search(r'<select[^>]*name="department".*?</select>', html, re.S).group(0)
    assert len(re.findall(r"<option value=", dept)) == 102  # "Sélectionner..." + 101 departments
    assert '<option value="Corse-du-Sud">2A — Corse-du-Sud</option>' in dept and "disabled" not in dept.split(">")[0]
    region = re.search(r'<select[^>]*name="region".*?</select>', html, re.S).group(0)
    assert len(re.findall(r"<option value=", region)) == 19
    assert re.search(r'<input type="text"[^>]*name="department" disabled', html)
    assert boss.post("/admin/contacts/new/", data=_quick_form(boss, last_name="Listeux", first_name="Rémi",
                                                              department="Paris", region="Île-de-France")).status_code == 302
    abroad = _quick_form(boss, last_name="Etranger", first_name="Jan", country="BE", postal_code="1000",
                         city="Bruxelles", department="Bruxelles-Capitale", region="")
    refused = text_of(boss.post("/admin/contacts/new/", data={**abroad, "civility": ""}))
    assert re.search(r'<input type="text"[^>]*name="department" value="Bruxelles-Capitale"', refused)
    assert re.search(r'<select[^>]*name="department"[^>]*disabled', refused)
    assert boss.post("/admin/contacts/new/", data=abroad).status_code == 302
    with app_session(app) as s:
        from plugins.contacts.services.contacts import get_contact
        from plugins.contacts.services.search import quick_search

        mine = get_contact(s, quick_search(s, "listeux")[0].number).main_address
        assert (mine.department, mine.region) == ("Paris", "Île-de-France")
        assert get_contact(s, quick_search(s, "etranger")[0].number).main_address.department == "Bruxelles-Capitale"
    number = shapira(app)
    book = text_of(boss.get(f"/admin/contacts/sheet/{number}/addresses"))
    assert book.count('<option value="Ardèche">07 — Ardèche</option>') >= 1
    token = csrf_token_of(book)
    bad = boss.post(f"/admin/contacts/sheet/{number}/addresses",
                    data={"csrf_token": token, "usage": "delivery", "country": "FR", "postal_code": "07000",
                          "city": "Privas", "department": "Atlantide"})
    assert "Département : inconnu en France (Atlantide)" in text_of(bad)


def test_general_tab_function_is_a_list_keeping_the_current_value(app, boss):
    """G4: the seed's "Fonction [dropdown]" is a select of CONTACTS_FUNCTIONS; a value off the list is
    kept (marked "hors liste") so opening and saving the sheet loses nothing; another one is refused."""
    from plugins.contacts.models import Contact

    number = shapira(app)
    with app_session(app) as s:
        s.query(Contact).filter_by(number=number).one().function = "Ingénieur"
        s.commit()
    page = text_of(boss.get(f"/admin/contacts/sheet/{number}/?tab=general"))
    select_html = re.search(r'<select[^>]*name="function".*?</select>', page, re.S).group(0)
    assert '<option value="Responsable billetterie">' in select_html
    assert '<option value="Ingénieur" selected>Ingénieur (hors liste)</option>' in select_html
    data = {"csrf_token": csrf_token_of(page), "civility": "M", "last_name": "Shapira", "first_name": "Michel",
            "birth_date": "08.07.2000", "function": "Ingénieur", "language": "fr", "email": "michel.shapira@gmail.com",
            "mobile_phone_country": "FR", "mobile_phone": "", "phone_country": "FR", "phone": "",
            "fax_country": "FR", "fax": "", "type_code": "individual", "reference_code": "", "iban": ""}
    response = boss.post(f"/admin/contacts/sheet/{number}/general", data=data, follow_redirects=True)
    assert "Modification enregistrée" in visible(text_of(response))
    response = boss.post(f"/admin/contacts/sheet/{number}/general", data={**data, "function": "Astronaute"})
    html = text_of(response)
    assert response.status_code == 422 and 'data-error-for="function"' in html
    assert "Fonction : choisissez une valeur de la liste" in html
    response = boss.post(f"/admin/contacts/sheet/{number}/general", data={**data, "function": "Enseignant"},
                         follow_redirects=True)
    assert "Fonction Enseignant" in visible(text_of(boss.get(f"/admin/contacts/sheet/{number}/")))

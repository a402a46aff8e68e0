"""The contacts screens in real headless Chromium: quick search with autocomplete (keyboard), quick
creation with a structure chosen through the autocomplete, the sheet's tabs and side menus.

Screenshots go to /tmp/contacts_*.png (looked at while building the screens)."""
from __future__ import annotations

import re

import pytest

from coulisses.db import Actor, acting_as
from tests.browser.conftest import browser_login
from tests.conftest import PASSWORD, app_session

pytestmark = pytest.mark.browser

SEED_LABEL = re.compile(r"^[A-Z][A-Z -]*, [A-Za-zÀ-ÿ-]+ \| FR-\d{5} \[\d+\]$")
SHOTS = "/tmp"


@pytest.fixture
def app(live_server):
    return live_server(["contacts"])


def _people(app):
    from plugins.contacts.services import contacts as svc

    people = [("DUPONT", "Chantal", "75012"), ("DUPONT", "Frederic", "67600"), ("DUPONT", "Marie", "92160"),
              ("DUPONT SADIER", "Michele", "94230"), ("DUPONT-ROUGIER", "Vincent", "92700"),
              ("DUBOIS", "Céline", "69003"), ("CELINE", "Louis", "13001"), ("MARTIN", "Paul", "75001")]
    with app_session(app) as s, acting_as(Actor(None, "STX_BDD")):
        for last, first, postal in people:
            svc.create_quick(s, {"civility": "MME" if first in ("Chantal", "Marie", "Michele", "Céline") else "M",
                                 "last_name": last, "first_name": first, "country": "FR", "postal_code": postal,
                                 "city": "Paris"})
        svc.create_contact(s, {"type_code": "structure", "structure_name": "University Paris"},
                           address={"country": "FR", "postal_code": "75005", "city": "Paris", "line1": "1 rue Victor Cousin"})
        s.commit()


def _entries(page):
    page.wait_for_selector("[data-testid=autocomplete] [role=option]")
    return [t.strip() for t in page.locator("#quick-search ~ [data-testid=autocomplete] [role=option], "
                                            ".contacts-quick [data-testid=autocomplete] [role=option]").all_inner_texts()]


def test_quick_search_autocomplete_creation_and_sheet(app, make_operator, page):
    make_operator("boss", roles=["administrator"])
    _people(app)
    base = app.config["LIVE_URL"]
    browser_login(page, base, "boss", PASSWORD)
    page.click("text=Contacts")
    page.click("text=Rechercher un contact")
    page.wait_for_url(base + "/admin/contacts/")

    # "celine" finds Céline and CELINE (accents and case ignored)
    box = page.locator("#quick-search")
    box.click()
    box.press_sequentially("celine", delay=40)
    entries = _entries(page)
    assert any(e.startswith("DUBOIS, Céline | FR-69003 [") for e in entries), entries
    assert any(e.startswith("CELINE, Louis | FR-13001 [") for e in entries), entries
    assert entries[-1] == "Créer un nouveau contact…"
    page.keyboard.press("Escape")
    assert page.locator(".contacts-quick [data-testid=autocomplete]").is_hidden()
    page.keyboard.press("Enter")  # Enter without a chosen entry: the full search
    page.wait_for_url(re.compile(r".*q=celine.*"))
    rows = page.locator("[data-testid=results] tbody tr").all_inner_texts()
    assert len(rows) == 2 and "DUBOIS, Céline" in " ".join(rows) and "CELINE, Louis" in " ".join(rows)
    page.screenshot(path=f"{SHOTS}/contacts_search_results.png", full_page=True)

    # "dup": every name starting with dup, in the seeds' format, "Créer un nouveau contact…" last
    box = page.locator("#quick-search")
    box.fill("")
    box.press_sequentially("dup", delay=40)
    entries = _entries(page)
    contacts = entries[:-1]
    assert len(contacts) == 5 and all(SEED_LABEL.match(e) for e in contacts), contacts
    assert contacts[0].startswith("DUPONT, Chantal | FR-75012 [")
    assert sorted(e.split(",")[0] for e in contacts) == ["DUPONT", "DUPONT", "DUPONT", "DUPONT SADIER",
                                                         "DUPONT-ROUGIER"]
    assert entries[-1] == "Créer un nouveau contact…"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    active = page.locator(".contacts-ac [role=option].active")
    assert active.inner_text().startswith("DUPONT, Chantal")
    assert box.get_attribute("aria-activedescendant") == active.get_attribute("id")
    page.screenshot(path=f"{SHOTS}/contacts_autocomplete.png")
    page.keyboard.press("Enter")  # opens the chosen contact's sheet
    page.wait_for_url(re.compile(r".*/admin/contacts/sheet/\d+/$"))
    assert "Madame Chantal DUPONT (Prospect)" in page.get_by_test_id("sheet-header").inner_text()

    # a name nobody has: the last entry creates it, the typed name already in the form
    page.goto(base + "/admin/contacts/")
    box = page.locator("#quick-search")
    box.press_sequentially("Dupuis, Marc", delay=30)
    page.wait_for_selector(".contacts-ac .ac-create")
    page.keyboard.press("ArrowUp")  # from the box, up goes to the last entry
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/admin/contacts/new/\?name=.*"))
    assert page.input_value("#f-last_name") == "DUPUIS" and page.input_value("#f-first_name") == "Marc"
    page.screenshot(path=f"{SHOTS}/contacts_quick_create.png", full_page=True)

    # a refused form keeps what was typed
    page.fill("#f-postal_code", "750")
    page.fill("#f-city", "Paris")
    page.fill("#f-line1", "8 rue de la Paix")
    page.click("[data-testid=validate]")
    page.wait_for_selector("[data-testid=form-errors]")
    assert page.locator("[data-error-for=civility]").is_visible()
    assert page.locator("[data-error-for=postal_code]").is_visible()
    assert page.input_value("#f-line1") == "8 rue de la Paix" and page.input_value("#f-last_name") == "DUPUIS"
    page.screenshot(path=f"{SHOTS}/contacts_quick_create_errors.png", full_page=True)
    # "Créer un compte internet" is ticked as in the seed: without a Mél it is refused beside the field
    assert page.locator("#f-create_internet_account").is_checked()
    assert "compte internet" in page.locator("[data-error-for=email]").inner_text()
    page.locator("#f-create_internet_account").uncheck(force=True)

    page.select_option("#f-civility", "M")
    page.fill("#f-postal_code", "75002")
    page.fill("#f-mobile_phone", "06 12 34 56 78")
    structure = page.locator("#f-structure")
    structure.press_sequentially("univ", delay=40)
    page.wait_for_selector("#structure-existing [role=option]")
    assert page.locator("#structure-existing [role=option]").first.inner_text().startswith("UNIVERSITY PARIS |") or \
        page.locator("#structure-existing [role=option]").first.inner_text().startswith("University Paris |")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert page.input_value("#f-structure_number") != ""
    page.select_option("select[name=link_kind]", "relay_of")
    page.click("[data-testid=full-sheet]")
    page.wait_for_url(re.compile(r".*/admin/contacts/sheet/\d+/$"))
    header = page.get_by_test_id("sheet-header").inner_text()
    assert re.search(r"Contact > \d+ Monsieur Marc DUPUIS \(Prospect\)", header), header
    assert "Rôle : Relais" in page.get_by_test_id("tab-summary").inner_text()
    page.screenshot(path=f"{SHOTS}/contacts_sheet_summary.png", full_page=True)

    # walk the tabs
    for label, key, expected in (("Général", "general", "Téléphone portable"),
                                 ("Marketing", "marketing", "consentements"),
                                 ("Gestion", "management", "Aucun module de gestion"),
                                 ("Notes", "notes", "Aucune note"),
                                 ("Administration", "administration", "par boss"),
                                 ("Résumé", "summary", "Compte internet")):
        page.get_by_test_id("sheet-tabs").get_by_role("tab", name=label, exact=True).click()
        body = page.get_by_test_id(f"tab-{key}")
        body.wait_for()
        assert expected in body.inner_text(), (label, body.inner_text()[:300])
        if key == "general":
            assert page.input_value("#f-mobile_phone") == "+33 6 12 34 56 78"
            page.screenshot(path=f"{SHOTS}/contacts_sheet_general.png", full_page=True)
    # a note, dated and signed
    page.get_by_test_id("sheet-tabs").get_by_role("tab", name="Notes").click()
    page.fill("#f-note", "Rappeler pour l'abonnement.")
    page.click("text=Ajouter la note")
    page.wait_for_selector("text=Note ajoutée.")
    assert "boss" in page.get_by_test_id("notes").inner_text()

    # walk the side menus and the four histories
    menu = page.get_by_test_id("sheet-menu")
    for label, testid, expected in (("Adresses", "menu-addresses", "75002"),
                                    ("Indicateurs", "menu-indicators", "Assiduité"),
                                    ("Places préférées", "menu-seats", "Aucune place préférée"),
                                    ("Critères", "menu-criteria", "Aucun critère"),
                                    ("Liens", "menu-links", "Relais de"),
                                    ("Envois billetterie", "history-sends", "Aucun envoi billetterie"),
                                    ("Historique d'achat", "history-purchases", "Aucune commande"),
                                    ("Historique culturel", "history-cultural", "Aucune séance"),
                                    ("Historique financier", "history-financial", "Aucun règlement")):
        menu.get_by_role("link", name=label).click()
        panel = page.get_by_test_id(testid)
        panel.wait_for()
        assert expected in panel.inner_text(), (label, panel.inner_text()[:300])
        if testid in ("menu-links", "menu-addresses", "menu-indicators"):
            page.screenshot(path=f"{SHOTS}/contacts_sheet_{testid}.png", full_page=True)
    menu.get_by_role("link", name="Information").click()
    page.get_by_test_id("tab-summary").wait_for()

    # the advanced search: the toggle, then the result list
    page.goto(base + "/admin/contacts/")
    page.click("#advanced-toggle")
    assert page.locator("#advanced-search").is_visible()
    assert page.locator("#advanced-toggle").inner_text() == "Avancé <<<"
    page.fill("#f-name", "dup")
    page.fill("#f-postal_code", "9")
    page.click("[data-testid=search-submit]")
    page.wait_for_selector("[data-testid=results] tbody tr")
    names = page.locator("[data-testid=results] tbody tr td:nth-child(4) a").all_inner_texts()
    assert sorted(n.strip() for n in names) == ["DUPONT SADIER, Michele", "DUPONT, Marie", "DUPONT-ROUGIER, Vincent"]
    assert page.locator("#advanced-search").is_visible()  # stays open with its criteria
    page.screenshot(path=f"{SHOTS}/contacts_advanced_search.png", full_page=True)


def test_the_autocomplete_says_when_more_contacts_match_than_it_shows(app, make_operator, page):
    """Issue 14: the autocomplete shows 15 contacts; beyond, a line says to refine the search (not
    selectable, announced), and the arrows only walk the contacts and "Créer…"."""
    from plugins.contacts.services import contacts as svc

    with app_session(app) as s, acting_as(Actor(None, "STX_BDD")):
        for i in range(18):
            svc.create_contact(s, {"type_code": "individual", "civility": "M", "last_name": f"LAPONT{chr(65 + i)}",
                                   "first_name": "Paul"})
        s.commit()
    make_operator("boss", roles=["administrator"])
    base = app.config["LIVE_URL"]
    browser_login(page, base, "boss", PASSWORD)
    page.goto(base + "/admin/contacts/")
    box = page.locator("#quick-search")
    box.click()
    box.press_sequentially("lapont", delay=40)
    page.wait_for_selector("[data-testid=autocomplete-more]")
    entries = _entries(page)
    assert len([e for e in entries if e.startswith("LAPONT")]) == 15
    assert entries[-2:] == ["D'autres contacts correspondent : affinez la recherche.", "Créer un nouveau contact…"]
    more = page.locator("[data-testid=autocomplete-more]")
    assert more.get_attribute("aria-disabled") == "true"
    box.fill("")
    box.press_sequentially("lapontb", delay=40)
    more.wait_for(state="detached")  # one match: all shown, no "refine" line
    assert [e for e in _entries(page) if e.startswith("LAPONT")] == [e for e in _entries(page) if e.startswith("LAPONTB")]

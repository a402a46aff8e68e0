"""In a real browser, by keyboard: a supervisor configures a network ticket printer, edits its
settings in the form generated from its driver, runs its Test against the simulator and reads the
result."""
import re

import pytest

from plugins.devices.simulators import FglPrinterSimulator
from tests.browser.conftest import browser_login
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_a_supervisor_configures_and_tests_a_printer_by_keyboard(live_server, make_operator, page, tmp_path):
    app = live_server(["devices"])
    make_operator("chef", roles=["supervisor"])
    base = app.config["LIVE_URL"]
    browser_login(page, base, "chef", PASSWORD)
    with FglPrinterSimulator() as printer:
        page.goto(base + "/admin/devices_device/new/")
        page.get_by_label("Lieu de travail").fill("Guichet")
        page.keyboard.press("Tab")
        page.keyboard.type("BOCA du guichet")  # the next field, by keyboard: Nom
        page.get_by_label("Type").select_option("ticket_printer")
        page.get_by_label("Rôle").fill("billets")
        page.get_by_label("Pilote").select_option("boca_fgl")
        page.get_by_label("Piloté par").select_option("server")
        page.get_by_label("Port").fill(printer.url)
        page.get_by_label("Port").press("Enter")
        page.wait_for_url(base + "/admin/devices_device/**")
        assert "BOCA du guichet" in page.content()

        page.get_by_title("Réglages").first.focus()
        page.keyboard.press("Enter")
        page.get_by_label("Page de code").select_option("cp850")
        page.get_by_label("Délai d'impression d'un billet (secondes)").fill("500")
        page.get_by_role("button", name="Enregistrer").press("Enter")
        alert = page.locator("[role=alert]").first
        assert alert.is_visible()
        described = page.get_by_label("Délai d'impression d'un billet (secondes)").get_attribute("aria-describedby")
        assert described and page.locator(f"#{described.split()[-1]}").is_visible()
        page.get_by_label("Délai d'impression d'un billet (secondes)").fill("8")
        page.get_by_role("button", name="Enregistrer").press("Enter")
        page.wait_for_selector("text=Réglages enregistrés.")

        page.get_by_title("Tester").first.focus()
        page.keyboard.press("Enter")
        page.get_by_role("button", name="Test complet (impression, affichage…)").press("Enter")
        result = page.get_by_test_id("test-state")
        result.wait_for()
        assert result.inner_text().strip() == "Terminé"
        page.screenshot(path=str(tmp_path / "device-test.png"))
        assert len(printer.tickets) == 1


def test_a_scan_on_the_sales_screen_takes_the_ticket_s_order_up(live_server, make_operator, browser):
    """A keyboard-wedge scanner types a ticket's barcode and Enter in "Code-barres (scan)" (Alt+B): the
    order comes into the basket. Then a serial scanner (the simulator, read by the driver) scans a
    ticket of another order, which the workstation's agent posts to its REST endpoint: it joins the
    same basket, and the open screen shows it without a reload, says so to screen readers, and keeps
    what the operator was typing (and the focus)."""
    import threading

    from sqlalchemy import select
    from playwright.sync_api import expect

    from plugins.devices.drivers.scanner import SERIAL_SCANNER
    from plugins.devices.simulators import ScannerSimulator
    from plugins.devices.transport import open_port
    from plugins.sales.models import Order, PointOfSale
    from tests.browser.test_accessibility import audit
    from tests.browser.test_sales_baskets_browser import _reserve
    from tests.browser.test_sales_browser import _shop
    from tests.conftest import app_session

    app = live_server(["sales", "devices"], DEVICES_LONG_POLL_SECONDS=3)
    make_operator("STX_BDD", roles=["operator"])
    buyer = _shop(app)
    first, second = _reserve(app, buyer, 2), _reserve(app, buyer, 1)
    with app_session(app) as s:
        codes = {o.number: o.tickets[0].barcode for o in s.scalars(select(Order))}
        pos = s.scalar(select(PointOfSale.code).where(PointOfSale.is_default.is_(True)))
    base = app.config["LIVE_URL"]
    context = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900}, bypass_csp=True)
    page = context.new_page()
    browser_login(page, base, "STX_BDD", PASSWORD)
    page.goto(base + "/admin/sales/sell/")
    page.wait_for_load_state()
    page.locator("#perf-filter").focus()  # somewhere else on the screen: Alt+B brings the scan field
    page.keyboard.press("Alt+B")
    expect(page.locator("#sell-scan")).to_be_focused()
    page.keyboard.type("01019999999")  # a misread code: said beside the field, nothing else moves
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#sell-scan-error")).to_contain_text("Code-barres inconnu : 01019999999")
    expect(page.locator("#sell-scan")).to_have_attribute("aria-invalid", "true")
    page.wait_for_load_state()
    page.locator("#sell-scan").fill("")
    page.locator("#sell-scan").focus()
    expect(page.locator("#sell-scan")).to_be_focused()
    page.keyboard.type(codes[first])
    with page.expect_navigation():
        page.keyboard.press("Enter")
    orders_block = page.get_by_test_id("basket-orders")
    expect(orders_block).to_contain_text(f"Dossier {first}")
    expect(page.get_by_test_id("basket-number")).to_have_text(re.compile(r"Ordre \d+"))
    basket = page.locator("#basket-number").input_value()
    page.screenshot(path="/tmp/sell_scan.png", full_page=True)
    found = audit(page)
    assert not found, [(v["id"], v["nodes"]) for v in found]

    with ScannerSimulator(aim=True) as scanner, open_port(scanner.url) as port:
        read, stop = [], threading.Event()
        scanner.wait_for(lambda: scanner.connections)
        scanner.scan(codes[second])
        SERIAL_SCANNER.listen(port, {"timeout": 0.5}, lambda scan: (read.append(scan), stop.set()), stop)
    import json
    import urllib.request

    from plugins.devices.services import agents

    with app_session(app) as s:
        _agent, token = agents.create_agent(s, pos, "Caisse 1")
        s.commit()
    # the operator is typing a remark when the scan arrives
    page.locator("#basket-note").focus()
    expect(page.locator("#basket-note")).to_be_focused()
    page.keyboard.type("Mme Martin rappel")
    before = page.evaluate("() => performance.getEntriesByType('navigation').length")
    url = page.url
    request = urllib.request.Request(
        base + "/api/v1/devices/agent/scans", method="POST",
        data=json.dumps({"scan_id": "browser-scan-1", "code": read[0].code, "symbology": read[0].symbology}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 201
        assert json.loads(answer.read())["consumed_by"] == "sales"
    orders_block = page.get_by_test_id("basket-orders")
    expect(orders_block).to_contain_text(f"Dossier {second}")
    expect(orders_block).to_contain_text(f"Dossier {first}")
    expect(page.get_by_test_id("devices-live-announce")).to_have_text(
        f"Code-barres {codes[second]} scanné : le panier est à jour.")
    assert page.url == url and page.evaluate("() => performance.getEntriesByType('navigation').length") == before
    expect(page.locator("#basket-note")).to_have_value("Mme Martin rappel")
    expect(page.locator("#basket-note")).to_be_focused()
    with app_session(app) as s:
        due = sum(o.balance for o in s.scalars(select(Order)))
    expect(page.locator("#basket")).to_have_attribute("data-due", f"{due:.2f}")
    found = audit(page)
    assert not found, [(v["id"], v["nodes"]) for v in found]
    context.close()


def test_a_workstation_scan_on_fresh_sales_screens_opens_a_basket_on_one_of_them(live_server, make_operator, browser):
    """Two sales screens open at the point of sale, neither with a basket yet: a workstation's scan of
    a ticket (no basket took it) is claimed by one screen, which opens a basket and takes the ticket's
    order up into it (the "Code-barres (scan)" path); the other says another screen took it. Once."""
    import json
    import urllib.request

    from sqlalchemy import select
    from playwright.sync_api import expect

    from plugins.devices.models import DeviceScan
    from plugins.devices.services import agents, config, jobs
    from plugins.sales.models import Basket, Order, PointOfSale
    from tests.browser.test_accessibility import audit
    from tests.browser.test_sales_baskets_browser import _reserve
    from tests.browser.test_sales_browser import _shop
    from tests.conftest import app_session

    app = live_server(["sales", "devices"], DEVICES_LONG_POLL_SECONDS=3)
    make_operator("STX_BDD", roles=["operator"])
    make_operator("STX_GUI", roles=["operator"])
    buyer = _shop(app)
    number = _reserve(app, buyer, 2)
    with app_session(app) as s:
        code = s.scalar(select(Order).where(Order.number == number)).tickets[0].barcode
        pos = s.scalar(select(PointOfSale.code).where(PointOfSale.is_default.is_(True)))
        _agent, token = agents.create_agent(s, pos, "Caisse 1")
        # a receipt that did not print earlier: the till's notice is on both screens (and audited)
        printer = config.create_device(s, {"location_code": pos, "name": "Reçus", "kind": "receipt_printer",
                                           "driver": "escpos", "via": "agent", "url": "/dev/ttyUSB0"})
        jobs.submit(s, printer, "print_receipt", {"lines": ["Reçu"]})
        (failed,) = jobs.lease_jobs(s, pos, "agent-test")
        jobs.complete(s, failed.id, failed.lease_id, ok=False, error_code="cover_open", error_message="Capot ouvert")
        s.commit()
    base = app.config["LIVE_URL"]
    pages = []
    for login in ("STX_BDD", "STX_GUI"):
        context = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900}, bypass_csp=True)
        page = context.new_page()
        browser_login(page, base, login, PASSWORD)
        page.goto(base + "/admin/sales/sell/")
        page.wait_for_load_state()
        expect(page.get_by_test_id("basket-orders")).to_have_count(0)
        expect(page.get_by_test_id("till-job-failed")).to_contain_text("Impression de reçu en échec sur Reçus")
        assert page.locator("[data-devices-live-scans]").get_attribute("data-claim-form") == "sell-form"
        pages.append(page)
    request = urllib.request.Request(
        base + "/api/v1/devices/agent/scans", method="POST",
        data=json.dumps({"scan_id": "fresh-screen-1", "code": code}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 201
        assert json.loads(answer.read())["consumed_by"] == ""  # no basket open: nothing took it yet
    elsewhere = f"Code-barres {code} scanné : repris par un autre panier de ce point de vente."
    outcome = []
    for page in pages:
        took = page.get_by_test_id("basket-orders")
        said = page.get_by_test_id("devices-live-announce").filter(has_text=elsewhere)
        expect(took.or_(said)).to_have_count(1)
        outcome.append(took.count() == 1)
    assert sorted(outcome) == [False, True], outcome  # one screen took it, the other said so
    winner = pages[outcome.index(True)]
    expect(winner.get_by_test_id("basket-orders")).to_contain_text(f"Dossier {number}")
    expect(winner.locator("#basket-number")).not_to_have_value("")
    expect(winner.locator("#sell-scan")).to_have_value("")
    with app_session(app) as s:
        assert s.scalar(select(DeviceScan.consumed_by).where(DeviceScan.scan_id == "fresh-screen-1")) == "sales"
        assert len(list(s.scalars(select(Basket).where(Basket.state == "open")))) == 1
    found = audit(winner)
    assert not found, [(v["id"], v["nodes"]) for v in found]
    for page in pages:
        page.context.close()


def test_plage_on_the_cancellation_basket_takes_two_workstation_scans_as_a_range(live_server, make_operator, browser):
    """On "Échange - annulation", Alt+P turns "Plage" on (a toggle button, pressed); the workstation's
    scanner reads the first then the last ticket of a range: the first is said and waits, the last
    brings the six tickets into the open basket, live."""
    import json
    import urllib.request

    from playwright.sync_api import expect
    from sqlalchemy import select

    from plugins.devices.services import agents
    from plugins.sales.models import PointOfSale
    from tests.browser.test_accessibility import audit
    from tests.browser.test_refunds_browser import _seed
    from tests.conftest import app_session

    app = live_server(["refunds", "devices"], DEVICES_LONG_POLL_SECONDS=3)
    data = _seed(app)
    make_operator("chef", roles=["supervisor"])
    with app_session(app) as s:
        pos = s.scalar(select(PointOfSale.code).where(PointOfSale.is_default.is_(True)))
        _agent, token = agents.create_agent(s, pos, "Caisse 1")
        s.commit()
    base = app.config["LIVE_URL"]
    context = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900}, bypass_csp=True)
    page = context.new_page()
    browser_login(page, base, "chef", PASSWORD)
    page.goto(base + "/admin/refunds/basket/")
    expect(page.locator("#new-basket")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#scan")).to_be_focused()
    page.wait_for_load_state()
    expect(page.locator("#scan-range-toggle")).to_have_attribute("aria-pressed", "false")
    with page.expect_navigation():
        page.keyboard.press("Alt+P")
    page.wait_for_load_state()
    expect(page.locator("#scan-range-toggle")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("basket-messages")).to_contain_text("Plage : scannez le premier puis le dernier")
    expect(page.locator("#scan")).to_be_focused()

    def scan(scan_id, code):
        request = urllib.request.Request(
            base + "/api/v1/devices/agent/scans", method="POST",
            data=json.dumps({"scan_id": scan_id, "code": code}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request) as answer:
            assert json.loads(answer.read())["consumed_by"] == "refunds"

    first, last = data["codes"][2], data["codes"][7]
    scan("range-1", first)
    said = f"Premier billet de la plage : {first}. Scannez le dernier."
    expect(page.get_by_test_id("scan-range-help")).to_have_text(said)
    expect(page.get_by_test_id("devices-live-announce")).to_have_text(said)
    expect(page.get_by_test_id("refund-line")).to_have_count(0)
    scan("range-2", last)
    expect(page.get_by_test_id("subtotal-refunded")).to_have_text(re.compile(r"-660,00"))
    expect(page.get_by_test_id("devices-live-announce")).to_have_text(f"Code-barres {last} scanné : le panier est à jour.")
    expect(page.locator("#scan-range-toggle")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("scan-range-help")).to_contain_text("scannez le premier puis le dernier")
    page.screenshot(path="/tmp/refunds_scan_range.png", full_page=True)
    found = audit(page)
    assert not found, [(v["id"], v["nodes"]) for v in found]
    context.close()

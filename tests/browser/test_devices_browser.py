"""In a real browser, by keyboard: a supervisor configures a network ticket printer, edits its
settings in the form generated from its driver, runs its Test against the simulator and reads the
result."""
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

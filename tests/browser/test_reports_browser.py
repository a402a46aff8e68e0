"""The reports screen in a real browser: the form keeps what was typed on error (announced), the
preview with its chart, a PDF download (rendered to PNG with pdftoppm to be looked at), a large report
prepared in the background with its progress and its download link. Screenshots in /tmp."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.browser.conftest import browser_login
from tests.conftest import PASSWORD
from tests.reports.conftest import make_tp_rep

SHOTS = "/tmp"


@pytest.fixture
def app(live_server, register_plugin):
    register_plugin(make_tp_rep())
    return live_server(["reports", "tp_rep"], REPORTS_BACKGROUND_ROWS=50, OUTBOX_RUN="thread")


def test_preview_chart_download_and_background_run(app, make_operator, page, tmp_path):
    make_operator("guichet", roles=["operator"])
    base = app.config["LIVE_URL"]
    browser_login(page, base, "guichet", PASSWORD)
    page.goto(base + "/admin/reports_reports/")
    page.get_by_role("link", name="Nombres").click()
    page.fill("#p-n", "douze")
    page.fill("#p-start", "02.11.2015")
    page.get_by_role("button", name="Aperçu").click()
    assert page.get_by_role("alert").first.is_visible()
    assert page.input_value("#p-n") == "douze" and page.input_value("#p-start") == "02.11.2015"
    assert page.get_attribute("#p-n", "aria-invalid") == "true"
    page.screenshot(path=f"{SHOTS}/reports_form_error.png", full_page=True)

    page.fill("#p-n", "30")
    page.keyboard.press("Enter")  # the form's first button: Aperçu
    page.wait_for_selector("[data-testid=preview]")
    assert page.locator("svg.reports-chart").count() == 2
    assert page.locator("svg.reports-chart title").first.text_content() == "Montant par jour"
    assert "Sous-total A" in page.text_content("[data-testid=preview]")
    page.screenshot(path=f"{SHOTS}/reports_preview_chart.png", full_page=True)

    with page.expect_download() as info:
        page.get_by_role("button", name="PDF").click()
    pdf = tmp_path / "nombres.pdf"
    info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), f"{SHOTS}/reports_pdf_page"],
                       check=True)

    page.fill("#p-n", "150")
    page.get_by_role("button", name="CSV").click()
    page.wait_for_selector("[data-testid=run-status]")
    page.wait_for_selector("[data-testid=run-download]", timeout=20_000)
    assert page.get_attribute("#run-state", "data-state") == "done"
    assert "150" in page.text_content("#run-state")
    page.screenshot(path=f"{SHOTS}/reports_background_run.png", full_page=True)
    with page.expect_download() as info:
        page.click("[data-testid=run-download]")
    data = (tmp_path / "run.csv")
    info.value.save_as(data)
    assert len(data.read_text(encoding="utf-8-sig").strip().splitlines()) == 151

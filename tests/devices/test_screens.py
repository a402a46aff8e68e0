"""The devices screens: configuring a device, its settings form generated from the driver's schema,
the Test page, the jobs list and its actions, the agents and their tokens."""
from __future__ import annotations

from sqlalchemy import select

from plugins.devices.models import Device, DeviceAgent, DeviceJob
from plugins.devices.simulators import EscPosPrinterSimulator, FglPrinterSimulator
from tests.conftest import app_session, csrf_token_of


def _create(client, **fields):
    page = client.get("/admin/devices_device/new/")
    assert page.status_code == 200
    data = {"csrf_token": csrf_token_of(page.get_data(as_text=True)), "location_code": "Guichet",
            "name": "Imprimante billets", "kind": "ticket_printer", "role": "billets", "driver": "boca_fgl",
            "via": "server", "url": "socket://127.0.0.1:9100", "active": "y"}
    data.update(fields)
    return client.post("/admin/devices_device/new/", data=data)


def test_a_supervisor_configures_a_network_printer(app, make_operator, client_for):
    make_operator("chef", roles=["supervisor"])
    client = client_for("chef")
    response = _create(client)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app_session(app) as s:
        device = s.scalar(select(Device))
        assert (device.kind, device.driver, device.via) == ("ticket_printer", "boca_fgl", "server")
        assert device.settings == {"baudrate": 9600, "timeout": 3.0, "code_page": "cp858", "print_timeout": 10.0}
    listing = client.get("/admin/devices_device/").get_data(as_text=True)
    assert "Imprimante billets" in listing and "Réseau (serveur)" in listing


def test_a_wrong_device_is_refused_beside_its_fields_and_keeps_what_was_typed(app, make_operator, client_for):
    make_operator("chef", roles=["supervisor"])
    client = client_for("chef")
    response = _create(client, driver="escpos", url="/dev/ttyUSB0", name="Ma BOCA")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "ne pilote pas ce type de périphérique" in html
    assert "Un périphérique piloté par le serveur est sur le réseau" in html
    assert 'value="Ma BOCA"' in html
    with app_session(app) as s:
        assert s.scalar(select(Device)) is None


def test_settings_are_a_form_generated_from_the_driver_schema(app, make_operator, client_for):
    make_operator("chef", roles=["supervisor"])
    client = client_for("chef")
    assert _create(client, kind="receipt_printer", driver="escpos", role="reçus").status_code == 302
    with app_session(app) as s:
        device_id = s.scalar(select(Device.id))
    page = client.get(f"/admin/devices_device/settings/?id={device_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<label for="code_page">Page de code</label>' in html
    assert '<select class="form-control" id="code_page"' in html and '<option selected value="cp858">' in html
    assert 'id="drawer_pin"' in html and 'type="checkbox"' in html
    token = csrf_token_of(html)
    bad = client.post(f"/admin/devices_device/settings/?id={device_id}",
                      data={"csrf_token": token, "baudrate": "9600", "timeout": "500", "code_page": "cp1252",
                            "columns": "48", "drawer_pin": "5", "cut": "y"})
    assert bad.status_code == 200 and 'role="alert"' in bad.get_data(as_text=True)
    assert 'value="48"' in bad.get_data(as_text=True)  # what was typed is kept
    good = client.post(f"/admin/devices_device/settings/?id={device_id}",
                       data={"csrf_token": token, "baudrate": "19200", "timeout": "2.5", "code_page": "cp1252",
                             "columns": "48", "drawer_pin": "5"})
    assert good.status_code == 302
    with app_session(app) as s:
        assert s.get(Device, device_id).settings == {"baudrate": 19200, "timeout": 2.5, "code_page": "cp1252",
                                                     "columns": 48, "drawer_pin": 5, "cut": False}


def test_the_test_button_prints_on_a_network_printer_and_shows_the_result(app, make_operator, client_for):
    make_operator("chef", roles=["supervisor"])
    client = client_for("chef")
    with FglPrinterSimulator() as printer:
        assert _create(client, url=printer.url).status_code == 302
        with app_session(app) as s:
            device_id = s.scalar(select(Device.id))
        page = client.get(f"/admin/devices_device/test/?id={device_id}")
        response = client.post(f"/admin/devices_device/test/?id={device_id}",
                               data={"csrf_token": csrf_token_of(page.get_data(as_text=True)), "operation": "test"})
        assert response.status_code == 302
        result = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "Terminé" in result and "printed : 1" in result
        assert printer.tickets and printer.tickets[0].elements[1].text == "Coulisses - test d'impression"


def test_a_failed_test_says_why(app, make_operator, client_for):
    make_operator("chef", roles=["supervisor"])
    client = client_for("chef")
    with EscPosPrinterSimulator() as printer:
        printer.cover_open = True
        assert _create(client, kind="receipt_printer", driver="escpos", url=printer.url).status_code == 302
        with app_session(app) as s:
            device_id = s.scalar(select(Device.id))
        page = client.get(f"/admin/devices_device/test/?id={device_id}")
        response = client.post(f"/admin/devices_device/test/?id={device_id}",
                               data={"csrf_token": csrf_token_of(page.get_data(as_text=True)), "operation": "test"})
        result = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "En échec" in result and "Capot ouvert" in result
    with app_session(app) as s:
        assert s.scalar(select(DeviceJob)).retryable is True


def test_the_readonly_role_sees_devices_but_cannot_test_or_configure(app, make_operator, client_for):
    make_operator("chef", roles=["supervisor"])
    assert _create(client_for("chef")).status_code == 302
    make_operator("lecteur", roles=["readonly"])
    client = client_for("lecteur")
    with app_session(app) as s:
        device_id = s.scalar(select(Device.id))
    assert client.get("/admin/devices_device/").status_code == 200
    assert client.get("/admin/devices_device/new/").status_code == 403
    assert client.get(f"/admin/devices_device/settings/?id={device_id}").status_code == 403
    page = client.get(f"/admin/devices_device/test/?id={device_id}")
    assert page.status_code == 200 and 'value="test"' not in page.get_data(as_text=True)
    assert client.get("/admin/devices_agent/").status_code == 403


def test_a_supervisor_creates_a_workstation_agent_and_sees_its_token_once(app, make_operator, client_for):
    make_operator("chef", roles=["supervisor"])
    client = client_for("chef")
    page = client.get("/admin/devices_agent/token/")
    response = client.post("/admin/devices_agent/token/", data={
        "csrf_token": csrf_token_of(page.get_data(as_text=True)), "location_code": "Guichet", "label": "Caisse 1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "affiché une seule fois" in html and "coulisses devices agent --server" in html
    with app_session(app) as s:
        agent = s.scalar(select(DeviceAgent))
        assert (agent.location_code, agent.label) == ("Guichet", "Caisse 1")
    assert "Caisse 1" in client.get("/admin/devices_agent/").get_data(as_text=True)


def test_the_screens_speak_the_operator_language(app, make_operator, client_for):
    from coulisses import security

    make_operator("chef", roles=["supervisor"])
    with app_session(app) as s:
        security.get_operator(s, "chef").locale = "es"
        s.commit()
    client = client_for("chef")
    assert _create(client).status_code == 302
    html = client.get("/admin/devices_device/").get_data(as_text=True)
    assert "Periféricos" in html and "Impresora de entradas" in html and "Red (servidor)" in html
    with app_session(app) as s:
        device_id = s.scalar(select(Device.id))
    settings = client.get(f"/admin/devices_device/settings/?id={device_id}").get_data(as_text=True)
    assert "Página de códigos" in settings and "Ajustes de Imprimante billets" in settings

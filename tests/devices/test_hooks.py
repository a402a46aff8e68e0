"""The hooks the devices plugin offers: devices_drivers (a driver from another plugin; a key defined
twice refuses the start naming both plugins), devices_scan_received and devices_job_finished (inside
the recording transaction)."""
from __future__ import annotations

import pytest

from coulisses import PluginError
from coulisses import plugins as cplugins
from plugins.devices.drivers import Driver
from plugins.devices.registry import Registry, use_registry
from plugins.devices.services import agents, jobs
from plugins.devices.simulators import DisplaySimulator
from tests.devices.conftest import make_device
from tests.platform.conftest import make_plugin


class EchoDisplay(Driver):
    """A display driver of another plugin: writes the first line as plain ASCII."""

    key = "echo_display"
    kind = "display"
    label = "Afficheur d'essai"
    priority = 200

    def show(self, port, settings, payload):
        port.write(("\x0c\x1bQA" + payload["lines"][0] + "\r").encode("ascii"))
        return {"echo": payload["lines"][0]}

    def clear(self, port, settings, payload):
        return {}


ECHO = EchoDisplay()


def registry_with(register_plugin, name="tp_devices_hooks", **hooks):
    register_plugin(make_plugin(name, optional_depends=["devices"], hooks=hooks))
    infos = cplugins.discover()
    return Registry.from_manager(cplugins.build_manager(infos, cplugins.resolve(infos, ["devices", name])))


def test_devices_drivers_adds_a_driver_that_configures_and_runs_like_a_builtin(db, register_plugin, sims):
    registry = registry_with(register_plugin, devices_drivers=lambda: [ECHO])
    assert registry.owner("echo_display") == "tp_devices_hooks" and registry.owner("escpos") == "devices"
    assert [d.key for d in registry.drivers_of("display")] == ["echo_display", "cd5220"]  # by priority
    display = sims(DisplaySimulator)
    from plugins.devices.services import runner

    with use_registry(registry):
        device = make_device(db, kind="display", driver="echo_display", via="server", url=display.url, name="Écho")
        job = jobs.submit(db, device, "show", {"lines": ["Bonjour"]})
        db.commit()
        assert runner.run_server_job(db.get_bind(), job.id)[0] == "done"
    display.wait_for(lambda: display.lines[0] == "Bonjour")


def test_two_plugins_defining_one_driver_key_refuse_the_start_naming_both(register_plugin):
    class Clash(EchoDisplay):
        key = "escpos"

    with pytest.raises(PluginError) as caught:
        registry_with(register_plugin, devices_drivers=lambda: [Clash()])
    assert str(caught.value) == "plugin « tp_devices_hooks » : pilote de périphérique « escpos » : « devices » en donne déjà une définition"


def test_devices_drivers_refuses_what_is_not_a_driver(register_plugin):
    with pytest.raises(PluginError, match="doit renvoyer des objets Driver"):
        registry_with(register_plugin, devices_drivers=lambda: ["escpos"])


def test_devices_scan_received_sees_each_scan_once_inside_the_transaction(db, register_plugin):
    seen = []

    def received(session, scan):
        seen.append((scan.location_code, scan.code, scan.id is not None))
        scan.consumed_by = "tp_devices_hooks"

    registry = registry_with(register_plugin, devices_scan_received=received)
    with use_registry(registry):
        first = agents.record_scan(db, "Guichet", "s1", "9590001", "code128")
        again = agents.record_scan(db, "Guichet", "s1", "9590001", "code128")
        db.commit()
    assert seen == [("Guichet", "9590001", True)] and first.id == again.id
    assert first.consumed_by == "tp_devices_hooks"


def test_raising_from_devices_scan_received_refuses_the_scan(db, register_plugin):
    def refuse(session, scan):
        raise RuntimeError("panier fermé")

    registry = registry_with(register_plugin, devices_scan_received=refuse)
    with use_registry(registry), pytest.raises(RuntimeError, match="panier fermé"):
        agents.record_scan(db, "Guichet", "s2", "42")


def test_devices_job_finished_is_called_once_per_outcome(db, register_plugin):
    seen = []
    registry = registry_with(register_plugin, devices_job_finished=lambda session, job: seen.append(
        (job.reference, job.state, job.error_code)))
    with use_registry(registry):
        printer = make_device(db)
        job = jobs.submit(db, printer, "print_receipt", {"lines": ["x"]}, reference="sales.order:959")
        db.commit()
        leased = jobs.lease_jobs(db, "Guichet", "agent")[0]
        jobs.complete(db, job.id, leased.lease_id, ok=False, error_code="timeout")  # retried: not finished
        assert seen == []
        job.available_at = job.created_at
        leased = jobs.lease_jobs(db, "Guichet", "agent")[0]
        jobs.complete(db, job.id, leased.lease_id, ok=True, result={"printed": True})
        jobs.complete(db, job.id, leased.lease_id, ok=True, result={"printed": True})
    assert seen == [("sales.order:959", "done", "")]

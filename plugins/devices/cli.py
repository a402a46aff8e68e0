"""``coulisses devices …``: the simulators, the workstation agent, agent tokens, the jobs of network
devices (hosts without the outbox)."""
from __future__ import annotations

import logging
import signal
import threading

import click

from plugins.devices.i18n import _


@click.group()
def devices():
    """Box-office hardware: simulators, the workstation agent."""


@devices.command("simulate")
@click.option("--transport", type=click.Choice(["tcp", "pty"]), default="tcp", show_default=True,
              help="TCP on 127.0.0.1 (socket://) or pseudo-terminals (native ports).")
@click.option("--outcome", type=click.Choice(["accept", "decline", "timeout", "bad_checksum"]), default="accept",
              show_default=True, help="What the payment terminals answer.")
def simulate(transport, outcome):
    """Start one simulator of each device and print their URLs (Ctrl-C stops them)."""
    from plugins.devices.simulators import ALL, CaisseApTerminalSimulator, ConcertTerminalSimulator

    sims = []
    for cls in ALL:
        kw = {"transport": "tcp" if cls is CaisseApTerminalSimulator else transport}
        if cls in (ConcertTerminalSimulator, CaisseApTerminalSimulator):
            kw["outcome"] = outcome
        sims.append(cls(**kw).start())
    for sim in sims:
        click.echo(f"{sim.label:<40} {sim.url}")
    click.echo(_("Simulateurs démarrés ; Ctrl-C pour les arrêter."))
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    for sim in sims:
        sim.stop()


@devices.command("agent")
@click.option("--server", required=True, help="The Coulisses server, e.g. https://billetterie.example.org")
@click.option("--token", required=True, envvar="COULISSES_DEVICES_TOKEN",
              help="The workstation's device token (coulisses devices token LOCATION).")
@click.option("--wait", type=float, default=25.0, show_default=True, help="Long-polling duration (seconds).")
@click.option("-v", "--verbose", is_flag=True)
def agent_command(server, token, wait, verbose):
    """Drive this workstation's devices for the server (no web server, no database here)."""
    from plugins.devices.agent import Agent

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(message)s")
    agent = Agent(server, token, wait=wait)
    signal.signal(signal.SIGINT, lambda *_: agent.stop_event.set())
    signal.signal(signal.SIGTERM, lambda *_: agent.stop_event.set())
    click.echo(_("Agent de poste connecté à %(server)s ; Ctrl-C pour l'arrêter.", server=server))
    agent.run()
    if agent.fatal is not None:
        raise click.ClickException(_("Le serveur refuse cet agent : %(error)s", error=str(agent.fatal)))


@devices.command("token")
@click.argument("location_code")
@click.option("--label", default="", help="The workstation's name.")
def token_command(location_code, label):
    """Create a workstation agent for LOCATION_CODE and print its token (shown once)."""
    from coulisses import InvalidError
    from coulisses.web.extensions import db
    from plugins.devices.services import agents

    try:
        agent, token = agents.create_agent(db.session, location_code, label)
    except InvalidError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(_("Agent %(agent)s pour %(location)s. Jeton (affiché une seule fois) :", agent=str(agent),
                 location=agent.location_code))
    click.echo(token)


@devices.command("work")
@click.option("--once", is_flag=True, help="Run the due jobs once, then stop.")
def work(once):
    """Run the jobs of network devices (only for a host without the outbox worker)."""
    from coulisses.web.extensions import db
    from plugins.devices.services import jobs, runner

    engine = db.engine
    stop = threading.Event()
    if not once:
        signal.signal(signal.SIGINT, lambda *_: stop.set())
    while True:
        seen = jobs.generation()
        for job_id, state in runner.run_pending_server_jobs(engine):
            click.echo(f"#{job_id} {state}")
        if once or stop.is_set():
            return
        jobs.wait_for_new_jobs(seen, 2.0)


def commands():
    return [devices]

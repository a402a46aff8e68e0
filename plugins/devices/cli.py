"""``coulisses devices …``: the simulators, the workstation agent, agent tokens.

The group is declared in the entry point group ``coulisses.commands``: ``agent`` and ``simulate`` run
on a workstation with neither database nor secret key; ``token`` opens the database the way the host's
own commands do (``coulisses.cli.Context``) and needs the plugin enabled. The jobs of network devices
are run by the host's worker (``coulisses worker``)."""
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
@click.option("--plugin", "extra_plugins", multiple=True,
              help="An installed plugin whose drivers this workstation needs (repeat for several).")
@click.option("-v", "--verbose", is_flag=True)
def agent_command(server, token, wait, extra_plugins, verbose):
    """Drive this workstation's devices for the server (no web server, no database here)."""
    from coulisses import CoulissesError
    from coulisses import plugins as cplugins
    from coulisses.registry import install_manager
    from plugins.devices.agent import Agent

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(message)s")
    try:
        infos = cplugins.discover()
        install_manager(cplugins.build_manager(infos, cplugins.resolve(infos, ["devices", *extra_plugins])))
    except CoulissesError as exc:
        raise click.ClickException(str(exc)) from None
    agent = Agent(server, token, wait=wait)
    signal.signal(signal.SIGINT, lambda *_: agent.stop_event.set())
    signal.signal(signal.SIGTERM, lambda *_: agent.stop_event.set())
    click.echo(_("Agent de poste du serveur %(server)s ; Ctrl-C pour l'arrêter.", server=server))
    agent.run()
    if agent.fatal is not None:
        raise click.ClickException(_("Le serveur refuse cet agent : %(error)s", error=str(agent.fatal)))


@devices.command("token")
@click.argument("location_code")
@click.option("--label", default="", help="The workstation's name.")
def token_command(location_code, label):
    """Create a workstation agent for LOCATION_CODE and print its token (shown once)."""
    from coulisses import CoulissesError
    from coulisses.cli import Context
    from plugins.devices.services import agents

    ctx = Context()
    with ctx.session() as session:
        try:
            _require_enabled(ctx, session)
            agent, token = agents.create_agent(session, location_code, label)
        except CoulissesError as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
        click.echo(_("Agent %(agent)s pour %(location)s. Jeton (affiché une seule fois) :", agent=str(agent),
                     location=agent.location_code))
        click.echo(token)


def _require_enabled(ctx, session) -> None:
    """Install the enabled plugins' manager and configuration, or refuse when devices is not enabled."""
    from coulisses import CoulissesError

    order = ctx.enabled(session)
    if "devices" not in order:
        raise CoulissesError(_("Le plugin devices n'est pas activé : coulisses plugins enable devices"))
    ctx.manager(order)

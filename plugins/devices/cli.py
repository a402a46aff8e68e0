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

from coulisses.cli_help import CliError, option
from plugins.devices.i18n import _, _l


@click.group(help=_l("Matériel de billetterie : simulateurs, agent de poste."))
def devices():
    pass


@devices.command("simulate",
                 help=_l("Démarrer un simulateur de chaque appareil et afficher leurs URL (Ctrl-C les arrête)."))
@option("--transport", type=click.Choice(["tcp", "pty"]), default="tcp", show_default=True,
              help=_l("TCP sur 127.0.0.1 (socket://) ou pseudo-terminaux (ports natifs)."))
@option("--outcome", type=click.Choice(["accept", "decline", "timeout", "bad_checksum"]), default="accept",
              show_default=True, help=_l("Ce que répondent les terminaux de paiement."))
def simulate(transport, outcome):
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


@devices.command("agent",
                 help=_l("Piloter les appareils de ce poste pour le serveur (ni serveur web ni base de données "
                         "ici)."))
@option("--server", required=True, help=_l("Le serveur Coulisses, par exemple https://billetterie.example.org"))
@option("--token", required=True, envvar="COULISSES_DEVICES_TOKEN",
              help=_l("Le jeton d'appareils du poste (coulisses devices token LOCATION)."))
@option("--wait", type=float, default=25.0, show_default=True, help=_l("Durée de l'attente longue (secondes)."))
@option("--plugin", "extra_plugins", multiple=True,
              help=_l("Un plugin installé dont ce poste a besoin des pilotes (à répéter pour plusieurs)."))
@option("-v", "--verbose", is_flag=True, help=_l("Afficher aussi les messages d'information (journal détaillé)."))
def agent_command(server, token, wait, extra_plugins, verbose):
    from coulisses import CoulissesError
    from coulisses import plugins as cplugins
    from coulisses.registry import install_manager
    from plugins.devices.agent import Agent

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(message)s")
    try:
        infos = cplugins.discover()
        install_manager(cplugins.build_manager(infos, cplugins.resolve(infos, ["devices", *extra_plugins])))
    except CoulissesError as exc:
        raise CliError(str(exc)) from None
    agent = Agent(server, token, wait=wait)
    signal.signal(signal.SIGINT, lambda *_: agent.stop_event.set())
    signal.signal(signal.SIGTERM, lambda *_: agent.stop_event.set())
    click.echo(_("Agent de poste du serveur %(server)s ; Ctrl-C pour l'arrêter.", server=server))
    agent.run()
    if agent.fatal is not None:
        raise CliError(_("Le serveur refuse cet agent : %(error)s", error=str(agent.fatal)))


@devices.command("token",
                 help=_l("Créer un agent de poste pour LOCATION_CODE et afficher son jeton (affiché une seule "
                         "fois)."))
@click.argument("location_code")
@option("--label", default="", help=_l("Le nom du poste."))
def token_command(location_code, label):
    from coulisses import CoulissesError
    from coulisses.cli import Context
    from plugins.devices.services import agents

    ctx = Context()
    with ctx.session() as session:
        try:
            _require_enabled(ctx, session)
            agent, token = agents.create_agent(session, location_code, label)
        except CoulissesError as exc:
            raise CliError(str(exc)) from None
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

"""Hook implementations of the reports plugin (host hooks)."""
from __future__ import annotations

from coulisses import Permission, hookimpl
from coulisses.i18n import _l


@hookimpl
def coulisses_config_defaults():
    """SMTP settings (``COULISSES_REPORTS_SMTP_HOST`` …) and the background threshold."""
    return {
        "REPORTS_BACKGROUND_ROWS": 10_000,
        "REPORTS_SMTP_HOST": "localhost",
        "REPORTS_SMTP_PORT": 25,
        "REPORTS_SMTP_USER": "",
        "REPORTS_SMTP_PASSWORD": "",
        "REPORTS_SMTP_SECURITY": "none",  # none | starttls | ssl
        "REPORTS_SMTP_TIMEOUT": 30,
        "REPORTS_MAIL_FROM": "billetterie@localhost",
        "REPORTS_MAIL_REPLY_TO": "",
    }


@hookimpl
def coulisses_permissions():
    return [
        Permission("reports.view", _l("Consulter et lancer les rapports"), ("operator", "supervisor", "readonly")),
        Permission("reports.schedule", _l("Programmer l'envoi de rapports par e-mail"), ("supervisor",)),
        Permission("reports.documents", _l("Éditer et réimprimer les documents"), ("operator", "supervisor")),
        Permission("reports.send", _l("Envoyer des documents par e-mail"), ("operator", "supervisor")),
        Permission("reports.identity.manage", _l("Modifier l'identité de l'organisme"), ()),
    ]


@hookimpl
def coulisses_job_types():
    from datetime import timedelta

    from coulisses.outbox import JobType
    from plugins.reports.services import delivery, runs

    return [
        JobType("reports.run", runs.run_job, _l("Rapport en arrière-plan"), max_attempts=1,
                lease=timedelta(hours=2)),
        JobType("reports.send_document", delivery.send_document_job, _l("Envoi d'un document par e-mail"),
                max_attempts=6, retry_delay=timedelta(minutes=1)),
        JobType("reports.scheduled", runs.scheduled_job, _l("Rapport programmé envoyé par e-mail"),
                max_attempts=4, retry_delay=timedelta(minutes=5), lease=timedelta(hours=2)),
    ]


@hookimpl
def coulisses_periodic_tasks():
    from coulisses.tasks import Task
    from plugins.reports.services import runs

    return [Task("reports.scheduled", "hourly", runs.enqueue_due_favourites,
                 "Rapports programmés : envoie par e-mail ceux dont l'heure est venue")]


@hookimpl
def coulisses_startup(app):
    from plugins.reports.registry import registry_for

    app.extensions["reports"] = registry_for(app.extensions["coulisses"].pm)  # a clash refuses the start


@hookimpl
def coulisses_api_routes(api):
    from plugins.reports.api import register_routes

    register_routes(api)


@hookimpl
def coulisses_cli_commands():
    from plugins.reports.cli import reports_group

    return [reports_group]


@hookimpl
def coulisses_admin_views(admin):
    from plugins.reports.admin import admin_views

    return admin_views()


@hookimpl
def coulisses_blueprints():
    from plugins.reports.admin import ui_blueprint

    return [ui_blueprint()]

"""What the order's life adds to the sales plugin's hook implementations (``hooks.py`` calls these):
permissions of the till, the periodic task releasing expired reservations, the outbox job producing
an order's documents, and the reactions to the plugin's own events (a new reservation gets its
point of sale's default expiry; a settled order produces its documents)."""
from __future__ import annotations

from coulisses import Permission
from coulisses.i18n import _l


def permissions() -> list[Permission]:
    return [
        Permission("sales.till", _l("Ouvrir et fermer sa caisse"), ("operator", "supervisor")),
        Permission("sales.till.manage", _l("Consulter et fermer les caisses de tous les opérateurs"), ("supervisor",)),
    ]


def periodic_tasks() -> list:
    from coulisses.tasks import Task
    from plugins.sales.services.reservations import expire_reservations_task

    return [Task("sales.expire_reservations", "hourly", expire_reservations_task,
                 _l("Libère les places des réservations dont l'option est échue"))]


def job_types() -> list:
    from coulisses.outbox import JobType
    from plugins.sales.services.delivery import JOB_KIND, order_documents_job

    return [JobType(JOB_KIND, order_documents_job, _l("Documents d'un dossier soldé"))]


def order_created(session, order) -> None:
    from plugins.sales.services.reservations import apply_default_expiry

    apply_default_expiry(session, order)


def order_paid(session, order) -> None:
    from plugins.sales.services.delivery import on_order_settled

    on_order_settled(session, order)

"""Hook implementations of the devices plugin."""
from __future__ import annotations

from coulisses import Permission, hookimpl

# --------------------------------------------------------------------------- own registry


@hookimpl
def devices_drivers():
    from plugins.devices.drivers import BUILTIN_DRIVERS

    return BUILTIN_DRIVERS


# --------------------------------------------------------------------------- host hooks


@hookimpl
def coulisses_permissions():
    return [
        Permission("devices.view", "Voir le matériel de caisse et ses travaux", ("operator", "supervisor", "readonly")),
        Permission("devices.use", "Relancer les impressions et tester le matériel", ("operator", "supervisor")),
        Permission("devices.manage", "Configurer le matériel de caisse et les postes", ("supervisor",)),
        Permission("devices.agent", "Agent de poste : recevoir les travaux du matériel et rendre compte", ()),
    ]


@hookimpl
def coulisses_config_defaults():
    return {
        "DEVICES_LEASE_SECONDS": 120,  # how long an agent holds a job before it is considered lost
        "DEVICES_LONG_POLL_SECONDS": 25,  # how long a lease request waits for a job
        "DEVICES_MAX_ATTEMPTS": 5,  # automatic retries of a job on a transient error
        "DEVICES_RETRY_DELAY_SECONDS": 5,  # first delay before a transient failure is retried (then doubled)
    }


@hookimpl
def coulisses_periodic_tasks():
    from coulisses.tasks import Task
    from plugins.devices.services.jobs import expire_leases

    return [Task("devices.expire_leases", "hourly", expire_leases,
                 "Jobs a workstation took but never reported: failed (unknown for a payment), never run again")]


@hookimpl
def coulisses_job_types():
    from plugins.devices.services.runner import job_types

    return job_types()


@hookimpl
def coulisses_startup(app):
    from plugins.devices.registry import registry_for

    app.extensions["devices"] = registry_for(app.extensions["coulisses"].pm)  # a clash refuses the start


@hookimpl
def coulisses_api_routes(api):
    from plugins.devices.api import register_routes

    register_routes(api)


@hookimpl
def coulisses_admin_views(admin):
    from plugins.devices.admin import admin_views

    return admin_views()


@hookimpl
def coulisses_blueprints():
    from plugins.devices.admin import ui_blueprint

    return [ui_blueprint()]


@hookimpl
def devices_job_finished(session, job):
    """A payment terminal's job completes, fails or leaves unknown the sales pending payment it was for."""
    from plugins.devices.payment_terminal import REFERENCE_PREFIX

    if (job.reference or "").startswith(REFERENCE_PREFIX):
        from plugins.devices.payment_terminal import job_finished

        job_finished(session, job)


# --------------------------------------------------------------------------- sales (optional)


@hookimpl(optionalhook=True)
def sales_payment_mode_types():
    from plugins.devices.payment_terminal import PaymentTerminal

    return [PaymentTerminal]


@hookimpl(optionalhook=True)
def sales_tickets_printed(session, order, tickets):
    from plugins.devices.box_office import tickets_printed

    tickets_printed(session, order, tickets)


@hookimpl(optionalhook=True)
def sales_after_tickets_to_print(session, order, tickets, operation):
    from plugins.devices.box_office import after_tickets_to_print

    after_tickets_to_print(session, order, tickets, operation)


@hookimpl(optionalhook=True)
def sales_after_payment_completed(session, order, payment, operation):
    from plugins.devices.box_office import after_payment_completed

    after_payment_completed(session, order, payment, operation)


@hookimpl(optionalhook=True)
def sales_after_order_created(session, order, operation):
    from plugins.devices.box_office import show_order

    show_order(session, order, operation)


@hookimpl(optionalhook=True)
def sales_after_tickets_cancelled(session, order, tickets, operation):
    from plugins.devices.box_office import show_order

    show_order(session, order, operation)


@hookimpl(trylast=True)
def devices_scan_received(session, scan):
    """A scan no other plugin used feeds the point of sale's open sales basket (when sales is enabled)."""
    from plugins.devices.registry import get_registry

    if get_registry().pm.has_plugin("sales"):
        from plugins.devices.box_office import scan_received

        scan_received(session, scan)


@hookimpl(optionalhook=True)
def sales_after_payment_pending(session, order, payment, operation):
    from plugins.devices.box_office import show_pending

    show_pending(session, order, payment, operation)


# --------------------------------------------------------------------------- live scans on the screens


@hookimpl
def coulisses_template_context():
    from plugins.devices.live import live_scans
    from plugins.devices.till import till_jobs

    return {"devices_live_scans": live_scans, "devices_till_jobs": till_jobs}


@hookimpl
def coulisses_js_messages():
    from plugins.devices.live import js_messages

    return js_messages()

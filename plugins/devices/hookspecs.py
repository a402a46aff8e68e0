"""The hooks the devices plugin offers to other plugins (all named ``devices_*``).

``devices_drivers`` returns a list that the plugin merges into its registry (``registry.py``),
refusing one key defined by two plugins. The event hooks get the ``session`` and run **inside the
transaction** that records what happened; raising from one rolls that transaction back (the agent's
report is then refused and sent again later), so keep them short and never talk to a device there.
"""
from __future__ import annotations

from coulisses import hookspec


@hookspec
def devices_drivers():
    """Called when the devices registry is built (at startup; by the CLI, the worker and the agent).

    Return a list of ``plugins.devices.drivers.Driver`` instances: each has a ``key`` (unique across
    plugins), a ``kind`` (``ticket_printer``, ``receipt_printer``, ``cash_drawer``, ``scanner``,
    ``display``, ``payment_terminal``), a ``label``, a marshmallow ``settings_schema``, a ``priority``
    (the preferred driver of a kind first), ``probe``/``status``/``test`` and the operations of its
    kind. Built-ins: ``boca_fgl``, ``escpos``, ``escpos_drawer``, ``serial_scanner``, ``cd5220``,
    ``concert``, ``caisse_ap``.
    """


@hookspec
def devices_scan_received(session, scan):
    """Called inside the transaction that records a scan forwarded by a workstation's agent (or posted
    to ``/api/v1/devices/scans``), after it was flushed.

    ``scan`` is a ``plugins.devices.models.DeviceScan`` (``location_code``, ``device``, ``code``,
    ``symbology``, ``received_at``). Return nothing; set ``scan.consumed_by`` to your plugin's name when
    you used it (the refunds plugin feeds the cancellation basket of that place of work). Raising
    refuses the scan (the agent keeps it and sends it again).
    """


@hookspec
def devices_job_finished(session, job):
    """Called inside the transaction that records a device job's outcome, after it was flushed: the job
    is ``done`` (``job.result`` holds what the device answered), ``failed`` (``job.error_code``,
    ``job.error_message``; retryable) or ``unknown`` (a payment whose outcome an operator must resolve).

    ``job.payload`` is what was asked, ``job.reference`` the caller's reference (e.g. ``sales.order:959``).
    Use it to mark tickets printed only once the printer confirmed. Raising rolls the report back.
    """


@hookspec(firstresult=True)
def devices_cash_paid_out_later(session, payment):
    """Called after commit, when a cash payment or refund recorded by the sales plugin is about to open
    the cash drawer of its point of sale.

    ``payment`` is a ``plugins.sales.models.Payment``. Return ``True`` when your plugin opens the drawer
    itself at a later step for this payment (the refunds plugin: a refund is paid out at the payout, not
    when the basket is settled); return ``None`` otherwise. The first ``True`` wins.
    """

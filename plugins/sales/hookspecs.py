"""The hooks the sales plugin offers to other plugins (all named ``sales_*``).

Registries (``sales_payment_mode_types``, ``sales_operation_kinds``, ``sales_order_actions``) return
lists of the dataclasses of ``plugins.sales.registry``; the sales plugin registers its own built-ins
through the same hooks and refuses two different definitions under one code (``PluginError`` naming
both plugins).

Event hooks get the ``session`` and the objects and run **inside the business transaction**, after
the change was flushed: they see the new state and may write in the same transaction. Raising from
one vetoes the operation (the exception propagates to the caller, who rolls back) unless the
docstring says otherwise. The services find the plugin manager through
``plugins.sales.registry.get_registry()`` (the running app's, else one built with the sales plugin).
"""
from __future__ import annotations

from coulisses import hookspec


@hookspec
def sales_payment_mode_types():
    """Called when the sales registry is built (at startup, and for service calls outside the app).

    Return a list of payment mode types: instances (or subclasses) of
    ``plugins.sales.payment_types.PaymentModeType`` (also importable from ``plugins.sales.registry``),
    the base class whose documented, safely defaulted methods say what the mode does: may this
    contact pay this amount on this order (``check_payment``, the reason when not), pay (``pay``:
    completed, or pending for a mode that completes later), how much may be refunded
    (``refundable`` / ``check_refund``) and refund (``refund``), changing the payer
    (``check_transfer`` / ``transfer``), its settings (``settings_schema``, marshmallow, edited as a
    form) and the fields the operator fills (``fields_schema``). ``PaymentModeType(code, label,
    can_pay=True, can_refund=True, needs_contact=False, gives_change=False, description="")`` — the
    flags-only form — still works. The organisation's payment modes (``PaymentMode``) each name one
    of these types. Built-ins (``plugins.sales.payment_builtin``): ``cash`` (Espèces, gives change),
    ``card`` (Carte bancaire), ``cheque`` (Chèque), ``bank_transfer`` (Virement), ``credit_balance``
    (Solde avoir: needs a contact, spends or credits their credit balance), ``other`` (Autre
    paiement). The waiting_account plugin adds ``waiting_account``, the devices plugin the payment
    terminal.
    """


@hookspec
def sales_operation_kinds():
    """Called when the sales registry is built.

    Return a list of ``plugins.sales.registry.OperationKind(code, label)``: the kinds of operations
    ("ordres") the plugin writes in the journal, with their French labels for the screens. Built-ins:
    ``reserve``, ``sell``, ``confirm``, ``pay``, ``refund``, ``cancel_reservation``, ``print``,
    ``credit``, ``update``, ``option``, ``option_expired``, ``delivery``. An operation of an
    unregistered kind is refused.
    """


@hookspec
def sales_order_actions(session, order):
    """Called when the order detail screen (and ``GET /api/v1/orders/<number>``) lists the actions
    offered on ``order``.

    Return a list of ``plugins.sales.registry.OrderAction(code, label, endpoint=None, url=None,
    permission=None, position=100, method="GET")`` applicable to this order in its current state
    (e.g. the refunds plugin offers "Rembourser" on a paid order, the waiting account "Facturer").
    ``endpoint`` is a Flask endpoint called with ``number=order.number``, or give ``url``. Actions
    whose ``permission`` the operator lacks are hidden. Read-only: must not write.
    """


@hookspec
def sales_order_blocks(session, order):
    """Called when the order detail screen, ``GET /api/v1/orders/<number>`` (``blocks``) or the order
    summary document ("Récapitulatif de commande", reports plugin) shows ``order``.

    Return a list of ``plugins.sales.registry.OrderBlock(code, title, facts=(), columns=(), rows=(),
    numeric=(), caption="", permission=None, position=100, document=True)``: what the plugin knows of
    this order, as text already formatted in the current language (e.g. the waiting account's
    instalment schedule: due dates, amounts, what is paid). Blocks whose ``permission`` the operator
    lacks are hidden on the screen and in the API; the document prints those with ``document=True``.
    Read-only: must not write.
    """


@hookspec
def sales_payment_panels():
    """Called when a screen with payment rows is drawn: "Vente - réservation" (``screen="sell"``) and
    an order's "Payer le solde" (``screen="order"``).

    Return a list of ``plugins.sales.registry.PaymentPanel(code, template, permission=None,
    position=100)``: a Jinja template of the plugin's blueprint drawn under the payment rows, given
    ``modes`` (the rows: ``code``, ``label``, ``type``, ``fields``), ``values`` (what was posted: a
    refused form comes back with it), ``fields`` (errors named like the inputs, ``pay-<CODE>-<field>``),
    ``screen`` and ``order`` (the order detail on "order", else None). The panel brings its own script
    (its blueprint's static folder) and posts through its payment type's fields: a field whose
    metadata says ``{"hidden": True}`` is not drawn in the row but posted as the hidden input
    ``pay-<CODE>-<field>`` the panel fills (the waiting account's schedule, as JSON). Panels whose
    ``permission`` the operator lacks are not drawn.
    """


@hookspec
def sales_order_created(session, order):
    """Called inside the transaction when an order was created by ``reserve`` or ``sell``, after
    its lines, tickets and first operation were flushed, before the payments given with it.

    Raising vetoes the creation (e.g. a plugin limiting tickets per buyer raises
    ``coulisses.ConflictError``).
    """


@hookspec
def sales_order_paid(session, order):
    """Called inside the transaction when the balance of a sold order reaches zero ("soldé") after
    a payment, or when a reservation's payments confirm it. Called once per time it becomes settled.

    Raising vetoes the payment that settled it.
    """


@hookspec
def sales_payment_recorded(session, order, payment):
    """Called inside the transaction for each payment or refund recorded on ``order``
    (``payment.amount`` positive: payment, negative: refund), after it was flushed: also when a
    pending payment completes, and for the two correction entries of a change of payer
    (``payment.correction_of_id`` set: the reversal, negative, and the replacement, positive).

    Raising vetoes the payment (e.g. the waiting account refuses one beyond the contact's maximum
    outstanding).
    """


@hookspec
def sales_tickets_cancelled(session, order, tickets):
    """Called inside the transaction after ``tickets`` (a list) of ``order`` were cancelled: their
    places and seats are free again and the order's total was recomputed. Called by
    ``cancel_reservation``, by the release of expired reservations (``reservations.release_order``)
    and by ``release_tickets`` (the refunds plugin's cancellations).

    Raising vetoes the cancellation.
    """


@hookspec
def sales_tickets_printed(session, order, tickets):
    """Called inside the transaction after ``tickets`` of ``order`` were marked printed
    (``mark_printed``). The devices plugin prints them; a reprint (duplicate) calls it again.

    Raising vetoes the marking.
    """


# --------------------------------------------------------------------------- after-commit events
# Called by the outbox job ``sales.events`` (``plugins.sales.services.events``) *after* the business
# transaction committed, in the job's own transaction, with rows read again. Raising does not undo
# anything: the job is retried later (every event of the transaction is delivered again), then
# parked. Implementations print, display or send; they must tolerate a second delivery.
# ``operation`` is the ``Operation`` ("Ordre 1271", a basket's or a stand-alone one) that did it.


@hookspec
def sales_after_order_created(session, order, operation):
    """Called after the commit of the transaction in which ``order`` was created (``reserve``,
    ``sell``, or a basket's sale). Return value ignored."""


@hookspec
def sales_after_order_paid(session, order, operation):
    """Called after the commit of the transaction in which ``order`` became settled ("soldé") by a
    payment of ``operation`` (or the confirmation of a fully paid reservation). Return value ignored."""


@hookspec
def sales_after_tickets_cancelled(session, order, tickets, operation):
    """Called after the commit of the transaction in which ``tickets`` (a list) of ``order`` were
    cancelled (``cancel_reservation``, ``release_tickets``, a basket's removal or abandon).
    Return value ignored."""


@hookspec
def sales_after_tickets_to_print(session, order, tickets, operation):
    """Called after the commit of the transaction in which ``tickets`` (a list) of ``order`` were
    sold (``sell``, a confirmation, a basket paid): they are now to be printed or sent according to
    their delivery mode. A printing plugin queues them here; ``mark_printed`` records the print.
    Return value ignored."""


@hookspec
def sales_after_payment_completed(session, order, payment, operation):
    """Called after the commit of the transaction in which ``payment`` (a ``Payment``: positive, a
    payment; negative, a refund) was recorded on ``order``. Return value ignored."""


@hookspec
def sales_after_payment_pending(session, order, payment, operation):
    """Called after the commit of the transaction in which a payment that completes later (a
    payment terminal, an online payment) was started on ``order``; ``payment`` is the row the
    payment mode keeps for it. Fired by ``events.emit(session, "payment_pending", ...)`` from the
    payment mode. Return value ignored."""

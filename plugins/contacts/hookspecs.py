"""The hooks the contacts plugin offers to other plugins (all named ``contacts_*``).

Registries (``contacts_types``, ``contacts_indicators``, ``contacts_sheet_sections``,
``contacts_references``) return lists of the dataclasses of ``plugins.contacts.registry``; the
contacts plugin registers its own built-ins through the same hooks, and refuses two different
definitions under one code (``coulisses.PluginError`` naming both plugins).

Customer vs prospect: the sales plugin (which depends on contacts, so calls it directly) calls
``plugins.contacts.services.activity.record_purchase(session, contact, when)`` inside the
transaction of each paid order: the first call makes the contact a customer (``customer_since``),
every call moves ``last_purchase_at`` and recomputes the contact's indicators. The activity
figures the indicators need come from ``contacts_facts``.
"""
from __future__ import annotations

from coulisses import hookspec


@hookspec
def contacts_types():
    """Called when the contacts registry is built (at startup, and for service calls outside the app).

    Return a list of ``plugins.contacts.registry.ContactType``: ``code``, ``label``, ``kind``
    (``"individual"`` or ``"structure"``: which form, which links and which criteria apply), optional
    ``fields`` (``ExtraField``: extra data stored in ``Contact.extra``, shown on the sheet, searchable
    when ``searchable=True``) and an optional ``validate(data) -> dict[field, message]`` for the
    type's own rules. The built-ins (individual, structure, guide, supplier, partner, producer,
    support) come through this hook too. The same code defined differently by two plugins is a
    startup error.
    """


@hookspec
def contacts_sheet_sections():
    """Called when the registry is built.

    Return a list of ``plugins.contacts.registry.SheetSection``: a section other plugins add to the
    contact sheet, in a tab (``"summary"``, ``"general"``, ``"marketing"``, ``"management"``,
    ``"notes"``, ``"administration"``) or as a side menu (``"side"``). ``data(session, contact)``
    returns a JSON-able dict (also served by ``GET /api/v1/contacts/<number>`` under
    ``sections``), or None when the section does not apply to that contact (it is then left out);
    ``template`` is a Jinja template of the plugin rendered with ``section``, ``data``
    and ``contact``; ``permission`` hides it from operators without it. Example: the waiting account
    and credit balance in the Management tab.
    """


@hookspec
def contacts_history(session, contact, kind):
    """Called when a history of the sheet is shown (screen and ``GET .../histories/<kind>``).

    ``kind`` is ``"sends"`` (ticketing sends: e-mails, campaigns), ``"purchases"`` (orders),
    ``"cultural"`` (performances attended or to attend) or ``"financial"`` (payments). Return a list
    of ``plugins.contacts.registry.HistoryRow`` for ``contact`` (an empty list or None when the plugin
    has nothing of that kind). The contacts plugin contributes the sends it records itself
    (``TicketingSend``); the sales plugin contributes the other three. Rows are merged, newest first;
    rows of one plugin with the same ``details["key"]`` (e.g. ``"order:959"``) are one row, their
    ``details["roles"]`` (buyer, payer, structure, attendee, via_relay) united.
    Read-only: must not write.
    """


@hookspec
def contacts_indicators():
    """Called when the registry is built.

    Return a list of ``plugins.contacts.registry.IndicatorDefinition``: ``code``, ``label``,
    ``compute(session, contact, facts, config) -> Decimal | int | None`` and ``level(value, config) ->
    str`` (one of the definition's ``levels`` codes), ``description`` (the definition shown to
    operators). Built-ins: ``attendance``, ``member``, ``season_ticket``, ``children_product``, ``pmg``,
    ``seniority``, ``channel`` (see ``plugins.contacts.services.indicators``).
    """


@hookspec
def contacts_facts(session, contact):
    """Called when a contact's indicators are computed (on change, and by the nightly task).

    Return a dict of activity facts about ``contact`` that the indicators compute from, or None. Keys
    the built-ins read (the sales plugin provides them; until then they are missing and the
    indicators show an honest 0 / empty level):

    - ``performances_this_season`` (int): distinct performances attended or booked this season,
      returned tickets excluded;
    - ``membership_valid`` (bool): holds a valid, non-refunded membership product;
    - ``season_ticket`` (bool): holds a season ticket of the current season;
    - ``children_product`` (bool): bought a product for children this season;
    - ``spend_previous_season`` (Decimal): total paid over the previous season, refunds deducted;
    - ``seasons_since_first_purchase`` (int): defaults to a count from ``customer_since``;
    - ``channels`` (list[str]): the sales channels the contact used ("Filière utilisée").

    Dicts from several plugins are merged (later plugins in load order win on a key).
    """


@hookspec
def contacts_references():
    """Called when contacts are merged, deleted or anonymised.

    Return a list of ``plugins.contacts.registry.ContactReference``: each ``(table, column)`` of the
    plugin that holds a ``contacts_contact.id``. A merge moves every such reference from the merged
    contact to the head (as Tryton's party replace does); ``unique_with`` lists the columns that, with
    ``column``, are unique, so that the merge drops the merged contact's row when the head already has
    one. The contacts plugin declares its own tables through this hook too.
    """


@hookspec
def contacts_contact_created(session, contact):
    """Called inside the creating transaction after a contact was created (quick creation, API,
    import through the service). Raising vetoes the creation (the transaction is rolled back)."""


@hookspec
def contacts_contact_updated(session, contact, changed):
    """Called inside the transaction after ``update_contact`` changed ``contact``; ``changed`` is the
    set of field names that changed. Raising vetoes the change."""


@hookspec
def contacts_contact_deleting(session, contact):
    """Called inside the transaction before a contact is deleted. Raise ``coulisses.ConflictError``
    to refuse (e.g. the sales plugin refuses to delete a contact who has orders)."""

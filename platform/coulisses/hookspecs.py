"""The host's hooks. Every plugin may implement any of them (``@coulisses.hookimpl``).

The host calls them itself; each docstring says when, with what, and what it expects back.
They are documented for integrators in ``docs/hooks.md`` (a test keeps the two in step).
"""
from __future__ import annotations

from coulisses import hookspec


@hookspec
def coulisses_config_defaults():
    """Called once while the app is built, before anything reads the configuration.

    Return a dict of configuration defaults for this plugin (keys prefixed with the plugin's name in
    upper case, e.g. ``{"CONTACTS_INACTIVITY_MONTHS": 36}``). Environment variables
    ``COULISSES_<KEY>`` and the configuration passed to ``create_app`` override them.
    """


@hookspec
def coulisses_permissions():
    """Called at startup and by ``coulisses db upgrade``.

    Return a list of ``coulisses.Permission``: every permission the plugin's screens, actions and
    endpoints check. A permission seen for the first time is granted to the default roles it names
    (the administrator role always has every permission). Two plugins declaring the same code is a
    startup error.
    """


@hookspec
def coulisses_admin_views(admin):
    """Called once while the app is built, after the database and the security are set up.

    ``admin`` is the ``flask_admin.Admin`` instance. Return a list of *new* Flask-Admin view
    instances (subclasses of ``coulisses.web.admin.ModelView`` / ``BaseView``); views without a
    ``category`` are put in the menu of the plugin (its label).
    """


@hookspec
def coulisses_blueprints():
    """Called once while the app is built. Return a list of Flask blueprints to register (pages
    outside the admin, static files). Their views must check a permission (``coulisses.web.auth``).
    """


@hookspec
def coulisses_api_routes(api):
    """Called once while the app is built, before the ``/api/v1`` blueprint is registered.

    ``api`` is the ``coulisses.web.rest.Api``: declare endpoints with ``@api.route(...)``; each names
    its permission and its marshmallow schemas, and appears in ``/api/v1/openapi.json``.
    Return nothing.
    """


@hookspec
def coulisses_cli_commands():
    """Called when the ``coulisses`` command builds its command list.

    Return a list of ``click`` commands or groups; they run inside an application context, with the
    session at ``coulisses.web.extensions.db.session``.
    """


@hookspec
def coulisses_install_defaults(session):
    """Called by ``coulisses db upgrade`` and ``coulisses plugins enable``, after the schema was
    migrated, once per plugin: a plugin's implementation runs the first time the plugin is enabled on
    a database, and never again (the host records it), so that what the organisation changed or
    deleted afterwards stays so.

    Create the settings the plugin needs to work on a new database without demo data (the sales
    plugin: its channels, the "Guichet" point of sale, one payment mode per built-in type), named in
    the organisation's language (``coulisses.i18n``: the block runs under ``use_locale`` of
    ``COULISSES_LOCALE``). Write in ``session``; the host commits. Return nothing.
    """


@hookspec
def coulisses_demo_data(session, size):
    """Called by ``coulisses demo load`` (and ``make run`` on a new database), plugins in load order
    (dependencies first), each in its own transaction, which the host commits.

    ``size`` is ``"small"`` (tests), ``"normal"`` (make run) or ``"large"``. Create the plugin's demo
    records in ``session``; return nothing. Must not run twice on the same database: the host records
    that demo data was loaded.
    """


@hookspec
def coulisses_periodic_tasks():
    """Called by ``coulisses tasks list|run`` (run it from cron or a systemd timer).

    Return a list of ``coulisses.tasks.Task`` (name, schedule ``"hourly"`` / ``"nightly"``, a function
    taking a ``Session``).
    """


@hookspec
def coulisses_job_types():
    """Called when the outbox's registry is built (web app, worker, commands).

    Return a list of ``coulisses.outbox.JobType(code, handler, label, max_attempts=5, …)``: the work
    this plugin enqueues with ``coulisses.outbox.enqueue`` to run after commit (printing, e-mail,
    bank files, long reports). Codes start with the plugin's name (``"reports.run"``); two plugins
    defining one code refuse the start.
    """


@hookspec
def coulisses_webhook_events():
    """Called when the webhooks' registry is built (web app, worker, commands).

    Return a list of ``coulisses.webhooks.WebhookEvent(code, label, schema, permission,
    description)``: the events this plugin raises with ``coulisses.webhooks.emit(session, code, obj)``
    inside its business transactions. Administrators subscribe URLs to them (Administration →
    Webhooks), integrations poll them (``GET /api/v1/changes``, filtered by ``permission``), and
    ``schema`` (a marshmallow ``Schema`` class dumping ``obj``) documents the payload in
    ``/api/v1/openapi.json``. Codes start with the plugin's name (``"contacts.contact.created"``);
    two plugins defining one code refuse the start.
    """


@hookspec
def coulisses_settings_schema():
    """Called when the plugins' settings are read (app start, commands, the worker) and by the
    plugins screen.

    Return a marshmallow ``Schema`` class whose fields are settings of this plugin that an
    administrator may change on the plugins screen: field names are the setting keys (prefixed with
    the plugin's name in upper case, e.g. ``CONTACTS_PURGE_ENABLED``), ``load_default`` is the
    default, ``metadata={"label": _l("…"), "description": _l("…")}`` what the screen shows. The
    values saved on the screen are stored in the database and read through ``coulisses.config``
    (``current_config()[key]``) the same way in the web app, the CLI, the tasks and the worker; a
    ``COULISSES_<KEY>`` environment variable or the configuration file still wins over them.
    """


@hookspec
def coulisses_template_context():
    """Called for every rendered template. Return a dict of values to expose to Jinja templates
    (merged over the plugins; keys should be prefixed with the plugin name).
    """


@hookspec
def coulisses_js_messages():
    """Called for every admin page. Return a dict ``{key: translated string}`` (``_l`` strings are
    fine) that the plugin's JavaScript reads with ``Coulisses.t(key)`` on every page, including the
    pages of other plugins that reuse its widgets; keys should be prefixed with the plugin's name.
    """


@hookspec
def coulisses_startup(app):
    """Called once at the end of ``create_app``, plugins in load order, with the built Flask app.

    Use it for what needs the whole app (registering Jinja filters, checking configuration).
    Raising refuses the start; the message is shown with the plugin's name.
    """


@hookspec
def coulisses_metrics(session):
    """Called at each scrape of ``/metrics`` (docs/operator-guide.md, "Metrics"), in the web process,
    with a read-only ``session`` (rolled back afterwards).

    Return a list of ``coulisses.metrics.Metric`` (name starting with ``coulisses_<plugin>_``, type
    ``counter`` or ``gauge``, help, samples as ``(labels, value)``): the plugin's business figures
    (orders paid, refunds…). Keep it cheap: a few aggregate queries. A metric named outside the
    plugin's prefix refuses the scrape, naming the plugin.
    """

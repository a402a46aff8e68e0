"""The plugins screen's settings page (Administration → Plugins → Réglages…): a form built from the
schema the plugin declares (``coulisses_settings_schema``), saved through ``coulisses.plugin_settings``
(stored in the database, recorded in the security journal)."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for

from coulisses import InvalidError, plugin_settings
from coulisses.i18n import _
from coulisses.web.extensions import db


def settings_view(view, plugin: str):
    state = current_app.extensions["coulisses"]
    if plugin not in state.order or not plugin_settings.schemas(state.pm).get(plugin):
        abort(404)  # a plugin that is not running, or declares nothing to edit
    errors: dict[str, str] = {}
    typed: dict[str, str] = {}
    if request.method == "POST":
        form = request.form.to_dict(flat=True)
        try:
            changed = plugin_settings.save(db.session, state.pm, plugin, form, current_app.config)
            db.session.commit()
        except InvalidError as exc:
            db.session.rollback()
            from coulisses.web.validation_messages import translate

            errors = {k: "; ".join(str(m) for m in (v if isinstance(v, list) else [v]))
                      for k, v in translate(exc.fields).items()}
            typed = form
            for row in plugin_settings.rows(state.pm, plugin, current_app.config):
                if row["kind"] == "boolean":
                    typed[row["key"]] = "1" if row["key"] in form else "0"
        else:
            if changed:
                flash(_("Réglages enregistrés : %(keys)s.", keys=", ".join(changed)), "success")
            else:
                flash(_("Aucun réglage n'a changé."), "info")
            return redirect(url_for(".index"))
    rows = plugin_settings.rows(state.pm, plugin, current_app.config)
    return view.render("coulisses/plugin_settings.html", name=plugin, info=state.infos[plugin], rows=rows,
                       errors=errors, typed=typed), (422 if errors else 200)

"""The catalogue screens' deactivation: "Désactiver" / "Réactiver" actions on the list, and a
deletion that deactivates a row still referenced (tickets, prices, quotas, performances) instead of
failing. The rules are the services' (``services/catalogue_rules.py``), the same as the REST API's."""
from __future__ import annotations

from flask import flash
from flask_admin.actions import action
from sqlalchemy import select

from coulisses import CoulissesError
from coulisses.i18n import _, _l, _n
from coulisses.web.extensions import db

from plugins.sales.services import catalogue_rules


class DeactivatableMixin:
    """For the catalogue views of models with an ``active`` column (listed in
    ``catalogue_rules.WHAT``). Deleting a referenced row deactivates it and says so."""

    def delete_model(self, model) -> bool:
        try:
            outcome = catalogue_rules.remove(db.session, model)
            db.session.commit()
        except CoulissesError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return False
        if outcome == "deactivated":
            flash(catalogue_rules.removal_message(model, outcome), "warning")
            return False  # nothing was deleted: Flask-Admin must not say "deleted"
        return True

    def _set_active(self, ids, active: bool) -> None:
        rows = db.session.scalars(select(self.model).where(self.model.id.in_(self.coerce_ids(ids)))).all()
        for row in rows:
            catalogue_rules.set_active(db.session, self.model, row, active)
        db.session.commit()
        if active:
            flash(_n("%(num)d élément réactivé.", "%(num)d éléments réactivés.", len(rows)), "success")
        else:
            flash(_n("%(num)d élément désactivé : il n'est plus proposé à la vente, les dossiers passés le gardent.",
                     "%(num)d éléments désactivés : ils ne sont plus proposés à la vente, les dossiers passés les "
                     "gardent.", len(rows)), "success")

    @action("deactivate", _l("Désactiver"), _l("Désactiver les éléments sélectionnés ? Ils ne seront plus proposés "
                                              "à la vente ; les dossiers passés les gardent."))
    def action_deactivate(self, ids):
        self._set_active(ids, False)

    @action("activate", _l("Réactiver"), _l("Réactiver les éléments sélectionnés ?"))
    def action_activate(self, ids):
        self._set_active(ids, True)

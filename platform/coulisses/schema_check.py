"""The migrated schema against the models, in words a plugin author acts on (``coulisses db check``,
``coulisses.testing.assert_migrations_match_models``). The comparison itself is
``coulisses.migrations.schema_differences`` (Alembic's ``compare_metadata``)."""
from __future__ import annotations

from sqlalchemy.engine import Connection

from coulisses.i18n import _
from coulisses.migrations import pending_branches, schema_differences


def describe_difference(diff) -> str:
    """One of ``schema_differences``' items as a sentence (French msgid) for a person."""
    if isinstance(diff, list):  # Alembic groups a column's modifications in a list
        return "; ".join(describe_difference(d) for d in diff)
    kind = diff[0]
    if kind == "add_table":
        return _("table %(table)s : dans les modèles, absente de la base", table=diff[1].name)
    if kind == "remove_table":
        return _("table %(table)s : dans la base, plus dans les modèles", table=diff[1].name)
    if kind == "add_column":
        return _("colonne %(table)s.%(column)s : dans les modèles, absente de la base",
                 table=diff[2], column=diff[3].name)
    if kind == "remove_column":
        return _("colonne %(table)s.%(column)s : dans la base, plus dans les modèles",
                 table=diff[2], column=diff[3].name)
    if kind.startswith("modify_"):
        what = {"type": _("le type"), "nullable": _("l'acceptation de NULL"), "default": _("la valeur par défaut"),
                "comment": _("le commentaire")}.get(kind[len("modify_"):], kind[len("modify_"):])
        return _("colonne %(table)s.%(column)s : %(what)s diffère entre la base (%(old)s) et les modèles "
                 "(%(new)s)", table=diff[2], column=diff[3], what=what, old=diff[5], new=diff[6])
    if kind in ("add_index", "remove_index", "add_constraint", "remove_constraint", "add_fk", "remove_fk"):
        obj = diff[1]
        table = getattr(getattr(obj, "table", None), "name", None) or getattr(obj, "parent", None)
        what = {"index": _("index"), "constraint": _("contrainte"), "fk": _("clé étrangère")}[kind.split("_", 1)[1]]
        if kind.startswith("add_"):
            return _("%(what)s %(name)s de %(table)s : dans les modèles, absent de la base",
                     what=what, name=obj.name or "", table=table)
        return _("%(what)s %(name)s de %(table)s : dans la base, plus dans les modèles",
                 what=what, name=obj.name or "", table=table)
    return repr(diff)


def plugin_of_difference(diff, plugins: list[str]) -> str:
    """The plugin whose table a difference concerns (by the table's tag, else its name's prefix)."""
    from coulisses.db import metadata

    if isinstance(diff, list):
        diff = diff[0]
    name = None
    if diff[0] in ("add_table", "remove_table"):
        name = diff[1].name
    elif diff[0] in ("add_column", "remove_column") or diff[0].startswith("modify_"):
        name = diff[2]
    else:
        table = getattr(diff[1], "table", None)
        name = getattr(table, "name", None)
    table = metadata.tables.get(name) if name else None
    if table is not None and table.info.get("plugin"):
        return table.info["plugin"]
    for plugin in sorted(plugins, key=len, reverse=True):
        if name and name.startswith(f"{plugin}_"):
            return plugin
    return "core"


def schema_report(connection: Connection, infos: dict, plugins: list[str]) -> dict[str, list[str]]:
    """``{plugin: [problem, ...]}`` for the host and ``plugins`` (enabled, in load order): a branch the
    database is behind on, or a model the migrated schema does not match (a column added to a model
    without its migration). Empty when everything is in order. Messages are French msgids."""
    names = ["core", *plugins]
    problems: dict[str, list[str]] = {}
    behind = pending_branches(connection, infos, list(plugins))
    for name in behind:
        problems.setdefault(name, []).append(
            _("la base n'est pas à jour : lancez `coulisses db upgrade`"))
    for diff in schema_differences(connection, names):
        owner = plugin_of_difference(diff, names)
        if owner in behind:
            continue
        problems.setdefault(owner, []).append(describe_difference(diff))
    for name in names:
        if name in problems and name not in behind:
            problems[name].append(_("créez la migration qui manque : `coulisses db revision %(plugin)s -m "
                                    "\"…\"`, puis `coulisses db upgrade`", plugin=name))
    return problems



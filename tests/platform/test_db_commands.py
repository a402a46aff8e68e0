"""`coulisses db revision` and `coulisses db check`, run as the guide's §7 recipe says (issue 16)."""
from __future__ import annotations

import importlib
import re
import sys
import textwrap

import pytest
import sqlalchemy as sa
from sqlalchemy import inspect

from coulisses import db as cdb
from coulisses import migrations
from coulisses import plugins as cplugins
from coulisses.testing import assert_migrations_match_models

pytestmark = pytest.mark.filterwarnings("ignore:This declarative base already contains")

SCHOOL_INIT = '''\
import coulisses

MANIFEST = coulisses.Manifest(name="tp_school", version="1.0.0", label="École", depends=["contacts"])
'''

SCHOOL_MODELS = '''\
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from coulisses.db import Base


class SchoolClass(Base):
    __tablename__ = "tp_school_class"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts_contact.id"))
'''


@pytest.fixture
def school_plugin(tmp_path, register_plugin, monkeypatch):
    """A plugin depending on contacts, with a model and no migration yet (its author's first day)."""
    root = tmp_path / "site" / "tp_school"
    root.mkdir(parents=True)
    (root / "__init__.py").write_text(SCHOOL_INIT)
    (root / "models.py").write_text(SCHOOL_MODELS)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    module = importlib.import_module("tp_school")
    importlib.import_module("tp_school.models")
    register_plugin(module)
    yield module
    for name in [m for m in sys.modules if m == "tp_school" or m.startswith("tp_school.")]:
        del sys.modules[name]
    table = cdb.metadata.tables.get("tp_school_class")
    if table is not None:
        cdb.metadata.remove(table)


def test_the_guide_recipe_creates_a_first_revision_while_other_plugins_are_not_migrated(cli, school_plugin,
                                                                                      database_url):
    # §7 as written: the host alone (sales, reports… are installed but not migrated), then the revision
    assert cli("db", "upgrade").exit_code == 0
    result = cli("db", "revision", "tp_school", "-m", "first tables")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    path = school_plugin.__path__[0] + "/migrations/tp_school_0001_first_tables.py"
    assert f"Révision tp_school_0001 créée : {path}." in result.output
    source = open(path).read()
    assert "revision = 'tp_school_0001'" in source or 'revision = "tp_school_0001"' in source
    assert re.search(r"branch_labels = \('tp_school',\)", source)
    assert re.search(r"depends_on = \[?'core_0001', 'contacts_0001'\]?", source), source
    assert "tp_school_class" in source and "contact_id" in source
    import os
    assert os.path.exists(school_plugin.__path__[0] + "/migrations/__init__.py")  # shipped with the package

    # the revision is good: enabling the plugin creates its table, and `db check` finds nothing missing
    enabled = cli("plugins", "enable", "tp_school")
    assert enabled.exit_code == 0, enabled.output
    engine = cdb.make_engine(database_url)
    assert "tp_school_class" in inspect(engine).get_table_names()
    engine.dispose()
    check = cli("db", "check")
    assert check.exit_code == 0, check.output
    assert check.output.strip() == "Le schéma de la base est celui des modèles : core, contacts, tp_school."

    # nothing changed: no empty revision
    again = cli("db", "revision", "tp_school", "-m", "nothing")
    assert again.exit_code == 0
    assert "Rien à migrer" in again.output


def test_a_new_column_without_its_migration_is_named_by_db_check_then_migrated(cli, school_plugin):
    assert cli("db", "revision", "tp_school", "-m", "first tables").exit_code == 0
    assert cli("db", "upgrade").exit_code == 0
    assert cli("plugins", "enable", "tp_school").exit_code == 0
    # the author adds a column to the model and forgets the migration
    table = cdb.metadata.tables["tp_school_class"]
    column = sa.Column("uai", sa.String(8), nullable=True)
    table.append_column(column)
    try:
        assert cli("db", "upgrade").exit_code == 0  # Alembic has nothing to run…
        check = cli("db", "check")  # …but the check sees the difference
        assert check.exit_code == 1
        lines = check.output.strip().splitlines()
        assert lines == [
            "tp_school: colonne tp_school_class.uai : dans les modèles, absente de la base",
            "tp_school: créez la migration qui manque : `coulisses db revision tp_school -m \"…\"`, "
            "puis `coulisses db upgrade`",
        ]
        # following the advice fixes it
        second = cli("db", "revision", "tp_school", "-m", "uai")
        assert second.exit_code == 0, second.output
        assert "tp_school_0002" in second.output
        assert cli("db", "upgrade").exit_code == 0
        assert cli("db", "check").exit_code == 0
    finally:
        table._columns.remove(column)


def test_db_check_asks_for_an_upgrade_when_the_database_is_behind(cli):
    check = cli("db", "check")
    assert check.exit_code == 1
    assert check.output.strip() == "core: la base n'est pas à jour : lancez `coulisses db upgrade`"


def test_db_revision_of_an_unknown_plugin_says_so_in_one_line(cli):
    result = cli("db", "revision", "tp_nothing", "-m", "x")
    assert result.exit_code == 1
    assert result.output.startswith("Erreur : aucun plugin installé ne s'appelle « tp_nothing »")
    assert len(result.output.strip().splitlines()) == 1


def test_db_revision_of_a_plugin_whose_dependency_is_missing_says_why(cli, register_plugin):
    from tests.platform.conftest import make_plugin

    register_plugin(make_plugin("tp_lonely", depends=["tp_absent"]))
    result = cli("db", "revision", "tp_lonely", "-m", "x")
    assert result.exit_code == 1
    assert result.output.strip() == "Erreur : plugin « tp_lonely » : dépend de « tp_absent », qui n'est pas installé"


def test_the_host_helper_compares_migrations_and_models(database_url, school_plugin):
    with pytest.raises(AssertionError) as excinfo:  # tables without a migration: refused with the message
        assert_migrations_match_models(database_url, "tp_school")
    assert "n'a pas de migration pour ses tables (tp_school_class)" in str(excinfo.value)
    assert_migrations_match_models(database_url, "contacts")

"""Helpers for the host's tests: the `coulisses` command run in-process, throwaway plugins."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

import coulisses
from coulisses import db as cdb


@pytest.fixture
def cli(database_url, tmp_path):
    """``cli("plugins", "list", env={...}, input=...)``: run the ``coulisses`` command on the test database."""
    from coulisses.cli import main

    def run(*args, env=None, input=None):
        environ = {
            "COULISSES_DATABASE_URL": database_url,
            "COULISSES_INSTANCE_PATH": str(tmp_path / "instance"),
            "COULISSES_ENV": "development",
            "COULISSES_PLUGINS": "",
            "COULISSES_SECRET_KEY": None,
        }
        environ.update(env or {})
        return CliRunner().invoke(main, list(args), env=environ, input=input, prog_name="coulisses")

    return run


def make_plugin(name, version="1.0", depends=(), optional_depends=(), requires_host="", description="",
                hooks=None):
    """A throwaway plugin object: a MANIFEST and the given hook implementations (name → function).

    The functions take the hook's arguments (no ``self``).
    """
    attrs = {"MANIFEST": coulisses.Manifest(name=name, version=version, label=name.title(),
                                             depends=list(depends), optional_depends=list(optional_depends),
                                             requires_host=requires_host, description=description)}
    for hook_name, func in (hooks or {}).items():
        attrs[hook_name] = staticmethod(coulisses.hookimpl(func))
    cls = type(f"Plugin_{name}", (), attrs)
    return cls()


KEEP_INIT = '''\
import coulisses
from coulisses import Permission

MANIFEST = coulisses.Manifest(name="tp_keep", version="1.0", label="Keep", depends=["tp_base"])


@coulisses.hookimpl
def coulisses_permissions():
    return [Permission("tp_keep.view", "See the items")]


@coulisses.hookimpl
def coulisses_admin_views(admin):
    from coulisses.web.admin import ModelView
    from tp_keep.models import KeptItem

    return [ModelView(KeptItem, permission="tp_keep.view", name="Kept items", endpoint="tp_keep_item")]
'''

KEEP_MODELS = '''\
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from coulisses.db import Base


class KeptItem(Base):
    __tablename__ = "tp_keep_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(80))
'''

KEEP_MIGRATION = '''\
from alembic import op
import sqlalchemy as sa

revision = "tp_keep_0001"
down_revision = None
branch_labels = ("tp_keep",)
depends_on = "core_0001"


def upgrade():
    op.create_table("tp_keep_item", sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("label", sa.String(length=80), nullable=False),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_tp_keep_item")))


def downgrade():
    op.drop_table("tp_keep_item")
'''


@pytest.fixture(scope="session")
def keep_package(tmp_path_factory):
    """A plugin package ``tp_keep`` (depends on ``tp_base``) with a model, migrations, an admin view
    and a permission, written once and imported once (its table joins the shared metadata)."""
    import importlib
    import sys

    site = tmp_path_factory.mktemp("keep_site")
    root = site / "tp_keep"
    (root / "migrations").mkdir(parents=True)
    (root / "__init__.py").write_text(KEEP_INIT)
    (root / "models.py").write_text(KEEP_MODELS)
    (root / "migrations" / "tp_keep_0001_items.py").write_text(KEEP_MIGRATION)
    sys.path.insert(0, str(site))
    try:
        module = importlib.import_module("tp_keep")
        importlib.import_module("tp_keep.models")
    finally:
        sys.path.remove(str(site))
    return module


@pytest.fixture
def keep_plugin(keep_package, register_plugin):
    """``tp_base`` and ``tp_keep`` registered for this test."""
    register_plugin(make_plugin("tp_base"))
    register_plugin(keep_package)
    return keep_package


T0 = datetime(2026, 3, 14, 9, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, start=T0):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def clock():
    """The host clock, set (``clock.advance(minutes=15)``): time passes without sleeping."""
    c = Clock()
    with cdb.clock(c):
        yield c

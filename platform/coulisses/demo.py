"""Demo data: each enabled plugin's ``coulisses_demo_data`` in load order, recorded once."""
from __future__ import annotations

from typing import Callable

from sqlalchemy import inspect, select, table, literal_column
from sqlalchemy.orm import Session

from coulisses.i18n import _
from coulisses import plugins as cplugins
from coulisses.db import Setting, get_setting, set_setting, utcnow

# Tables a box office fills itself (never by ``db upgrade``'s defaults): rows there without the demo's
# marker (the ``demo.loaded`` settings) are real data, which ``demo load`` never mixes demo records into.
REAL_DATA_TABLES = ("contacts_contact", "sales_event", "sales_order", "sales_payment")


def demo_marker(session: Session) -> bool:
    """Whether demo data was ever loaded into this database (``load_demo`` records it)."""
    bind = session.get_bind()
    if not inspect(bind).has_table(Setting.__tablename__):
        return False
    return session.scalar(select(Setting.key).where(Setting.key.like("demo.loaded%")).limit(1)) is not None


def real_data_tables(session: Session) -> list[str]:
    """The business tables that hold rows although the demo was never loaded (empty: safe to load)."""
    if demo_marker(session):
        return []
    existing = set(inspect(session.get_bind()).get_table_names())
    found = []
    for name in REAL_DATA_TABLES:
        if name in existing and session.execute(
                select(literal_column("1")).select_from(table(name)).limit(1)).first() is not None:
            found.append(name)
    return found


def load_demo(session: Session, pm, size: str = "normal", echo: Callable[[str], None] = print) -> list[str]:
    """Load demo data plugin by plugin (each in its own transaction); returns the plugins that did."""
    done = []
    for impl in cplugins.ordered_impls(pm, "coulisses_demo_data"):
        key = f"demo.loaded.{impl.plugin_name}"
        if get_setting(session, key):
            continue
        echo(_("Chargement des données de démonstration de %(plugin)s…", plugin=impl.plugin_name))
        impl.function(session=session, size=size)
        set_setting(session, key, utcnow().isoformat())
        session.commit()
        done.append(impl.plugin_name)
    set_setting(session, "demo.loaded", f"{size} at {utcnow():%Y-%m-%d %H:%M} UTC")
    session.commit()
    return done

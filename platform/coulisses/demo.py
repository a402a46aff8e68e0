"""Demo data: each enabled plugin's ``coulisses_demo_data`` in load order, recorded once."""
from __future__ import annotations

from typing import Callable

from sqlalchemy.orm import Session

from coulisses import plugins as cplugins
from coulisses.db import get_setting, set_setting, utcnow


def load_demo(session: Session, pm, size: str = "normal", echo: Callable[[str], None] = print) -> list[str]:
    """Load demo data plugin by plugin (each in its own transaction); returns the plugins that did."""
    done = []
    for impl in cplugins.ordered_impls(pm, "coulisses_demo_data"):
        key = f"demo.loaded.{impl.plugin_name}"
        if get_setting(session, key):
            continue
        echo(f"Loading demo data of {impl.plugin_name}…")
        impl.function(session=session, size=size)
        set_setting(session, key, utcnow().isoformat())
        session.commit()
        done.append(impl.plugin_name)
    set_setting(session, "demo.loaded", f"{size} at {utcnow():%Y-%m-%d %H:%M} UTC")
    session.commit()
    return done

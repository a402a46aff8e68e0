"""The plugin's gettext functions, with French msgids (the convention of ``coulisses.i18n``).

``_("Papier épuisé")`` in a request, a command, a job or the agent; ``_l`` for module-level labels.
The host's ``coulisses.i18n`` is used when the host has it; until then Flask-Babel's functions, which
read the same catalogues (the host adds ``plugins/devices/translations`` to the app's directories) and
give the French msgid back outside a request.
"""
from __future__ import annotations

try:  # the host's helper (request, CLI, job locale)
    from coulisses.i18n import _, _l, _n  # type: ignore[attr-defined]  # noqa: F401
except ImportError:  # a host without coulisses.i18n yet
    from flask_babel import gettext as _  # noqa: F401
    from flask_babel import lazy_gettext as _l  # noqa: F401
    from flask_babel import ngettext as _n  # noqa: F401

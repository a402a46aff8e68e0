"""The plugin's gettext functions: the host's (French msgids, the locale of the request, command or job)."""
from coulisses.i18n import _, _l, _n  # noqa: F401

"""Languages, translations and locale-aware formatting, the same in requests, commands and jobs.

The convention (docs/plugin-guide.md, "Translating a plugin"): source strings are **French**, the
domain's language, exactly as a French box office reads them; each plugin (and the host) ships
``translations/en`` and ``translations/es`` catalogues of its own. The host merges the catalogues of
the host and of the enabled plugins.

In Python::

    from coulisses.i18n import _, _l, _n

    raise InvalidError(_("Dossier %(number)s introuvable", number=959))
    LABEL = _l("Solde avoir")                      # module level, form labels: lazy
    _n("%(num)d billet", "%(num)d billets", n)     # ``num`` is given automatically

The locale is, in this order: the one of a ``with use_locale("en"):`` block (jobs, e-mails, tests);
inside a request, the operator's choice (remembered per operator), else the session's, else the
``Accept-Language`` header; else the deployment's ``COULISSES_LOCALE`` (``fr`` by default). API
requests prefer their ``Accept-Language`` header.

Formatting follows the same locale: ``format_money`` ("2 420,00 €", "€2,420.00"), ``format_number``,
``format_date``, ``format_datetime`` (in the deployment's time zone), ``format_time``.
"""
from __future__ import annotations

import contextlib
import contextvars
import json
import threading
from datetime import date, datetime, time, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.support import LazyProxy, NullTranslations, Translations

LANGUAGES = ("fr", "en", "es")
DEFAULT_LANGUAGE = "fr"
LANGUAGE_NAMES = {"fr": "Français", "en": "English", "es": "Español"}  # each in its own language
HOST_TRANSLATIONS = Path(__file__).resolve().parent / "translations"

# How people write dates at a box office in each language (the seeds: "02.11.2015 20:15").
DATE_PATTERNS = {"fr": "dd.MM.yyyy", "en": "dd/MM/yyyy", "es": "dd/MM/yyyy"}
TIME_PATTERN = "HH:mm"
# Monday first everywhere: the week of a European box office (the date picker follows it).
FIRST_WEEKDAY = 1

_locale_override: contextvars.ContextVar[str | None] = contextvars.ContextVar("coulisses_locale", default=None)


# --------------------------------------------------------------------------- the locale


def normalize_language(value: str | None) -> str | None:
    """``"fr_FR"``, ``"es-ES"``, ``"EN"`` → ``"fr"``, ``"es"``, ``"en"``; anything else → None."""
    if not value:
        return None
    code = str(value).replace("-", "_").split("_")[0].strip().lower()
    return code if code in LANGUAGES else None


def default_language() -> str:
    from coulisses.config import current_config

    return normalize_language(current_config().get("LOCALE")) or DEFAULT_LANGUAGE


def current_locale() -> str:
    """The language of what is being done now: ``"fr"``, ``"en"`` or ``"es"``."""
    forced = _locale_override.get()
    if forced:
        return forced
    try:
        from flask import has_request_context

        if has_request_context():
            from flask_babel import get_locale

            found = normalize_language(str(get_locale() or ""))
            if found:
                return found
    except ImportError:  # pragma: no cover - Flask is a dependency
        pass
    return default_language()


@contextlib.contextmanager
def use_locale(locale: str | None):
    """Within the block, messages and formats are in ``locale`` (a job, an e-mail to a customer)."""
    lang = normalize_language(locale) or default_language()
    token = _locale_override.set(lang)
    try:
        yield lang
    finally:
        _locale_override.reset(token)


# --------------------------------------------------------------------------- catalogues

_cache: dict[tuple[str, tuple[str, ...]], Translations | NullTranslations] = {}
_cache_lock = threading.Lock()
_installed_dirs: list[tuple[str, ...] | None] = [None]


def installed_translation_dirs() -> tuple[str, ...]:
    """The host's catalogue folder, then each installed plugin's ``translations/`` folder."""
    if _installed_dirs[0] is None:
        from coulisses import plugins as cplugins

        dirs = [str(HOST_TRANSLATIONS)]
        for info in cplugins.discover().values():
            root = info.root
            if root is not None and (root / "translations").is_dir():
                dirs.append(str(root / "translations"))
        _installed_dirs[0] = tuple(dirs)
    return _installed_dirs[0]


def translation_dirs() -> tuple[str, ...]:
    """The folders whose catalogues are merged: the running app's (host and enabled plugins),
    else every installed plugin's."""
    try:
        from flask import current_app, has_app_context

        if has_app_context():
            configured = current_app.config.get("BABEL_TRANSLATION_DIRECTORIES")
            if configured:
                return tuple(configured.split(";"))
    except ImportError:  # pragma: no cover
        pass
    return installed_translation_dirs()


def translations(locale: str | None = None, dirs: Iterable[str] | None = None):
    """The merged catalogues of ``dirs`` (default: ``translation_dirs()``) for ``locale``."""
    lang = normalize_language(locale) or current_locale()
    key = (lang, tuple(dirs) if dirs is not None else translation_dirs())
    found = _cache.get(key)
    if found is None:
        with _cache_lock:
            found = _cache.get(key)
            if found is None:
                found = NullTranslations()
                for folder in key[1]:
                    loaded = Translations.load(folder, [lang], domain="messages")
                    if isinstance(loaded, Translations):
                        found = loaded if isinstance(found, NullTranslations) and not isinstance(found, Translations) \
                            else found.merge(loaded)
                _cache[key] = found
    return found


def _interpolate(text: str, variables: Mapping[str, Any]) -> str:
    return text % variables if variables else text


def gettext(message: str, **variables: Any) -> str:
    """``message`` in the current language, with ``%(name)s`` placeholders filled."""
    return _interpolate(translations().ugettext(message), variables)


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    return _interpolate(translations().ungettext(singular, plural, num), variables)


def pgettext(context: str, message: str, **variables: Any) -> str:
    """For a source string that means two things (give the context: ``pgettext("ticket", "Type")``)."""
    return _interpolate(translations().upgettext(context, message), variables)


class LazyString(LazyProxy):
    """A message translated each time it is shown; escaped when a template shows it."""

    def __html__(self):
        from markupsafe import escape

        return escape(str(self))


def lazy_gettext(message: str, **variables: Any) -> LazyString:
    """Translated when it is shown (module-level constants, form labels, menu names)."""
    return LazyString(gettext, message, enable_cache=False, **variables)


def lazy_pgettext(context: str, message: str, **variables: Any) -> LazyString:
    return LazyString(pgettext, context, message, enable_cache=False, **variables)


_ = gettext
_l = lazy_gettext
_n = ngettext
_p = pgettext


def message_id(value: Any) -> str:
    """The French source of a lazy string (for codes and comparisons), or ``str(value)``."""
    if isinstance(value, LazyProxy):
        args = getattr(value, "_args", ())
        return args[-1] if args else str(value)
    return str(value)


# --------------------------------------------------------------------------- time zone & formats


def deployment_timezone() -> ZoneInfo:
    """The deployment's time zone (``COULISSES_TIMEZONE``, Europe/Paris by default)."""
    from coulisses.config import current_config

    return ZoneInfo(current_config().get("TIMEZONE") or "Europe/Paris")


def local_time(value: datetime) -> datetime:
    """An aware datetime (a naive one is taken as UTC) in the deployment's time zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(deployment_timezone())


def currency() -> str:
    """The deployment's one currency (``COULISSES_CURRENCY``, EUR by default)."""
    from coulisses import db as cdb

    return cdb.CURRENCY


def babel_locale(locale: str | None = None) -> Locale:
    return Locale.parse(normalize_language(locale) or current_locale())


def format_money(amount: Decimal | int | str | None, currency_code: str | None = None,
                 locale: str | None = None) -> str:
    """``Decimal("2420")`` → ``"2 420,00 €"`` (fr), ``"€2,420.00"`` (en), ``"2420,00 €"`` (es)."""
    if amount is None or amount == "":
        return ""
    if isinstance(amount, float):
        raise TypeError("money is never a float")
    return babel_numbers.format_currency(Decimal(amount), currency_code or currency(), locale=babel_locale(locale))


def format_number(value: Decimal | int | None, locale: str | None = None, decimals: int | None = None) -> str:
    """``1234.5`` → ``"1 234,5"`` (fr) / ``"1,234.5"`` (en)."""
    if value is None or value == "":
        return ""
    if isinstance(value, float):
        value = Decimal(str(value))
    if decimals is not None:
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        return babel_numbers.format_decimal(value, format=pattern, locale=babel_locale(locale))
    return babel_numbers.format_decimal(value, locale=babel_locale(locale))


def format_percent(value: Decimal | int | None, locale: str | None = None, decimals: int = 0) -> str:
    """``Decimal("0.875")`` → ``"88 %"`` (fr) / ``"88%"`` (en)."""
    if value is None or value == "":
        return ""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "") + " %"
    lang = normalize_language(locale) or current_locale()
    if lang == "en":
        pattern = pattern.replace(" %", "%")
    return babel_numbers.format_percent(Decimal(value), format=pattern, locale=babel_locale(lang))


def _as_local(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return local_time(value)


def date_pattern(locale: str | None = None) -> str:
    return DATE_PATTERNS[normalize_language(locale) or current_locale()]


def date_picker_format(locale: str | None = None) -> str:
    """The date pattern in the date picker's (moment.js) notation: ``DD.MM.YYYY`` (fr)."""
    return date_pattern(locale).replace("dd", "DD").replace("yyyy", "YYYY")


def date_placeholder(locale: str | None = None) -> str:
    """What a date field shows while empty, in the language's letters: ``jj.mm.aaaa`` (fr)."""
    lang = normalize_language(locale) or current_locale()
    letters = {"fr": ("jj", "mm", "aaaa"), "es": ("dd", "mm", "aaaa")}.get(lang, ("dd", "mm", "yyyy"))
    return date_pattern(lang).replace("dd", letters[0]).replace("MM", letters[1]).replace("yyyy", letters[2])


def format_date(value: date | datetime | str | None, locale: str | None = None, *, weekday: bool = False) -> str:
    """A calendar day as the language writes it: ``02.11.2015`` (fr), ``02/11/2015`` (en, es);
    with ``weekday``: ``Lun 02.11.2015``. A datetime is first put in the deployment's time zone."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = local_time(value)
    lang = normalize_language(locale) or current_locale()
    text = babel_dates.format_date(value, DATE_PATTERNS[lang], locale=lang)
    if weekday:
        text = f"{weekday_name(value, lang)} {text}"
    return text


def weekday_name(value: date, locale: str | None = None) -> str:
    """The abbreviated weekday, capitalised and without a dot: ``Lun``, ``Mon``, ``Lun``."""
    lang = normalize_language(locale) or current_locale()
    name = babel_dates.format_date(value, "EEE", locale=lang).rstrip(".")
    return name[:1].upper() + name[1:]


def format_time(value: datetime | time | None, locale: str | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local_time(value)
    return babel_dates.format_time(value, TIME_PATTERN, locale=normalize_language(locale) or current_locale())


def format_datetime(value: datetime | str | None, locale: str | None = None, *, weekday: bool = False,
                    seconds: bool = False) -> str:
    """A moment (stored in UTC) in the deployment's time zone: ``02.11.2015 20:15`` (fr),
    ``02/11/2015 20:15`` (en, es); with ``weekday``: ``Lun 02.11.2015 20:15`` (the seeds' labels)."""
    if value is None or value == "":
        return ""
    local = _as_local(value)
    lang = normalize_language(locale) or current_locale()
    pattern = DATE_PATTERNS[lang] + " " + TIME_PATTERN + (":ss" if seconds else "")
    text = babel_dates.format_datetime(local, pattern, tzinfo=local.tzinfo, locale=lang)
    if weekday:
        text = f"{weekday_name(local.date(), lang)} {text}"
    return text


def parse_date(text: str, locale: str | None = None) -> date:
    """A day typed as the language writes it (``02.11.2015``, ``02/11/2015``) or in ISO form."""
    from datetime import datetime as dt

    raw = (text or "").strip()
    formats = ("%d.%m.%Y", "%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y")
    for fmt in formats:
        try:
            return dt.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise ValueError(gettext("Date attendue sous la forme %(pattern)s", pattern=date_pattern(locale).lower()
                             .replace("dd", "jj" if current_locale() == "fr" else "dd")
                             .replace("yyyy", "aaaa" if current_locale() == "fr" else "yyyy")))


# --------------------------------------------------------------------------- for the browser


def locale_settings(locale: str | None = None) -> dict[str, Any]:
    """What the page's JavaScript needs to format like the server: language, currency, the date
    pattern, the first day of the week, month and day names (the date picker)."""
    lang = normalize_language(locale) or current_locale()
    loc = Locale.parse(lang)
    months = [loc.months["format"]["wide"][i] for i in range(1, 13)]
    days = [loc.days["format"]["abbreviated"][i] for i in (6, 0, 1, 2, 3, 4, 5)]  # Sunday first (JS order)
    return {
        "language": lang,
        "currency": currency(),
        "datePattern": DATE_PATTERNS[lang],
        "firstDay": FIRST_WEEKDAY,
        "months": months,
        "days": [d.rstrip(".") for d in days],
        "decimal": loc.number_symbols["latn"]["decimal"] if "latn" in loc.number_symbols else ",",
    }


def json_script(data: Any, element_id: str):
    """A ``<script type="application/json">`` block: data for the page's JavaScript (allowed by the
    content security policy: it is data, not code; ``<``, ``>`` and ``&`` are escaped)."""
    from markupsafe import Markup, escape

    payload = json.dumps(data, ensure_ascii=False, default=str)
    payload = payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(f'<script type="application/json" id="{escape(element_id)}">{payload}</script>')


def js_messages(messages: Mapping[str, Any], element_id: str = "coulisses-i18n"):
    """The translated strings a page's JavaScript shows, by key: ``Coulisses.t("close")`` reads them."""
    return json_script({k: str(v) for k, v in messages.items()}, element_id)

"""Extract, update, compile and check the message catalogues of the host and of each plugin.

Used by ``coulisses i18n update|check`` and by the tests (``coulisses.testing.assert_translated``).
Each package keeps ``translations/<lang>/LC_MESSAGES/messages.po`` (and the compiled ``.mo``) for
every language but French, the source language (see ``coulisses.i18n``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

from coulisses.i18n import DEFAULT_LANGUAGE, LANGUAGES

TARGET_LANGUAGES = tuple(lang for lang in LANGUAGES if lang != DEFAULT_LANGUAGE)
KEYWORDS = {
    "_": None, "gettext": None, "_l": None, "lazy_gettext": None,
    "_n": (1, 2), "ngettext": (1, 2),
    "_p": ((1, "c"), 2), "pgettext": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2),
}
METHOD_MAP = [("**/migrations/**", "ignore"), ("**/tests/**", "ignore"), ("**.py", "python"),
              ("**/templates/**.html", "jinja2"), ("**/templates/**.txt", "jinja2")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"},
           "**/templates/**.txt": {"extensions": "jinja2.ext.i18n"}}


@dataclass
class Report:
    package: Path
    messages: int = 0
    missing: dict[str, list[str]] = field(default_factory=dict)  # lang → untranslated msgids
    stale_mo: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(self.missing.values()) and not self.stale_mo


def extract(package: Path) -> Catalog:
    """Every message of a package (its Python modules and templates), French source strings."""
    template = Catalog(project=package.name, locale=DEFAULT_LANGUAGE)
    for filename, lineno, message, comments, context in extract_from_dir(
            str(package), method_map=METHOD_MAP, options_map=OPTIONS, keywords=KEYWORDS,
            comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def _po_path(package: Path, lang: str) -> Path:
    return package / "translations" / lang / "LC_MESSAGES" / "messages.po"


def read_catalogue(package: Path, lang: str) -> Catalog | None:
    path = _po_path(package, lang)
    if not path.exists():
        return None
    with open(path, "rb") as f:
        return read_po(f, locale=lang)


def update(package: Path, languages=TARGET_LANGUAGES) -> Report:
    """Bring the package's catalogues in step with its sources (new messages added untranslated,
    obsolete ones dropped) and compile them. Returns what is still untranslated."""
    template = extract(package)
    report = Report(package, messages=len([m for m in template if m.id]))
    for lang in languages:
        catalogue = read_catalogue(package, lang) or Catalog(locale=lang, project=package.name)
        catalogue.update(template, no_fuzzy_matching=True)
        catalogue.obsolete.clear()
        path = _po_path(package, lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            write_po(f, catalogue, width=110, sort_output=False, include_previous=False)
        with open(path.with_suffix(".mo"), "wb") as f:
            write_mo(f, catalogue)
        report.missing[lang] = _untranslated(template, catalogue)
    return report


def _untranslated(template: Catalog, catalogue: Catalog | None) -> list[str]:
    missing = []
    for message in template:
        if not message.id:
            continue
        found = catalogue.get(message.id, message.context) if catalogue is not None else None
        strings = found.string if found is not None else None
        if isinstance(strings, (tuple, list)):
            translated = all(strings)
        else:
            translated = bool(strings)
        if not translated or (found is not None and found.fuzzy):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def check(package: Path, languages=TARGET_LANGUAGES) -> Report:
    """What is untranslated, and whether each shipped ``.mo`` is the compiled ``.po`` (no writing)."""
    template = extract(package)
    report = Report(package, messages=len([m for m in template if m.id]))
    for lang in languages:
        catalogue = read_catalogue(package, lang)
        report.missing[lang] = _untranslated(template, catalogue)
        if catalogue is not None and not _mo_matches(package, lang, catalogue):
            report.stale_mo.append(lang)
    return report


def _key(value):
    """A message id or string; plural ones are lists (not hashable)."""
    return tuple(value) if isinstance(value, list) else value


def _mo_matches(package: Path, lang: str, catalogue: Catalog) -> bool:
    buf = BytesIO()
    write_mo(buf, catalogue)
    buf.seek(0)
    expected = {_key(m.id): _key(m.string) for m in read_mo(buf) if m.id}
    mo = _po_path(package, lang).with_suffix(".mo")
    if not mo.exists():
        return False
    with open(mo, "rb") as f:
        shipped = {_key(m.id): _key(m.string) for m in read_mo(f) if m.id}
    return shipped == expected


def packages(infos: dict | None = None) -> dict[str, Path]:
    """``name → package folder`` for the host (``core``) and every installed plugin."""
    import coulisses
    from coulisses import plugins as cplugins

    found = {"core": Path(coulisses.__file__).resolve().parent}
    for name, info in (infos if infos is not None else cplugins.discover()).items():
        if info.root is not None:
            found[name] = info.root
    return found


def conflicts(folders) -> list[str]:
    """Messages translated differently by two packages: the merged catalogue would keep only one.

    Give such a message a context (``_p("ticket", "Type")``) in one of them."""
    seen: dict[tuple[str, str, str | None], tuple[str, str]] = {}
    clashes = []
    for folder in folders:
        for lang in TARGET_LANGUAGES:
            catalogue = read_catalogue(Path(folder), lang)
            if catalogue is None:
                continue
            for message in catalogue:
                if not message.id or not message.string:
                    continue
                key = (lang, str(message.id), message.context)
                value = str(message.string)
                if key in seen and seen[key][1] != value:
                    clashes.append(f"{lang}: {message.id!r} is {seen[key][1]!r} in {seen[key][0]} but {value!r} "
                                   f"in {folder}")
                seen.setdefault(key, (str(folder), value))
    return clashes

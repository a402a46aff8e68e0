"""For the tests that render a package's screens in English and Spanish: which of the package's French
source strings (msgids) still show on a page.

``french_leftovers(html, package_dir, "en")`` lists them. A msgid counts when its translation differs
from the French (``Marketing``, ``Total``, ``IBAN`` are the same words) and is long enough to be
told apart from the data on the page; a msgid with placeholders is looked for by its longest literal
part. Words are matched whole (``Contact`` is not found in ``Contacto``). The catalogue is extracted
from the package's code each time, so a string added later is checked too.
"""
from __future__ import annotations

import html as html_lib
import re
from functools import lru_cache
from pathlib import Path

from coulisses import i18n_tools

MIN_LENGTH = 6
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")


@lru_cache(maxsize=16)
def french_strings(package_dir: str, lang: str) -> tuple[str, ...]:
    """The French fragments of the package's messages whose ``lang`` translation is different."""
    package = Path(package_dir)
    template = i18n_tools.extract(package)
    catalogue = i18n_tools.read_catalogue(package, lang)
    found = set()
    for message in template:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, (list, tuple)) else (message.id,)
        translated = catalogue.get(message.id, context=message.context) if catalogue is not None else None
        strings = translated.string if translated is not None else None
        strings = strings if isinstance(strings, (list, tuple)) else (strings,)
        for i, french in enumerate(ids):
            target = strings[min(i, len(strings) - 1)] if strings else None
            if target and target == french:
                continue  # the same word in both languages
            fragment = max(PLACEHOLDER.split(french), key=lambda part: len(part.strip())).strip(" :,.;—-")
            if len(fragment) >= MIN_LENGTH and not (target and fragment in target):
                found.add(fragment)
    return tuple(sorted(found))


def page_text(html: str) -> str:
    """What a person reads or hears: the text and the attributes shown or announced (aria-label,
    placeholder, title, alt, the data-confirm question), scripts' JSON included (translated strings)."""
    attributes = " ".join(m.group(2) for m in re.finditer(
        r'\b(aria-label|placeholder|title|alt|data-confirm)="([^"]*)"', html))
    # identifiers are not prose: a <code> element (a type's code, shown as such to integrators) and the
    # value half of a ["value", "label"] choice in a script's data (only the label is shown)
    html = re.sub(r"<code>[^<]*</code>", " ", html)
    html = re.sub(r'\[\s*"[\w-]*"\s*,\s*"', '["", "', html)
    text = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", html_lib.unescape(text + " " + attributes))


def french_leftovers(html: str, package_dir: str | Path, lang: str) -> list[str]:
    text = page_text(html)
    return [s for s in french_strings(str(package_dir), lang)
            if re.search(r"(?<!\w)" + re.escape(s) + r"(?!\w)", text)]

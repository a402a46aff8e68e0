"""Normalisation for search and duplicate detection: accents, case, punctuation, phonetics."""
from __future__ import annotations

import re

from unidecode import unidecode

_NON_ALNUM = re.compile(r"[^a-z0-9@._+]+")
_NAME_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalize(value: str | None) -> str:
    """``"Dupont-Rougier"`` → ``"dupont rougier"``; ``"Céline"`` → ``"celine"``; ``"O'Neil"`` → ``"o neil"``.

    Accents removed (unidecode), lower case, every run of other characters than letters and digits
    replaced by one space, stripped.
    """
    if not value:
        return ""
    return _NAME_NON_ALNUM.sub(" ", unidecode(value).lower()).strip()


def sort_key(value: str | None) -> str:
    """The display order of a name, stored in ``Contact.sort_last`` / ``sort_first``.

    ``normalize`` with one difference: a run of separators that contains a hyphen becomes ``"-"``
    (0x2d), any other run a space (0x20). Compared byte by byte (the "C" collation on PostgreSQL,
    SQLite's default), a space sorts before a hyphen, which sorts before digits and letters, so
    ``"DUPONT"`` < ``"DUPONT SADIER"`` < ``"DUPONT-ROUGIER"`` < ``"DUPONTEL"``, as the seeds list them.
    Accents and case are ignored ("Émile" = "emile"). Computed in Python, so the order is the same
    on SQLite and PostgreSQL whatever the database's locale.

    It differs from ``normalize`` only where ``normalize`` has a space: a prefix without a separator
    matches the same rows on both columns.
    """
    if not value:
        return ""
    text = unidecode(value).lower()
    return _NAME_NON_ALNUM.sub(lambda m: "-" if "-" in m.group(0) else " ", text).strip(" -")


def normalize_email(value: str | None) -> str | None:
    if not value:
        return None
    return unidecode(value).strip().lower() or None


def next_prefix(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix`` (for range queries).

    Normalised strings are ASCII; the last character is bumped (``"dup"`` → ``"duq"``).
    """
    if not prefix:
        return "\U0010ffff"
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


# --------------------------------------------------------------------------- phonetics


_PHONETIC_STEPS: list[tuple[re.Pattern, str]] = [(re.compile(p), r) for p, r in [
    # consonant spellings
    (r"^mac", "mc"),
    (r"ph", "f"),
    (r"th", "t"),
    (r"rh", "r"),
    (r"gh", "g"),
    (r"sch|sh", "ch"),
    (r"ge(?=[aou])", "j"),  # Georges, Geoffroy
    (r"g(?=[eiy])", "j"),  # Gérard = Jérard
    (r"gu(?=[eiy])", "g"),  # Guerin = Gerin
    (r"ch", "5"),
    (r"ck|cq|qu|q", "k"),
    (r"c(?=[eiy])", "s"),  # Céline = Seline
    (r"c", "k"),  # Caron = Karon
    (r"x", "ks"),
    (r"w", "v"),
    (r"z", "s"),
    (r"y", "i"),
    (r"bv", "v"),  # Lefebvre = Lefèvre
    (r"(?<=[aeiou])s(?=[aeiou])", "z"),  # Rosier (z) is not Rossier (s)
    (r"([a-z])\1+", r"\1"),  # double letters: Matthieu = Mathieu, Chevallier = Chevalier
    # vowels
    (r"eau|au", "o"),
    (r"ou", "u"),
    (r"oi", "oa"),
    # nasal vowels, only when the n/m is not followed by a vowel (Fontaine is not nasal)
    (r"(?:ain|ein|aim|eim|in|im|un|um)(?![aeioun])", "1"),  # Robin = Robain
    (r"(?:an|am|en|em)(?![aeioun])", "2"),  # Laurent = Lorant
    (r"(?:on|om)(?![aeioun])", "3"),  # Dupont
    (r"ai|ei", "e"),  # Lemaire = Lemerre
    (r"h", ""),
    (r"(?<=..)e$", ""),  # silent final e
    (r"([a-z0-9])\1+", r"\1"),
]]
_SILENT_ENDINGS: list[tuple[re.Pattern, str]] = [(re.compile(p), r) for p, r in [
    (r"([a-rt-z])\1+", r"\1"),  # Schmitt = Schmit (ss kept: Rossier is not Rosier)
    (r"ault$|aud$|aut$|aux$|eaux$", "o"),  # Renault = Renaud = Reno
    (r"(?<=..)(?:er|ez|et)$", "e"),  # Garnier = Garnié, Martinet = Martiné
    (r"(?<=..)[sxz]$", ""),  # Dubois = Duboi, Roux = Rou
    (r"(?<=..)[tdp]$", ""),  # Dupont = Dupond, Bernard = Bernar
]]


def phonetic_fr(value: str | None) -> str:
    """A French-aware phonetic key of a name: what sounds alike gets the same key.

    ``Dupont`` = ``Dupond`` (silent final consonants); ``Philippe`` = ``Filipe``; ``Gauthier`` =
    ``Gautier`` = ``Gotié``; ``Céline`` = ``Seline``; ``Schmitt`` = ``Chmit``; ``Renault`` =
    ``Renaud``; ``Lefebvre`` = ``Lefèvre``; ``Robin`` = ``Robain``; ``Lemaire`` = ``Lemerre``; but
    ``Fontaine`` (the n is heard) is not nasal. Accents, case, hyphens and apostrophes are ignored
    (``Dupont-Rougier`` = ``DUPONT ROUGIER``). Each word is keyed separately; words are joined by a
    space. A simplified French phonetic in the spirit of Soundex-FR and Phonex: endings first (silent
    final consonants), then consonant spellings, then vowel groups and nasals. Deterministic and cheap
    enough for a million rows.
    """
    words = normalize(value).split()
    return " ".join(filter(None, (_phonetic_word(w) for w in words)))


def _phonetic_word(word: str) -> str:
    w = "".join(ch for ch in word if "a" <= ch <= "z")
    if not w:
        return word  # digits only: keep them
    for pattern, repl in _SILENT_ENDINGS:
        w = pattern.sub(repl, w)
    for pattern, repl in _PHONETIC_STEPS:
        w = pattern.sub(repl, w)
    return w[:20]


def search_columns(kind: str | None, last_name: str | None, first_name: str | None,
                   structure_name: str | None, email: str | None) -> dict[str, str | None]:
    """The normalised search columns of a contact (for Core inserts; the ORM fills them itself)."""
    name = structure_name if kind == "structure" else last_name
    return {
        "search_last": normalize(name),
        "search_first": normalize(first_name) if kind != "structure" else "",
        "search_email": normalize_email(email),
        "phonetic_name": phonetic_fr(name)[:60],
        "sort_last": sort_key(name),
        "sort_first": sort_key(first_name) if kind != "structure" else "",
    }

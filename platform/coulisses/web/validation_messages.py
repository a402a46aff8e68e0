"""Marshmallow's own messages in the reader's language.

Marshmallow writes its field and validator errors in English ("Missing data for required field.",
"Must be greater than or equal to 1."). The REST base passes every error message of a refused request
through :func:`translate` before answering, so that an API client that sends ``Accept-Language: es``
reads Spanish, whichever schema (the host's, a plugin's, an integrator's) refused the value. Messages a
plugin wrote itself with ``_()`` are already translated and pass through unchanged.

Each English template below is matched as a whole; its ``{placeholders}`` are captured and put into the
French source message (``%(name)s``), which the catalogues translate.
"""
from __future__ import annotations

import re
from typing import Any

from coulisses.i18n import LazyString, _, _l, message_id

#: marshmallow's English template → the French source message (with the same placeholders).
TEMPLATES: dict[str, LazyString] = {
    # fields
    "Missing data for required field.": _l("Champ obligatoire."),
    "Field may not be null.": _l("Ce champ ne peut pas être vide (null)."),
    "Invalid value.": _l("Valeur invalide."),
    "Unknown field.": _l("Champ inconnu."),
    "Invalid input type.": _l("Type de donnée invalide."),
    "Not a valid string.": _l("Ce n'est pas un texte."),
    "Not a valid utf-8 string.": _l("Ce n'est pas un texte UTF-8 valide."),
    "Not a valid number.": _l("Ce n'est pas un nombre."),
    "Number too large.": _l("Nombre trop grand."),
    "Not a valid integer.": _l("Ce n'est pas un nombre entier."),
    "Not a whole number.": _l("Ce n'est pas un nombre entier."),
    "Number out of range": _l("Nombre hors limites."),
    "Special numeric values (nan or infinity) are not permitted.":
        _l("Les valeurs numériques spéciales (nan, infini) ne sont pas acceptées."),
    "Not a valid boolean.": _l("Ce n'est pas un booléen (true ou false)."),
    "Not a valid datetime.": _l("Ce n'est pas une date et heure valide."),
    "Not a valid date.": _l("Ce n'est pas une date valide."),
    "Not a valid time.": _l("Ce n'est pas une heure valide."),
    "Not a valid email address.": _l("Ce n'est pas une adresse électronique valide."),
    "Not a valid URL.": _l("Ce n'est pas une adresse web valide."),
    "Not a valid UUID.": _l("Ce n'est pas un UUID valide."),
    "Not a valid list.": _l("Ce n'est pas une liste."),
    "Not a valid tuple.": _l("Ce n'est pas un n-uplet."),
    "Not a valid mapping type.": _l("Ce n'est pas un objet."),
    "String does not match expected pattern.": _l("Le texte n'a pas la forme attendue."),
    # validators (with their placeholders)
    "Must be greater than or equal to {min}.": _l("Doit être supérieur ou égal à %(min)s."),
    "Must be greater than {min}.": _l("Doit être supérieur à %(min)s."),
    "Must be less than or equal to {max}.": _l("Doit être inférieur ou égal à %(max)s."),
    "Must be less than {max}.": _l("Doit être inférieur à %(max)s."),
    "Must be greater than or equal to {min} and less than or equal to {max}.":
        _l("Doit être compris entre %(min)s et %(max)s."),
    "Must be between {min} and {max}.": _l("Doit être compris entre %(min)s et %(max)s."),
    "Shorter than minimum length {min}.": _l("Trop court : au moins %(min)s caractères."),
    "Longer than maximum length {max}.": _l("Trop long : au plus %(max)s caractères."),
    "Length must be between {min} and {max}.": _l("La longueur doit être comprise entre %(min)s et %(max)s."),
    "Length must be {equal}.": _l("La longueur doit être %(equal)s."),
    "Must be one of: {choices}.": _l("Doit être l'une des valeurs : %(choices)s."),
    "Must be equal to {other}.": _l("Doit être égal à %(other)s."),
    "At most {max} characters.": _l("Au plus %(max)s caractères."),
}


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
    return re.compile(regex + r"\Z", re.S)


# The longest template first: "Must be greater than or equal to {min}." would otherwise take
# "0 and less than or equal to 9" for its {min} and leave the rest of the message in English.
_COMPILED = [(_pattern(english), french)
             for english, french in sorted(TEMPLATES.items(), key=lambda item: -len(item[0]))]


def translate_one(message: Any) -> Any:
    """``message`` in the current language when it is one of marshmallow's, else unchanged."""
    if not isinstance(message, str):
        return message
    for pattern, french in _COMPILED:
        match = pattern.match(message)
        if match:
            return _(message_id(french), **match.groupdict())
    return message


def translate(messages: Any) -> Any:
    """Every message of a marshmallow ``ValidationError.messages`` structure, translated."""
    if isinstance(messages, dict):
        return {key: translate(value) for key, value in messages.items()}
    if isinstance(messages, list):
        return [translate(value) for value in messages]
    return translate_one(messages)

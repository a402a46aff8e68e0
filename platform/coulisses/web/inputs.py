"""What every input must be before a view or a service sees it, for the REST API and the screens alike.

One place for the rules that no field of any plugin should have to repeat:

- text holds no control character (tab, line feed and carriage return excepted where a text may span
  lines), no NUL, no lone surrogate (``"\\ud800"`` in JSON): nothing a database, a printer or a CSV
  file chokes on;
- a JSON document is nested at most ``MAX_JSON_DEPTH`` levels deep (checked on the raw bytes, before
  parsing: a deeply nested array otherwise exhausts the parser's recursion);
- JSON numbers are finite and integers fit in 64 bits (the widest database integer);
- request bodies are at most ``MAX_BODY_BYTES`` (``MAX_UPLOAD_BYTES`` for file uploads): 413 beyond.
"""
from __future__ import annotations

import math
import re
from typing import Any, Iterator

from coulisses.i18n import _

MAX_JSON_DEPTH = 32
MAX_BODY_BYTES = 1024 * 1024  # COULISSES_MAX_BODY_BYTES
MAX_UPLOAD_BYTES = 32 * 1024 * 1024  # COULISSES_MAX_UPLOAD_BYTES (multipart/form-data: file imports)
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_PROBLEMS = 20  # at most this many fields named in one answer

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile("[\t\n\r]")
#: A JSON Schema pattern for the same rule (ECMA regex), for the OpenAPI document.
SINGLE_LINE_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]*$"
MULTILINE_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"


def text_problem(value: str, *, multiline: bool = True) -> str | None:
    """Why ``value`` cannot be stored as text, or None when it can."""
    match = _SURROGATE.search(value)
    if match:
        return _("Contient un caractère invalide (demi-codet isolé U+%(code)s) en position %(position)s",
                 code="%04X" % ord(match.group()), position=match.start() + 1)
    match = _CONTROL.search(value)
    if match:
        return _("Contient un caractère de contrôle invisible (U+%(code)s) en position %(position)s",
                 code="%04X" % ord(match.group()), position=match.start() + 1)
    if not multiline:
        match = _LINE_BREAK.search(value)
        if match:
            return _("Doit tenir sur une ligne (tabulation ou saut de ligne en position %(position)s)",
                     position=match.start() + 1)
    return None


def visible(value: str) -> str:
    """``value`` with the characters ``text_problem`` refuses shown as U+FFFD, to show back what was typed."""
    return _CONTROL.sub("\ufffd", _SURROGATE.sub("\ufffd", value))


# --------------------------------------------------------------------------- JSON

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def json_too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when the JSON text ``raw`` opens more than ``limit`` arrays or objects inside each other."""
    depth = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub(b'""', raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def parse_json(raw: bytes) -> Any:
    """The JSON document ``raw`` (UTF-8), refusing NaN and Infinity; ValueError when it is not one."""
    import json

    text = raw.decode("utf-8")  # UnicodeDecodeError is a ValueError
    return json.loads(text, parse_constant=_refuse_constant)


def data_problems(data: Any, path: str = "") -> dict[str, str]:
    """The values of a parsed JSON document that no field may accept, by dotted path (``lines.0.note``).

    Checks every string (keys included: ``text_problem``, multiline allowed — single-line fields refuse
    line breaks themselves), every integer (64 bits) and every float (finite).
    """
    problems: dict[str, str] = {}
    for where, value in _walk(data, path):
        if len(problems) >= MAX_PROBLEMS:
            break
        if isinstance(value, str):
            problem = text_problem(value)
        elif isinstance(value, bool):
            problem = None
        elif isinstance(value, int):
            problem = None if INT64_MIN <= value <= INT64_MAX else "Number out of range"
        elif isinstance(value, float):
            problem = None if math.isfinite(value) else "Number out of range"
        else:
            problem = None
        if problem:
            problems[visible(where) or "_body"] = problem
    return problems


def _walk(data: Any, path: str) -> Iterator[tuple[str, Any]]:
    stack = [(path, data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                child = f"{where}.{key}" if where else str(key)
                yield child, key
                stack.append((child, item))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                stack.append((f"{where}.{i}" if where else str(i), item))
        else:
            yield where, value


def form_problems(form, files=None) -> dict[str, str]:
    """The values of a submitted form (a werkzeug ``MultiDict``) that cannot be stored, by field name."""
    problems: dict[str, str] = {}
    for name, values in form.lists():
        for value in [name, *values]:
            problem = text_problem(value)
            if problem:
                problems[visible(name)] = problem
                break
    for name, upload in (files.items(multi=True) if files is not None else ()):
        problem = text_problem(upload.filename or "", multiline=False)
        if problem:
            problems[visible(name)] = _("Nom du fichier : %(problem)s", problem=problem)
    return dict(list(problems.items())[:MAX_PROBLEMS])

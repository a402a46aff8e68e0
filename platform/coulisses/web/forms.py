"""The screens' side of ``coulisses.web.inputs``: every form post is checked before a view stores it.

- WTForms forms (every Flask-Admin CRUD form through ``ModelView.form_base_class``, and FlaskForms
  derived from ``CoulissesForm``) refuse a field holding a control character or a lone surrogate with
  a field error: the form is shown again with what was typed.
- Any other form post (a work screen reading ``request.form``) is refused before its view runs, with
  a 422 page that names each field, says what is wrong and shows back what was typed, so that
  nothing is lost.
- Bodies: ``MAX_BODY_BYTES`` for forms and JSON, ``MAX_UPLOAD_BYTES`` for ``multipart/form-data``
  (file imports); 413 beyond.
- ``coulisses.BusyError`` (a lock not obtained in time): on a screen, the message as a flash and
  the previous page again; under ``/api``, a JSON 503 with ``Retry-After``.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request
from flask_admin.form import BaseForm
from flask_wtf import FlaskForm

from coulisses import BusyError
from coulisses.i18n import _
from coulisses.web.inputs import form_problems, text_problem, visible

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
CHECKED_BY_FORM = "coulisses_form_checked_endpoints"


def _leaves(fields):
    for field in fields:
        entries = getattr(field, "entries", None)
        subform = getattr(field, "form", None)
        if entries is not None:
            yield from _leaves(entries)
        elif subform is not None and hasattr(subform, "_fields"):
            yield from _leaves(subform)
        else:
            yield field


class SafeFormMixin:
    """``validate()`` also refuses text that cannot be stored (``coulisses.web.inputs.text_problem``)."""

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        for field in _leaves(self):
            for raw in getattr(field, "raw_data", None) or ():
                problem = text_problem(raw) if isinstance(raw, str) else None
                if problem:
                    field.errors = [*field.errors, problem]
                    valid = False
                    break
        return valid


class SafeBaseForm(SafeFormMixin, BaseForm):
    """Flask-Admin's base form with the host's text check (``ModelView.form_base_class``)."""


class CoulissesForm(SafeFormMixin, FlaskForm):
    """A FlaskForm with the host's text check: derive a screen's forms from it."""


def busy_message(exc: BusyError) -> str:
    """``exc``'s message in the request's language."""
    if str(exc) == BusyError.DEFAULT_MESSAGE:
        return _("Une autre opération modifie les mêmes données : réessayez dans un instant.")
    return str(exc)


def checked_by_form(app, endpoint: str) -> None:
    """Declare that ``endpoint`` validates its posts with a ``SafeFormMixin`` form (field errors)
    rather than being refused by the host before it runs."""
    app.extensions.setdefault(CHECKED_BY_FORM, set()).add(endpoint)


def init_input_guards(app) -> None:
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_BODY_BYTES"]

    @app.before_request
    def _upload_limit():
        if request.mimetype == "multipart/form-data":
            request.max_content_length = app.config["MAX_UPLOAD_BYTES"]

    @app.errorhandler(BusyError)
    def _busy(exc: BusyError):
        from coulisses.web.extensions import db
        from coulisses.web.rest import API_PREFIX, error_response

        db.session.rollback()
        message = busy_message(exc)
        if request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/"):
            response = error_response(503, "busy", message)
        else:
            back = request.referrer
            if back and back != request.url:
                flash(message, "error")
                response = redirect(back)
            else:
                response = app.make_response((render_template(
                    "coulisses/error.html", code=503, title=_("Occupé, réessayez"), message=message, back=None), 503))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response


def init_form_guard(app) -> None:
    """Refuse a form post holding text that cannot be stored, unless its endpoint checks it itself.

    Registered after the login and CSRF checks: an anonymous post is sent to the login page first.
    """
    from flask_login import current_user

    from coulisses.web.rest import API_PREFIX

    @app.before_request
    def _refuse_unstorable_form_input():
        if request.method in SAFE_METHODS or request.mimetype not in FORM_TYPES:
            return None
        if request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/"):
            return None  # the REST base answers 422 itself
        if request.endpoint in app.extensions.get(CHECKED_BY_FORM, ()) or not current_user.is_authenticated:
            return None
        problems = form_problems(request.form, request.files)
        if not problems:
            return None
        typed = [(visible(name), [visible(v) for v in values]) for name, values in request.form.lists()
                 if name != "csrf_token"]
        return render_template("coulisses/input_error.html", problems=problems, typed=typed,
                               back=request.referrer), 422

"""The hooks the reports plugin offers to other plugins (all named ``reports_*``).

``reports_definitions`` and ``reports_documents`` return lists, merged by ``coulisses.registry.collect``
into the reports registry (``plugins.reports.registry``): two different definitions under one code
refuse the start, naming both plugins. Implement them with ``@hookimpl(optionalhook=True)`` in a plugin
that lists ``reports`` in its ``optional_depends``.
"""
from __future__ import annotations

from coulisses import hookspec


@hookspec
def reports_definitions():
    """Called when the reports registry is built (at startup, and for the CLI, the tasks and the worker).

    Return a list of ``plugins.reports.registry.ReportDefinition``: code (``"<plugin>.<name>"``), title,
    permission, a marshmallow schema of the parameters (it gives the form and the API), a row source
    (``rows(session, params)``: a generator streaming from a server-side cursor), typed columns,
    totals, group and charts.
    """


@hookspec
def reports_documents():
    """Called when the reports registry is built.

    Return a list of ``plugins.reports.registry.DocumentType``: code, title, how to find the object
    (``load(session, ref)``), how to draw it (``build(ctx, obj)`` returning reportlab flowables), the
    numbering sequence when the document is numbered, and who receives it by e-mail.
    """


@hookspec
def reports_document_sent(session, document, recipient, contact_id):
    """Called inside the transaction of the outbox job that has just handed a document's e-mail to the
    SMTP server. ``document`` is the ``plugins.reports.models.Document``, ``recipient`` the address it
    went to, ``contact_id`` the contact the document type names as its recipient (or None).

    The contacts plugin records the send in the contact's "Envois" history. Return nothing; raising
    makes the job fail and retry (the mail may then be sent twice: keep it to bookkeeping).
    """

"""Fixtures of the reports plugin's tests: a throwaway plugin ``tp_rep`` contributing a report over
generated rows (``tp_rep.numbers``: n rows, a group, money, days, a chart) and a document type; a
service session on a schema with the host's and reports' tables, with that plugin's registry; a local
SMTP server (aiosmtpd) whose received mails the tests read back."""
from __future__ import annotations

import email
import email.policy
import socket
from datetime import date, timedelta
from decimal import Decimal

import pytest
from marshmallow import Schema, fields

import coulisses
from coulisses import NotFoundError
from tests.conftest import create_schema

ROWS_SEEN: list[int] = []


def _numbers_params():
    from plugins.reports.params import Choice, LocalDate

    class Params(Schema):
        n = fields.Integer(required=True, metadata={"label": "Nombre de lignes"})
        start = LocalDate(load_default=date(2015, 11, 2), metadata={"label": "Premier jour"})
        fail_at = fields.Integer(load_default=None, metadata={"label": "Échouer à la ligne"})
        kind = Choice(load_default=None, metadata={"label": "Genre", "choices": [("a", "Groupe A"), ("b", "Groupe B")]})

    return Params


def numbers_rows(session, params):
    for i in range(params["n"]):
        if params.get("fail_at") is not None and i == params["fail_at"]:
            raise RuntimeError("la source a cassé")
        group = "A" if i < (params["n"] + 1) // 2 else "B"
        if params.get("kind") and params["kind"].upper() != group:
            continue
        ROWS_SEEN.append(i)
        yield {"group": group, "label": f"Ligne {i}", "day": params["start"] + timedelta(days=i % 3),
               "qty": i, "amount": Decimal("1234.50") + i, "who": (7611 + i, f"DUPONT, Chantal {i}")}


def numbers_definition():
    from plugins.reports.registry import Chart, Column, ReportDefinition

    return ReportDefinition(
        code="tp_rep.numbers", title="Nombres", permission="tp_rep.view", params=_numbers_params(),
        rows=numbers_rows, group_by="group",
        columns=(Column("group", "Groupe"), Column("label", "Libellé", width=2), Column("day", "Jour", "date"),
                 Column("qty", "Quantité", "number", total=True), Column("amount", "Montant", "money", total=True),
                 Column("who", "Contact", "contact", width=2)),
        charts=(Chart("bar", "Montant par jour", label="day", value="amount"),
                Chart("pie", "Montant par groupe", label="group", value="amount")))


class Thing:
    def __init__(self, ref):
        self.ref = ref


def thing_document():
    from plugins.reports.registry import DocumentType, Recipient

    def load(session, ref):
        if ref == "404":
            raise NotFoundError("pas de chose 404")
        return Thing(ref)

    def build(ctx, obj):
        return [ctx.text(f"Chose numéro {obj.ref}"),
                ctx.table([["Libellé", "Montant"], ["Places", ctx.money(Decimal("2420.00"))]], [0.5, 0.3], numeric=(1,))]

    return DocumentType(code="tp_rep.thing", title="Reçu de chose", permission="tp_rep.view", load=load,
                        object_ref=lambda o: o.ref, object_label=lambda o: f"Chose {o.ref}", build=build,
                        numbering="tp_rep.thing", number_format="R{year}-{number:05d}",
                        recipient=lambda s, o: Recipient(email="chose@example.org", contact_id=None))


def make_tp_rep():
    attrs = {"MANIFEST": coulisses.Manifest(name="tp_rep", version="1.0", label="Essais de rapports",
                                            depends=["reports"])}
    hooks = {"reports_definitions": lambda: [numbers_definition()],
             "reports_documents": lambda: [thing_document()],
             "coulisses_permissions": lambda: [coulisses.Permission("tp_rep.view", "Voir les essais", ("operator",))]}
    for name, func in hooks.items():
        attrs[name] = staticmethod(coulisses.hookimpl(func))
    return type("Plugin_tp_rep", (), attrs)()


@pytest.fixture
def tp_rep(register_plugin):
    return register_plugin(make_tp_rep())


@pytest.fixture
def rdb(database_url, session, tp_rep):
    """A service session on the host's and reports' tables; the registry and the outbox know tp_rep."""
    from coulisses import plugins as cplugins
    from coulisses.config import use_config
    from coulisses.registry import use_manager

    create_schema(database_url, ["reports"])
    infos = cplugins.discover()
    pm = cplugins.build_manager(infos, cplugins.resolve(infos, ["reports", "tp_rep"]))
    with use_manager(pm), use_config(dict(CONFIG)):
        yield session


CONFIG = {"OUTBOX_RUN": "inline", "REPORTS_BACKGROUND_ROWS": 50, "REPORTS_SMTP_HOST": "127.0.0.1",
          "REPORTS_SMTP_PORT": 1, "REPORTS_MAIL_FROM": "billetterie@opera.example"}


def mail_config(smtp_server, **more):
    """The test configuration with the local SMTP server's port."""
    return {**CONFIG, "REPORTS_SMTP_PORT": smtp_server.port, **more}


@pytest.fixture
def smtp_server():
    """A local SMTP server (aiosmtpd) on a free port; ``.messages`` are the parsed mails received."""
    from aiosmtpd.controller import Controller

    class Keep:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
            return "250 OK"

    handler = Keep()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        handler.port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    controller.stop()


def attachments(message) -> list[tuple[str, bytes]]:
    return [(part.get_filename(), part.get_payload(decode=True)) for part in message.iter_attachments()]

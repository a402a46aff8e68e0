"""Webhooks in service-layer tests (a plain session, no app): a plugin manager holding the host's hooks
(the ``core.webhook`` job type) and the plugins under test, a receiver the test starts, and the
outbox run by hand after the commit, as ``coulisses worker`` would."""
from __future__ import annotations

import contextlib
import json

from sqlalchemy import select

from coulisses import outbox, webhooks
from tests.platform.test_webhooks import SECRET, Receiver


@contextlib.contextmanager
def webhooks_for(session, plugins: list[str], codes: list[str]):
    """Within the block, registries come from a manager with the host's hooks and ``plugins``, and a
    receiver is subscribed to ``codes``; yields the receiver."""
    from coulisses import plugins as cplugins
    from coulisses.registry import use_manager
    from coulisses.web.app import CoreHooks

    infos = cplugins.discover()
    pm = cplugins.build_manager(infos, cplugins.resolve(infos, plugins), CoreHooks(), warn=False)
    receiver = Receiver()
    try:
        with use_manager(pm):
            webhooks.subscribe(session, receiver.url, codes, secret=SECRET)
            session.commit()
            yield receiver
    finally:
        receiver.close()


def run_outbox(session) -> int:
    """Run the jobs due (what the worker does after the commit)."""
    return outbox.run_pending(session.get_bind())


def received(receiver) -> list[dict]:
    """The envelopes the receiver got, each checked against its signature."""
    envelopes = []
    for request in receiver.requests:
        assert webhooks.verify_signature(SECRET, request["headers"]["Coulisses-Signature"], request["body"])
        envelope = json.loads(request["body"])
        assert request["headers"]["Coulisses-Event"] == envelope["event"]
        envelopes.append(envelope)
    return envelopes


def changes(session, codes: list[str]) -> list[webhooks.Change]:
    """The committed changes of the feed among ``codes`` (what GET /api/v1/changes lists)."""
    rows, _more = webhooks.changes_after(session, 0, codes, limit=500)
    return rows


def uncommitted_rows(session, codes: list[str]) -> int:
    return len(list(session.scalars(select(webhooks.Change).where(webhooks.Change.event.in_(codes)))))

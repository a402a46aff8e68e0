"""Webhooks and the change feed: what happened in Coulisses, told to the organisation's other systems.

Every plugin declares the events it raises through the ``coulisses_webhook_events`` hook (a
registry, like the job types: ``WebhookEvent(code, label, schema, permission)``, codes starting with
the plugin's name) and raises them inside its business transaction::

    from coulisses import webhooks

    webhooks.emit(session, "contacts.contact.created", contact)   # dumped through the event's schema

``emit`` writes, in the caller's transaction:

- one row of the change feed (``core_change``), read by integrations that poll
  ``GET /api/v1/changes?after=CURSOR``; its cursor (``position``) is given at commit time, under the
  lock of one counter taken last, so that positions follow the order of the commits: a poller that
  read up to position N never finds later a change below N;
- for every active subscription (Administration → Webhooks) that asked for this event, one delivery
  (``core_webhook_delivery``) and one outbox job (``core.webhook``): the job runs after commit, POSTs
  the signed JSON envelope, and is retried with exponential backoff when the receiver fails (30 s,
  1 min, 2 min … up to 2 h between tries, 8 tries), then parked for an administrator.

``emit_many(session, code, [(obj, subject), …])`` raises one event about many objects (an import
of a million contacts): the same changes, inserted in multi-row statements, numbered the same way.

A rolled-back transaction leaves neither a change, nor a delivery, nor a job: nothing is told about
what did not happen.

The envelope and its signature (what a receiver checks)::

    POST <url>
    Content-Type: application/json
    Coulisses-Event: contacts.contact.created
    Coulisses-Delivery: 42                      (the same on every retry of one delivery)
    Coulisses-Signature: t=1764576000,v1=<hex HMAC-SHA256(secret, "1764576000." + body)>

    {"id": 42, "event": "contacts.contact.created", "occurred_at": "2026-12-01T08:00:00+00:00",
     "cursor": 1234, "data": {...}}

The timestamp is signed with the body: a receiver refuses a signature older than a few minutes (a
replayed request) and a delivery id it already processed (a retry it already took).
``verify_signature`` does both checks' first half for Python receivers.

Why in the host and not in a plugin: every plugin raises events, and a plugin may not import an
optional plugin's code; the host is what all of them can call, as with the outbox.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

from marshmallow import Schema, fields
from sqlalchemy import (BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, delete, event, insert, select,
                        update)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from coulisses import CoulissesError, InvalidError, PluginError
from coulisses.db import Base, UTCDateTime, current_actor, take_numbers, utcnow
from coulisses.i18n import _, _l
from coulisses.outbox import JobType, enqueue
from coulisses.registry import RegistrySlot, collect, must_return, must_start

TEST_EVENT = "core.webhook.test"
SIGNATURE_HEADER = "Coulisses-Signature"
EVENT_HEADER = "Coulisses-Event"
DELIVERY_HEADER = "Coulisses-Delivery"
JOB_KIND = "core.webhook"
CHANGES_SEQUENCE = "core.changes"
DEFAULT_TOLERANCE = 300  # seconds: a signature older than this is a replay
MIN_SECRET_LENGTH = 16

PENDING, DELIVERED, FAILED, CANCELLED = "pending", "delivered", "failed", "cancelled"
DELIVERY_STATES = {PENDING: _l("En attente"), DELIVERED: _l("Remise"), FAILED: _l("Échec"),
                   CANCELLED: _l("Annulée")}

_PENDING_CHANGES = "coulisses_webhooks_changes"
_SUBSCRIPTIONS = "coulisses_webhooks_subscriptions"
_PENDING_IDS = "coulisses_webhooks_change_ids"  # ids of the changes ``emit_many`` inserted (Core)
_SCHEMAS: dict[type, Schema] = {}  # one instance per event schema: dumping does not change it


# --------------------------------------------------------------------------- the tables


class WebhookSubscription(Base):
    """A URL an administrator subscribed to some events."""

    __tablename__ = "core_webhook_subscription"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(200), default="")
    # the events' codes, one per line ("*": every event)
    events_text: Mapped[str] = mapped_column(Text, default="")
    # kept readable: it signs every delivery (give it to the receiver; change it to revoke)
    secret: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120), default="")

    @property
    def events(self) -> list[str]:
        return [code for code in (self.events_text or "").split() if code]

    @events.setter
    def events(self, codes) -> None:
        self.events_text = "\n".join(sorted(set(codes)))

    def wants(self, code: str) -> bool:
        return code == TEST_EVENT or "*" in self.events or code in self.events

    def __str__(self) -> str:
        return self.url


class Change(Base):
    """One event, in the change feed (``GET /api/v1/changes``)."""

    __tablename__ = "core_change"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # the cursor: given at commit, in commit order (None only inside the emitting transaction)
    position: Mapped[int | None] = mapped_column(BigInteger, nullable=True, unique=True)
    event: Mapped[str] = mapped_column(String(120), index=True)
    subject: Mapped[str] = mapped_column(String(120), default="")
    data_json: Mapped[str] = mapped_column(Text, default="{}")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    by_login: Mapped[str] = mapped_column(String(120), default="")

    @property
    def data(self) -> dict:
        return json.loads(self.data_json or "{}")


class WebhookDelivery(Base):
    """One event sent (or to send) to one subscription; its attempts are the outbox job's."""

    __tablename__ = "core_webhook_delivery"
    __table_args__ = (Index("ix_core_webhook_delivery_subscription", "subscription_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("core_webhook_subscription.id", ondelete="CASCADE"))
    change_id: Mapped[int | None] = mapped_column(ForeignKey("core_change.id", ondelete="SET NULL"), nullable=True)
    event: Mapped[str] = mapped_column(String(120))
    data_json: Mapped[str] = mapped_column(Text, default="{}")
    state: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    subscription: Mapped[WebhookSubscription] = relationship()
    change: Mapped[Change | None] = relationship()

    @property
    def state_label(self) -> str:
        return str(DELIVERY_STATES.get(self.state, self.state))


# --------------------------------------------------------------------------- the registry of events


@dataclass(frozen=True)
class WebhookEvent:
    """An event a plugin raises (``coulisses_webhook_events``). ``schema``: the marshmallow schema of
    its ``data`` (it dumps what ``emit`` is given, and documents the payload in the OpenAPI document);
    ``permission``: what a token needs to read it in the change feed."""

    code: str
    label: Any
    schema: type[Schema] | None = None
    permission: str | None = None
    description: Any = ""


class TestEventSchema(Schema):
    message = fields.String(metadata={"description": "A sentence saying this is a test"})
    subscription = fields.Integer(metadata={"description": "The id of the subscription tested"})


CORE_EVENTS = [WebhookEvent(TEST_EVENT, _l("Test d'un webhook"), TestEventSchema, "core.webhooks.manage",
                            _l("Envoyé par le bouton « Envoyer un test » ; jamais dans le flux des changements."))]


def _check(plugin: str, item) -> None:
    if not isinstance(item, WebhookEvent):
        raise PluginError(plugin, must_return("coulisses_webhook_events", "WebhookEvent", item))
    prefix = "core." if plugin == "core" else f"{plugin}."
    if not item.code.startswith(prefix):
        raise PluginError(plugin, must_start(_l("événement de webhook"), item.code, prefix))
    if item.schema is not None and not (isinstance(item.schema, type) and issubclass(item.schema, Schema)):
        raise PluginError(plugin, _l("événement de webhook « %(code)s » : son schéma doit être une classe Schema de "
                                     "marshmallow", code=item.code))


def _build(pm) -> dict[str, WebhookEvent]:
    return dict(collect(pm, "coulisses_webhook_events", what=_l("événement de webhook"), validate=_check))


_slot = RegistrySlot("webhooks", _build, fallback=[])
use_events = _slot.use


_everything: list[dict | None] = [None]


def events() -> dict[str, WebhookEvent]:
    """The events of the running app, command or worker (``code → WebhookEvent``); outside them (a
    plain script, a service test) those of the host and of the built-in plugins."""
    registry = _slot.installed()
    if registry is not None:
        return registry
    if _everything[0] is None:
        from coulisses import plugins as cplugins
        from coulisses.web.app import CoreHooks

        infos = cplugins.discover()
        order = cplugins.resolve(infos, [n for n, info in infos.items()
                                         if not info.error and info.distribution == "coulisses"])
        _everything[0] = _build(cplugins.build_manager(infos, order, CoreHooks(), warn=False))
    return _everything[0]


# --------------------------------------------------------------------------- emitting


def _subscriptions(session: Session) -> list[WebhookSubscription]:
    cached = session.info.get(_SUBSCRIPTIONS)
    if cached is None:  # read without flushing: the transaction's pending rows do not change it
        with session.no_autoflush:
            cached = list(session.scalars(select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
                                          .order_by(WebhookSubscription.id)))
        session.info[_SUBSCRIPTIONS] = cached
    return cached


def _registered(code: str):
    """The declared event ``code``, or a clear error naming it."""
    registered = events().get(code)
    if registered is None:
        raise CoulissesError(_l("événement de webhook inconnu « %(code)s » (déclarez-le avec coulisses_webhook_events)",
                                 code=code))
    return registered


def emit(session: Session, code: str, obj: Any, *, subject: str = "") -> Change:
    """Raise event ``code`` about ``obj`` (an object or a dict, dumped through the event's schema) in
    ``session``'s transaction: a change in the feed, and a delivery to each subscription that wants
    it, sent after commit. ``subject`` names what it is about (``"contact:1042"``)."""
    registered = _registered(code)
    data_json = dump_data(registered.schema, obj)
    change = Change(event=code, subject=subject[:120], data_json=data_json, at=utcnow(),
                    by_login=(current_actor().login or "")[:120])
    session.add(change)
    session.info.setdefault(_PENDING_CHANGES, []).append(change)
    wanted = [sub for sub in _subscriptions(session) if sub.wants(code)]
    if wanted:
        session.flush()
        for sub in wanted:
            _deliver_later(session, sub, code, data_json, change)
    return change


def emit_many(session: Session, code: str, items: Iterable[tuple[Any, str]],
              data: Iterable[str] | None = None) -> int:
    """``emit`` for many objects at once (an import): ``items`` are ``(obj, subject)`` pairs. The
    same changes in the feed, with the same data, numbered at commit like the others; inserted in
    one multi-row statement instead of one ORM object each. ``data``: each object's ``dump_data``
    with the event's schema, when the caller had it done elsewhere (another process). When a
    subscription wants the event, each goes through ``emit`` (its deliveries need the change's
    row). Returns how many."""
    registered = _registered(code)
    if any(sub.wants(code) for sub in _subscriptions(session)):
        count = 0
        for obj, subject in items:
            emit(session, code, obj, subject=subject)
            count += 1
        return count
    at, login = utcnow(), (current_actor().login or "")[:120]
    if data is None:
        rows = [{"event": code, "subject": subject[:120], "data_json": dump_data(registered.schema, obj), "at": at,
                 "by_login": login} for obj, subject in items]
    else:
        rows = [{"event": code, "subject": subject[:120], "data_json": data_json, "at": at, "by_login": login}
                for (_obj, subject), data_json in zip(items, data, strict=True)]
    if not rows:
        return 0
    table = Change.__table__
    ids = session.connection().execute(insert(table).returning(table.c.id), rows).scalars().all()
    session.info.setdefault(_PENDING_IDS, []).extend(ids)
    return len(rows)


def dump_data(schema: type[Schema] | None, obj: Any) -> str:
    """The ``data`` of an event about ``obj``, as stored and sent: dumped through the event's schema."""
    if schema is None:
        data = dict(obj or {})
    else:
        instance = _SCHEMAS.get(schema)
        if instance is None:
            instance = _SCHEMAS[schema] = schema()
        data = instance.dump(obj)
    return json.dumps(data, default=str, sort_keys=True)


def _deliver_later(session: Session, sub: WebhookSubscription, code: str, data_json: str,
                   change: Change | None) -> WebhookDelivery:
    delivery = WebhookDelivery(subscription_id=sub.id, change_id=change.id if change else None, event=code,
                               data_json=data_json, state=PENDING, created_at=utcnow())
    session.add(delivery)
    session.flush()
    enqueue(session, JOB_KIND, {"delivery": delivery.id})
    return delivery


def send_test(session: Session, sub: WebhookSubscription) -> WebhookDelivery:
    """Queue a test delivery to ``sub`` (even inactive): sent after commit, shown in the log."""
    data = TestEventSchema().dump({"message": _("Test envoyé depuis Coulisses"), "subscription": sub.id})
    return _deliver_later(session, sub, TEST_EVENT, json.dumps(data, sort_keys=True), None)


def redeliver(session: Session, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again (a new delivery of the same event and data)."""
    return _deliver_later(session, delivery.subscription, delivery.event, delivery.data_json, delivery.change)


@event.listens_for(Session, "before_commit")
def _number_changes(session: Session) -> None:
    """Give this transaction's changes their cursor positions, taking the counter's lock last."""
    pending = session.info.pop(_PENDING_CHANGES, None) or []
    inserted = session.info.pop(_PENDING_IDS, None) or []
    session.info.pop(_SUBSCRIPTIONS, None)
    if not pending and not inserted:
        return
    session.flush()
    ids = sorted([c.id for c in pending if c.id is not None and c in session] + inserted)
    if not ids:
        return
    low, high = ids[0], ids[-1]
    span = high - low + 1
    base = take_numbers(session, CHANGES_SEQUENCE, span)
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        changes = Change.__table__  # a plain statement: the objects' ``position`` is expired below
        session.execute(update(changes).where(changes.c.id.in_(chunk)).values(position=base + (changes.c.id - low)))
    for change in pending:
        if change in session:
            session.expire(change, ["position"])


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING_CHANGES, None)
    session.info.pop(_PENDING_IDS, None)
    session.info.pop(_SUBSCRIPTIONS, None)


# --------------------------------------------------------------------------- signing


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Coulisses-Signature`` header of ``body`` sent at ``timestamp`` (Unix seconds)."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(secret: str, header: str | None, body: bytes, *, tolerance: int = DEFAULT_TOLERANCE,
                     now: float | None = None) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and was made less than ``tolerance``
    seconds ago (an older one is a replay). Receivers also remember the ``Coulisses-Delivery`` ids
    they processed."""
    if not header:
        return False
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def envelope(delivery: WebhookDelivery) -> bytes:
    change = delivery.change
    body = {"id": delivery.id, "event": delivery.event,
            "occurred_at": (change.at if change else delivery.created_at).isoformat(),
            "cursor": change.position if change else None, "data": json.loads(delivery.data_json or "{}")}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


# --------------------------------------------------------------------------- delivering (the outbox job)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect is the receiver's mistake: not followed
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _timeout() -> float:
    from coulisses.config import current_config

    try:
        return float(current_config().get("WEBHOOKS_TIMEOUT") or 10)
    except (TypeError, ValueError):
        return 10.0


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST ``body``; the HTTP status (raises ``urllib.error.URLError``/``OSError`` when unreachable)."""
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "User-Agent": "Coulisses-Webhooks/1", **headers})
    try:
        with _opener.open(request, timeout=_timeout()) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def deliver(session: Session, job) -> dict:
    """The ``core.webhook`` job: send one delivery; a failure is recorded on the delivery and the job
    is retried (with the outbox's backoff), the last failure leaves the delivery failed."""
    delivery = session.get(WebhookDelivery, job.payload["delivery"])
    if delivery is None:  # its subscription was deleted (the deliveries go with it): nothing to send
        return {"status": None, "cancelled": "delivery deleted"}
    sub = delivery.subscription
    if not sub.active and delivery.event != TEST_EVENT:
        delivery.state = CANCELLED
        return {"status": None, "cancelled": "subscription inactive"}
    body = envelope(delivery)
    headers = {SIGNATURE_HEADER: sign(sub.secret, body, int(time.time())), EVENT_HEADER: delivery.event,
               DELIVERY_HEADER: str(delivery.id)}
    delivery.attempts += 1
    delivery.last_attempt_at = utcnow()
    try:
        status, error = post(sub.url, body, headers), ""
    except (urllib.error.URLError, OSError, ValueError) as exc:
        status, error = None, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    delivery.last_status = status
    if status is not None and 200 <= status < 300:
        delivery.state, delivery.delivered_at, delivery.last_error = DELIVERED, utcnow(), ""
        return {"status": status}
    delivery.last_error = (error or f"HTTP {status}")[:2000]
    last = job.attempts >= job.max_attempts
    delivery.state = FAILED if last else PENDING
    session.commit()  # the attempt is in the log even though the job fails
    raise CoulissesError(f"webhook delivery {delivery.id} to {sub.url} failed: {delivery.last_error}")


JOB_TYPES = [JobType(JOB_KIND, deliver, _l("Envoi d'un webhook"), max_attempts=8,
                     retry_delay=timedelta(seconds=30), max_retry_delay=timedelta(hours=2),
                     lease=timedelta(minutes=2))]


# --------------------------------------------------------------------------- subscriptions, the feed


def validate_subscription(url: str, codes: list[str], secret: str) -> dict[str, str]:
    """Field messages for a subscription that cannot be saved (empty: fine)."""
    from urllib.parse import urlsplit

    errors: dict[str, str] = {}
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        errors["url"] = _("Une adresse http:// ou https:// complète est attendue")
    known = events()
    unknown = [c for c in codes if c != "*" and (c not in known or c == TEST_EVENT)]
    if unknown:
        errors["events"] = _("Événements inconnus : %(codes)s", codes=", ".join(unknown))
    elif not codes:
        errors["events"] = _("Choisissez au moins un événement")
    if len(secret or "") < MIN_SECRET_LENGTH:
        errors["secret"] = _("Au moins %(n)s caractères", n=MIN_SECRET_LENGTH)
    return errors


def _journal(session: Session, kind: str, sub: WebhookSubscription, detail: str = "") -> None:
    """A subscription change in the security journal (who, from where: the journal's defaults); the
    detail holds the subscription's number, its receiver's host and the fields changed, never its
    secret."""
    from coulisses.security_events import record_event

    from urllib.parse import urlsplit

    host = urlsplit(sub.url or "").hostname or ""  # not the whole address: its path may hold a token
    record_event(session, kind, login="", detail=" ".join(p for p in (str(sub.id), host, detail) if p))


def subscribe(session: Session, url: str, codes: list[str], *, secret: str | None = None,
              description: str = "") -> WebhookSubscription:
    """A new subscription (its secret given, or generated), recorded in the security journal."""
    secret = secret or new_secret()
    errors = validate_subscription(url, codes, secret)
    if errors:
        raise InvalidError(_("L'abonnement n'est pas valide"), errors)
    sub = WebhookSubscription(url=url.strip(), secret=secret, description=description, active=True,
                              created_by=(current_actor().login or "")[:120])
    sub.events = codes
    session.add(sub)
    session.flush()
    _journal(session, "webhook_created", sub, " ".join(sub.events))
    return sub


def update_subscription(session: Session, sub: WebhookSubscription, *, url: str | None = None,
                        codes: list[str] | None = None, secret: str | None = None, description: str | None = None,
                        active: bool | None = None) -> WebhookSubscription:
    """Change what is given (``None``: kept); the result is validated as a whole (``InvalidError``).
    The security journal records the fields changed (``webhook_changed``) and a new secret
    (``webhook_secret_rotated``)."""
    url = sub.url if url is None else url
    codes = sub.events if codes is None else codes
    secret = sub.secret if secret is None else secret
    errors = validate_subscription(url, codes, secret)
    if errors:
        raise InvalidError(_("L'abonnement n'est pas valide"), errors)
    before = {"url": sub.url, "events": sub.events, "description": sub.description, "active": sub.active}
    rotated = secret != sub.secret
    sub.url, sub.events, sub.secret = url.strip(), codes, secret
    if description is not None:
        sub.description = description
    if active is not None:
        sub.active = active
    after = {"url": sub.url, "events": sub.events, "description": sub.description, "active": sub.active}
    changed = [name for name in before if before[name] != after[name]]
    session.flush()
    if changed:
        _journal(session, "webhook_changed", sub, " ".join(
            f"{name}={'+' if after[name] else '-'}" if name == "active" else
            f"events={','.join(after[name])}" if name == "events" else name for name in changed))
    if rotated:
        _journal(session, "webhook_secret_rotated", sub)
    return sub


def rotate_secret(session: Session, sub: WebhookSubscription) -> str:
    """A new generated signing secret for ``sub`` (the old one stops signing); returns it, to be shown
    once."""
    secret = new_secret()
    update_subscription(session, sub, secret=secret)
    return secret


def unsubscribe(session: Session, sub: WebhookSubscription) -> None:
    """Delete a subscription with its delivery log; its queued deliveries are not sent. Recorded in
    the security journal."""
    _journal(session, "webhook_deleted", sub)
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.subscription_id == sub.id))
    session.delete(sub)
    session.flush()


def deliveries_of(session: Session, sub: WebhookSubscription, *, state: str | None = None,
                  limit: int = 100) -> list[WebhookDelivery]:
    """A subscription's deliveries, newest first (``state``: only those)."""
    stmt = select(WebhookDelivery).where(WebhookDelivery.subscription_id == sub.id)
    if state:
        stmt = stmt.where(WebhookDelivery.state == state)
    return list(session.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(limit)))


def readable_events(permissions) -> list[str]:
    """The events (codes) a holder of ``permissions`` (``has_permission(code)``) may read in the feed."""
    return sorted(code for code, ev in events().items()
                  if code != TEST_EVENT and (ev.permission is None or permissions(ev.permission)))


def changes_after(session: Session, after: int, codes: list[str], limit: int = 100) -> tuple[list[Change], bool]:
    """The committed changes after cursor ``after`` among events ``codes``, oldest first; and whether
    more follow."""
    if not codes:
        return [], False
    rows = list(session.scalars(select(Change).where(Change.position.is_not(None), Change.position > after,
                                                     Change.event.in_(codes))
                                .order_by(Change.position).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def purge(session: Session, *, days: int) -> int:
    """Delete changes and deliveries older than ``days`` (nightly task ``core.webhooks.purge``)."""
    cutoff = utcnow() - timedelta(days=days)
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.created_at < cutoff,
                                                  WebhookDelivery.state != PENDING))
    return session.execute(delete(Change).where(Change.at < cutoff)).rowcount or 0

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
from typing import Any

from marshmallow import Schema, fields
from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, delete, event, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from coulisses import CoulissesError, InvalidError, PluginError
from coulisses.db import Base, UTCDateTime, current_actor, take_numbers, utcnow
from coulisses.i18n import _, _l
from coulisses.outbox import JobType, enqueue
from coulisses.registry import RegistrySlot, collect

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
        raise PluginError(plugin, f"coulisses_webhook_events must return WebhookEvent objects, not {type(item).__name__}")
    prefix = "core." if plugin == "core" else f"{plugin}."
    if not item.code.startswith(prefix):
        raise PluginError(plugin, f"webhook event '{item.code}' must start with '{prefix}'")
    if item.schema is not None and not (isinstance(item.schema, type) and issubclass(item.schema, Schema)):
        raise PluginError(plugin, f"webhook event '{item.code}': schema must be a marshmallow Schema class")


def _build(pm) -> dict[str, WebhookEvent]:
    return dict(collect(pm, "coulisses_webhook_events", what="webhook event", validate=_check))


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


def emit(session: Session, code: str, obj: Any, *, subject: str = "") -> Change:
    """Raise event ``code`` about ``obj`` (an object or a dict, dumped through the event's schema) in
    ``session``'s transaction: a change in the feed, and a delivery to each subscription that wants
    it, sent after commit. ``subject`` names what it is about (``"contact:1042"``)."""
    registered = events().get(code)
    if registered is None:
        raise CoulissesError(f"unknown webhook event '{code}' (declare it with coulisses_webhook_events)")
    data = registered.schema().dump(obj) if registered.schema is not None else dict(obj or {})
    data_json = json.dumps(data, default=str, sort_keys=True)
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
    pending = session.info.pop(_PENDING_CHANGES, None)
    session.info.pop(_SUBSCRIPTIONS, None)
    if not pending:
        return
    session.flush()
    ids = sorted(c.id for c in pending if c.id is not None and c in session)
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


def subscribe(session: Session, url: str, codes: list[str], *, secret: str | None = None,
              description: str = "") -> WebhookSubscription:
    secret = secret or new_secret()
    errors = validate_subscription(url, codes, secret)
    if errors:
        raise InvalidError(_("L'abonnement n'est pas valide"), errors)
    sub = WebhookSubscription(url=url.strip(), secret=secret, description=description, active=True,
                              created_by=(current_actor().login or "")[:120])
    sub.events = codes
    session.add(sub)
    session.flush()
    return sub


def update_subscription(session: Session, sub: WebhookSubscription, *, url: str | None = None,
                        codes: list[str] | None = None, secret: str | None = None, description: str | None = None,
                        active: bool | None = None) -> WebhookSubscription:
    """Change what is given (``None``: kept); the result is validated as a whole (``InvalidError``)."""
    url = sub.url if url is None else url
    codes = sub.events if codes is None else codes
    secret = sub.secret if secret is None else secret
    errors = validate_subscription(url, codes, secret)
    if errors:
        raise InvalidError(_("L'abonnement n'est pas valide"), errors)
    sub.url, sub.events, sub.secret = url.strip(), codes, secret
    if description is not None:
        sub.description = description
    if active is not None:
        sub.active = active
    session.flush()
    return sub


def unsubscribe(session: Session, sub: WebhookSubscription) -> None:
    """Delete a subscription with its delivery log; its queued deliveries are not sent."""
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

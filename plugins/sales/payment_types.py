"""Payment mode types: the base class every kind of payment mode is built on (as pretix's payment
providers), and what its methods receive and return.

A *payment mode type* is behaviour (code, what it allows, its settings, the fields the operator fills,
its rules); a *payment mode* (``PaymentMode`` row: "Espèces", "CB guichet 2"…) is the organisation's
configured instance of one type, with its settings. Plugins register types through the
``sales_payment_mode_types`` hook (a list of instances, or of subclasses: they are instantiated)::

    from marshmallow import Schema, fields
    from plugins.sales.payment_types import PaymentModeType, PaymentOutcome

    class VoucherSettings(Schema):
        max_amount = SettingAmount(metadata={"label": _l("Montant maximum")})

    class VoucherFields(Schema):
        voucher = fields.String(required=True, metadata={"label": _l("N° du bon")})

    class Voucher(PaymentModeType):
        code = "voucher"
        label = _l("Bon cadeau")
        can_refund = False
        settings_schema = VoucherSettings
        fields_schema = VoucherFields
        reference_field = "voucher"

        def check_payment(self, ctx):
            reason = super().check_payment(ctx)          # the amount limits of the settings
            if reason is None and not known_voucher(ctx.session, ctx.details["voucher"]):
                return _("Bon cadeau inconnu")
            return reason

Every method has a safe default, so a type that only names itself (``PaymentModeType("x", "X")``, the
form the hook took before the base class) works as before: pays and refunds, records the payment,
no settings, no fields.

The services (``services.payments``) call the methods in this order, inside the business transaction
and with the order row locked: ``load_fields`` (the operator's fields, validated) →
``check_payment`` (None, or the reason it is refused, shown to the operator) → ``pay`` (side effects:
spend a credit balance…; returns ``PaymentOutcome``: completed, or pending for a mode that completes
later) → the ``Payment`` row is written (completed) or a ``PendingPayment`` (pending), then
``on_pending`` (start the outside work: enqueue an outbox job naming the pending payment). Refunds:
``refundable`` / ``check_refund`` → ``refund``. Changing the payer of a payment: ``check_transfer``
→ ``transfer``.

Pending payments (``completes_later``): the money is not counted on the order until the type's plugin
calls ``services.pending.complete_pending`` (the terminal said yes), ``fail_pending`` (it said no) or
``mark_unknown`` (no answer: a timeout, a lost connection). An unknown outcome is **never retried
automatically** (charging a card twice is worse than asking): an operator resolves it on the
"Règlements en attente" screen (``resolve_pending``) after checking the terminal's journal.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from marshmallow import Schema, ValidationError, fields, validate

from coulisses import InvalidError
from coulisses.i18n import _, _l

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

    from plugins.sales.models import Order, PaymentMode

COMPLETED, PENDING = "completed", "pending"


# --------------------------------------------------------------------------- settings fields


class SettingAmount(fields.Decimal):
    """An amount in a settings or fields schema: a decimal string ("1000.00"), ``None`` allowed,
    kept as a string in the JSON of the settings; shown as an amount input."""

    def __init__(self, **kwargs):
        kwargs.setdefault("places", 2)
        kwargs.setdefault("as_string", True)
        kwargs.setdefault("allow_none", True)
        kwargs.setdefault("load_default", None)
        kwargs.setdefault("validate", validate.Range(min=0))
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
            if value == "":
                return None
        if isinstance(value, float):
            raise ValidationError(str(_("Montant invalide")))
        return super()._deserialize(value, attr, data, **kwargs)


class TrimmedString(fields.String):
    """Text typed by a person: surrounding spaces dropped; empty refused when required."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text and self.required:
            raise ValidationError("Missing data for required field.")
        return text


class AmountLimits(Schema):
    """The settings most types share: the smallest and largest payment the mode takes (empty: none).
    Subclass it to add a type's own settings."""

    min_amount = SettingAmount(metadata={"label": _l("Montant minimum d'un règlement")})
    max_amount = SettingAmount(metadata={"label": _l("Montant maximum d'un règlement"),
                                         "description": _l("Vide : pas de limite. Ex. 1000,00 pour les espèces.")})


# --------------------------------------------------------------------------- what the methods get


@dataclass
class PaymentContext:
    """What a type's methods see: the order (locked), the mode and its loaded settings, the amount
    (always positive: paid, or given back for a refund), the contact whose money it is, the
    operator's fields (loaded by ``fields_schema``), the operation being written and the point of sale."""

    session: "Session"
    order: "Order"
    mode: "PaymentMode"
    amount: Decimal
    contact: Any = None  # a Contact, or None
    details: dict = field(default_factory=dict)
    operation: Any = None
    point_of_sale: Any = None
    settings: dict = field(default_factory=dict)
    refund: bool = False
    field_prefix: str = "details"  # where the operator's fields are named in errors ("payments.0.details")

    def require(self, name: str) -> None:
        """Refuse (``InvalidError`` naming the field) when the operator left field ``name`` empty."""
        if not str(self.details.get(name) or "").strip():
            raise InvalidError(_("Informations du règlement incomplètes"),
                               {f"{self.field_prefix}.{name}": _("Champ obligatoire.")})


@dataclass(frozen=True)
class PaymentOutcome:
    """What ``pay`` / ``refund`` return: ``completed`` (the money moved: a ``Payment`` is written) or
    ``pending`` (it will complete later: a ``PendingPayment`` is written, the order's balance does not
    move yet). ``reference``: written as the payment's reference when given (an authorisation
    number); ``details``: added to the payment's details."""

    state: str = COMPLETED
    reference: str = ""
    details: dict = field(default_factory=dict)

    @classmethod
    def pending(cls, reference: str = "", details: dict | None = None) -> "PaymentOutcome":
        return cls(PENDING, reference, details or {})


# --------------------------------------------------------------------------- the base class


class PaymentModeType:
    """The base class of a payment mode type. Override the class attributes and the methods you need;
    the defaults accept any positive amount, record it, and refund freely (up to what the order owes).

    Attributes:
    - ``code`` (unique), ``label`` (a lazy string ``_l``), ``description``;
    - ``can_pay`` / ``can_refund``: offered for payments / refunds;
    - ``needs_contact``: each payment names the contact whose money it is (default: the order's payer,
      else its buyer), e.g. the credit balance spent, the waiting account charged;
    - ``gives_change``: a payment may exceed what is due, the excess is given back (cash);
    - ``completes_later``: ``pay`` may return a pending outcome (a payment terminal, an online payment);
    - ``refund_is_credit``: a refund by this mode is a credit the contact keeps (the credit balance):
      nothing leaves the till, so it is not capped by what the order received through the mode, and it
      is done once recorded (nothing to pay out);
    - ``refund_in_person``: a refund by this mode needs the customer at the desk (cash counted out, a
      card on the terminal): never chosen for them by a batch (a cancelled performance's refunds);
    - ``settings_schema``: a marshmallow ``Schema`` of the mode's settings (edited as a form in
      "Modes de règlement"; each field's ``metadata`` gives ``label`` and ``description``);
    - ``fields_schema``: a marshmallow ``Schema`` of what the operator fills for each payment (cheque
      number and bank, transfer reference, card authorisation): drawn in the sales screen's payment
      rows and accepted by the REST API as ``details``;
    - ``reference_field``: the field of ``fields_schema`` that becomes the payment's ``reference``.
    """

    code: str = ""
    label: Any = ""
    description: Any = ""
    can_pay: bool = True
    can_refund: bool = True
    needs_contact: bool = False
    gives_change: bool = False
    completes_later: bool = False
    refund_is_credit: bool = False
    refund_in_person: bool = False
    settings_schema: type[Schema] | None = None
    fields_schema: type[Schema] | None = None
    reference_field: str | None = None

    _FLAGS = ("can_pay", "can_refund", "needs_contact", "gives_change", "completes_later", "refund_is_credit",
              "refund_in_person")

    def __init__(self, code: str | None = None, label: Any = None, can_pay: bool | None = None,
                 can_refund: bool | None = None, needs_contact: bool | None = None, gives_change: bool | None = None,
                 description: Any = None, completes_later: bool | None = None, refund_is_credit: bool | None = None,
                 refund_in_person: bool | None = None):
        given = dict(code=code, label=label, can_pay=can_pay, can_refund=can_refund, needs_contact=needs_contact,
                     gives_change=gives_change, description=description, completes_later=completes_later,
                     refund_is_credit=refund_is_credit, refund_in_person=refund_in_person)
        for name, value in given.items():
            if value is not None:
                setattr(self, name, value)
        if not self.code:
            raise ValueError(f"{type(self).__name__}: a payment mode type needs a code")

    # ------------------------------------------------------------------ identity (the registry compares)

    def _key(self) -> tuple:
        return (type(self), self.code, str(self.label), *(getattr(self, f) for f in self._FLAGS))

    def __eq__(self, other) -> bool:
        return isinstance(other, PaymentModeType) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.code}>"

    # ------------------------------------------------------------------ settings

    def _schema(self, which: str) -> Schema | None:
        """One instance of the settings or fields schema per type (building one costs more than using it)."""
        cache = self.__dict__.setdefault("_schemas", {})
        if which not in cache:
            cls = getattr(self, which)
            cache[which] = cls() if cls is not None else None
        return cache[which]

    def load_settings(self, raw: dict | None, *, prefix: str = "settings") -> dict:
        """Validate settings typed by a person or given to the API; returns them as stored (JSON-able:
        amounts as strings). ``InvalidError`` naming ``<prefix>.<field>`` for each bad one."""
        schema = self._schema("settings_schema")
        if schema is None:
            return {}
        try:
            loaded = schema.load(dict(raw or {}))
        except ValidationError as err:
            raise InvalidError(_("Réglages du mode invalides"), _field_errors(err.messages, prefix)) from None
        return schema.dump(loaded)

    def settings_of(self, mode: "PaymentMode") -> dict:
        """The mode's settings, loaded (amounts as Decimal) with every default filled. A stored value
        the schema no longer accepts is replaced by its default (and the screen asks for a new one)."""
        schema = self._schema("settings_schema")
        if schema is None:
            return dict(mode.settings or {})
        data = {k: v for k, v in (mode.settings or {}).items() if k in schema.fields}
        try:
            return schema.load(data)
        except ValidationError as err:
            bad = set(err.messages) if isinstance(err.messages, dict) else set(data)
            return schema.load({k: v for k, v in data.items() if k not in bad})

    # ------------------------------------------------------------------ the operator's fields

    def load_fields(self, raw: dict | None, *, prefix: str = "details") -> dict:
        """Validate what the operator filled for one payment (``fields_schema``); returns it JSON-able.
        ``InvalidError`` naming ``<prefix>.<field>``. Without a schema, anything given is refused
        (a typo in an integrator's call must not vanish)."""
        raw = dict(raw or {})
        schema = self._schema("fields_schema")
        if schema is None:
            if raw:
                raise InvalidError(_("Ce mode de règlement n'a pas de champ à saisir"),
                                   {f"{prefix}.{k}": _("Champ inconnu") for k in raw})
            return {}
        try:
            loaded = schema.load(raw)
        except ValidationError as err:
            raise InvalidError(_("Informations du règlement invalides"), _field_errors(err.messages, prefix)) from None
        return {k: v for k, v in schema.dump(loaded).items() if v not in (None, "")}

    def reference_from(self, details: dict, typed: str = "") -> str:
        """The payment's reference: what was typed, else the ``reference_field`` of the fields."""
        if typed:
            return typed
        return str(details.get(self.reference_field) or "") if self.reference_field else ""

    # ------------------------------------------------------------------ paying

    def check_payment(self, ctx: PaymentContext) -> str | None:
        """May ``ctx.contact`` pay ``ctx.amount`` on ``ctx.order`` with this mode? None when yes, else
        the reason (shown to the operator). Default: ``can_pay``, a contact when ``needs_contact``,
        and the ``min_amount`` / ``max_amount`` settings when the schema has them."""
        if not self.can_pay:
            return _("Le mode %(mode)s ne permet pas de payer", mode=ctx.mode.label)
        if self.needs_contact and ctx.contact is None:
            return _("Le mode %(mode)s demande un contact", mode=ctx.mode.label)
        return _amount_limits(ctx)

    def pay(self, ctx: PaymentContext) -> PaymentOutcome:
        """Take the money: do what the mode does besides recording the payment (spend a credit
        balance, charge a waiting account, start a terminal transaction). Raise ``ConflictError`` /
        ``InvalidError`` to refuse. Return ``PaymentOutcome()`` (completed: the default) or
        ``PaymentOutcome.pending(...)`` (only when ``completes_later``)."""
        return PaymentOutcome()

    def on_pending(self, ctx: PaymentContext, pending) -> None:
        """Called once the ``PendingPayment`` row exists (flushed, ``pending.id`` known), in the same
        transaction: enqueue the outside work here (``coulisses.outbox.enqueue``) — never talk to a
        device or a bank inside the transaction. Default: nothing."""

    # ------------------------------------------------------------------ refunding

    def refundable(self, session: "Session", order: "Order", mode: "PaymentMode") -> Decimal | None:
        """How much may be given back on ``order`` with ``mode``: None (default) when the mode sets no
        limit of its own (the order's: what the organisation owes, always applies)."""
        return None

    def check_refund(self, ctx: PaymentContext) -> str | None:
        """May ``ctx.amount`` be given back with this mode? None when yes, else the reason. Default:
        ``can_refund`` and ``refundable``."""
        if not self.can_refund:
            return _("Le mode %(mode)s ne permet pas de rembourser", mode=ctx.mode.label)
        limit = self.refundable(ctx.session, ctx.order, ctx.mode)
        if limit is not None and ctx.amount > limit:
            from coulisses.i18n import format_money

            return _("%(mode)s : au plus %(limit)s peut être remboursé sur le dossier %(number)s", mode=ctx.mode.label,
                     limit=format_money(max(limit, Decimal("0.00"))), number=ctx.order.number)
        return None

    def refund(self, ctx: PaymentContext) -> PaymentOutcome:
        """Give the money back (credit a credit balance, reverse a waiting account charge, start a
        terminal refund). Same contract as ``pay``."""
        return PaymentOutcome()

    # ------------------------------------------------------------------ changing the payer

    def check_transfer(self, source: PaymentContext, target: PaymentContext) -> str | None:
        """May a payment of ``source.amount`` made by ``source.contact`` become ``target.contact``'s
        (Détails > Règlements: changing the paying contact)? None when yes. Default: yes; a type whose
        money belongs to a contact (credit balance, waiting account) checks the new contact."""
        if self.needs_contact and target.contact is None:
            return _("Le mode %(mode)s demande un contact", mode=target.mode.label)
        return None

    def transfer(self, source: PaymentContext, target: PaymentContext) -> None:
        """Move what the mode keeps per contact from ``source.contact`` to ``target.contact`` (the
        credit spent, the charge on an account). Default: nothing (the money is in the till already;
        only whose money it is changes, which the correction entries record)."""


def _amount_limits(ctx: PaymentContext) -> str | None:
    from coulisses.i18n import format_money

    low, high = ctx.settings.get("min_amount"), ctx.settings.get("max_amount")
    if low is not None and ctx.amount < Decimal(low):
        return _("%(mode)s : %(amount)s est sous le minimum de %(limit)s", mode=ctx.mode.label,
                 amount=format_money(ctx.amount), limit=format_money(Decimal(low)))
    if high is not None and ctx.amount > Decimal(high):
        return _("%(mode)s : %(amount)s dépasse le maximum de %(limit)s", mode=ctx.mode.label,
                 amount=format_money(ctx.amount), limit=format_money(Decimal(high)))
    return None


def _field_errors(messages, prefix: str) -> dict[str, str]:
    """marshmallow's messages, flattened to ``prefix.field`` and translated (the host's table)."""
    from coulisses.web.validation_messages import translate

    messages = translate(messages)
    out = {}
    if not isinstance(messages, dict):
        return {prefix: " ".join(str(m) for m in messages)}
    for name, value in messages.items():
        if isinstance(value, dict):
            out.update(_field_errors(value, f"{prefix}.{name}"))
        else:
            out[f"{prefix}.{name}"] = " ".join(str(m) for m in (value if isinstance(value, list) else [value]))
    return out


# --------------------------------------------------------------------------- forms drawn from a schema


@dataclass(frozen=True)
class FieldSpec:
    """One field of a settings or fields schema, as a screen draws it and the API describes it.
    ``kind``: ``text``, ``amount``, ``integer``, ``boolean``, ``choice``, ``hidden`` (metadata
    ``{"hidden": True}``: a hidden input a payment panel fills, e.g. the waiting account's schedule)."""

    name: str
    label: str
    kind: str
    required: bool = False
    description: str = ""
    choices: tuple = ()
    max_length: int | None = None

    def as_dict(self) -> dict:
        return {"name": self.name, "label": self.label, "kind": self.kind, "required": self.required,
                "description": self.description, "choices": [list(c) for c in self.choices],
                "max_length": self.max_length}


def field_specs(schema_class: type[Schema] | None) -> list[FieldSpec]:
    """The fields of a schema in declaration order, translated in the current language."""
    if schema_class is None:
        return []
    out = []
    for name, f in schema_class().fields.items():
        meta = f.metadata or {}
        choices: tuple = ()
        max_length = None
        for v in _validators(f):
            if isinstance(v, validate.OneOf):
                labels = meta.get("choices") or {}
                choices = tuple((c, str(labels.get(c, c))) for c in v.choices)
            if isinstance(v, validate.Length) and v.max is not None:
                max_length = v.max
        if meta.get("hidden"):
            kind = "hidden"  # posted by a payment panel's script (sales_payment_panels), not drawn in the row
        elif choices:
            kind = "choice"
        elif isinstance(f, fields.Boolean):
            kind = "boolean"
        elif isinstance(f, fields.Decimal):
            kind = "amount"
        elif isinstance(f, fields.Integer):
            kind = "integer"
        else:
            kind = "text"
        out.append(FieldSpec(name, str(meta.get("label", name)), kind, bool(f.required),
                             str(meta.get("description", "")), choices, max_length))
    return out


def _validators(f) -> list:
    return list(getattr(f, "validators", None) or [])

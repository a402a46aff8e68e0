"""Sales settings: channels, points of sale (and which one an operator sells from), payment modes."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import InvalidError, NotFoundError
from coulisses.db import current_actor
from coulisses.i18n import _, _l

from plugins.sales.models import OperatorPointOfSale, PaymentMode, PointOfSale, SalesChannel
from plugins.sales.registry import PaymentModeType, get_registry
from plugins.sales.services.common import get

# Named in the organisation's language when installed (``coulisses_install_defaults`` runs under
# ``use_locale(COULISSES_LOCALE)``): the labels are data the organisation may rename afterwards.
DEFAULT_CHANNELS = (("box_office", _l("Guichet")), ("internet", _l("Internet")), ("partner", _l("Partenaires")))
DEFAULT_POINT_OF_SALE = ("GUICHET", _l("Guichet"))
DEFAULT_PAYMENT_MODES = (
    ("CASH", _l("Espèces"), "cash"),
    ("CARD", _l("Carte bancaire"), "card"),
    ("CHEQUE", _l("Chèque"), "cheque"),
    ("TRANSFER", _l("Virement"), "bank_transfer"),
    ("CREDIT", _l("Solde avoir"), "credit_balance"),
    ("OTHER", _l("Autre paiement"), "other"),
)


def install_defaults(session: Session) -> None:
    """The channels, the "Guichet" point of sale and one payment mode per built-in type (idempotent),
    labelled in the current language (the deployment's, when the host installs them)."""
    channels = {c.code: c for c in session.scalars(select(SalesChannel))}
    for code, label in DEFAULT_CHANNELS:
        if code not in channels:
            channels[code] = create_channel(session, code, str(label))
    pos_code, pos_label = DEFAULT_POINT_OF_SALE
    if session.scalar(select(PointOfSale.id).where(PointOfSale.code == pos_code)) is None:
        has_default = session.scalar(select(PointOfSale.id).where(PointOfSale.is_default.is_(True))) is not None
        create_point_of_sale(session, pos_code, str(pos_label), channels["box_office"], is_default=not has_default)
    modes = set(session.scalars(select(PaymentMode.code)))
    for position, (code, label, type_code) in enumerate(DEFAULT_PAYMENT_MODES):
        if code not in modes:
            create_payment_mode(session, code, str(label), type_code, position=position * 10)
    session.flush()


def create_channel(session: Session, code: str, label: str) -> SalesChannel:
    channel = SalesChannel(code=code, label=label)
    session.add(channel)
    session.flush()
    return channel


def create_point_of_sale(session: Session, code: str, label: str, channel: Any, *, is_default: bool = False) -> PointOfSale:
    channel = get(session, SalesChannel, channel, _l("Filière introuvable"))
    if is_default:
        for other in session.scalars(select(PointOfSale).where(PointOfSale.is_default.is_(True))):
            other.is_default = False
    pos = PointOfSale(code=code, label=label, channel_id=channel.id, is_default=is_default)
    session.add(pos)
    session.flush()
    return pos


def get_point_of_sale(session: Session, ref: Any) -> PointOfSale:
    return get(session, PointOfSale, ref, _l("Point de vente introuvable"))


def set_operator_point_of_sale(session: Session, operator_id: int, point_of_sale: Any) -> None:
    pos = get_point_of_sale(session, point_of_sale)
    row = session.get(OperatorPointOfSale, operator_id)
    if row is None:
        session.add(OperatorPointOfSale(operator_id=operator_id, point_of_sale_id=pos.id))
    else:
        row.point_of_sale_id = pos.id
    session.flush()


def resolve_point_of_sale(session: Session, point_of_sale: Any = None) -> PointOfSale:
    """The point of sale of an operation: the argument (a ``PointOfSale``, its id or its code), else the
    actor's, else the operator's own, else the default one. An unknown or closed (inactive) point of
    sale is refused (InvalidError naming ``point_of_sale``)."""
    if point_of_sale is not None:
        try:
            pos = get_point_of_sale(session, point_of_sale)
        except NotFoundError:
            raise InvalidError(_("Point de vente introuvable : %(ref)s", ref=point_of_sale),
                               {"point_of_sale": _("Point de vente inconnu")}) from None
    else:
        actor = current_actor()
        pos = None
        if actor.get("point_of_sale_id") is not None:
            pos = session.get(PointOfSale, actor.get("point_of_sale_id"))
        if pos is None and actor.operator_id is not None:
            row = session.get(OperatorPointOfSale, actor.operator_id)
            pos = session.get(PointOfSale, row.point_of_sale_id) if row else None
        if pos is None:
            pos = session.scalar(select(PointOfSale).where(PointOfSale.is_default.is_(True),
                                                           PointOfSale.active.is_(True)))
        if pos is None:
            raise InvalidError(_("Aucun point de vente : choisissez-en un (ou définissez le point de vente par "
                                 "défaut)"), {"point_of_sale": _("Point de vente requis")})
    if not pos.active:
        raise InvalidError(_("Le point de vente %(label)s est fermé : choisissez-en un autre", label=pos.label),
                           {"point_of_sale": _("Point de vente fermé")})
    return pos


def create_payment_mode(session: Session, code: str, label: str, type_code: str, *, position: int = 0,
                        settings: dict | None = None) -> PaymentMode:
    """A payment mode of a registered type; ``settings`` validated by the type's ``settings_schema``
    (InvalidError naming ``settings.<field>``)."""
    mtype = get_registry().payment_mode_type(type_code)
    mode = PaymentMode(code=code, label=label, type_code=type_code, position=position,
                       settings=mtype.load_settings(settings))
    session.add(mode)
    session.flush()
    return mode


def update_payment_mode_settings(session: Session, mode: Any, raw: dict) -> PaymentMode:
    """Replace a mode's settings with ``raw``, validated by its type (InvalidError naming
    ``settings.<field>``; nothing changed then)."""
    mode = get_payment_mode(session, mode)
    mode.settings = payment_mode_type(mode).load_settings(raw)
    session.flush()
    return mode


def get_payment_mode(session: Session, ref: Any) -> PaymentMode:
    return get(session, PaymentMode, ref, _l("Mode de règlement introuvable"))


def payment_mode_type(mode: PaymentMode) -> PaymentModeType:
    return get_registry().payment_mode_type(mode.type_code)


def payment_modes(session: Session, *, for_refund: bool = False, active_only: bool = True) -> list[PaymentMode]:
    """The modes whose type can pay (or refund), in order: the buttons of the sales screen."""
    registry = get_registry()
    stmt = select(PaymentMode).order_by(PaymentMode.position, PaymentMode.id)
    if active_only:
        stmt = stmt.where(PaymentMode.active.is_(True))
    out = []
    for mode in session.scalars(stmt):
        mtype = registry.payment_mode_types.get(mode.type_code)
        if mtype is None:  # its plugin is disabled: the mode is not offered
            continue
        if (mtype.can_refund if for_refund else mtype.can_pay):
            out.append(mode)
    return out

"""Payment terminal protocols used in France.

**Concert E+** (serial, "protocole caisse"): ASCII messages framed ``STX data ETX LRC`` (LRC = XOR of
the data and ETX), exchanged in sessions opened by ``ENQ``/``ACK`` and closed by ``EOT``. The till
sends a 34-character request (point of sale, amount in cents, mode, debit or credit, currency,
private data, answer delay); the terminal answers with 25 characters (status ``0`` accepted, ``7``
refused). A frame with a wrong LRC is refused with ``NAK`` and sent again (at most 3 times).

**Caisse-AP over IP**: the same conversation as ``tag (2) length (3) value`` fields over TCP (``CZ``
protocol version, ``CA`` point of sale, ``CB`` amount in minor units, ``CD`` 0 debit / 1 credit,
``CE`` currency; answer ``AE`` 10 done / 01 not done, ``AF`` reason, ``AC`` authorisation number).
"""
from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import get_currency_precision

from plugins.devices.errors import ProtocolError

STX, ETX, EOT, ENQ, ACK, NAK = 0x02, 0x03, 0x04, 0x05, 0x06, 0x15
MAX_SENDS = 3
CURRENCY_NUMBERS = {"EUR": "978", "CHF": "756", "GBP": "826", "USD": "840", "XPF": "953", "CAD": "124"}
CURRENCY_CODES = {v: k for k, v in CURRENCY_NUMBERS.items()}
MODES = {"card": "1", "cheque": "C"}
KINDS = {"debit": "0", "credit": "1", "cancel": "2"}


class BadChecksum(ProtocolError):
    code = "protocol_error"


def lrc(data: bytes) -> int:
    return functools.reduce(operator.xor, data, 0)


def frame(payload: bytes) -> bytes:
    body = payload + bytes([ETX])
    return bytes([STX]) + body + bytes([lrc(body)])


def unframe(message: bytes) -> bytes:
    """The data of ``STX data ETX LRC``; ``BadChecksum`` or ``ProtocolError`` if it is not one."""
    if len(message) < 3 or message[0] != STX or message[-2] != ETX:
        raise ProtocolError(f"not a framed message: {message!r}")
    if lrc(message[1:-1]) != message[-1]:
        raise BadChecksum(f"LRC 0x{message[-1]:02x}, expected 0x{lrc(message[1:-1]):02x}")
    return message[1:-2]


def minor_units(amount: Decimal, currency: str) -> int:
    exponent = get_currency_precision(currency)
    units = (Decimal(amount) * (10 ** exponent))
    if units != units.to_integral_value():
        raise ValueError(f"{amount} has more decimals than {currency}")
    return int(units)


def from_minor_units(units: int, currency: str) -> Decimal:
    exponent = get_currency_precision(currency)
    return (Decimal(units) / (10 ** exponent)).quantize(Decimal(1).scaleb(-exponent))


def currency_number(currency: str) -> str:
    try:
        return CURRENCY_NUMBERS[currency.upper()]
    except KeyError:
        raise ValueError(f"currency {currency!r}: one of {', '.join(CURRENCY_NUMBERS)}") from None


@dataclass(frozen=True)
class PaymentRequest:
    amount: Decimal
    currency: str = "EUR"
    mode: str = "card"  # card | cheque
    kind: str = "debit"  # debit (payment) | credit (refund) | cancel
    pos: str = "01"
    private: str = ""  # 10 characters echoed back (our job reference)


@dataclass(frozen=True)
class PaymentAnswer:
    accepted: bool
    amount: Decimal
    currency: str = "EUR"
    mode: str = "card"
    pos: str = "01"
    private: str = ""
    authorisation: str = ""  # Caisse-AP only
    reason: str = ""  # Caisse-AP's AF when not done


# --------------------------------------------------------------------------- Concert E+


def encode_request(req: PaymentRequest) -> bytes:
    units = minor_units(req.amount, req.currency)
    if not 0 < units <= 99_999_999:
        raise ValueError("Concert amounts are 1 to 99 999 999 minor units")
    if len(req.pos) != 2 or not req.pos.isdigit():
        raise ValueError("the point of sale number has 2 digits")
    data = (req.pos + f"{units:08d}" + "1" + MODES[req.mode] + KINDS[req.kind] + currency_number(req.currency)
            + req.private[:10].ljust(10) + "A010" + "B010")
    assert len(data) == 34
    return data.encode("ascii")


def parse_request(data: bytes) -> PaymentRequest:
    try:
        text = data.decode("ascii")
        if len(text) != 34:
            raise ValueError(f"{len(text)} characters, 34 expected")
        currency = CURRENCY_CODES[text[13:16]]
        mode = {v: k for k, v in MODES.items()}[text[11]]
        kind = {v: k for k, v in KINDS.items()}[text[12]]
        return PaymentRequest(from_minor_units(int(text[2:10]), currency), currency, mode, kind, text[0:2],
                              text[16:26].rstrip())
    except (ValueError, KeyError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"Concert request: {exc}") from None


def encode_answer(ans: PaymentAnswer) -> bytes:
    data = (ans.pos + ("0" if ans.accepted else "7") + f"{minor_units(ans.amount, ans.currency):08d}"
            + MODES[ans.mode] + currency_number(ans.currency) + ans.private[:10].ljust(10))
    assert len(data) == 25
    return data.encode("ascii")


def parse_answer(data: bytes) -> PaymentAnswer:
    try:
        text = data.decode("ascii")
        if len(text) != 25:
            raise ValueError(f"{len(text)} characters, 25 expected")
        if text[2] not in "07":
            raise ValueError(f"status {text[2]!r}")
        currency = CURRENCY_CODES[text[12:15]]
        mode = {v: k for k, v in MODES.items()}[text[11]]
        return PaymentAnswer(text[2] == "0", from_minor_units(int(text[3:11]), currency), currency, mode,
                             text[0:2], text[15:25].rstrip())
    except (ValueError, KeyError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"Concert answer: {exc}") from None


ANSWER_FRAME_LENGTH = 1 + 25 + 1 + 1
REQUEST_FRAME_LENGTH = 1 + 34 + 1 + 1


# --------------------------------------------------------------------------- Caisse-AP over IP

CAISSE_AP_VERSION = "0300"
CAISSE_AP_REASONS = {"04": "refused", "05": "forbidden", "08": "timeout", "09": "format", "11": "abandoned"}


def encode_tlv(fields: list[tuple[str, str]]) -> bytes:
    out = []
    for tag, value in fields:
        if len(tag) != 2 or not 1 <= len(value) <= 999:
            raise ValueError(f"field {tag!r}: a 2-letter tag and 1 to 999 characters")
        out.append(f"{tag}{len(value):03d}{value}")
    return "".join(out).encode("ascii")


def parse_tlv(data: bytes) -> dict[str, str] | None:
    """The fields of a complete message; None while bytes are missing; ``ProtocolError`` if malformed."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"Caisse-AP: {exc}") from None
    fields: dict[str, str] = {}
    i = 0
    while i < len(text):
        if len(text) < i + 5:
            return None
        tag, size = text[i:i + 2], text[i + 2:i + 5]
        if not (tag.isalnum() and size.isdigit()):
            raise ProtocolError(f"Caisse-AP: bad field header {text[i:i + 5]!r}")
        end = i + 5 + int(size)
        if len(text) < end:
            return None
        fields[tag] = text[i + 5:end]
        i = end
    return fields


def encode_caisse_ap_request(req: PaymentRequest) -> bytes:
    fields = [("CZ", CAISSE_AP_VERSION), ("CJ", "012345678901"), ("CA", req.pos),
              ("CB", str(minor_units(req.amount, req.currency)).zfill(2)),
              ("CD", {"debit": "0", "credit": "1", "cancel": "2"}[req.kind]),
              ("CE", currency_number(req.currency)), ("BA", "0")]
    if req.mode == "cheque":
        fields.append(("CC", "00C"))
    if req.private:
        fields.append(("CF", req.private[:10]))
    return encode_tlv(fields)


def parse_caisse_ap_request(fields: dict[str, str]) -> PaymentRequest:
    try:
        currency = CURRENCY_CODES[fields["CE"]]
        kind = {"0": "debit", "1": "credit", "2": "cancel"}[fields["CD"]]
        return PaymentRequest(from_minor_units(int(fields["CB"]), currency), currency,
                              "cheque" if fields.get("CC") == "00C" else "card", kind, fields["CA"],
                              fields.get("CF", ""))
    except (KeyError, ValueError) as exc:
        raise ProtocolError(f"Caisse-AP request: {exc}") from None


def encode_caisse_ap_answer(req: PaymentRequest, accepted: bool, authorisation: str = "", reason: str = "04") -> bytes:
    fields = [("CZ", CAISSE_AP_VERSION), ("CA", req.pos), ("CB", str(minor_units(req.amount, req.currency)).zfill(2)),
              ("CD", {"debit": "0", "credit": "1", "cancel": "2"}[req.kind]), ("CE", currency_number(req.currency))]
    if req.private:
        fields.append(("CF", req.private[:10]))
    fields += [("AE", "10"), ("AC", authorisation or "000000")] if accepted else [("AE", "01"), ("AF", reason)]
    return encode_tlv(fields)


def parse_caisse_ap_answer(fields: dict[str, str]) -> PaymentAnswer:
    if "AE" not in fields:
        raise ProtocolError("Caisse-AP answer without AE")
    req = parse_caisse_ap_request({**fields, "CD": fields.get("CD", "0")})
    accepted = fields["AE"] == "10"
    if fields["AE"] not in ("10", "01"):
        raise ProtocolError(f"Caisse-AP AE={fields['AE']!r}")
    return PaymentAnswer(accepted, req.amount, req.currency, req.mode, req.pos, req.private,
                         fields.get("AC", ""), CAISSE_AP_REASONS.get(fields.get("AF", ""), fields.get("AF", "")))

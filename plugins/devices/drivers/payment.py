"""Payment terminals: Concert E+ (serial, or a serial-over-TCP bridge) and Caisse-AP over IP.

The one rule that matters: once the terminal has **taken** the request (Concert: it acknowledged
the frame; Caisse-AP: the request was sent), any failure — a timeout, a cut line, an answer whose
checksum stays wrong — is ``PaymentUnknown``: the card may have been debited, so the job is never
retried automatically; an operator reads the terminal's journal and resolves it. Before that point
the failure is an ordinary, retryable one (nothing happened on the terminal).
"""
from __future__ import annotations

import time
from decimal import Decimal, InvalidOperation

from marshmallow import fields, validate

from plugins.devices.codecs import payment
from plugins.devices.drivers.base import Driver, PortSettingsSchema
from plugins.devices.errors import DeviceError, PaymentDeclined, PaymentUnknown, ProtocolError
from plugins.devices.i18n import _, _l


class TerminalSettings(PortSettingsSchema):
    pos_number = fields.String(load_default="01", validate=validate.Regexp(r"^\d{2}$"),
                               metadata={"label": _l("Numéro de caisse (2 chiffres)")})
    currency = fields.String(load_default="EUR", validate=validate.OneOf(sorted(payment.CURRENCY_NUMBERS)),
                             metadata={"label": _l("Devise")})
    answer_timeout = fields.Float(load_default=120.0, validate=validate.Range(min=1, max=600),
                                  metadata={"label": _l("Attente du paiement (secondes)")})


def request_from_payload(payload: dict, settings: dict, kind: str) -> payment.PaymentRequest:
    try:
        amount = Decimal(str(payload["amount"]))
    except (KeyError, InvalidOperation):
        raise ProtocolError(f"amount {payload.get('amount')!r}") from None
    mode = payload.get("mode", "card")
    if amount <= 0 or mode not in payment.MODES:
        raise ProtocolError(f"amount {amount} / mode {mode!r}")
    return payment.PaymentRequest(amount, payload.get("currency") or settings["currency"], mode, kind,
                                  settings["pos_number"], str(payload.get("reference", ""))[:10])


def result_of(answer: payment.PaymentAnswer, req: payment.PaymentRequest) -> dict:
    if answer.amount != req.amount:
        raise PaymentUnknown(f"the terminal answered for {answer.amount}, not {req.amount}")
    if not answer.accepted:
        raise PaymentDeclined(answer.reason)
    return {"accepted": True, "amount": str(answer.amount), "currency": answer.currency, "mode": answer.mode,
            "authorisation": answer.authorisation, "reference": answer.private}


class ConcertTerminal(Driver):
    key = "concert"
    kind = "payment_terminal"
    label = _l("Terminal de paiement, protocole Concert E+ (série)")
    priority = 100
    settings_schema = TerminalSettings

    def _byte(self, port, what: str) -> int:
        return port.read_exact(1, what=what)[0]

    def status(self, port, settings, payload):
        """A terminal ready for the till answers ENQ with ACK; EOT ends the session at once."""
        port.discard_input()
        port.write(bytes([payment.ENQ]))
        answer = self._byte(port, "ACK to ENQ")
        port.write(bytes([payment.EOT]))
        if answer != payment.ACK:
            raise ProtocolError(f"0x{answer:02x} in answer to ENQ")
        return {"online": True}

    def _send_request(self, port, req: payment.PaymentRequest) -> None:
        port.discard_input()
        port.write(bytes([payment.ENQ]))
        if self._byte(port, "ACK to ENQ") != payment.ACK:
            raise ProtocolError("no ACK to ENQ")
        framed = payment.frame(payment.encode_request(req))
        for _attempt in range(payment.MAX_SENDS):
            port.write(framed)
            answer = self._byte(port, "ACK to the request")
            if answer == payment.ACK:
                port.write(bytes([payment.EOT]))
                return
            if answer != payment.NAK:
                break
        port.write(bytes([payment.EOT]))
        raise ProtocolError(_("le terminal a refusé la demande"))

    def _receive_answer(self, port, settings) -> payment.PaymentAnswer:
        port.set_timeout(settings["answer_timeout"])
        deadline = time.monotonic() + settings["answer_timeout"]
        while self._byte(port, "ENQ from the terminal") != payment.ENQ:
            if time.monotonic() > deadline:
                raise ProtocolError("no ENQ")
        port.set_timeout(settings["timeout"])
        port.write(bytes([payment.ACK]))
        for _attempt in range(payment.MAX_SENDS):
            message = port.read_exact(payment.ANSWER_FRAME_LENGTH, what="the terminal's answer")
            try:
                data = payment.unframe(message)
            except ProtocolError:
                port.write(bytes([payment.NAK]))
                continue
            port.write(bytes([payment.ACK]))
            try:
                self._byte(port, "EOT")
            except DeviceError:
                pass  # the answer is in; a missing EOT changes nothing
            return payment.parse_answer(data)
        raise ProtocolError(_("réponse du terminal illisible (somme de contrôle) après %(n)s essais",
                              n=payment.MAX_SENDS))

    def _transaction(self, port, settings, payload, kind):
        req = request_from_payload(payload, settings, kind)
        self._send_request(port, req)  # failing here: nothing happened, retryable
        try:
            answer = self._receive_answer(port, settings)
        except DeviceError as exc:
            if isinstance(exc, (PaymentDeclined, PaymentUnknown)):
                raise
            raise PaymentUnknown(f"{exc.code}: {exc.detail}") from exc
        return result_of(answer, req)

    def pay(self, port, settings, payload):
        return self._transaction(port, settings, payload, "debit")

    def refund(self, port, settings, payload):
        return self._transaction(port, settings, payload, "credit")

    def test(self, port, settings, payload):
        return {"status": self.status(port, settings, payload)}


QUIET_TIME = 0.2  # seconds of silence that end a Caisse-AP answer


class CaisseApTerminal(ConcertTerminal):
    key = "caisse_ap"
    label = _l("Terminal de paiement, protocole Caisse-AP sur IP")
    priority = 90

    def status(self, port, settings, payload):
        return {"online": True}  # Caisse-AP has no idle handshake: the connection opening is the check

    def _transaction(self, port, settings, payload, kind):
        req = request_from_payload(payload, settings, kind)
        port.write(payment.encode_caisse_ap_request(req))  # failing here: nothing was asked
        try:
            port.set_timeout(settings["answer_timeout"])
            buffer = b""
            while True:
                chunk = port.read_some()
                if not chunk:
                    raise ProtocolError(_("pas de réponse du terminal"))
                buffer += chunk
                fields_ = payment.parse_tlv(buffer)
                if fields_ is not None and "AE" in fields_:
                    break
            # TCP does not frame messages: what follows within a short quiet time is the same answer
            port.set_timeout(QUIET_TIME)
            while chunk := port.read_some():
                buffer += chunk
            fields_ = payment.parse_tlv(buffer)
            if fields_ is None:
                raise ProtocolError(f"truncated answer {buffer!r}")
            answer = payment.parse_caisse_ap_answer(fields_)
        except DeviceError as exc:
            raise PaymentUnknown(f"{exc.code}: {exc.detail}") from exc
        return result_of(answer, req)


CONCERT = ConcertTerminal()
CAISSE_AP = CaisseApTerminal()

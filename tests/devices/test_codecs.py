"""The codecs, byte for byte: golden bytes, round trips over French text, status bits, framing."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.devices.codecs import cd5220, escpos, fgl, payment, scanner
from plugins.devices.codecs import text as ctext
from plugins.devices.errors import ProtocolError

FRENCH = st.text(alphabet=st.sampled_from(list("abcdeéèêàçœ€’ ÉÇŒ0123456789,.-'")), max_size=40)


# --------------------------------------------------------------------------- ESC/POS


def test_escpos_receipt_golden_bytes():
    receipt = escpos.Receipt((escpos.Line("Théâtre", bold=True, width=2, height=2, align="center"),
                              escpos.Line("Total 12,50 €")), open_drawer=True)
    assert escpos.encode_receipt(receipt, "cp858") == (
        b"\x1b@\x1bt\x13"                      # init, code page 19 (CP858)
        b"\x1ba\x01\x1bE\x01\x1d!\x11"         # centred, bold, double width and height
        b"Th\x82\x83tre\n"                     # é = 0x82, â = 0x83 in CP858
        b"\x1ba\x00\x1bE\x00\x1d!\x00"
        b"Total 12,50 \xd5\n"                  # € = 0xD5 in CP858
        b"\x1bd\x06\x1dV\x00"                  # feed 6 lines, full cut
        b"\x1bp\x00\x32\x32")                  # drawer kick, pin 2, 100 ms


def test_escpos_cp1252_has_oe_euro_and_apostrophe():
    data = escpos.encode_receipt(escpos.Receipt((escpos.Line("l’œuvre 5 €"),), cut=False), "cp1252")
    assert data == b"\x1b@\x1bt\x10l\x92\x9cuvre 5 \x80\n"


def test_escpos_agrees_with_python_escpos():
    """python-escpos (a well-kept ESC/POS library, tests only) emits the same bytes for each command."""
    from escpos.printer import Dummy

    def reference(build):
        printer = Dummy()
        build(printer)
        return printer.output

    ours = escpos.encode_receipt(escpos.Receipt((escpos.Line("Théâtre 12,50 €"),), cut=False), "cp858")
    assert ours[2:] == reference(lambda p: (p.charcode("CP858"), p.text("Théâtre 12,50 €\n")))
    styled = escpos.encode_receipt(escpos.Receipt((escpos.Line("x", bold=True, width=2, height=2, align="center"),),
                                                  cut=False), "cp858")
    commands = reference(lambda p: p.set(align="center", bold=True, custom_size=True, width=2, height=2))
    for command in (b"\x1d!\x11", b"\x1bE\x01", b"\x1ba\x01"):  # the same three commands, any order
        assert command in commands and command in styled
    assert escpos.cut(6, partial=False) == reference(lambda p: p.cut())
    assert escpos.cut(6, partial=True) == reference(lambda p: p.cut(mode="PART"))
    assert escpos.drawer_kick(2) == reference(lambda p: p.cashdraw(2))
    assert escpos.drawer_kick(5) == reference(lambda p: p.cashdraw(5))
    assert escpos.status_request(1) == b"\x10\x04\x01"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(FRENCH, st.booleans(), st.integers(1, 8), st.integers(1, 8),
                          st.sampled_from(["left", "center", "right"])), max_size=6),
       st.sampled_from(["cp858", "cp1252"]))
def test_escpos_round_trip(lines, code_page):
    receipt = escpos.Receipt(tuple(escpos.Line(t, b, w, h, a) for t, b, w, h, a in lines))
    parsed = [e.line for e in escpos.parse(escpos.encode_receipt(receipt, code_page)) if e.kind == "text"]
    assert parsed == [escpos.Line(ctext.printable(l.text, code_page), l.bold, l.width, l.height, l.align)
                      for l in receipt.lines]
    if code_page == "cp1252":  # everything French fits in CP1252
        assert [p.text for p in parsed] == [l.text for l in receipt.lines]


def test_cp858_prints_oe_and_apostrophe_as_a_typist_would():
    assert ctext.printable("l’œuvre à 5 €", "cp858") == "l'oeuvre à 5 €"


def test_escpos_parser_takes_bytes_in_any_chunks():
    data = escpos.encode_receipt(escpos.Receipt((escpos.Line("Reçu", bold=True), escpos.Line("n° 42"))), "cp858")
    parser = escpos.Parser()
    elements = []
    for i in range(len(data)):
        elements += parser.feed(data[i:i + 1])
    assert [e.line.text for e in elements if e.kind == "text"] == ["Reçu", "n° 42"]
    assert [e.kind for e in elements][-1] == "cut"


@pytest.mark.parametrize("n,state,byte", [
    (1, {}, 0x16), (1, {"online": False}, 0x1E), (1, {"drawer_open": True}, 0x12),
    (2, {}, 0x12), (2, {"cover_open": True}, 0x56), (2, {"paper_out": True}, 0x32),
    (4, {}, 0x12), (4, {"paper_near_end": True}, 0x1E), (4, {"paper_out": True}, 0x7E),
])
def test_escpos_status_bits(n, state, byte):
    assert escpos.status_byte(n, **state) == byte
    parsed = escpos.parse_status(n, byte)
    for key, value in state.items():
        if key in parsed:
            assert parsed[key] == value


def test_escpos_merged_status_and_a_byte_that_is_no_status():
    status = escpos.merge_status({1: 0x16, 2: 0x12, 4: 0x1E})
    assert (status.online, status.cover_open, status.paper, status.drawer_open) == (True, False, "near_end", False)
    assert escpos.merge_status({4: 0x7E}).paper == "out"
    with pytest.raises(ProtocolError):
        escpos.parse_status(1, 0xFF)


# --------------------------------------------------------------------------- FGL


def test_fgl_ticket_golden_bytes():
    ticket = fgl.Ticket((fgl.Box(10, 10, 380, 1200), fgl.Text(40, 60, "Tosca — Opéra", font=3, height=2, width=2),
                         fgl.Barcode(200, 60, "9591234567", readable=True), fgl.QRCode(200, 900, "959-0001", size=6)))
    assert fgl.encode_ticket(ticket, "cp858") == (
        b"<RC10,10><LT2><BX380,1200>"
        b"<RC40,60><NR><F3><HW2,2>Tosca - Op\x82ra"
        b"<RC200,60><BI><X2><OP8>^9591234567^"
        b"<RC200,900><QR6>{959-0001}"
        b"<p>")


@settings(max_examples=60, deadline=None)
@given(st.lists(FRENCH, min_size=1, max_size=5), st.text(alphabet="0123456789ABCDEF", min_size=1, max_size=20))
def test_fgl_round_trip(texts, code):
    elements = [fgl.Text(30 * i, 40, t) for i, t in enumerate(texts) if t.strip()]
    elements += [fgl.Barcode(300, 40, code), fgl.QRCode(300, 800, "é" + code)]
    ticket = fgl.Ticket(tuple(elements))
    parsed = fgl.parse(fgl.encode_ticket(ticket, "cp858"))
    assert len(parsed) == 1
    expected = [fgl.Text(e.row, e.col, ctext.printable(e.text, "cp858").strip("\r\n")) if isinstance(e, fgl.Text)
                else e for e in elements]
    assert list(parsed[0].elements) == expected


def test_fgl_parser_split_reads_and_status_request():
    data = fgl.encode_ticket(fgl.Ticket((fgl.Text(1, 2, "Placement libre"), fgl.Barcode(5, 6, "12")))) + b"<S1>"
    parser = fgl.Parser()
    events = []
    for i in range(0, len(data), 3):
        events += parser.feed(data[i:i + 3])
    assert events[-1] == "status" and events[0].elements[0].text == "Placement libre"
    assert fgl.parse_status(0x10) == "paper_out" and fgl.parse_status(0x06) == "printed"
    with pytest.raises(ProtocolError):
        fgl.parse_status(0x7F)


# --------------------------------------------------------------------------- CD5220


def test_display_golden_bytes_and_state():
    data = cd5220.encode_show("Total", "12,50 €")
    assert data == (b"\x1b@\x1bt\x13\x0c\x1bQATotal               \r\x1bQB12,50 \xd5             \r")
    assert cd5220.Parser().feed(data) == ["Total".ljust(20), "12,50 €".ljust(20)]
    assert cd5220.two_columns("Reste dû", "8,00 €") == "Reste dû      8,00 €"


@given(FRENCH, FRENCH)
def test_display_round_trip(line1, line2):
    shown = cd5220.Parser().feed(cd5220.encode_show(line1, line2))
    assert shown == [cd5220.fit(ctext.printable(line1, "cp858")), cd5220.fit(ctext.printable(line2, "cp858"))]


# --------------------------------------------------------------------------- scanner


def test_scanner_framing_cr_crlf_aim_and_split_reads():
    decoder = scanner.Decoder()
    assert decoder.feed(b"]C0959000") == []
    assert decoder.feed(b"1\r") == [scanner.Scan("9590001", "code128")]
    assert decoder.feed(b"\n]E03760") == []  # the LF of a CRLF split over two reads is no empty scan
    assert decoder.feed(b"123456789\r\n4242\n") == [scanner.Scan("3760123456789", "ean"), scanner.Scan("4242")]
    assert scanner.encode_scan("12", "crlf", "]Q1") == b"]Q112\r\n"


@given(st.lists(st.text(alphabet="0123456789ABCXYZ-", min_size=1, max_size=30), max_size=8),
       st.sampled_from(["cr", "lf", "crlf"]), st.integers(1, 7))
def test_scanner_round_trip_in_any_chunks(codes, suffix, chunk):
    data = b"".join(scanner.encode_scan(c, suffix) for c in codes)
    decoder = scanner.Decoder()
    scans = []
    for i in range(0, len(data), chunk):
        scans += decoder.feed(data[i:i + chunk])
    assert [s.code for s in scans] == codes


# --------------------------------------------------------------------------- payment


def test_concert_request_golden_bytes_and_lrc():
    req = payment.PaymentRequest(Decimal("42.50"), "EUR", "card", "debit", "01", "J959")
    data = payment.encode_request(req)
    assert data == b"0100004250" b"1" b"1" b"0" b"978" b"J959      " b"A010" b"B010"
    framed = payment.frame(data)
    assert framed[0] == 0x02 and framed[-2] == 0x03
    expected_lrc = 0
    for b in data + b"\x03":
        expected_lrc ^= b
    assert framed[-1] == expected_lrc
    assert payment.parse_request(payment.unframe(framed)) == req
    with pytest.raises(payment.BadChecksum):
        payment.unframe(framed[:-1] + bytes([framed[-1] ^ 1]))


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999.99"), places=2),
       st.booleans(), st.sampled_from(["card", "cheque"]), st.text(alphabet="ABCDEF0123456789", max_size=10))
def test_concert_answer_round_trip(amount, accepted, mode, private):
    ans = payment.PaymentAnswer(accepted, amount, "EUR", mode, "01", private)
    assert payment.parse_answer(payment.unframe(payment.frame(payment.encode_answer(ans)))) == ans


def test_concert_refuses_what_it_cannot_say():
    with pytest.raises(ValueError):
        payment.encode_request(payment.PaymentRequest(Decimal("1.005")))
    with pytest.raises(ValueError):
        payment.encode_request(payment.PaymentRequest(Decimal("10"), currency="XXX"))
    with pytest.raises(ProtocolError):
        payment.parse_answer(b"01X00004250197800000000000")


def test_caisse_ap_fields():
    req = payment.PaymentRequest(Decimal("12.00"), kind="credit", private="R17")
    data = payment.encode_caisse_ap_request(req)
    assert data == b"CZ0040300CJ012012345678901CA00201CB0041200CD0011CE003978BA0010CF003R17"
    assert payment.parse_caisse_ap_request(payment.parse_tlv(data)) == req
    assert payment.parse_tlv(data[:-2]) is None  # incomplete: wait for more
    answer = payment.parse_caisse_ap_answer(payment.parse_tlv(payment.encode_caisse_ap_answer(req, False, reason="04")))
    assert (answer.accepted, answer.reason, answer.amount) == (False, "refused", Decimal("12.00"))

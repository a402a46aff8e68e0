"""SEPA direct debit: mandates checked (IBAN, BIC, unique reference), the pain.008 file of the
instalments due (schema-valid, read back), collected and failed instalments, a failed one presented
again or settled another way."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from lxml import etree
from sqlalchemy import select

from coulisses import ConflictError, InvalidError
from coulisses import files as cfiles
from plugins.waiting_account.models import Instalment
from plugins.waiting_account.services import accounts, schedule, sepa
from plugins.waiting_account.services.settlement import settle
from tests.waiting_account.conftest import sell_on_account

PAIN = "{urn:iso:std:iso:20022:tech:xsd:pain.008.001.02}"


@pytest.fixture
def mandate(db, structure, identity):
    sepa.set_creditor_id(db, "FR72ZZZ123456")
    m = sepa.create_mandate(db, structure, reference="UNIV-2015-001", signed_on=date(2015, 9, 1),
                            iban="FR76 3000 6000 0112 3456 7890 189", bic="AGRIFRPP", kind="RCUR")
    db.commit()
    return m


def test_a_mandate_refuses_a_wrong_iban_or_bic_and_a_reference_taken(db, structure, mandate):
    with pytest.raises(InvalidError) as err:
        sepa.create_mandate(db, structure, reference="X", signed_on=date(2015, 9, 1),
                            iban="FR76 3000 6000 0112 3456 7890 188", bic="AGRIFRP")
    assert set(err.value.fields) == {"iban", "bic"}
    with pytest.raises(ConflictError, match="UNIV-2015-001"):
        sepa.create_mandate(db, structure, reference="UNIV-2015-001", signed_on=date(2015, 9, 1),
                            iban="FR7630006000011234567890189", bic="AGRIFRPP")
    with pytest.raises(InvalidError):
        sepa.set_creditor_id(db, "FR73ZZZ123456")


def test_the_instalments_due_go_into_a_pain_008_file(db, catalogue, buyer, structure, mandate):
    order = sell_on_account(db, catalogue, buyer, structure, 3, mode="ATTENTE_SUIVI")  # 3 instalments
    db.commit()
    rows = schedule.schedule_of(db, order_id=order.id)
    batch = sepa.prepare_debit(db, rows[0]["due_date"])  # only the first is due
    db.commit()
    assert (batch.count, batch.total) == (1, rows[0]["amount"])
    xml = etree.fromstring(cfiles.read(db, batch.file_id))
    assert xml.findtext(f".//{PAIN}MndtId") == "UNIV-2015-001"
    assert xml.findtext(f".//{PAIN}SeqTp") == "FRST"
    assert xml.findtext(f".//{PAIN}InstdAmt") == str(rows[0]["amount"])
    assert xml.findtext(f".//{PAIN}CdtrSchmeId/{PAIN}Id/{PAIN}PrvtId/{PAIN}Othr/{PAIN}Id") == "FR72ZZZ123456"
    states = [i.state for i in db.scalars(select(Instalment).order_by(Instalment.id))]
    assert states == ["sent", "open", "open"]
    with pytest.raises(ConflictError, match="Aucune échéance"):
        sepa.prepare_debit(db, rows[0]["due_date"])  # nothing twice
    db.rollback()
    assert sepa.record_collected(db, batch) == 1
    db.commit()
    owed = accounts.balance(db, accounts.account_of(db, structure))
    assert owed == Decimal("330.00") - rows[0]["amount"]
    second = sepa.prepare_debit(db, rows[1]["due_date"])
    assert etree.fromstring(cfiles.read(db, second.file_id)).findtext(f".//{PAIN}SeqTp") == "RCUR"


def test_a_failed_instalment_is_presented_again_or_settled_another_way(db, catalogue, buyer, structure, mandate):
    sell_on_account(db, catalogue, buyer, structure, 1)
    due = schedule.schedule_of(db, account_id=accounts.account_of(db, structure).id)[0]
    batch = sepa.prepare_debit(db, due["due_date"] + timedelta(days=1))
    [instalment] = db.scalars(select(Instalment)).all()
    with pytest.raises(InvalidError):
        sepa.record_failed(db, instalment, " ")
    sepa.record_failed(db, instalment, "AM04 Provision insuffisante")
    assert sepa.record_collected(db, batch) == 0  # the failed one is not collected
    assert (instalment.state, instalment.return_reason) == ("failed", "AM04 Provision insuffisante")
    sepa.present_again(db, instalment)
    again = sepa.prepare_debit(db, due["due_date"] + timedelta(days=40))
    assert again.count == 1 and instalment.presentations == 2
    sepa.record_failed(db, instalment, "MS03 Raison non communiquée")
    settle(db, accounts.account_of(db, structure), "TRANSFER", "110.00", details={"transfer_reference": "VIR-88"},
           instalments=[instalment.id])
    db.commit()
    assert instalment.state == "paid"
    assert accounts.balance(db, accounts.account_of(db, structure)) == 0

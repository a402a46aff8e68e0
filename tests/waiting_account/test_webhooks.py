"""The waiting account's webhook events (issue 16): ``waiting_account.invoice.issued`` (invoices,
cancellation invoices, credit notes) and ``waiting_account.account.settled`` (a settlement with its
receipt, a direct debit collected), raised inside the business transaction, delivered signed to a
receiver after the commit, never for a transaction rolled back, listed in the change feed."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from coulisses import webhooks
from plugins.waiting_account.services import invoices, schedule, sepa
from plugins.waiting_account.services.accounts import account_of
from plugins.waiting_account.services.settlement import settle
from tests.waiting_account.conftest import sell_on_account
from tests.webhook_service import changes, received, run_outbox, uncommitted_rows, webhooks_for

ISSUED, SETTLED = "waiting_account.invoice.issued", "waiting_account.account.settled"
PLUGINS = ["waiting_account"]


def test_invoices_and_cancellations_are_told_after_the_commit(db, catalogue, buyer, structure, invoice_range, person):
    first, second = (sell_on_account(db, catalogue, buyer, structure, n) for n in (2, 1))
    db.commit()
    with webhooks_for(db, PLUGINS, [ISSUED]) as receiver:
        invoice = invoices.invoice_orders(db, structure, [first, second])
        assert receiver.requests == [] and changes(db, [ISSUED]) == []
        db.commit()
        run_outbox(db)
        [issued] = received(receiver)
        assert issued["event"] == ISSUED and issued["cursor"] >= 1
        assert issued["data"] == {
            "number": invoice.number, "kind": "invoice", "contact": structure.number,
            "orders": sorted([first.number, second.number]), "total": "330.00",
            "net_total": str(invoice.net_total), "vat_total": str(invoice.vat_total), "prepaid": "0.00",
            "issue_date": invoice.issue_date.isoformat(), "due_date": invoice.due_date.isoformat(), "cancels": None}
        other = person("Shapira", "Michel")
        from plugins.waiting_account.services.accounts import set_authorisation

        set_authorisation(db, other, authorised=True, ceiling="1000.00")
        cancellation, new = invoices.change_billing_contact(db, invoice, other)
        db.commit()
        run_outbox(db)
        later = [e["data"] for e in received(receiver)[1:]]
        assert [(d["number"], d["kind"], d["total"], d["cancels"], d["contact"]) for d in later] == [
            (cancellation.number, "cancellation", "-330.00", invoice.number, structure.number),
            (new.number, "invoice", "330.00", None, other.number)]
        assert [c.subject for c in changes(db, [ISSUED])] == [
            f"invoice:{invoice.number}", f"invoice:{cancellation.number}", f"invoice:{new.number}"]


def test_a_settlement_is_told_with_its_receipt_and_what_is_still_owed(db, catalogue, buyer, structure):
    sell_on_account(db, catalogue, buyer, structure, 2)  # 220,00 owed
    db.commit()
    with webhooks_for(db, PLUGINS, [SETTLED]) as receiver:
        account = account_of(db, structure)
        receipt = settle(db, account, "CHEQUE", "100.00", details={"cheque_number": "1234567", "bank": "LCL"})
        db.commit()
        second = settle(db, account, "TRANSFER", "150.00", details={"transfer_reference": "VIR-88"})
        db.commit()
        run_outbox(db)
        data = [e["data"] for e in received(receiver)]
        assert data == [
            {"contact": structure.number, "via": "settlement", "receipt": receipt.number, "mode": "CHEQUE",
             "amount": "100.00", "to_account": "100.00", "to_credit": "0.00", "balance": "120.00",
             "reference": "1234567 LCL"},
            {"contact": structure.number, "via": "settlement", "receipt": second.number, "mode": "TRANSFER",
             "amount": "150.00", "to_account": "120.00", "to_credit": "30.00", "balance": "0.00",
             "reference": "VIR-88"}]
        assert [c.event for c in changes(db, [SETTLED])] == [SETTLED, SETTLED]


def test_a_direct_debit_collected_is_told(db, catalogue, buyer, structure, identity):
    sepa.set_creditor_id(db, "FR72ZZZ123456")
    sepa.create_mandate(db, structure, reference="UNIV-2015-001", signed_on=date(2015, 9, 1),
                        iban="FR76 3000 6000 0112 3456 7890 189", bic="AGRIFRPP", kind="RCUR")
    order = sell_on_account(db, catalogue, buyer, structure, 3, mode="ATTENTE_SUIVI")  # 3 instalments
    db.commit()
    rows = schedule.schedule_of(db, order_id=order.id)
    batch = sepa.prepare_debit(db, rows[0]["due_date"])
    db.commit()
    with webhooks_for(db, PLUGINS, [SETTLED]) as receiver:
        assert sepa.record_collected(db, batch) == 1
        db.commit()
        run_outbox(db)
        [event] = received(receiver)
        first = f"{rows[0]['amount']:.2f}"
        assert event["data"] == {"contact": structure.number, "via": "direct_debit", "receipt": None, "mode": None,
                                 "amount": first, "to_account": first, "to_credit": "0.00",
                                 "balance": f"{330 - rows[0]['amount']:.2f}", "reference": batch.message_id}


@pytest.mark.parametrize("what", ["invoice", "settlement"])
def test_a_transaction_rolled_back_tells_nothing(db, catalogue, buyer, structure, invoice_range, what):
    order = sell_on_account(db, catalogue, buyer, structure, 1)
    db.commit()
    with webhooks_for(db, PLUGINS, [ISSUED, SETTLED]) as receiver:
        if what == "invoice":
            invoices.invoice_orders(db, structure, [order])
        else:
            settle(db, account_of(db, structure), "CHEQUE", "110.00", details={"cheque_number": "1", "bank": "LCL"})
        assert uncommitted_rows(db, [ISSUED, SETTLED]) == 1
        db.rollback()
        run_outbox(db)
        assert receiver.requests == [] and changes(db, [ISSUED, SETTLED]) == []
        assert db.scalars(select(webhooks.WebhookDelivery)).all() == []

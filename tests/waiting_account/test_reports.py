"""The follow-up reports: "Suivi des comptes d'attente" bounded by a minimum and a maximum
outstanding; "Liste des mouvements du compte d'attente" filtered by status, kind and contact; CSV
read back."""
import csv
import io

from plugins.reports.services.engine import render_bytes
from plugins.waiting_account.services import accounts
from plugins.waiting_account.services.settlement import settle
from tests.waiting_account.conftest import sell_on_account


def _csv(db, code, params):
    data, name, content_type = render_bytes(db, code, params, "csv", options={"separator": ";"})
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def test_follow_up_bounded_by_minimum_and_maximum(db, catalogue, buyer, structure, person):
    other = person("Shapira", "Michel")
    accounts.set_authorisation(db, other, authorised=True, ceiling="1000.00")
    sell_on_account(db, catalogue, buyer, structure, 3)  # 330,00
    sell_on_account(db, catalogue, buyer, other, 1)  # 110,00
    db.commit()
    rows = _csv(db, "waiting_account.follow_up", {"minimum": "200", "maximum": "400"})
    names = [r[0] for r in rows[1:] if r and r[0] and not r[0].startswith("Total")]
    assert any("UNIVERSITY PARIS" in n for n in names) and not any("SHAPIRA" in n.upper() for n in names)
    everything = _csv(db, "waiting_account.follow_up", {})
    assert sum(1 for r in everything[1:] if r and ("UNIVERSITY" in r[0] or "SHAPIRA" in r[0].upper())) == 2
    from plugins.reports.params import ParamsError

    try:
        _csv(db, "waiting_account.follow_up", {"minimum": "400", "maximum": "200"})
    except ParamsError as exc:
        assert "maximum" in exc.fields
    else:
        raise AssertionError("a maximum below the minimum is refused")


def test_movements_filtered_by_status_and_kind(db, catalogue, buyer, structure):
    first = sell_on_account(db, catalogue, buyer, structure, 1)
    sell_on_account(db, catalogue, buyer, structure, 2)
    settle(db, accounts.account_of(db, structure), "TRANSFER", "110.00", details={"transfer_reference": "VIR-1"})
    db.commit()
    settled = _csv(db, "waiting_account.movements", {"status": "settled"})
    orders = [r[3] for r in settled[1:] if len(r) > 3 and r[3].isdigit()]
    assert orders == [str(first.number)]
    open_ = _csv(db, "waiting_account.movements", {"status": "open"})
    assert [r[3] for r in open_[1:] if len(r) > 3 and r[3].isdigit()] == [str(first.number + 1)]
    settlements = _csv(db, "waiting_account.movements", {"kind": "settlement", "contact": str(structure.number)})
    assert any("VIR-1" in ";".join(r) for r in settlements)

"""Issue 14, acceptance: a 1,000-line file with 100 bad lines of ten kinds imports exactly the 900
good ones through the CLI, the API and the screen, and reports each of the 100 with its line and
reason (the same reading path in the service for all three)."""
from __future__ import annotations

import csv
import io
import re
from datetime import date

from click.testing import CliRunner
from sqlalchemy import func, select

from plugins.contacts.models import Contact
from tests.conftest import app_session, csrf_token_of

HEADER = "Civilité;Nom;Prénom;Mél;Téléphone portable;Date de naissance;Code postal;Ville;Pays"
FUTURE = f"01.01.{date.today().year + 5}"

# kind → (a bad line from a good line's values, the reason expected at its line)
BAD_KINDS = {
    "missing name": (lambda v: {**v, "name": ""}, "Nom : obligatoire"),
    "bad e-mail": (lambda v: {**v, "email": "pas-une-adresse@"}, "Mél :"),
    "bad postal code": (lambda v: {**v, "postal": "75O12"}, "Code postal :"),
    "bad or future date": (lambda v: {**v, "birth": FUTURE if v["i"] // 100 % 2 else "31.02.1990"}, "Date de naissance :"),
    "too many columns": (lambda v: {**v, "extra": ";en trop;encore"}, "colonnes pour 9 en-têtes"),
    "latin-1 line": (lambda v: {**v, "name": "MÉNARD", "latin1": True}, "ligne illisible"),
    "repeated header": (lambda v: {**v, "header": True}, "en-tête répété"),
    "bad phone": (lambda v: {**v, "mobile": "12"}, "Téléphone portable :"),
    "unknown civility": (lambda v: {**v, "civility": "Capitaine"}, "Civilité :"),
    "unknown country": (lambda v: {**v, "country": "Atlantide"}, "Pays inconnu"),
}
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _name(i: int) -> str:
    return "NOM" + LETTERS[i // 676 % 26] + LETTERS[i // 26 % 26] + LETTERS[i % 26]


def make_file() -> tuple[bytes, dict[int, str]]:
    """The file (1 header + 1,000 lines) and the expected reason of each bad line, by line number."""
    out = [(HEADER + "\n").encode()]
    expected: dict[int, str] = {}
    kinds = list(BAD_KINDS.values())
    for i in range(1000):
        line = i + 2
        v = {"i": i, "civility": "Mme" if i % 2 else "M", "name": _name(i), "first": "Chantal", "email": f"c{i}@example.org",
             "mobile": "06 12 34 56 78", "birth": "08.07.1970", "postal": "75012", "city": "Paris", "country": "FR",
             "extra": ""}
        if i % 10 == 5:
            make, reason = kinds[(i // 10) % 10]
            v = make(v)
            expected[line] = reason
        if v.get("header"):
            text = HEADER + "\n"
        else:
            text = (f"{v['civility']};{v['name']};{v['first']};{v['email']};{v['mobile']};{v['birth']};"
                    f"{v['postal']};{v['city']};{v['country']}{v['extra']}\n")
        out.append(text.encode("latin-1" if v.get("latin1") else "utf-8"))
    assert len(expected) == 100
    return b"".join(out), expected


def _check(reasons: dict[int, str], expected: dict[int, str]) -> None:
    assert set(reasons) == set(expected)
    for line, reason in expected.items():
        assert reason in reasons[line], (line, reason, reasons[line])


def _count(app) -> int:
    with app_session(app) as s:
        return s.scalar(select(func.count()).select_from(Contact))


def test_the_file_has_ten_kinds_of_ten_bad_lines():
    data, expected = make_file()
    assert data.count(b"\n") == 1001
    assert sorted({r for r in expected.values()}) == sorted(r for _m, r in BAD_KINDS.values())


def test_acceptance_through_the_cli(app, database_url, tmp_path):
    from coulisses.cli import main

    data, expected = make_file()
    path = tmp_path / "contacts.csv"
    path.write_bytes(data)
    rejects = tmp_path / "rejets.csv"
    env = {"COULISSES_DATABASE_URL": database_url, "COULISSES_PLUGINS": "contacts", "COULISSES_ENV": "development",
           "COULISSES_INSTANCE_PATH": str(app.instance_path)}
    result = CliRunner().invoke(main, ["contacts", "import", str(path), "--rejects", str(rejects)], env=env)
    assert result.exit_code == 0, result.output
    assert "Lignes lues : 1000" in result.output.replace("\u202f", "").replace("\xa0", "").replace(" ", " ")
    assert "Contacts importés : 900" in result.output and "Lignes rejetées : 100" in result.output
    rows = list(csv.reader(io.StringIO(rejects.read_text(encoding="utf-8")), delimiter=";"))[1:]
    reasons = {}
    for row in rows:
        m = re.match(r"ligne (\d+) : (.*)", row[-1], re.S)
        reasons[int(m.group(1))] = m.group(2)
    _check(reasons, expected)
    assert _count(app) == 900


def test_acceptance_through_the_api(app, api):
    data, expected = make_file()
    response = api("supervisor").post("/api/v1/contacts/import", data={"file": (io.BytesIO(data), "contacts.csv")})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["total"], body["imported"], body["rejected"]) == (1000, 900, 100)
    _check({r["line"]: r["reason"] for r in body["rejects"]}, expected)
    assert _count(app) == 900


def test_acceptance_through_the_screen(app, make_operator, client_for):
    data, expected = make_file()
    make_operator("chef", roles=["supervisor"])
    client = client_for("chef")
    token = csrf_token_of(client.get("/admin/contacts/import/").get_data(as_text=True))
    sent = client.post("/admin/contacts/import/", data={"csrf_token": token, "file": (io.BytesIO(data), "contacts.csv")},
                       content_type="multipart/form-data")
    assert sent.status_code == 302
    preview = client.get(sent.headers["Location"]).get_data(as_text=True)
    mapping = {f"map_{i}": f for i, f in enumerate(
        ["civility", "last_name", "first_name", "email", "mobile_phone", "birth_date", "postal_code", "city", "country"])}
    for f in mapping.values():
        assert f'<option value="{f}" selected' in preview, f
    run_url = sent.headers["Location"].rstrip("/") + "/run"
    done = client.post(run_url, data={"csrf_token": token, "action": "import", **mapping}).get_data(as_text=True)
    assert 'data-testid="imported">900<' in done and 'data-testid="rejected">100<' in done
    table = done.split('data-testid="rejects-table"')[1]
    shown = dict(re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td>", table))
    import html

    _check({int(k): html.unescape(v) for k, v in shown.items()}, expected)
    rejects = client.get(sent.headers["Location"].rstrip("/") + "/rejets.csv").get_data(as_text=True)
    assert len(rejects.lstrip("\ufeff").splitlines()) == 101
    assert _count(app) == 900

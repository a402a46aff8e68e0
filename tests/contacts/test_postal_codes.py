"""Issue 14: typing a French postal code proposes its cities, from the reference list shipped with the
plugin (INSEE / DGFiP data, Licence Ouverte; nothing fetched at run time): the service and the JSON
endpoint the address fields' combobox calls."""
import gzip
from importlib import resources

import pytest

from plugins.contacts.services.postal_codes import cities_for


def test_the_seed_s_postal_code_proposes_its_cities():
    cities, more = cities_for("07000")
    assert more is False
    assert "07000 FREYSSENET" in [c.label for c in cities]  # contact 17's city in the seed
    assert {c.city for c in cities} >= {"PRIVAS", "FREYSSENET", "VEYRAS"}
    assert all(c.postal_code == "07000" for c in cities)
    assert [c.name for c in cities] == sorted(c.name for c in cities)


def test_the_city_is_la_poste_s_line_and_the_label_names_the_commune_when_it_differs():
    [paris] = cities_for("75012")[0]
    assert (paris.city, paris.name, paris.label) == ("PARIS", "Paris 12e Arrondissement",
                                                      "75012 PARIS (Paris 12e Arrondissement)")
    assert cities_for("07 000")[0] == cities_for("07000")[0]  # spaces typed in the code are ignored


def test_a_prefix_lists_at_most_limit_cities_and_says_when_there_are_more():
    cities, more = cities_for("75", limit=15)
    assert len(cities) == 15 and more is True
    assert all(c.postal_code.startswith("75") for c in cities)
    assert [c.postal_code for c in cities] == sorted(c.postal_code for c in cities)
    everything, more = cities_for("750", limit=100)
    assert more is False
    assert {c.postal_code for c in everything} >= {f"750{i:02d}" for i in range(1, 21)}  # Paris 1er … 20e


@pytest.mark.parametrize("q, country", [("1204", "CH"), ("7", "FR"), ("abc", "FR"), ("070000", "FR"), ("", "FR")])
def test_nothing_is_proposed_outside_france_or_for_what_is_not_a_postal_code(q, country):
    assert cities_for(q, country=country) == ([], False)


def test_overseas_departments_are_in_the_list():
    assert any(c.city == "SAINT DENIS" or c.name == "Saint-Denis" for c in cities_for("97400")[0])


def test_the_reference_file_is_shipped_with_the_plugin_and_credited():
    data = resources.files("plugins.contacts.data")
    lines = gzip.decompress(data.joinpath("fr_postal_codes.csv.gz").read_bytes()).decode("utf-8").splitlines()
    assert lines[0] == "code_postal;code_commune;nom_commune;libelle_acheminement"
    assert len(lines) > 35_000
    readme = data.joinpath("README.md").read_text(encoding="utf-8")
    assert "Licence Ouverte" in readme and "INSEE" in readme


def test_the_endpoint_gives_the_cities_as_json(api):
    op = api("readonly")
    body = op.get("/api/v1/contacts/postal-codes?q=07000").get_json()
    assert body["has_more"] is False
    freyssenet = next(i for i in body["items"] if i["city"] == "FREYSSENET")
    assert freyssenet == {"postal_code": "07000", "city": "FREYSSENET", "name": "Freyssenet",
                          "commune_code": "07092", "label": "07000 FREYSSENET"}
    body = op.get("/api/v1/contacts/postal-codes?q=75&limit=5").get_json()
    assert len(body["items"]) == 5 and body["has_more"] is True
    assert op.get("/api/v1/contacts/postal-codes?q=1204&country=CH").get_json() == {"items": [], "has_more": False}
    response = op.get("/api/v1/contacts/postal-codes")
    assert response.status_code == 422 and "q" in response.get_json()["error"]["fields"]


def test_the_endpoint_needs_a_login(app):
    assert app.test_client().get("/api/v1/contacts/postal-codes?q=07000").status_code == 401

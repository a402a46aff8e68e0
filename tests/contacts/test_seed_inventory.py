"""docs/contacts.md lists every element of the seeds with the tests that cover it: keep it true.

The table under "## Seed inventory" has one row per seed element; its last column names tests as
``path/to/test_file.py::test_function``. This test fails when a named file or test function no longer
exists, when a row names no test, when a row points to a gap that the "## Gaps" section does not
describe, or when an element of the seeds drops out of the table.
"""
from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "contacts.md"
TEST_REF = re.compile(r"((?:tests|examples)/[\w/.-]+\.py)::(\w+(?:::\w+)?)")

# Elements of the three seeds that must each have a row (matched in the "Seed element" column,
# case-insensitively): the types, the roles, the tabs, the side menus, the histories, the search tips,
# the advanced-search fields, the actions and columns, the quick-creation fields and exits.
SEED_ELEMENTS = [
    "Individuel : personne physique", "Structure : personne morale", "Guide", "Fournisseur", "Partenaire",
    "Producteur", "Support",
    "Individuel public", "enfant d'un individuel parent", "relais d'une structure", "membre d'une structure",
    "Structure publique", "Structure filiale",
    "Client ou prospect", "imports de fichiers externes", "contexte Organisme",
    "Contact > 17 Monsieur Michel SHAPIRA (Client)",
    "Résumé", "Général", "Marketing", "Gestion", "Notes", "Administration",
    "Langue de communication", "compte internet", "date de dernière mise à jour", "opérateur de dernière mise à jour",
    "GÉNÉRER MOT DE PASSE", "adresse principale", "alertes marketing",
    "Menu Adresse", "Menu Indicateurs", "Menu Places préférées", "Menu Critères",
    "Assiduité", "Ancienneté", "Adhérent", "PMG", "Abonné", "Produit Enfant", "Filière utilisée",
    "Recalcul à chaque modification", "Recalcul nocturne",
    "Liste des envois billetterie", "Historique d'achat", "Historique culturel", "Historique financier",
    "Recherche par type de contact", "Recherche rapide par nom, prénom, numéro de contact ou email",
    "complétion automatique", "ni casse ni accents", "* joker", "« Nom, Prénom »",
    "DUPONT, Chantal \\| FR-75012 [7611]", "Créer un nouveau contact", "Recherche dans le panier", "Avancé <<<",
    "avancé Nom", "Numéro de contact", "avancé Relais", "Nature", "Téléphone +33 (FR)", "avancé Mél",
    "Pays (Tous)", "avancé Code postal", "avancé Ville", "Avec contacts non valides", "Avec contacts prospects",
    "Avec contacts relais", "Numéro administratif de structure", "Critère contact", "IBAN", "Code référence",
    "Connexion de type", "ambassadeur", "RECHERCHER, EFFACER",
    "NR, RÔLE, NOM, CONTACT RELAIS, VILLE, ADRESSE", "+ NOUVEAU", "− SUPPRIMER", "+ NOUVEAU RELAIS",
    "✎ CHANGER MOT DE PASSE",
    "Création rapide affichée par défaut", "Civilité *", "Nom *", "Prénom *", "Création : Téléphone portable",
    "Création : Mél", "Créer un compte internet", "Structure — Sélectionner", "Structure — NOUVEAU",
    "Utilisez l'adresse de la structure", "Pays *", "Code postal *", "Ville *", "Adresse (trois lignes)",
    "Département, Région",
    "valider la fiche", "annuler sans créer", "accéder à la fiche complète",
    "AKOKA Viviane 15",
]


def _table_rows() -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Seed inventory", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if not line.startswith("| ") or line.startswith("| #") or set(line) <= {"|", "-", " "}:
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        rows.append(cells)
    return rows


def _gaps() -> str:
    return DOC.read_text(encoding="utf-8").split("\n## Gaps", 1)[1]


@lru_cache(maxsize=None)
def _test_names(path: str) -> set[str]:
    """Module-level test functions as "name", and test methods as "Class::name"."""
    tree = ast.parse((REPO / path).read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.update(f"{node.name}::{item.name}" for item in node.body
                         if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return names


ROWS = _table_rows()


def test_the_inventory_table_is_there_and_numbered():
    assert len(ROWS) >= 120, f"only {len(ROWS)} rows in the seed inventory of {DOC}"
    assert all(len(row) == 4 for row in ROWS), [row for row in ROWS if len(row) != 4]
    assert [int(row[0]) for row in ROWS] == list(range(1, len(ROWS) + 1))


@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row[0]}")
def test_every_row_names_tests_that_exist(row):
    number, element, where, tests = row
    assert where, f"row {number} ({element}) says nowhere where it lives"
    refs = TEST_REF.findall(tests)
    assert refs, f"row {number} ({element}) names no test"
    for path, name in refs:
        assert (REPO / path).is_file(), f"row {number}: {path} does not exist"
        assert name.split("::")[-1].startswith("test_"), f"row {number}: {name} is not a test"
        assert name in _test_names(path), f"row {number}: {path} has no test {name}"
    # every reference in the cell was understood (no typo hiding as free text)
    leftover = TEST_REF.sub("", tests).replace(",", "").strip()
    assert leftover == "", f"row {number}: not a test reference: {leftover!r}"


def test_every_gap_a_row_points_to_is_described():
    gaps = _gaps()
    for number, element, where, _tests in ROWS:
        for gap in re.findall(r"\[(G\d+)\]\(#gaps\)", where):
            assert f"**{gap} —" in gaps, f"row {number} points to {gap}, which the Gaps section does not describe"


@pytest.mark.parametrize("element", SEED_ELEMENTS)
def test_every_seed_element_has_a_row(element):
    wanted = element.replace("\\|", "|").lower()
    assert any(wanted in row[1].replace("\\|", "|").lower() for row in ROWS), \
        f"the seed element {element!r} has no row in the seed inventory of docs/contacts.md"

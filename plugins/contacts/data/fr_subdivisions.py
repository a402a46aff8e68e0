"""France's departments and regions (ISO 3166-2:FR), for the address fields *Département* and *Région*.

The 101 departments (96 metropolitan, 2A/2B for Corsica, and the five overseas departments) and the
18 regions (13 metropolitan, 5 overseas). Addresses store the **name** (``Address.department`` and
``Address.region`` are free text, 80 characters, and imports and older records hold names such as
"Paris" or "Île-de-France"); the lists show "75 — Paris". For a country other than France both stay
free text.
"""
from __future__ import annotations

import unicodedata

# ISO 3166-2:FR region code, name
REGIONS: tuple[tuple[str, str], ...] = (
    ("ARA", "Auvergne-Rhône-Alpes"),
    ("BFC", "Bourgogne-Franche-Comté"),
    ("BRE", "Bretagne"),
    ("CVL", "Centre-Val de Loire"),
    ("20R", "Corse"),
    ("GES", "Grand Est"),
    ("HDF", "Hauts-de-France"),
    ("IDF", "Île-de-France"),
    ("NOR", "Normandie"),
    ("NAQ", "Nouvelle-Aquitaine"),
    ("OCC", "Occitanie"),
    ("PDL", "Pays de la Loire"),
    ("PAC", "Provence-Alpes-Côte d'Azur"),
    ("971", "Guadeloupe"),
    ("972", "Martinique"),
    ("973", "Guyane"),
    ("974", "La Réunion"),
    ("976", "Mayotte"),
)

# ISO 3166-2:FR department code, name, code of its region
DEPARTMENTS: tuple[tuple[str, str, str], ...] = (
    ("01", "Ain", "ARA"),
    ("02", "Aisne", "HDF"),
    ("03", "Allier", "ARA"),
    ("04", "Alpes-de-Haute-Provence", "PAC"),
    ("05", "Hautes-Alpes", "PAC"),
    ("06", "Alpes-Maritimes", "PAC"),
    ("07", "Ardèche", "ARA"),
    ("08", "Ardennes", "GES"),
    ("09", "Ariège", "OCC"),
    ("10", "Aube", "GES"),
    ("11", "Aude", "OCC"),
    ("12", "Aveyron", "OCC"),
    ("13", "Bouches-du-Rhône", "PAC"),
    ("14", "Calvados", "NOR"),
    ("15", "Cantal", "ARA"),
    ("16", "Charente", "NAQ"),
    ("17", "Charente-Maritime", "NAQ"),
    ("18", "Cher", "CVL"),
    ("19", "Corrèze", "NAQ"),
    ("2A", "Corse-du-Sud", "20R"),
    ("2B", "Haute-Corse", "20R"),
    ("21", "Côte-d'Or", "BFC"),
    ("22", "Côtes-d'Armor", "BRE"),
    ("23", "Creuse", "NAQ"),
    ("24", "Dordogne", "NAQ"),
    ("25", "Doubs", "BFC"),
    ("26", "Drôme", "ARA"),
    ("27", "Eure", "NOR"),
    ("28", "Eure-et-Loir", "CVL"),
    ("29", "Finistère", "BRE"),
    ("30", "Gard", "OCC"),
    ("31", "Haute-Garonne", "OCC"),
    ("32", "Gers", "OCC"),
    ("33", "Gironde", "NAQ"),
    ("34", "Hérault", "OCC"),
    ("35", "Ille-et-Vilaine", "BRE"),
    ("36", "Indre", "CVL"),
    ("37", "Indre-et-Loire", "CVL"),
    ("38", "Isère", "ARA"),
    ("39", "Jura", "BFC"),
    ("40", "Landes", "NAQ"),
    ("41", "Loir-et-Cher", "CVL"),
    ("42", "Loire", "ARA"),
    ("43", "Haute-Loire", "ARA"),
    ("44", "Loire-Atlantique", "PDL"),
    ("45", "Loiret", "CVL"),
    ("46", "Lot", "OCC"),
    ("47", "Lot-et-Garonne", "NAQ"),
    ("48", "Lozère", "OCC"),
    ("49", "Maine-et-Loire", "PDL"),
    ("50", "Manche", "NOR"),
    ("51", "Marne", "GES"),
    ("52", "Haute-Marne", "GES"),
    ("53", "Mayenne", "PDL"),
    ("54", "Meurthe-et-Moselle", "GES"),
    ("55", "Meuse", "GES"),
    ("56", "Morbihan", "BRE"),
    ("57", "Moselle", "GES"),
    ("58", "Nièvre", "BFC"),
    ("59", "Nord", "HDF"),
    ("60", "Oise", "HDF"),
    ("61", "Orne", "NOR"),
    ("62", "Pas-de-Calais", "HDF"),
    ("63", "Puy-de-Dôme", "ARA"),
    ("64", "Pyrénées-Atlantiques", "NAQ"),
    ("65", "Hautes-Pyrénées", "OCC"),
    ("66", "Pyrénées-Orientales", "OCC"),
    ("67", "Bas-Rhin", "GES"),
    ("68", "Haut-Rhin", "GES"),
    ("69", "Rhône", "ARA"),
    ("70", "Haute-Saône", "BFC"),
    ("71", "Saône-et-Loire", "BFC"),
    ("72", "Sarthe", "PDL"),
    ("73", "Savoie", "ARA"),
    ("74", "Haute-Savoie", "ARA"),
    ("75", "Paris", "IDF"),
    ("76", "Seine-Maritime", "NOR"),
    ("77", "Seine-et-Marne", "IDF"),
    ("78", "Yvelines", "IDF"),
    ("79", "Deux-Sèvres", "NAQ"),
    ("80", "Somme", "HDF"),
    ("81", "Tarn", "OCC"),
    ("82", "Tarn-et-Garonne", "OCC"),
    ("83", "Var", "PAC"),
    ("84", "Vaucluse", "PAC"),
    ("85", "Vendée", "PDL"),
    ("86", "Vienne", "NAQ"),
    ("87", "Haute-Vienne", "NAQ"),
    ("88", "Vosges", "GES"),
    ("89", "Yonne", "BFC"),
    ("90", "Territoire de Belfort", "BFC"),
    ("91", "Essonne", "IDF"),
    ("92", "Hauts-de-Seine", "IDF"),
    ("93", "Seine-Saint-Denis", "IDF"),
    ("94", "Val-de-Marne", "IDF"),
    ("95", "Val-d'Oise", "IDF"),
    ("971", "Guadeloupe", "971"),
    ("972", "Martinique", "972"),
    ("973", "Guyane", "973"),
    ("974", "La Réunion", "974"),
    ("976", "Mayotte", "976"),
)


def _key(text: str) -> str:
    """Case-, accent-, dash- and apostrophe-insensitive key: "cote d or" == "Côte-d'Or"."""
    text = unicodedata.normalize("NFKD", text.strip().lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    for ch in "-'’_":
        text = text.replace(ch, " ")
    return " ".join(text.split())


_DEPT_BY_KEY = {**{_key(name): name for _c, name, _r in DEPARTMENTS},
                **{_key(code): name for code, name, _r in DEPARTMENTS}}
_REGION_BY_KEY = {**{_key(name): name for _c, name in REGIONS}, **{_key(code): name for code, name in REGIONS}}
_REGION_NAME = dict(REGIONS)


def department_choices() -> list[tuple[str, str]]:
    """(stored value, label) for a select: ("Paris", "75 — Paris")."""
    return [(name, f"{code} — {name}") for code, name, _r in DEPARTMENTS]


def region_choices() -> list[tuple[str, str]]:
    return [(name, name) for _code, name in sorted(REGIONS, key=lambda r: _key(r[1]))]


def department_name(value: str | None) -> str | None:
    """The department's name for a code ("2A", "75", "7" for "07"), a name or a near spelling; None if unknown."""
    if not value:
        return None
    key = _key(str(value))
    if key.isdigit() and len(key) == 1:
        key = "0" + key
    return _DEPT_BY_KEY.get(key)


def region_name(value: str | None) -> str | None:
    """The region's name for an ISO code ("IDF") or a name; None if unknown."""
    if not value:
        return None
    return _REGION_BY_KEY.get(_key(str(value)))


def region_of_department(department: str | None) -> str | None:
    """The region's name of a department (code or name)."""
    name = department_name(department)
    for _code, dname, region in DEPARTMENTS:
        if dname == name:
            return _REGION_NAME[region]
    return None

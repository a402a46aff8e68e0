"""The cities of a French postal code, from the reference file shipped with the plugin
(``plugins/contacts/data/fr_postal_codes.csv.gz``, see the README beside it: INSEE and DGFiP data
under the Licence Ouverte; nothing is fetched at run time).

``cities_for("07000")`` → Ajoux, Coux, …, Freyssenet, …, Privas; ``cities_for("070")`` the same
for every postal code starting with "070" (at most ``limit``, and whether there are more). A
``PostalCity``'s ``city`` is La Poste's *libellé d'acheminement* ("PARIS" for 75012, "FREYSSENET"),
what an address shows; ``name`` the commune's name ("Paris 12e Arrondissement", "Freyssenet").
Only France (``FR`` and its overseas departments, whose codes the file holds) has a list; for any
other country nothing is proposed.
"""
from __future__ import annotations

import bisect
import csv
import gzip
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

COUNTRIES = ("FR", "GP", "MQ", "GF", "RE", "YT")  # France and its overseas departments (their codes are French)
MAX_LIMIT = 100


@dataclass(frozen=True)
class PostalCity:
    postal_code: str
    commune_code: str
    name: str
    city: str

    @property
    def label(self) -> str:
        """``07000 FREYSSENET``; ``75012 PARIS (Paris 12e Arrondissement)`` when the commune's name
        says more than the postal line."""
        from unidecode import unidecode

        plain = unidecode(self.name).upper().replace("-", " ").replace("'", " ")
        if plain == self.city.replace("-", " ").replace("'", " "):
            return f"{self.postal_code} {self.city}"
        return f"{self.postal_code} {self.city} ({self.name})"


@lru_cache(maxsize=1)
def _table() -> tuple[list[str], list[PostalCity]]:
    """Every row, sorted by postal code then commune name, and the postal codes (for bisect)."""
    raw = resources.files("plugins.contacts.data").joinpath("fr_postal_codes.csv.gz").read_bytes()
    reader = csv.DictReader(io.StringIO(gzip.decompress(raw).decode("utf-8")), delimiter=";")
    rows = sorted((PostalCity(r["code_postal"], r["code_commune"], r["nom_commune"], r["libelle_acheminement"])
                   for r in reader), key=lambda c: (c.postal_code, c.name))
    return [c.postal_code for c in rows], rows


def cities_for(prefix: str, *, country: str | None = "FR", limit: int = 15) -> tuple[list[PostalCity], bool]:
    """The cities whose postal code starts with ``prefix`` (digits; spaces ignored: "07 000"), at most
    ``limit``, and whether there are more. Nothing for a country without a list or a prefix that is
    not 2 to 5 digits."""
    code = "".join(str(prefix or "").split())
    if (country or "FR").upper() not in COUNTRIES or not code.isdigit() or not 2 <= len(code) <= 5:
        return [], False
    limit = max(1, min(int(limit), MAX_LIMIT))
    codes, rows = _table()
    start = bisect.bisect_left(codes, code)
    found = []
    for i in range(start, len(rows)):
        if not codes[i].startswith(code):
            break
        if len(found) == limit:
            return found, True
        found.append(rows[i])
    return found, False


"""The demo's fixed data: sizes, the seed's numbers and moments, operators, categories, audiences,
tariffs and the seasons' events (see the package docstring, ``plugins.sales.demo``)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

SIZES = {"small": 40, "normal": 2_000, "large": 30_000}
HORIZON_MONTHS = 9  # the demo's programme goes on at least this long after its "today" (next seasons added)
PARIS = ZoneInfo("Europe/Paris")
SEED = 20150928

SEED_ORDER_NUMBER = 959
SEED_OPERATION_NUMBER = 1271  # the seed's cancellation basket of order 959 ("Ordre 1271"): the demo's first operation
SEED_BARCODE_PAYLOAD = 101000274  # kept for compatibility: the payload of the seed's first barcode
SEED_ORDER_AT = datetime(2015, 9, 28, 17, 3, tzinfo=PARIS)
SEED_PERFORMANCE_AT = datetime(2015, 11, 2, 20, 15, tzinfo=PARIS)
# The Balcon seats of the seed's order 959, in the seed's order (20 shown; 22 tickets: two more).
SEED_SEATS = ["51S", "1", "3", "17", "19", "21", "23", "24", "22", "20", "18", "16", "14", "12", "10", "8",
              "53S", "31", "33", "42", "35", "37"]
# Their barcodes, as the seed prints them (01010002727 … 01010002748, issued by another system: our
# check digit does not guard them, look-ups find them all the same). The seed prints 01010002746 for
# both seats 1 and 3 (a barcode is unique): seat 3 takes 01010002740, the one of the range the seed
# does not show; the two tickets the seed does not show (35, 37) take 01010002727 and 01010002738.
SEED_BARCODES = ["01010002748", "01010002746", "01010002740", "01010002743", "01010002742", "01010002741",
                 "01010002739", "01010002737", "01010002736", "01010002734", "01010002733", "01010002732",
                 "01010002731", "01010002730", "01010002729", "01010002728", "01010002744", "01010002745",
                 "01010002747", "01010002735", "01010002727", "01010002738"]
OPERATORS = (("STX_BDD", "Guichet - Sophie Tixier"), ("GUICHET_2", "Guichet - Marc Lemoine"),
             ("CUBE_B2C_S", "Canal B2C (ventes internet)"))

CATEGORIES = (("CAT1", "Cat 1"), ("CAT2", "Cat 2"), ("CAT3", "Cat 3"))
AUDIENCES = (("OCC", "Contact occasionnel"), ("ABO", "Abonné"), ("SCOL", "Groupe scolaire"))
# code, label, audience, share of the full price (None: fixed amount)
TARIFFS = (("PLEIN", "Plein tarif", "OCC", Decimal("1")),
           ("REDUIT", "Tarif réduit", "OCC", Decimal("0.7")),
           ("ENFANT", "Enfant (-12 ans)", "OCC", Decimal("0.5")),
           ("ABONNE", "Tarif abonné", "ABO", Decimal("0.85")),
           ("SCOLAIRE", "Tarif scolaire", "SCOL", None))
TARIFF_WEIGHTS = {"PLEIN": 60, "REDUIT": 18, "ENFANT": 8, "ABONNE": 12, "SCOLAIRE": 2}
SCHOOL_PRICE = Decimal("12.00")

# Events: code, title, venue ("GRANDE_SALLE" seated / "STUDIO" unseated), Cat 1/2/3 full prices,
# for children, performance hours (local) — one list per season kind.
SEASON_2015 = [
    ("JOYAUX", "Joyaux", "GRANDE_SALLE", ("110.00", "60.00", "35.00"), False,
     [(2015, 10, 30, 20, 0), (2015, 10, 31, 20, 0), (2015, 11, 1, 15, 0), (2015, 11, 2, 20, 15)]),
    ("CARMINA", "Carmina Burana", "GRANDE_SALLE", ("60.00", "45.00", "25.00"), False,
     [(2015, 10, 24, 20, 0), (2015, 10, 26, 19, 30)]),
    ("CASSE_NOISETTE", "Casse-Noisette", "GRANDE_SALLE", ("95.00", "70.00", "40.00"), True,
     [(2015, 12, 19, 15, 0), (2015, 12, 20, 15, 0), (2015, 12, 22, 20, 0)]),
    ("JAZZ_STUDIO", "Jazz au Studio", "STUDIO", ("28.00", "20.00", None), False,
     [(2016, 1, 15, 21, 0), (2016, 3, 11, 21, 0)]),
    ("PIERRE_LOUP", "Pierre et le loup", "STUDIO", ("18.00", "12.00", None), True,
     [(2016, 2, 17, 15, 0), (2016, 2, 20, 11, 0)]),
]
# For the previous and the current season: (code suffix, title, venue, prices, children, month offsets
# from September, day, hour, minute).
SEASON_TEMPLATE = [
    ("LAC", "Le Lac des cygnes", "GRANDE_SALLE", ("120.00", "85.00", "45.00"), False,
     [(1, 10, 20, 0), (1, 11, 20, 0), (1, 12, 15, 0)]),
    ("FLUTE", "La Flûte enchantée", "GRANDE_SALLE", ("130.00", "90.00", "50.00"), False,
     [(2, 14, 19, 30), (2, 16, 19, 30), (4, 6, 19, 30)]),
    ("DON_GIOVANNI", "Don Giovanni", "GRANDE_SALLE", ("140.00", "95.00", "55.00"), False,
     [(3, 8, 19, 30), (5, 21, 19, 30), (7, 3, 19, 30)]),
    ("CASSE_NOISETTE", "Casse-Noisette", "GRANDE_SALLE", ("95.00", "70.00", "40.00"), True,
     [(3, 20, 15, 0), (3, 21, 15, 0), (3, 23, 20, 0)]),
    ("QUATUOR", "Quatuor Ébène", "STUDIO", ("32.00", "22.00", None), False,
     [(0, 25, 20, 30), (2, 28, 20, 30), (6, 12, 20, 30)]),
    ("PIERRE_LOUP", "Pierre et le loup", "STUDIO", ("18.00", "12.00", None), True,
     [(2, 5, 15, 0), (5, 18, 11, 0), (8, 10, 15, 0)]),
    ("JAZZ_STUDIO", "Jazz au Studio", "STUDIO", ("28.00", "20.00", None), False,
     [(1, 30, 21, 0), (4, 15, 21, 0), (7, 24, 21, 0), (9, 5, 21, 0)]),
]

"""Demo data of the contacts plugin (host hook ``coulisses_demo_data``) and the generator the
benchmark reuses.

- The seeds' contacts, with their numbers: Monsieur Michel SHAPIRA [17] and his sheet (birth date,
  e-mail, internet account last updated 21.09.2015 08:36 by CUBE_B2C_S, 123 ELCA 07000 FREYSSENET,
  the "Package deux ballets" marketing alert); the DUPONT list of the autocomplete example
  (``DUPONT, Chantal | FR-75012 [7611]`` …); AKOKA Viviane [15], relay of UNIVERSITY PARIS [16].
- Generated French contacts (``small`` ≈ 300, ``normal`` ≈ 10,000, ``large`` = 100,000):
  individuals (accents, hyphens, multi-word names) and structures with relays and members, French
  cities and postal codes, some customers, a few invalid records. Deterministic (seeded random),
  bulk-inserted; numbers go around the seed numbers, and the contact sequence is set above the
  highest number. Generated last names never start with "dup", so that "dup" shows the seed's list.
"""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from typing import Callable, Iterator
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from coulisses.db import set_sequence_floor

from plugins.contacts.models import Address, Contact, InternetAccount
from plugins.contacts.services.bulk import SEQUENCE, insert_contacts, insert_links

SIZES = {"small": 300, "normal": 10_000, "large": 100_000}
PARIS = ZoneInfo("Europe/Paris")

# (number, last name, first name, postal code) — the autocomplete list of the seed ("dupon|").
DUPONT_LIST = [
    (7611, "DUPONT", "Chantal", "75012"),
    (10068, "DUPONT", "Chrysoline", "75006"),
    (2301, "DUPONT", "Frederic", "67600"),
    (2311, "DUPONT", "Frederic", ""),
    (5216, "DUPONT", "Isabelle", "93500"),
    (8632, "DUPONT", "Manuel", "61100"),
    (1469, "DUPONT", "Marie", "92160"),
    (275, "DUPONT", "Nicolas", "51100"),
    (9585, "DUPONT", "Orlane", "75015"),
    (10162, "DUPONT SADIER", "Michele", "94230"),
    (2398, "DUPONT-ROUGIER", "Vincent", "92700"),
]
SEED_LABELS = [f"{last}, {first} | FR-{postal or '-'} [{number}]" for number, last, first, postal in DUPONT_LIST]
SHAPIRA_NUMBER, AKOKA_NUMBER, UNIVERSITY_NUMBER = 17, 15, 16
POSTAL_CITIES = {
    "75012": "PARIS", "75006": "PARIS", "75015": "PARIS", "67600": "SELESTAT", "93500": "PANTIN",
    "61100": "FLERS", "92160": "ANTONY", "51100": "REIMS", "94230": "CACHAN", "92700": "COLOMBES",
}
SEED_NUMBERS = {n for n, *_ in DUPONT_LIST} | {SHAPIRA_NUMBER, AKOKA_NUMBER, UNIVERSITY_NUMBER}

LAST_NAMES = (
    "MARTIN BERNARD THOMAS PETIT ROBERT RICHARD DURAND LEROY MOREAU SIMON LAURENT LEFEBVRE MICHEL GARCIA "
    "DAVID BERTRAND ROUX VINCENT FOURNIER MOREL GIRARD ANDRÉ LEFÈVRE MERCIER BLANC GUERIN BOYER GARNIER "
    "CHEVALIER FRANÇOIS LEGRAND GAUTHIER GAUTIER PERRIN ROBIN CLÉMENT MORIN NICOLAS HENRY ROUSSEL MATHIEU "
    "MASSON MARCHAND DUVAL DENIS LEMAIRE LEMERRE FAURE ANDRE MERCIER BONNET DUMAS BRUN BLANCHARD GIRAUD JOLY "
    "RIVIÈRE LUCAS BRUNET GAILLARD BARBIER ARNAUD MARTINEZ GÉRARD ROCHE RENARD SCHMITT SCHMIT ROY LEROUX "
    "COLIN VIDAL CARON PICARD ROGER FABRE AUBERT LEMOINE RENAUD RENAULT DUMONT LACROIX OLIVIER PHILIPPE BOURGEOIS "
    "PIERRE BENOÎT REY LECLERC PAYET ROLLAND LECLERCQ GUILLAUME LECOMTE LOPEZ JEAN DUFOUR BLANCHET MEYER "
    "BOUCHER HUBERT CARPENTIER MENARD MÉNARD NOËL LAMBERT ÉTIENNE FONTAINE FONTENNE LE GALL LE ROUX LE GOFF "
    "N'DIAYE D'ARTAGNAN DE LA FONTAINE DE SAINT-EXUPÉRY SAINT-JUST BÉRANGER CÔTÉ HÉBERT LESAGE BAILLY "
    "AKOKA SHAPIRO KOWALSKI NGUYEN TRAN BENSAÏD HADDAD COHEN LÉVY O'NEIL MAC GREGOR VAN DER BERG "
    "BEAUMONT GRÉGOIRE PONCELET DELAPONT LAPONTE PONTIER CAMUS MOLIÈRE RACINE CORNEILLE "
    "CHÂTELAIN ÉMERY JOUBERT PRÉVOST BRETON COURTOIS CHARPENTIER GUILLOT HOARAU FERRAND TESSIER"
).split()
COMPOUND_LAST = ("LE GALL", "LE ROUX", "LE GOFF", "DE LA FONTAINE", "DE SAINT-EXUPÉRY", "MAC GREGOR",
                 "VAN DER BERG", "SAINT-JUST")
FIRST_NAMES_F = (
    "Céline Marie Nathalie Isabelle Sylvie Catherine Françoise Anne Christine Monique Hélène Sophie Valérie "
    "Chantal Sandrine Véronique Camille Léa Manon Chloé Emma Inès Jade Zoé Anaïs Élodie Aurélie Émilie "
    "Marie-Noëlle Anne-Sophie Marie-Claire Bérénice Maëlle Noémie Gaëlle Agnès Josée Clémence Orlane "
    "Chrysoline Viviane Michèle Margaux Laetitia Mélanie Cécile Joëlle Solène Océane Rose Lou"
).split()
FIRST_NAMES_M = (
    "Jean Michel Philippe Alain Patrick Nicolas Christophe Pierre Christian Éric Frédéric Frederic Laurent "
    "Stéphane David Pascal Daniel Julien Thomas Antoine Hugo Lucas Louis Léo Gabriel Raphaël Arthur Noé "
    "Jean-Pierre Jean-Luc Jean-François Pierre-Yves Marc-Antoine Grégoire Jérôme Sébastien Benoît Hervé "
    "Gaël Loïc Joël Mathéo Théo Maël Vincent Manuel Bruno Gérard François"
).split()
CITIES = [
    ("75001", "PARIS"), ("75005", "PARIS"), ("75008", "PARIS"), ("75011", "PARIS"), ("75012", "PARIS"),
    ("75015", "PARIS"), ("75017", "PARIS"), ("75020", "PARIS"), ("13001", "MARSEILLE"), ("13008", "MARSEILLE"),
    ("69001", "LYON"), ("69003", "LYON"), ("31000", "TOULOUSE"), ("06000", "NICE"), ("44000", "NANTES"),
    ("67000", "STRASBOURG"), ("34000", "MONTPELLIER"), ("33000", "BORDEAUX"), ("59000", "LILLE"),
    ("35000", "RENNES"), ("51100", "REIMS"), ("76600", "LE HAVRE"), ("42000", "SAINT-ÉTIENNE"),
    ("83000", "TOULON"), ("38000", "GRENOBLE"), ("21000", "DIJON"), ("49000", "ANGERS"), ("30000", "NÎMES"),
    ("63000", "CLERMONT-FERRAND"), ("72000", "LE MANS"), ("29200", "BREST"), ("37000", "TOURS"),
    ("80000", "AMIENS"), ("87000", "LIMOGES"), ("74000", "ANNECY"), ("66000", "PERPIGNAN"), ("57000", "METZ"),
    ("25000", "BESANÇON"), ("45000", "ORLÉANS"), ("68100", "MULHOUSE"), ("14000", "CAEN"), ("54000", "NANCY"),
    ("92100", "BOULOGNE-BILLANCOURT"), ("93100", "MONTREUIL"), ("92000", "NANTERRE"), ("94000", "CRÉTEIL"),
    ("78000", "VERSAILLES"), ("95000", "CERGY"), ("64000", "PAU"), ("17000", "LA ROCHELLE"),
    ("07000", "PRIVAS"), ("07000", "FREYSSENET"), ("84000", "AVIGNON"), ("13100", "AIX-EN-PROVENCE"),
    ("26000", "VALENCE"), ("65000", "TARBES"), ("18000", "BOURGES"), ("97400", "SAINT-DENIS"),
    ("20000", "AJACCIO"), ("56100", "LORIENT"), ("22000", "SAINT-BRIEUC"), ("62000", "ARRAS"),
]
STREETS = ("rue de la Paix", "avenue Victor-Hugo", "boulevard Voltaire", "rue Jean-Jaurès", "place de la Mairie",
           "rue des Écoles", "chemin des Vignes", "allée des Tilleuls", "rue du Général-de-Gaulle",
           "impasse des Lilas", "quai de la Seine", "rue Pasteur", "avenue de la République", "rue Émile-Zola",
           "rue Saint-Honoré", "cours Mirabeau", "rue de l'Église", "route de Lyon", "rue Nationale")
STRUCTURE_KINDS = ("Association", "Compagnie", "Lycée", "Collège", "Mairie de", "Comité d'entreprise",
                   "Université", "Théâtre", "Amicale", "Conservatoire de", "Club", "SARL", "École")
DOMAINS = ("gmail.com", "orange.fr", "free.fr", "laposte.net", "yahoo.fr", "hotmail.fr", "sfr.fr", "wanadoo.fr")
# Mobile prefixes phonenumbers accepts as French mobiles (06 + these digits).
MOBILE_SECOND = "01245678"


def _ascii_local(text: str) -> str:
    from unidecode import unidecode

    return "".join(ch for ch in unidecode(text).lower() if ch.isalnum() or ch in ".-")


def _free_numbers(count: int, taken: set[int], start: int = 1) -> Iterator[int]:
    n, given = start, 0
    while given < count:
        if n not in taken:
            yield n
            given += 1
        n += 1


def generate(count: int, *, seed: int = 1, taken: set[int] | None = None,
             batch: int = 5000) -> Iterator[tuple[list[dict], list[tuple[int, str, int]]]]:
    """Generate ``count`` French contacts as row dicts for ``bulk.insert_contacts`` (with their
    numbers, going around ``taken``), in batches; each batch comes with its links as
    ``(from_index, kind, to_index)`` within the batch. Deterministic for a given ``seed``."""
    rnd = random.Random(seed)
    numbers = _free_numbers(count, taken or set())
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    email_seq = 0
    made = 0
    while made < count:
        size = min(batch, count - made)
        rows: list[dict] = []
        links: list[tuple[int, str, int]] = []
        n_struct = max(1, size // 12) if size >= 12 else 0
        for i in range(size):
            number = next(numbers)
            postal, city = rnd.choice(CITIES)
            address = {"line1": f"{rnd.randint(1, 180)} {rnd.choice(STREETS)}", "postal_code": postal,
                       "city": city, "country": "FR"}
            if i < n_struct:
                kind_label = rnd.choice(STRUCTURE_KINDS)
                name = f"{kind_label} {rnd.choice(LAST_NAMES).title()} {city.title()}"
                rows.append({"number": number, "kind": "structure", "type_code": "structure",
                             "structure_name": name.upper(), "address": address,
                             "email": f"contact{number}@{_ascii_local(kind_label)[:10] or 'asso'}.fr"
                             if rnd.random() < 0.5 else None})
                continue
            female = rnd.random() < 0.52
            first = rnd.choice(FIRST_NAMES_F if female else FIRST_NAMES_M)
            last = rnd.choice(LAST_NAMES)
            if rnd.random() < 0.08:
                other = rnd.choice(LAST_NAMES)
                last = f"{last}{rnd.choice(('-', ' '))}{other}"
            row = {"number": number, "kind": "individual", "type_code": "individual",
                   "civility": "MME" if female else "M", "last_name": last, "first_name": first,
                   "address": address if rnd.random() < 0.9 else None}
            if rnd.random() < 0.75:
                email_seq += 1
                local = f"{_ascii_local(first)}.{_ascii_local(last).replace(' ', '')}"
                if rnd.random() < 0.6:
                    local += str(email_seq)
                row["email"] = f"{local}@{rnd.choice(DOMAINS)}"
            if rnd.random() < 0.6:
                row["mobile_phone"] = f"+336{rnd.choice(MOBILE_SECOND)}{rnd.randint(0, 9_999_999):07d}"
            if rnd.random() < 0.5:
                row["birth_date"] = date(1940, 1, 1) + timedelta(days=rnd.randint(0, 365 * 65))
            if rnd.random() < 0.4:
                since = now - timedelta(days=rnd.randint(1, 3650))
                row["customer_since"] = since
                row["last_purchase_at"] = since + timedelta(days=rnd.randint(0, max(1, (now - since).days)))
            if rnd.random() < 0.01:
                row["valid"] = False
                row["invalid_reason"] = "Fiche erronée"
            rows.append(row)
        # Each structure: one relay and up to three members among the batch's individuals.
        individuals = list(range(n_struct, size))
        rnd.shuffle(individuals)
        cursor = 0
        for s in range(n_struct):
            take = individuals[cursor:cursor + 1 + rnd.randint(0, 3)]
            cursor += len(take)
            for j, ind in enumerate(take):
                kind = "relay_of" if j == 0 else "member_of"
                links.append((ind, kind, s))
                rows[ind]["role"] = "relay" if kind == "relay_of" else "member"
        if rnd.random() < 0.5 and cursor + 2 < len(individuals):
            # a few children of a parent
            for k in range(min(3, (len(individuals) - cursor) // 2)):
                child, parent = individuals[cursor], individuals[cursor + 1]
                cursor += 2
                links.append((child, "child_of", parent))
                rows[child]["role"] = "child"
        made += size
        yield rows, links


def bulk_generate(session: Session, count: int, *, seed: int = 1, batch: int = 5000,
                  progress: Callable[[int], None] | None = None, commit: bool = False) -> int:
    """Insert ``count`` generated contacts (numbers around the ones already taken) and move the
    contact sequence above the highest number. Returns the highest number."""
    taken = set(session.scalars(select(Contact.number)))
    highest = max(taken, default=0)
    for rows, links in generate(count, seed=seed, taken=taken | SEED_NUMBERS, batch=batch):
        ids = insert_contacts(session, rows, operator_id=None)
        insert_links(session, [(ids[a], kind, ids[b]) for a, kind, b in links])
        highest = max(highest, max(r["number"] for r in rows))
        set_sequence_floor(session, SEQUENCE, highest + 1)
        if commit:
            session.commit()
        if progress:
            progress(len(rows))
    return highest


# --------------------------------------------------------------------------- the seeds' contacts


def _seed_operator(session: Session):
    from coulisses import security

    op = security.get_operator(session, "CUBE_B2C_S")
    if op is None:
        op = security.Operator(login="CUBE_B2C_S", full_name="Canal B2C (ventes internet)",
                               password_hash="!", active=False)
        session.add(op)
        session.flush()
    return op


def load_seed_contacts(session: Session) -> dict[int, Contact]:
    """The contacts the seeds show, with their numbers (skipped when the number is taken)."""
    from plugins.contacts.services import contacts as svc
    from plugins.contacts.services.accounts import create_internet_account
    from plugins.contacts.services.activity import record_purchase
    from plugins.contacts.services.details import add_marketing_alert, set_consent
    from plugins.contacts.services.links import add_link

    taken = set(session.scalars(select(Contact.number).where(Contact.number.in_(SEED_NUMBERS))))
    made: dict[int, Contact] = {}

    def create(number, data, address):
        if number in taken:
            return None
        if address and not address.get("postal_code"):
            # "DUPONT, Frederic | FR-- [2311]": a French address without postal code nor city
            contact = svc.create_contact(session, {**data, "number": number})
            contact.addresses.append(Address(usage="main", country=address["country"]))
            session.flush()
        else:
            contact = svc.create_contact(session, {**data, "number": number}, address=address)
        made[number] = contact
        return contact

    shapira = create(SHAPIRA_NUMBER, {"type_code": "individual", "civility": "M", "last_name": "SHAPIRA",
                                      "first_name": "Michel", "birth_date": date(2000, 7, 8),
                                      "email": "michel.shapira@gmail.com", "language": "fr"},
                     {"country": "FR", "postal_code": "07000", "city": "FREYSSENET", "line1": "123 ELCA"})
    if shapira is not None:
        account, _password = create_internet_account(session, shapira, "michel.shapira@gmail.com")
        op = _seed_operator(session)
        session.flush()
        stamp = datetime(2015, 9, 21, 8, 36, tzinfo=PARIS).astimezone(timezone.utc)
        session.execute(update(InternetAccount).where(InternetAccount.id == account.id)
                        .values(updated_at=stamp, updated_by_id=op.id, password_set_at=stamp))
        session.expire(account)
        add_marketing_alert(session, shapira, {
            "type": "Grand public", "offer": 'Promo "Package deux ballets" - 50%',
            "internal_info": "En 1ere catégorie, le package est à 100€ au lieu de 160€ au Plein tarif "
                             "(et même 200€ pour les places à l'unité, hors package)",
            "recipients": "", "availability": 100})
        set_consent(session, shapira, "email", True, source="Internet")
        # the seed's sheet: created on 21.09.2015 08:36 on the internet, a customer since then (the
        # sales demo gives him that day's order and the purchases behind his indicators)
        session.execute(update(Contact).where(Contact.id == shapira.id)
                        .values(created_at=stamp, created_by_id=op.id))
        session.expire(shapira)
        record_purchase(session, shapira, stamp)
    for number, last, first, postal in DUPONT_LIST:
        create(number, {"type_code": "individual", "civility": "MME" if first in (
            "Chantal", "Chrysoline", "Isabelle", "Marie", "Orlane", "Michele") else "M",
            "last_name": last, "first_name": first},
            {"country": "FR", "postal_code": postal, "city": POSTAL_CITIES.get(postal, "")})
    university = create(UNIVERSITY_NUMBER, {"type_code": "structure", "structure_name": "UNIVERSITY PARIS"},
                        {"country": "FR", "postal_code": "75005", "city": "PARIS", "line1": "12 place du Panthéon"})
    akoka = create(AKOKA_NUMBER, {"type_code": "individual", "civility": "MME", "last_name": "AKOKA",
                                  "first_name": "Viviane", "email": "viviane.akoka@university-paris.fr"},
                   {"country": "FR", "postal_code": "75005", "city": "PARIS", "line1": "12 place du Panthéon"})
    if university is not None and akoka is not None:
        add_link(session, akoka, "relay_of", university)
    session.flush()
    return made


def load_demo(session: Session, size: str = "normal") -> None:
    """The ``coulisses_demo_data`` hook: the seeds' contacts, then the generated ones."""
    load_seed_contacts(session)
    bulk_generate(session, SIZES.get(size, SIZES["normal"]), seed=20151021)
    set_sequence_floor(session, SEQUENCE, max(SEED_NUMBERS) + 1)

"""Field validation: phones, e-mails, IBAN, postal codes per country, civilities, birth date → age."""
from datetime import date

import pytest

from plugins.contacts.services import validation as v


def test_phones_are_stored_e164_with_the_country_as_default_region_and_shown_spaced():
    assert v.parse_phone("06 12 34 56 78", "FR") == "+33612345678"
    assert v.format_phone("+33612345678") == "+33 6 12 34 56 78"
    # a Belgian mobile typed without prefix for a Belgian contact
    assert v.parse_phone("0470 12 34 56", "BE") == "+32470123456"
    # an explicit international number keeps its own country whatever the region
    assert v.parse_phone("+41 21 123 45 67", "FR") == "+41211234567"
    assert v.phone_region("+41211234567") == "CH"
    assert v.parse_phone("", "FR") is None
    with pytest.raises(ValueError, match="non valide"):
        v.parse_phone("06 12", "FR")
    with pytest.raises(ValueError, match="illisible"):
        v.parse_phone("bonjour", "FR")


def test_emails_are_checked_without_dns():
    assert v.parse_email("Michel.Shapira@GMAIL.com") == "Michel.Shapira@gmail.com"
    assert v.parse_email("  ") is None
    with pytest.raises(ValueError, match="e-mail"):
        v.parse_email("michel.shapira@")
    with pytest.raises(ValueError):
        v.parse_email("michel shapira@gmail.com")


def test_iban_is_checked_and_stored_compact():
    assert v.parse_iban("fr76 3000 6000 0112 3456 7890 189") == "FR7630006000011234567890189"
    assert v.format_iban("FR7630006000011234567890189") == "FR76 3000 6000 0112 3456 7890 189"
    with pytest.raises(ValueError, match="IBAN"):
        v.parse_iban("FR7630006000011234567890188")  # wrong check digits


@pytest.mark.parametrize("country, code, stored", [
    ("FR", "75012", "75012"), ("FR", "07000", "07000"), ("MC", "98000", "98000"), ("BE", "1000", "1000"),
    ("CH", "1204", "1204"), ("DE", "10115", "10115"), ("ES", "28001", "28001"), ("NL", "1012 AB", "1012 AB"),
    ("GB", "sw1a1aa", "SW1A 1AA"), ("CA", "k1a0b1", "K1A 0B1"), ("PT", "1000-001", "1000-001"),
    ("US", "10001-1234", "10001-1234"), ("LU", "L-1234", "1234"), ("JP", "100-0001", "100-0001"),
    ("XK", "anything", "anything"),  # a country without a rule: free text
])
def test_postal_codes_are_checked_per_country(country, code, stored):
    assert v.check_postal_code(country, code) == stored


@pytest.mark.parametrize("country, code", [
    ("FR", "7501"), ("FR", "750123"), ("FR", "75O12"), ("BE", "0123"), ("DE", "1011"), ("ES", "60001"),
    ("GB", "12345"), ("PT", "1000"), ("MC", "75012"),
])
def test_wrong_postal_codes_are_refused_with_the_country(country, code):
    with pytest.raises(ValueError, match=f"pays {country}"):
        v.check_postal_code(country, code)


def test_the_documented_countries_are_the_checked_ones():
    import re

    documented = set(re.findall(r"\b([A-Z]{2})\b", v.__doc__.split("Postal codes checked")[1])) - {"NN"}
    assert set(v.POSTAL_CODE_COUNTRIES) <= documented
    for country in ("FR", "BE", "CH", "DE", "ES", "IT", "NL", "GB", "US", "CA", "PT", "LU", "MC"):
        assert country in v.POSTAL_CODE_COUNTRIES


def test_civilities_accept_codes_and_labels():
    assert v.parse_civility("mme") == "MME"
    assert v.parse_civility("Monsieur") == "M"
    assert v.parse_civility("M.") == "M"
    assert v.parse_civility("") is None
    with pytest.raises(ValueError, match="Civilité inconnue"):
        v.parse_civility("Sire")


def test_birth_date_gives_the_age():
    assert v.parse_birth_date("08.07.2000") == date(2000, 7, 8)
    assert v.parse_birth_date("2000-07-08") == date(2000, 7, 8)
    assert v.age(date(2000, 7, 8), today=date(2015, 9, 21)) == 15  # the seed's sheet: 08.07.2000, 15 ans
    assert v.age(date(2000, 7, 8), today=date(2015, 7, 7)) == 14
    with pytest.raises(ValueError, match="futur"):
        v.parse_birth_date(date(2999, 1, 1))
    with pytest.raises(ValueError):
        v.parse_birth_date("31.02.2000")


def test_french_siret_is_checked():
    assert v.parse_administrative_number("732 829 320 00074", "FR") == "73282932000074"
    with pytest.raises(ValueError, match="SIRET"):
        v.parse_administrative_number("73282932000075", "FR")
    assert v.parse_administrative_number("CHE-123.456.789", "CH") == "CHE-123.456.789"

"""Issue 12, point 1: each kind of personal data the README promises, in the formats people write it, and the
ordinary text around it left alone (prices, order numbers, years, times, staff names in praise)."""

from __future__ import annotations

import pytest

from stories.config import Redaction
from stories.kudos import find_praise
from stories.redaction import PiiRedactor, canonical

GB_ONLY = PiiRedactor(regions=["GB"])
DEFAULT = PiiRedactor()


def redact(text: str, redactor: PiiRedactor = DEFAULT) -> str:
    return redactor.redact(text).text


# --- phones: every configured region, and phone-shaped groups the library does not accept ------------------


@pytest.mark.parametrize(
    ("number", "e164"),
    [
        ("415-555-2181", "+14155552181"),  # the 555 exchange: not allocated, so the library refuses it
        ("(212) 555 8858", "+12125558858"),
        ("650.253.0000", "+16502530000"),
        ("06 12 34 56 78", "+44612345678"),  # French mobile, read under GB alone: the shape decides
        ("01 42 68 53 00", "+44142685300"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0044 20 7946 0958", "+442079460958"),
    ],
)
def test_phone_shaped_groups_are_redacted_under_gb_alone(number: str, e164: str) -> None:
    result = GB_ONLY.redact(f"Call me on {number} after six")
    assert result.text == "Call me on [phone] after six"
    assert result.found == (("phone", e164),)


@pytest.mark.parametrize(
    ("number", "region", "e164"),
    [
        ("07911 123456", "GB", "+447911123456"),
        ("0171 1234567", "DE", "+491711234567"),
        ("(202) 555-0143", "US", "+12025550143"),
        ("06 12 34 56 78", "FR", "+33612345678"),
    ],
)
def test_each_configured_region_reads_its_national_numbers(number: str, region: str, e164: str) -> None:
    result = PiiRedactor(regions=[region]).redact(f"ring {number} please")
    assert result.text == "ring [phone] please"
    assert result.found == (("phone", e164),)


def test_default_regions_cover_us_gb_de_fr() -> None:
    assert DEFAULT.regions == ("US", "GB", "DE", "FR")
    text = "US (202) 555-0143, GB 07911 123456, DE 0171 1234567, FR +33 1 42 68 53 00"
    assert redact(text) == "US [phone], GB [phone], DE [phone], FR [phone]"


def test_default_region_goes_first_and_regions_follow() -> None:
    assert PiiRedactor(default_region="gb", regions=["US", "GB"]).regions == ("GB", "US")
    assert PiiRedactor(default_region="DE").regions == ("DE", "US", "GB", "FR")


def test_config_reads_regions_and_keeps_default_region_working() -> None:
    assert Redaction().regions == ("US", "GB", "DE", "FR")
    assert Redaction.model_validate({"regions": ["gb", "ie"]}).regions == ("GB", "IE")
    legacy = Redaction.model_validate({"default_region": "GB"})
    assert PiiRedactor(regions=legacy.regions, default_region=legacy.default_region).regions[0] == "GB"


@pytest.mark.parametrize(("value", "message"), [(["UK"], "the United Kingdom is 'GB'"), ([], "at least 1")])
def test_config_rejects_unknown_or_missing_regions_naming_the_fix(value: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Redaction.model_validate({"regions": value})


# --- cards, IBANs, IPs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("card", ["4111.1111.1111.1111", "4111 1111 1111 1111", "4111-1111-1111-1111"])
def test_cards_with_any_separator(card: str) -> None:
    result = DEFAULT.redact(f"paid with {card} yesterday")
    assert result.text == "paid with [card] yesterday"
    assert result.found == (("card", "4111111111111111"),)


@pytest.mark.parametrize(
    "iban", ["GB82-WEST-1234-5698-7654-32", "GB82.WEST.1234.5698.7654.32", "GB82 WEST 1234 5698 7654 32"]
)
def test_ibans_with_any_separator(iban: str) -> None:
    result = DEFAULT.redact(f"refund to {iban}.")
    assert result.text == "refund to [iban]."
    assert result.found == (("iban", "GB82WEST12345698765432"),)


def test_ipv4_with_leading_zeros() -> None:
    result = DEFAULT.redact("blocked from 192.168.001.023 again")
    assert result.text == "blocked from [ip] again"
    assert result.found == (("ip", "192.168.1.23"),)


# --- e-mails spelled out ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelled",
    [
        "jane at example dot com",
        "jane [at] example [dot] com",
        "jane(at)example(dot)com",
        "Jane AT Example DOT Com",
        "jane.doe at mail dot example dot co dot uk",
        "jane at example.com",
        "jane @ example dot com",
    ],
)
def test_spelled_out_emails(spelled: str) -> None:
    result = DEFAULT.redact(f"write to {spelled} thanks")
    assert result.text == "write to [email] thanks"
    kind, value = result.found[0]
    assert kind == "email" and value.startswith(("jane@", "jane.doe@")) and value == value.lower()


def test_spelled_out_email_canonical_matches_the_plain_address() -> None:
    assert DEFAULT.redact("jane at example dot com").found == DEFAULT.redact("Jane@Example.com").found


@pytest.mark.parametrize(
    "text",
    [
        "I bought it at Tesco dot com and it broke",
        "we looked at the dot matrix printer",
        "arrived at 10 dot on",
    ],
)
def test_at_and_dot_in_ordinary_sentences_stay(text: str) -> None:
    assert redact(text) == text


def test_address_inside_a_url_query_is_the_address_alone() -> None:
    result = DEFAULT.redact("see https://shop.test/?email=jane@example.com&ref=7")
    assert result.text == "see https://shop.test/?email=[email]&ref=7"
    assert result.found == (("email", "jane@example.com"),)


# --- national ids, dates of birth -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "found"),
    [
        ("my SSN is 123-45-6789.", "my SSN is [ssn].", ("ssn", "123456789")),
        ("social security number 123 45 6789", "social security number [ssn]", ("ssn", "123456789")),
        ("SSN: 123456789", "SSN: [ssn]", ("ssn", "123456789")),
        ("NI number AB 12 34 56 C please", "NI number [national id] please", ("national_id", "AB123456C")),
        ("ni ab123456c", "ni [national id]", ("national_id", "AB123456C")),
    ],
)
def test_national_ids(text: str, expected: str, found: tuple[str, str]) -> None:
    result = DEFAULT.redact(text)
    assert result.text == expected
    assert result.found == (found,)


@pytest.mark.parametrize(
    "text",
    [
        "order 123456789 arrived",  # nine bare digits without "SSN" are not an SSN
        "tracking GB123456789 is wrong",  # GB is not an NI prefix
        "room 000-12-3456",  # no SSN starts 000
    ],
)
def test_id_shaped_numbers_without_the_mark_stay(text: str) -> None:
    assert "[ssn]" not in redact(text) and "[national id]" not in redact(text)


@pytest.mark.parametrize(
    ("text", "expected", "iso"),
    [
        ("I was born on 14/03/1985 in Leeds", "I was born on [date of birth] in Leeds", "1985-03-14"),
        ("date of birth: 1985-03-14.", "date of birth: [date of birth].", "1985-03-14"),
        ("DOB 14 March 1985", "DOB [date of birth]", "1985-03-14"),
        ("born March 14th, 1985", "born [date of birth]", "1985-03-14"),
        ("d.o.b. 14.03.85", "d.o.b. [date of birth]", "1985-03-14"),
        ("my birthday is the 3rd of May 1990", "my birthday is the [date of birth]", "1990-05-03"),
    ],
)
def test_dates_of_birth(text: str, expected: str, iso: str) -> None:
    result = PiiRedactor(regions=["GB"]).redact(text)
    assert result.text == expected
    assert result.found == (("date_of_birth", iso),)


def test_ambiguous_date_of_birth_reads_by_the_first_region() -> None:
    assert PiiRedactor(regions=["US"]).redact("DOB 03/04/1985").found == (("date_of_birth", "1985-03-04"),)
    assert PiiRedactor(regions=["GB"]).redact("DOB 03/04/1985").found == (("date_of_birth", "1985-04-03"),)


def test_dates_away_from_birth_words_stay() -> None:
    text = "Ordered 14/03/2024, born in 1985, delivered 2024-03-20 at 10:30."
    assert redact(text) == text


# --- names ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "name"),
    [
        ("My name is Agnieszka Wróblewska and I waited", "My name is [name] and I waited", "agnieszka wróblewska"),
        ("Hi, this is Tom Baker from Leeds.", "Hi, this is [name] from Leeds.", "tom baker"),
        ("this is Tom from accounts", "this is [name] from accounts", "tom"),
        ("Hello, I'm Jane Doe and I ordered", "Hello, I'm [name] and I ordered", "jane doe"),
        ("Name: Maria de la Cruz", "Name: [name]", "maria de la cruz"),
        ("It broke.\nThanks,\nJane Smith", "It broke.\nThanks,\n[name]", "jane smith"),
        ("It broke. Regards, J. Smith", "It broke. Regards, [name]", "j. smith"),
        ("Kind regards,\n\nPeter O'Neil\n", "Kind regards,\n\n[name]\n", "peter o'neil"),
        ("Please call back.\n— Jane", "Please call back.\n— [name]", "jane"),
    ],
)
def test_introduced_names(text: str, expected: str, name: str) -> None:
    result = DEFAULT.redact(text)
    assert result.text == expected
    assert result.found == (("name", name),)


@pytest.mark.parametrize(
    "text",
    [
        "Dana at the front desk was wonderful",
        "Thanks, Dana!",  # thanks + comma thanks staff; a sign-off puts the name on its own line
        "I'm British and I'm Very Disappointed",
        "this is Terrible service and I want a refund",
        "My name is on the account",
        "- Fast Delivery\n- Good Price\nwould buy again",
    ],
)
def test_names_that_are_not_the_customer_introducing_themselves_stay(text: str) -> None:
    assert redact(text) == text


def test_staff_names_in_praise_survive_for_kudos() -> None:
    text = "Dana at the front desk was wonderful, so kind.\nThanks,\nJane Smith"
    redacted = redact(text)
    assert redacted == "Dana at the front desk was wonderful, so kind.\nThanks,\n[name]"
    assert find_praise(redacted, sentiment="positive") == ["Dana"]


# --- what stays -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "It cost $200, then £1,299.00 and €12.50",
        "order 123-4567 and ticket 88231",
        "between 2019 2020 2021 it got worse",
        "open 10:30-18:00, closed 12.30-13.30",
        "app version 1.2.3.4, v1.2.3.4, build 10.0.19045.3803",
        "ISO date 2024-03-15, 15.03.2024, 03/15/2024",
        "3.14159265358979 is pi",
        "rated 4.5/5 and 10/10",
        "my measurements are 38-30-40, size 10",  # six digits German rules would take without a trunk 0
        "under 15 U.S.C 1681 15 and 12 CFR 1002",
    ],
)
def test_ordinary_numbers_survive_with_the_default_regions(text: str) -> None:
    assert redact(text) == text


# --- one spelling per value, in a sentence or alone (what cxbot forget relies on) ----------------------------


@pytest.mark.parametrize(
    "value",
    [
        "Jane.Doe@Example.com",
        "jane at example dot com",
        "+44 20 7946 0958",
        "07911 123456",
        "415-555-2181",
        "4111.1111.1111.1111",
        "gb82-west-1234-5698-7654-32",
        "192.168.001.023",
        "123-45-6789",
        "AB 12 34 56 C",
    ],
)
def test_found_value_is_the_same_in_a_sentence_and_alone(value: str) -> None:
    redactor = PiiRedactor(regions=["GB", "US"])
    alone = redactor.redact(value)
    assert alone.text.startswith("[") and sum(alone.counts.values()) == 1  # one value, maybe several spellings
    assert redactor.redact(f"Hi, reach me at {value}, thanks").found == alone.found
    kind, spelled = alone.found[0]
    assert canonical(kind, spelled) == spelled or kind == "phone"

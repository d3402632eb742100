"""Detectors of personal data that a regular expression alone gets wrong.

A suite's regular expression is the prefilter (fast, and run by Great Expectations on either
engine); a detector here confirms each value it flags:

- card numbers: a run of 13-19 digits is a card number only when its Luhn check digit holds;
- phone numbers: confirmed with ``phonenumbers`` (Google's libphonenumber metadata), which
  knows each region's numbering plan and how its numbers are grouped, so "scored 120 340
  560 points", a date or an order id is not a phone number while "+44 20 7946 0958" and
  "(415) 555-0134" are. A number written with ``+`` is read in its own country; one
  without is read in each region the suite names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

DEFAULT_PHONE_REGIONS = ("US", "GB", "DE", "FR")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")

CARD_CANDIDATE = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")


E164_DIGITS = 15
_NOT_DIGIT = re.compile(r"[^0-9]")
_DATE = re.compile(
    r"(?:19|20)[0-9]{2}([-./])(?:0[1-9]|1[0-2])\1(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[1-9]|[12][0-9]|3[01])([-./])(?:0[1-9]|1[0-2])\2(?:19|20)[0-9]{2}"
)
# digit groups that could be a phone number: +44 20 7946 0958, (415) 555-0134, 030 1234 5678,
# 01 23 45 67 89, +81 3-1234-5678 (checks/expectations/personal-data.yaml prefilters with it)
PHONE_CANDIDATE = re.compile(
    r"(?<![0-9])(?:\+[1-9][0-9]{0,2}[ .-]?)?(?:\([0-9]{1,5}\)[ .-]?|[0-9]{1,5}[ .-])[0-9]{2,4}"
    r"(?:[ .-]?[0-9]{2,4}){1,3}(?![0-9])"
)
# a number that is one part of a longer run of digit groups (a card number, an id) is not a phone number
_DIGIT_BEFORE = re.compile(r"[0-9][ .-]?$")
_DIGIT_AFTER = re.compile(r"[ .-]?[0-9]")


def luhn_valid(digits: str) -> bool:
    if not 13 <= len(digits) <= 19 or not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def has_card_number(value: Any) -> bool:
    """A Luhn-valid card number of 13-19 digits (spaces or dashes between digits allowed)."""
    if not isinstance(value, str):
        return False
    return any(luhn_valid(re.sub(r"[ -]", "", m.group(0))) for m in CARD_CANDIDATE.finditer(value))


def mask_cards(text: str) -> str:
    """A card number shown as its last four digits only."""

    def mask(match: re.Match[str]) -> str:
        digits = re.sub(r"[ -]", "", match.group(0))
        return f"[card …{digits[-4:]}]" if luhn_valid(digits) else match.group(0)

    return CARD_CANDIDATE.sub(mask, text)


def has_phone_number(value: Any, regions: Sequence[str] = DEFAULT_PHONE_REGIONS) -> bool:
    """A valid phone number in one of ``regions``, or in any country when written with its ``+``
    country code.

    Each span of digit groups that could be a phone number (:data:`PHONE_CANDIDATE`, the same
    pattern the personal-data suite prefilters with) is parsed by ``phonenumbers`` in each
    region; it is a phone number when libphonenumber finds it valid, no longer than E.164
    allows, grouped as that country writes its numbers (the STRICT_GROUPING leniency: an id
    such as 4471-2209-8831 that happens to be a valid digit string is not a phone number),
    and not one part of a longer run of digit groups (a card number)."""
    if not isinstance(value, str):
        return False
    chosen = tuple(regions)
    for match in PHONE_CANDIDATE.finditer(value):
        if _DIGIT_BEFORE.search(value, 0, match.start()) or _DIGIT_AFTER.match(value, match.end()):
            continue
        if _DATE.fullmatch(match.group(0)):
            continue  # libphonenumber's matcher skips slashed dates itself; ISO and dotted ones too
        if _is_phone_number(match.group(0), chosen):
            return True
    return False


@lru_cache(maxsize=65_536)  # the same digits recur across records (dates, amounts): parsed once
def _is_phone_number(candidate: str, regions: tuple[str, ...]) -> bool:
    import phonenumbers

    international = candidate.startswith("+")
    digits = _NOT_DIGIT.sub("", candidate)
    for region in (None,) if international else regions:
        if region is not None and not _may_be_national(digits, region):
            continue
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if len(f"{number.country_code}{number.national_number}") > E164_DIGITS:
            continue  # longer than any number ITU-T E.164 allows
        if not phonenumbers.is_valid_number(number):
            continue
        grouped = phonenumbers.PhoneNumberMatcher(
            candidate, region or "ZZ", leniency=phonenumbers.Leniency.STRICT_GROUPING, max_tries=1
        )
        if any(m.start == 0 and m.end == len(candidate) for m in grouped):
            return True
    return False


NumberingPlan = tuple[str, re.Pattern[str], frozenset[int], list[tuple[re.Pattern[str], re.Pattern[str] | None]]]
_NOTHING = re.compile(r"(?!)")


@lru_cache(maxsize=256)
def _numbering_plan(region: str) -> NumberingPlan:
    """From libphonenumber's metadata for a region: its national (trunk) prefix, the pattern
    and lengths every valid national number fits, and the formats written without the prefix."""
    from phonenumbers import PhoneMetadata

    metadata = PhoneMetadata.metadata_for_region(region)
    general = metadata.general_desc if metadata is not None else None
    if metadata is None or general is None:
        return "", _NOTHING, frozenset(), []
    without_prefix = [
        (re.compile(f.pattern or "(?!)"), _leading(f.leading_digits_pattern))
        for f in metadata.number_format
        if not f.national_prefix_formatting_rule or f.national_prefix_optional_when_formatting
    ]
    return (
        metadata.national_prefix or "",
        re.compile(general.national_number_pattern or r"(?!)"),
        frozenset(general.possible_length or ()),
        without_prefix,
    )


def _leading(patterns: Sequence[str] | None) -> re.Pattern[str] | None:
    return re.compile(patterns[-1]) if patterns else None


def _may_be_national(digits: str, region: str) -> bool:
    """A cheap necessary condition, from the same metadata, for the digits to be a valid number
    of the region written nationally: libphonenumber would go on to reject the rest, slowly.
    A number whose national format carries the trunk prefix (GB, DE, FR: 0) must be written
    with it; its national significant number must fit the region's general pattern."""
    prefix, general, lengths, without_prefix = _numbering_plan(region)
    significant: tuple[str, ...] = (digits,)
    if prefix and digits.startswith(prefix):
        significant = (digits[len(prefix) :], digits)
    elif prefix and not any(p.fullmatch(digits) and (lead is None or lead.match(digits)) for p, lead in without_prefix):
        return False
    return any(len(n) in lengths and general.fullmatch(n) for n in significant)


@lru_cache(maxsize=64)
def _phone_confirmer(regions: tuple[str, ...]) -> Callable[[Any], bool]:
    return lambda value: has_phone_number(value, regions)


def confirmer(name: str | None, regions: Sequence[str] | None = None) -> Callable[[Any], bool] | None:
    """The detector a suite's ``confirm:`` names (``luhn`` or ``phone``), or None."""
    if name == "luhn":
        return has_card_number
    if name == "phone":
        return _phone_confirmer(tuple(regions or DEFAULT_PHONE_REGIONS))
    return None


def looks_personal(text: str) -> bool:
    """Does a short text hold an email address, a phone number or a card number?"""
    return bool(EMAIL.search(text)) or has_card_number(text) or has_phone_number(text)

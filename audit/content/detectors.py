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
    country code. libphonenumber's STRICT_GROUPING leniency: the number must be valid *and*
    its digits grouped as that country writes them, so an id such as 4471-2209-8831 that
    happens to be a valid digit string is not a phone number."""
    if not isinstance(value, str):
        return False
    return _has_phone_number(value, tuple(regions))


@lru_cache(maxsize=65_536)  # a value repeated across records is parsed once
def _has_phone_number(value: str, regions: tuple[str, ...]) -> bool:
    import phonenumbers

    for region in regions or (None,):
        for match in phonenumbers.PhoneNumberMatcher(value, region, leniency=phonenumbers.Leniency.STRICT_GROUPING):
            number = match.number
            if len(f"{number.country_code}{number.national_number}") > E164_DIGITS:
                continue  # longer than any number ITU-T E.164 allows (a 16-digit card number)
            if not (_DIGIT_BEFORE.search(value, 0, match.start) or _DIGIT_AFTER.match(value, match.end)):
                return True
    return False


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

"""A labelled sample for the phone detector: generated prose, each text labelled phone or not.

    python -m tests.support.phones      # the detector's precision and recall on it (README figures)

Positives are real-format numbers of several regions (US, GB, DE, FR national formats; and
international ``+`` formats of those and of JP, IN, AU, BR), made from libphonenumber's own
example numbers with their last digits varied and kept only when still valid. Negatives are
the digit groups prose is full of: numbers and amounts, dates and times, order and ticket ids,
versions, IP addresses, ISBNs, card numbers. Every text comes from a seeded generator.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

import phonenumbers
import yaml

NATIONAL = ("US", "GB", "DE", "FR")
INTERNATIONAL = ("US", "GB", "DE", "FR", "JP", "IN", "AU", "BR")
TYPES = (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE)
FRAMES = [
    "Please call {} before the renewal.",
    "Reach the warehouse on {} for the shipment.",
    "Her number is {}, ask for the invoice.",
    "Escalations go to {} after hours.",
]
NEGATIVE_FRAMES = [
    "The team scored {} points this sprint.",
    "Shipped on {} as planned.",
    "See {} for the migration notes.",
    "The budget line {} was approved.",
]


@dataclass(frozen=True)
class Labelled:
    text: str
    phone: bool
    kind: str


def _numbers(rng: random.Random, region: str, count: int) -> list[phonenumbers.PhoneNumber]:
    found: list[phonenumbers.PhoneNumber] = []
    for number_type in TYPES:
        example = phonenumbers.example_number_for_type(region, number_type)
        if example is None:
            continue
        digits = str(example.national_number)
        tries = 0
        while len(found) < count * (TYPES.index(number_type) + 1) // len(TYPES) and tries < 500:
            tries += 1
            varied = digits[:-3] + f"{rng.randrange(1000):03d}"
            candidate = phonenumbers.PhoneNumber(country_code=example.country_code, national_number=int(varied))
            if phonenumbers.is_valid_number(candidate):
                found.append(candidate)
    return found


def positives(rng: random.Random, per_region: int = 20) -> list[Labelled]:
    sample = []
    for region in NATIONAL:
        for number in _numbers(rng, region, per_region):
            text = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
            sample.append(Labelled(rng.choice(FRAMES).format(text), True, f"national-{region}"))
    for region in INTERNATIONAL:
        for number in _numbers(rng, region, per_region // 2):
            text = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
            sample.append(Labelled(rng.choice(FRAMES).format(text), True, f"international-{region}"))
    for number in _numbers(rng, "US", per_region // 2):  # the dotted and dashed US spellings
        national = str(number.national_number)
        text = f"{national[:3]}.{national[3:6]}.{national[6:]}"
        sample.append(Labelled(rng.choice(FRAMES).format(text), True, "dotted-US"))
        text = f"{national[:3]}-{national[3:6]}-{national[6:]}"
        sample.append(Labelled(rng.choice(FRAMES).format(text), True, "dashed-US"))
    return sample


def _luhn_card(rng: random.Random) -> str:
    digits = [4, *(rng.randrange(10) for _ in range(14))]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        value = digit * 2 if index % 2 == 0 else digit
        total += value - 9 if value > 9 else value
    digits.append((10 - total % 10) % 10)
    text = "".join(map(str, digits))
    return " ".join(text[i : i + 4] for i in range(0, 16, 4))


def negatives(rng: random.Random, per_kind: int = 20) -> list[Labelled]:
    makers = {
        "number-triplet": lambda: f"{rng.randrange(100, 999)} {rng.randrange(100, 999)} {rng.randrange(100, 999)}",
        "amount": lambda: f"{rng.randrange(1, 99)} {rng.randrange(100, 999)} {rng.randrange(100, 999)} EUR",
        "iso-date": lambda: f"{rng.randrange(2000, 2030)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
        "dotted-date": lambda: f"{rng.randrange(1, 29):02d}.{rng.randrange(1, 13):02d}.{rng.randrange(2000, 2030)}",
        "slashed-date": lambda: f"{rng.randrange(1, 13):02d}/{rng.randrange(1, 29):02d}/{rng.randrange(2000, 2030)}",
        "date-time": lambda: (
            f"{rng.randrange(2000, 2030)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d} "
            f"{rng.randrange(24):02d}:{rng.randrange(60):02d}"
        ),
        "order-id": lambda: f"{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}",
        "ticket-id": lambda: (
            f"{rng.randrange(100, 999)}-{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}-{rng.randrange(10, 99)}"
        ),
        "version": lambda: f"{rng.randrange(1, 20)}.{rng.randrange(0, 40)}.{rng.randrange(0, 200)}",
        "ip-address": lambda: f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
        "isbn": lambda: (
            f"978-{rng.randrange(10)}-{rng.randrange(10, 99)}-{rng.randrange(100000, 999999)}-{rng.randrange(10)}"
        ),
        "card-number": lambda: _luhn_card(rng),
        "year-range": lambda: f"{rng.randrange(1990, 2010)}-{rng.randrange(2010, 2030)} and {rng.randrange(100, 999)}",
    }
    return [
        Labelled(rng.choice(NEGATIVE_FRAMES).format(make()), False, kind)
        for kind, make in makers.items()
        for _ in range(per_kind)
    ]


def sample(seed: int = 19) -> list[Labelled]:
    rng = random.Random(seed)
    return positives(rng) + negatives(rng)


def suite_phone_rule() -> tuple[re.Pattern[str], list[str]]:
    """The built-in personal-data suite's phone prefilter and confirmation regions."""
    path = Path(__file__).resolve().parents[2] / "checks/expectations/personal-data.yaml"
    spec = next(e for e in yaml.safe_load(path.read_text())["expectations"] if e["id"] == "phone")
    return re.compile(spec["kwargs"]["regex"]), list(spec.get("regions") or [])


def score(flagged: list[bool], truth: list[bool]) -> dict[str, float]:
    tp = sum(f and t for f, t in zip(flagged, truth, strict=True))
    fp = sum(f and not t for f, t in zip(flagged, truth, strict=True))
    fn = sum(t and not f for f, t in zip(flagged, truth, strict=True))
    return {
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "false_positives": fp,
        "false_negatives": fn,
    }


def measure(seed: int = 19) -> dict[str, object]:
    from audit.content.detectors import has_phone_number

    labelled = sample(seed)
    prefilter, regions = suite_phone_rule()
    truth = [item.phone for item in labelled]
    regex_only = [bool(prefilter.search(item.text)) for item in labelled]
    confirmed = [flag and has_phone_number(item.text, regions) for flag, item in zip(regex_only, labelled, strict=True)]
    return {
        "texts": len(labelled),
        "phones": sum(truth),
        "regex_only": score(regex_only, truth),
        "regex_and_phonenumbers": score(confirmed, truth),
        "missed": sorted({i.kind for i, c in zip(labelled, confirmed, strict=True) if i.phone and not c}),
        "false_alarms": sorted({i.kind for i, c in zip(labelled, confirmed, strict=True) if c and not i.phone}),
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))

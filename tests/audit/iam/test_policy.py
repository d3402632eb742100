"""Reading Principal elements: each distinct one is read once and shared, and a malformed
one is reported every time it appears."""

from __future__ import annotations

import pytest

from audit.iam.policy import PolicyError, parse_statement


def _principal_of(principal: object) -> object:
    return parse_statement({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}, "here").principal


def test_the_same_principal_element_reads_the_same() -> None:
    first = _principal_of({"AWS": ["arn:aws:iam::111111111111:root", "*"], "Service": "glue.amazonaws.com"})
    again = _principal_of({"AWS": ["arn:aws:iam::111111111111:root", "*"], "Service": "glue.amazonaws.com"})
    assert again == first
    assert first.everyone  # type: ignore[attr-defined]
    assert first.aws == frozenset({"arn:aws:iam::111111111111:root"})  # type: ignore[attr-defined]
    assert _principal_of({"Service": ["a.amazonaws.com", "b.amazonaws.com"]}).services == frozenset(  # type: ignore[attr-defined]
        {"a.amazonaws.com", "b.amazonaws.com"}
    )


@pytest.mark.parametrize(
    ("principal", "message"),
    [
        ({"Users": "x"}, "unknown keys: Users"),
        ({"AWS": 12}, "Principal.AWS must be a string or a list of strings"),
        ({"AWS": ["a", ["b"]]}, "Principal.AWS must be a string or a list of strings"),
    ],
)
def test_a_malformed_principal_is_reported_each_time(principal: object, message: str) -> None:
    for _ in range(2):
        with pytest.raises(PolicyError, match=message):
            _principal_of(principal)

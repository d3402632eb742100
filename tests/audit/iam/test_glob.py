"""Wildcards: plain matching, and the two set questions checked against brute force."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.iam.glob import covers, intersects, literal_head, matches, substitute_variables


@pytest.mark.parametrize(
    ("pattern", "value", "ignore_case", "expected"),
    [
        ("s3:GetObject", "s3:GetObject", True, True),
        ("s3:getobject", "s3:GetObject", True, True),  # actions are case-insensitive
        ("s3:Get*", "s3:GetObjectVersion", True, True),
        ("s3:*Object", "s3:PutObject", True, True),
        ("s3:Get?bject", "s3:GetObject", True, True),
        ("s3:Get?bject", "s3:GetObjects", True, False),
        ("*", "anything:at/all", False, True),
        ("arn:aws:s3:::Bucket/*", "arn:aws:s3:::bucket/x", False, False),  # resources are case-sensitive
        ("arn:aws:s3:::b/*", "arn:aws:s3:::b/a/b/c", False, True),  # '*' crosses '/'
        ("arn:aws:s3:::b/a.txt", "arn:aws:s3:::b/aXtxt", False, False),  # '.' is literal
    ],
)
def test_matches(pattern: str, value: str, ignore_case: bool, expected: bool) -> None:
    assert matches(pattern, value, ignore_case=ignore_case) is expected


@pytest.mark.parametrize(
    ("pattern", "prefix", "meets", "covered"),
    [
        ("arn:aws:s3:::logs/*", "arn:aws:s3:::logs/", True, True),
        ("arn:aws:s3:::logs*", "arn:aws:s3:::logs/", True, True),
        ("arn:aws:s3:::logs/2024/*", "arn:aws:s3:::logs/", True, False),  # part of the bucket
        ("arn:aws:s3:::logs/*", "arn:aws:s3:::logs/acme/", True, True),  # a bucket-wide grant covers a prefix
        ("arn:aws:s3:::log-*", "arn:aws:s3:::logs/", False, False),
        ("arn:aws:s3:::logs", "arn:aws:s3:::logs/", False, False),  # the bucket, not its objects
        ("*", "arn:aws:s3:::x/", True, True),
        ("arn:aws:s3:::*/secret/*", "arn:aws:s3:::x/", True, False),
    ],
)
def test_set_questions(pattern: str, prefix: str, meets: bool, covered: bool) -> None:
    assert intersects(pattern, prefix) is meets
    assert covers(pattern, prefix) is covered


def test_literal_head_and_variables() -> None:
    assert literal_head("arn:aws:s3:::team-*/x") == "arn:aws:s3:::team-"
    assert literal_head("plain") == "plain"
    assert substitute_variables("arn:aws:s3:::b/${aws:username}/*", widen=True) == "arn:aws:s3:::b/*/*"
    deny = substitute_variables("arn:aws:s3:::b/${aws:username}/*", widen=False)
    assert not covers(deny, "arn:aws:s3:::b/")


ALPHABET = "ab/"
patterns = st.text(alphabet="ab/*?", min_size=0, max_size=6)
prefixes = st.text(alphabet=ALPHABET, min_size=0, max_size=4)


def _suffixes(limit: int) -> list[str]:
    return ["".join(p) for n in range(limit + 1) for p in itertools.product(ALPHABET, repeat=n)]


SUFFIXES = _suffixes(6)


@settings(max_examples=400, deadline=None)
@given(patterns, prefixes)
def test_intersects_is_exact_and_covers_is_sound(pattern: str, prefix: str) -> None:
    matched = [matches(pattern, prefix + s) for s in SUFFIXES]
    # a pattern of at most 6 characters that matches anything under the prefix does so
    # with a suffix no longer than itself, so brute force up to 6 decides intersection
    assert intersects(pattern, prefix) is any(matched)
    if covers(pattern, prefix):
        assert all(matched)

"""Secrets quoted in evidence are masked; identifiers an auditor needs are left alone."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit.redact import MASK, PATTERNS, might_hold_secret, redact, redact_text
from tests.conftest import EXAMPLE_ORG, WriteYaml, audit_sources


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("key AKIAIOSFODNN7EXAMPLE in a tag", "AKIAIOSFODNN7EXAMPLE"),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
        ("password: hunter2hunter2", "hunter2hunter2"),
        ("API_KEY=0123456789abcdef", "0123456789abcdef"),
        ("https://deploy:Sup3rSecret@ci.example.com/hook", "Sup3rSecret"),
        ("ghp_" + "a" * 36, "ghp_" + "a" * 36),
        ("xoxb-1234567890-abcdefghij", "xoxb-1234567890-abcdefghij"),
        ("sk-proj-" + "Z" * 30, "sk-proj-" + "Z" * 30),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "eyJhbGci"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----", "b3BlbnNzaC1rZXk"),
    ],
)
def test_secrets_are_masked(text: str, secret: str) -> None:
    masked = redact_text(text)
    assert secret not in masked
    assert MASK in masked


@pytest.mark.parametrize(
    "text",
    [
        "arn:aws:iam::111111111111:role/eval-harness",
        "arn:aws:s3:::api-logs-prod/requests/*",
        "s3://consumer-chats/opt-in/2026/",
        "sha256 a2a2420b68f515c259905ef0b014b2272ee6dd1f81b06ac66a9b5b531ada0a57",
        "AROAEXAMPLEROLEID12345",  # a role's unique id is not a credential
        "tokenizer-output",
        "fixtures/leaks/debug-export/leak.yaml:7",
        "the job reads the store (password rotation policy)",
    ],
)
def test_identifiers_are_kept(text: str) -> None:
    assert redact_text(text) == text


def test_secret_condition_values_are_masked_whatever_they_look_like() -> None:
    statement = {"Condition": {"StringEquals": {"sts:ExternalId": ["abc", "def"], "aws:SourceAccount": "111111111111"}}}
    masked = redact(statement)
    assert masked["Condition"]["StringEquals"]["sts:ExternalId"] == [MASK, MASK]
    assert masked["Condition"]["StringEquals"]["aws:SourceAccount"] == "111111111111"
    assert statement["Condition"]["StringEquals"]["sts:ExternalId"] == ["abc", "def"], "the input is not changed"


def test_trust_policy_external_id_never_reaches_the_report(write_yaml: WriteYaml) -> None:
    inventory = write_yaml(
        """
        version: 1
        principals:
          - id: vendor-reader
            arn: arn:aws:iam::111111111111:role/vendor-reader
            trust_policy:
              Version: "2012-10-17"
              Statement:
                - Effect: Allow
                  Principal: {AWS: "arn:aws:iam::999999999999:root"}
                  Action: sts:AssumeRole
                  Condition: {StringEquals: {"sts:ExternalId": "vendor-shared-secret-42"}}
            can_read: [api-logs]
        """
    )
    report = audit_sources(EXAMPLE_ORG, inventory)
    assert any("vendor-reader" in {hop.node for hop in f.path} for f in report.findings), "the trust is cited"
    assert "vendor-shared-secret-42" not in report.model_dump_json()


@given(
    st.lists(
        st.sampled_from(
            [
                "AKIA",
                "IOSFODNN7EXAMPLE",
                "aws_secret_access_key",
                "Password",
                "API-KEY",
                " = ",
                ":",
                "hunter2hunter2",
                "https://",
                "deploy:pw",
                "@",
                "ghp_",
                "xoxb-",
                "sk-",
                "eyJ",
                "abcdefghij.",
                "-----BEGIN RSA PRIVATE KEY-----",
                "-----END RSA PRIVATE KEY-----",
                "a" * 20,
                "/",
                " ",
                "\n",
                # whole secrets of every pattern, in several cases, so most draws hold one
                "AKIAIOSFODNN7EXAMPLE",
                "API_KEY=0123456789abcdef",
                "Token: ABCDEFGH12",
                "passwd=hunter2hunter2",
                "SECRET-KEY: s3cr3tv4lue",
                "https://u:pw@example.com",
                "ghp_" + "b" * 36,
                "xoxp-1234567890-abc",
                "sk-ant-" + "C" * 24,
                "eyJxxxxxxxxxx.yyyyyyyyyy.zzzzzzzzzz",
            ]
        ),
        max_size=12,
    ).map("".join)
)
def test_the_quick_prefilter_never_skips_a_string_a_pattern_matches(text: str) -> None:
    """Strings without any of the prefilter's literals go unsearched: that must never skip
    a secret the patterns would find."""
    if any(pattern.search(text) for pattern in PATTERNS):
        assert might_hold_secret(text)

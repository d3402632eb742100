"""Secrets of every shape the issue lists are masked in every format the run writes (json,
html, md, sarif, junit, the PDF's text and the manifest). Each secret is first shown to reach
the format when redaction is off, so a format that quotes nothing proves nothing."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from pypdf import PdfReader

from audit.redact import MASK, redact, redact_text
from tests.conftest import EXAMPLE_ORG, invoke

BARE_AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SECRETS = {
    "bare AWS secret key": BARE_AWS_SECRET,
    "JSON-quoted SecretAccessKey": "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd",
    "JSON-quoted password": "hunter2hunter2",
    "opaque bearer token": "opaqueTOKENvalue1234",
    "PEM key without END": "MIIEowIBAAKCAQEAxyzSECRETBODY",
    "PGP private key block": "lQOYBFsecretpgpbody",
    "URL password with / and @": "pa/ss@w0rd",
    "secret as a mapping key": "Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lz9Xc8Vb7N",
    "keyword in a file name": "tok3nInAPath",
}

LEAK = f"""
version: 1
principals:
  - id: {BARE_AWS_SECRET}
    arn: arn:aws:iam::111111111111:role/vendor-reader
    trust_policy:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal: {{AWS: "arn:aws:iam::999999999999:root"}}
          Action: sts:AssumeRole
          Condition:
            StringEquals:
              "{SECRETS["secret as a mapping key"]}": "Authorization: Bearer {SECRETS["opaque bearer token"]}"
              "aws:PrincipalTag/x": '{{"SecretAccessKey": "{SECRETS["JSON-quoted SecretAccessKey"]}", "password": "{SECRETS["JSON-quoted password"]}"}}'
              "aws:PrincipalTag/y": "-----BEGIN RSA PRIVATE KEY-----\\n{SECRETS["PEM key without END"]}"
              "aws:PrincipalTag/z": "-----BEGIN PGP PRIVATE KEY BLOCK-----\\n{SECRETS["PGP private key block"]}\\n-----END PGP PRIVATE KEY BLOCK-----"
              "aws:Referer": "https://deploy:{SECRETS["URL password with / and @"]}@ci.example.com/hook"
    can_read: [api-logs]
"""
FORMATS = "json,html,md,sarif,junit,pdf"


def _run(tmp_path: Path, name: str) -> dict[str, str]:
    leak_dir = tmp_path / "in"
    leak_dir.mkdir(exist_ok=True)
    leak = leak_dir / f"token={SECRETS['keyword in a file name']}.yaml"
    leak.write_text(textwrap.dedent(LEAK).lstrip())
    out = tmp_path / name
    result = invoke("run", str(EXAMPLE_ORG), str(leak), "--out", str(out), "--format", FORMATS)
    assert result.exit_code == 1, result.stderr
    texts = {}
    for path in sorted(out.iterdir()):
        if path.suffix == ".pdf":
            text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
            texts[path.name] = text.replace("\n", "").replace(" ", "")
        else:
            texts[path.name] = path.read_text(encoding="utf-8").replace("\\/", "/")
    return texts


def _reaches(texts: dict[str, str], secret: str) -> set[str]:
    return {name for name, text in texts.items() if secret in text or secret.replace(" ", "") in text}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], dict[str, str]]:
    tmp = tmp_path_factory.mktemp("corpus")
    if not shutil.which("chromium") and not shutil.which("chromium-browser"):
        raise RuntimeError("the PDF format needs Debian's chromium package")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("audit.engine.redact", lambda value: value)
        unmasked = _run(tmp, "unmasked")
    return unmasked, _run(tmp, "masked")


def test_every_secret_reaches_some_format_when_redaction_is_off(runs: tuple[dict[str, str], dict[str, str]]) -> None:
    unmasked, _ = runs
    for shape, secret in SECRETS.items():
        assert _reaches(unmasked, secret), shape
    covered = set().union(*(_reaches(unmasked, s) for s in SECRETS.values()))
    assert covered == {
        "manifest.json",
        "report.html",
        "report.json",
        "report.md",
        "report.sarif",
        "report.junit.xml",
        "report.pdf",
    }


@pytest.mark.parametrize("shape", sorted(SECRETS))
def test_no_secret_reaches_any_format(runs: tuple[dict[str, str], dict[str, str]], shape: str) -> None:
    _, masked = runs
    assert not _reaches(masked, SECRETS[shape])
    assert MASK in masked["report.json"]


@pytest.mark.parametrize(
    "text",
    [
        "arn:aws:iam::111111111111:role/eval-harness",
        "sha1 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12",  # hex: an id, not a key
        "sha256 a2a2420b68f515c259905ef0b014b2272ee6dd1f81b06ac66a9b5b531ada0a57",
        "\"column 'text' of sft-chats\"",
        "Authorization header required",
        "a key without a value: password",
        "kms_key arn:aws:kms:us-east-1:111111111111:key/0b7e4c1a-api-logs",
    ],
)
def test_clean_twins_are_kept(text: str) -> None:
    assert redact_text(text) == text


def test_a_secret_mapping_key_is_masked_and_two_stay_two() -> None:
    masked = redact({BARE_AWS_SECRET: 1, "Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lz9Xc8Vb7N": 2, "aws:SourceAccount": 3})
    assert sorted(masked.values()) == [1, 2, 3]
    assert "aws:SourceAccount" in masked
    assert not [k for k in masked if BARE_AWS_SECRET in k]

"""The evidence manifest: every output and input hashed, optionally signed with Ed25519;
``verify`` passes on the untouched directory and fails on any changed byte."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.conftest import EXAMPLE_ORG, LEAKS, invoke


def _write_keys(directory: Path, name: str = "audit") -> tuple[Path, Path]:
    key = Ed25519PrivateKey.generate()
    private = directory / f"{name}.pem"
    public = directory / f"{name}.pub.pem"
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    return _write_keys(tmp_path)


@pytest.fixture
def signed(tmp_path: Path, keys: tuple[Path, Path]) -> Path:
    out = tmp_path / "out"
    result = invoke(
        "run",
        str(EXAMPLE_ORG),
        str(LEAKS / "debug-export"),
        "--out",
        str(out),
        "--format",
        "html,json,md,sarif",
        "--sign-key",
        str(keys[0]),
    )
    assert result.exit_code == 1, result.stderr  # the leak fails the audit; the evidence is still written
    return out


def test_manifest_hashes_every_output_and_input(signed: Path) -> None:
    manifest = json.loads((signed / "manifest.json").read_text())
    outputs = {o["path"]: o for o in manifest["outputs"]}
    assert set(outputs) == {"report.html", "report.json", "report.md", "report.sarif"}
    for name, entry in outputs.items():
        content = (signed / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(content).hexdigest()
        assert entry["bytes"] == len(content)
    inputs = {Path(i["path_or_uri"]).name: i["sha256"] for i in manifest["inputs"]}
    assert inputs["leak.yaml"] == hashlib.sha256((LEAKS / "debug-export" / "leak.yaml").read_bytes()).hexdigest()
    assert len(inputs) == 5
    assert manifest["tool"]["name"] == "tenant-audit"
    assert manifest["command"].startswith("tenant-audit run ")
    assert manifest["created_at"].endswith("+00:00")
    assert manifest["audit"]["verdict"] == "fail"
    assert manifest["signature"]["algorithm"] == "ed25519"


def test_verify_passes_on_the_untouched_directory(signed: Path, keys: tuple[Path, Path]) -> None:
    result = invoke("verify", str(signed), "--public-key", str(keys[1]), "--inputs")
    assert result.exit_code == 0, result.stdout
    assert "signature verifies" in result.stdout
    assert "verified:" in result.stdout
    assert result.stdout.count("sha256 matches") == 4 + 5


@pytest.mark.parametrize("name", ["report.html", "report.json", "report.md", "report.sarif"])
def test_verify_fails_on_one_changed_byte(signed: Path, keys: tuple[Path, Path], name: str) -> None:
    path = signed / name
    content = bytearray(path.read_bytes())
    middle = len(content) // 2
    content[middle] = (content[middle] + 1) % 256
    path.write_bytes(bytes(content))
    result = invoke("verify", str(signed), "--public-key", str(keys[1]))
    assert result.exit_code == 1
    assert f"FAILED   {name}: sha256" in result.stdout
    assert "NOT VERIFIED: 1 problem" in result.stdout


def test_verify_fails_on_a_missing_output(signed: Path) -> None:
    (signed / "report.md").unlink()
    result = invoke("verify", str(signed))
    assert result.exit_code == 1
    assert "report.md: missing" in result.stdout


def test_rewriting_the_manifest_breaks_the_signature(signed: Path, keys: tuple[Path, Path]) -> None:
    # a forger who edits a report and updates its hash in the manifest is caught by the signature
    (signed / "report.md").write_text("# nothing to see\n")
    manifest = json.loads((signed / "manifest.json").read_text())
    for entry in manifest["outputs"]:
        if entry["path"] == "report.md":
            entry["sha256"] = hashlib.sha256(b"# nothing to see\n").hexdigest()
    (signed / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    unsigned_check = invoke("verify", str(signed))
    assert unsigned_check.exit_code == 0  # hashes alone agree ...
    assert "pass --public-key" in unsigned_check.stdout  # ... and the user is told they proved little
    signed_check = invoke("verify", str(signed), "--public-key", str(keys[1]))
    assert signed_check.exit_code == 1
    assert "signature does not verify" in signed_check.stdout


def test_another_key_does_not_verify(signed: Path, tmp_path: Path) -> None:
    _, other_public = _write_keys(tmp_path, "other")
    result = invoke("verify", str(signed), "--public-key", str(other_public))
    assert result.exit_code == 1
    assert "signature does not verify" in result.stdout


def test_signature_file_that_is_not_base64_fails(signed: Path, keys: tuple[Path, Path]) -> None:
    (signed / "manifest.sig").write_text("not a signature!\n")
    result = invoke("verify", str(signed), "--public-key", str(keys[1]))
    assert result.exit_code == 1
    assert "manifest.sig: not a base64 signature" in result.stdout


def test_public_key_demands_a_signature(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    out = tmp_path / "unsigned"
    assert invoke("run", str(EXAMPLE_ORG), "--out", str(out)).exit_code == 0
    assert not (out / "manifest.sig").exists()
    result = invoke("verify", str(out), "--public-key", str(keys[1]))
    assert result.exit_code == 1
    assert "the manifest is not signed" in result.stdout


def test_unsigned_rerun_removes_a_stale_signature(signed: Path) -> None:
    assert (signed / "manifest.sig").exists()
    assert invoke("run", str(EXAMPLE_ORG), "--out", str(signed)).exit_code == 0
    assert not (signed / "manifest.sig").exists()
    # the run owns its report set: the earlier run's report.md and report.sarif go with its signature
    assert sorted(p.name for p in signed.iterdir()) == ["manifest.json", "report.html", "report.json"]
    result = invoke("verify", str(signed))
    assert result.exit_code == 0
    assert "not covered by the manifest" not in result.stdout


def test_signature_is_over_the_exact_manifest_bytes(signed: Path, keys: tuple[Path, Path]) -> None:
    public = serialization.load_pem_public_key(keys[1].read_bytes())
    signature = base64.b64decode((signed / "manifest.sig").read_bytes())
    public.verify(signature, (signed / "manifest.json").read_bytes())  # type: ignore[union-attr, call-arg]


def test_verify_inputs_detects_a_changed_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    org = tmp_path / "org"
    shutil.copytree(EXAMPLE_ORG, org)
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path)  # the manifest names inputs relative to where the audit ran
    assert invoke("run", str(org), "--out", str(out)).exit_code == 0
    stores = org / "stores.yaml"
    stores.write_text(stores.read_text() + "\n# edited after the audit\n")
    assert invoke("verify", str(out)).exit_code == 0  # the outputs are intact
    result = invoke("verify", str(out), "--inputs")
    assert result.exit_code == 1
    assert "input org/stores.yaml: sha256" in result.stdout


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("no-dir", "is not a directory"),
        ("no-manifest", "no manifest.json in"),
        ("bad-key", "not a PEM public key"),
        ("missing-key", "cannot read key"),
    ],
)
def test_verify_usage_errors_exit_2(tmp_path: Path, setup: str, message: str) -> None:
    directory = tmp_path / "out"
    args = ["verify", str(directory)]
    if setup != "no-dir":
        directory.mkdir()
    if setup in ("bad-key", "missing-key"):
        assert invoke("run", str(EXAMPLE_ORG), "--out", str(directory)).exit_code == 0
        key = tmp_path / "key.pem"
        if setup == "bad-key":
            key.write_text("-----BEGIN PUBLIC KEY-----\nnonsense\n-----END PUBLIC KEY-----\n")
        args += ["--public-key", str(key)]
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_corrupt_manifest_fails_verification(signed: Path) -> None:
    (signed / "manifest.json").write_text('{"outputs": [')
    result = invoke("verify", str(signed))
    assert result.exit_code == 1
    assert "manifest.json is not a valid manifest" in result.stdout


@pytest.mark.parametrize("kind", ["ecdsa", "encrypted", "garbage"])
def test_unusable_signing_keys_are_usage_errors_before_the_audit(tmp_path: Path, kind: str) -> None:
    key_path = tmp_path / "key.pem"
    if kind == "ecdsa":
        key = generate_private_key(SECP256R1())
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    elif kind == "encrypted":
        key_path.write_bytes(
            Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"passphrase"),
            )
        )
    else:
        key_path.write_text("hello")
    out = tmp_path / "out"
    result = invoke("run", str(EXAMPLE_ORG), "--out", str(out), "--sign-key", str(key_path))
    assert result.exit_code == 2
    assert {"ecdsa": "not Ed25519", "encrypted": "encrypted", "garbage": "not a PEM private key"}[kind] in result.stderr
    assert not out.exists()

"""The evidence manifest: what an auditor signs.

``manifest.json`` records the SHA-256 of every input the audit read and every report it
wrote, with the tool version, the command line and the time. Optionally it is signed with
an Ed25519 key: ``manifest.sig`` holds the base64 signature of the manifest's exact bytes,
and the manifest names the fingerprint of the public key that verifies it. ``verify``
re-hashes the outputs (and, when asked, the inputs) and checks the signature, so a changed
byte anywhere in the evidence is detected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.errors import UsageError
from audit.files import MAX_SMALL_BYTES, MAX_SOURCE_BYTES, Unreadable, read_regular
from audit.report import Report
from audit.yamlfile import SURROGATE_MESSAGE, lone_surrogate

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
MANIFEST_VERSION = 1
KEY_HINT = (
    "pass an Ed25519 key in PEM form, e.g. made with 'openssl genpkey -algorithm ed25519 -out audit-key.pem' "
    "(public half: 'openssl pkey -in audit-key.pem -pubout -out audit-key.pub.pem')"
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_fingerprint(key: Ed25519PublicKey) -> str:
    return "sha256:" + sha256(_public_bytes(key))


def load_private_key(path: str) -> Ed25519PrivateKey:
    data = _read_key(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise UsageError(f"{path}: the signing key is encrypted", "pass an unencrypted Ed25519 PEM key") from None
    except ValueError:
        raise UsageError(f"{path}: not a PEM private key", KEY_HINT) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(f"{path}: the signing key is not Ed25519", KEY_HINT)
    return key


def load_public_key(path: str) -> Ed25519PublicKey:
    data = _read_key(path)
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        try:  # the private key verifies too: accept it rather than make the user split it
            return load_private_key(path).public_key()
        except UsageError:
            raise UsageError(f"{path}: not a PEM public key", KEY_HINT) from None
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError(f"{path}: the public key is not Ed25519", KEY_HINT)
    return key


def _read_key(path: str) -> bytes:
    try:
        return read_regular(path, MAX_SMALL_BYTES)
    except Unreadable as exc:
        raise UsageError(f"cannot read key {path}: it {exc}", KEY_HINT) from None


def build(
    report: Report,
    outputs: dict[str, bytes],
    *,
    signing_key: Ed25519PrivateKey | None = None,
    now: datetime | None = None,
) -> dict[str, bytes]:
    """The manifest (and its signature) for ``outputs``, as files to write beside them."""
    document: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "tool": {"name": report.tool.name, "version": report.tool.version},
        "command": report.run.command,
        "created_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "audit": {
            "organisation": report.organisation,
            "started_at": report.run.started_at,
            "finished_at": report.run.finished_at,
            "since": report.run.since,
            "suite": report.run.suite,
            "verdict": report.summary.verdict,
        },
        "inputs": [item.model_dump() for item in report.run.inputs],
        "outputs": [
            {"path": name, "sha256": sha256(content), "bytes": len(content)}
            for name, content in sorted(outputs.items())
        ],
    }
    if signing_key is not None:
        document["signature"] = {
            "algorithm": "ed25519",
            "file": SIGNATURE,
            "public_key": key_fingerprint(signing_key.public_key()),
        }
    manifest = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    files = {MANIFEST: manifest}
    if signing_key is not None:
        files[SIGNATURE] = base64.b64encode(signing_key.sign(manifest)) + b"\n"
    return files


@dataclass
class Verification:
    """What ``verify`` established: every check passed, or the list of what failed."""

    checked: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def verify(directory: Path, *, public_key: Ed25519PublicKey | None = None, inputs: bool = False) -> Verification:
    """Re-check a report directory against its manifest."""
    path = directory / MANIFEST
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory", "pass the --out directory of 'tenant-audit run'")
    if not path.exists() and not path.is_symlink():
        raise UsageError(f"no {MANIFEST} in {directory}", "'tenant-audit run' writes one beside the reports")
    result = Verification()
    try:
        raw = read_regular(path, MAX_SOURCE_BYTES)
    except Unreadable as exc:
        raise UsageError(f"cannot read {path}: it {exc}", "'tenant-audit run' writes one beside the reports") from None
    try:
        document = json.loads(raw)
        outputs = [(str(o["path"]), str(o["sha256"])) for o in document["outputs"]]
        recorded_inputs = [(str(i["path_or_uri"]), str(i["sha256"]), str(i["source"])) for i in document["inputs"]]
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        detail = "nested too deeply" if isinstance(exc, RecursionError) else f"{exc.__class__.__name__}: {exc}"
        result.failures.append(f"{MANIFEST} is not a valid manifest ({detail[:200]})")
        return result
    if lone_surrogate(document, raw.decode("utf-8", "replace")) is not None:
        result.failures.append(f"{MANIFEST} is not a valid manifest (it {SURROGATE_MESSAGE})")
        return result
    _check_signature(directory, raw, document, public_key, result)
    _check_outputs(directory, outputs, result)
    listed = {name for name, _ in outputs} | {MANIFEST, SIGNATURE}
    for extra in sorted(p.name for p in directory.iterdir() if p.name not in listed):
        if extra.startswith(("report.", "manifest.")):
            # a report file the manifest does not cover: the directory mixes two runs
            result.failures.append(f"{extra}: a report file the manifest does not list (left by another run?)")
        else:
            result.notes.append(f"{extra}: not covered by the manifest")
    if inputs:
        _check_inputs(recorded_inputs, result)
    return result


def _check_outputs(directory: Path, outputs: list[tuple[str, str]], result: Verification) -> None:
    for name, expected in outputs:
        shown = name if len(name) <= 120 else name[:117] + "..."
        if Path(name).is_absolute() or ".." in Path(name).parts or "/" in name or "\\" in name:
            result.failures.append(f"{shown}: the manifest names a file outside the directory")
            continue
        try:
            actual = sha256(read_regular(directory / name, MAX_SOURCE_BYTES))
        except Unreadable as exc:
            result.failures.append(f"{shown}: {'missing' if 'does not exist' in str(exc) else str(exc)}")
            continue
        if actual != expected:
            result.failures.append(f"{shown}: sha256 {actual} does not match the manifest's {expected}")
        else:
            result.checked.append(f"{shown}: sha256 matches")


def _check_inputs(recorded_inputs: list[tuple[str, str, str]], result: Verification) -> None:
    for location, expected, source in recorded_inputs:
        if source == "aws" or "://" in location:
            result.notes.append(f"input {location} ({source}): not a local file, not re-checked")
            continue
        try:
            actual = sha256(read_regular(location, MAX_SOURCE_BYTES))
        except Unreadable as exc:
            result.failures.append(f"input {location} ({source}): {exc}")
            continue
        if actual != expected:
            result.failures.append(f"input {location}: sha256 {actual} does not match the manifest's {expected}")
        else:
            result.checked.append(f"input {location}: sha256 matches")


def _check_signature(
    directory: Path,
    raw: bytes,
    document: dict[str, Any],
    public_key: Ed25519PublicKey | None,
    result: Verification,
) -> None:
    signature_file = directory / SIGNATURE
    signed = isinstance(document.get("signature"), dict) or signature_file.exists()
    if public_key is None:
        if signed:
            result.notes.append("the manifest is signed; pass --public-key to check the signature")
        else:
            result.notes.append("the manifest is not signed: it proves integrity only against accidental change")
        return
    if not signature_file.exists():
        result.failures.append(f"{SIGNATURE}: missing, but a public key was given: the manifest is not signed")
        return
    try:
        signature = base64.b64decode(read_regular(signature_file, MAX_SMALL_BYTES).strip(), validate=True)
    except Unreadable as exc:
        result.failures.append(f"{SIGNATURE}: {exc}")
        return
    except (binascii.Error, ValueError):
        result.failures.append(f"{SIGNATURE}: not a base64 signature")
        return
    try:
        public_key.verify(signature, raw)
    except InvalidSignature:
        result.failures.append(
            f"{SIGNATURE}: the signature does not verify with key {key_fingerprint(public_key)}: "
            "the manifest was changed or signed with another key"
        )
        return
    result.checked.append(f"{MANIFEST}: Ed25519 signature verifies with key {key_fingerprint(public_key)}")

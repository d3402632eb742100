"""What each claim's verdict rests on, and the verdict in words built from it.

A verdict is only as strong as what was examined. The basis of a claim lists its checks,
the kind of evidence each examined (configuration, IAM policies, lineage, the content in
full or a sample with the leak rate it rules out at 95% confidence) and what was not
examined; the statement every format shows is written from it, so "full coverage" is said
only when nothing in the claim's scope went unexamined, a configuration audit says that the
data itself was not read, and a sampled scan states its bound.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from audit.checkapi import Check
from audit.inventory import Inventory
from audit.report import (
    VERDICT_WORDS,
    CheckBasis,
    CheckRun,
    ClaimBasis,
    ContentBasis,
    EvidenceKind,
    Gap,
    Verdict,
)

if TYPE_CHECKING:
    from audit.content.results import ContentResults

# What a check family reads when the check does not say (Check.evidence): graph checks read
# the configuration, the IAM policies that make potential edges, and lineage; store settings
# are configuration alone.
FAMILY_EVIDENCE: dict[str, tuple[EvidenceKind, ...]] = {
    "ISO": ("configuration", "iam", "lineage"),
    "ACC": ("configuration", "iam", "lineage"),
    "EXP": ("configuration", "iam", "lineage"),
    "SEP": ("configuration", "iam", "lineage"),
    "ERA": ("configuration", "iam", "lineage"),
    "PII": ("configuration", "iam", "lineage"),
    "RET": ("configuration",),
    "ENC": ("configuration",),
}
EVIDENCE_WORDS = {"iam": "IAM policies", "lineage": "lineage"}
SOURCE_WORDS = {
    "inventory": "the described inventory",
    "terraform": "the Terraform plan",
    "aws": "the AWS estate",
    "openlineage": "OpenLineage events",
}


def evidence_kinds(check: Check, inventory: Inventory, content: ContentResults | None) -> list[EvidenceKind]:
    """The kinds of evidence a check examined in this run."""
    if check.content is not None:
        if content is None or content.failed:
            return []
        sampled = any(d.role == "training" and d.sample_rate < 1.0 for d in content.datasets)
        return ["content-sampled" if sampled else "content-full"]
    declared = check.evidence or FAMILY_EVIDENCE.get(check.id[:3], ("configuration",))
    sources = {i.source for i in inventory.inputs}
    has_policies = any(p.policies or p.trust_policy for p in inventory.principals.values()) or any(
        s.policy for s in inventory.stores.values()
    )
    kinds: list[EvidenceKind] = []
    for kind in declared:
        if (kind == "iam" and not has_policies) or (kind == "lineage" and "openlineage" not in sources):
            continue
        kinds.append(kind)  # type: ignore[arg-type]
    return kinds


def content_basis(content: ContentResults) -> ContentBasis:
    training = [d for d in content.datasets if d.role == "training"]
    rates = {d.sample_rate for d in training}
    bounds = [b for b in (d.leak_rate_bound() for d in training) if b is not None]
    return ContentBasis(
        datasets=len(training),
        records=sum(d.rows for d in training),
        examined=sum(d.scanned for d in training),
        sample_rate=min(rates) if rates and min(rates) < 1.0 else None,
        leak_rate_ruled_out_95=max(bounds) if bounds else None,
        faults=sum(len(d.faults) for d in training),
    )


def claim_basis(
    claim_id: str,
    checks: Mapping[str, Check],
    runs: Mapping[str, CheckRun],
    inventory: Inventory,
    content: ContentResults | None,
    suite_name: str,
    data_claims: Iterable[str],
    gaps: Sequence[Gap],
    found: bool = False,
) -> ClaimBasis:
    """The basis of one claim. ``checks`` are the claim's checks (by id); ``data_claims`` the
    claims some installed content check bears on (for them, not reading the data is a limit);
    ``found``: contradicting findings exist (a sample then found something, it rules out nothing)."""
    basis = ClaimBasis()
    for check_id, check in sorted(checks.items()):
        run = runs.get(check_id)
        status = run.status if run is not None else "failed"
        kinds = evidence_kinds(check, inventory, content) if status == "ran" else []
        basis.checks.append(
            CheckBasis(id=check_id, title=check.title, status=status, evidence=kinds, examined=_words(kinds, inventory))
        )
        if status == "failed":
            basis.not_examined.append(f"{check_id} failed to run")
    content_checks = [c for c in basis.checks if checks[c.id].content is not None and c.evidence]
    if content_checks and content is not None and not content.failed:
        basis.content = content_basis(content)
    if not checks:
        basis.not_examined.append("no check of the suite bears on the claim")
    if claim_id in set(data_claims) and basis.content is None:
        basis.not_examined.append(
            f"content not scanned: the {suite_name} suite is a configuration audit (the data itself was not "
            "examined; run the content suite to read it)"
            if not any(c.content is not None for c in checks.values())
            else "content not scanned: the content scan failed or read nothing"
        )
    sampled = basis.content is not None and basis.content.sample_rate is not None
    basis.full_coverage = bool(checks) and not gaps and not basis.not_examined and not sampled
    basis.summary = _summary(basis, found)
    return basis


def _words(kinds: Sequence[EvidenceKind], inventory: Inventory) -> str:
    words = []
    for kind in kinds:
        if kind == "configuration":
            read = {i.source for i in inventory.inputs if i.source != "openlineage"}
            sources = sorted(SOURCE_WORDS.get(source, source) for source in read)
            words.append(f"configuration ({', '.join(sources) or 'no source'})")
        elif kind == "content-full":
            words.append("the content of every training record")
        elif kind == "content-sampled":
            words.append("a sample of the training records")
        else:
            words.append(EVIDENCE_WORDS[kind])
    return ", ".join(words)


def _percent(value: float) -> str:
    text = f"{value * 100:.2g}" if value * 100 < 10 else f"{value * 100:.1f}"
    return f"{float(text):g}%"


def sample_sentence(content: ContentBasis, found: bool) -> str:
    rate = _percent(content.sample_rate or 1.0)
    head = (
        f"contradicting records found in a {rate} sample"
        if found
        else f"no contradicting record in a {rate} sample ({content.examined:,} of {content.records:,} records)"
    )
    if content.leak_rate_ruled_out_95 is None or found:
        return head
    return f"{head}; a leak rate above {_percent(content.leak_rate_ruled_out_95)} is ruled out at 95% confidence"


def _summary(basis: ClaimBasis, found: bool) -> str:
    parts = []
    for check in basis.checks:
        if check.status == "ran":
            parts.append(f"{check.id} ({check.title}) examined {check.examined or 'nothing'}")
    if basis.content is not None:
        if basis.content.sample_rate is None:
            parts.append(
                f"every one of {basis.content.examined:,} records of {basis.content.datasets} training "
                f"dataset{'s' if basis.content.datasets != 1 else ''} examined"
            )
        else:
            parts.append(sample_sentence(basis.content, found))
    parts.extend(basis.not_examined)
    return "; ".join(parts)


def statement(verdict: Verdict, text: str, basis: ClaimBasis) -> str:
    """The verdict in words, with what it rests on (no final full stop: renderers add one)."""
    claim = f"{text[0].lower()}{text[1:]}"
    if verdict == "no-evidence-contradicting":
        if basis.full_coverage:
            lead = "No evidence contradicting the claim, with full coverage"
        elif basis.content is not None and basis.content.sample_rate is not None:
            lead = "No evidence contradicting the claim in a sample of the data"
        elif any(n.startswith("content not scanned: the") and "configuration audit" in n for n in basis.not_examined):
            lead = "No evidence contradicting the claim on configuration alone"
        else:
            lead = "No evidence contradicting the claim, on a limited basis"
        return f"{lead}: {claim}. Basis: {basis.summary}"
    return f"{VERDICT_WORDS[verdict]}: {claim}. Basis: {basis.summary}"


def short_basis(basis: ClaimBasis | None) -> str:
    """A few words for a terminal table: what the verdict rests on."""
    if basis is None:
        return ""
    if basis.full_coverage:
        return "full coverage"
    if basis.content is not None and basis.content.sample_rate is not None:
        bound = basis.content.leak_rate_ruled_out_95
        rate = _percent(basis.content.sample_rate)
        return f"{rate} sample" + (f"; rate > {_percent(bound)} ruled out (95%)" if bound is not None else "")
    if any("configuration audit" in n for n in basis.not_examined):
        return "configuration only; data not examined"
    return "limited: " + "; ".join(basis.not_examined) if basis.not_examined else "coverage gaps"

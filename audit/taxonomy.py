"""The built-in data classes and gate kinds. An organisation may add its own or adjust these."""

from __future__ import annotations

from audit.model import DataClass

BUILTIN_DATA_CLASSES: dict[str, DataClass] = {
    "commercial-api": DataClass(
        description="Inputs and outputs of commercial API customers",
        protected=True,
        max_retention_days=30,
        personal_data=True,
    ),
    "enterprise": DataClass(description="Enterprise tenant data", protected=True, personal_data=True),
    "gov": DataClass(description="Government tenant data", protected=True, personal_data=True),
    "education": DataClass(description="Education tenant data", protected=True, personal_data=True),
    "consumer-opt-out": DataClass(
        description="Consumer data of users who did not consent to training",
        protected=True,
        personal_data=True,
        removed_by=["consent-filter"],
    ),
    "consumer-opt-in": DataClass(
        description="Consumer data of users who consented to training "
        "(through the consent-filter and pii-scrub gates only)",
        max_retention_days=5 * 365,
        personal_data=True,
    ),
    "feedback": DataClass(
        description="User feedback on model outputs (through the de-link gate only)",
        personal_data=True,
        removed_by=["de-link"],
    ),
    "public-web": DataClass(description="Public web data; may train"),
    "licensed": DataClass(description="Licensed data; may train"),
    "synthetic": DataClass(description="Synthetic data; may train"),
    "training": DataClass(description="Training datasets (a training sink)", training_sink=True),
    "model-artifact": DataClass(description="Model weights, checkpoints and evaluations"),
}

BUILTIN_GATE_KINDS: frozenset[str] = frozenset({"consent-filter", "pii-scrub", "de-link", "anonymise"})

"""KMS keys in a plan: their ARN (planned when unknown), key policy and rotation."""

from __future__ import annotations

from audit.model import KmsKey, Provenance
from audit.sources.terraform.builder import SOURCE, Builder, Draft, indexed
from audit.sources.terraform.policies import document


class Keys(Builder):
    def _keys(self) -> None:
        for key in self.plan.of_type("aws_kms_key"):
            with self.guard(key):
                arn = (
                    key.get("arn")
                    if not key.is_unknown("arn") and key.get("arn")
                    else (f"arn:aws:kms:planned::key/{key.address}")
                )
                draft = Draft(key.address, {"arn": arn}, {"arn": self.at(key)})
                policy, notes = document(self.plan, key, "policy")
                for note in notes:
                    self.note(f"kms:{arn}", note)
                if policy is not None:
                    draft.fields["policy"], draft.locations["policy"] = policy, self.at(key)
                rotation = key.get("enable_key_rotation")
                if not key.is_unknown("enable_key_rotation") and rotation is not None:
                    draft.fields["rotation_enabled"] = bool(rotation)
                    draft.locations["rotation_enabled"] = self.at(key)
                self.keys[key.address] = draft

    def _key(self, draft: Draft) -> KmsKey:
        key = KmsKey(**draft.fields)
        key.provenance = Provenance(source=SOURCE, location=draft.locations["arn"], fields=indexed(draft))
        return key

"""Bedrock model customisation jobs (training sinks) and Glue catalog tables in a plan."""

from __future__ import annotations

from typing import Any

from audit.model import Job, Provenance, Store
from audit.sources.aws.tags import values
from audit.sources.terraform.builder import SOURCE, Builder


class JobsAndTables(Builder):
    def _jobs_and_tables(self) -> None:
        by_arn = {
            str(d.fields.get("arn")): str(d.fields["id"]) for d in self.principals.values() if d.fields.get("arn")
        }
        for resource in self.plan.of_type("aws_bedrock_custom_model"):
            with self.guard(resource):
                name = resource.get("job_name") or resource.get("custom_model_name") or resource.address
                reads = [c.get("s3_uri") for c in resource.get("training_data_config") or []]
                for validation in resource.get("validation_data_config") or []:
                    reads += [v.get("s3_uri") for v in validation.get("validator") or []]
                writes = [c.get("s3_uri") for c in resource.get("output_data_config") or []]
                fields: dict[str, Any] = {
                    "id": str(name),
                    "kind": "training",
                    "reads": [r for r in reads if r],
                    "writes": [w for w in writes if w],
                    "description": f"Bedrock model customisation {resource.address}",
                }
                role = self.plan.referenced(resource, "role_arn", "aws_iam_role")
                if role is not None and role.address in self.principals:
                    fields["runs_as"] = self.principals[role.address].fields["id"]
                elif resource.get("role_arn"):
                    fields["runs_as"] = by_arn.get(str(resource.get("role_arn")), str(resource.get("role_arn")))
                if any(resource.is_unknown(a) for a in ("training_data_config", "output_data_config")):
                    self.note(
                        f"job:{name}",
                        "some of the job's S3 locations are unknown until apply: what it trains on is not fully known",
                        ("ISO-*",),
                    )
                job = Job(**fields)
                job.provenance = Provenance(source=SOURCE, location=self.at(resource))
                self.jobs.append(job)
        for resource in self.plan.of_type("aws_glue_catalog_table"):
            with self.guard(resource):
                location = ((resource.get("storage_descriptor") or [{}])[0]).get("location")
                if not location:
                    continue
                parameters = {str(k): str(v) for k, v in (resource.get("parameters") or {}).items()}
                fields = {
                    "id": f"{resource.get('database_name')}.{resource.get('name')}",
                    "kind": "table",
                    "location": location,
                }
                if values(parameters, self.mapping.data_class):
                    fields["classes"] = values(parameters, self.mapping.data_class)
                store = Store(**fields)
                store.provenance = Provenance(source=SOURCE, location=self.at(resource))
                self.stores.append(store)

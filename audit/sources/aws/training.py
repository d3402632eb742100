"""Training jobs: SageMaker training jobs and Bedrock model-customisation jobs. A training
job *is* a training sink: whatever its S3 inputs hold, it trains on."""

from __future__ import annotations

from typing import Any

from audit.model import Job, Provenance
from audit.sources.aws.fetch import FAILED, Fetcher

TRAINING_CHECKS = ("ISO-*", "SEP-*")


def get_sagemaker_jobs(fetcher: Fetcher, sagemaker: Any) -> list[dict[str, Any]] | Any:
    scope = f"account:{fetcher.account}"
    summaries = fetcher.pages(
        scope,
        "sagemaker:ListTrainingJobs",
        sagemaker.get_paginator("list_training_jobs"),
        "TrainingJobSummaries",
        checks=TRAINING_CHECKS,
    )
    if summaries is FAILED:
        return FAILED
    jobs = []
    for summary in summaries:
        name = summary["TrainingJobName"]
        described = fetcher.call(
            f"job:{name}",
            f"sagemaker:DescribeTrainingJob {name}",
            sagemaker.describe_training_job,
            TrainingJobName=name,
            checks=TRAINING_CHECKS,
        )
        if described is not FAILED:
            jobs.append(described)
    return jobs


def get_bedrock_jobs(fetcher: Fetcher, bedrock: Any) -> list[dict[str, Any]] | Any:
    scope = f"account:{fetcher.account}"
    summaries = fetcher.pages(
        scope,
        "bedrock:ListModelCustomizationJobs",
        bedrock.get_paginator("list_model_customization_jobs"),
        "modelCustomizationJobSummaries",
        checks=TRAINING_CHECKS,
    )
    if summaries is FAILED:
        return FAILED
    jobs = []
    for summary in summaries:
        # the API takes a job's name or ARN; the name keeps the request path simple
        identifier = summary.get("jobName") or summary["jobArn"]
        described = fetcher.call(
            f"job:{identifier}",
            f"bedrock:GetModelCustomizationJob {identifier}",
            bedrock.get_model_customization_job,
            jobIdentifier=identifier,
            checks=TRAINING_CHECKS,
        )
        if described is not FAILED:
            jobs.append(described)
    return jobs


def transform_sagemaker_job(raw: dict[str, Any], account: str, principal_ids: dict[str, str]) -> Job:
    name = raw["TrainingJobName"]
    reads = [
        c["DataSource"]["S3DataSource"]["S3Uri"]
        for c in raw.get("InputDataConfig", [])
        if "S3DataSource" in c.get("DataSource", {})
    ]
    output = raw.get("OutputDataConfig", {}).get("S3OutputPath")
    call = f"aws:{account}:sagemaker:DescribeTrainingJob {name}"
    return _job(
        name,
        raw.get("RoleArn"),
        reads,
        [output] if output else [],
        account,
        call,
        principal_ids,
        f"SageMaker training job {name} ({raw.get('TrainingJobStatus', 'unknown status')})",
    )


def transform_bedrock_job(raw: dict[str, Any], account: str, principal_ids: dict[str, str]) -> Job:
    name = raw.get("jobName") or raw["jobArn"].rsplit("/", 1)[-1]
    reads = [raw.get("trainingDataConfig", {}).get("s3Uri")]
    reads += [v.get("s3Uri") for v in raw.get("validationDataConfig", {}).get("validators", [])]
    output = raw.get("outputDataConfig", {}).get("s3Uri")
    call = f"aws:{account}:bedrock:GetModelCustomizationJob {name}"
    return _job(
        name,
        raw.get("roleArn"),
        [r for r in reads if r],
        [output] if output else [],
        account,
        call,
        principal_ids,
        f"Bedrock model customisation job {name} ({raw.get('status', 'unknown status')})",
    )


def _job(
    job_id: str,
    role_arn: str | None,
    reads: list[str],
    writes: list[str],
    account: str,
    call: str,
    principal_ids: dict[str, str],
    description: str,
) -> Job:
    fields: dict[str, Any] = {
        "id": job_id,
        "kind": "training",
        "reads": reads,
        "writes": writes,
        "account": account,
        "description": description,
    }
    if role_arn:
        fields["runs_as"] = principal_ids.get(role_arn, role_arn)
    job = Job(**fields)
    locations = {f"reads[{i}]": call for i in range(len(reads))} | {f"writes[{i}]": call for i in range(len(writes))}
    job.provenance = Provenance(source="aws", location=call, fields={**locations, "runs_as": call})
    return job

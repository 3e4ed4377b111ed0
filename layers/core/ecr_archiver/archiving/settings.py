"""Environment settings of the two archiving functions (validated once, at import)."""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from ecr_archiver.settings import EnvSettings


class PlannerSettings(EnvSettings):
    config_parameter_name: str = Field(alias="CONFIG_PARAMETER_NAME", min_length=1)
    work_queue_url: str = Field(alias="WORK_QUEUE_URL", min_length=1)
    report_bucket: str = Field(alias="REPORT_BUCKET", min_length=3)
    #: The template's DryRun parameter: ``true`` wins over the configuration.
    dry_run: bool = Field(default=True, alias="DRY_RUN")
    #: Work messages are delayed so previews can finish (SQS allows at most 900 s).
    preview_delay_seconds: int = Field(default=120, alias="PREVIEW_DELAY_SECONDS", ge=0, le=900)
    #: The archive worker's role: when it is in the pull-time update exclusion list, index
    #: manifests are read exactly; otherwise (or unset) the run is conservative.
    worker_role_arn: str | None = Field(
        default=None, alias="WORKER_ROLE_ARN", pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$"
    )


class WorkerSettings(EnvSettings):
    work_queue_url: str = Field(alias="WORK_QUEUE_URL", min_length=1)
    report_bucket: str = Field(alias="REPORT_BUCKET", min_length=3)
    #: Checked again here, so a forced dry run holds even for messages planned before the change.
    dry_run: bool = Field(default=True, alias="DRY_RUN")
    #: UpdateImageStorageClass calls per second for the whole account, shared by every worker.
    archive_max_tps: float = Field(default=20.0, alias="ARCHIVE_MAX_TPS", gt=0, le=1000)
    #: How many workers may run at once (the event source's MaximumConcurrency).
    worker_max_concurrency: int = Field(default=1, alias="WORKER_MAX_CONCURRENCY", ge=1, le=1000)
    archive_concurrency: int = Field(default=8, alias="ARCHIVE_CONCURRENCY", ge=1, le=64)
    #: Stop submitting this long before the Lambda timeout and re-enqueue a continuation.
    time_budget_margin_seconds: int = Field(default=60, alias="TIME_BUDGET_MARGIN_SECONDS", ge=1, le=600)
    #: Visibility timeout given to a message whose preview is not ready yet.
    preview_retry_seconds: int = Field(default=60, alias="PREVIEW_RETRY_SECONDS", ge=0, le=43_200)

    #: The stack's state table: the account-wide archive rate schedule and the delivery records.
    #: Unset (local runs), each instance takes an equal share of the rate and redeliveries are
    #: recognised by a marker in the report bucket.
    state_table_name: str | None = Field(default=None, alias="STATE_TABLE_NAME", min_length=3)
    #: The registry (account id) whose rate the schedule shares.
    registry_id: str | None = Field(default=None, alias="REGISTRY_ID", pattern=r"^[0-9]{12}$")
    #: Longest stretch of the schedule one lease takes (demand decides below it).
    rate_lease_seconds: float = Field(default=1.0, alias="ARCHIVE_RATE_LEASE_SECONDS", gt=0, le=10)

    @property
    def instance_max_tps(self) -> float:
        """This instance's share of the account-wide rate when there is no shared schedule.

        Workers that cannot see each other each take an equal share: with every worker busy the
        account stays at ARCHIVE_MAX_TPS instead of N times it (and throttled retries).
        """
        return self.archive_max_tps / self.worker_max_concurrency

    @model_validator(mode="after")
    def _schedule_needs_registry(self) -> WorkerSettings:
        if self.state_table_name is not None and self.registry_id is None:
            raise ValueError(
                "REGISTRY_ID (the account id whose archive rate is shared) is required with STATE_TABLE_NAME"
            )
        return self

    @property
    def archive_threads(self) -> int:
        """ARCHIVE_CONCURRENCY, raised so one worker can reach the whole rate at 200 ms per call.

        With the shared schedule a worker alone on a repository may use all of ARCHIVE_MAX_TPS;
        at 100 TPS and 100 ms per call that takes 10 calls in flight.
        """
        wanted = math.ceil((self.archive_max_tps if self.shared_rate else self.instance_max_tps) * 0.2)
        return min(64, max(self.archive_concurrency, wanted))

    @property
    def shared_rate(self) -> bool:
        return self.state_table_name is not None

"""Read previews: the page a cursor points at, and the pages after it.

A preview that cannot serve the run (none, EXPIRED, started with another policy, an unknown
status) is restarted and the message retried later (:class:`PreviewNotReady`); one still
IN_PROGRESS is only waited for.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from ecr_archiver.archiving.errors import PreviewNotReady
from ecr_archiver.archiving.models import Cursor, WorkMessage
from ecr_archiver.archiving.stages.ports import PreviewRegistry
from ecr_archiver.archiving.stages.reads import read
from ecr_archiver.errors import InvalidParameter, LifecyclePolicyInvalid, PreviewInProgress, PreviewNotFound
from ecr_archiver.lifecycle.policy import policy_hash
from ecr_archiver.observability import MetricUnit, logger, metrics


def same_policy(returned: str | None, message: WorkMessage) -> bool:
    """Whether the preview was started with the message's policy."""
    if not returned:
        return False
    try:
        return policy_hash(returned) == message.policy_hash
    except LifecyclePolicyInvalid:
        return returned == message.policy_text


@dataclass(frozen=True)
class OpenedPreview:
    """The page the cursor points at (``None``: the preview FAILED) and the cursor that read it.

    The cursor is the message's, or a fresh one from the top when its page token had expired.
    """

    page: dict[str, Any] | None
    cursor: Cursor


class PreviewReader:
    """One repository's lifecycle policy preview, read page by page."""

    def __init__(self, message: WorkMessage, registry: PreviewRegistry, *, page_size: int) -> None:
        self._message = message
        self._repo = message.repository
        self._registry = registry
        self._page_size = page_size

    def open(self, cursor: Cursor) -> OpenedPreview:
        """The page ``cursor`` points at; raises ``PreviewNotReady`` when the message must wait."""
        page, cursor = self._first_page(cursor)
        return OpenedPreview(self._checked(page), cursor)

    def page_at(self, token: str) -> dict[str, Any]:
        """The page at ``token``; a failure is raised as ``ReadFailed``."""
        return read(
            partial(self._registry.get_preview_page, self._repo, next_token=token, page_size=self._page_size)
        )

    def _first_page(self, cursor: Cursor) -> tuple[dict[str, Any], Cursor]:
        while True:
            try:
                page = self._registry.get_preview_page(
                    self._repo, next_token=cursor.page_token, page_size=self._page_size
                )
            except PreviewNotFound:
                raise self._restart("no preview") from None
            except InvalidParameter:
                if cursor.page_token is None:
                    raise
                # The preview was restarted since the cursor was written, so its token is gone.
                # Start the new preview from the top: images archived meanwhile are no longer
                # STANDARD candidates (or are skipped as ALREADY_ARCHIVED), so none is archived twice.
                logger.warning("continuation token no longer valid; reading the preview from the start")
                cursor = Cursor(invocation=cursor.invocation)
                continue
            return page, cursor

    def _checked(self, page: dict[str, Any]) -> dict[str, Any] | None:
        status = page.get("status")
        if status == "IN_PROGRESS":
            metrics.add_metric(name="PreviewsNotReady", unit=MetricUnit.Count, value=1)
            raise PreviewNotReady(f"{self._repo}: preview IN_PROGRESS")
        if status == "EXPIRED":
            raise self._restart("preview EXPIRED")
        if not same_policy(page.get("lifecyclePolicyText"), self._message):
            raise self._restart("the preview was started with another policy")
        if status == "FAILED":
            return None
        if status != "COMPLETE":
            raise self._restart(f"unexpected preview status {status!r}")
        return page

    def _restart(self, why: str) -> PreviewNotReady:
        try:
            self._registry.start_preview(self._repo, self._message.policy_text)
            action = "restarted"
        except PreviewInProgress:
            action = "another preview is still running"
        metrics.add_metric(name="PreviewsNotReady", unit=MetricUnit.Count, value=1)
        logger.info("preview not ready", extra={"repository": self._repo, "why": why, "action": action})
        return PreviewNotReady(f"{self._repo}: {why}; {action}")

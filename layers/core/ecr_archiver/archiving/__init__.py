"""Scheduled archiving: ECR lifecycle previews decide what a policy selects; we decide what is safe.

``planner.plan_archive_run`` loads the configuration, starts one preview per selected repository,
discovers in-use images once, and fans out one work message per repository. ``worker.archive_candidates``
reads a completed preview, drops everything protected, and archives the rest at a capped rate,
checkpointing into a continuation message before the Lambda time budget runs out.
"""

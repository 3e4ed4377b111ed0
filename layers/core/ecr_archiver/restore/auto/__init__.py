"""Automatic restore: when a workload fails to pull an archived image, restore it (and its referrers).

``events`` turns the EventBridge events of the three sources (an ECS task that failed to start, a
failed Lambda CreateFunction/UpdateFunctionCode, an opt-in ECR BatchGetImage) into a
:class:`~ecr_archiver.restore.auto.models.WorkloadDemand`; ``logic`` decides, image by image,
whether to restore, and restores through the restore capability's own ``restore_described``;
``guards`` holds the two shared-state brakes (one restore per image per dedupe window, and the
hourly cap); ``notices`` words the SNS notice; ``settings`` is the function's environment.
"""

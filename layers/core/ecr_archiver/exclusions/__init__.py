"""Pull-time exclusion sync: keep ECR's registry-wide exclusion list equal to Parameter Store.

Entry point: :func:`ecr_archiver.exclusions.logic.reconcile_exclusions`.
"""

"""AWS's documented archive-era example policies (lifecycle_policy_examples.html), as policy text."""

COMBINED_ARCHIVE_THEN_EXPIRE = """{
    "rules": [
        {
            "rulePriority": 1,
            "description": "Archive images older than 30 days",
            "selection": {
                "tagStatus": "any",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 30
            },
            "action": {
                "type": "transition",
                "targetStorageClass": "archive"
            }
        },
        {
            "rulePriority": 2,
            "description": "Expire images archived for more than 365 days",
            "selection": {
                "tagStatus": "any",
                "storageClass": "archive",
                "countType": "sinceImageTransitioned",
                "countUnit": "days",
                "countNumber": 365
            },
            "action": {
                "type": "expire"
            }
        }
    ]
}"""

ARCHIVE_NOT_PULLED_90_DAYS = """{
    "rules": [
        {
            "rulePriority": 1,
            "description": "Archive images not pulled in 90 days",
            "selection": {
                "tagStatus": "any",
                "countType": "sinceImagePulled",
                "countUnit": "days",
                "countNumber": 90
            },
            "action": {
                "type": "transition",
                "targetStorageClass": "archive"
            }
        }
    ]
}"""

ARCHIVE_PROD_OLDER_THAN_30_DAYS = """{
    "rules": [
        {
            "rulePriority": 1,
            "description": "Archive production images older than 30 days",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": ["prod*"],
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 30
            },
            "action": {
                "type": "transition",
                "targetStorageClass": "archive"
            }
        }
    ]
}"""

ALL = {
    "combined archive then expire": COMBINED_ARCHIVE_THEN_EXPIRE,
    "archive not pulled in 90 days": ARCHIVE_NOT_PULLED_90_DAYS,
    "archive prod older than 30 days": ARCHIVE_PROD_OLDER_THAN_30_DAYS,
}

"""ecr-archiver core package."""

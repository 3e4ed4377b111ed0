"""Adapters: the only modules that import boto3. They return models and raise domain errors."""

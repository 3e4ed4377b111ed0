"""Shared pytest configuration: the ECR emulator fixtures (``emulator``, ``emulator_server``)."""

pytest_plugins = ["ecr_emulator.pytest_plugin"]

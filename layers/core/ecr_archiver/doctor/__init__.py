"""Preflight checks for an account and region (or the emulator): ``ecr-archiver doctor``."""

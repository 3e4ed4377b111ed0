"""The local harness: the product's real Lambda handlers played against the ECR emulator.

``ecr_harness.runner`` loads the handlers and plays their triggers; ``ecr_harness.demo`` is
``make demo``. The harness imports both the product (``ecr_archiver``) and the emulator
(``ecr_emulator``); the emulator itself never imports the product.
"""

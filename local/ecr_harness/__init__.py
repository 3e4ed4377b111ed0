"""The local harness: the product's real Lambda handlers played against the ECR emulator.

``ecr_harness.runner`` loads the handlers and plays their triggers; ``ecr_harness.demo`` is
``make demo``, built from ``seed`` (the registry), ``stack`` (the deployed stack's stand-in),
``steps`` (each step of the flow), ``outcome`` (what they found, and the summary) and ``logs``
(the shared logger, routed and restored). The harness imports both the product
(``ecr_archiver``) and the emulator (``ecr_emulator``); the emulator itself never imports the
product.
"""

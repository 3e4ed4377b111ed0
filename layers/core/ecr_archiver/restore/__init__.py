"""On-demand restore: bring archived images (and their referrers) back to STANDARD storage.

``logic`` holds the two operations behind the restore API (``restore_image`` and
``describe_image_status``); ``models`` is the API contract (requests, responses, error bodies)
and the repository allow-list; ``settings`` is the function's environment. The HTTP mapping of
domain errors lives in exactly one place, the resolver in ``functions/restore_api/app.py``.
"""

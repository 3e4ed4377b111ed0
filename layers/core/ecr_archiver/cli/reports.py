"""Read back what a run archived, for ``restore --from-report`` (the rollback of a bad run).

Sources:
- ``s3://BUCKET/reports/<runId>/`` (or one repository below it): the scheduled run's own report,
  whose ``images/*.jsonl`` parts carry one record per image; the repository is in the key.
- a local file: the CLI's ``--report`` JSON (``images`` with a ``repository`` on each record), or
  JSON Lines records that each name their ``repository``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ecr_archiver.adapters.s3 import ObjectStore
from ecr_archiver.errors import ConfigInvalid
from ecr_archiver.models import ImageRef

ARCHIVED = "ARCHIVED"


def _records_from_text(text: str) -> Iterator[dict[str, Any]]:
    stripped = text.strip()
    if not stripped:
        return
    try:
        doc: Any = json.loads(stripped)
    except json.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and "images" in doc:
        yield from doc["images"]
    elif isinstance(doc, list):
        yield from doc
    elif isinstance(doc, dict):  # a single JSON Lines record
        yield doc
    else:
        for n, line in enumerate(stripped.splitlines(), start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ConfigInvalid(f"report line {n} is not JSON: {exc.msg}") from None


def _archived(records: Iterable[dict[str, Any]], repository: str | None, source: str) -> Iterator[ImageRef]:
    for rec in records:
        if str(rec.get("outcome", "")).upper() != ARCHIVED:
            continue
        repo = rec.get("repository") or repository
        if not repo:
            raise ConfigInvalid(
                f"{source}: an ARCHIVED record names no repository (digest {rec.get('digest')})"
            )
        yield ImageRef(repository=repo, digest=rec["digest"])


def _from_s3(url: str, store_for: Callable[[str], ObjectStore]) -> Iterator[ImageRef]:
    parts = urlsplit(url)
    prefix = parts.path.lstrip("/")
    if not parts.netloc or not prefix.startswith("reports/"):
        raise ConfigInvalid(f"{url}: expected s3://BUCKET/reports/<runId>/[<repository>/]")
    store = store_for(parts.netloc)
    for key in sorted(store.list_keys(prefix)):
        # reports/<runId>/<repository...>/images/<part>.jsonl; repositories may contain "/"
        head, sep, tail = key.partition("/images/")
        if not sep or not tail.endswith(".jsonl"):
            continue
        repository = head.split("/", 2)[2]
        yield from _archived(
            _records_from_text(store.get_text(key)), repository, f"s3://{parts.netloc}/{key}"
        )


def archived_images(source: str, store_for: Callable[[str], ObjectStore]) -> list[ImageRef]:
    """Every image ``source`` says was ARCHIVED, de-duplicated, in report order."""
    if source.startswith("s3://"):
        refs = list(_from_s3(source, store_for))
    else:
        path = Path(source)
        if not path.is_file():
            raise ConfigInvalid(f"{source}: no such report file")
        refs = list(_archived(_records_from_text(path.read_text()), None, source))
    unique = list(dict.fromkeys(refs))
    if not unique:
        raise ConfigInvalid(f"{source} lists no ARCHIVED images")
    return unique

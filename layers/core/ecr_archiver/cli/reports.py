"""Read back what a run archived, for ``restore --from-report`` (the rollback of a bad run).

Sources:
- ``s3://BUCKET/reports/<runId>/`` (or one repository below it): the scheduled run's own report,
  whose ``images/*.jsonl`` parts carry one record per image; the repository is in the key. The
  layout is read by ``archiving.report``, next to the writer.
- a local file: the CLI's ``--report`` JSON (``images`` with a ``repository`` on each record), or
  JSON Lines records that each name their ``repository``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from ecr_archiver.adapters.s3 import ObjectStore
from ecr_archiver.archiving.models import ImageRecord, Outcome
from ecr_archiver.archiving.report import REPORTS_PREFIX, ImagePart, image_parts, parse_image_part
from ecr_archiver.errors import ConfigInvalid, validation_problems
from ecr_archiver.models import ImageRef


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


def _archived(records: Iterable[dict[str, Any]], source: str) -> Iterator[ImageRef]:
    for rec in records:
        if str(rec.get("outcome", "")).upper() != Outcome.ARCHIVED:
            continue
        repo = rec.get("repository")
        if not repo:
            raise ConfigInvalid(
                f"{source}: an ARCHIVED record names no repository (digest {rec.get('digest')})"
            )
        yield ImageRef(repository=repo, digest=rec["digest"])


def _from_s3(url: str, store_for: Callable[[str], ObjectStore]) -> Iterator[ImageRef]:
    parts = urlsplit(url)
    prefix = parts.path.lstrip("/")
    if not parts.netloc or not prefix.startswith(REPORTS_PREFIX):
        raise ConfigInvalid(f"{url}: expected s3://BUCKET/reports/<runId>/[<repository>/]")
    store = store_for(parts.netloc)
    for part in image_parts(store, prefix):
        for record in _read_part(store, part, f"s3://{parts.netloc}/{part.key}"):
            if record.outcome is Outcome.ARCHIVED:
                yield ImageRef(repository=part.repository, digest=record.digest)


def _read_part(store: ObjectStore, part: ImagePart, source: str) -> list[ImageRecord]:
    try:
        return parse_image_part(store.get_text(part.key))
    except ValidationError as exc:
        raise ConfigInvalid(f"{source}: not a report part: {validation_problems(exc)}") from None


def archived_images(source: str, store_for: Callable[[str], ObjectStore]) -> list[ImageRef]:
    """Every image ``source`` says was ARCHIVED, de-duplicated, in report order."""
    if source.startswith("s3://"):
        refs = list(_from_s3(source, store_for))
    else:
        path = Path(source)
        if not path.is_file():
            raise ConfigInvalid(f"{source}: no such report file")
        refs = list(_archived(_records_from_text(path.read_text()), source))
    unique = list(dict.fromkeys(refs))
    if not unique:
        raise ConfigInvalid(f"{source} lists no ARCHIVED images")
    return unique

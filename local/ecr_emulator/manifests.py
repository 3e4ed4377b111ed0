"""Real OCI manifests: building them for the push helpers and reading what ECR derives from them.

The digest is the sha256 of the exact manifest bytes, as in ECR and the OCI distribution spec
(moto hashes the layer digests instead, which collides for manifests that differ only in their
config, subject or annotations, and picks a random digest for indexes).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
INDEX_MEDIA_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})

COSIGN_SIGNATURE = "application/vnd.dev.cosign.artifact.sig.v1+json"
SPDX_SBOM = "application/spdx+json"
EMPTY_DESCRIPTOR_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


def sha256_digest(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def canonical(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), sort_keys=False)


@dataclass(frozen=True, slots=True)
class ManifestInfo:
    """What ECR derives from a manifest."""

    media_type: str
    artifact_media_type: str | None
    artifact_type: str | None
    subject: str | None
    children: tuple[str, ...]
    layers: tuple[tuple[str, int], ...]
    size: int | None
    annotations: dict[str, str] | None


def inspect(text: str, media_type: str | None = None) -> ManifestInfo:
    """Parse ``text``; raises ``ValueError`` for invalid JSON or a missing media type."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'"
        ) from exc
    if not isinstance(document, dict):
        raise ValueError(
            "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'"
        )
    kind = media_type or document.get("mediaType")
    if not kind:
        raise ValueError("image manifest mediatype not provided in manifest or parameter")
    config = document.get("config") or {}
    layers = tuple(
        (str(layer.get("digest", "")), int(layer.get("size") or 0))
        for layer in document.get("layers") or ()
        if isinstance(layer, dict)
    )
    children = tuple(
        str(m["digest"]) for m in document.get("manifests") or () if isinstance(m, dict) and "digest" in m
    )
    subject = (document.get("subject") or {}).get("digest")
    config_type = config.get("mediaType") if isinstance(config, dict) else None
    artifact_type = document.get("artifactType") or config_type
    is_index = kind in INDEX_MEDIA_TYPES or bool(children)
    return ManifestInfo(
        media_type=str(kind),
        artifact_media_type=str(config_type) if config_type else None,
        artifact_type=str(artifact_type) if artifact_type and subject else None,
        subject=str(subject) if subject else None,
        children=children,
        layers=layers,
        size=None if is_index else sum(size for _, size in layers),
        annotations=document.get("annotations") if isinstance(document.get("annotations"), dict) else None,
    )


def _blob(seed: str, label: str) -> str:
    return sha256_digest(f"{seed}/{label}")


def image_manifest(
    seed: str,
    *,
    size_bytes: int | None = None,
    layer_count: int = 3,
    platform: str | None = None,
) -> str:
    """A single-platform OCI image manifest whose layer sizes add up to ``size_bytes``."""
    total = (
        size_bytes if size_bytes is not None else 20_000_000 + int(_blob(seed, "size")[7:13], 16) % 80_000_000
    )
    count = max(1, layer_count if total >= layer_count else 1)
    sizes = [total // count] * count
    sizes[-1] += total - sum(sizes)
    document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": _blob(seed, "config"), "size": 1469},
        "layers": [
            {"mediaType": OCI_LAYER, "digest": _blob(seed, f"layer{i}"), "size": size}
            for i, size in enumerate(sizes)
        ],
    }
    if platform:
        document["annotations"] = {"org.opencontainers.image.ref.name": platform}
    return canonical(document)


def index_manifest(children: list[tuple[str, int, str]]) -> str:
    """An OCI image index over ``(digest, manifest size, "os/arch")`` children."""
    manifests = []
    for digest, size, platform in children:
        os_name, _, arch = platform.partition("/")
        arch, _, variant = arch.partition("/")
        entry_platform = {"architecture": arch or "amd64", "os": os_name or "linux"}
        if variant:
            entry_platform["variant"] = variant
        manifests.append(
            {"mediaType": OCI_MANIFEST, "digest": digest, "size": size, "platform": entry_platform}
        )
    return canonical({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests})


def referrer_manifest(
    seed: str, subject_digest: str, subject_size: int, *, artifact_type: str, payload_size: int = 4096
) -> str:
    """An OCI 1.1 artifact manifest (signature, SBOM, attestation) pointing at ``subject``."""
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {"mediaType": OCI_EMPTY, "digest": EMPTY_DESCRIPTOR_DIGEST, "size": 2},
        "layers": [{"mediaType": artifact_type, "digest": _blob(seed, "payload"), "size": payload_size}],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject_digest, "size": subject_size},
        "annotations": {"org.opencontainers.image.created": "2025-11-19T00:00:00Z"},
    }
    return canonical(document)

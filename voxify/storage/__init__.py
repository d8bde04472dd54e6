"""Blob storage for audio outputs and uploads, selected by URL."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from voxify.storage.base import BlobNotFound, BlobStore, validate_key
from voxify.storage.local import LocalBlobStore

if TYPE_CHECKING:
    from voxify.config import Settings

__all__ = ["BlobNotFound", "BlobStore", "blob_store_for", "open_blob_store", "validate_key"]


def blob_store_for(settings: Settings) -> BlobStore:
    """The blob store the settings name."""
    return open_blob_store(
        settings.blob_url, s3_endpoint_url=settings.s3_endpoint_url, s3_region=settings.s3_region
    )


def open_blob_store(
    url: str, *, s3_endpoint_url: str | None = None, s3_region: str = "us-east-1"
) -> BlobStore:
    """Build a blob store from `file:///abs`, `file://relative` or `s3://bucket/prefix`."""
    parsed = urlparse(url)
    if parsed.query or parsed.fragment:
        raise ValueError(f"blob store URL must not have a query or fragment: {url!r}")

    if parsed.scheme == "file":
        # file:///abs/path has an empty netloc; file://relative/path puts the first
        # segment in the netloc, so glue them back together to get a relative path.
        raw_path = unquote(parsed.netloc + parsed.path)
        if not raw_path:
            raise ValueError(f"file blob store URL has no path: {url!r}")
        root = Path(raw_path)
        root.mkdir(parents=True, exist_ok=True)
        return LocalBlobStore(root)

    if parsed.scheme == "s3":
        bucket = parsed.netloc
        if not bucket:
            raise ValueError(f"s3 blob store URL has no bucket: {url!r}")
        # Imported lazily so local-storage deployments never pay for importing boto3.
        from voxify.storage.s3 import S3BlobStore

        return S3BlobStore(
            bucket,
            unquote(parsed.path).strip("/"),
            endpoint_url=s3_endpoint_url,
            region=s3_region,
        )

    raise ValueError(
        f"unsupported blob store URL {url!r}: expected file:///abs/path, "
        "file://relative/path or s3://bucket[/prefix]"
    )

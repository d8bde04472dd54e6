"""Contract tests run identically against every BlobStore backend."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from voxify.storage import BlobNotFound, BlobStore, open_blob_store
from voxify.storage.local import LocalBlobStore
from voxify.storage.s3 import S3BlobStore

BUCKET = "voxify-contract"
REGION = "us-east-1"

BAD_KEYS = ["../x", "/abs", "a//b", "a/../b", "", "x" * 600, "a b", "a/./b", "a/", "é"]
# Windows separators and drives, NUL and newlines: none may reach a path or an object name.
BAD_KEYS += ["..", "a\\b", "..\\x", "C:/x", "C:\\x", "a\x00b", "a\nb", "\\\\host\\share"]

# Every key-taking operation, so a backend cannot forget to validate in one of them.
KEY_OPS: dict[str, Callable[[BlobStore, str], object]] = {
    "put": lambda store, key: store.put(key, b"data"),
    "get": lambda store, key: store.get(key),
    "iter_chunks": lambda store, key: list(store.iter_chunks(key)),
    "delete": lambda store, key: store.delete(key),
    "exists": lambda store, key: store.exists(key),
    "size": lambda store, key: store.size(key),
}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """Run moto's S3 server on a free loopback port for the whole module."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.delenv("AWS_SESSION_TOKEN", raising=False)
        mp.delenv("AWS_PROFILE", raising=False)
        # A developer's proxy settings must not intercept loopback traffic.
        mp.setenv("NO_PROXY", "127.0.0.1,localhost")
        mp.setenv("no_proxy", "127.0.0.1,localhost")
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            endpoint = f"http://{host}:{port}"
            admin = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
            admin.create_bucket(Bucket=BUCKET)
            yield endpoint
        finally:
            server.stop()


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    """A fresh, empty store of each backend, built through open_blob_store."""
    if request.param == "local":
        return open_blob_store(f"file://{tmp_path / 'blobs'}")
    endpoint: str = request.getfixturevalue("s3_endpoint")
    # A unique prefix per test keeps tests isolated while sharing one bucket.
    prefix = f"contract/{uuid.uuid4().hex}"
    return open_blob_store(f"s3://{BUCKET}/{prefix}", s3_endpoint_url=endpoint, s3_region=REGION)


def test_put_get_roundtrip_binary(store: BlobStore) -> None:
    data = bytes(range(256)) * 4 + b"\x00\r\n\xff"
    store.put("clip.wav", data, content_type="audio/wav")
    assert store.get("clip.wav") == data


def test_put_overwrites(store: BlobStore) -> None:
    store.put("k.bin", b"first version, longer")
    store.put("k.bin", b"second")
    assert store.get("k.bin") == b"second"
    assert store.size("k.bin") == len(b"second")


def test_size(store: BlobStore) -> None:
    store.put("sized.bin", b"x" * 1234)
    store.put("empty.bin", b"")
    assert store.size("sized.bin") == 1234
    assert store.size("empty.bin") == 0


def test_exists_before_and_after(store: BlobStore) -> None:
    assert not store.exists("later.bin")
    store.put("later.bin", b"now")
    assert store.exists("later.bin")
    store.delete("later.bin")
    assert not store.exists("later.bin")


def test_iter_chunks_reassembles_large_blob(store: BlobStore) -> None:
    data = os.urandom(200 * 1024 + 123)
    store.put("big.bin", data)
    chunks = list(store.iter_chunks("big.bin", chunk_size=64 * 1024))
    assert len(chunks) > 1
    assert all(len(chunk) <= 64 * 1024 for chunk in chunks)
    assert b"".join(chunks) == data


def test_iter_chunks_rejects_non_positive_chunk_size(store: BlobStore) -> None:
    store.put("c.bin", b"abc")
    with pytest.raises(ValueError, match="chunk_size"):
        store.iter_chunks("c.bin", chunk_size=0)


def test_missing_key_raises_blob_not_found(store: BlobStore) -> None:
    with pytest.raises(BlobNotFound):
        store.get("missing.bin")
    with pytest.raises(BlobNotFound):
        store.size("missing.bin")
    # Must fail when called, before any iteration, so callers can 404 before streaming.
    with pytest.raises(BlobNotFound):
        store.iter_chunks("missing.bin")


def test_blob_not_found_is_a_key_error(store: BlobStore) -> None:
    with pytest.raises(KeyError) as excinfo:
        store.get("nope/missing.bin")
    assert isinstance(excinfo.value, BlobNotFound)
    assert "nope/missing.bin" in str(excinfo.value)


def test_delete_is_idempotent(store: BlobStore) -> None:
    store.delete("never-existed.bin")
    store.put("gone.bin", b"bye")
    store.delete("gone.bin")
    store.delete("gone.bin")
    assert not store.exists("gone.bin")
    with pytest.raises(BlobNotFound):
        store.get("gone.bin")


@pytest.mark.parametrize("key", BAD_KEYS)
@pytest.mark.parametrize("op", list(KEY_OPS))
def test_bad_keys_rejected(store: BlobStore, op: str, key: str) -> None:
    with pytest.raises(ValueError, match="blob key"):
        KEY_OPS[op](store, key)


def test_nested_keys(store: BlobStore) -> None:
    key = "outputs/usr_1/file_2.wav"
    store.put(key, b"RIFF....WAVE")
    assert store.exists(key)
    assert store.get(key) == b"RIFF....WAVE"
    assert store.size(key) == 12
    # A key prefix is not itself a blob.
    assert not store.exists("outputs/usr_1")
    with pytest.raises(BlobNotFound):
        store.get("outputs/usr_1")
    store.delete(key)
    assert not store.exists(key)


def test_ping(store: BlobStore) -> None:
    store.ping()


def test_local_key_cannot_escape_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    outside.mkdir()
    store = open_blob_store(f"file://{root}")
    assert isinstance(store, LocalBlobStore)

    with pytest.raises(ValueError, match=r"'\.\.'"):
        store.put("../escaped.bin", b"nope")
    # validate_key blocks '..', so the remaining route out is a symlink planted inside root.
    (root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError, match="escapes the store root"):
        store.put("link/escaped.bin", b"nope")
    with pytest.raises(ValueError, match="escapes the store root"):
        store.get("link/escaped.bin")
    assert list(outside.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outside", "root"]


def test_local_put_leaves_no_temp_files(tmp_path: Path) -> None:
    store = open_blob_store(f"file://{tmp_path / 'blobs'}")
    store.put("a/b.bin", b"1")
    store.put("a/b.bin", b"2")
    assert [p.name for p in (tmp_path / "blobs" / "a").iterdir()] == ["b.bin"]


def test_open_local_relative_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_blob_store("file://data/blobs")
    assert isinstance(store, LocalBlobStore)
    assert store.root == (tmp_path / "data" / "blobs").resolve()
    assert store.root.is_dir()


def test_s3_objects_live_under_prefix(s3_endpoint: str) -> None:
    store = open_blob_store(
        f"s3://{BUCKET}/tenant/prefixed/", s3_endpoint_url=s3_endpoint, s3_region=REGION
    )
    assert isinstance(store, S3BlobStore)
    store.put("outputs/x.wav", b"abc", content_type="audio/wav")
    head = store.client.head_object(Bucket=BUCKET, Key="tenant/prefixed/outputs/x.wav")
    assert head["ContentType"] == "audio/wav"
    store.delete("outputs/x.wav")


def test_s3_ping_fails_for_missing_bucket(s3_endpoint: str) -> None:
    store = open_blob_store("s3://no-such-bucket-here", s3_endpoint_url=s3_endpoint)
    with pytest.raises(ClientError):
        store.ping()


@pytest.mark.parametrize(
    "url", ["ftp://x", "http://example.com/b", "/plain/path", "s3://", "file://", "s3://b/p?x=1"]
)
def test_open_blob_store_rejects_bad_urls(url: str) -> None:
    with pytest.raises(ValueError, match="URL"):
        open_blob_store(url)

"""The committed gRPC modules are what voxify.proto generates today (`make protos`)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest

import voxify.grpc

GENERATED = ("voxify_pb2.py", "voxify_pb2.pyi", "voxify_pb2_grpc.py")


def test_committed_modules_match_the_proto(tmp_path: Path) -> None:
    protoc = pytest.importorskip("grpc_tools.protoc")
    package = Path(voxify.grpc.__file__).parent
    root = package.parents[1]
    well_known = str(files("grpc_tools") / "_proto")
    status = protoc.main(
        [
            "protoc",
            f"-I{root}",
            f"-I{well_known}",
            f"--python_out={tmp_path}",
            f"--pyi_out={tmp_path}",
            f"--grpc_python_out={tmp_path}",
            str(package / "voxify.proto"),
        ]
    )
    assert status == 0
    for name in GENERATED:
        fresh = (tmp_path / "voxify" / "grpc" / name).read_text()
        assert fresh == (package / name).read_text(), f"{name} is stale: run `make protos`"

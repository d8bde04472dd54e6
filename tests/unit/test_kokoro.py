"""Kokoro-82M on the real model and voice packs: speech, long text, speed, blends, assets."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest

from voxify.audio.analysis import speech_stats
from voxify.embeddings.encoder import SpeakerEncoder, cosine
from voxify.engines.kokoro import MAX_TOKENS, KokoroEngine
from voxify.engines.kokoro_assets import PACK_BYTES, check_integrity, unpack_voices
from voxify.errors import InvalidParameter
from voxify.voices.blends import blend_spec, is_blend_spec, parse_blend

HEART = (("af_heart", 1.0),)
SENTENCE = "The quick brown fox jumps over the lazy dog."


def test_a_short_sentence_is_speech(kokoro: KokoroEngine) -> None:
    audio = kokoro.synthesize(SENTENCE, voice=HEART)
    stats = speech_stats(audio.samples, audio.sample_rate)
    assert audio.sample_rate == 24000
    assert 1.8 < audio.duration < 4.5, audio.duration
    assert -35 < stats.rms_dbfs < -6 and stats.peak < 1.0
    assert stats.voiced_fraction > 0.3 and stats.active_fraction > 0.6
    assert 150 < stats.median_f0_hz < 300  # a female voice


def test_every_shipped_voice_is_listed(kokoro: KokoroEngine) -> None:
    assert len(kokoro.voices) == 54
    assert {"af_heart", "am_michael", "bf_emma", "ff_siwis", "zm_yunxi"} <= set(kokoro.voices)


def test_speed_changes_the_length_and_bad_speed_is_refused(kokoro: KokoroEngine) -> None:
    normal = kokoro.synthesize(SENTENCE, voice=HEART).duration
    fast = kokoro.synthesize(SENTENCE, voice=HEART, speed=1.5).duration
    assert 0.55 < fast / normal < 0.8
    with pytest.raises(ValueError, match="speed"):
        kokoro.synthesize(SENTENCE, voice=HEART, speed=3.0)


def test_long_text_is_cut_within_the_token_window(kokoro: KokoroEngine) -> None:
    clause = "and the river ran on past the mill and the meadow and the old stone bridge "
    run_on = clause * 12  # one clause of about 900 phonemes: no punctuation to cut at
    pieces = kokoro.tokens(run_on, "en-US")
    assert len(pieces) >= 2 and all(len(p) <= MAX_TOKENS for p in pieces)
    total = sum(len(p) for p in pieces)
    assert total >= len(kokoro.tokens(clause, "en-US")[0]) * 11  # nothing dropped
    sentences = " ".join(["Sentences end here, and then go on."] * 30)
    assert all(len(p) <= MAX_TOKENS for p in kokoro.tokens(sentences, "en-US"))


def test_other_languages_phonemize_without_losing_sounds(kokoro: KokoroEngine) -> None:
    for language, text in [
        ("fr-FR", "Bonjour, comment allez-vous aujourd'hui ?"),
        ("es-ES", "El rápido zorro marrón salta sobre el perro."),
        ("pt-BR", "A rápida raposa marrom pula sobre o cão."),
        ("hi-IN", "मेरा नाम राहुल है।"),
    ]:
        phonemes = kokoro.phonemes(text, language)
        ids = kokoro.tokens(text, language)[0]
        assert len(ids) >= 0.9 * len(phonemes.replace(" ", "")), (language, phonemes)
    audio = kokoro.synthesize("Bonjour, voici ma voix.", voice=(("ff_siwis", 1.0),), language="fr")
    assert audio.duration > 1.0
    with pytest.raises(ValueError, match="phonemize"):
        kokoro.phonemes("hello", "de-DE")


def test_a_blend_differs_from_both_parents(
    kokoro: KokoroEngine, speaker_encoder: SpeakerEncoder
) -> None:
    blend = parse_blend("af_bella(1)+am_michael(1)", known=kokoro.voices)
    embed = {
        name: speaker_encoder.embed(kokoro.synthesize(SENTENCE, voice=voice))
        for name, voice in [
            ("bella", (("af_bella", 1.0),)),
            ("michael", (("am_michael", 1.0),)),
            ("blend", blend),
        ]
    }
    to_bella = cosine(embed["blend"], embed["bella"])
    to_michael = cosine(embed["blend"], embed["michael"])
    parents = cosine(embed["bella"], embed["michael"])
    assert to_bella < 0.97 and to_michael < 0.97
    assert to_bella > parents and to_michael > parents  # in between, not elsewhere
    mixed = kokoro.style(blend)
    assert np.allclose(mixed, 0.5 * kokoro.pack("af_bella") + 0.5 * kokoro.pack("am_michael"))


def test_blend_spelling() -> None:
    known = ["af_bella", "af_sky", "am_adam"]
    assert parse_blend("af_bella(2)+af_sky(1)", known=known) == (
        ("af_bella", 0.666667),
        ("af_sky", 0.333333),
    )
    assert parse_blend("af_sky+af_bella", known=known) == (("af_bella", 0.5), ("af_sky", 0.5))
    spec = blend_spec(parse_blend("af_bella(2)+af_sky(1)", known=known))
    assert spec == "af_bella(0.667)+af_sky(0.333)"
    assert parse_blend(spec, known=known) == (("af_bella", 0.667), ("af_sky", 0.333))
    assert blend_spec((("am_adam", 1.0),)) == "am_adam"
    assert is_blend_spec("af_bella(2)+af_sky") and not is_blend_spec("default_voice_001")
    for bad in ("af_bella(0)", "af_nope", "af_bella(-1)+af_sky", "+".join(["af_sky"] * 9)):
        with pytest.raises(InvalidParameter):
            parse_blend(bad, known=known)


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_voice_packs_are_checked_before_they_are_used(tmp_path: Path) -> None:
    pack = np.zeros(PACK_BYTES // 4, dtype=np.float32).tobytes()
    good = _tarball(
        {"package/voices/af_test.bin": pack, "package/LICENSE": b"Apache-2.0", "package/x.js": b""}
    )
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(good).digest()).decode()
    check_integrity(good, integrity)
    with pytest.raises(RuntimeError, match="integrity"):
        check_integrity(good + b"tampered", integrity)
    assert unpack_voices(good, tmp_path / "voices") == ["af_test"]
    assert sorted(p.name for p in (tmp_path / "voices").iterdir()) == ["LICENSE", "af_test.bin"]
    short = _tarball({"package/voices/af_short.bin": pack[:-4]})
    with pytest.raises(RuntimeError, match="bytes"):
        unpack_voices(short, tmp_path / "other")
    assert not (tmp_path / "other").exists()  # nothing half-unpacked


def test_naturalness_tells_speech_from_noise(kokoro: KokoroEngine) -> None:
    from voxify.audio.naturalness import naturalness
    from voxify.speech import Audio

    speech = kokoro.synthesize(SENTENCE * 2, voice=HEART)
    rng = np.random.default_rng(7)
    noise = Audio(rng.normal(0, 0.1, len(speech.samples)).astype(np.float32), speech.sample_rate)
    noisy = Audio(speech.samples + noise.samples, speech.sample_rate)
    clean_mos, noisy_mos, noise_mos = (naturalness(a) for a in (speech, noisy, noise))
    assert clean_mos > 3.5 and clean_mos > noisy_mos + 0.5 and noisy_mos > noise_mos

"""The security review (docs/security.md), tested: pinned JWT algorithm and key rotation,
refresh-token rotation with reuse detection, logout, password change, bounded upload decoding,
bounded text cleaning, blob keys, CORS defaults."""

from __future__ import annotations

import base64
import hmac
import io
import json
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import numpy as np
import pytest
import soundfile as sf
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, update
from sqlalchemy.orm import Session

from tests.unit.conftest import PASSWORD, register_and_login
from voxify.audio.ingest import decode_upload
from voxify.auth import sessions
from voxify.auth.tokens import decode_token, issue_token, key_id
from voxify.config import Settings
from voxify.db.models import AuthSession, Base, User, utcnow
from voxify.engines.kokoro import KokoroEngine
from voxify.engines.piper import PiperEngine
from voxify.errors import AudioTooLong, InvalidAudio, InvalidParameter, InvalidToken, TextTooLong
from voxify.speech import Audio
from voxify.text import clean_text

SECRET = "test-secret-0123456789abcdef-0123456789"  # tests/conftest.py's make_settings
OLD_SECRET = "retired-secret-0123456789abcdef-01234567"
NEW_PASSWORD = "AnotherPass456?"


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["success"] is False and body["error"]["code"] == code, body
    return body


def login(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def unverified(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def refresh(client: TestClient, token: str) -> Any:
    return client.post("/api/v1/auth/refresh", json={"refresh_token": token})


# --- JWT: the algorithm is pinned, keys rotate -------------------------------------------------


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _signed(header: dict[str, Any], claims: dict[str, Any], digest: str = "sha256") -> str:
    """A token whose header says what it likes, signed by HMAC with the service's secret."""
    signing_input = f"{_b64(header)}.{_b64(claims)}"
    mac = hmac.new(SECRET.encode(), signing_input.encode(), digest).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def _forgeries(claims: dict[str, Any], real: str) -> dict[str, str]:
    """Tokens carrying ``claims`` that this service must not accept, by what is wrong."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = key_id(SECRET)
    return {
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
        "alg None": f"{_b64({'alg': 'None', 'typ': 'JWT', 'kid': kid})}.{_b64(claims)}.",
        # The right secret under another HMAC: still not the pinned algorithm.
        "HS512": _signed({"alg": "HS512", "typ": "JWT", "kid": kid}, claims, "sha512"),
        "RS256": jwt.encode(claims, rsa_key, algorithm="RS256", headers={"kid": kid}),
        # A valid HS256 signature under a header that claims RS256 (key confusion).
        "RS256 header": _signed({"alg": "RS256", "typ": "JWT", "kid": kid}, claims),
        "unknown kid": _signed({"alg": "HS256", "typ": "JWT", "kid": "k1"}, claims),
        "stripped signature": real.rsplit(".", 1)[0] + ".",
    }


def test_forged_algorithms_are_refused(client: TestClient) -> None:
    register_and_login(client, "alg@example.com")
    tokens = login(client, "alg@example.com")
    access, refresh_token = tokens["access_token"], tokens["refresh_token"]
    for name, token in _forgeries(unverified(access), access).items():
        response = client.get("/api/v1/job", headers=bearer(token))
        assert response.status_code == 401, name
        assert response.json()["error"]["code"] == "INVALID_TOKEN", name
    for name, token in _forgeries(unverified(refresh_token), refresh_token).items():
        response = refresh(client, token)
        assert response.status_code == 401, name
        assert response.json()["error"]["code"] == "INVALID_TOKEN", name
    # The genuine tokens still work: nothing above was refused for another reason.
    assert client.get("/api/v1/job", headers=bearer(access)).status_code == 200
    assert refresh(client, refresh_token).status_code == 200
    assert jwt.get_unverified_header(access) == {
        "alg": "HS256",
        "typ": "JWT",
        "kid": key_id(SECRET),
    }


def test_settings_pin_an_hmac_algorithm_and_key_lengths(
    make_settings: Callable[..., Settings],
) -> None:
    for algorithm in ("none", "RS256", "ES256"):
        with pytest.raises(ValueError, match="jwt_algorithm"):
            make_settings(jwt_algorithm=algorithm)
    with pytest.raises(ValueError, match="at least 64 bytes"):
        make_settings(jwt_algorithm="HS512")  # the 39-byte test secret is too short for it
    with pytest.raises(ValueError, match="PREVIOUS_SECRETS"):
        make_settings(jwt_previous_secrets=["short"])


def test_rotated_key_verifies_old_tokens_until_they_expire(
    make_client: Callable[..., TestClient], make_settings: Callable[..., Settings]
) -> None:
    client = make_client(jwt_previous_secrets=[OLD_SECRET])
    register_and_login(client, "rotate@example.com")
    tokens = login(client, "rotate@example.com")
    claims = unverified(tokens["refresh_token"])
    old = make_settings(jwt_secret=OLD_SECRET)
    signed_before = {
        "user_id": claims["sub"],
        "role": "user",
        "epoch": 0,
        "session_id": claims["sid"],
    }
    old_access = issue_token(old, kind="access", **signed_before)
    assert jwt.get_unverified_header(old_access)["kid"] == key_id(OLD_SECRET)
    assert client.get("/api/v1/job", headers=bearer(old_access)).status_code == 200
    # A token from before tokens named their key verifies against each accepted key.
    no_kid = jwt.encode(unverified(old_access), OLD_SECRET, algorithm="HS256")
    assert client.get("/api/v1/job", headers=bearer(no_kid)).status_code == 200
    # The session's current refresh token, signed with the old key, refreshes into the new key.
    old_refresh = issue_token(old, kind="refresh", token_id=claims["jti"], **signed_before)
    fresh = refresh(client, old_refresh)
    assert fresh.status_code == 200, fresh.text
    new_access = fresh.json()["data"]["access_token"]
    assert jwt.get_unverified_header(new_access)["kid"] == key_id(SECRET)
    jwt.decode(new_access, SECRET, algorithms=["HS256"])  # signed with the current key
    # Expiry still applies to old-key tokens; a key no longer listed verifies nothing.
    expired = jwt.encode(
        {**unverified(old_access), "exp": int(time.time()) - 5},
        OLD_SECRET,
        algorithm="HS256",
        headers={"kid": key_id(OLD_SECRET)},
    )
    assert_error(client.get("/api/v1/job", headers=bearer(expired)), 401, "TOKEN_EXPIRED")
    with pytest.raises(InvalidToken):
        decode_token(make_settings(), old_access, kind="access")
    stranger = make_settings(jwt_secret="some-other-secret-0123456789abcdef-0123")
    with pytest.raises(InvalidToken):
        decode_token(
            make_settings(), issue_token(stranger, kind="access", **signed_before), kind=None
        )


# --- Sessions: rotation, reuse detection, logout, password change ----------------------------


def test_refresh_rotates_and_a_reused_token_revokes_its_session(client: TestClient) -> None:
    register_and_login(client, "reuse@example.com")
    first = login(client, "reuse@example.com")
    other = login(client, "reuse@example.com")  # another device: its own session
    second = refresh(client, first["refresh_token"])
    assert second.status_code == 200, second.text
    second_data = second.json()["data"]
    assert second_data["refresh_token"] != first["refresh_token"]
    assert (
        unverified(second_data["refresh_token"])["sid"] == unverified(first["refresh_token"])["sid"]
    )
    third = refresh(client, second_data["refresh_token"]).json()["data"]

    # The first token again: a copy exists. The whole family ends, the newest token with it.
    reused = assert_error(refresh(client, first["refresh_token"]), 401, "INVALID_TOKEN")
    assert reused["error"]["details"] == {"reason": "refresh_token_reused"}
    ended = assert_error(refresh(client, third["refresh_token"]), 401, "INVALID_TOKEN")
    assert ended["error"]["details"] == {"reason": "reuse"}
    # Other sessions are untouched; access tokens are stateless and run out their TTL.
    assert refresh(client, other["refresh_token"]).status_code == 200
    assert client.get("/api/v1/job", headers=bearer(third["access_token"])).status_code == 200


def test_rotation_is_compare_and_set(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with Session(engine) as session, session.begin():
            session.add(
                User(
                    id="usr_cas",
                    email="cas@example.com",
                    password_hash="x",
                    first_name="C",
                    last_name="S",
                )
            )
        later = utcnow().replace(year=utcnow().year + 1)
        with Session(engine) as session, session.begin():
            row = sessions.start_session(session=session, user_id="usr_cas", expires_at=later)
            family, first = row.id, row.token_id
        with Session(engine) as session, session.begin():
            second = sessions.rotate(
                session=session, session_id=family, token_id=first, expires_at=later
            )
        assert second is not None and second != first
        with Session(engine) as session, session.begin():  # the spent token moves nothing
            assert (
                sessions.rotate(
                    session=session, session_id=family, token_id=first, expires_at=later
                )
                is None
            )
            assert sessions.revoke(session=session, session_id=family, reason="logout") == 1
            assert sessions.revoke(session=session, session_id=family, reason="logout") == 0
        with Session(engine) as session, session.begin():
            assert (
                sessions.rotate(
                    session=session, session_id=family, token_id=second, expires_at=later
                )
                is None
            )
            stored = session.get(AuthSession, family)
            assert stored is not None and stored.revoked_reason == "logout"
    finally:
        engine.dispose()


def test_logout_ends_one_session_or_all(client: TestClient) -> None:
    headers = register_and_login(client, "logout@example.com")
    laptop = login(client, "logout@example.com")
    phone = login(client, "logout@example.com")
    out = client.post("/api/v1/auth/logout", json={"refresh_token": laptop["refresh_token"]})
    assert out.status_code == 200 and out.json()["data"] == {
        "sessions_revoked": 1,
        "access_tokens_revoked": False,
    }
    assert_error(refresh(client, laptop["refresh_token"]), 401, "INVALID_TOKEN")
    again = client.post("/api/v1/auth/logout", json={"refresh_token": laptop["refresh_token"]})
    assert again.json()["data"]["sessions_revoked"] == 0  # idempotent
    phone = refresh(client, phone["refresh_token"]).json()["data"]  # untouched

    # By the access token alone (the Bearer header): its own session ends.
    by_access = client.post("/api/v1/auth/logout", headers=bearer(phone["access_token"]))
    assert by_access.json()["data"]["sessions_revoked"] == 1
    assert_error(refresh(client, phone["refresh_token"]), 401, "INVALID_TOKEN")

    # Everywhere: every session, and every access token issued so far.
    tablet = login(client, "logout@example.com")
    everywhere = client.post(
        "/api/v1/auth/logout", headers=bearer(tablet["access_token"]), json={"all_sessions": True}
    )
    assert everywhere.json()["data"] == {"sessions_revoked": 2, "access_tokens_revoked": True}
    for token in (headers["Authorization"][7:], tablet["access_token"], laptop["access_token"]):
        assert_error(client.get("/api/v1/job", headers=bearer(token)), 401, "INVALID_TOKEN")
    assert_error(refresh(client, tablet["refresh_token"]), 401, "INVALID_TOKEN")
    assert (
        client.get(
            "/api/v1/job", headers=bearer(login(client, "logout@example.com")["access_token"])
        ).status_code
        == 200
    )

    assert_error(client.post("/api/v1/auth/logout"), 401, "UNAUTHORIZED")
    key = client.post(
        "/api/v1/auth/api-keys",
        headers=bearer(login(client, "logout@example.com")["access_token"]),
        json={"name": "script"},
    ).json()["data"]["key"]
    assert_error(client.post("/api/v1/auth/logout", headers=bearer(key)), 403, "FORBIDDEN")


def test_password_change_ends_every_session_and_access_token(client: TestClient) -> None:
    register_and_login(client, "pw@example.com")
    mine, other = login(client, "pw@example.com"), login(client, "pw@example.com")
    key = client.post(
        "/api/v1/auth/api-keys", headers=bearer(mine["access_token"]), json={"name": "ci"}
    ).json()["data"]["key"]
    url, auth = "/api/v1/auth/password", bearer(mine["access_token"])
    wrong = client.post(
        url, headers=auth, json={"current_password": "Nope1234!", "new_password": NEW_PASSWORD}
    )
    assert_error(wrong, 400, "INVALID_PARAMETER")
    same = client.post(
        url, headers=auth, json={"current_password": PASSWORD, "new_password": PASSWORD}
    )
    assert_error(same, 400, "INVALID_PARAMETER")
    weak = client.post(
        url, headers=auth, json={"current_password": PASSWORD, "new_password": "password"}
    )
    assert_error(weak, 422, "VALIDATION_ERROR")
    by_key = client.post(
        url, headers=bearer(key), json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert_error(by_key, 403, "FORBIDDEN")
    assert client.get("/api/v1/job", headers=auth).status_code == 200  # nothing changed yet

    changed = client.post(
        url, headers=auth, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 200, changed.text
    data = changed.json()["data"]
    assert data["sessions_revoked"] == 3  # register_and_login's, mine, other
    assert data["api_keys_revoked"] == 0 and data["api_keys_remaining"] == 1
    for old in (mine, other):
        assert_error(
            client.get("/api/v1/job", headers=bearer(old["access_token"])), 401, "INVALID_TOKEN"
        )
        assert_error(refresh(client, old["refresh_token"]), 401, "INVALID_TOKEN")
    assert client.get("/api/v1/job", headers=bearer(data["access_token"])).status_code == 200
    assert refresh(client, data["refresh_token"]).status_code == 200
    assert client.get("/api/v1/job", headers={"X-API-Key": key}).status_code == 200  # kept
    old_password = client.post(
        "/api/v1/auth/login", json={"email": "pw@example.com", "password": PASSWORD}
    )
    assert_error(old_password, 401, "INVALID_CREDENTIALS")

    # Asked to, a change revokes API keys too (a thief with a session could have made one).
    fresh = login(client, "pw@example.com", NEW_PASSWORD)
    revoked = client.post(
        url,
        headers=bearer(fresh["access_token"]),
        json={"current_password": NEW_PASSWORD, "new_password": PASSWORD, "revoke_api_keys": True},
    ).json()["data"]
    assert revoked["api_keys_revoked"] == 1 and revoked["api_keys_remaining"] == 0
    assert_error(client.get("/api/v1/job", headers={"X-API-Key": key}), 401, "INVALID_TOKEN")


def test_password_attempts_are_limited(client: TestClient) -> None:
    headers = register_and_login(client, "guess@example.com")
    body = {"current_password": "Wrong-guess-1", "new_password": NEW_PASSWORD}
    codes = [
        client.post("/api/v1/auth/password", headers=headers, json=body).status_code
        for _ in range(6)
    ]
    assert codes == [400] * 5 + [429]


def test_disabled_account_and_pre_session_tokens_are_refused(
    client: TestClient, make_settings: Callable[..., Settings]
) -> None:
    register_and_login(client, "off@example.com")
    tokens = login(client, "off@example.com")
    legacy = issue_token(
        make_settings(), user_id=tokens["user"]["user_id"], role="user", kind="refresh"
    )
    body = assert_error(refresh(client, legacy), 401, "INVALID_TOKEN")
    assert "predates" in body["error"]["message"]
    services = client.app.state.services  # type: ignore[attr-defined]
    with services.sessions() as session, session.begin():
        session.execute(update(User).where(User.email == "off@example.com").values(is_active=False))
    assert_error(
        client.get("/api/v1/job", headers=bearer(tokens["access_token"])), 401, "INVALID_TOKEN"
    )
    assert_error(refresh(client, tokens["refresh_token"]), 401, "INVALID_TOKEN")


def test_session_migration_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    ours = [d for d in diffs if "auth_sessions" in repr(d) or "token_epoch" in repr(d)]
    assert ours == []


# --- Uploads: decoding is bounded ---------------------------------------------------------------

BOMB_RATE, BOMB_S = 8000, 2 * 3600


@pytest.fixture(scope="module")
def flac_bomb(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Two hours of 8 kHz digital silence as FLAC: a few hundred KB, 230 MB once decoded."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.flac"
    block = np.zeros(BOMB_RATE * 60, dtype=np.int16)
    with sf.SoundFile(path, "w", BOMB_RATE, 1, format="FLAC", subtype="PCM_16") as f:
        for _ in range(BOMB_S // 60):
            f.write(block)
    return path.read_bytes()


def _with_total_samples(flac: bytes, total: int) -> bytes:
    """The FLAC with STREAMINFO's 36-bit total-sample count replaced (0: unknown)."""
    assert flac[:4] == b"fLaC" and flac[4] & 0x7F == 0  # STREAMINFO first, as always
    word = int.from_bytes(flac[18:26], "big")
    word = (word & ~((1 << 36) - 1)) | total
    return flac[:18] + word.to_bytes(8, "big") + flac[26:]


def _bounded(decode: Callable[[], object]) -> tuple[BaseException | object, float, int]:
    """What ``decode`` returned or raised, its seconds and the peak of Python-tracked memory
    (numpy's arrays included)."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        outcome: BaseException | object = decode()
    except InvalidAudio as exc:
        outcome = exc
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return outcome, elapsed, peak


def test_flac_bomb_is_refused_from_its_header(flac_bomb: bytes) -> None:
    assert len(flac_bomb) < 1_000_000
    outcome, elapsed, peak = _bounded(lambda: decode_upload(flac_bomb))
    assert isinstance(outcome, AudioTooLong), outcome
    assert outcome.details["duration_s"] == BOMB_S and outcome.details["max_duration_s"] == 900
    assert elapsed < 2.0 and peak < 5_000_000


def test_flac_bomb_of_open_length_is_refused(flac_bomb: bytes) -> None:
    # FLAC may leave its length open (0: unknown); nothing then says where decoding ends.
    unknown = _with_total_samples(flac_bomb, 0)
    outcome, elapsed, peak = _bounded(lambda: decode_upload(unknown))
    assert isinstance(outcome, InvalidAudio) and "does not state its length" in outcome.message
    assert elapsed < 1.0 and peak < 5_000_000
    # A header that claims less than the stream holds gets no more than it claims.
    outcome, elapsed, peak = _bounded(
        lambda: decode_upload(_with_total_samples(flac_bomb, BOMB_RATE * 10))
    )
    assert isinstance(outcome, Audio) and outcome.duration == pytest.approx(10.0)
    assert elapsed < 1.0 and peak < 4 * 4 * BOMB_RATE * 10


def _flac(rate: int, channels: int, seconds: float) -> bytes:
    buffer = io.BytesIO()
    tone = np.sin(np.arange(int(rate * seconds)) * 0.05) * 0.3
    sf.write(buffer, np.repeat(tone[:, None], channels, axis=1), rate, format="FLAC")
    return buffer.getvalue()


def test_length_is_counted_in_kept_samples_not_seconds_alone() -> None:
    # 19 minutes of 192 kHz stereo silence is an 853 KB FLAC that the decoder used to expand
    # to 2.5 GB; its header is now refused: at 192 kHz the sample budget lasts 225 s.
    claims = _with_total_samples(_flac(192_000, 2, 1.0), 192_000 * 1140)
    outcome, elapsed, peak = _bounded(lambda: decode_upload(claims))
    assert isinstance(outcome, AudioTooLong), outcome
    assert outcome.details["max_duration_s"] == 225 and outcome.details["duration_s"] == 1140
    assert elapsed < 1.0 and peak < 5_000_000
    assert decode_upload(_flac(192_000, 2, 1.0)).duration == 1.0  # the same file, honest
    many = io.BytesIO()
    sf.write(many, np.zeros((1600, 16), np.float32), 16_000, format="WAV")
    with pytest.raises(InvalidAudio, match="at most 8"):
        decode_upload(many.getvalue())


def test_mp3_bomb_is_refused_quickly(tmp_path: Path) -> None:
    minute = tmp_path / "minute.mp3"
    sf.write(minute, np.zeros(BOMB_RATE * 60, np.float32), BOMB_RATE, format="MP3")
    encoded = minute.read_bytes()
    # The first frame is LAME's Xing/Info header (it counts one minute); the rest are audio.
    second_frame = encoded.find(encoded[:2], 4)
    info, frames = encoded[:second_frame], encoded[second_frame:]
    assert b"Xing" in info or b"Info" in info
    bomb = frames * 120  # two hours of 8 kbit/s MPEG frames: 7 MB, 230 MB decoded
    outcome, elapsed, peak = _bounded(lambda: decode_upload(bomb))
    assert isinstance(outcome, AudioTooLong), outcome
    assert elapsed < 2.0 and peak < 5_000_000
    # Under a header that counts one minute, no more than that minute is decoded.
    lying = info + bomb
    outcome, elapsed, peak = _bounded(lambda: decode_upload(lying))
    assert isinstance(outcome, Audio) and outcome.duration <= 61.0
    assert elapsed < 2.0 and peak < 8 * BOMB_RATE * 61


def test_decoding_has_a_deadline() -> None:
    tone = np.sin(np.arange(16000 * 20) * 0.05).astype(np.float32) * 0.3
    buffer = io.BytesIO()
    sf.write(buffer, tone, 16000, format="FLAC")
    with pytest.raises(InvalidAudio, match="Decoding took longer"):
        decode_upload(buffer.getvalue(), deadline_s=0.0)
    assert decode_upload(buffer.getvalue()).duration == pytest.approx(20.0)


def test_upload_of_a_bomb_answers_4xx(client: TestClient, flac_bomb: bytes) -> None:
    headers = register_and_login(client, "bomb@example.com")
    started = time.perf_counter()
    response = client.post(
        "/api/v1/voice/samples",
        headers=headers,
        files={"file": ("bomb.flac", flac_bomb, "audio/flac")},
    )
    assert_error(response, 400, "AUDIO_TOO_LONG")
    assert time.perf_counter() - started < 5.0
    assert client.get("/api/v1/voice/samples", headers=headers).json()["data"] == []


# --- Text: cleaning is linear and bounded ------------------------------------------------------

MEGABYTE_TEXTS = {
    "digits": "7" * 1_000_000,
    "emoji": "\U0001f600" * 250_000,  # 4 bytes each in UTF-8
    "combining": "\u0301\u0316" * 250_000,  # classes 230/220 alternating: worst case to sort
    "rtl and zero-width": "\u202e\u200b\u05d0\u200f" * 250_000,
}


@pytest.mark.parametrize("kind", list(MEGABYTE_TEXTS))
def test_clean_text_refuses_a_megabyte_at_once(kind: str) -> None:
    started = time.perf_counter()
    for limit in (1000, 20_000, 100_000):
        with pytest.raises(TextTooLong):
            clean_text(MEGABYTE_TEXTS[kind], max_chars=limit)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("kind", list(MEGABYTE_TEXTS))
def test_clean_text_is_linear_up_to_the_limit(kind: str) -> None:
    limit = 100_000  # the job door's default
    text = MEGABYTE_TEXTS[kind][: limit * 4]  # the most raw text that is looked at
    if kind == "combining":  # a base letter every 30 marks: the longest run Unicode allows
        text = "".join("a" + "\u0301\u0316" * 15 for _ in range(limit * 4 // 31))
    started = time.perf_counter()
    try:
        cleaned = clean_text(text, max_chars=limit)
        assert len(cleaned) <= limit
    except (TextTooLong, InvalidParameter):
        pass
    assert time.perf_counter() - started < 2.0


def test_runs_of_combining_marks_are_refused() -> None:
    ok = clean_text("e" + "\u0301" * 30 + " ok", max_chars=1000)
    assert ok.startswith("\u00e9\u0301") and ok.endswith(" ok")  # NFC composed the first
    with pytest.raises(InvalidParameter, match="combining marks"):
        clean_text("e" + "\u0301\u0316" * 16, max_chars=1000)


def test_every_door_refuses_oversized_text_fast(client: TestClient) -> None:
    headers = register_and_login(client, "doors@example.com")
    text = "7" * 900_000  # under the 1 MB body limit, far over every text limit
    started = time.perf_counter()
    for method, path, body in [
        ("POST", "/api/v1/tts/synthesize", {"text": text}),
        ("POST", "/api/v1/tts/synthesize/async", {"text": text}),
        ("POST", "/api/v1/tts/stream", {"text": text}),
        ("POST", "/v1/audio/speech", {"model": "tts-1", "voice": "alloy", "input": text}),
        ("POST", "/api/v1/job", {"text_content": text}),
    ]:
        response = client.request(method, path, headers=headers, json=body)
        assert 400 <= response.status_code < 500, (path, response.status_code)
    assert time.perf_counter() - started < 5.0


def test_engine_front_ends_take_1000_digits_in_linear_time(
    piper: PiperEngine, kokoro: KokoroEngine
) -> None:
    for text in ("1" * 1000, "1,234,567.89 " * 77, "\U0001f600 a " * 333):
        started = time.perf_counter()
        piper_ids = piper._sentence_ids(text)
        kokoro_tokens = kokoro.tokens(text, "en-US")
        assert time.perf_counter() - started < 2.0
        assert piper_ids and kokoro_tokens


# --- Blob keys and CORS ------------------------------------------------------------------------


def test_no_cors_by_default_only_configured_origins(make_client: Callable[..., TestClient]) -> None:
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    client = make_client()
    for response in (
        client.options("/api/v1/auth/login", headers=preflight),
        client.get("/api/v1/health", headers={"Origin": "https://evil.example"}),
    ):
        assert not any(h.lower().startswith("access-control-") for h in response.headers)
    allowed = make_client(cors_origins=["https://studio.example"])
    ok = allowed.options(
        "/api/v1/auth/login",
        headers={**preflight, "Origin": "https://studio.example"},
    )
    assert ok.headers["access-control-allow-origin"] == "https://studio.example"
    assert "access-control-allow-credentials" not in ok.headers
    other = allowed.get("/api/v1/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers

"""Client: the Voxify API from ordinary (blocking) Python code."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from voxify.client import calls
from voxify.client.calls import (
    Call,
    Speech,
    data_of,
    is_final,
    request_options,
    retry_delay,
    sse_event,
)
from voxify.client.errors import ConnectionFailed, JobFailed, error_from

Progress = Callable[[dict[str, Any]], None]


class Client:
    """Voxify over HTTP. Authenticate with an API key (``vx_…``), an access token, or
    :meth:`login`. Requests refused with 429 or 503 and a Retry-After are sent again (up to
    ``max_retries`` times, waiting at most ``max_retry_wait`` s): the service did nothing."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        *,
        api_key: str | None = None,
        token: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 2,
        max_retry_wait: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=timeout, transport=transport)
        self.credential = api_key or token
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- accounts -------------------------------------------------------------------------

    def register(
        self, email: str, password: str, first_name: str, last_name: str
    ) -> dict[str, Any]:
        """Create an account (then :meth:`login`)."""
        return data_of(self._send(calls.register(email, password, first_name, last_name)))

    def login(self, email: str, password: str) -> dict[str, Any]:
        """Sign in; later requests use the access token."""
        tokens: dict[str, Any] = data_of(self._send(calls.login(email, password)))
        self.credential = tokens["access_token"]
        return tokens

    def create_api_key(
        self, name: str, *, scopes: list[str] | None = None, expires_in_days: int | None = None
    ) -> dict[str, Any]:
        """A new API key; its secret is ``["key"]``, shown this once (needs a login)."""
        return data_of(self._send(calls.create_api_key(name, scopes, expires_in_days)))

    # --- speech ---------------------------------------------------------------------------

    def synthesize(self, text: str, **options: Any) -> Speech:
        """Speak ``text`` now (bounded length) and fetch the audio. Options: ``voice_id``,
        ``format``, ``sample_rate``, ``speed``, ``pitch``, ``volume``, ``language``,
        ``timestamps``."""
        info = self.speak(text, **options)
        return Speech(self.download(info["file_id"]), info)

    def speak(self, text: str, **options: Any) -> dict[str, Any]:
        """Synthesize and store, without fetching the audio: what the service said about it
        (``file_id`` to :meth:`download`, ``duration``, ``voice_id``, ...)."""
        info: dict[str, Any] = data_of(self._send(calls.synthesize(text, **options)))
        return info

    def synthesize_to_file(self, path: str | Path, text: str, **options: Any) -> dict[str, Any]:
        """Speak ``text`` into the file at ``path``; returns what the service said about it."""
        speech = self.synthesize(text, **options)
        Path(path).write_bytes(speech.audio)
        return speech.info

    def stream(self, text: str, **options: Any) -> Iterator[bytes]:
        """The audio as it renders, in ``format`` (default wav), piece by piece."""
        call = calls.stream(text, **options)
        with self._open_stream(call) as response:
            yield from response.iter_bytes()

    # --- jobs -----------------------------------------------------------------------------

    def create_job(self, text: str, **options: Any) -> dict[str, Any]:
        """Queue a synthesis job of any length (the options of :meth:`synthesize`)."""
        return data_of(self._send(calls.create_job(text, **options)))

    def job(self, job_id: str) -> dict[str, Any]:
        return data_of(self._send(calls.get(f"job/{job_id}")))

    def jobs(self, **filters: Any) -> list[dict[str, Any]]:
        """The caller's jobs (``status``, ``type``, ``voice_model_id``, ``text_search``,
        ``limit``, ``offset``, ...)."""
        return data_of(self._send(calls.get("job", **filters)))

    def wait_for_job(
        self, job_id: str, *, on_progress: Progress | None = None, timeout: float = 3600
    ) -> dict[str, Any]:
        """Follow the job's live progress until it ends; its final state, or JobFailed."""
        with self._open_stream(calls.progress(job_id), timeout=timeout) as response:
            for line in response.iter_lines():
                event = sse_event(line)
                if event is None:
                    continue
                if on_progress is not None and "progress" in event:
                    on_progress(event)
                if is_final(event):
                    break
        job = self.job(job_id)
        if job["status"] != "completed":
            raise JobFailed(job)
        return job

    def download(self, file_or_job_id: str) -> bytes:
        """A stored output's bytes, by its file id or the id of the job that made it."""
        response = self._send(calls.download(file_or_job_id))
        if response.status_code >= 400:
            raise error_from(response)
        return response.content

    # --- voices ---------------------------------------------------------------------------

    def voices(self, **filters: Any) -> list[dict[str, Any]]:
        """Voices the caller may speak with (``type``, ``language``, ``tags``, ...)."""
        return data_of(self._send(calls.get("voice/models", **filters)))

    def upload_sample(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        language: str = "en-US",
        transcript: str | None = None,
    ) -> dict[str, Any]:
        """Upload a recording (WAV, MP3, FLAC or OGG) as a voice sample."""
        call = calls.upload_sample(Path(path), name=name, language=language, transcript=transcript)
        return data_of(self._send(call))

    def sample(self, sample_id: str) -> dict[str, Any]:
        return data_of(self._send(calls.get(f"voice/samples/{sample_id}")))

    def process_sample(
        self, sample_id: str, *, on_progress: Progress | None = None
    ) -> dict[str, Any]:
        """Process a sample (clean, check, embed) and wait; its final state, or JobFailed."""
        started = data_of(self._send(calls.process_sample(sample_id)))
        self.wait_for_job(started["job_id"], on_progress=on_progress)
        return self.sample(sample_id)

    def clone(self, clone_id: str) -> dict[str, Any]:
        return data_of(self._send(calls.get(f"voice/clones/{clone_id}")))

    def create_clone(
        self,
        sample_ids: list[str],
        name: str,
        *,
        description: str | None = None,
        config: dict[str, Any] | None = None,
        on_progress: Progress | None = None,
        wait: bool = True,
    ) -> dict[str, Any]:
        """Train a clone from processed samples; with ``wait``, follow it until it is ready
        (or JobFailed)."""
        clone = data_of(self._send(calls.create_clone(sample_ids, name, description, config)))
        if not wait:
            return clone
        self.wait_for_job(clone["job_id"], on_progress=on_progress)
        return self.clone(clone["clone_id"])

    # --- transport ------------------------------------------------------------------------

    def _send(self, call: Call) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    call.method, call.path, **request_options(call, self.credential)
                )
            except httpx.TransportError as exc:
                raise ConnectionFailed(f"Cannot reach {self._http.base_url}: {exc}") from exc
            delay = retry_delay(response, attempt, self.max_retries, self.max_retry_wait)
            if delay is None:
                return response
            attempt += 1
            time.sleep(delay)

    @contextmanager
    def _open_stream(self, call: Call, timeout: float | None = None) -> Iterator[httpx.Response]:
        """A streamed response whose status was checked (errors raised before any byte)."""
        request = self._http.build_request(
            call.method,
            call.path,
            json=call.json,
            headers=request_options(call, self.credential)["headers"],
            timeout=timeout if timeout is not None else self._http.timeout,
        )
        try:
            response = self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise ConnectionFailed(str(exc)) from exc
        try:
            if response.status_code >= 400:
                response.read()
                raise error_from(response)
            yield response
        finally:
            response.close()

"""AsyncClient: the Voxify API from asyncio code (the same operations as Client)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
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

Progress = Callable[[dict[str, Any]], Awaitable[None] | None]


class AsyncClient:
    """Voxify over HTTP for asyncio; see Client for authentication and retries."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        *,
        api_key: str | None = None,
        token: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 2,
        max_retry_wait: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)
        self.credential = api_key or token
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def register(
        self, email: str, password: str, first_name: str, last_name: str
    ) -> dict[str, Any]:
        return data_of(await self._send(calls.register(email, password, first_name, last_name)))

    async def login(self, email: str, password: str) -> dict[str, Any]:
        tokens: dict[str, Any] = data_of(await self._send(calls.login(email, password)))
        self.credential = tokens["access_token"]
        return tokens

    async def create_api_key(
        self, name: str, *, scopes: list[str] | None = None, expires_in_days: int | None = None
    ) -> dict[str, Any]:
        return data_of(await self._send(calls.create_api_key(name, scopes, expires_in_days)))

    async def synthesize(self, text: str, **options: Any) -> Speech:
        info = await self.speak(text, **options)
        return Speech(await self.download(info["file_id"]), info)

    async def speak(self, text: str, **options: Any) -> dict[str, Any]:
        info: dict[str, Any] = data_of(await self._send(calls.synthesize(text, **options)))
        return info

    async def synthesize_to_file(
        self, path: str | Path, text: str, **options: Any
    ) -> dict[str, Any]:
        speech = await self.synthesize(text, **options)
        await asyncio.to_thread(Path(path).write_bytes, speech.audio)
        return speech.info

    async def stream(self, text: str, **options: Any) -> AsyncIterator[bytes]:
        async with self._open_stream(calls.stream(text, **options)) as response:
            async for piece in response.aiter_bytes():
                yield piece

    async def create_job(self, text: str, **options: Any) -> dict[str, Any]:
        return data_of(await self._send(calls.create_job(text, **options)))

    async def job(self, job_id: str) -> dict[str, Any]:
        return data_of(await self._send(calls.get(f"job/{job_id}")))

    async def jobs(self, **filters: Any) -> list[dict[str, Any]]:
        return data_of(await self._send(calls.get("job", **filters)))

    async def wait_for_job(
        self, job_id: str, *, on_progress: Progress | None = None, timeout: float = 3600
    ) -> dict[str, Any]:
        async with self._open_stream(calls.progress(job_id), timeout=timeout) as response:
            async for line in response.aiter_lines():
                event = sse_event(line)
                if event is None:
                    continue
                if on_progress is not None and "progress" in event:
                    result = on_progress(event)
                    if asyncio.iscoroutine(result):
                        await result
                if is_final(event):
                    break
        job = await self.job(job_id)
        if job["status"] != "completed":
            raise JobFailed(job)
        return job

    async def download(self, file_or_job_id: str) -> bytes:
        response = await self._send(calls.download(file_or_job_id))
        if response.status_code >= 400:
            raise error_from(response)
        return response.content

    async def voices(self, **filters: Any) -> list[dict[str, Any]]:
        return data_of(await self._send(calls.get("voice/models", **filters)))

    async def upload_sample(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        language: str = "en-US",
        transcript: str | None = None,
    ) -> dict[str, Any]:
        call = await asyncio.to_thread(
            calls.upload_sample, Path(path), name=name, language=language, transcript=transcript
        )
        return data_of(await self._send(call))

    async def sample(self, sample_id: str) -> dict[str, Any]:
        return data_of(await self._send(calls.get(f"voice/samples/{sample_id}")))

    async def process_sample(
        self, sample_id: str, *, on_progress: Progress | None = None
    ) -> dict[str, Any]:
        started = data_of(await self._send(calls.process_sample(sample_id)))
        await self.wait_for_job(started["job_id"], on_progress=on_progress)
        return await self.sample(sample_id)

    async def clone(self, clone_id: str) -> dict[str, Any]:
        return data_of(await self._send(calls.get(f"voice/clones/{clone_id}")))

    async def create_clone(
        self,
        sample_ids: list[str],
        name: str,
        *,
        description: str | None = None,
        config: dict[str, Any] | None = None,
        on_progress: Progress | None = None,
        wait: bool = True,
    ) -> dict[str, Any]:
        clone = data_of(await self._send(calls.create_clone(sample_ids, name, description, config)))
        if not wait:
            return clone
        await self.wait_for_job(clone["job_id"], on_progress=on_progress)
        return await self.clone(clone["clone_id"])

    async def _send(self, call: Call) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = await self._http.request(
                    call.method, call.path, **request_options(call, self.credential)
                )
            except httpx.TransportError as exc:
                raise ConnectionFailed(f"Cannot reach {self._http.base_url}: {exc}") from exc
            delay = retry_delay(response, attempt, self.max_retries, self.max_retry_wait)
            if delay is None:
                return response
            attempt += 1
            await asyncio.sleep(delay)

    @asynccontextmanager
    async def _open_stream(
        self, call: Call, timeout: float | None = None
    ) -> AsyncIterator[httpx.Response]:
        request = self._http.build_request(
            call.method,
            call.path,
            json=call.json,
            headers=request_options(call, self.credential)["headers"],
            timeout=timeout if timeout is not None else self._http.timeout,
        )
        try:
            response = await self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise ConnectionFailed(str(exc)) from exc
        try:
            if response.status_code >= 400:
                await response.aread()
                raise error_from(response)
            yield response
        finally:
            await response.aclose()

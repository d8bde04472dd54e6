"""Pure ASGI middleware: request bodies are bounded while they stream in."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voxify.api.errors import error_response


class BodyLimitMiddleware:
    """Answer 413 as soon as a body passes its limit, without buffering the rest.

    Multipart uploads get ``upload_bytes()`` (a runtime limit, read per upload); every other
    body gets ``json_bytes``.
    """

    def __init__(self, app: ASGIApp, *, json_bytes: int, upload_bytes: Callable[[], int]) -> None:
        self.app = app
        self.json_bytes = json_bytes
        self.upload_bytes = upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        limit = self.upload_bytes() if content_type.startswith("multipart/") else self.json_bytes
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject(scope, receive, send, limit)
            return
        received = 0
        too_large = False
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise _TooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if too_large:
                # A form parser that catches the error answers 400 for a "malformed" body;
                # the real reason is the size, so that answer is replaced by the 413 below.
                return
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        with suppress(_TooLarge):  # raised into the app; the flag says what happened
            await self.app(scope, limited_receive, tracking_send)
        if too_large and not response_started:
            await self._reject(scope, receive, send, limit)

    @staticmethod
    async def _reject(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = error_response(
            413,
            "PAYLOAD_TOO_LARGE",
            f"Request body is larger than the limit of {limit} bytes",
            details={"max_bytes": limit},
        )
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass

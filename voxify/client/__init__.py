"""The Voxify Python client: ``Client`` (blocking) and ``AsyncClient`` (asyncio), on httpx.

from voxify.client import Client
with Client("http://127.0.0.1:8000", api_key="vx_…") as voxify:
    voxify.synthesize_to_file("hello.mp3", "Hello there.", format="mp3")
"""

from voxify.client.aio import AsyncClient
from voxify.client.calls import Speech
from voxify.client.errors import (
    ApiError,
    AuthenticationError,
    BadRequest,
    Conflict,
    ConnectionFailed,
    JobFailed,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    QuotaExceeded,
    RateLimited,
    ServerError,
    ServiceUnavailable,
)
from voxify.client.sync import Client

__all__ = [
    "ApiError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequest",
    "Client",
    "Conflict",
    "ConnectionFailed",
    "JobFailed",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "QuotaExceeded",
    "RateLimited",
    "ServerError",
    "ServiceUnavailable",
    "Speech",
]

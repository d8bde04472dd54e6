"""The gRPC door: the methods of voxify.v1.Voxify as plain functions over Services.

Each takes the Services, the request message and the call's context (Ray Serve's
RayServegRPCContext; deployments/ingress.py names a method after each RPC). The credential
comes from the metadata (``authorization: Bearer …`` or ``x-api-key``) and is checked as on
REST: the same authentication and per-minute limit, the same scopes per action, the same
schemas, and the same synthesis service, job service and voice library behind them, so the
daily quota, voice ownership and text rules hold here too.

A refusal sets the status on the context (voxify/grpc/status.py). A unary method then answers
an empty message, which Serve's proxy sends with that status and its trailing metadata; a
streaming method raises, and the proxy keeps the code and the details (it carries no trailing
metadata for an exception).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import grpc
from google.protobuf.message import Message
from pydantic import ValidationError

from voxify.api.context import Services
from voxify.api.deps import authenticate_credential, require_scope
from voxify.auth.keys import Scope
from voxify.db.models import User
from voxify.db.session import session_scope
from voxify.errors import AuthError, VoxifyError
from voxify.grpc import messages
from voxify.grpc import voxify_pb2 as pb
from voxify.grpc.status import Context, invalid, refuse
from voxify.jobs import service as jobs_service
from voxify.jobs.recovery import launch_job
from voxify.jobs.schemas import JobCreate
from voxify.observability import metrics
from voxify.observability.context import new_request_id, set_request_id
from voxify.observability.logs import log_event
from voxify.voices import listing

log = logging.getLogger(__name__)

DOOR = "grpc"  # the door syntheses are counted under in Voxify's metrics

# The scopes REST asks for (voxify/api/app.py): speech needs 'synthesize'; reading jobs and
# the voice library, either.
SPEECH = (Scope.SYNTHESIZE,)
EITHER = (Scope.SYNTHESIZE, Scope.VOICES)

Req = TypeVar("Req", bound=Message)
Rep = TypeVar("Rep", bound=Message)
Unary = Callable[[Services, Req, Context], Awaitable[Rep]]
Streaming = Callable[[Services, Req, Context], AsyncIterator[Rep]]


def credential(context: Context) -> str:
    """The API key (or access token) in the call's metadata: ``x-api-key``, else
    ``authorization: Bearer``."""
    metadata = {key.lower(): str(value) for key, value in context.invocation_metadata() or ()}
    key = metadata.get("x-api-key", "").strip()
    scheme, _, token = metadata.get("authorization", "").partition(" ")
    if key or (scheme.lower() == "bearer" and token.strip()):
        return key or token.strip()
    raise AuthError(
        "Missing credentials: send the metadata 'authorization: Bearer <API key>' "
        "or 'x-api-key: <API key>'"
    )


async def caller(services: Services, context: Context, *scopes: Scope) -> User:
    """The credential's user, counted against their per-minute limit, whose key (if it is
    one) holds one of ``scopes``."""
    user, granted = await asyncio.to_thread(authenticate_credential, services, credential(context))
    require_scope(granted, *scopes)
    return user


def _begin() -> float:
    """A call starts: its own request id (as an HTTP request gets), and the clock."""
    set_request_id(new_request_id())
    return time.perf_counter()


def _observe(method: str, code: grpc.StatusCode, started: float) -> None:
    """A call ends: its metrics and its log line."""
    elapsed = time.perf_counter() - started
    metrics.GRPC_REQUESTS.inc(method=method, code=code.name)
    metrics.GRPC_LATENCY.observe(elapsed, method=method)
    log_event("grpc.request", method=method, code=code.name, total_ms=round(elapsed * 1000, 2))


def _refusal(exc: Exception) -> VoxifyError:
    if isinstance(exc, ValidationError):
        return invalid(exc)
    if isinstance(exc, VoxifyError):
        if exc.status_code >= 500:
            log.error("%s: %s", exc.code, exc.message)
        return exc
    log.exception("unhandled error in a gRPC call", exc_info=exc)
    return VoxifyError("Internal server error")


def _unary(empty: type[Rep]) -> Callable[[Unary[Req, Rep]], Unary[Req, Rep]]:
    """Refusals set on the context, answered with an ``empty`` message."""

    def wrap(method: Unary[Req, Rep]) -> Unary[Req, Rep]:
        @functools.wraps(method)
        async def call(services: Services, request: Req, context: Context) -> Rep:
            started, code = _begin(), grpc.StatusCode.OK
            try:
                return await method(services, request, context)
            except Exception as exc:
                code = refuse(context, _refusal(exc))
                return empty()
            finally:
                _observe(method.__name__, code, started)

        return call

    return wrap


def _streaming(method: Streaming[Req, Rep]) -> Streaming[Req, Rep]:
    """Refusals set on the context, then raised (a stream has no empty answer)."""

    @functools.wraps(method)
    async def call(services: Services, request: Req, context: Context) -> AsyncIterator[Rep]:
        started, code = _begin(), grpc.StatusCode.CANCELLED  # unless it ends or fails
        try:
            async for message in method(services, request, context):
                yield message
            code = grpc.StatusCode.OK
        except Exception as exc:
            code = refuse(context, _refusal(exc))
            raise
        finally:
            _observe(method.__name__, code, started)

    return call


@_unary(pb.SynthesizeResponse)
async def synthesize(
    services: Services, request: pb.SynthesizeRequest, context: Context
) -> pb.SynthesizeResponse:
    """Speak short text now; stored in the caller's history like /tts/synthesize."""
    user = await caller(services, context, *SPEECH)
    speech = messages.tts_request(request).speech()
    result = await services.speech.synthesize(user, speech, via=DOOR)
    return messages.synthesized(result)


@_streaming
async def synthesize_stream(
    services: Services, request: pb.SynthesizeRequest, context: Context
) -> AsyncIterator[pb.AudioChunk]:
    """The speech as encoded pieces, each as soon as it is rendered."""
    user = await caller(services, context, *SPEECH)
    speech = messages.tts_request(request).speech()
    stream = await services.speech.stream(user, speech, via=DOOR)
    async for piece in stream.encoded(speech.output_format):
        yield pb.AudioChunk(audio=piece)


@_unary(pb.Job)
async def create_job(services: Services, request: pb.SynthesizeRequest, context: Context) -> pb.Job:
    """Queue a synthesis job, as POST /tts/synthesize/async does."""
    user = await caller(services, context, *SPEECH)
    data = messages.tts_request(request).job()
    return await asyncio.to_thread(_create_job, services, user, data)


@_unary(pb.Job)
async def get_job(services: Services, request: pb.GetJobRequest, context: Context) -> pb.Job:
    """One of the caller's jobs (another user's is not found)."""
    user = await caller(services, context, *EITHER)
    return await asyncio.to_thread(_job, services, user, request.job_id)


@_streaming
async def watch_job(
    services: Services, request: pb.WatchJobRequest, context: Context
) -> AsyncIterator[pb.JobProgress]:
    """The job's state now and at each change until it ends."""
    user = await caller(services, context, *EITHER)
    await asyncio.to_thread(_job, services, user, request.job_id)  # not found before streaming
    async for event in services.progress.listen(request.job_id):
        if event is not None:  # a keep-alive: gRPC keeps the connection alive itself
            yield messages.progress(event)


@_unary(pb.ListVoicesResponse)
async def list_voices(
    services: Services, request: pb.ListVoicesRequest, context: Context
) -> pb.ListVoicesResponse:
    """The voice library with REST's filters, one page of it."""
    user = await caller(services, context, *EITHER)
    query, page = messages.voice_query(request), messages.page(request)
    ranked = page.offset + page.limit
    found = await listing.list_voices(services, user=user, query=query, ranked=ranked)
    return messages.voices(found, page)


def _create_job(services: Services, user: User, data: JobCreate) -> pb.Job:
    with session_scope(services.sessions) as session:
        job = jobs_service.create_synthesis_job(
            session=session, speech=services.speech, user=user, data=data
        )
        created = messages.job(job)
    launch_job(services.launcher, job.id)
    return created


def _job(services: Services, user: User, job_id: str) -> pb.Job:
    with session_scope(services.sessions) as session:
        return messages.job(jobs_service.get_job(session=session, user=user, job_id=job_id))

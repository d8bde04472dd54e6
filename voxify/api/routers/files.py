"""File management: download audio by file id or job id, and file information."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse

from voxify.api.context import Services
from voxify.api.deps import CurrentUser, ServicesDep
from voxify.api.envelope import respond
from voxify.api.openapi import audio_answer
from voxify.db.models import File, User
from voxify.db.session import session_scope
from voxify.files.service import file_info, open_stream, resolve

router = APIRouter(prefix="/api/v1/files", tags=["files"])


@router.get(
    "/audio/previews/{voice_id}.wav",
    response_class=Response,
    responses=audio_answer("The preview clip", media_types=["audio/wav"]),
)
async def preview_audio(voice_id: str, user: CurrentUser, services: ServicesDep) -> Response:
    """A voice's preview clip (any voice the caller may speak with; rendered once, stored)."""
    _, clip = await services.previews.get(user, voice_id)
    return Response(
        clip.data,
        media_type="audio/wav",
        headers={
            "Content-Disposition": 'inline; filename="preview.wav"',
            "Cache-Control": "private, max-age=86400",
        },
    )


@router.get("/audio/{file_id}", response_class=Response, responses=audio_answer("The file's audio"))
async def download_audio(file_id: str, user: CurrentUser, services: ServicesDep) -> Response:
    """The audio of one of the caller's files (or of one of their jobs)."""
    file, first, rest = await run_in_threadpool(_open, services, user, file_id)
    headers = {
        "Content-Length": str(file.size),
        "Content-Disposition": f'attachment; filename="{file.filename}"',
    }
    if rest is None:
        return Response(first, media_type=file.content_type, headers=headers)
    return StreamingResponse(chain([first], rest), media_type=file.content_type, headers=headers)


def _open(
    services: Services, user: User, file_id: str
) -> tuple[File, bytes, Iterator[bytes] | None]:
    with session_scope(services.sessions) as session:
        file = resolve(session=session, owner_id=user.id, file_or_job_id=file_id)
    return (file, *open_stream(blobs=services.blobs, file=file))


@router.get("/{file_id}/info")
def get_file_info(file_id: str, user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """Metadata of one of the caller's files."""
    with session_scope(services.sessions) as session:
        file = resolve(session=session, owner_id=user.id, file_or_job_id=file_id)
        return respond(file_info(file))

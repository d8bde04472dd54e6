"""File management: download audio by file id or job id, and file information."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse

from voxify.api.deps import CurrentUser, ServicesDep
from voxify.api.envelope import respond
from voxify.db.session import session_scope
from voxify.files.service import file_info, open_stream, resolve

router = APIRouter(prefix="/api/v1/files", tags=["files"])


@router.get("/audio/{file_id}")
def download_audio(file_id: str, user: CurrentUser, services: ServicesDep) -> StreamingResponse:
    """Stream the audio of one of the caller's files (or of one of their jobs)."""
    with session_scope(services.sessions) as session:
        file = resolve(session=session, owner_id=user.id, file_or_job_id=file_id)
    stream = open_stream(blobs=services.blobs, file=file)
    headers = {
        "Content-Length": str(file.size),
        "Content-Disposition": f'attachment; filename="{file.filename}"',
    }
    return StreamingResponse(stream, media_type=file.content_type, headers=headers)


@router.get("/{file_id}/info")
def get_file_info(file_id: str, user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """Metadata of one of the caller's files."""
    with session_scope(services.sessions) as session:
        file = resolve(session=session, owner_id=user.id, file_or_job_id=file_id)
        return respond(file_info(file))

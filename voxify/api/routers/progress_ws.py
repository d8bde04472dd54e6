"""WebSocket job progress (seed 001): /api/v1/jobs/{id}/progress/ws.

Browsers cannot set headers on a WebSocket, so the credential (an access token or an API key)
comes as the ``token`` query parameter or as the second of the subprotocols ``voxify, <token>``.
The socket is accepted first, so that a refusal can say why: it closes with 4401 (no or a bad
credential), 4403 (a key without the scope) or 4404 (no such job of yours). Otherwise it sends
the job's state now and at each change as JSON, and closes (1000) once the job has ended.
"""

from __future__ import annotations

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool

from voxify.api.context import Services
from voxify.api.deps import authenticate_credential, require_scope
from voxify.auth.keys import Scope
from voxify.db.models import User
from voxify.db.session import session_scope
from voxify.errors import AuthError, VoxifyError
from voxify.jobs import service

router = APIRouter(tags=["jobs"])
SUBPROTOCOL = "voxify"
CLOSE_CODES = {401: 4401, 403: 4403, 404: 4404, 429: 4429}


@router.websocket("/{job_id}/progress/ws")
async def job_progress_ws(websocket: WebSocket, job_id: str, token: str | None = None) -> None:
    """The job's progress events until it ends."""
    services: Services = websocket.app.state.services
    offered = [p.strip() for p in websocket.headers.get("sec-websocket-protocol", "").split(",")]
    if token is None and len(offered) >= 2 and offered[0] == SUBPROTOCOL:
        token = offered[1]
    await websocket.accept(subprotocol=SUBPROTOCOL if offered[0] == SUBPROTOCOL else None)
    try:
        if not token:
            raise AuthError("Send the token as ?token=... or the subprotocols 'voxify, <token>'")
        await run_in_threadpool(_authorize, services, token, job_id)
    except VoxifyError as exc:
        await websocket.close(code=CLOSE_CODES.get(exc.status_code, 4400), reason=exc.message[:120])
        return
    final = "ended"
    try:
        async for event in services.progress.listen(job_id):
            if event is None:
                await websocket.send_json({"type": "keepalive"})
                continue
            await websocket.send_json(event)
            final = str(event["status"])
    except WebSocketDisconnect:
        return
    await websocket.close(code=1000, reason=final)


def _authorize(services: Services, token: str, job_id: str) -> User:
    user, scopes = authenticate_credential(services, token)
    require_scope(scopes, Scope.SYNTHESIZE, Scope.VOICES)
    with session_scope(services.sessions) as session:
        service.get_job(session=session, user=user, job_id=job_id)  # NotFound if not theirs
    return user

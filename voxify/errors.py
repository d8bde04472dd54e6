"""One error hierarchy: each error carries a stable code and an HTTP status."""

from __future__ import annotations

from typing import Any


class VoxifyError(Exception):
    """Base of every error the API reports; mapped to the envelope in one place."""

    code = "INTERNAL_ERROR"
    status_code = 500
    default_message = "Internal error"

    def __init__(self, message: str | None = None, *, details: Any = None) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)


class ValidationFailed(VoxifyError):
    code = "VALIDATION_ERROR"
    status_code = 422
    default_message = "Request validation failed"


class InvalidParameter(ValidationFailed):
    code = "INVALID_PARAMETER"
    status_code = 400
    default_message = "Invalid parameter"


class TextTooLong(InvalidParameter):
    code = "TEXT_TOO_LONG"
    default_message = "Text is too long"


class UnsupportedFormat(InvalidParameter):
    code = "UNSUPPORTED_FORMAT"
    default_message = "Unsupported output format"


class IncompatibleOptions(ValidationFailed):
    code = "INCOMPATIBLE_OPTIONS"
    default_message = "These synthesis options cannot be combined"


class InvalidFilename(InvalidParameter):
    code = "INVALID_FILENAME"
    default_message = "The file name is not acceptable"


class InvalidAudio(ValidationFailed):
    code = "INVALID_AUDIO"
    status_code = 400
    default_message = "The upload is not usable audio"


class AudioTooShort(InvalidAudio):
    code = "AUDIO_TOO_SHORT"
    default_message = "The sample has too little speech"


class AudioTooLong(InvalidAudio):
    code = "AUDIO_TOO_LONG"
    default_message = "The sample has too much speech"


class AudioSilent(InvalidAudio):
    code = "AUDIO_SILENT"
    default_message = "The sample contains no audible speech"


class AuthError(VoxifyError):
    code = "UNAUTHORIZED"
    status_code = 401
    default_message = "Authentication required"


class InvalidCredentials(AuthError):
    code = "INVALID_CREDENTIALS"
    default_message = "Invalid email or password"


class InvalidToken(AuthError):
    code = "INVALID_TOKEN"
    default_message = "Invalid token"


class TokenExpired(AuthError):
    code = "TOKEN_EXPIRED"
    default_message = "Token has expired"


class Forbidden(VoxifyError):
    code = "FORBIDDEN"
    status_code = 403
    default_message = "Not allowed"


class NotFound(VoxifyError):
    code = "NOT_FOUND"
    status_code = 404
    default_message = "Not found"


class Conflict(VoxifyError):
    code = "CONFLICT"
    status_code = 409
    default_message = "Conflict"


class EmailTaken(Conflict):
    code = "EMAIL_TAKEN"
    default_message = "An account with this email already exists"


class InvalidState(Conflict):
    code = "INVALID_STATE"
    default_message = "The resource is not in a state that allows this"


class PayloadTooLarge(VoxifyError):
    code = "PAYLOAD_TOO_LARGE"
    status_code = 413
    default_message = "Payload too large"


class RateLimited(VoxifyError):
    code = "RATE_LIMITED"
    status_code = 429
    default_message = "Too many requests"

    def __init__(self, message: str | None = None, *, retry_after: int = 60, details: Any = None):
        super().__init__(message, details=details)
        self.retry_after = retry_after


class QuotaExceeded(RateLimited):
    code = "QUOTA_EXCEEDED"
    default_message = "Daily quota exceeded"


class Unavailable(VoxifyError):
    code = "SERVICE_UNAVAILABLE"
    status_code = 503
    default_message = "Service temporarily unavailable"

    def __init__(self, message: str | None = None, *, retry_after: int = 5, details: Any = None):
        super().__init__(message, details=details)
        self.retry_after = retry_after


class SynthesisFailed(VoxifyError):
    code = "SYNTHESIS_FAILED"
    status_code = 500
    default_message = "Speech synthesis failed"


class EngineUnavailable(VoxifyError):
    code = "ENGINE_UNAVAILABLE"
    status_code = 422
    default_message = (
        "This voice needs the XTTS engine, which this deployment does not run "
        "(set VOXIFY_XTTS_MODEL_DIR)"
    )

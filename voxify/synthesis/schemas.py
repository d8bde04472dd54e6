"""The request bodies of the /tts doors, and how each becomes a Speech."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from voxify.jobs.schemas import LANGUAGE_PATTERN, JobCreate, OutputFormat, SynthesisOptions
from voxify.synthesis.options import Speech


class TTSRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=200_000)
    voice_id: str | None = Field(
        None, min_length=1, max_length=200, description="A voice id or a Kokoro blend"
    )
    language: str | None = Field(
        None, pattern=LANGUAGE_PATTERN, max_length=16, description="Default: the voice's own"
    )
    config: SynthesisOptions = Field(default_factory=SynthesisOptions)
    seed: int | None = Field(None, ge=0, le=2**31 - 1, description="XTTS: same seed, same audio")
    timestamps: bool = Field(
        False, description="Also answer when each word sounds (Piper voices and their clones)"
    )

    def speech(self, output_format: str | None = None) -> Speech:
        """The request as the synthesis service takes it."""
        options = self.config
        return Speech(
            text=self.text,
            voice_id=self.voice_id,
            language=self.language,
            output_format=output_format or options.output_format,
            sample_rate=options.sample_rate,
            speed=options.speed,
            pitch=options.pitch,
            volume=options.volume,
            seed=self.seed,
            timestamps=self.timestamps,
        )

    def job(self) -> JobCreate:
        """The request as a synthesis job (word timestamps do not come with jobs)."""
        return JobCreate(
            text_content=self.text,
            voice_model_id=self.voice_id,
            text_language=self.language,
            config={} if self.seed is None else {"seed": self.seed},
            **self.config.model_dump(),
        )


class StreamRequest(TTSRequest):
    """POST /tts/stream: what /tts/synthesize takes, plus the raw stream's encoding."""

    format: OutputFormat = Field(
        "wav",
        description="wav: 16-bit PCM WAV of unknown length; pcm: raw 16-bit little-endian "
        "mono samples; mp3, opus (Ogg), aac (ADTS), flac, ogg (Vorbis), ulaw and alaw "
        "(G.711, 8 kHz) as their encoders produce them",
    )

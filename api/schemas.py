"""What the API sends and takes. Input rules live in the web forms (CloneForm, SpeechForm), not here:
these schemas describe shapes and defaults for the OpenAPI document, the forms decide what is valid."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from django.conf import settings
from ninja import Field, Schema

from clones.models import Clone, Utterance

CloneStatus = Literal[tuple(Clone.Status.values)]
UtteranceStatus = Literal[tuple(Utterance.Status.values)]
Visibility = Literal[tuple(Clone.Visibility.values)]
Language = Literal[tuple(Clone.Language.values)]


class ErrorDetail(Schema):
    code: str = Field(
        description="Stable, for programs: not_authenticated, invalid_token, not_found, validation_error, "
        "file_too_large, clone_not_ready, quota_exceeded, rate_limited, method_not_allowed, server_error."
    )
    message: str = Field(description="For people, in the language of Accept-Language.")
    fields: dict[str, list[str]] | None = Field(None, description="Messages per input field, as the web form shows.")


class Error(Schema):
    error: ErrorDetail


class CloneLinks(Schema):
    url: str = Field(description="This clone in the API.")
    preview: str | None = Field(description="The preview audio (with your token), once the clone is ready.")
    speak: str = Field(description="POST here to make the clone speak.")
    refetch_preview: str = Field(description="POST here to fetch a preview again when no route gave one.")
    page: str = Field(description="The clone's web page.")
    share: str | None = Field(description="The share link, unless the clone is private.")


class Advice(Schema):
    code: str = Field(description="clipped, too_loud, too_quiet, background_noise, too_short_speech, little_speech, "
                      "trimmed or good.")  # fmt: skip
    level: Literal["info", "warning", "error"]
    message: str = Field(description="For people, in the language of Accept-Language.")


class SampleQuality(Schema):
    """What intake measured on the sample, as the clone page shows it."""

    format: str = Field(description="What was uploaded: wav, mp3, m4a, mp4, aac, ogg, opus, webm, flac or aiff.")
    duration: float = Field(description="Seconds of the upload.")
    sample_rate: int
    channels: int
    kept_start: float = Field(description="Where the uploaded 30 s (at most) start in the recording, in seconds.")
    kept_duration: float
    trimmed: bool
    speech_duration: float = Field(description="Seconds of voice activity in what was kept.")
    loudness_lufs: float
    peak_dbfs: float
    clipping_percent: float
    noise_floor_dbfs: float
    snr_db: float
    verdict: Literal["good", "fair", "poor"]
    advice: list[Advice]


class CloneOut(Schema):
    uuid: UUID
    name: str
    status: CloneStatus
    status_label: str
    finished: bool = Field(description="Ready or failed: nothing more will happen on its own.")
    failure_reason: str | None
    visibility: Visibility
    language: Language
    tags: list[str]
    transcript: str
    preview_text: str
    sample_duration: float | None = Field(description="Seconds.")
    quality: SampleQuality | None = Field(description="The sample's quality report (none for imported voices).")
    voice_name: str = Field(description="The voice's name at the provider.")
    voice_id: str | None = Field(description="The provider's voice id, once cloned.")
    preview_file_id: str | None = Field(description="The provider's file id of the preview, once cloned.")
    preview_route: str | None = Field(
        description="How the preview was fetched: download_url, file_content or speech; unavailable when the "
        "clone is ready but no route gave one (POST links.refetch_preview to try again)."
    )
    created_at: datetime
    finished_at: datetime | None
    links: CloneLinks


class ClonePage(Schema):
    count: int
    page: int
    pages: int
    next: str | None
    previous: str | None
    results: list[CloneOut]


class CloneDeleted(Schema):
    uuid: UUID
    message: str


class UtteranceLinks(Schema):
    url: str
    audio: str | None = Field(description="The WAV audio (with your token), once ready.")


class UtteranceCheck(Schema):
    status: Literal["pending", "checking", "passed", "differs", "failed"]
    transcript: str = Field(description="What the recognizer heard.")
    error_rate: float | None = Field(description="Edits over the text's Chinese characters and words.")
    spans: list[dict[str, str]] = Field(description='Where it differs: {"op", "expected", "heard"}.')
    error_message: str | None = Field(description="Why the check could not be made (status failed).")


class UtteranceOut(Schema):
    uuid: UUID
    status: UtteranceStatus
    status_label: str
    finished: bool
    text: str
    speed: float
    volume: float
    clone: UUID | None = Field(description="The clone that speaks, or null for a system voice.")
    system_voice: str | None
    voice_label: str
    duration: float | None = Field(description="Seconds, once ready.")
    sent_text: str | None = Field(description="The text as sent, after your pronunciation rules; null until spoken.")
    check: UtteranceCheck | None = Field(description="The speech heard back, when asked for with check: true.")
    created_at: datetime
    finished_at: datetime | None
    links: UtteranceLinks


class UtterancePage(Schema):
    count: int
    page: int
    pages: int
    next: str | None
    previous: str | None
    results: list[UtteranceOut]


def _text_required(schema):
    schema["required"] = ["text"]
    schema["properties"]["text"].pop("default", None)


class SpeechIn(Schema):
    """The limits shown here are the web form's, which checks them (with the same messages)."""

    # Left to SpeechForm when missing, so that the message is the web form's ("This field is required.").
    text: str = Field(None, description="What to say.", json_schema_extra={"maxLength": settings.SPEECH_MAX_TEXT_CHARS})
    speed: float = Field(1.0, json_schema_extra={"minimum": 0.5, "maximum": 2})
    volume: float = Field(1.0, json_schema_extra={"exclusiveMinimum": 0, "maximum": 10})
    check: bool = Field(False, description="Hear it back and compare it with the text (charged as seconds checked).")

    model_config = {"json_schema_extra": _text_required}


# CloneForm reads the multipart body itself (one validation path with the web page); this only
# describes it for the OpenAPI document.
CLONE_FORM_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["sample", "name", "preview_text", "consent"],
                    "properties": {
                        "sample": {
                            "type": "string",
                            "format": "binary",
                            "description": "WAV or MP3, 3 to 30 s of one person speaking.",
                        },
                        "name": {"type": "string", "minLength": 1, "maxLength": 100},
                        "transcript": {"type": "string", "description": "Exactly what the sample says, or empty."},
                        "preview_text": {"type": "string", "minLength": 1, "maxLength": 500},
                        "language": {"type": "string", "enum": list(Clone.Language.values), "default": "en"},
                        "visibility": {"type": "string", "enum": list(Clone.Visibility.values), "default": "private"},
                        "tags": {"type": "string", "description": "Comma-separated, at most 5."},
                        "consent": {
                            "type": "boolean",
                            "description": "true: you have the right to clone this voice (it is yours, or its "
                            "owner agreed).",
                        },
                    },
                }
            }
        },
    }
}

AUDIO_RESPONSES = {
    "parameters": [
        {
            "name": "Range",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": "A byte range, for example bytes=0-1023.",
        }
    ],
    "responses": {
        200: {"description": "The audio.", "content": {"audio/wav": {}, "audio/mpeg": {}}},
        206: {"description": "Part of the audio, for a Range request.", "content": {"audio/wav": {}, "audio/mpeg": {}}},
        304: {"description": "Not modified (If-None-Match)."},
        416: {"description": "The range is outside the file."},
    },
}

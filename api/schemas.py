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


class UtteranceAttemptOut(Schema):
    number: int = Field(description="1: the speech as first made; then each made again because it differed.")
    status: Literal["passed", "differs", "failed", ""] = Field(description='"": not heard back yet.')
    transcript: str
    error_rate: float | None
    kept: bool = Field(description="This attempt's audio is the utterance's.")
    provider_calls: int = Field(description="Speech calls this attempt took.")
    check_calls: int = Field(description="Recognizer calls this attempt took.")
    error_message: str | None


class UtteranceCheck(Schema):
    status: Literal["pending", "checking", "redoing", "passed", "differs", "accepted", "failed"] = Field(
        description='"redoing": it differed and is being spoken again; "accepted": you kept it although it differs.'
    )
    state: Literal["checked", "differs", "checking", "unchecked"] = Field(description="The badge the pages show.")
    transcript: str = Field(description="What the recognizer heard.")
    error_rate: float | None = Field(description="Edits over the text's Chinese characters and words.")
    cer: float | None = Field(description="Character error rate over its Chinese characters; null without any.")
    wer: float | None = Field(description="Word error rate over its other words; null without any.")
    spans: list[dict[str, str]] = Field(description='Where it differs: {"op", "expected", "heard"}.')
    calls: int = Field(description="Recognizer calls spent on it, every attempt's.")
    attempts: list[UtteranceAttemptOut] = Field(description="Every attempt heard back, the first one first.")
    error_message: str | None = Field(description="Why the check (or the last attempt) could not be made.")


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
    check: UtteranceCheck | None = Field(
        description="The speech heard back: when your account checks speech, or when asked with check: true."
    )
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
    check: bool | None = Field(
        None,
        description="Hear it back and compare it with the text (charged as seconds checked), and speak it again "
        "while it differs (charged as speech), keeping the closest. Left out or null: as your account says "
        "(`GET /account/settings`).",
    )
    stream: bool = Field(
        False,
        description="Answer with the audio as it is made (a WAV of unknown length, sent in chunks) instead "
        "of queuing it; the utterance is stored as well, its id in the `X-Utterance` header.",
    )

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


# `speak` with "stream": true answers the audio itself, as it is made (README, "Streamed speech").
STREAMED_SPEECH_RESPONSE = {
    "responses": {
        200: {
            "description": "With `stream: true`: a WAV of unknown length (both sizes 0xFFFFFFFF), sent in chunks as "
            "the speech is made; 24 kHz 16-bit mono PCM after its 44-byte header. `X-Utterance` and `Location` "
            "name the utterance, stored when the stream ends.",
            "content": {"audio/wav": {}},
            "headers": {
                name: {"schema": {"type": "string"}, "description": description}
                for name, description in [
                    ("X-Utterance", "The utterance's UUID."),
                    ("X-Audio-Sample-Rate", "24000."),
                    ("X-Audio-Channels", "1."),
                    ("X-Audio-Sample-Format", "s16le."),
                    ("X-Speech-Parts", "How many parts the text was spoken in."),
                ]
            },
        }
    }
}


class AccountSettings(Schema):
    check_speech: bool = Field(
        description="One-off speech is heard back and checked, and made again while it differs (each request may "
        "say otherwise with `check`). Studio projects have their own `check_speech`."
    )


class AccountSettingsIn(Schema):
    check_speech: bool | None = Field(None, description="Left out: unchanged.")

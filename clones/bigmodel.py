"""The one module that talks to BigModel's voice API.

Nothing else in the project imports `requests` or knows a BigModel route. Every call has connect and
read timeouts, results are small typed records, and every failure is a `BigModelError` whose class
says whether trying again can help (see "Errors" in docs/provider-notes.md).
"""

import contextlib
import contextvars
import logging
import time
import uuid
from dataclasses import dataclass

import requests
from django.conf import settings

logger = logging.getLogger(__name__)

# What the log line of each call says it was for, e.g. clone=42; set with `log_context`.
_log_fields = contextvars.ContextVar("bigmodel_log_fields", default=None)


@contextlib.contextmanager
def log_context(**fields):
    token = _log_fields.set({**(_log_fields.get() or {}), **fields})
    try:
        yield
    finally:
        _log_fields.reset(token)


SPEECH_MAX_CHARS = 1024


class BigModelError(Exception):
    """A call failed. `code` is the provider's business code (a string) when it sent one."""

    retryable = False

    def __init__(self, message, *, status=None, code=None, retry_after=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.retry_after = retry_after

    def __str__(self):
        where = " ".join(str(part) for part in (self.status, self.code) if part)
        return f"{self.message} ({where})" if where else self.message


class TransientError(BigModelError):
    """Worth retrying with backoff: rate limits, overload, server errors, network trouble."""

    retryable = True


class RateLimited(TransientError):
    pass


class ServerError(TransientError):
    pass


class ConnectionFailed(TransientError):
    """Timed out or dropped: the provider may or may not have done the work."""


class BadResponse(TransientError):
    """The provider answered 2xx with a body we cannot read."""


class PermanentError(BigModelError):
    """Trying again with the same request cannot succeed."""


class AuthenticationFailed(PermanentError):
    pass


class AccountProblem(PermanentError):
    """The account is in arrears, disabled or otherwise unusable: staff must act."""


class QuotaExhausted(PermanentError):
    pass


class InvalidRequest(PermanentError):
    pass


class ContentRejected(PermanentError):
    pass


# Business codes from the notes; anything not listed falls back on the HTTP status.
_CODE_CLASSES = [
    (range(1000, 1005), AuthenticationFailed),
    (range(1110, 1122), AccountProblem),
    ((1200, 1230, 1234), ServerError),
    (range(1210, 1216), InvalidRequest),
    (range(1220, 1223), InvalidRequest),
    ((1231, 1261), InvalidRequest),
    ((1300, 1301), ContentRejected),
    ((1302, 1303, 1305, 1312), RateLimited),
    ((1304,), QuotaExhausted),
    (range(1308, 1312), QuotaExhausted),
]


def error_class_for(status, code):
    try:
        number = int(code)
    except (TypeError, ValueError):
        number = None
    for codes, cls in _CODE_CLASSES:
        if number is not None and number in codes:
            return cls
    if status == 401:
        return AuthenticationFailed
    if status == 429:
        return RateLimited
    if status is not None and status >= 500:
        return ServerError
    return InvalidRequest


def _retry_after(response):
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def new_request_id():
    """A fresh request id for one attempt (the provider rejects reuse with 1231)."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class UploadedFile:
    id: str
    bytes: int
    filename: str
    purpose: str
    created_at: int


@dataclass(frozen=True)
class ClonedVoice:
    voice: str
    file_id: str
    request_id: str


@dataclass(frozen=True)
class Voice:
    voice: str
    voice_name: str
    voice_type: str
    download_url: str
    create_time: str


@dataclass(frozen=True)
class DeletedVoice:
    voice: str
    update_time: str


class BigModelClient:
    def __init__(self, base_url, api_key, *, connect_timeout=5.0, read_timeout=60.0, limiter=None):
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        # A context manager around every API call, e.g. a cap on calls in flight across workers.
        self.limiter = limiter or contextlib.nullcontext
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {api_key}"

    @classmethod
    def from_settings(cls, *, limiter=None):
        """A client as the settings describe it; clones.pipeline.provider_client() adds the global cap."""
        return cls(
            settings.BIGMODEL_BASE_URL,
            settings.BIGMODEL_API_KEY,
            connect_timeout=settings.BIGMODEL_CONNECT_TIMEOUT,
            read_timeout=settings.BIGMODEL_READ_TIMEOUT,
            limiter=limiter,
        )

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # -- the API ------------------------------------------------------------------------------

    def upload_file(self, fileobj, filename, purpose="voice-clone-input"):
        body = self._json(
            "POST",
            "/files",
            route="files.upload",
            files={"file": (filename, fileobj)},
            data={"purpose": purpose},
        )
        return UploadedFile(
            id=body["id"],
            bytes=body.get("bytes", 0),
            filename=body.get("filename", filename),
            purpose=body.get("purpose", purpose),
            created_at=body.get("created_at", 0),
        )

    def clone_voice(self, *, voice_name, input, file_id, model, text="", request_id=None):
        payload = {
            "model": model,
            "voice_name": voice_name,
            "input": input,
            "file_id": file_id,
            "request_id": request_id or new_request_id(),
        }
        if text:
            payload["text"] = text
        body = self._json("POST", "/voice/clone", route="voice.clone", json=payload)
        return ClonedVoice(voice=body["voice"], file_id=body["file_id"], request_id=body.get("request_id", ""))

    def file_content(self, file_id):
        return self._bytes(
            "GET",
            f"/files/{file_id}/content",
            route="files.content",
            headers={"Accept": "application/binary"},
        )

    def list_voices(self, *, voice_type=None, voice_name=None):
        params = {}
        if voice_type:
            params["voiceType"] = voice_type
        if voice_name:
            params["voiceName"] = voice_name
        body = self._json("GET", "/voice/list", route="voice.list", params=params)
        return [
            Voice(
                voice=item["voice"],
                voice_name=item.get("voice_name", ""),
                voice_type=item.get("voice_type", ""),
                download_url=item.get("download_url", ""),
                create_time=item.get("create_time", ""),
            )
            for item in body.get("voice_list") or []
        ]

    def delete_voice(self, voice, *, request_id=None):
        payload = {"voice": voice, "request_id": request_id or new_request_id()}
        body = self._json("POST", "/voice/delete", route="voice.delete", json=payload)
        return DeletedVoice(voice=body.get("voice", voice), update_time=body.get("update_time", ""))

    def speech(self, *, input, voice, model, speed=1.0, volume=1.0, response_format="wav"):
        payload = {
            "model": model,
            "input": input,
            "voice": voice,
            "speed": speed,
            "volume": volume,
            "response_format": response_format,
        }
        return self._bytes("POST", "/audio/speech", route="audio.speech", json=payload)

    def transcribe(self, fileobj, filename, *, model="glm-asr-2512"):
        body = self._json(
            "POST",
            "/audio/transcriptions",
            route="audio.transcriptions",
            files={"file": (filename, fileobj)},
            data={"model": model},
        )
        return body.get("text", "")

    def download(self, url):
        """Fetch a `download_url` from `list_voices`: a signed URL elsewhere, so no API key."""
        return self._send("GET", url, route="download", parse=_raw_bytes, auth=False)

    # -- transport ----------------------------------------------------------------------------

    def _json(self, method, path, *, route, **kwargs):
        return self._send(method, self.base_url + path, route=route, parse=_json_object, **kwargs)

    def _bytes(self, method, path, *, route, **kwargs):
        return self._send(method, self.base_url + path, route=route, parse=_raw_bytes, **kwargs)

    def _send(self, method, url, *, route, parse, auth=True, **kwargs):
        started = time.monotonic()
        status = code = None
        # The session carries the Authorization header; a foreign signed URL must not get it.
        send = self.session.request if auth else requests.request
        limiter = self.limiter if auth else contextlib.nullcontext
        try:
            with limiter():
                started = time.monotonic()  # time the call, not the wait for a slot
                response = send(method, url, timeout=self.timeout, **kwargs)
            status = response.status_code
            if status >= 400:
                error = _error_from(response)
                code = error.code
                raise error
            return parse(response)
        except requests.Timeout as exc:
            code = "timeout"
            raise ConnectionFailed(f"BigModel did not answer in time ({type(exc).__name__})") from exc
        except requests.ConnectionError as exc:
            code = "connection"
            raise ConnectionFailed("The connection to BigModel failed or was dropped") from exc
        except BadResponse:
            code = "malformed"
            raise
        finally:
            context = " ".join(f"{key}={value}" for key, value in (_log_fields.get() or {}).items())
            logger.info(
                "bigmodel route=%s status=%s code=%s ms=%d %s",
                route,
                status,
                code or "-",
                (time.monotonic() - started) * 1000,
                context,
            )


def _json_object(response):
    try:
        body = response.json()
    except ValueError as exc:
        raise BadResponse("BigModel sent a body that is not valid JSON", status=response.status_code) from exc
    if not isinstance(body, dict):
        raise BadResponse("BigModel sent JSON of an unexpected shape", status=response.status_code)
    return body


def _raw_bytes(response):
    return response.content


def _error_from(response):
    code, message = None, f"HTTP {response.status_code}"
    try:
        error = response.json().get("error") or {}
        if error.get("code") is not None:
            code = str(error["code"])
        message = error.get("message") or message
    except (ValueError, AttributeError):
        pass
    cls = error_class_for(response.status_code, code)
    return cls(message, status=response.status_code, code=code, retry_after=_retry_after(response))

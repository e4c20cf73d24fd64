"""The one module that talks to BigModel's voice API.

Nothing else in the project imports `requests` or knows a BigModel route. Every call has connect and
read timeouts, results are small typed records, and every failure is a `BigModelError` whose class
says whether trying again can help (see "Errors" in docs/provider-notes.md).
"""

import base64
import binascii
import contextlib
import contextvars
import json
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
class SpeechChunk:
    """A piece of streamed speech: 16-bit little-endian mono PCM at `sample_rate`."""

    pcm: bytes
    sample_rate: int


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

    def speech_stream(
        self, *, input, voice, model, speed=1.0, volume=1.0, encode_format="base64", watermark_enabled=None
    ):
        """Speech as it is made: a generator of `SpeechChunk`s, from server-sent events (see "Streamed
        speech" in docs/provider-notes.md).

        The call holds its limiter slot and its HTTP response for as long as the generator lives:
        closing the generator (a consumer that stops, a listener that went away) closes the connection,
        which stops the provider's call, and frees the slot. Errors before the first chunk and in the
        middle of the stream are `BigModelError`s like any other call's; a stream that ends without the
        provider's "stop" is a `ConnectionFailed`, since the audio so far is not the whole text.
        """
        payload = {
            "model": model,
            "input": input,
            "voice": voice,
            "speed": speed,
            "volume": volume,
            "response_format": "pcm",
            "stream": True,
            "encode_format": encode_format,
            "request_id": new_request_id(),
        }
        if watermark_enabled is not None:
            payload["watermark_enabled"] = watermark_enabled
        decode = _STREAM_DECODERS[encode_format]
        started = first_at = None
        status = code = None
        chunks = 0
        try:
            with self.limiter():
                started = time.monotonic()  # time the call, not the wait for a slot
                response = self.session.post(
                    self.base_url + "/audio/speech", json=payload, timeout=self.timeout, stream=True
                )
                with response:
                    status = response.status_code
                    if status >= 400:
                        error = _error_from(response)
                        code = error.code
                        raise error
                    stopped = False
                    for event in _sse_data(response):
                        chunk, finished = _speech_chunk(event, decode, status)
                        if chunk is not None:
                            if stopped:
                                raise BadResponse("BigModel sent speech after the end of its stream", status=status)
                            chunks += 1
                            first_at = first_at or time.monotonic()
                            yield chunk
                        # Read on to the stream's own end ([DONE]), so the provider sees a finished call.
                        stopped = stopped or finished
                    if not stopped:
                        raise ConnectionFailed("BigModel ended the speech stream before its end", status=status)
        except requests.Timeout as exc:
            code = "timeout"
            raise ConnectionFailed(f"BigModel did not answer in time ({type(exc).__name__})") from exc
        except requests.RequestException as exc:
            code = "connection"
            raise ConnectionFailed("The connection to BigModel failed or was dropped") from exc
        except BigModelError as exc:
            code = code or exc.code or type(exc).__name__
            raise
        except GeneratorExit:
            code = "closed"  # the consumer stopped listening; `with response` closed the connection
            raise
        finally:
            context = " ".join(f"{key}={value}" for key, value in (_log_fields.get() or {}).items())
            now = time.monotonic()
            logger.info(
                "bigmodel route=audio.speech.stream status=%s code=%s ms=%d first_ms=%s chunks=%d request_id=%s %s",
                status,
                code or "-",
                (now - started) * 1000 if started else 0,
                int((first_at - started) * 1000) if first_at else "-",
                chunks,
                payload["request_id"],
                context,
            )

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


def _strict_hex(text):
    return binascii.unhexlify(text)


_STREAM_DECODERS = {"base64": lambda text: base64.b64decode(text, validate=True), "hex": _strict_hex}


def _sse_data(response):
    """The `data:` payloads of a server-sent event stream, one per event, until `[DONE]`."""
    lines = []
    for raw in response.iter_lines(chunk_size=None):
        line = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        if line.startswith("data:"):
            lines.append(line[5:].removeprefix(" "))
        elif not line and lines:
            data = "\n".join(lines)
            lines = []
            if data.strip() == "[DONE]":
                return
            yield data
        # Comments (":") and the other fields (event, id, retry) carry nothing we use.
    if lines and "\n".join(lines).strip() != "[DONE]":
        yield "\n".join(lines)


def _speech_chunk(data, decode, status):
    """One event of streamed speech: (a SpeechChunk or None for an empty one, whether it is the last)."""
    try:
        event = json.loads(data)
    except ValueError as exc:
        raise BadResponse("BigModel sent a stream event that is not valid JSON", status=status) from exc
    if not isinstance(event, dict):
        raise BadResponse("BigModel sent a stream event of an unexpected shape", status=status)
    if "error" in event:
        # An error in the middle of a stream comes as an event of its own, shaped as a reply's error.
        error = event.get("error") or {}
        code = str(error["code"]) if isinstance(error, dict) and error.get("code") is not None else None
        message = (error.get("message") if isinstance(error, dict) else None) or "BigModel stopped the stream"
        raise error_class_for(None, code)(message, status=status, code=code)
    try:
        (choice,) = event["choices"]
        delta = choice["delta"]
        content = delta.get("content") or ""
        finish_reason = choice.get("finish_reason")
        sample_rate = int(delta.get("return_sample_rate") or 0)
        if not isinstance(content, str) or finish_reason not in (None, "stop"):
            raise TypeError
        pcm = decode(content)
    except (KeyError, TypeError, ValueError, AttributeError, binascii.Error) as exc:
        raise BadResponse("BigModel sent a stream event of an unexpected shape", status=status) from exc
    if pcm and (sample_rate <= 0 or len(pcm) % 2):
        raise BadResponse("BigModel sent stream audio without its rate or cut mid-sample", status=status)
    return (SpeechChunk(pcm, sample_rate) if pcm else None), finish_reason == "stop"


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

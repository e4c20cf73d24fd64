"""The one module that talks to BigModel's voice API.

Nothing else in the project imports `requests` or knows a BigModel route. Every call has connect and
read timeouts, results are small typed records, and every failure is a `BigModelError` whose class
says whether trying again can help (the table `ERROR_CODES` below; "Errors" in docs/provider-notes.md).
"""

import base64
import binascii
import contextlib
import contextvars
import dataclasses
import functools
import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext, gettext_noop

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


# The calls that cost money: uploading a sample, cloning, fetching a preview (either way), speaking,
# recognizing speech. Listing and deleting voices are free.
PAID_ROUTES = frozenset(
    {"files.upload", "voice.clone", "files.content", "download", "audio.speech", "audio.transcriptions"}
)

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


class PreviewUnavailable(BigModelError):
    """No route gave us a preview (see `BigModelClient.fetch_preview`). Retryable when at least one route
    failed for a reason that may pass; the voice itself is fine either way."""

    def __init__(self, errors):
        self.errors = errors
        self.retryable = any(error.retryable for error in errors.values())
        summary = "; ".join(f"{route}: {error}" for route, error in errors.items())
        super().__init__(f"No preview from any route ({summary or 'none applies'})", code="preview")


class AuthenticationFailed(PermanentError):
    pass


class AccountProblem(PermanentError):
    """The account is in arrears, disabled or otherwise unusable: staff must act."""


class NoApiAccess(AccountProblem):
    """The key is valid but the account may not use this API (1220, HTTP 434): staff must have it enabled."""


class QuotaExhausted(PermanentError):
    pass


class PlanLimitReached(QuotaExhausted):
    """A usage cap, an expired plan or the fair-use policy (1308-1311, 1313-1321). Unlike 1302/1303 these
    do not lift in seconds, so retrying only burns attempts: the work stops and staff are told."""


class InvalidRequest(PermanentError):
    pass


class ContentRejected(PermanentError):
    pass


# What the people involved are told, one sentence per meaning; each code below points at one of them.
# Kept as source text (a clone stores the sentence it failed with) and translated when shown.
_AUTH = gettext_noop(
    "The voice service refused the site's API key. The site's staff must check BIGMODEL_API_KEY; nothing is "
    "wrong with your request."
)
_ACCOUNT = gettext_noop(
    "The site's voice service account cannot be used right now (inactive, locked or in arrears). The site's "
    "staff must settle it in the BigModel console; please try again once they have."
)
_NO_ACCESS = gettext_noop(
    "The site's voice service account has no access to this function of the service. The site's staff must "
    "have it enabled for the account (BigModel console or support); nothing is wrong with your sample."
)
_UNSUPPORTED = gettext_noop(
    "The voice service no longer offers the function or model this site uses. The site's staff must update "
    "the configured model or the application."
)
_INVALID = gettext_noop("The voice service rejected this sample or text.")
_DUPLICATE = gettext_noop("The voice service had already received this request. Please try again.")
_TOO_LONG = gettext_noop("The text is too long for the voice service.")
_CONTENT = gettext_noop("The voice service refused this content under its content policy.")
_BUSY = gettext_noop("The voice service is busy or unavailable right now. Please try again later.")
_DAILY = gettext_noop(
    "The site's daily allowance at the voice service is used up. Please try again tomorrow; the site's staff "
    "can raise the allowance with BigModel."
)
_PLAN = gettext_noop(
    "The site's voice service plan has reached a usage or fair-use limit, so the work was stopped rather than "
    "retried. Please try again later; the site's staff must check the plan's limits in the BigModel console "
    "(the error code tells them which limit)."
)


@dataclass(frozen=True)
class ErrorCode:
    """One row of the provider's error-code page: the HTTP status it is listed under, what it means for us
    (the class says whether retrying can help) and what the people involved are told."""

    status: int
    error_class: type
    message: str


# Reference: https://docs.bigmodel.cn/cn/faq/api-code (HTTP statuses from the same page's first table and
# from the 2026-11-30 reading: 1220 under 403, 1222 under 400, 1313-1321 under 429). Every documented
# business code has its row; a code that is not here falls back on the HTTP status (`error_class_for`).
ERROR_CODES = {
    "500": ErrorCode(500, ServerError, _BUSY),
    # HTTP statuses of the file API that the page lists without a business code of their own.
    "434": ErrorCode(434, NoApiAccess, _NO_ACCESS),
    "435": ErrorCode(435, InvalidRequest, _INVALID),
    **{str(n): ErrorCode(401, AuthenticationFailed, _AUTH) for n in range(1000, 1005)},
    "1100": ErrorCode(429, AccountProblem, _ACCOUNT),
    **{str(n): ErrorCode(429, AccountProblem, _ACCOUNT) for n in (1110, 1111, 1112, 1113, 1120, 1121)},
    "1200": ErrorCode(500, ServerError, _BUSY),
    "1210": ErrorCode(400, InvalidRequest, _INVALID),
    "1211": ErrorCode(400, InvalidRequest, _UNSUPPORTED),
    "1212": ErrorCode(400, InvalidRequest, _UNSUPPORTED),
    **{str(n): ErrorCode(400, InvalidRequest, _INVALID) for n in (1213, 1214, 1215)},
    "1220": ErrorCode(403, NoApiAccess, _NO_ACCESS),
    "1221": ErrorCode(400, InvalidRequest, _UNSUPPORTED),
    "1222": ErrorCode(400, InvalidRequest, _UNSUPPORTED),
    "1230": ErrorCode(500, ServerError, _BUSY),
    "1231": ErrorCode(400, InvalidRequest, _DUPLICATE),
    "1234": ErrorCode(500, ServerError, _BUSY),
    "1261": ErrorCode(400, InvalidRequest, _TOO_LONG),
    "1300": ErrorCode(400, ContentRejected, _CONTENT),
    "1301": ErrorCode(400, ContentRejected, _CONTENT),
    **{str(n): ErrorCode(429, RateLimited, _BUSY) for n in (1302, 1303, 1305, 1312)},
    "1304": ErrorCode(429, QuotaExhausted, _DAILY),
    **{str(n): ErrorCode(429, PlanLimitReached, _PLAN) for n in (1308, 1309, 1310, 1311, *range(1313, 1322))},
}

# The HTTP statuses the same page documents, for errors that come without a business code.
_STATUS_CLASSES = {401: AuthenticationFailed, 403: NoApiAccess, 429: RateLimited, 434: NoApiAccess}


def error_class_for(status, code):
    known = ERROR_CODES.get(str(code)) if code is not None else None
    if known is not None:
        return known.error_class
    if status in _STATUS_CLASSES:
        return _STATUS_CLASSES[status]
    if status is not None and status >= 500:
        return ServerError
    return InvalidRequest


def user_message(code):
    """The translated sentence for a provider error code, or "" for a code the table does not know."""
    known = ERROR_CODES.get(str(code)) if code else None
    return gettext(known.message) if known else ""


def _retry_after(response):
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def new_request_id():
    """A fresh request id for one attempt (the provider rejects reuse with 1231)."""
    return uuid.uuid4().hex


# Replies are read into these records by `_read`: a field without a default must be there with its type
# (an id also non-empty), a field with a default may be absent or null but not of another type. Anything
# else is a BadResponse (retryable), never a KeyError deep in the pipeline.


def _id():
    return field(metadata={"nonempty": True})


@dataclass(frozen=True)
class UploadedFile:
    id: str = _id()
    bytes: int = 0
    filename: str = ""
    purpose: str = ""
    created_at: int = 0


@dataclass(frozen=True)
class ClonedVoice:
    voice: str = _id()
    # The clone page lists the preview as optional ("试听音频（可选）"), so its file id may be missing.
    file_id: str = ""
    file_purpose: str = ""
    request_id: str = ""


@dataclass(frozen=True)
class Voice:
    voice: str = _id()
    voice_name: str = ""
    voice_type: str = ""
    download_url: str = ""
    create_time: str = ""


@dataclass(frozen=True)
class VoiceList:
    voice_list: list


@dataclass(frozen=True)
class SpeechChunk:
    """A piece of streamed speech: 16-bit little-endian mono PCM at `sample_rate`."""

    pcm: bytes
    sample_rate: int


@dataclass(frozen=True)
class DeletedVoice:
    voice: str = _id()
    # The notes saw `update_time`; the official SDK's VoiceDeleteResult names it `delete_time`.
    update_time: str = ""
    delete_time: str = ""


@dataclass(frozen=True)
class Transcription:
    text: str


def _read(record, body, what):
    """Return `body` (a dict) as `record`, or raise BadResponse naming the field that is missing or wrong."""
    if not isinstance(body, dict):
        raise BadResponse(f"BigModel's {what} reply is not a JSON object")
    values = {}
    for spec in dataclasses.fields(record):
        value = body.get(spec.name)
        required = spec.default is dataclasses.MISSING or spec.metadata.get("nonempty")
        if value is None or (value == "" and spec.metadata.get("nonempty")):
            if required:
                raise BadResponse(f"BigModel's {what} reply lacks the field {spec.name!r}")
            continue
        if not isinstance(value, spec.type) or (spec.type is int and isinstance(value, bool)):
            raise BadResponse(
                f"BigModel's {what} reply has {spec.name!r} as {type(value).__name__}, not {spec.type.__name__}"
            )
        values[spec.name] = value
    return record(**values)


class _SharedConnections(requests.adapters.HTTPAdapter):
    """Connections to the API kept open from one client to the next, within a process.

    A client lives for one task or one streamed part, and its own pool would open a connection (on the
    real service a TLS handshake: round trips to the provider's host) before every stream's first
    audio. urllib3's pool is safe to share between threads, and it drops a connection the server has
    closed before reusing it. Closing a client must not close the connections the others use.
    """

    def close(self):
        pass


_shared = {}
_shared_lock = threading.Lock()


def _shared_connections():
    # One per process: a forked child (a worker process) must never write to its parent's sockets.
    with _shared_lock:
        adapter = _shared.get(os.getpid())
        if adapter is None:
            _shared.clear()
            # Enough for every stream part a web process runs at once, and every task thread of a worker.
            adapter = _shared[os.getpid()] = _SharedConnections(pool_maxsize=64)
        return adapter


class BigModelClient:
    def __init__(
        self,
        base_url,
        api_key,
        *,
        connect_timeout=5.0,
        read_timeout=60.0,
        limiter=None,
        watermark=True,
        before_paid_call=None,
        on_call=None,
    ):
        self.base_url = base_url.rstrip("/")
        # Called after every call as on_call(route, status, code, seconds), e.g. to count it in metrics.
        self.on_call = on_call
        self.timeout = (connect_timeout, read_timeout)
        # A context manager around every API call, e.g. a cap on calls in flight across workers.
        self.limiter = limiter or contextlib.nullcontext
        # Sent as `watermark_enabled` with every speech request (BIGMODEL_WATERMARK); see the README.
        self.watermark = watermark
        # Called with (route, units) just before each paid call goes out, e.g. to write it in a ledger.
        # If it raises, the call is not made.
        self.before_paid_call = before_paid_call
        self.session = requests.Session()
        self.session.mount(self.base_url + "/", _shared_connections())
        self.session.headers["Authorization"] = f"Bearer {api_key}"
        self.calls = 0  # requests sent, for check_provider's report

    @classmethod
    def from_settings(cls, *, limiter=None, before_paid_call=None, on_call=None):
        """A client as the settings describe it; clones.pipeline.provider_client() adds the global cap,
        metering and the metrics hook."""
        return cls(
            settings.BIGMODEL_BASE_URL,
            settings.BIGMODEL_API_KEY,
            connect_timeout=settings.BIGMODEL_CONNECT_TIMEOUT,
            read_timeout=settings.BIGMODEL_READ_TIMEOUT,
            limiter=limiter,
            watermark=settings.BIGMODEL_WATERMARK,
            before_paid_call=before_paid_call,
            on_call=on_call,
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
        return _read(UploadedFile, body, "file upload")

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
        return _read(ClonedVoice, body, "voice clone")

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
        return [_read(Voice, item, "voice list") for item in _read(VoiceList, body, "voice list").voice_list]

    def delete_voice(self, voice, *, request_id=None):
        payload = {"voice": voice, "request_id": request_id or new_request_id()}
        body = self._json("POST", "/voice/delete", route="voice.delete", json=payload)
        return _read(DeletedVoice, body, "voice delete")

    def speech(self, *, input, voice, model, speed=1.0, volume=1.0, response_format="wav", watermark=None, into=None):
        """The audio of `input`: returned as bytes, or streamed into the binary file `into` (then None),
        so that a long part never sits in memory whole. A reply that is not WAV when WAV was asked for
        is a BadResponse, whichever way it is read."""
        payload = {
            "model": model,
            "input": input,
            "voice": voice,
            "speed": speed,
            "volume": volume,
            "response_format": response_format,
            "watermark_enabled": self.watermark if watermark is None else watermark,
        }
        if into is not None:
            url = self.base_url + "/audio/speech"
            parse = functools.partial(_stream_into, into, response_format)
            return self._send(
                "POST", url, route="audio.speech", parse=parse, json=payload, units=len(input), stream=True
            )
        data = self._bytes("POST", "/audio/speech", route="audio.speech", json=payload, units=len(input))
        _check_speech_format(data, response_format)
        return data

    def speech_stream(self, *, input, voice, model, speed=1.0, volume=1.0, encode_format="base64", watermark=None):
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
            "watermark_enabled": self.watermark if watermark is None else watermark,
        }
        decode = _STREAM_DECODERS[encode_format]
        started = first_at = None
        status = code = None
        chunks = 0
        try:
            with self.limiter():
                # Paid like the whole reply is, by the characters sent; metered before it goes out.
                if self.before_paid_call is not None:
                    self.before_paid_call("audio.speech", len(input))
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
            if self.on_call is not None:
                self.on_call("audio.speech.stream", status, code, now - started if started else 0.0)

    def transcribe(self, fileobj, filename, *, model="glm-asr-2512"):
        body = self._json(
            "POST",
            "/audio/transcriptions",
            route="audio.transcriptions",
            files={"file": (filename, fileobj)},
            data={"model": model},
        )
        return _read(Transcription, body, "transcription").text

    def download(self, url, *, with_key=False):
        """Fetch a `download_url` from `list_voices`. Whether it needs the key is not documented (check_provider
        finds out); by default it goes without, since a signed URL elsewhere must not receive the key."""
        if with_key and not self.on_api_host(url):
            raise InvalidRequest("The key is only ever sent to the API's own host")
        return self._send("GET", url, route="download", parse=_audio_bytes, auth=with_key)

    def on_api_host(self, url):
        return urlsplit(url).netloc == urlsplit(self.base_url).netloc

    def find_voice(self, voice_name):
        """Our voice by its exact name (the provider's name filter is fuzzy), or None."""
        for voice in self.list_voices(voice_type="PRIVATE", voice_name=voice_name):
            if voice.voice_name == voice_name:
                return voice
        return None

    # -- the preview: three routes, in the order that works on the real service ------------------

    def fetch_preview(self, *, voice, voice_name, file_id="", text="", speech_model=""):
        """Return (audio bytes, route) for a new voice's preview, trying in turn:

        1. "download_url": `/voice/list`'s `download_url`, which third-party integrations use; fetched
           without the key, and again with it only if refused and the URL is on the API's own host.
        2. "file_content": `GET /files/{file_id}/content`. The docs say it serves batch files only
           ("只支持 batch 文件类型", docs.bigmodel.cn, 文件内容), so it is a fallback.
        3. "speech": the preview text spoken by `/audio/speech` in the new voice (the clone page lists
           the preview as optional, "试听音频（可选）"), so a paid-for voice is never left without one.

        A route that fails for any reason hands over to the next, except an account-side error, which
        the next would only repeat. Raises PreviewUnavailable when none gives audio.
        """
        errors = {}
        routes = [("download_url", lambda: self._download_preview(voice_name))]
        if file_id:
            routes.append(("file_content", lambda: _audio_or_bad(self.file_content(file_id), "file content")))
        if text and speech_model:
            text = text[:SPEECH_MAX_CHARS]
            routes.append(("speech", lambda: self.speech(input=text, voice=voice, model=speech_model)))
        for route, fetch in routes:
            try:
                return fetch(), route
            except BigModelError as exc:
                # The account itself refused (bad key, arrears, plan limit): every other route would too.
                # No access to one API (434 on the file API, in closed beta) is only this route's failure.
                if isinstance(exc, AuthenticationFailed | QuotaExhausted) or (
                    isinstance(exc, AccountProblem) and not isinstance(exc, NoApiAccess)
                ):
                    raise
                errors[route] = exc
        raise PreviewUnavailable(errors)

    def _download_preview(self, voice_name):
        listed = self.find_voice(voice_name)
        if listed is None:  # a list that lags behind a clone just made: worth another look later
            raise BadResponse("The voice list does not show this voice yet")
        if not listed.download_url:
            raise InvalidRequest("The voice list gives no download_url for this voice")
        url = listed.download_url
        # A refused download says nothing about the account (the URL may be signed, expired or need the
        # key): it is reported as this route's failure, never as an account problem that stops the work.
        try:
            try:
                return _audio_or_bad(self.download(url), "download_url")
            except (AuthenticationFailed, NoApiAccess):
                if not self.on_api_host(url):
                    raise  # never send the key to another host
                return _audio_or_bad(self.download(url, with_key=True), "download_url")
        except (AuthenticationFailed, AccountProblem, QuotaExhausted) as exc:
            if exc.status is None or not 400 <= exc.status < 500 or exc.code:
                raise
            raise InvalidRequest(f"download_url refused: {exc}", status=exc.status) from exc

    # -- transport ----------------------------------------------------------------------------

    def _json(self, method, path, *, route, **kwargs):
        return self._send(method, self.base_url + path, route=route, parse=_json_object, **kwargs)

    def _bytes(self, method, path, *, route, **kwargs):
        return self._send(method, self.base_url + path, route=route, parse=_audio_bytes, **kwargs)

    def _send(self, method, url, *, route, parse, auth=True, units=1, **kwargs):
        started = time.monotonic()
        status = code = None
        # The session carries the Authorization header; a foreign signed URL must not get it.
        send = self.session.request if auth else requests.request
        limiter = self.limiter if auth else contextlib.nullcontext
        self.calls += 1
        try:
            with limiter():
                if route in PAID_ROUTES and self.before_paid_call is not None:
                    self.before_paid_call(route, units)
                started = time.monotonic()  # time the call, not the wait for a slot
                response = send(method, url, timeout=self.timeout, **kwargs)
            status = response.status_code
            if status >= 400:
                raise _error_from(response)
            return parse(response)
        except requests.Timeout as exc:
            code = "timeout"
            raise ConnectionFailed(f"BigModel did not answer in time ({type(exc).__name__})") from exc
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            code = "connection"
            raise ConnectionFailed("The connection to BigModel failed or was dropped") from exc
        except BigModelError as exc:
            code = exc.code or ("malformed" if isinstance(exc, BadResponse) else None)
            if auth and isinstance(exc, AuthenticationFailed | AccountProblem | QuotaExhausted):
                # Nothing a user can do about these: the error log is where staff learn they must act.
                logger.error("bigmodel route=%s refused the account: %s", route, exc)
            raise
        finally:
            seconds = time.monotonic() - started
            context = " ".join(f"{key}={value}" for key, value in (_log_fields.get() or {}).items())
            logger.info(
                "bigmodel route=%s status=%s code=%s ms=%d %s", route, status, code or "-", seconds * 1000, context
            )
            if self.on_call is not None:
                self.on_call(route, status, code, seconds)


def _json_object(response):
    try:
        body = response.json()
    except ValueError as exc:
        raise BadResponse("BigModel sent a body that is not valid JSON", status=response.status_code) from exc
    if not isinstance(body, dict):
        raise BadResponse("BigModel sent JSON of an unexpected shape", status=response.status_code)
    _raise_carried_error(body, response.status_code)
    return body


def _strict_hex(text):
    return binascii.unhexlify(text)


_STREAM_DECODERS = {"base64": lambda text: base64.b64decode(text, validate=True), "hex": _strict_hex}


# A finished stream's body ends (its last, empty chunk) just after [DONE]: how long to wait for that,
# and how much more to read, before giving up on keeping its connection.
_ENDING_SECONDS = 0.5
_ENDING_BYTES = 64 * 1024


def _sse_data(response):
    """The `data:` payloads of a server-sent event stream, one per event, until `[DONE]`."""
    lines = []
    received = response.iter_lines(chunk_size=None)
    for raw in received:
        line = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        if line.startswith("data:"):
            lines.append(line[5:].removeprefix(" "))
        elif not line and lines:
            data = "\n".join(lines)
            lines = []
            if data.strip() == "[DONE]":
                _read_to_the_end(response, received)
                return
            yield data
        # Comments (":") and the other fields (event, id, retry) carry nothing we use.
    if lines and "\n".join(lines).strip() != "[DONE]":
        yield "\n".join(lines)


def _read_to_the_end(response, received):
    """Read what is left after [DONE] so that the connection goes back to the shared pool for the next
    call: a response left unread (even by one empty chunk) has its connection closed instead."""
    sock = getattr(getattr(response.raw, "connection", None), "sock", None)  # None: all read already
    timeout = sock.gettimeout() if sock else None
    left = _ENDING_BYTES
    try:
        if sock:
            sock.settimeout(_ENDING_SECONDS)
        for line in received:
            left -= len(line) + 1
            if left < 0:
                return
        if sock:
            sock.settimeout(timeout)
    except (requests.RequestException, OSError):
        return  # the connection is closed, as it was before; the call itself is complete


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


def _raise_carried_error(body, status):
    """A 2xx whose JSON is an error body ({"error": {"code", "message"}}) is that error, not a reply."""
    error = body.get("error")
    if isinstance(error, dict) and error.get("code") is not None:
        code = str(error["code"])
        cls = ERROR_CODES[code].error_class if code in ERROR_CODES else BadResponse
        raise cls(error.get("message") or "an error in a 2xx reply", status=status, code=code)


def _audio_bytes(response, data=None):
    """Return the audio bytes of a 2xx reply. A JSON body where audio was expected is the provider's error
    in a 2xx envelope: raise it as what it carries (a body without an error is unreadable: BadResponse)."""
    data = response.content if data is None else data
    content_type = response.headers.get("Content-Type", "")
    if "json" not in content_type and data[:1] != b"{":
        return data
    try:
        body = json.loads(data)
    except ValueError:
        return data  # audio that happens to start with "{" is still audio; the caller sniffs it
    if isinstance(body, dict):
        _raise_carried_error(body, response.status_code)
    raise BadResponse("BigModel sent JSON where audio was expected", status=response.status_code)


def looks_like_audio(data):
    """WAV (RIFF/WAVE) or MP3 (an ID3 tag or a frame sync), the formats the provider sends."""
    return (
        (data[:4] == b"RIFF" and data[8:12] == b"WAVE")
        or data[:3] == b"ID3"
        or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)
    )


def _audio_or_bad(data, what):
    if not looks_like_audio(data):
        raise BadResponse(f"BigModel's {what} is not WAV or MP3 audio")
    return data


STREAM_CHUNK = 64 * 1024


def _check_speech_format(head, response_format):
    if response_format == "wav" and not (head[:4] == b"RIFF" and head[8:12] == b"WAVE"):
        raise BadResponse("BigModel's speech reply is not WAV audio")


def _stream_into(fileobj, response_format, response):
    """Write a speech reply into `fileobj` as it arrives; an error carried in a 2xx JSON body is raised
    as that error before anything is written."""
    with response:
        if "json" in response.headers.get("Content-Type", ""):
            _audio_bytes(response)  # reads the (small) body whole and raises what it carries
        chunks = response.iter_content(STREAM_CHUNK)
        first = next(chunks, b"")
        if first[:1] == b"{":  # JSON without its content type: small as well (audio starting so is kept)
            first = _audio_bytes(response, first + b"".join(chunks))
        _check_speech_format(first, response_format)
        fileobj.write(first)
        for chunk in chunks:
            fileobj.write(chunk)


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

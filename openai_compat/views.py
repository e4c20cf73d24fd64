"""`POST /v1/audio/speech` as OpenAI's API has it, so that OpenAI's clients (the `openai` package, Open
WebUI, SillyTavern, ...) speak with our voices: our API tokens as Bearer keys, our clones and system
voices as `voice`, the audio streamed as it is made (clones.streaming), errors in OpenAI's shape.

Validation is the web form's (SpeechForm), quotas and storage are those of every stream: each call is
an utterance in the caller's history, charged before the provider is called.
"""

import json
import logging
import uuid

from django.db.models import Q
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from accounts.models import ApiToken, Preferences, QuotaExceeded
from clones import streaming, system_voices
from clones.forms import SpeechForm
from clones.models import Clone

logger = logging.getLogger(__name__)

# OpenAI's model names all mean our one speech model, so clients configured for OpenAI work unchanged.
MODELS = {"glm-tts", "tts-1", "tts-1-hd", "gpt-4o-mini-tts"}
FORMATS = {"wav", "pcm", "mp3"}


class OpenAIError(Exception):
    def __init__(self, status, message, *, type="invalid_request_error", param=None, code=None, headers=None):
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, str(message), type, param, code
        self.headers = headers or {}

    def response(self):
        error = {"message": self.message, "type": self.type, "param": self.param, "code": self.code}
        return JsonResponse({"error": error}, status=self.status, headers={"Cache-Control": "no-store", **self.headers})


def _user(request):
    scheme, _space, secret = request.headers.get("Authorization", "").partition(" ")
    user = ApiToken.user_for(secret.strip()) if scheme.lower() == "bearer" and secret.strip() else None
    if user is None:
        raise OpenAIError(
            401,
            _("Send one of your Voiceclone API tokens as the API key (Authorization: Bearer <token>)."),
            code="invalid_api_key",
            headers={"WWW-Authenticate": 'Bearer realm="v1"'},
        )
    return user


def _body(request):
    try:
        body = json.loads(request.body)
    except ValueError:
        raise OpenAIError(400, _("The request body is not valid JSON.")) from None
    if not isinstance(body, dict):
        raise OpenAIError(400, _("The request body must be a JSON object."))
    for name in ("model", "input", "voice"):
        if not isinstance(body.get(name), str) or not body[name].strip():
            raise OpenAIError(400, _("“%(name)s” is required and must be a string.") % {"name": name}, param=name)
    return body


def _voice(user, name):
    """A system voice (the account's list, as the speak form offers it), or a clone the caller may speak
    with, by its id (UUID) or its name; their own clone wins over someone else's public clone of that name."""
    system = dict(system_voices.choices())
    if name in system:
        return None
    try:
        matches = Q(uuid=uuid.UUID(name.strip()))
    except ValueError:
        matches = Q(name=name)
    candidates = Clone.objects.visible_to(user).filter(matches).select_related("owner").order_by("-pk")
    found = sorted((clone for clone in candidates if clone.can_speak(user)), key=lambda c: c.owner_id != user.pk)
    if not found:
        message = _(
            "There is no voice “%(voice)s” you may use: give a system voice (%(system)s), or the id or name "
            "of a ready clone of yours or of a public clone that allows speech."
        ) % {"voice": name, "system": ", ".join(system)}
        raise OpenAIError(400, message, param="voice", code="voice_not_found")
    return found[0]


def _form(user, body):
    if body["model"] not in MODELS:
        message = _("The model “%(model)s” does not exist here; use one of %(models)s.")
        raise OpenAIError(
            400,
            message % {"model": body["model"], "models": ", ".join(sorted(MODELS))},
            param="model",
            code="model_not_found",
        )
    audio_format = body.get("response_format") or "mp3"
    if audio_format not in FORMATS:
        message = _("The response format “%(format)s” is not offered; use wav, pcm or mp3.")
        raise OpenAIError(400, message % {"format": audio_format}, param="response_format")
    if (body.get("stream_format") or "audio") != "audio":
        raise OpenAIError(400, _("Only the stream format “audio” is offered."), param="stream_format")
    speed = body.get("speed", 1.0)
    if isinstance(speed, bool) or not isinstance(speed, int | float):
        raise OpenAIError(400, _("“speed” must be a number."), param="speed")
    clone = _voice(user, body["voice"])
    # OpenAI's request has no say in checks: speech is heard back as the account's setting says.
    data = {"text": body["input"], "speed": speed, "volume": 1.0, "voice": body["voice"],
            "check_requested": Preferences.of(user).check_speech}  # fmt: skip
    form = SpeechForm(data, owner=user, clone=clone)
    if not form.is_valid():
        name, messages = next(iter(form.errors.items()))
        raise OpenAIError(400, " ".join(messages), param={"text": "input"}.get(name, name))
    return form, audio_format


@csrf_exempt  # authenticated by the Bearer token, never by a cookie
def speech(request):
    try:
        if request.method != "POST":
            raise OpenAIError(405, _("This endpoint only takes POST requests."), headers={"Allow": "POST"})
        user = _user(request)
        form, audio_format = _form(user, _body(request))
        try:
            stream = streaming.open_stream(form)
        except streaming.StreamsBusy:
            message = _("Too many streams are playing right now. Try again in a moment.")
            raise OpenAIError(
                503, message, type="server_error", code="streams_busy", headers={"Retry-After": "5"}
            ) from None
        except QuotaExceeded as exc:
            kind = "requests" if exc.code == "rate_limited" else "insufficient_quota"
            headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
            raise OpenAIError(429, str(exc), type=kind, code=exc.code, headers=headers) from None
        except streaming.StreamFailed as exc:
            if exc.queued:
                message = _("The voice service could not stream just now: your speech was queued instead.")
                raise OpenAIError(503, message, type="server_error", code="stream_unavailable") from None
            message = _("The voice service refused this speech: %(reason)s") % {"reason": exc.error.message}
            raise OpenAIError(400, message, param="input", code="provider_refused") from None
    except OpenAIError as exc:
        return exc.response()
    return streaming.streaming_response(stream, audio_format)


def not_found(request):
    return OpenAIError(404, _("Only /v1/audio/speech is offered here."), code="unknown_url").response()

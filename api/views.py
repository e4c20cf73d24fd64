"""The JSON API, version 1: clones and utterances of the token's owner.

Validation is the web forms' (CloneForm, SpeechForm); quotas and queuing are clones.submissions,
the same code the web pages use. Views here only translate between HTTP+JSON and those.
"""

import math
from uuid import UUID

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Query, Status, Swagger

from accounts.models import Preferences
from api import schemas
from api.auth import TokenAuth
from api.dictionary import router as dictionary_router
from api.errors import ApiError, form_invalid, install_handlers, not_found
from api.parser import StrictJSONParser
from api.schemas import AUDIO_RESPONSES, CLONE_FORM_BODY, STREAMED_SPEECH_RESPONSE
from api.studio import router as studio_router
from clones import streaming, tasks
from clones.audio_responses import audio_response
from clones.forms import CloneForm, SpeechForm
from clones.intake import advice_messages
from clones.models import Clone, Utterance
from clones.submissions import submit_clone, submit_speech

PAGE_SIZE = 20
MAX_PAGE = 100_000


class VoicecloneAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation):
        return operation.view_func.__name__  # "create_clone", not "api_views_create_clone"


api = VoicecloneAPI(
    title="Voiceclone API",
    version="1",
    description="Clone voices and make them speak from your own programs. Create a token on your account page "
    "(*API tokens*) and send it as `Authorization: Bearer <token>`. Errors are JSON with a stable `code`; "
    "their `message` follows Accept-Language.",
    urls_namespace="api-1",
    auth=TokenAuth(),
    parser=StrictJSONParser(),
    # The bundled Swagger UI (no CDN); its init script is a static file, so our strict CSP holds.
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": True}),
)
install_handlers(api)
# The studio's endpoints (projects, lines, takes, exports) live beside its pages' helpers.
api.add_router("", studio_router)
# Webhook endpoints live in their own app; their routes join this API under /api/v1/webhooks.
api.add_router("/webhooks", "webhooks.api.router")
api.add_router("", dictionary_router)


def _errors(*statuses):
    return dict.fromkeys(statuses, schemas.Error)


def _absolute(request, name, *args):
    return request.build_absolute_uri(reverse(f"api-1:{name}", args=args))


def _created(request, response, created, name, serialize):
    """201 with the new object and its Location."""
    response["Location"] = _absolute(request, name, created.uuid)
    return Status(201, serialize(request, created))


def _page(request, queryset, page, serialize, name):
    count, start, url = queryset.count(), (page - 1) * PAGE_SIZE, _absolute(request, name)
    return {
        "count": count,
        "page": page,
        "pages": math.ceil(count / PAGE_SIZE),
        "next": f"{url}?page={page + 1}" if start + PAGE_SIZE < count else None,
        "previous": f"{url}?page={page - 1}" if page > 1 else None,
        "results": [serialize(request, item) for item in queryset[start : start + PAGE_SIZE]],
    }


# -- clones ------------------------------------------------------------------------------


def _clone_out(request, clone):
    state = clone.status_data()
    return {
        "uuid": clone.uuid,
        "name": clone.name,
        "status": state["status"],
        "status_label": state["label"],
        "finished": state["finished"],
        "failure_reason": state["failure_reason"] or None,
        "visibility": clone.visibility,
        "language": clone.language,
        "tags": [tag.name for tag in clone.tags.all()],
        "transcript": clone.transcript,
        "preview_text": clone.preview_text,
        "sample_duration": clone.sample_duration,
        "quality": {**clone.quality, "advice": advice_messages(clone.quality)} if clone.quality else None,
        "voice_name": clone.voice_name,
        "voice_id": clone.voice_id or None,
        "preview_file_id": clone.preview_file_id or None,
        "preview_route": clone.preview_route or None,
        "created_at": clone.created_at,
        "finished_at": clone.finished_at,
        "links": {
            "url": _absolute(request, "get_clone", clone.uuid),
            "preview": _absolute(request, "clone_preview", clone.uuid) if clone.preview_audio else None,
            "speak": _absolute(request, "speak", clone.uuid),
            "refetch_preview": _absolute(request, "refetch_clone_preview", clone.uuid),
            "page": request.build_absolute_uri(clone.get_absolute_url()),
            "share": None
            if clone.visibility == Clone.Visibility.PRIVATE
            else request.build_absolute_uri(clone.get_share_url()),
        },
    }


def _own_clone(request, uuid):
    """A clone the token's user manages; anything else is the JSON 404 (Http404, see api.errors)."""
    return get_object_or_404(Clone.objects.manageable_by(request.auth).prefetch_related("tags"), uuid=uuid)


def _audio_route(path, summary, tag):
    """A GET route answering with audio (Range requests, no JSON body), as the OpenAPI document says."""
    return api.get(path, response=_errors(401, 404), openapi_extra=AUDIO_RESPONSES, summary=summary, tags=[tag])


def _stored_audio(request, fieldfile, content_type, missing, *, changeable=False):
    """A clone's or an utterance's audio for the token's user; `missing` says why there is none yet."""
    if not fieldfile:
        raise not_found(missing)
    return audio_response(request, fieldfile, content_type, public=False, changeable=changeable)


@api.post(
    "/clones",
    response={201: schemas.CloneOut, **_errors(400, 401, 413, 429)},
    openapi_extra=CLONE_FORM_BODY,
    summary="Create a clone",
    tags=["clones"],
)
def create_clone(request, response: HttpResponse):
    """Upload a sample (multipart) and start cloning. Poll the clone until `finished`."""
    data = request.POST.copy()
    # What a browser sends for the form's preselected choices, so API clients may leave them out.
    data.setdefault("language", Clone.Language.ENGLISH)
    data.setdefault("visibility", Clone.Visibility.PRIVATE)
    too_large = getattr(request, "upload_too_large", False)
    form = CloneForm(data, request.FILES, owner=request.auth, upload_too_large=too_large)
    if not form.is_valid():
        if too_large:
            message = form.errors["sample"][0]
            raise ApiError(413, "file_too_large", message, fields={"sample": [message]})
        raise form_invalid(form)
    return _created(request, response, submit_clone(form), "get_clone", _clone_out)


@api.get("/clones", response={200: schemas.ClonePage, **_errors(400, 401)}, summary="List your clones", tags=["clones"])
def list_clones(request, page: int = Query(1, ge=1, le=MAX_PAGE)):
    """Newest first, 20 a page."""
    clones = Clone.objects.owned_by(request.auth).filter(deletion_requested_at=None).prefetch_related("tags")
    return _page(request, clones, page, _clone_out, "list_clones")


@api.get(
    "/clones/{uuid}", response={200: schemas.CloneOut, **_errors(401, 404)}, summary="Get a clone", tags=["clones"]
)
def get_clone(request, uuid: UUID):
    return _clone_out(request, _own_clone(request, uuid))


@api.delete(
    "/clones/{uuid}",
    response={202: schemas.CloneDeleted, **_errors(401, 404)},
    summary="Delete a clone",
    tags=["clones"],
)
def delete_clone(request, uuid: UUID):
    """The provider's voice is deleted first, by a background task; the clone is gone from the API at once."""
    clone = _own_clone(request, uuid)
    tasks.request_deletion(clone)
    message = _("“%(name)s” is being deleted, at the provider too.") % {"name": clone.name}
    return Status(202, {"uuid": clone.uuid, "message": message})


@_audio_route("/clones/{uuid}/preview", "Download a clone's preview audio", "clones")
def clone_preview(request, uuid: UUID):
    """WAV or MP3, as the provider made it. Supports Range requests."""
    clone = _own_clone(request, uuid)
    return _stored_audio(
        request,
        clone.preview_audio,
        clone.preview_content_type,
        _("This clone has no preview audio yet."),
        changeable=True,  # a clone's visibility can change
    )


@api.post(
    "/clones/{uuid}/preview/refetch",
    response={202: schemas.CloneOut, **_errors(401, 404, 409)},
    summary="Fetch a clone's preview again",
    tags=["clones"],
)
def refetch_clone_preview(request, uuid: UUID):
    """For a ready clone whose preview no route gave (`preview_route` is `unavailable`): try every route again."""
    clone = _own_clone(request, uuid)
    if not clone.preview_unavailable:
        raise ApiError(409, "preview_available", _("This clone has its preview, or is still fetching it."))
    tasks.refetch_preview(clone)
    return Status(202, _clone_out(request, clone))


@api.post(
    "/clones/{uuid}/speak",
    response={201: schemas.UtteranceOut, **_errors(400, 401, 404, 409, 429, 502, 503)},
    openapi_extra=STREAMED_SPEECH_RESPONSE,
    summary="Make a clone speak",
    tags=["utterances"],
)
def speak(request, uuid: UUID, payload: schemas.SpeechIn, response: HttpResponse):
    """Queue a text to be spoken in the clone's voice. Poll the utterance until `finished`, then get its audio.
    Or, with `stream: true`, hear it as it is made (200, audio/wav)."""
    clone = get_object_or_404(Clone.objects.visible_to(request.auth), uuid=uuid)
    if not (clone.can_manage(request.auth) or clone.can_speak(request.auth)):
        raise Http404
    if not clone.can_speak(request.auth):
        if clone.gone_at:
            raise ApiError(409, "clone_not_ready", _("The provider no longer has this voice."))
        raise ApiError(
            409,
            "clone_not_ready",
            _("This clone cannot speak yet: it is “%(status)s”.") % {"status": clone.get_status_display()},
        )
    data = payload.dict(exclude={"stream"})
    check = data.pop("check", None)
    data["check_requested"] = Preferences.of(request.auth).check_speech if check is None else check
    form = SpeechForm(data, owner=request.auth, clone=clone)
    if not form.is_valid():
        raise form_invalid(form)
    if payload.stream:
        return _stream(request, form)
    return _created(request, response, submit_speech(form), "get_utterance", _utterance_out)


def _stream(request, form):
    """Speech as it is made; every refusal before the first audio is the usual JSON error."""
    try:
        stream = streaming.open_stream(form)
    except streaming.StreamsBusy:
        raise ApiError(
            503,
            "streams_busy",
            _("Too many streams are playing right now. Try again in a moment, or leave out “stream” to queue it."),
            headers={"Retry-After": "5"},
        ) from None
    except streaming.StreamFailed as exc:
        location = {"Location": _absolute(request, "get_utterance", exc.utterance.uuid)}
        if exc.queued:
            message = _("The voice service could not stream just now: your speech was queued instead.")
            raise ApiError(503, "stream_unavailable", message, headers=location) from None
        message = _("The voice service refused this speech: %(reason)s") % {"reason": exc.error.message}
        raise ApiError(502, "provider_refused", message, headers=location) from None
    response = streaming.streaming_response(stream, "wav")
    response["Location"] = _absolute(request, "get_utterance", stream.utterance.uuid)
    return response


# -- utterances --------------------------------------------------------------------------


def _utterance_check(utterance):
    if not utterance.check_status:
        return None
    attempts = [
        {
            "number": attempt.number,
            "status": attempt.check_status,
            "transcript": attempt.transcript,
            "error_rate": attempt.error_rate,
            "kept": attempt.kept,
            "provider_calls": attempt.provider_calls,
            "check_calls": attempt.check_calls,
            "error_message": attempt.check_error or None,
        }
        for attempt in utterance.speech_attempts.all()
    ]
    return {
        "status": utterance.check_status,
        "state": utterance.check_state()[0],
        "transcript": utterance.transcript,
        "error_rate": utterance.error_rate,
        "cer": utterance.cer,
        "wer": utterance.wer,
        "spans": utterance.spans,
        "calls": utterance.check_calls,
        "attempts": attempts,
        "error_message": utterance.check_error or None,
    }


def _utterance_out(request, utterance):
    return {
        "uuid": utterance.uuid,
        "status": utterance.status,
        "status_label": str(utterance.get_status_display()),
        "finished": utterance.is_finished,
        "text": utterance.text,
        "speed": utterance.speed,
        "volume": utterance.volume,
        "clone": utterance.clone.uuid if utterance.clone_id else None,
        "system_voice": utterance.system_voice or None,
        "voice_label": str(utterance.voice_label),
        "duration": utterance.duration,
        "sent_text": utterance.sent_text or None,
        "check": _utterance_check(utterance),
        "created_at": utterance.created_at,
        "finished_at": utterance.finished_at,
        "links": {
            "url": _absolute(request, "get_utterance", utterance.uuid),
            "audio": _absolute(request, "utterance_audio", utterance.uuid) if utterance.audio else None,
        },
    }


@api.get(
    "/utterances",
    response={200: schemas.UtterancePage, **_errors(400, 401)},
    summary="List your utterances",
    tags=["utterances"],
)
def list_utterances(request, page: int = Query(1, ge=1, le=MAX_PAGE)):
    """Newest first, 20 a page."""
    utterances = (
        Utterance.objects.filter(owner=request.auth).select_related("clone").prefetch_related("speech_attempts")
    )
    return _page(request, utterances, page, _utterance_out, "list_utterances")


@api.get(
    "/utterances/{uuid}",
    response={200: schemas.UtteranceOut, **_errors(401, 404)},
    summary="Get an utterance",
    tags=["utterances"],
)
def get_utterance(request, uuid: UUID):
    utterance = get_object_or_404(Utterance.objects.visible_to(request.auth).select_related("clone"), uuid=uuid)
    return _utterance_out(request, utterance)


@api.post(
    "/utterances/{uuid}/accept",
    response={200: schemas.UtteranceOut, **_errors(401, 404, 409)},
    summary="Keep speech that differs",
    tags=["utterances"],
)
def accept_utterance(request, uuid: UUID):
    """The speech counts as checked although what was heard differs from its text."""
    utterance = get_object_or_404(Utterance.objects.filter(owner=request.auth).select_related("clone"), uuid=uuid)
    if utterance.check_status != Utterance.Check.DIFFERS:
        raise ApiError(409, "not_differing", _("Only speech that differs from its text can be accepted."))
    utterance.accept()
    return _utterance_out(request, utterance)


@_audio_route("/utterances/{uuid}/audio", "Download an utterance's audio", "utterances")
def utterance_audio(request, uuid: UUID):
    """WAV. Supports Range requests."""
    utterance = get_object_or_404(Utterance.objects.visible_to(request.auth), uuid=uuid)
    return _stored_audio(request, utterance.audio, "audio/wav", _("This utterance has no audio yet."))


# -- the account -------------------------------------------------------------------------


@api.get("/account/settings", response={200: schemas.AccountSettings, **_errors(401)}, summary="Get your settings",
         tags=["account"])  # fmt: skip
def get_account_settings(request):
    return {"check_speech": Preferences.of(request.auth).check_speech}


@api.patch(
    "/account/settings",
    response={200: schemas.AccountSettings, **_errors(400, 401)},
    summary="Change your settings",
    tags=["account"],
)
def update_account_settings(request, payload: schemas.AccountSettingsIn):
    """Fields left out keep their value."""
    preferences = Preferences.of(request.auth)
    if payload.check_speech is not None:
        preferences.check_speech = payload.check_speech
        preferences.save()
    return {"check_speech": preferences.check_speech}

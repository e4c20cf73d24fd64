import functools
import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import QuotaExceeded, usage_summary
from clones import streaming, tasks
from clones.audio import PROVIDER_FORMATS, clock
from clones.audio_responses import audio_response
from clones.forms import CloneForm, CloneSettingsForm, GalleryFilterForm, SpeechForm
from clones.intake import AudioError, advice_messages, prepare_sample, upload_too_large_message
from clones.keyset import KeysetPage
from clones.models import Clone, Utterance
from clones.pagecache import cache_for_anonymous
from clones.submissions import submit_clone, submit_retry, submit_speech
from library.models import card_list, for_cards

GALLERY_PAGE_SIZE = 24
SORTED_GALLERY_PAGES = 10


def _shared_clone(request, token):
    return get_object_or_404(Clone.objects.shared_with(request.user).select_related("owner"), share_token=token)


@require_GET
# Anonymous visitors all see the same page: rendered once per GALLERY_CACHE_SECONDS, so a clone made
# public or hidden shows or goes within that time. Signed-in people always get a fresh page.
@cache_for_anonymous("GALLERY_CACHE_SECONDS")
def gallery(request):
    filters = GalleryFilterForm(request.GET)
    clones = for_cards(filters.filter(Clone.objects.gallery()), request.user)
    query = request.GET.copy()
    for cursor in ("after", "before", "page"):
        query.pop(cursor, None)
    keyset = not (filters.is_valid() and filters.cleaned_data["sort"])
    if keyset:
        # Keyset pages (clones.keyset): as fast at the millionth clone as at the first.
        # The count is the same for every page and every visitor of one search: kept as long as a page is.
        count_key = "gallery-count:" + hashlib.sha256(query.urlencode().encode()).hexdigest()[:32]
        page = KeysetPage(
            clones,
            GALLERY_PAGE_SIZE,
            after=request.GET.get("after"),
            before=request.GET.get("before"),
            count_cache=(count_key, settings.GALLERY_CACHE_SECONDS),
        )
    else:
        # Most liked / most used cannot follow a created_at cursor: numbered pages over the first
        # SORTED_GALLERY_PAGES pages only, so neither the count nor the offset grows with the gallery.
        page = Paginator(clones[: SORTED_GALLERY_PAGES * GALLERY_PAGE_SIZE], GALLERY_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
    page.object_list = card_list(page.object_list)
    return render(
        request,
        "clones/gallery.html",
        {"page": page, "filters": filters, "query": query.urlencode(), "keyset": keyset},
    )


@login_required
def create(request):
    data, files = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    too_large = getattr(request, "upload_too_large", False)
    form = CloneForm(data, files, owner=request.user, upload_too_large=too_large)
    if request.method == "POST" and form.is_valid():
        try:
            clone = submit_clone(form)
        except QuotaExceeded as exc:
            form.add_error(None, str(exc))
            return create_page(request, form, status=429)
        if clone.quality and clone.quality["trimmed"]:
            messages.info(
                request,
                _("Your recording was trimmed to its best %(kept).0f seconds, from %(start)s; listen to it below.")
                % {"kept": clone.quality["kept_duration"], "start": clock(clone.quality["kept_start"])},
            )
        return redirect(clone)
    return create_page(request, form)


def create_page(request, form, status=200):
    """The clone form, with what the person has left of their limits."""
    context = {"form": form, "usage": usage_summary(request.user)}
    return render(request, "clones/create.html", context, status=status)


@login_required
@require_GET
def mine(request):
    clones = Clone.objects.owned_by(request.user).prefetch_related("tags")
    return render(request, "clones/mine.html", {"clones": clones})


@require_GET
def detail(request, uuid):
    clone = get_object_or_404(Clone.objects.visible_to(request.user).select_related("owner"), uuid=uuid)
    context = {"clone": clone, "can_manage": clone.can_manage(request.user)}
    # The owner of a clone still in progress gets the form too, shown by the page once it is ready.
    if clone.can_speak(request.user) or (context["can_manage"] and not clone.is_finished):
        context["speech_form"] = SpeechForm(owner=request.user, clone=clone)
        context["utterances"] = clone.utterances.filter(owner=request.user).prefetch_related("speech_attempts")[:20]
    if context["can_manage"]:
        context["settings_form"] = CloneSettingsForm(instance=clone)
        context["share_url"] = request.build_absolute_uri(clone.get_share_url())
    return render(request, "clones/detail.html", context)


@require_GET
def status(request, uuid):
    clone = get_object_or_404(Clone.objects.visible_to(request.user), uuid=uuid)
    return JsonResponse(
        {
            **clone.status_data(),
            "preview_url": clone.preview_url if clone.is_ready and clone.preview_audio else None,
            # Drawn by the page the moment the clone is ready, as a reload would show it.
            "preview_waveform": _preview_waveform(clone) if clone.is_ready and clone.preview_audio else "",
        },
        headers={"Cache-Control": "no-store"},
    )


def _preview_waveform(clone):
    context = {"peaks": clone.preview_peaks, "class": "preview", "label": _("Waveform of the preview")}
    return render_to_string("clones/_waveform.html", context)


def _preview_response(request, clone):
    if not clone.preview_audio:
        raise Http404
    public = clone.visibility == Clone.Visibility.PUBLIC
    return audio_response(request, clone.preview_audio, clone.preview_content_type, public=public, changeable=True)


@require_GET
def preview(request, uuid):
    return _preview_response(request, get_object_or_404(Clone.objects.visible_to(request.user), uuid=uuid))


@require_GET
def share(request, token):
    clone = _shared_clone(request, token)
    return render(
        request,
        "clones/share.html",
        {
            "clone": clone,
            "page_url": request.build_absolute_uri(),
            "audio_url": request.build_absolute_uri(clone.share_preview_url),
        },
    )


@require_GET
def share_preview(request, token):
    return _preview_response(request, _shared_clone(request, token))


@login_required
@require_POST
def update(request, uuid):
    clone = get_object_or_404(Clone.objects.manageable_by(request.user), uuid=uuid)
    form = CloneSettingsForm(request.POST, instance=clone)
    if form.is_valid():
        form.save()
        messages.success(request, _("Saved."))
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect(clone)


@login_required
@require_POST
def rotate_share_link(request, uuid):
    clone = get_object_or_404(Clone.objects.manageable_by(request.user), uuid=uuid)
    clone.rotate_share_token()
    messages.success(request, _("The share link was replaced: the old link no longer works."))
    return redirect(clone)


@login_required
@require_POST
def retry(request, uuid):
    clone = get_object_or_404(Clone.objects.manageable_by(request.user), uuid=uuid)
    if clone.status == Clone.Status.FAILED:
        try:
            submit_retry(clone)
        except QuotaExceeded as exc:
            messages.error(request, str(exc))
    return redirect(clone)


@login_required
@require_POST
def refetch_preview(request, uuid):
    """A ready clone whose preview no route gave: its owner asks for it again."""
    clone = get_object_or_404(Clone.objects.manageable_by(request.user), uuid=uuid)
    if clone.preview_unavailable:
        tasks.refetch_preview(clone)
        messages.success(request, _("Fetching the preview again."))
    return redirect(clone)


@login_required
def delete(request, uuid):
    clone = get_object_or_404(Clone.objects.manageable_by(request.user), uuid=uuid)
    if request.method == "POST":
        tasks.request_deletion(clone)
        messages.success(request, _("“%(name)s” is being deleted, at the provider too.") % {"name": clone.name})
        return redirect("clones:mine")
    return render(request, "clones/delete.html", {"clone": clone})


def _enqueue_speech(request, form):
    """Queue the speech, or put the quota's refusal on the form and return None."""
    try:
        utterance = submit_speech(form)
    except QuotaExceeded as exc:
        form.add_error(None, str(exc))
        return None
    return utterance


@login_required
@require_POST
def speak_with_clone(request, uuid):
    clone = get_object_or_404(Clone.objects.visible_to(request.user).select_related("owner"), uuid=uuid)
    if not clone.can_speak(request.user):
        raise Http404
    form = SpeechForm(request.POST, owner=request.user, clone=clone)
    if form.is_valid() and _enqueue_speech(request, form):
        return redirect(f"{clone.get_absolute_url()}#speech")
    context = {
        "clone": clone,
        "can_manage": clone.can_manage(request.user),
        "speech_form": form,
        "utterances": clone.utterances.filter(owner=request.user).prefetch_related("speech_attempts")[:20],
    }
    return render(request, "clones/detail.html", context, status=400)


@login_required
def speak(request):
    form = SpeechForm(request.POST or None, owner=request.user, initial={"voice": request.GET.get("voice")})
    if request.method == "POST" and form.is_valid() and _enqueue_speech(request, form):
        return redirect("clones:speak")
    utterances = (
        Utterance.objects.filter(owner=request.user).select_related("clone").prefetch_related("speech_attempts")
    )
    utterances = utterances[:30]
    context = {"form": form, "utterances": utterances, "usage": usage_summary(request.user)}
    return render(request, "clones/speak.html", context)


@login_required
@require_POST
def speak_stream(request, uuid=None):
    """The speak forms' streamed path (static/clones/speech-stream.js): the audio as it is made, a WAV
    of unknown length; before the first byte, any refusal is JSON the page shows on the form."""
    clone = None
    if uuid is not None:
        clone = get_object_or_404(Clone.objects.visible_to(request.user), uuid=uuid)
        if not clone.can_speak(request.user):
            raise Http404
    form = SpeechForm(request.POST, owner=request.user, clone=clone)
    if not form.is_valid():
        return _stream_refused(400, form.errors)
    try:
        stream = streaming.open_stream(form)
    except streaming.StreamsBusy:
        return _stream_refused(503, message=_("Too many streams are playing right now. Try again in a moment."))
    except QuotaExceeded as exc:
        return _stream_refused(429, message=str(exc))
    except streaming.StreamFailed as exc:
        if exc.queued:
            message = _("The voice service could not stream just now: your speech was queued and will appear below.")
        else:
            message = _("The voice service refused this speech: %(reason)s") % {"reason": exc.error.message}
        return _stream_refused(503 if exc.queued else 502, message=message, utterance=exc.utterance)
    response = streaming.streaming_response(stream, "wav")
    response["X-Status-Url"] = reverse("clones:utterance_status", args=[stream.utterance.uuid])
    return response


def _stream_refused(status, errors=None, *, message="", utterance=None):
    fields = {name: [str(m) for m in messages] for name, messages in (errors or {}).items()}
    status_url = reverse("clones:utterance_status", args=[utterance.uuid]) if utterance else None
    body = {"message": message or " ".join(m for ms in fields.values() for m in ms), "fields": fields}
    return JsonResponse({**body, "status_url": status_url}, status=status, headers={"Cache-Control": "no-store"})


@require_GET
def utterance_status(request, uuid):
    utterance = get_object_or_404(Utterance.objects.visible_to(request.user).select_related("clone"), uuid=uuid)
    return JsonResponse(
        {
            "status": utterance.status,
            "label": str(utterance.get_status_display()),
            "finished": utterance.is_finished,
            "audio_url": utterance.get_audio_url() if utterance.audio else None,
            "duration": utterance.duration,
            "duration_label": utterance.duration_label,
            "failure_reason": str(utterance.failure_reason),
            # Heard back once made, maybe spoken again: the page follows it until the check settles.
            "check": utterance.check_state()[0],
            "check_busy": utterance.check_busy,
            "check_html": render_to_string("clones/_utterance_check.html", {"utterance": utterance}, request=request),
        },
        headers={"Cache-Control": "no-store"},
    )


@login_required
@require_POST
def accept_utterance(request, uuid):
    """Keep speech that differs from its text when heard back: it counts as checked."""
    utterance = get_object_or_404(Utterance.objects.filter(owner=request.user), uuid=uuid)
    if utterance.check_status != Utterance.Check.DIFFERS:
        raise Http404
    utterance.accept()
    # Back to the page the button was on (the speak page, a clone's page), if it is one of ours.
    back = request.headers.get("Referer", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(back)
    return redirect("clones:speak")


@require_GET
def utterance_audio(request, uuid):
    utterance = get_object_or_404(Utterance.objects.visible_to(request.user), uuid=uuid)
    if not utterance.audio:
        raise Http404
    response = audio_response(request, utterance.audio, "audio/wav", public=False)
    if request.GET.get("download"):
        response["Content-Disposition"] = content_disposition_header(True, utterance.download_name)
    return response


def _with_posted_sample(view):
    """A POST view of a sample not yet submitted: it is given the posted `sample` prepared for upload,
    or the request is answered with a 400 JSON error saying why it cannot be. Nothing is stored."""

    @login_required
    @require_POST
    @functools.wraps(view)
    def wrapper(request):
        sample = request.FILES.get("sample")  # parses the body, where the upload handler marks an oversized file
        if getattr(request, "upload_too_large", False):
            return JsonResponse({"error": str(upload_too_large_message())}, status=400)
        if sample is None:
            return JsonResponse({"error": _("Choose a sample first.")}, status=400)
        try:
            prepared = prepare_sample(sample)
        except AudioError as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        return view(request, prepared)

    return wrapper


@_with_posted_sample
def analyze(request, prepared):
    """The quality report of a sample before it is submitted; nothing is stored or queued."""
    return JsonResponse(
        {"report": prepared.report, "advice": advice_messages(prepared.report)}, headers={"Cache-Control": "no-store"}
    )


@require_GET
def sample(request, uuid):
    """The sample as uploaded to the provider (normalized, maybe trimmed), for its owner and staff."""
    clone = get_object_or_404(Clone.objects.manageable_by(request.user), uuid=uuid)
    if not clone.sample:
        raise Http404
    return audio_response(request, clone.sample, PROVIDER_FORMATS.get(clone.sample_format, "audio/wav"), public=False)

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import QuotaExceeded, Usage, charge
from clones.intake import AudioError, prepare_sample, upload_too_large_message
from transcripts.models import Transcription
from transcripts.tasks import enqueue_transcription

NO_STORE = {"Cache-Control": "no-store"}


def _error(message, status):
    return JsonResponse({"error": str(message)}, status=status, headers=NO_STORE)


@login_required
@require_POST
def start(request):
    """Queue the recognition of the posted sample; the page then polls the answer's `status_url`."""
    if settings.BIGMODEL_SANDBOX:
        # The sandbox cannot hear: it answers with a canned sentence whatever the sample says, and that
        # must not be saved with the clone as if it were what the sample says.
        return _error(
            _("There is no speech recognition in sandbox mode: type the transcript yourself, or leave it empty."), 409
        )
    sample = request.FILES.get("sample")  # parses the body, where the upload handler marks an oversized file
    if getattr(request, "upload_too_large", False):
        return _error(upload_too_large_message(), 400)
    if sample is None:
        return _error(_("Choose a sample first."), 400)
    try:
        prepared = prepare_sample(sample)  # any format we accept, sent as the normalized WAV of at most 30 s
    except AudioError as exc:
        return _error(exc, 400)
    try:
        with transaction.atomic():
            charge(request.user, Usage.Kind.TRANSCRIPTION, 1)  # locks the user's row: the count below is exact
            if Transcription.objects.filter(owner=request.user).in_flight().count() >= (
                settings.TRANSCRIPTIONS_IN_FLIGHT_PER_USER
            ):
                raise QuotaExceeded(
                    _("A transcription of yours is still running. Please wait for it to finish."),
                    code="rate_limited",
                    retry_after=5,
                )
            transcription = Transcription(owner=request.user)
            transcription.sample.save("sample.wav", ContentFile(prepared.wav), save=False)
            try:
                transcription.save()
            except Exception:
                transcription.sample.delete(save=False)
                raise
            enqueue_transcription(transcription)
    except QuotaExceeded as exc:
        headers = {**NO_STORE, "Retry-After": str(exc.retry_after)} if exc.retry_after else NO_STORE
        return JsonResponse({"error": str(exc)}, status=429, headers=headers)
    return JsonResponse(
        {"status_url": transcription.get_absolute_url(), "status": transcription.status}, status=202, headers=NO_STORE
    )


@login_required
@require_GET
def status(request, uuid):
    transcription = get_object_or_404(Transcription, uuid=uuid)
    if transcription.owner_id != request.user.pk:
        raise Http404
    answer = {"status": transcription.status, "finished": transcription.is_finished}
    if transcription.status == Transcription.Status.DONE:
        answer["text"] = transcription.text
    elif transcription.status == Transcription.Status.FAILED:
        answer["error"] = _("Speech recognition is unavailable right now.")
    return JsonResponse(answer, headers=NO_STORE)

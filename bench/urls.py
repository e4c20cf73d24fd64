"""The app's URLs plus bench-only views, served by the same process under the same middleware."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_POST

from bench.tasks import bare_clone
from clones.models import Clone
from voiceclone_site.urls import urlpatterns as app_urlpatterns


def trivial(request):
    return HttpResponse("ok", content_type="text/plain")


@login_required
@require_POST
def bare_submit(request):
    """The floor's web half: store the upload as it came, write the row, queue the task (no intake,
    no quota, no validation beyond what would crash)."""
    with transaction.atomic():
        clone = Clone.objects.create(
            owner=request.user,
            name=request.POST["name"],
            preview_text=request.POST["preview_text"],
            sample=request.FILES["sample"],
            sample_format="wav",
            provider_model=settings.BIGMODEL_CLONE_MODEL,
        )
        transaction.on_commit(lambda: bare_clone.delay(clone.pk))
    return HttpResponse(str(clone.uuid), status=201, content_type="text/plain")


urlpatterns = [path("bench/trivial/", trivial), path("bench/bare-clone/", bare_submit), *app_urlpatterns]

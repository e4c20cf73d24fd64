from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from privacy.forms import CloseAccountForm
from privacy.models import DataExport
from privacy.tasks import close_account, start_export


@login_required
def index(request):
    exports = request.user.data_exports.all()[:10]
    context = {"exports": exports, "form": CloseAccountForm(user=request.user), "keep_days": settings.EXPORT_KEEP_DAYS}
    return render(request, "privacy/index.html", context)


@login_required
@require_POST
def export(request):
    if request.user.data_exports.filter(status=DataExport.Status.PENDING).exists():
        messages.info(request, _("Your archive is already being prepared."))
    else:
        start_export(request.user)
        messages.success(request, _("Your archive is being prepared. Reload this page in a minute to download it."))
    return redirect("privacy:index")


@login_required
@require_GET
def download(request, uuid):
    export = get_object_or_404(DataExport, uuid=uuid, user=request.user, status=DataExport.Status.READY)
    if not export.archive:
        raise Http404
    name = f"voiceclone-{request.user.username}-{export.created_at:%Y%m%d}.zip"
    return FileResponse(export.archive.open("rb"), as_attachment=True, filename=name, content_type="application/zip")


@login_required
@require_POST
def close(request):
    form = CloseAccountForm(request.POST, user=request.user)
    if not form.is_valid():
        exports = request.user.data_exports.all()[:10]
        context = {"exports": exports, "form": form, "keep_days": settings.EXPORT_KEEP_DAYS}
        return render(request, "privacy/index.html", context, status=400)
    close_account(request.user)
    logout(request)
    messages.success(
        request, _("Your account is closed. Your voices are being deleted at the provider, then everything else.")
    )
    return redirect("clones:gallery")

"""The studio's pages: projects, their lines and takes, exports with captions, and the history."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q, Value
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from clones import stored_files
from clones.audio_responses import audio_response
from clones.models import Utterance
from studio import script, tasks
from studio.forms import ExportForm, LineForm, ProjectForm, ProjectSettingsForm, line_voice_choices
from studio.models import Export, Line, Project, Take

HISTORY_PAGE_SIZE = 25


# -- one way to reach each kind of object: the owner's, else the same 404 as for a missing one --------


def project_for(user, uuid):
    return get_object_or_404(Project.objects.owned_by(user).select_related("clone"), uuid=uuid)


def line_for(user, uuid, pk):
    return get_object_or_404(Line.objects.select_related("project__clone", "clone"), pk=pk,
                             project__in=Project.objects.owned_by(user), project__uuid=uuid)  # fmt: skip


def take_for(user, uuid):
    return get_object_or_404(Take.objects.owned_by(user).select_related("line__project"), uuid=uuid)


def export_for(user, uuid):
    return get_object_or_404(Export.objects.filter(project__in=Project.objects.owned_by(user)), uuid=uuid)


# -- projects ---------------------------------------------------------------------------------------


@login_required
@require_GET
def projects(request):
    return render(request, "studio/projects.html", {"projects": Project.objects.owned_by(request.user)})


@login_required
def create(request):
    form = ProjectForm(request.POST or None, request.FILES or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        project = form.save()
        messages.success(request, _("%(count)d lines are ready to generate.") % {"count": project.lines.count()})
        return redirect(project)
    status = 400 if request.method == "POST" else 200
    return render(request, "studio/create.html", {"form": form}, status=status)


def _project_context(request, project, **extra):
    lines = list(project.ordered_lines().prefetch_related("takes"))
    exports = project.exports.all()[:5]
    choices = line_voice_choices(project.owner)  # once for the page, not once per line
    return {
        "project": project,
        "lines": lines,
        "line_forms": {line.pk: LineForm(instance=line, prefix=f"line{line.pk}", choices=choices) for line in lines},
        "settings_form": ProjectSettingsForm(instance=project),
        "export_form": ExportForm(project=project),
        "exports": exports,
        "latest_export": exports[0] if exports else None,
        "pending": any(_line_busy(line) for line in lines),
        "differing_lines": differing_lines(lines),
        **extra,
    }


def _line_busy(line):
    """A take of the line is being made or heard back (prefetched takes)."""
    return any(take.status in Take.PENDING or take.check_status in Take.CHECK_PENDING for take in line.takes.all())


def differing_lines(lines):
    """The numbers of the lines whose chosen take still differs from its text when heard back."""
    return [line.number for line in lines if line.check_state()[0] == "differs"]


@login_required
@require_GET
def project(request, uuid):
    return render(request, "studio/project.html", _project_context(request, project_for(request.user, uuid)))


@login_required
@require_GET
def project_status(request, uuid):
    """The state and takes (rendered in the page's language) of each line whose takes changed since
    `?since=` (the `now` of the previous answer; every line without it), for the page to follow.

    A page following 600 lines then gets, each second, only the few lines whose takes moved.
    """
    project = project_for(request.user, uuid)
    now = timezone.now()
    lines = project.ordered_lines()
    # Followed while a take is being made or heard back (a check may still make the line again).
    busy = Q(status__in=Take.PENDING) | Q(check_status__in=Take.CHECK_PENDING)
    pending = Take.objects.filter(line__project=project).filter(busy).exists()
    since = parse_datetime(request.GET.get("since", "") or "")
    if since is not None:
        # A second of overlap: a take saved while the previous answer was being made is not missed.
        lines = lines.filter(takes__updated_at__gte=since - timedelta(seconds=1)).distinct()
    changed = []
    for line in lines.prefetch_related("takes"):
        state, label = line.state()
        changed.append(
            {
                "id": line.pk,
                "state": state,
                "label": str(label),
                "check": line.check_state()[0],
                "finished": not _line_busy(line),
                "takes_html": render_to_string("studio/_takes.html", {"line": line}, request=request),
                "check_html": render_to_string("studio/_line_check.html", {"line": line}, request=request),
            }
        )
    return JsonResponse(
        {"lines": changed, "finished": not pending, "now": now.isoformat()}, headers={"Cache-Control": "no-store"}
    )


@login_required
@require_POST
def update(request, uuid):
    project = project_for(request.user, uuid)
    form = ProjectSettingsForm(request.POST, instance=project)
    if form.is_valid():
        form.save()
        messages.success(request, _("Saved."))
        return redirect(project)
    return render(request, "studio/project.html", _project_context(request, project, settings_form=form), status=400)


@login_required
def delete(request, uuid):
    project = project_for(request.user, uuid)
    if request.method == "POST":
        delete_project(project)
        messages.success(request, _("“%(title)s” was deleted.") % {"title": project.title})
        return redirect("studio:projects")
    return render(request, "studio/delete.html", {"project": project})


def delete_project(project):
    takes = list(Take.objects.filter(line__project=project))
    exports = list(project.exports.all())
    project.delete()
    for field in [f for take in takes for f in (take.audio, take.normalized)] + [e.audio for e in exports]:
        if field:
            field.delete(save=False)


@login_required
@require_POST
def generate_all(request, uuid):
    project = project_for(request.user, uuid)
    count = tasks.queue_generation(project)
    if count:
        messages.success(request, _("%(count)d lines are being generated.") % {"count": count})
    else:
        messages.info(request, _("Every unlocked line already has a fresh take."))
    return redirect(project)


# -- lines and takes ------------------------------------------------------------------------------


@login_required
@require_POST
def edit_line(request, uuid, pk):
    line = line_for(request.user, uuid, pk)
    form = LineForm(request.POST, instance=line, prefix=f"line{line.pk}")
    if form.is_valid():
        with transaction.atomic():
            form.save()
        return redirect(f"{line.project.get_absolute_url()}#line-{line.pk}")
    context = _project_context(request, line.project)
    context["line_forms"][line.pk] = form
    return render(request, "studio/project.html", context, status=400)


@login_required
@require_POST
def regenerate_line(request, uuid, pk):
    line = line_for(request.user, uuid, pk)
    with transaction.atomic():
        tasks.queue_take(line)
    return redirect(f"{line.project.get_absolute_url()}#line-{line.pk}")


@login_required
@require_POST
def lock_line(request, uuid, pk):
    line = line_for(request.user, uuid, pk)
    line.locked = request.POST.get("locked") == "1"
    line.save(update_fields=["locked"])
    return redirect(f"{line.project.get_absolute_url()}#line-{line.pk}")


@login_required
@require_POST
def choose_take(request, uuid):
    take = take_for(request.user, uuid)
    if take.status != Take.Status.READY:
        raise Http404
    take.line.choose(take)
    return redirect(f"{take.line.project.get_absolute_url()}#line-{take.line_id}")


@login_required
@require_POST
def accept_take(request, uuid):
    """Keep a take that differs from its text when heard back: it counts as checked, and is chosen."""
    take = take_for(request.user, uuid)
    if take.status != Take.Status.READY or take.check_status != Take.Check.DIFFERS:
        raise Http404
    take.accept()
    return redirect(f"{take.line.project.get_absolute_url()}#line-{take.line_id}")


@login_required
@require_POST
def delete_take(request, uuid):
    take = take_for(request.user, uuid)
    line = take.line
    take.delete_with_files()
    if request.POST.get("next") == "history":
        return redirect("studio:history")
    return redirect(f"{line.project.get_absolute_url()}#line-{line.pk}")


@login_required
@require_GET
def take_audio(request, uuid):
    take = take_for(request.user, uuid)
    if not take.audio:
        raise Http404
    response = audio_response(request, take.audio, "audio/wav", public=False)
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="take-{take.uuid}.wav"'
    return response


# -- exports ------------------------------------------------------------------------------------------


@login_required
@require_POST
def export(request, uuid):
    project = project_for(request.user, uuid)
    form = ExportForm(request.POST, project=project)
    if form.is_valid():
        with transaction.atomic():
            tasks.enqueue_export(form.save())
        differing = differing_lines(project.ordered_lines())
        if differing:
            messages.warning(
                request,
                _("These lines still differ from their text when heard back: %(lines)s.")
                % {"lines": ", ".join(map(str, differing))},
            )
        return redirect(f"{project.get_absolute_url()}#export")
    return render(request, "studio/project.html", _project_context(request, project, export_form=form), status=400)


@login_required
@require_GET
def export_status(request, uuid):
    export = export_for(request.user, uuid)
    return JsonResponse(
        {
            "status": export.status,
            "label": str(export.get_status_display()),
            "finished": export.is_finished,
            "html": render_to_string("studio/_export.html", {"export": export}, request=request),
        },
        headers={"Cache-Control": "no-store"},
    )


@login_required
@require_GET
def export_audio(request, uuid):
    export = export_for(request.user, uuid)
    if not export.audio:
        raise Http404
    response = audio_response(request, export.audio, export.content_type, public=False)
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="studio-{export.uuid}.{export.format}"'
    return response


CAPTIONS = {"srt": (script.srt, "application/x-subrip"), "vtt": (script.webvtt, "text/vtt")}


def captions_response(export, kind, download=False):
    render_captions, content_type = CAPTIONS[kind]
    response = HttpResponse(render_captions(export.cues), content_type=f"{content_type}; charset=utf-8")
    response["Cache-Control"] = "private, no-cache"
    if download:
        response["Content-Disposition"] = f'attachment; filename="studio-{export.uuid}.{kind}"'
    return response


@login_required
@require_GET
def export_captions(request, uuid, kind):
    export = export_for(request.user, uuid)
    if kind not in CAPTIONS or export.status != Export.Status.READY:
        raise Http404
    return captions_response(export, kind, download=bool(request.GET.get("download")))


# -- history ------------------------------------------------------------------------------------------


@login_required
@require_GET
def history(request):
    """Every take and every one-off speech of the owner, newest first, searchable by text.

    Both kinds are paged together in the database (a UNION of their times and ids), so a page costs
    the same whatever the length of the history; then only that page's rows are fetched.
    """
    query = request.GET.get("q", "").strip()[:200]
    takes = Take.objects.owned_by(request.user)
    utterances = Utterance.objects.filter(owner=request.user)
    if query:
        takes, utterances = takes.filter(text__icontains=query), utterances.filter(text__icontains=query)
    # order_by(): no model ordering inside the UNION's parts (SQL orders only the whole).
    keys = (
        takes.order_by()
        .values_list("created_at", "pk", Value("take"))
        .union(utterances.order_by().values_list("created_at", "pk", Value("utterance")), all=True)
    )
    page = Paginator(keys.order_by("-created_at", "-pk"), HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    ids = {kind: [pk for _at, pk, k in page.object_list if k == kind] for kind in ("take", "utterance")}
    found = {
        "take": Take.objects.select_related("line__project").in_bulk(ids["take"]),
        "utterance": Utterance.objects.select_related("clone").in_bulk(ids["utterance"]),
    }
    entries = [(kind, found[kind][pk]) for _at, pk, kind in page.object_list if pk in found[kind]]
    return render(request, "studio/history.html", {"page": page, "entries": entries, "query": query})


@login_required
@require_POST
def delete_utterance(request, uuid):
    utterance = get_object_or_404(Utterance.objects.filter(owner=request.user), uuid=uuid)
    stored_files.delete_with_files(utterance)  # with an attempt's file still being heard back (checks.models)
    return redirect("studio:history")

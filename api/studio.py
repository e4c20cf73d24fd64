"""The JSON API of the studio: projects, lines, takes, generation, choosing, exports and captions.

Validation is the studio's forms (ProjectForm, LineForm, ExportForm), reaching objects goes through the
same helpers as the pages (owner only; a 404 otherwise), and queuing is the same code the pages call.
"""

import math
from datetime import datetime
from typing import Literal
from uuid import UUID

from django.db import transaction
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status

from api.errors import ApiError, form_invalid, not_found
from api.schemas import AUDIO_RESPONSES, Error
from clones.audio_responses import audio_response
from studio import tasks
from studio import views as studio
from studio.forms import SPEAKER_FIELD, ExportForm, LineForm, ProjectForm
from studio.models import Export, Line, Project, Take, project_default_voice

router = Router(tags=["studio"])

PAGE_SIZE = 20
MAX_PAGE = 100_000
MAX_ID = 2**31 - 1

TakeStatus = Literal[tuple(Take.Status.values)]
ExportStatus = Literal[tuple(Export.Status.values)]
LineState = Literal["new", "queued", "speaking", "ready", "failed", "stale"]
CheckState = Literal["checked", "differs", "checking", "unchecked"]
TakeCheckStatus = Literal[tuple(Take.Check.values)]


def _errors(*statuses):
    return dict.fromkeys(statuses, Error)


def _absolute(request, name, *args):
    return request.build_absolute_uri(reverse(f"api-1:{name}", args=args))


# -- what the API sends -------------------------------------------------------------------------------


class TakeLinks(Schema):
    url: str
    audio: str | None = Field(description="The take's WAV (with your token), once ready.")


class CheckSpan(Schema):
    op: Literal["replace", "delete", "insert"] = Field(description="delete: not heard; insert: heard, not in the text.")
    expected: str = Field(description="The normalized expected words (characters for Chinese) at this place.")
    heard: str = Field(description="The normalized heard words at this place.")


class TakeCheck(Schema):
    status: TakeCheckStatus = Field(description="pending, checking, passed, differs, accepted (by you) or failed.")
    status_label: str
    transcript: str = Field(description="What the recognizer heard.")
    error_rate: float | None = Field(description="Edits over all expected tokens (Chinese characters and words).")
    cer: float | None = Field(description="Character error rate over the Chinese characters; null without any.")
    wer: float | None = Field(description="Word error rate over the other words; null without any.")
    spans: list[CheckSpan] = Field(description="Where the heard text differs from the text.")
    error_message: str | None = Field(description="Why the check could not be made (status failed).")


class TakeOut(Schema):
    uuid: UUID
    line: int = Field(description="The line's id.")
    status: TakeStatus
    status_label: str
    finished: bool
    text: str = Field(description="What the take says: the line's text when the take was asked for.")
    voice_label: str
    speed: float
    chosen: bool
    stale: bool = Field(description="The line changed since this take was asked for.")
    duration: float | None = Field(description="Seconds, once ready.")
    loudness_lufs: float | None = Field(description="Integrated loudness of the take as spoken (BS.1770).")
    error_message: str | None
    sent_text: str | None = Field(description="The text as sent, after your pronunciation rules; null until spoken.")
    auto_retry: int = Field(description="0: asked for; n: the n-th take made again because the one before differed.")
    check: TakeCheck | None = Field(description="The take heard back and compared with its text; null: not checked.")
    created_at: datetime
    finished_at: datetime | None
    links: TakeLinks


class LineOut(Schema):
    id: int
    number: int = Field(description="1 for the first line.")
    text: str = Field(description="With pause markup such as [pause 1.5s].")
    speaker: str
    voice: str | None = Field(description="A system voice or a clone's UUID; null: the project's voice.")
    voice_label: str
    speed: float | None = Field(description="Null: the project's speed.")
    pause_after: float = Field(description="Seconds of silence after the line in an export.")
    cue_start: float | None = Field(description="Seconds: where the subtitle cue this line came from starts.")
    cue_end: float | None
    locked: bool = Field(description="Locked lines are left alone by “generate all”.")
    state: LineState
    check: CheckState = Field(
        description="The chosen take's check: checked (or accepted), differs, checking, unchecked."
    )
    chosen_take: UUID | None
    takes: list[TakeOut]


class ProjectLinks(Schema):
    url: str
    page: str = Field(description="The project's web page.")
    generate: str = Field(description="POST here to generate every line that needs a take.")
    exports: str = Field(description="POST here to export.")


class ProjectOut(Schema):
    uuid: UUID
    title: str
    voice: str = Field(description="A system voice or a clone's UUID.")
    voice_label: str
    speed: float
    volume: float
    loudness_target: float = Field(description="LUFS every line is matched to in exports.")
    check_speech: bool = Field(description="Every take is heard back and checked, and made again if it differs.")
    format: Literal[tuple(Project.Format.values)]
    speakers: dict[str, str] = Field(description='Speaker names and the voice each was given ("": the project\'s).')
    created_at: datetime
    updated_at: datetime
    lines: list[LineOut]
    links: ProjectLinks


class ProjectSummary(Schema):
    uuid: UUID
    title: str
    voice_label: str
    lines: int
    updated_at: datetime
    url: str


class ProjectPage(Schema):
    count: int
    page: int
    pages: int
    next: str | None
    previous: str | None
    results: list[ProjectSummary]


class Generated(Schema):
    queued: int = Field(description="How many lines got a new take.")
    takes: list[TakeOut]


class ExportLinks(Schema):
    url: str
    audio: str | None
    srt: str | None
    vtt: str | None


class ExportOut(Schema):
    uuid: UUID
    status: ExportStatus
    status_label: str
    finished: bool
    format: Literal["wav", "mp3"]
    keep_cue_times: bool
    duration: float | None
    decoded_takes: int = Field(description="Takes this export had to decode (others were reused as they were).")
    cues: list[tuple[float, float, str]] = Field(description="[start, end, text] of each line, in seconds.")
    error_message: str | None
    differing_lines: list[int] = Field(
        description="Numbers of the lines whose chosen take still differs from its text when heard back: "
        "the export uses them as they are."
    )
    created_at: datetime
    finished_at: datetime | None
    links: ExportLinks


# -- what the API takes ---------------------------------------------------------------------------------
# Shapes only: the forms decide what is valid, with the web pages' messages.


class ProjectIn(Schema):
    title: str = Field(None, json_schema_extra={"maxLength": 200})
    script: str = Field(None, description="Plain text, Markdown, or the text of an .srt/.vtt file.")
    format: Literal["auto", "plain", "markdown", "srt", "vtt"] = "auto"
    voice: str = Field("tongtong", description="A system voice or the UUID of a clone you may use.")
    speed: float = Field(1.0, json_schema_extra={"minimum": 0.5, "maximum": 2})
    volume: float = Field(1.0, json_schema_extra={"exclusiveMinimum": 0, "maximum": 10})
    speakers: dict[str, str] = Field(
        default_factory=dict,
        description='A voice for each speaker the script names: a voice key, "" for the project\'s voice, or '
        '"-" when the name is not a speaker after all.',
    )


class LineIn(Schema):
    text: str | None = None
    voice: str | None = Field(None, description='A voice key, or "" for the project\'s voice.')
    speed: float | None = Field(None, description="Omit to keep; 0 to use the project's speed.")
    pause_after: float | None = Field(None, json_schema_extra={"minimum": 0, "maximum": 10})
    locked: bool | None = None


class ExportIn(Schema):
    format: Literal["wav", "mp3"] = "wav"
    keep_cue_times: bool = Field(False, description="Subtitle scripts only: each line at its cue's start time.")


# -- serializing -----------------------------------------------------------------------------------------


def _take_out(request, take, line):
    return {
        "uuid": take.uuid,
        "line": line.pk,
        "status": take.status,
        "status_label": str(take.get_status_display()),
        "finished": take.is_finished,
        "text": take.text,
        "voice_label": take.voice_label,
        "speed": take.speed,
        "chosen": line.chosen_take_id == take.pk,
        "stale": take.revision != line.revision,
        "duration": take.duration,
        # Silence has no loudness (-inf), which JSON cannot carry.
        "loudness_lufs": take.loudness_lufs
        if take.loudness_lufs is not None and math.isfinite(take.loudness_lufs)
        else None,
        "error_message": take.error_message or None,
        "sent_text": take.sent_text or None,
        "auto_retry": take.auto_retry,
        "check": _check_out(take),
        "created_at": take.created_at,
        "finished_at": take.finished_at,
        "links": {
            "url": _absolute(request, "get_take", take.uuid),
            "audio": _absolute(request, "take_audio", take.uuid) if take.audio else None,
        },
    }


def _check_out(take):
    if not take.check_status:
        return None
    return {
        "status": take.check_status,
        "status_label": str(take.get_check_status_display()),
        "transcript": take.transcript,
        "error_rate": take.error_rate,
        "cer": take.cer,
        "wer": take.wer,
        "spans": take.spans,
        "error_message": take.check_error or None,
    }


def _line_out(request, line):
    state, _label = line.state()
    chosen = line.chosen_take_id and Take.objects.filter(pk=line.chosen_take_id).values_list("uuid", flat=True).first()
    return {
        "id": line.pk,
        "number": line.number,
        "text": line.text,
        "speaker": line.speaker,
        "voice": line.voice_key or None,
        "voice_label": str(line.voice_label),
        "speed": line.speed,
        "pause_after": line.pause_after,
        "cue_start": line.cue_start,
        "cue_end": line.cue_end,
        "locked": line.locked,
        "state": state,
        "check": line.check_state()[0],
        "chosen_take": chosen or None,
        "takes": [_take_out(request, take, line) for take in line.takes.all()],
    }


def _project_out(request, project):
    lines = project.ordered_lines().prefetch_related("takes")
    return {
        "uuid": project.uuid,
        "title": project.title,
        "voice": project.voice_key or project_default_voice(),
        "voice_label": str(project.voice_label),
        "speed": project.speed,
        "volume": project.volume,
        "loudness_target": project.loudness_target,
        "check_speech": project.check_speech,
        "format": project.source_format,
        "speakers": project.speakers,
        "created_at": project.created_at,
        "updated_at": project.updated_at,
        "lines": [_line_out(request, line) for line in lines],
        "links": {
            "url": _absolute(request, "get_project", project.uuid),
            "page": request.build_absolute_uri(project.get_absolute_url()),
            "generate": _absolute(request, "generate_project", project.uuid),
            "exports": _absolute(request, "create_export", project.uuid),
        },
    }


def _export_out(request, export):
    ready = export.status == Export.Status.READY
    return {
        "uuid": export.uuid,
        "status": export.status,
        "status_label": str(export.get_status_display()),
        "finished": export.is_finished,
        "format": export.format,
        "keep_cue_times": export.keep_cue_times,
        "duration": export.duration,
        "decoded_takes": export.decoded_takes,
        "cues": [tuple(cue) for cue in export.cues],
        "error_message": export.error_message or None,
        "differing_lines": studio.differing_lines(export.project.ordered_lines()),
        "created_at": export.created_at,
        "finished_at": export.finished_at,
        "links": {
            "url": _absolute(request, "get_export", export.uuid),
            "audio": _absolute(request, "export_audio", export.uuid) if export.audio else None,
            "srt": _absolute(request, "export_captions", export.uuid, "srt") if ready else None,
            "vtt": _absolute(request, "export_captions", export.uuid, "vtt") if ready else None,
        },
    }


def _found(reach, *args):
    """The object through the pages' own access helper; the API's 404 for a missing or foreign one."""
    try:
        return reach(*args)
    except Http404:
        raise not_found() from None


# -- projects ----------------------------------------------------------------------------------------------


@router.post(
    "/studio/projects",
    response={201: ProjectOut, **_errors(400, 401)},
    summary="Create a studio project from a script",
)
def create_project(request, payload: ProjectIn, response: HttpResponse):
    """The script is split into lines. Every speaker it names needs a voice in `speakers`; the error lists
    the names missing one."""
    data = {k: v for k, v in payload.dict().items() if k != "speakers" and v is not None}
    data.update({SPEAKER_FIELD + name: key for name, key in payload.speakers.items()})
    form = ProjectForm(data, owner=request.auth)
    if not form.is_valid():
        error = form_invalid(form)
        if form.unknown_speakers:
            error.fields["speakers"] = [
                _("Choose a voice for this speaker: %(name)s.") % {"name": name} for name in form.unknown_speakers
            ]
        raise error
    project = form.save()
    response["Location"] = _absolute(request, "get_project", project.uuid)
    return Status(201, _project_out(request, project))


@router.get("/studio/projects", response={200: ProjectPage, **_errors(400, 401)}, summary="List your projects")
def list_projects(request, page: int = Query(1, ge=1, le=MAX_PAGE)):
    projects = Project.objects.owned_by(request.auth).select_related("clone")
    count, start = projects.count(), (page - 1) * PAGE_SIZE
    url = _absolute(request, "list_projects")
    return {
        "count": count,
        "page": page,
        "pages": -(-count // PAGE_SIZE),
        "next": f"{url}?page={page + 1}" if start + PAGE_SIZE < count else None,
        "previous": f"{url}?page={page - 1}" if page > 1 else None,
        "results": [
            {
                "uuid": p.uuid,
                "title": p.title,
                "voice_label": str(p.voice_label),
                "lines": p.lines.count(),
                "updated_at": p.updated_at,
                "url": _absolute(request, "get_project", p.uuid),
            }
            for p in projects[start : start + PAGE_SIZE]
        ],
    }


@router.get("/studio/projects/{uuid}", response={200: ProjectOut, **_errors(401, 404)}, summary="Get a project")
def get_project(request, uuid: UUID):
    """With every line and every take, as the project page shows them."""
    return _project_out(request, _found(studio.project_for, request.auth, uuid))


@router.delete("/studio/projects/{uuid}", response={204: None, **_errors(401, 404)}, summary="Delete a project")
def delete_project(request, uuid: UUID):
    studio.delete_project(_found(studio.project_for, request.auth, uuid))
    return Status(204, None)


@router.post(
    "/studio/projects/{uuid}/generate",
    response={202: Generated, **_errors(401, 404)},
    summary="Generate every line that needs a take",
)
def generate_project(request, uuid: UUID):
    """A take for each unlocked line without a fresh chosen take (or one on its way), made in parallel up to
    the provider's cap. Each provider call is charged to your speech quota just before it is made."""
    project = _found(studio.project_for, request.auth, uuid)
    before = set(Take.objects.filter(line__project=project).values_list("pk", flat=True))
    queued = tasks.queue_generation(project)
    new = Take.objects.filter(line__project=project).exclude(pk__in=before).select_related("line")
    return Status(202, {"queued": queued, "takes": [_take_out(request, take, take.line) for take in new]})


# -- lines ------------------------------------------------------------------------------------------------


def _line(request, uuid, line_id):
    return _found(studio.line_for, request.auth, uuid, line_id)


@router.patch(
    "/studio/projects/{uuid}/lines/{line_id}",
    response={200: LineOut, **_errors(400, 401, 404)},
    summary="Edit or lock a line",
)
def update_line(request, uuid: UUID, payload: LineIn, line_id: int = Path(..., ge=1, le=MAX_ID)):
    """Fields left out keep their value. A change of text, voice or speed marks the line's takes stale."""
    line = _line(request, uuid, line_id)
    given = payload.dict(exclude_unset=True)
    if given.get("locked") is not None:
        line.locked = given.pop("locked")
        line.save(update_fields=["locked"])
    given.pop("locked", None)
    if given:
        current = {"text": line.text, "voice": line.voice_key, "speed": line.speed, "pause_after": line.pause_after}
        data = {**current, **{k: v for k, v in given.items() if v is not None or k == "voice"}}
        if given.get("speed") == 0:
            data["speed"] = None  # back to the project's speed
        data = {k: ("" if v is None else v) for k, v in data.items()}
        form = LineForm(data, instance=line)
        if not form.is_valid():
            raise form_invalid(form)
        with transaction.atomic():
            line = form.save()
    line = Line.objects.select_related("project", "clone").get(pk=line.pk)
    return _line_out(request, line)


@router.post(
    "/studio/projects/{uuid}/lines/{line_id}/regenerate",
    response={201: TakeOut, **_errors(401, 404)},
    summary="Make a new take of one line",
)
def regenerate_line(request, uuid: UUID, line_id: int = Path(..., ge=1, le=MAX_ID)):
    line = _line(request, uuid, line_id)
    with transaction.atomic():
        take = tasks.queue_take(line)
    return Status(201, _take_out(request, take, line))


# -- takes ------------------------------------------------------------------------------------------------


@router.get("/studio/takes/{uuid}", response={200: TakeOut, **_errors(401, 404)}, summary="Get a take")
def get_take(request, uuid: UUID):
    take = _found(studio.take_for, request.auth, uuid)
    return _take_out(request, take, take.line)


@router.post(
    "/studio/takes/{uuid}/choose",
    response={200: LineOut, **_errors(401, 404, 409)},
    summary="Choose a take for its line",
)
def choose_take(request, uuid: UUID):
    take = _found(studio.take_for, request.auth, uuid)
    if take.status != Take.Status.READY:
        raise ApiError(409, "take_not_ready", _("Only a ready take can be chosen."))
    take.line.choose(take)
    return _line_out(request, take.line)


@router.post(
    "/studio/takes/{uuid}/accept",
    response={200: LineOut, **_errors(401, 404, 409)},
    summary="Accept a take that differs from its text",
    description="The take counts as checked and becomes the line's chosen take (chosen by you: checks leave it).",
)
def accept_take(request, uuid: UUID):
    take = _found(studio.take_for, request.auth, uuid)
    if take.status != Take.Status.READY or take.check_status != Take.Check.DIFFERS:
        raise ApiError(409, "take_not_differing", _("Only a take that differs from its text can be accepted."))
    take.accept()
    return _line_out(request, Line.objects.select_related("project", "clone").get(pk=take.line_id))


@router.delete("/studio/takes/{uuid}", response={204: None, **_errors(401, 404)}, summary="Delete a take")
def delete_take(request, uuid: UUID):
    _found(studio.take_for, request.auth, uuid).delete_with_files()
    return Status(204, None)


@router.get(
    "/studio/takes/{uuid}/audio",
    response={**_errors(401, 404)},
    openapi_extra=AUDIO_RESPONSES,
    summary="Download a take's audio",
)
def take_audio(request, uuid: UUID):
    """WAV, as spoken. Supports Range requests."""
    take = _found(studio.take_for, request.auth, uuid)
    if not take.audio:
        raise not_found(_("This take has no audio yet."))
    return audio_response(request, take.audio, "audio/wav", public=False)


# -- exports -------------------------------------------------------------------------------------------


@router.post(
    "/studio/projects/{uuid}/exports",
    response={201: ExportOut, **_errors(400, 401, 404)},
    summary="Export the chosen takes as one file",
)
def create_export(request, uuid: UUID, payload: ExportIn, response: HttpResponse):
    """Joined in order, each line matched to the project's loudness target, with captions. Poll until
    `finished`."""
    project = _found(studio.project_for, request.auth, uuid)
    form = ExportForm(payload.dict(), project=project)
    if not form.is_valid():
        raise form_invalid(form)
    with transaction.atomic():
        export = form.save()
        tasks.enqueue_export(export)
    response["Location"] = _absolute(request, "get_export", export.uuid)
    return Status(201, _export_out(request, export))


@router.get("/studio/exports/{uuid}", response={200: ExportOut, **_errors(401, 404)}, summary="Get an export")
def get_export(request, uuid: UUID):
    return _export_out(request, _found(studio.export_for, request.auth, uuid))


@router.get(
    "/studio/exports/{uuid}/audio",
    response={**_errors(401, 404)},
    openapi_extra=AUDIO_RESPONSES,
    summary="Download an export",
)
def export_audio(request, uuid: UUID):
    """WAV or MP3. Supports Range requests."""
    export = _found(studio.export_for, request.auth, uuid)
    if not export.audio:
        raise not_found(_("This export is not ready yet."))
    return audio_response(request, export.audio, export.content_type, public=False)


CAPTION_RESPONSES = {
    "responses": {
        200: {
            "description": "The captions.",
            "content": {
                "application/x-subrip": {"schema": {"type": "string"}},
                "text/vtt": {"schema": {"type": "string"}},
            },
        }
    }
}


@router.get(
    "/studio/exports/{uuid}/captions/{kind}",
    response={**_errors(401, 404)},
    openapi_extra=CAPTION_RESPONSES,
    summary="Download an export's captions",
)
def export_captions(request, uuid: UUID, kind: Literal["srt", "vtt"]):
    """SubRip (`srt`) or WebVTT (`vtt`), from the real timings of the export."""
    export = _found(studio.export_for, request.auth, uuid)
    if export.status != Export.Status.READY:
        raise not_found(_("This export is not ready yet."))
    return studio.captions_response(export, kind)

"""The lab in the JSON API: a clone's joined sample, its takes, its listening results and its score.

Joined to the API in api/urls.py; access is the API's own (`api.views._own_clone`): the token's owner only.
"""

import copy
from datetime import datetime
from typing import Literal
from uuid import UUID

from django.http import HttpResponse
from ninja import Field, Router, Schema, Status

from accounts.models import QuotaExceeded
from api.errors import ApiError, form_invalid, quota_exceeded
from api.schemas import CLONE_FORM_BODY, CloneOut, Error, SampleQuality
from api.views import _absolute, _clone_out, _own_clone
from clones.intake import advice_messages
from clones.models import Clone
from clones.submissions import submit_clone
from lab.assembly import MAX_FILES, AssemblyError
from lab.forms import MultiCloneForm, TakeForm
from lab.models import ListeningRound, SimilarityScore, take_tally
from lab.takes import other_stretches, siblings

router = Router(tags=["lab"])


class Stretch(Schema):
    start: float = Field(description="Seconds into the file's prepared audio (its best 30 s, as the intake kept it).")
    end: float
    at: float = Field(description="Where the stretch plays in the joined sample, in seconds.")


class SamplePartOut(Schema):
    position: int = Field(description="The file's place among the uploaded recordings, from 0.")
    name: str = Field(description="The file's name as uploaded (shown only).")
    quality: SampleQuality = Field(description="The intake's report on this file alone.")
    stretches: list[Stretch] = Field(description="What the joined sample kept from it, empty if nothing.")


class CloneTakeOut(Schema):
    uuid: UUID = Field(description="The take's clone.")
    number: int
    is_main: bool = Field(description="The main take: the one used by default.")
    status: str


class ListeningOut(Schema):
    answered: int = Field(description="Blind A/B rounds (original against this take's preview) answered.")
    correct: int = Field(description="Rounds where the listener picked the original.")
    fooled: int = Field(description="Rounds where the listener took the clone for the original.")
    compared: int = Field(description="Answered rounds of this take's preview against another take's.")
    preferred: int = Field(description="Of those, rounds where listeners found this take more like the speaker.")


class SimilarityOut(Schema):
    score: float = Field(description="Cosine similarity of the sample's and the preview's speaker embeddings.")
    band: Literal["close", "similar", "different"]
    model: str
    measured_at: datetime


class LabOut(Schema):
    sample_parts: list[SamplePartOut] = Field(description="The recordings joined into the sample (empty: one file).")
    takes: list[CloneTakeOut] = Field(description="Every take of this voice, this one included (empty: a single take).")
    listening: ListeningOut
    similarity: SimilarityOut | None = Field(description="None until measured, or when the score is turned off.")


def _lab_out(clone):
    score = SimilarityScore.objects.filter(clone=clone).first()
    return {
        "sample_parts": [
            {
                "position": p.position,
                "name": p.name,
                "quality": {**p.report, "advice": advice_messages(p.report)},
                "stretches": p.stretches,
            }
            for p in clone.sample_parts.all()
        ],
        "takes": [
            {"uuid": t.clone.uuid, "number": t.number, "is_main": t.is_main, "status": t.clone.status}
            for t in siblings(clone)
        ],
        "listening": {**ListeningRound.objects.filter(clone=clone).tally(), **take_tally(clone)},
        "similarity": {"score": score.score, "band": score.band, "model": score.model, "measured_at": score.created_at}
        if score
        else None,
    }


def _joined_form_body():
    """The multipart body of the single-sample form, with up to MAX_FILES `recordings` in place of `sample`."""
    body = copy.deepcopy(CLONE_FORM_BODY)
    schema = body["requestBody"]["content"]["multipart/form-data"]["schema"]
    del schema["properties"]["sample"]
    schema["properties"] = {
        "recordings": {
            "type": "array",
            "items": {"type": "string", "format": "binary"},
            "minItems": 1,
            "maxItems": MAX_FILES,
            "description": "1 to 5 recordings of the same person, each as a single sample may be; their clearest "
            "speech is joined into one sample of at most 30 s.",
        },
        "skip": {"type": "string", "description": "Comma-separated indexes (from 0) of recordings to leave out."},
        "windows": {
            "type": "string",
            "description": "The kept window of some recordings, as comma-separated `index:start-end` (seconds "
            "in the recording's prepared 30 s, e.g. `0:2.5-14`): only speech inside it is kept. Each window "
            "lies within its recording and is at least 3 s long.",
        },
        "denoise": {"type": "boolean", "description": "true: reduce steady background noise first."},
        **schema["properties"],
    }
    schema["required"] = ["recordings", *[field for field in schema["required"] if field != "sample"]]
    return body


@router.post(
    "/lab/clones",
    response={201: CloneOut, 400: Error, 401: Error, 413: Error, 429: Error},
    openapi_extra=_joined_form_body(),
    summary="Create a clone from several recordings",
)
def create_joined_clone(request, response: HttpResponse):
    """Join the clearest speech of up to 5 recordings into one sample and clone it; see `GET .../lab`."""
    data = request.POST.copy()
    data.setdefault("language", Clone.Language.ENGLISH)
    data.setdefault("visibility", Clone.Visibility.PRIVATE)
    too_large = getattr(request, "upload_too_large", False)
    form = MultiCloneForm(data, request.FILES, owner=request.auth, upload_too_large=too_large)
    if not form.is_valid():
        if too_large:
            message = form.errors["recordings"][0]
            raise ApiError(413, "file_too_large", message, fields={"recordings": [message]})
        raise form_invalid(form)
    try:
        clone = submit_clone(form)
    except QuotaExceeded as exc:
        raise quota_exceeded(exc) from exc
    response["Location"] = _absolute(request, "get_clone", clone.uuid)
    return Status(201, _clone_out(request, clone))


@router.get(
    "/clones/{uuid}/lab",
    response={200: LabOut, 401: Error, 404: Error},
    summary="Get a clone's lab results",
)
def get_clone_lab(request, uuid: UUID):
    """Where the sample came from, the voice's takes, blind listening results and the similarity score."""
    return _lab_out(_own_clone(request, uuid))


@router.post(
    "/clones/{uuid}/takes",
    response={201: CloneOut, 400: Error, 401: Error, 404: Error, 429: Error},
    summary="Clone again from another stretch",
)
def create_take(request, uuid: UUID, response: HttpResponse):
    """A sibling take of the voice from other stretches of its recordings, charged like any clone."""
    source = _own_clone(request, uuid)
    try:
        assembly = other_stretches(source)
    except AssemblyError as exc:
        raise ApiError(400, "validation_error", str(exc)) from exc
    form = TakeForm(source, request.auth, assembly.prepared, assembly if source.sample_parts.exists() else None)
    try:
        clone = submit_clone(form)
    except QuotaExceeded as exc:
        raise quota_exceeded(exc) from exc
    response["Location"] = _absolute(request, "get_clone", clone.uuid)
    return Status(201, _clone_out(request, clone))

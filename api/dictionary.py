"""The JSON API of the pronunciation dictionary: list, add and delete rules, through the pages' form."""

from uuid import UUID

from django.http import Http404
from django.urls import reverse
from ninja import Field, Path, Router, Schema, Status

from api.errors import form_invalid, not_found
from api.schemas import Error
from checks.forms import RuleForm
from checks.models import PronunciationRule
from checks.views import rule_for

router = Router(tags=["dictionary"])
MAX_ID = 2**31 - 1


class RuleOut(Schema):
    id: int
    phrase: str
    replacement: str = Field(description="The sound-alike spelling sent in place of the phrase.")
    whole_word: bool
    language: str = Field(description='"zh", "en", or "" for any.')
    voice: UUID | None = Field(description="The clone the rule is limited to; null: every voice.")
    url: str


class RuleIn(Schema):
    phrase: str = Field(None, json_schema_extra={"maxLength": 100})
    replacement: str = Field(None, json_schema_extra={"maxLength": 200})
    whole_word: bool = False
    language: str = Field("", description='"zh", "en", or "" for any.')
    voice: str = Field("", description='The UUID of one of your clones, or "" for every voice.')


def _rule_out(request, rule):
    return {
        "id": rule.pk,
        "phrase": rule.phrase,
        "replacement": rule.replacement,
        "whole_word": rule.whole_word,
        "language": rule.language,
        "voice": rule.clone.uuid if rule.clone_id else None,
        "url": request.build_absolute_uri(reverse("api-1:get_rule", args=[rule.pk])),
    }


@router.get("/dictionary/rules", response={200: list[RuleOut], 401: Error}, summary="List your pronunciation rules")
def list_rules(request):
    rules = PronunciationRule.objects.owned_by(request.auth).select_related("clone")
    return [_rule_out(request, rule) for rule in rules]


@router.post(
    "/dictionary/rules",
    response={201: RuleOut, 400: Error, 401: Error},
    summary="Add a pronunciation rule",
    description="From then on, the phrase is sent as the replacement in one-off speech and studio takes.",
)
def create_rule(request, body: RuleIn):
    data = {k: v for k, v in body.dict().items() if v is not None}
    if not data.get("whole_word"):
        data.pop("whole_word", None)  # a form's unchecked box is an absent field
    form = RuleForm(data, owner=request.auth)
    if not form.is_valid():
        raise form_invalid(form)
    return Status(201, _rule_out(request, form.save()))


@router.get("/dictionary/rules/{rule_id}", response={200: RuleOut, 401: Error, 404: Error}, summary="Get a rule")
def get_rule(request, rule_id: int = Path(..., ge=1, le=MAX_ID)):
    try:
        return _rule_out(request, rule_for(request.auth, rule_id))
    except Http404:
        raise not_found() from None


@router.delete("/dictionary/rules/{rule_id}", response={204: None, 401: Error, 404: Error}, summary="Delete a rule")
def delete_rule(request, rule_id: int = Path(..., ge=1, le=MAX_ID)):
    try:
        rule_for(request.auth, rule_id).delete()
    except Http404:
        raise not_found() from None
    return Status(204, None)

"""The pronunciation dictionary's pages: the rules, adding and deleting one, CSV in and out, and "try it"."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Preferences, QuotaExceeded, Usage, charge
from checks.forms import ImportForm, RuleForm, rules_csv
from checks.models import PronunciationRule
from clones.models import SYSTEM_VOICES, Utterance
from clones.tasks import enqueue_utterance


def rule_for(user, pk):
    return get_object_or_404(PronunciationRule.objects.owned_by(user), pk=pk)


def _page(request, form=None, import_form=None, status=200):
    rules = PronunciationRule.objects.owned_by(request.user).select_related("clone")
    tried = None
    if request.GET.get("tried"):
        tried = Utterance.objects.filter(owner=request.user, uuid=request.GET["tried"]).first()
    context = {
        "rules": rules,
        "form": form or RuleForm(owner=request.user),
        "import_form": import_form or ImportForm(owner=request.user),
        "tried": tried,
    }
    return render(request, "checks/dictionary.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def dictionary(request):
    if request.method == "GET":
        return _page(request)
    form = RuleForm(request.POST, owner=request.user)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    form.save()
    messages.success(request, _("Rule added."))
    return redirect("checks:dictionary")


@login_required
@require_POST
def delete_rule(request, pk):
    rule_for(request.user, pk).delete()
    messages.success(request, _("Rule deleted."))
    return redirect("checks:dictionary")


@login_required
@require_GET
def export_rules(request):
    rules = PronunciationRule.objects.owned_by(request.user).select_related("clone")
    response = HttpResponse(rules_csv(rules), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="pronunciation.csv"'
    return response


@login_required
@require_POST
def import_rules(request):
    form = ImportForm(request.POST, request.FILES, owner=request.user)
    if not form.is_valid():
        return _page(request, import_form=form, status=400)
    with transaction.atomic():
        # A rule for the same phrase, voice and language is replaced by the imported one.
        for rule in form.rules:
            PronunciationRule.objects.filter(
                owner=request.user, clone=rule.clone, phrase=rule.phrase, language=rule.language
            ).delete()
        PronunciationRule.objects.bulk_create(form.rules)
    messages.success(request, _("%(count)d rules imported.") % {"count": len(form.rules)})
    return redirect("checks:dictionary")


@login_required
@require_POST
def try_it(request, pk):
    """Speak the rule's phrase as the rule rewrites it: one-off speech, queued and charged as any."""
    rule = rule_for(request.user, pk)
    try:
        utterance = try_rule(rule)
    except QuotaExceeded as exc:
        messages.error(request, str(exc))
        return redirect("checks:dictionary")
    return redirect(f"{reverse('checks:dictionary')}?tried={utterance.uuid}")


def try_rule(rule):
    """One-off speech of the rule's phrase with the rule's voice (or the first system voice); the
    synthesis applies the owner's rules, so what is spoken is the rule's result. Raises QuotaExceeded."""
    with transaction.atomic():
        charge(rule.owner, Usage.Kind.SPEECH_CHARS, len(rule.replacement))
        utterance = Utterance.objects.create(
            owner=rule.owner,
            clone=rule.clone,
            system_voice="" if rule.clone_id else SYSTEM_VOICES[0][0],
            text=rule.phrase,
            check_requested=Preferences.of(rule.owner).check_speech,  # heard back as any one-off speech
        )
        enqueue_utterance(utterance)
    return utterance

"""The library's parts of a clone's page, so the clone views need not know the library."""

from django import template

from library.cards import ACTIONS_FORM_ID, render_cards
from library.forms import ShowcaseForm

register = template.Library()


@register.inclusion_tag("library/_showcase_form.html", takes_context=True)
def showcase_form(context, clone):
    """The owner's pick of showcase clips, for a public voice that has said something."""
    form = ShowcaseForm(clone=clone)
    return {"clone": clone, "form": form, "csrf_token": context.get("csrf_token")}


@register.simple_tag(takes_context=True)
def voice_cards(context, clones):
    """Voice cards for `clones`, each rendered once and then served from the cache (library.cards)."""
    return render_cards(clones, context["request"].user.is_authenticated)


@register.inclusion_tag("library/_card_actions.html", takes_context=True)
def card_actions_form(context):
    """The one form a page's voice cards submit to like or save (their buttons name it with form=)."""
    request = context["request"]
    return {
        "form_id": ACTIONS_FORM_ID,
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
        "signed_in": request.user.is_authenticated,
    }

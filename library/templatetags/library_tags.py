"""The library's parts of a clone's page, so the clone views need not know the library."""

from django import template

from library.forms import ShowcaseForm

register = template.Library()


@register.inclusion_tag("library/_showcase_form.html", takes_context=True)
def showcase_form(context, clone):
    """The owner's pick of showcase clips, for a public voice that has said something."""
    form = ShowcaseForm(clone=clone)
    return {"clone": clone, "form": form, "csrf_token": context.get("csrf_token")}

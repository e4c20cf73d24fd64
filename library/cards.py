"""Voice cards rendered once and reused: the gallery's cost was the template, not the database.

A page of 24 cards took about 25-30 ms of CPU in Django's template engine (URL reversing, plurals,
variable lookups), 100 times the trivial view, so signed-in visitors (who get no page cache) waited.
A card is now kept in the cache under a key made from everything it shows: the clone's fields, its
owner's name, tags, counts and showcase clips, the viewer's like and save, the language, and this
build of the template and catalogs. A change to any of them is a new key, so nothing is ever stale
and nothing needs invalidating; old keys simply age out. Nothing per visitor is in a card: the like
and save buttons submit the page's one shared form (`card_actions_form`), which holds the CSRF token.
"""

import hashlib
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.template.loader import get_template, render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

CARD_TEMPLATE = "clones/_card.html"
# The id of the page's shared form that the cards' buttons submit (HTML's form= attribute).
ACTIONS_FORM_ID = "card-actions"


def _build_stamp():
    """What changes a card's markup without changing its data: the template and the compiled catalogs."""
    digest = hashlib.blake2b(digest_size=8)
    digest.update(Path(get_template(CARD_TEMPLATE).origin.name).read_bytes())
    for catalog in sorted(Path(settings.BASE_DIR, "locale").glob("*/LC_MESSAGES/django.mo")):
        digest.update(str(catalog.stat().st_mtime_ns).encode())
    return digest.hexdigest()


_stamp = None


def build_stamp():
    global _stamp
    if _stamp is None or settings.DEBUG:  # templates are re-read while developing
        _stamp = _build_stamp()
    return _stamp


def card_key(clone, signed_in):
    """The cache key of one card: a digest of everything `clones/_card.html` reads."""
    stats = getattr(clone, "stats", None)
    parts = (
        build_stamp(),
        get_language(),
        signed_in,
        getattr(clone, "liked", False),
        getattr(clone, "saved", False),
        clone.pk,
        clone.uuid,
        clone.name,
        clone.language,
        clone.preview_duration,
        clone.preview_peaks,
        clone.allow_public_speech,
        clone.owner.username,
        stats and (stats.likes, stats.plays, stats.uses),
        clone.card_tags,
        clone.card_clips,
    )
    return "card:" + hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def render_cards(clones, signed_in):
    """The cards of `clones` (from library.models.card_list), as one string."""
    keys = [card_key(clone, signed_in) for clone in clones]
    found = cache.get_many(keys)
    made = {}
    for clone, key in zip(clones, keys, strict=True):
        if key not in found:
            context = {"clone": clone, "signed_in": signed_in, "actions_form": ACTIONS_FORM_ID}
            made[key] = render_to_string(CARD_TEMPLATE, context)
    if made:
        cache.set_many(made, settings.CARD_CACHE_SECONDS)
    return mark_safe("".join(found.get(key) or made[key] for key in keys))

"""Sibling takes: another clone of the same voice from other stretches, grouped with the first one."""

from django.db import transaction
from django.db.models import Max

from lab.assembly import AssemblyError, assemble, take_in
from lab.models import Take, Voice


def take_of(clone):
    """The clone's Take, making it take 1 (the main one) of a new Voice if it has none."""
    take = Take.objects.filter(clone=clone).select_related("voice").first()
    if take is None:
        voice = Voice.objects.create(owner=clone.owner)
        take = Take.objects.create(voice=voice, clone=clone, number=1, is_main=True)
    return take


def add_take(source, clone):
    first = take_of(source)
    number = (first.voice.takes.aggregate(n=Max("number"))["n"] or 0) + 1
    return Take.objects.create(voice=first.voice, clone=clone, number=number, is_main=False)


def siblings(clone):
    """Every take of the clone's voice (itself included), oldest first; empty if it has no siblings."""
    take = Take.objects.filter(clone=clone).first()
    if take is None:
        return []
    return list(Take.objects.filter(voice_id=take.voice_id, clone__deletion_requested_at=None).select_related("clone"))


@transaction.atomic
def make_main(take):
    Take.objects.filter(voice_id=take.voice_id, is_main=True).update(is_main=False)
    Take.objects.filter(pk=take.pk).update(is_main=True)


def other_stretches(source):
    """A new sample for a sibling of `source`: the same recordings, starting at other speech."""
    parts_rows = list(source.sample_parts.all())
    if parts_rows:
        files = [(row.name, row.audio.open("rb")) for row in parts_rows]
    elif source.sample:
        files = [(source.name, source.sample.open("rb"))]
    else:
        raise AssemblyError("This clone has no sample to take other stretches from.")
    try:
        parts = take_in(files)
    finally:
        for _name, fileobj in files:
            fileobj.close()
    if parts_rows:
        played = sorted((s["at"], row.position, s["start"]) for row in parts_rows for s in row.stretches)
        used = [(file, start) for _at, file, start in played]
    else:
        used = [(0, start) for start, _end in parts[0].speech]
    # Take 2 opens with the first take's second stretch, take 3 with its third, and so on.
    return assemble(parts, used=used, turn=max(len(siblings(source)), 1))

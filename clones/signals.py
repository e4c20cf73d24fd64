"""Signals other apps listen to, so that clones needs to know nothing about them (webhooks, metrics).

Sent by the models' state transitions, once the new state is saved:
- `clone_finished(sender=Clone, clone=...)`: the clone became ready or failed.
- `utterance_finished(sender=Utterance, utterance=...)`: the speech became ready or failed.
"""

from django.dispatch import Signal

clone_finished = Signal()
utterance_finished = Signal()

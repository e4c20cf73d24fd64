"""Signals other apps listen to, so that clones needs to know nothing about them (webhooks, metrics).

Sent by the models' state transitions, once the new state is saved, once per real transition:
- `clone_finished(sender=Clone, clone=...)`: the clone failed (once per run: a retried clone may fail
  again), or became ready for the first time (a preview fetched again later is not told again).
- `utterance_finished(sender=Utterance, utterance=...)`: the speech became ready or failed.
"""

from django.dispatch import Signal

clone_finished = Signal()
utterance_finished = Signal()

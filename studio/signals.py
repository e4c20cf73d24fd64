"""Signals other apps listen to, so that the studio needs to know nothing about them (webhooks).

- `export_finished(sender=Export, export=...)`: an export became ready or failed; sent once the new
  state is saved, once per export.
"""

from django.dispatch import Signal

export_finished = Signal()

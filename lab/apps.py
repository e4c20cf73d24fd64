from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LabConfig(AppConfig):
    name = "lab"
    verbose_name = _("Clone fidelity lab")

    def ready(self):
        # A clone that becomes ready gets its similarity score from the lab's own task; the pipeline in
        # clones/ need not know the lab exists.
        from lab import signals  # noqa: F401

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClonesConfig(AppConfig):
    name = "clones"
    verbose_name = _("Voice clones")

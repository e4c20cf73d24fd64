from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpenAICompatConfig(AppConfig):
    name = "openai_compat"
    verbose_name = _("OpenAI-compatible speech")

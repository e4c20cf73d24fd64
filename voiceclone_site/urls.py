from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from metrics.views import metrics
from voiceclone_site.health import health

# The admin says whose it is (its page template, templates/admin/base_site.html, adds our icon).
admin.site.site_header = _("Voiceclone administration")
admin.site.site_title = _("Voiceclone admin")
admin.site.index_title = _("Voices, people and usage")

urlpatterns = [
    path("health/", health, name="health"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("accounts.urls")),
    path("api/", include("api.urls")),
    path("account/data/", include("privacy.urls")),
    path("webhooks/", include("webhooks.urls")),
    path("v1/", include("openai_compat.urls")),
    path("lab/", include("lab.urls")),
    path("transcripts/", include("transcripts.urls")),
    path("studio/", include("studio.urls")),
    path("dictionary/", include("checks.urls")),
    path("library/", include("library.urls")),
    path("", include("home.urls")),
    path("", include("clones.urls")),
]

# Errors in the site's style (and JSON under /api/), never Django's bare pages.
handler400 = "voiceclone_site.errors.bad_request"
handler403 = "voiceclone_site.errors.permission_denied"

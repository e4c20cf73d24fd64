from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from voiceclone_site.health import health

# The admin says whose it is (its page template, templates/admin/base_site.html, adds our icon).
admin.site.site_header = _("Voiceclone administration")
admin.site.site_title = _("Voiceclone admin")
admin.site.index_title = _("Voices, people and usage")

urlpatterns = [
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("accounts.urls")),
    path("api/", include("api.urls")),
    path("lab/", include("lab.urls")),
    path("library/", include("library.urls")),
    path("", include("home.urls")),
    path("", include("clones.urls")),
]

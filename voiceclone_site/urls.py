from django.contrib import admin
from django.urls import include, path

from voiceclone_site.health import health

urlpatterns = [
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("accounts.urls")),
    path("api/", include("api.urls")),
    path("v1/", include("openai_compat.urls")),
    path("lab/", include("lab.urls")),
    path("", include("clones.urls")),
]

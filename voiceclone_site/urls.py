from django.contrib import admin
from django.urls import include, path

from voiceclone_site.health import health

urlpatterns = [
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("accounts.urls")),
    path("api/", include("api.urls")),
    path("library/", include("library.urls")),
    path("", include("home.urls")),
    path("", include("clones.urls")),
]

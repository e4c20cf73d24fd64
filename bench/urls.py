"""The app's URLs plus one trivial view, served by the same process under the same middleware."""

from django.http import HttpResponse
from django.urls import path

from voiceclone_site.urls import urlpatterns as app_urlpatterns


def trivial(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/trivial/", trivial), *app_urlpatterns]

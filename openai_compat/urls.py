"""/v1/: the OpenAI-compatible routes, where OpenAI's clients look for them (base URL `<site>/v1`)."""

from django.urls import path, re_path

from openai_compat import views

app_name = "openai_compat"

urlpatterns = [
    path("audio/speech", views.speech, name="speech"),
    re_path(r"", views.not_found),
]

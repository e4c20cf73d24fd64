from django.urls import path

from transcripts import views

app_name = "transcripts"

urlpatterns = [
    path("", views.start, name="start"),
    path("<uuid:uuid>/", views.status, name="status"),
]

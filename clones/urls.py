from django.urls import path

from clones import views

app_name = "clones"

urlpatterns = [
    path("", views.create, name="create"),
    path("clones/<uuid:uuid>/", views.detail, name="detail"),
    path("clones/<uuid:uuid>/status/", views.status, name="status"),
    path("clones/<uuid:uuid>/preview/", views.preview, name="preview"),
]

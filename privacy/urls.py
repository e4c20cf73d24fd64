from django.urls import path

from privacy import views

app_name = "privacy"

urlpatterns = [
    path("", views.index, name="index"),
    path("export/", views.export, name="export"),
    path("export/<uuid:uuid>/", views.download, name="download"),
    path("close/", views.close, name="close"),
]

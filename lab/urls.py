from django.urls import path

from lab import views

app_name = "lab"

urlpatterns = [
    path("new/", views.new, name="new"),
    path("assemble/", views.assemble_preview, name="assemble"),
    path("clones/<uuid:uuid>/again/", views.clone_again, name="again"),
    path("clones/<uuid:uuid>/main/", views.main_take, name="main"),
    path("clones/<uuid:uuid>/listen/", views.listen, name="listen"),
    path("s/<str:token>/listen/", views.listen_shared, name="listen_shared"),
    path("rounds/<uuid:uuid>/", views.listening_round, name="round"),
    path("rounds/<uuid:uuid>/reference/", views.round_reference, name="round_reference"),
    path("rounds/<uuid:uuid>/<str:side>/", views.round_audio, name="round_audio"),
]

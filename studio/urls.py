from django.urls import path

from studio import views

app_name = "studio"

urlpatterns = [
    path("", views.projects, name="projects"),
    path("new/", views.create, name="create"),
    path("history/", views.history, name="history"),
    path("history/utterances/<uuid:uuid>/delete/", views.delete_utterance, name="delete_utterance"),
    path("<uuid:uuid>/", views.project, name="project"),
    path("<uuid:uuid>/status/", views.project_status, name="project_status"),
    path("<uuid:uuid>/settings/", views.update, name="update"),
    path("<uuid:uuid>/delete/", views.delete, name="delete"),
    path("<uuid:uuid>/generate/", views.generate_all, name="generate_all"),
    path("<uuid:uuid>/export/", views.export, name="export"),
    path("<uuid:uuid>/lines/<int:pk>/edit/", views.edit_line, name="edit_line"),
    path("<uuid:uuid>/lines/<int:pk>/regenerate/", views.regenerate_line, name="regenerate_line"),
    path("<uuid:uuid>/lines/<int:pk>/lock/", views.lock_line, name="lock_line"),
    path("takes/<uuid:uuid>/choose/", views.choose_take, name="choose_take"),
    path("takes/<uuid:uuid>/accept/", views.accept_take, name="accept_take"),
    path("takes/<uuid:uuid>/delete/", views.delete_take, name="delete_take"),
    path("takes/<uuid:uuid>/audio/", views.take_audio, name="take_audio"),
    path("exports/<uuid:uuid>/status/", views.export_status, name="export_status"),
    path("exports/<uuid:uuid>/audio/", views.export_audio, name="export_audio"),
    path("exports/<uuid:uuid>/captions.<str:kind>", views.export_captions, name="export_captions"),
]

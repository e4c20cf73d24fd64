from django.urls import path

from clones import views

app_name = "clones"

urlpatterns = [
    path("gallery/", views.gallery, name="gallery"),
    path("clones/new/", views.create, name="create"),
    path("clones/mine/", views.mine, name="mine"),
    path("clones/<uuid:uuid>/", views.detail, name="detail"),
    path("clones/<uuid:uuid>/status/", views.status, name="status"),
    path("clones/<uuid:uuid>/preview/", views.preview, name="preview"),
    path("clones/<uuid:uuid>/sample/", views.sample, name="sample"),
    path("clones/<uuid:uuid>/settings/", views.update, name="update"),
    path("clones/<uuid:uuid>/share-link/", views.rotate_share_link, name="rotate_share_link"),
    path("clones/<uuid:uuid>/retry/", views.retry, name="retry"),
    path("clones/<uuid:uuid>/preview/refetch/", views.refetch_preview, name="refetch_preview"),
    path("clones/<uuid:uuid>/delete/", views.delete, name="delete"),
    path("clones/<uuid:uuid>/speak/", views.speak_with_clone, name="speak_with_clone"),
    path("clones/analyze/", views.analyze, name="analyze"),
    path("clones/<uuid:uuid>/speak/stream/", views.speak_stream, name="speak_stream_with_clone"),
    path("speak/", views.speak, name="speak"),
    path("speak/stream/", views.speak_stream, name="speak_stream"),
    path("utterances/<uuid:uuid>/status/", views.utterance_status, name="utterance_status"),
    path("utterances/<uuid:uuid>/audio/", views.utterance_audio, name="utterance_audio"),
    path("utterances/<uuid:uuid>/accept/", views.accept_utterance, name="accept_utterance"),
    path("s/<str:token>/", views.share, name="share"),
    path("s/<str:token>/audio/", views.share_preview, name="share_preview"),
]

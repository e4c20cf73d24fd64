from django.urls import path

from library import views

app_name = "library"

urlpatterns = [
    path("saved/", views.saved, name="saved"),
    path("<uuid:uuid>/like/", views.like, name="like"),
    path("<uuid:uuid>/save/", views.save, name="save"),
    path("<uuid:uuid>/play/", views.play, name="play"),
    path("<uuid:uuid>/showcase/", views.showcase, name="showcase"),
    path("clips/<int:pk>/audio/", views.showcase_audio, name="showcase_audio"),
]

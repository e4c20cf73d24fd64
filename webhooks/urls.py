from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.endpoints, name="endpoints"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/events/", views.change_events, name="events"),
    path("<int:pk>/test/", views.send_test, name="send_test"),
    path("<int:pk>/delete/", views.delete, name="delete"),
]

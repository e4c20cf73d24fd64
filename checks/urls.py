from django.urls import path

from checks import views

app_name = "checks"

urlpatterns = [
    path("", views.dictionary, name="dictionary"),
    path("rules.csv", views.export_rules, name="export"),
    path("import/", views.import_rules, name="import"),
    path("rules/<int:pk>/delete/", views.delete_rule, name="delete_rule"),
    path("rules/<int:pk>/try/", views.try_it, name="try_rule"),
]

"""``path("auth0/", include("djedge.urls"))``: djedge:login, djedge:callback,
djedge:logout (POST)."""

from django.urls import path

from . import views

app_name = "djedge"
urlpatterns = [
    path("login/", views.login, name="login"),
    path("callback/", views.callback, name="callback"),
    path("logout/", views.logout, name="logout"),
]

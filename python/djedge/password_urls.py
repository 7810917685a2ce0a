"""``path("accounts/", include("djedge.password_urls"))``: Django's password
change and reset views, under Django's own URL names and paths (those of
``django.contrib.auth.urls``, without login and logout, which
``djedge.urls`` has), with djedge's forms, so a person Auth0 has keeps one
password (``djedge.forms``). Include it before ``django.contrib.auth.urls``
if the site includes that too: the first match wins."""

from django.contrib.auth import views
from django.urls import path

from .forms import Auth0PasswordChangeForm, Auth0SetPasswordForm

urlpatterns = [
    path("password_change/", views.PasswordChangeView.as_view(form_class=Auth0PasswordChangeForm),
         name="password_change"),
    path("password_change/done/", views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password_reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password_reset/done/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(form_class=Auth0SetPasswordForm),
         name="password_reset_confirm"),
    path("reset/done/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]

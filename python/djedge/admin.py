"""The admin's password forms, for one password per person (``djedge.forms``):

- ``Auth0UserAdminMixin``, for the site's ``UserAdmin``: its "Reset
  password" form for another user::

      admin.site.unregister(User)

      @admin.register(User)
      class SiteUserAdmin(Auth0UserAdminMixin, UserAdmin):
          pass

- ``Auth0AdminSite``: the admin's own "Change password" page; the default
  site becomes one with ``"djedge.admin_config.Auth0AdminConfig"`` in place of
  ``"django.contrib.admin"`` in ``INSTALLED_APPS`` (Django's way to
  override the default admin site).

Nothing is registered here."""

import django
from django.contrib import admin
from django.contrib.auth.views import PasswordChangeView
from django.urls import reverse

from .forms import Auth0AdminPasswordChangeForm, Auth0AdminSitePasswordChangeForm


class Auth0UserAdminMixin:
    change_password_form = Auth0AdminPasswordChangeForm


class Auth0AdminSite(admin.AdminSite):
    password_change_form = Auth0AdminSitePasswordChangeForm  # read by Django 6.1 and later

    if django.VERSION < (6, 1):

        def password_change(self, request, extra_context=None):
            """Django's own view, with the form Django 6.1 would take from
            ``password_change_form``."""
            defaults = {
                "form_class": self.password_change_form,
                "success_url": reverse("admin:password_change_done", current_app=self.name),
                "extra_context": {**self.each_context(request), **(extra_context or {})},
            }
            if self.password_change_template is not None:
                defaults["template_name"] = self.password_change_template
            request.current_app = self.name
            return PasswordChangeView.as_view(**defaults)(request)

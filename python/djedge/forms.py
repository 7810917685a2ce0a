"""One password per person: Django's password forms, which also set the new
password in Auth0 for a user Auth0 has (``auth0_users.py`` says how that
is told), before Django keeps it.

- ``Auth0SetPasswordForm``: the reset (``PasswordResetConfirmView``);
- ``Auth0PasswordChangeForm``: the change (``PasswordChangeView``);
- ``Auth0AdminPasswordChangeForm``: the admin's form for another user
  (``UserAdmin.change_password_form``; ``djedge.admin.Auth0UserAdminMixin``);
- ``Auth0AdminSitePasswordChangeForm``: the admin's own "Change password"
  page (``djedge.admin.Auth0AdminSite``).

``djedge.password_urls`` serves the first two under Django's URL names.

Auth0 is asked in ``clean()``, once Django has validated the new password:
if Auth0 cannot be asked, or refuses, the form is invalid with one clear
error and Django's password stays as it was too. For a user Auth0 does not
have, nothing is sent and Django's flow is unchanged; the next
``djedge_sync`` carries the new hash to the edge. For a user Auth0 has,
Django keeps the same password (the next sync carries it too), unless
``DJEDGE_RETIRE_LOCAL_PASSWORDS`` is on: then their Django password stays
unusable, and Auth0 alone holds it. Turning a password off in the admin
(Django 5.1's "Password-based authentication: Disabled") changes Django
only: block the user in Auth0 for that."""

import logging

from django.contrib.admin.forms import AdminPasswordChangeForm as AdminSitePasswordChangeForm
from django.contrib.auth.forms import AdminPasswordChangeForm, PasswordChangeForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.views.decorators.debug import sensitive_variables

from .auth0_users import Auth0Error, set_auth0_password
from .conf import djedge_settings

logger = logging.getLogger(__name__)


class Auth0PasswordMixin:
    """For a form over ``self.user`` whose new password is the field
    ``new_password_field``: sets it in Auth0 as the form is cleaned."""

    new_password_field = "new_password1"
    auth0_user = None  # the Auth0 user whose password was set, once cleaned

    @sensitive_variables("password")
    def clean(self):
        cleaned = super().clean()
        password = self.cleaned_data.get(self.new_password_field)
        # Django 5.1+'s admin form may turn the password off instead.
        if self.errors or not password or self.cleaned_data.get("set_usable_password") is False:
            return cleaned
        try:
            self.auth0_user = set_auth0_password(self.user, password)
        except Auth0Error as e:
            logger.error("djedge: the password of user %s was left unchanged: %s", self.user.pk, e)
            raise ValidationError(e.public, code="auth0") from None
        return cleaned

    def save(self, commit=True):
        if self.auth0_user is None or not djedge_settings().retire_local_passwords:
            return super().save(commit=commit)
        # Auth0 holds it; the Django password stays retired.
        self.user.set_unusable_password()
        if commit:
            self.user.save()
        return self.user


class Auth0SetPasswordForm(Auth0PasswordMixin, SetPasswordForm):
    pass


class Auth0PasswordChangeForm(Auth0PasswordMixin, PasswordChangeForm):
    pass


class Auth0AdminPasswordChangeForm(Auth0PasswordMixin, AdminPasswordChangeForm):
    new_password_field = "password1"


class Auth0AdminSitePasswordChangeForm(Auth0PasswordMixin, AdminSitePasswordChangeForm):
    pass

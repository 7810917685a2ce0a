"""System checks (``manage.py check``, and before ``runserver``, ``migrate``
and the other commands): djedge's settings, and how the site wires it in.
Registered by ``DjedgeConfig.ready``.

The Auth0 settings are required only when the site logs in through Auth0:
``Auth0Backend`` (or a subclass) in ``AUTHENTICATION_BACKENDS``, the djedge
URLs included, or ``DJEDGE_ADMIN_LOGIN`` on. A site that only exports its
users (``djedge_export``, ``djedge_sync``, ``djedge_audit``,
``djedge_progress``, ``djedge_migrated``) needs none. djedge's password
forms, where the site serves them, need the Management API application
(``djedge.W004``)."""

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string

from .auth0_users import management_credentials
from .backends import Auth0Backend
from .conf import MISSING_FOR_LOGIN, djedge_settings

ADMIN_LOGIN_WITHOUT_URLS = "djedge.E008"
BACKEND_WITHOUT_URLS = "djedge.W002"
URLS_WITHOUT_BACKEND = "djedge.W003"
PASSWORD_FORMS_WITHOUT_MANAGEMENT_APP = "djedge.W004"
INCLUDE_URLS = "Add path('auth0/', include('djedge.urls')) to the site's URLconf."


def check_settings(app_configs=None, **kwargs):
    conf = djedge_settings()
    backend, urls = auth0_backend_listed(), djedge_urls_included()
    logs_in = backend or urls or conf.admin_login
    messages = [m for m in conf.problems if logs_in or m.id not in MISSING_FOR_LOGIN]
    if conf.admin_login and not urls:
        messages.append(checks.Error(
            "DJEDGE_ADMIN_LOGIN is on, but the djedge URLs are not included: /admin/login/ has nowhere to send staff.",
            hint=f"{INCLUDE_URLS} Or set DJEDGE_ADMIN_LOGIN = False.", id=ADMIN_LOGIN_WITHOUT_URLS))
    elif backend and not urls:
        messages.append(checks.Warning(
            "djedge.backends.Auth0Backend is in AUTHENTICATION_BACKENDS, but the djedge URLs are not included: "
            "nobody can log in through Auth0.", hint=INCLUDE_URLS, id=BACKEND_WITHOUT_URLS))
    if urls and not backend:
        messages.append(checks.Warning(
            "The djedge URLs are included, but no AUTHENTICATION_BACKENDS entry is djedge.backends.Auth0Backend: "
            "every Auth0 login is refused.",
            hint="Add 'djedge.backends.Auth0Backend' to AUTHENTICATION_BACKENDS.", id=URLS_WITHOUT_BACKEND))
    if djedge_password_forms_served() and management_credentials() is None:
        messages.append(checks.Warning(
            "djedge's password forms are served, but no Management API application is set: "
            "every password change and reset will be refused.",
            hint="Set DJEDGE_AUTH0_MANAGEMENT_CLIENT_ID and DJEDGE_AUTH0_MANAGEMENT_CLIENT_SECRET (or AUTH0_CLIENT_ID "
                 "and AUTH0_CLIENT_SECRET in the environment) to a Management API application with the scopes "
                 "read:users and update:users.", id=PASSWORD_FORMS_WITHOUT_MANAGEMENT_APP))
    return messages


def djedge_password_forms_served() -> bool:
    """Whether the site's password change or reset URL, or the admin's own
    change page, uses one of djedge's forms."""
    from django.urls import resolve

    from .forms import Auth0PasswordMixin  # imports the auth models: not before the apps are ready

    forms = []
    if apps.is_installed("django.contrib.admin"):
        from django.contrib import admin

        forms.append(getattr(admin.site, "password_change_form", None))
    if getattr(settings, "ROOT_URLCONF", None):
        for name, arguments in (("password_change", ()), ("password_reset_confirm", ("uid", "token"))):
            try:
                view = resolve(reverse(name, args=arguments)).func
            except NoReverseMatch:
                continue
            forms.append(getattr(view, "view_initkwargs", {}).get("form_class"))
    return any(isinstance(form, type) and issubclass(form, Auth0PasswordMixin) for form in forms)


def auth0_backend_listed() -> bool:
    for path in settings.AUTHENTICATION_BACKENDS:
        try:
            backend = import_string(path)
        except ImportError:
            continue  # not ours to report: Django fails on it at the first login
        if isinstance(backend, type) and issubclass(backend, Auth0Backend):
            return True
    return False


def djedge_urls_included() -> bool:
    if not getattr(settings, "ROOT_URLCONF", None):
        return False
    try:
        reverse("djedge:callback")
    except NoReverseMatch:
        return False
    return True

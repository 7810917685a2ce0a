"""``"djedge.admin_config.Auth0AdminConfig"`` in ``INSTALLED_APPS``, in place
of ``"django.contrib.admin"``: the admin, with ``djedge.admin.Auth0AdminSite``
as its default site (Django's way to override the default admin site), so
the admin's own "Change password" page keeps one password per person.
Apart from ``apps.py``, where a second AppConfig would cloud which one is
djedge's."""

from django.contrib.admin.apps import AdminConfig


class Auth0AdminConfig(AdminConfig):
    default_site = "djedge.admin.Auth0AdminSite"

from django.apps import AppConfig
from django.core import checks


class DjedgeConfig(AppConfig):
    name = "djedge"
    verbose_name = "djedge (Auth0 migration)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .checks import check_settings
        from .conf import djedge_settings

        checks.register(check_settings)
        if djedge_settings().admin_login:
            # Staff log in to the admin through Auth0 (and its MFA): the
            # admin's own password form is never served. Set before the
            # URLconf is loaded, which is when the admin reads it.
            from django.contrib import admin

            from .views import admin_login

            admin.site.login = admin_login

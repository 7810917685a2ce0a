from django.apps import AppConfig


class DjedgeConfig(AppConfig):
    name = "djedge"
    verbose_name = "djedge (Auth0 migration)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.conf import settings

        if getattr(settings, "DJEDGE_ADMIN_LOGIN", False):
            # Staff log in to the admin through Auth0 (and its MFA): the
            # admin's own password form is never served. Set before the
            # URLconf is loaded, which is when the admin reads it.
            from django.contrib import admin

            from .views import admin_login

            admin.site.login = admin_login

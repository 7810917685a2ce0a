from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpResponse
from django.urls import include, path

from djedge.admin import Auth0UserAdminMixin

User = get_user_model()


class SiteUserAdmin(Auth0UserAdminMixin, UserAdmin):
    """The site's UserAdmin, its "Reset password" form djedge's."""

    if User._meta.label == "renamed.RenamedUser":
        fieldsets = ((None, {"fields": ("email", "password")}), ("Permissions", {"fields": ("is_active", "is_staff")}))
        add_fieldsets = ((None, {"fields": ("email", "password1", "password2")}),)
        list_display = ("email", "is_staff")
        list_filter = ("is_staff", "is_active")
        search_fields = ("email",)
        ordering = ("email",)


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, SiteUserAdmin)

urlpatterns = [
    path("auth0/", include("djedge.urls")),
    # Django's password change and reset, with djedge's forms.
    path("accounts/", include("djedge.password_urls")),
    path("admin/", admin.site.urls),
    path("", lambda request: HttpResponse(f"hello {request.user.get_username()}")),
]

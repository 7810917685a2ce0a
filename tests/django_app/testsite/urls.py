from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path

urlpatterns = [
    path("auth0/", include("djedge.urls")),
    path("admin/", admin.site.urls),
    path("", lambda request: HttpResponse(f"hello {request.user.get_username()}")),
]

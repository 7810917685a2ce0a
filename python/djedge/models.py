from django.conf import settings
from django.db import models


class Auth0Link(models.Model):
    """An Auth0 user who is not one of the migrated Django users (a sign-up,
    a social login), and the Django user they log in as. Made only by
    ``Auth0Backend`` when ``DJEDGE_CREATE_USERS`` is on; never from an email
    match."""

    sub = models.CharField(max_length=255, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="auth0_links")
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.sub

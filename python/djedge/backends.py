"""``Auth0Backend``: the Auth0 user an ID token names, as a Django user.

- ``sub`` ``auth0|django_<pk>`` (the id djedge gives every migrated user,
  lazily or in bulk) is the Django user of that primary key, integer or
  UUID, if they still exist and are active;
- any other ``sub`` (a sign-up, a social connection) is the Django user an
  ``Auth0Link`` names; with ``DJEDGE_CREATE_USERS = True`` a new Django
  user is made and linked the first time. An email alone never links an
  existing account: an unverified email, or one from another connection,
  would otherwise take it over;
- staff and superuser rights are the Django database's, never a claim's.

While ``ModelBackend`` stays in ``AUTHENTICATION_BACKENDS``, a Django
password is a way in around Auth0's policies and MFA. Two steps close it:

- ``DJEDGE_RETIRE_LOCAL_PASSWORDS = True`` closes it person by person: once
  someone logs in through Auth0, their Django password is made unusable
  (``retire_local_password``; nothing is written when it already is), and
  their other Django sessions end with it. Django's own password reset and
  change forms would give them a usable local password again; djedge's
  (``djedge.forms``, ``djedge.password_urls``, ``djedge.admin``) set the
  new password in Auth0 and keep the Django one unusable.
- Drop ``ModelBackend`` altogether once ``manage.py djedge_progress`` shows
  that everyone who still logs in is in Auth0, and at the latest when the
  migration is finished (``manage.py djedge_finish``).
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import BaseBackend
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from .conf import djedge_settings
from .models import Auth0Link

MIGRATED_PREFIX = "auth0|django_"


def migrated_pk(sub: str):
    """The Django primary key in a migrated user's ``sub``, or None. Only the
    form djedge writes (``str(pk)``) counts: ``django_012`` is not user 12."""
    if not sub.startswith(MIGRATED_PREFIX):
        return None
    text = sub[len(MIGRATED_PREFIX):]
    try:
        pk = get_user_model()._meta.pk.to_python(text)
    except (ValidationError, ValueError, TypeError):
        return None
    return pk if pk is not None and str(pk) == text else None


class Auth0Backend(BaseBackend):
    def authenticate(self, request, auth0_claims=None, **credentials):
        if not auth0_claims:
            return None
        sub = str(auth0_claims.get("sub") or "")
        if not sub:
            return None
        model = get_user_model()
        pk = migrated_pk(sub)
        if pk is not None:
            user = model._default_manager.filter(pk=pk).first()
        elif sub.startswith(MIGRATED_PREFIX):
            user = None
        else:
            link = Auth0Link.objects.select_related("user").filter(sub=sub).first()
            user = link.user if link else self.create_linked_user(sub, auth0_claims)
        if user is None or not self.user_can_authenticate(user):
            return None
        if djedge_settings().retire_local_passwords:
            self.retire_local_password(user)
        return user

    def retire_local_password(self, user):
        """Makes the Django password of ``user``, who has just logged in
        through Auth0, unusable (``DJEDGE_RETIRE_LOCAL_PASSWORDS``), so
        ``ModelBackend`` no longer lets them in around Auth0. Writes the
        password field alone, and only when it is still usable."""
        if user.has_usable_password():
            user.set_unusable_password()
            user.save(update_fields=["password"])

    def create_linked_user(self, sub, claims):
        """A new Django user for an Auth0 user djedge did not migrate, if the
        site allows it (``DJEDGE_CREATE_USERS``): never staff, no usable
        password, linked by ``sub`` alone."""
        if not djedge_settings().create_users:
            return None
        model = get_user_model()
        fields = {model.USERNAME_FIELD: sub[:150]}
        email_field = model.get_email_field_name()
        if claims.get("email_verified") is True and email_field != model.USERNAME_FIELD:
            fields[email_field] = str(claims.get("email") or "")
        try:
            with transaction.atomic():
                user = model._default_manager.create_user(**fields)
                user.set_unusable_password()
                user.save(update_fields=["password"])
                Auth0Link.objects.create(sub=sub, user=user)
        except IntegrityError:
            # The same sub arrived twice at once, or the username is taken:
            # a link made meanwhile wins, otherwise nobody gets in.
            link = Auth0Link.objects.select_related("user").filter(sub=sub).first()
            return link.user if link else None
        return user

    def user_can_authenticate(self, user):
        return getattr(user, "is_active", True)

    def get_user(self, user_id):
        user = get_user_model()._default_manager.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

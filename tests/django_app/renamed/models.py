"""A custom user model that renames every column djedge reads, password
and last_login included, with a UUID primary key and email as username."""

import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone


class RenamedUserManager(BaseUserManager):
    def create_user(self, email, password=None, **fields):
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user


class RenamedUser(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, db_column="person_uuid")
    email = models.EmailField(unique=True, db_column="mail")
    password = models.CharField(max_length=128, db_column="secret")
    last_login = models.DateTimeField(null=True, blank=True, db_column="seen_at")
    given = models.CharField(max_length=150, blank=True, db_column="given")
    is_active = models.BooleanField(default=True, db_column="active")
    is_staff = models.BooleanField(default=False, db_column="staff")
    date_joined = models.DateTimeField(default=timezone.now, db_column="joined_at")

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    objects = RenamedUserManager()

    class Meta:
        db_table = "people"

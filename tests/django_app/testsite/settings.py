"""A Django site for the djedge app's tests, run from the installed wheel
(scripts/test_django.sh). DJEDGE_TEST_USER_MODEL picks Django's own user
model or one that renames every column and has a UUID key; DJEDGE_TENANT is
the local Auth0 tenant's state file (tests/auth0/tenant.mjs)."""

import json
import os

BASE = os.path.dirname(os.path.abspath(__file__))
TENANT = json.load(open(os.environ["DJEDGE_TENANT"]))

SECRET_KEY = "djedge-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
INSTALLED_APPS = [
    # The admin, its own "Change password" page with djedge's form.
    "djedge.admin_config.Auth0AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # The admin's styles, for the browser test's screenshots (runserver --insecure).
    "django.contrib.staticfiles",
    "djedge",
]
STATIC_URL = "static/"
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "testsite.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
# The exporter reads the database from another process: a file, not memory.
DATABASES = {"default": {
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": os.path.join(os.environ["DJEDGE_TEST_DIR"], "site.sqlite3"),
    "TEST": {"NAME": os.path.join(os.environ["DJEDGE_TEST_DIR"], "test-site.sqlite3")},
}}
if os.environ.get("DJEDGE_TEST_DATABASE") == "postgres":
    # The private PostgreSQL scripts/postgres.sh starts (scripts/test.sh has).
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.postgresql", "NAME": "djedge_django", "USER": "djedge",
        "PASSWORD": "djedge", "HOST": "127.0.0.1", "PORT": "54329", "TEST": {"NAME": "djedge_django_test"},
    }
AUTH_USER_MODEL = os.environ.get("DJEDGE_TEST_USER_MODEL", "auth.User")
if AUTH_USER_MODEL == "renamed.RenamedUser":
    INSTALLED_APPS.append("renamed")
AUTHENTICATION_BACKENDS = ["djedge.backends.Auth0Backend"]
DJEDGE_AUTH0_DOMAIN = TENANT["url"]
DJEDGE_AUTH0_CLIENT_ID = TENANT["apps"]["django"]["client_id"]
DJEDGE_AUTH0_CLIENT_SECRET = TENANT["apps"]["django"]["client_secret"]
DJEDGE_ADMIN_LOGIN = True
# The Management API application the password forms use (read:users, update:users).
DJEDGE_AUTH0_MANAGEMENT_CLIENT_ID = TENANT["apps"]["passwords"]["client_id"]
DJEDGE_AUTH0_MANAGEMENT_CLIENT_SECRET = TENANT["apps"]["passwords"]["client_secret"]
LOGIN_REDIRECT_URL = "/"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
if os.environ.get("DJEDGE_TEST_BROKEN_DATABASE"):
    DATABASES["broken"] = {
        "ENGINE": "django.db.backends.postgresql", "NAME": "db", "USER": "u",
        "PASSWORD": "s3cr€t:/@?#%", "HOST": "127.0.0.1", "PORT": "1",
    }

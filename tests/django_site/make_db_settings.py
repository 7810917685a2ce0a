"""Django settings for the test and benchmark databases, from a URL."""

import os
import sys
import tempfile
from urllib.parse import unquote, urlparse

HASHERS = ["django.contrib.auth.hashers." + h for h in (
    "PBKDF2PasswordHasher", "PBKDF2SHA1PasswordHasher", "Argon2PasswordHasher",
    "BCryptSHA256PasswordHasher", "BCryptPasswordHasher", "ScryptPasswordHasher", "MD5PasswordHasher")]


def database_settings(url):
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite://"):]
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path}
    engine = {"postgres": "postgresql", "postgresql": "postgresql", "mysql": "mysql"}[parsed.scheme]
    options = {}
    if engine == "mysql":
        # PyMySQL stands in for mysqlclient (no C build); utf8mb4 for the
        # emoji and CJK usernames and passwords.
        import pymysql

        pymysql.install_as_MySQLdb()
        options = {"charset": "utf8mb4"}
    return {
        "OPTIONS": options,
        "ENGINE": "django.db.backends." + engine, "NAME": parsed.path.lstrip("/"),
        "USER": unquote(parsed.username or ""), "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "", "PORT": str(parsed.port or ""),
    }


def configure(url, custom):
    """Configures Django for `url`; with `custom`, the email-as-username model.

    The custom app gets real migrations, made now into a throwaway package, so
    Django creates its tables after auth's (PostgreSQL checks the foreign keys).
    """
    import django
    from django.conf import settings
    from django.core.management import call_command

    migrations_dir = tempfile.mkdtemp()
    os.makedirs(os.path.join(migrations_dir, "customuser_migrations"))
    open(os.path.join(migrations_dir, "customuser_migrations", "__init__.py"), "w").close()
    sys.path.insert(0, migrations_dir)
    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"] + (["customuser"] if custom else []),
        DATABASES={"default": database_settings(url)},
        AUTH_USER_MODEL="customuser.EmailUser" if custom else "auth.User",
        MIGRATION_MODULES={"customuser": "customuser_migrations"},
        PASSWORD_HASHERS=HASHERS,
        USE_TZ=True,
    )
    django.setup()
    if custom:
        call_command("makemigrations", "customuser", verbosity=0)

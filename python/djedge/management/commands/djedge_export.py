"""``manage.py djedge_export --out DIR [--previous DIR] [--database ALIAS]``:
``djedge export`` with the connection from ``settings.DATABASES`` and every
table and column from ``AUTH_USER_MODEL``'s metadata. The database URL,
password and all, goes to the binary in its environment (``DJEDGE_DATABASE``),
never on a command line or in a message."""

import os
import subprocess
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.core.management.base import BaseCommand, CommandError

from djedge.binary import djedge_binary


def database_url(database: dict) -> str:
    """A URL the exporter takes (SQLite, PostgreSQL, MySQL/MariaDB) for one
    entry of ``settings.DATABASES``: every part percent-encoded, so a
    password with any characters survives."""
    engine = database.get("ENGINE", "")
    name = str(database.get("NAME") or "")
    if engine.endswith("sqlite3"):
        if not name or name == ":memory:" or name.startswith("file:"):
            raise CommandError(f"the SQLite database {name!r} is not a file djedge can read")
        return "sqlite://" + os.path.abspath(name)
    if "postgresql" in engine or "postgis" in engine:
        scheme = "postgres"
    elif "mysql" in engine:
        scheme = "mysql"
    else:
        raise CommandError(f"djedge exports from SQLite, PostgreSQL and MySQL/MariaDB, not {engine}")
    user = quote(str(database.get("USER") or ""), safe="")
    password = quote(str(database.get("PASSWORD") or ""), safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = str(database.get("HOST") or "localhost")
    query = {}
    if host.startswith("/"):
        # A Unix socket directory: the URL's host is then a query parameter.
        query["host" if scheme == "postgres" else "socket"] = host
        host = "localhost"
    port = f":{database['PORT']}" if database.get("PORT") else ""
    options = database.get("OPTIONS") or {}
    if scheme == "postgres" and options.get("sslmode"):
        query["sslmode"] = options["sslmode"]
    if scheme == "mysql" and options.get("ssl_mode"):
        query["ssl-mode"] = options["ssl_mode"]
    suffix = f"?{urlencode(query)}" if query else ""
    return f"{scheme}://{credentials}{quote(host, safe='[]:')}{port}/{quote(name, safe='')}{suffix}"


def column(model, name, required=False):
    """The column of field ``name``, or "" when the model has none (the
    exporter then treats it as absent, never guesses)."""
    try:
        return model._meta.get_field(name).column
    except FieldDoesNotExist:
        if required:
            raise CommandError(f"{model._meta.label} has no {name} field, which djedge needs") from None
        return ""


def export_arguments(model) -> list:
    """``djedge export``'s table and column options for a user model."""
    meta = model._meta
    arguments = [
        "--table", meta.db_table,
        "--id-column", meta.pk.column,
        "--username-column", column(model, model.USERNAME_FIELD, required=True),
        "--email-column", column(model, model.get_email_field_name(), required=True),
        "--password-column", column(model, "password", required=True),
        "--last-login-column", column(model, "last_login"),
        "--date-joined-column", column(model, "date_joined", required=True),
    ]
    for field in ("first_name", "last_name", "is_active", "is_staff", "is_superuser"):
        arguments += [f"--{field.replace('_', '-')}-column", column(model, field)]
    try:
        groups = meta.get_field("groups")
    except FieldDoesNotExist:
        groups = None
    if groups is not None and groups.many_to_many and groups.related_model._meta.db_table == "auth_group":
        through = groups.remote_field.through._meta
        arguments += ["--groups-table", through.db_table, "--groups-user-column", groups.m2m_column_name()]
    else:
        arguments += ["--groups-table", ""]
    # django-allauth records which addresses were verified: read where the
    # site runs it, never a table left behind by an app it no longer has.
    from django.apps import apps

    if apps.is_installed("allauth.account"):
        from allauth.account.models import EmailAddress

        arguments += ["--email-addresses-table", EmailAddress._meta.db_table]
    else:
        arguments += ["--email-addresses-table", ""]
    return arguments


class Command(BaseCommand):
    help = "Export the users of AUTH_USER_MODEL into a djedge snapshot (djedge export, from the site's settings)."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="a new or empty directory for the snapshot")
        parser.add_argument("--previous", help="the previous snapshot: write only what changed since it")
        parser.add_argument("--database", default="default", help="the DATABASES alias to read (default: default)")

    def handle(self, *args, out, previous, database, **options):
        if database not in settings.DATABASES:
            raise CommandError(f"no database {database!r} in settings.DATABASES")
        command = [djedge_binary(), "export", "--out", out, *export_arguments(get_user_model())]
        if previous:
            command += ["--previous", previous]
        environment = {**os.environ, "DJEDGE_DATABASE": database_url(settings.DATABASES[database])}
        # The binary prints its report and progress as it always does.
        self.stdout.flush()
        finished = subprocess.run(command, env=environment, check=False)
        if finished.returncode != 0:
            raise CommandError(f"djedge export failed (exit {finished.returncode}); its message is above")

"""What the ``djedge_*`` management commands share: running the ``djedge``
binary on the site's own database. The database URL, password and all,
goes to the binary in its environment (``DJEDGE_DATABASE``), never on a
command line or in a message; the user table and its columns come from
``AUTH_USER_MODEL``'s metadata; a failure is one ``CommandError``. The
Auth0 commands take the tenant from ``DJEDGE_AUTH0_DOMAIN`` and the
Management API application's credentials from the environment
(``AUTH0_CLIENT_ID``, ``AUTH0_CLIENT_SECRET``), never from settings: they
are not the site's login application."""

import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from typing import NamedTuple
from urllib.parse import quote, urlencode

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.core.management.base import CommandError

from djedge.binary import djedge_binary
from djedge.conf import MANAGEMENT_CREDENTIALS, djedge_settings


class Option(NamedTuple):
    """An option a management command hands to the binary as it is; the
    binary's default applies when it is not given."""

    flag: str
    type: type  # str, int, or bool for a flag without a value
    help: str

    @property
    def dest(self) -> str:
        return self.flag[2:].replace("-", "_")


# `djedge export`'s (and `djedge sync`'s) options that are not the model's.
SOURCE_OPTIONS = (
    Option("--max-deletes", int, "the most keys a delta may delete"),
    Option("--max-pbkdf2-iterations", int, "largest PBKDF2 iteration count to compute"),
    Option("--max-bcrypt-cost", int, "largest bcrypt cost (log2 rounds) to compute"),
    Option("--max-scrypt-memory-bytes", int, "largest scrypt memory, in bytes, as OpenSSL counts it"),
    Option("--max-scrypt-work", int, "largest scrypt N * r * p"),
    Option("--max-argon2-memory-kib", int, "largest argon2 memory (m), in KiB"),
    Option("--max-argon2-passes", int, "largest argon2 passes (t)"),
)


# `djedge progress`'s options besides --snapshot, --json and --html
# (djedge_progress and djedge_migrated).
PROGRESS_OPTIONS = (
    Option("--migrations", str, "migration records, JSON lines of {\"id\", \"at\"} (djedge migrations)"),
    Option("--auth0-users", str, "Auth0's users (djedge auth0 users): \"migrated\" then means \"in Auth0\""),
    Option("--now", str, "count last-login ages from this time (RFC 3339) instead of now"),
)


def add_options(parser, options):
    for option in options:
        if option.type is bool:
            parser.add_argument(option.flag, action="store_true", help=option.help)
        else:
            parser.add_argument(option.flag, type=option.type, help=option.help)


def option_arguments(options, values) -> list:
    """The command line for the ``options`` given in ``values`` (a command's
    parsed options, by dest)."""
    arguments = []
    for option in options:
        value = values.get(option.dest)
        if option.type is bool:
            arguments += [option.flag] if value else []
        elif value is not None:
            arguments += [option.flag, str(value)]
    return arguments


def run_djedge(subcommand, arguments, *, database=None, stdout=None) -> str | None:
    """Runs ``djedge SUBCOMMAND ARGUMENTS`` (``SUBCOMMAND`` may be two
    words: ``"auth0 setup"``) (with the ``DATABASES`` alias
    ``database`` in its environment, when given); its messages go to
    stderr as it writes them. ``stdout`` is ``subprocess.run``'s: None
    (through), PIPE (returned) or DEVNULL."""
    environment = dict(os.environ)
    if database is not None:
        if database not in settings.DATABASES:
            raise CommandError(f"There is no database {database!r} in settings.DATABASES.")
        environment["DJEDGE_DATABASE"] = database_url(settings.DATABASES[database])
    try:
        command = [djedge_binary(), *subcommand.split(), *arguments]
    except ImproperlyConfigured as e:
        raise CommandError(f"{e}.") from None
    # What this process printed comes before what the binary prints.
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        finished = subprocess.run(command, env=environment, stdout=stdout, text=True, check=False)
    except OSError as e:
        raise CommandError(f"djedge {subcommand} could not start ({command[0]}: {e.strerror}).") from None
    if finished.returncode != 0:
        raise CommandError(f"djedge {subcommand} failed with exit code {finished.returncode}; its message is above.")
    return finished.stdout


def add_snapshot_arguments(parser):
    """``--snapshot`` and ``--database``: what ``site_snapshot`` takes."""
    parser.add_argument("--snapshot", help="a full snapshot, instead of exporting the users now")
    parser.add_argument("--database", default="default", help="the DATABASES alias to read (default: default)")


@contextmanager
def site_snapshot(snapshot, database):
    """``snapshot`` when given; otherwise the site's users exported now (as
    ``djedge_export`` does) into a temporary directory, gone afterwards.
    The export's report stays off stdout, which is the command's own."""
    if snapshot is not None:
        yield snapshot
        return
    with tempfile.TemporaryDirectory(prefix="djedge-") as scratch:
        exported = os.path.join(scratch, "snapshot")
        run_djedge("export", ["--out", exported, *export_arguments()], database=database, stdout=subprocess.DEVNULL)
        yield exported


def auth0_tenant() -> str:
    """The tenant for ``djedge auth0 …``, from ``DJEDGE_AUTH0_DOMAIN``, once
    the Management API application's credentials are in the environment."""
    tenant = djedge_settings().tenant
    if tenant is None:
        raise CommandError("settings.DJEDGE_AUTH0_DOMAIN must name the Auth0 tenant (manage.py check says what is wrong).")
    missing = [name for name in MANAGEMENT_CREDENTIALS if not os.environ.get(name)]
    if missing:
        raise CommandError(f"{' and '.join(missing)} must be set in the environment to the Management API "
                           f"application's credentials (not the site's login application).")
    return tenant


def identifiers_mode(usernames) -> bool:
    """``--usernames`` when given, else ``DJEDGE_IDENTIFIERS == "username"``."""
    if usernames is not None:
        return usernames
    mode = djedge_settings().identifiers
    if mode is None:
        raise CommandError("settings.DJEDGE_IDENTIFIERS must be 'email' or 'username' (djedge.E007).")
    return mode == "username"


def database_url(database: dict) -> str:
    """A URL the exporter takes (SQLite, PostgreSQL, MySQL/MariaDB) for one
    entry of ``settings.DATABASES``: every part percent-encoded, so a
    password with any characters survives."""
    engine = database.get("ENGINE", "")
    name = str(database.get("NAME") or "")
    if engine.endswith("sqlite3"):
        if not name or name == ":memory:" or name.startswith("file:"):
            raise CommandError(f"The SQLite database {name!r} is not a file djedge can read.")
        return "sqlite://" + os.path.abspath(name)
    if "postgresql" in engine or "postgis" in engine:
        scheme = "postgres"
    elif "mysql" in engine:
        scheme = "mysql"
    else:
        raise CommandError(f"djedge exports from SQLite, PostgreSQL and MySQL/MariaDB, not {engine}.")
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


def export_arguments() -> list:
    """``djedge export``'s table and column options for ``AUTH_USER_MODEL``."""
    model = get_user_model()
    meta = model._meta
    arguments = [
        "--table", meta.db_table,
        "--id-column", meta.pk.column,
        "--username-column", _column(model, model.USERNAME_FIELD, required=True),
        "--email-column", _column(model, model.get_email_field_name(), required=True),
        "--password-column", _column(model, "password", required=True),
        "--last-login-column", _column(model, "last_login"),
        "--date-joined-column", _column(model, "date_joined", required=True),
    ]
    for field in ("first_name", "last_name", "is_active", "is_staff", "is_superuser"):
        arguments += [f"--{field.replace('_', '-')}-column", _column(model, field)]
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
    if apps.is_installed("allauth.account"):
        from allauth.account.models import EmailAddress

        arguments += ["--email-addresses-table", EmailAddress._meta.db_table]
    else:
        arguments += ["--email-addresses-table", ""]
    return arguments


def _column(model, name, required=False):
    """The column of field ``name``, or "" when the model has none (the
    exporter then treats it as absent, never guesses)."""
    try:
        return model._meta.get_field(name).column
    except FieldDoesNotExist:
        if required:
            raise CommandError(f"{model._meta.label} has no {name} field, which djedge needs.") from None
        return ""

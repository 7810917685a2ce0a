"""djedge's settings, read from ``django.conf.settings`` here and nowhere
else. ``djedge_settings()`` gives them parsed, with what is wrong with them
as system-check messages (reported by ``checks.py``: ``manage.py check``).
It is built afresh on each call (a few attribute reads), so
``override_settings`` needs no cache cleared.

- ``DJEDGE_AUTH0_DOMAIN``: the tenant, a host (``example.eu.auth0.com``, a
  custom domain) or an ``http(s)://`` URL (a local tenant, for tests);
  nothing else. Its base URL and issuer are derived here, once.
- ``DJEDGE_AUTH0_CLIENT_ID``, ``DJEDGE_AUTH0_CLIENT_SECRET``: the site's
  Regular Web Application. These three are needed when the site logs in
  through Auth0 (``checks.py`` says when); a site that only exports needs
  none of them.
- ``DJEDGE_ADMIN_LOGIN``, ``DJEDGE_CREATE_USERS``: ``True`` or ``False``
  (default). A value that is neither takes the safer meaning until fixed:
  the admin's password form stays off, no account is created.
- ``DJEDGE_RETIRE_LOCAL_PASSWORDS``: ``True`` or ``False`` (default). On,
  a user's Django password is made unusable once they log in through
  Auth0 (``Auth0Backend.retire_local_password``). A value that is neither
  retires nothing until fixed: a hash is never thrown away on a typo.
- ``DJEDGE_IDENTIFIERS``: ``"email"`` (default) or ``"username"``.
- ``DJEDGE_AUTH0_MANAGEMENT_CLIENT_ID``, ``DJEDGE_AUTH0_MANAGEMENT_CLIENT_SECRET``:
  the Management API application the password forms use (read by
  ``auth0_users.py``; the environment's ``AUTH0_CLIENT_ID`` and
  ``AUTH0_CLIENT_SECRET`` otherwise).
- ``DJEDGE_BINARY``: the ``djedge`` binary, instead of the wheel's.
- ``DJEDGE_CLOUDFLARE_ACCOUNT_ID``, ``DJEDGE_AUTH0_CONNECTION``,
  ``DJEDGE_STATE_DIR``: where ``manage.py djedge_deploy`` puts the Worker,
  the Auth0 database connection it sets up, and where it and
  ``djedge_sync`` keep their snapshots and state. Each is a flag's default;
  the command names the one it misses.
"""

import os
import re
from dataclasses import dataclass

from django.conf import settings
from django.core import checks

DOMAIN_MISSING = "djedge.E001"
DOMAIN_MALFORMED = "djedge.E002"
CLIENT_ID_MISSING = "djedge.E003"
CLIENT_SECRET_MISSING = "djedge.E004"
ADMIN_LOGIN_NOT_BOOLEAN = "djedge.E005"
CREATE_USERS_NOT_BOOLEAN = "djedge.E006"
IDENTIFIERS_UNKNOWN = "djedge.E007"
# djedge.E008 is checks.py's (how the site wires djedge in).
RETIRE_LOCAL_PASSWORDS_NOT_BOOLEAN = "djedge.E009"
BINARY_NOT_EXECUTABLE = "djedge.W001"
# Reported only when the site logs in through Auth0.
MISSING_FOR_LOGIN = frozenset({DOMAIN_MISSING, CLIENT_ID_MISSING, CLIENT_SECRET_MISSING})
# The Management API application's credentials in the environment (the
# names `djedge auth0 …` reads): the djedge_setup and djedge_finish
# commands take them there; the password forms there too, unless settings
# name them (auth0_users.py).
MANAGEMENT_CREDENTIALS = ("AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET")

# A host name or a bracketed IPv6 address, perhaps a port, perhaps an
# http(s):// scheme before and a slash after: nothing else.
_DOMAIN = re.compile(
    r"(?:(?P<scheme>https?)://)?(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{1,5}))?/?"
)


@dataclass(frozen=True)
class Auth0App:
    """The site's Regular Web Application at its tenant: all login needs."""

    base_url: str  # https://example.eu.auth0.com, no trailing slash
    client_id: str
    client_secret: str

    @property
    def issuer(self) -> str:
        """The ID tokens' ``iss``: the base URL with a trailing slash."""
        return f"{self.base_url}/"


@dataclass(frozen=True)
class DjedgeSettings:
    tenant: str | None  # DJEDGE_AUTH0_DOMAIN's base URL; None when missing or malformed
    auth0: Auth0App | None  # None while a setting login needs is missing or malformed
    admin_login: bool
    create_users: bool
    retire_local_passwords: bool
    identifiers: str | None  # None when malformed
    binary: str | None
    cloudflare_account_id: str | None
    auth0_connection: str | None
    state_dir: str | None
    problems: tuple  # of django.core.checks.CheckMessage


def tenant_base(domain: str) -> str:
    """``https://<host>`` for a host, the URL without its trailing slash for
    an ``http(s)://`` URL; ValueError for anything else (a path, a query,
    spaces, credentials, a port that is not one)."""
    match = _DOMAIN.fullmatch(domain)
    if match is None or int(match["port"] or 0) > 65535:
        raise ValueError(f"not a host or an http(s):// URL: {domain!r}")
    port = f":{match['port']}" if match["port"] else ""
    return f"{match['scheme'] or 'https'}://{match['host']}{port}"


def djedge_settings() -> DjedgeSettings:
    problems = []
    tenant = _tenant_base_url(problems)
    return DjedgeSettings(
        tenant=tenant,
        auth0=_auth0_app(tenant, problems),
        admin_login=_boolean("DJEDGE_ADMIN_LOGIN", ADMIN_LOGIN_NOT_BOOLEAN, problems, if_not=True,
                             hint="Until it is, /admin/login/ goes through Auth0, as with True."),
        create_users=_boolean("DJEDGE_CREATE_USERS", CREATE_USERS_NOT_BOOLEAN, problems, if_not=False,
                              hint="Until it is, no account is made for an Auth0 user djedge did not migrate."),
        retire_local_passwords=_boolean(
            "DJEDGE_RETIRE_LOCAL_PASSWORDS", RETIRE_LOCAL_PASSWORDS_NOT_BOOLEAN, problems, if_not=False,
            hint="Until it is, no Django password is made unusable."),
        identifiers=_identifiers(problems),
        binary=_binary(problems),
        cloudflare_account_id=_optional_text("DJEDGE_CLOUDFLARE_ACCOUNT_ID"),
        auth0_connection=_optional_text("DJEDGE_AUTH0_CONNECTION"),
        state_dir=_optional_text("DJEDGE_STATE_DIR"),
        problems=tuple(problems),
    )


def _auth0_app(base_url, problems) -> Auth0App | None:
    client_id = _text("DJEDGE_AUTH0_CLIENT_ID", CLIENT_ID_MISSING, "Client ID", problems)
    client_secret = _text("DJEDGE_AUTH0_CLIENT_SECRET", CLIENT_SECRET_MISSING, "Client Secret", problems)
    if base_url is None or client_id is None or client_secret is None:
        return None
    return Auth0App(base_url, client_id, client_secret)


def _tenant_base_url(problems) -> str | None:
    domain = getattr(settings, "DJEDGE_AUTH0_DOMAIN", None)
    if domain is None or domain == "":
        problems.append(checks.Error(
            "DJEDGE_AUTH0_DOMAIN is not set, and logging in through Auth0 needs it.",
            hint="Set it to the tenant's domain, e.g. DJEDGE_AUTH0_DOMAIN = 'example.eu.auth0.com'.",
            id=DOMAIN_MISSING))
        return None
    if isinstance(domain, str):
        try:
            return tenant_base(domain)
        except ValueError:
            pass
    problems.append(checks.Error(
        f"DJEDGE_AUTH0_DOMAIN {domain!r} is neither a host nor an http(s):// URL.",
        hint="Give the tenant's host ('example.eu.auth0.com', or a custom domain) or its URL "
             "('https://example.eu.auth0.com'): no path, query or spaces.",
        id=DOMAIN_MALFORMED))
    return None


def _text(name, check_id, label, problems) -> str | None:
    value = getattr(settings, name, None)
    if isinstance(value, str) and value:
        return value
    # The value is never quoted: it may be the secret.
    problems.append(checks.Error(
        f"{name} is not set, and logging in through Auth0 needs it." if value is None or value == ""
        else f"{name} must be a string, not {type(value).__name__}.",
        hint=f"Set it to the {label} of the site's Regular Web Application in Auth0 (the application's Settings).",
        id=check_id))
    return None


def _optional_text(name) -> str | None:
    value = getattr(settings, name, None)
    return os.fspath(value) if isinstance(value, (str, os.PathLike)) and value else None


def _boolean(name, check_id, problems, *, if_not, hint) -> bool:
    value = getattr(settings, name, False)
    if isinstance(value, bool):
        return value
    problems.append(checks.Error(f"{name} must be True or False, not {value!r}.", hint=hint, id=check_id))
    return if_not


def _identifiers(problems) -> str | None:
    value = getattr(settings, "DJEDGE_IDENTIFIERS", "email")
    if value in ("email", "username"):
        return value
    problems.append(checks.Error(
        f"DJEDGE_IDENTIFIERS must be 'email' or 'username', not {value!r}.",
        hint="Say how the Auth0 connection identifies people: 'email' (the default), or 'username' "
             "(as djedge auth0 setup --usernames sets it up).",
        id=IDENTIFIERS_UNKNOWN))
    return None


def _binary(problems) -> str | None:
    value = getattr(settings, "DJEDGE_BINARY", None) or None
    path = os.fspath(value) if isinstance(value, (str, os.PathLike)) else None
    if value is not None and not (path and os.path.isfile(path) and os.access(path, os.X_OK)):
        problems.append(checks.Warning(
            f"DJEDGE_BINARY {value!r} is not an executable file.",
            hint="Point it at the djedge binary, or remove it to use the one the djedge wheel installed.",
            id=BINARY_NOT_EXECUTABLE))
    return path

"""The site's users in Auth0, through the Management API: whether a Django
user is there, and their password set there (``djedge.forms``).

The Management API application is not the site's login application: its
credentials are ``DJEDGE_AUTH0_MANAGEMENT_CLIENT_ID`` and
``DJEDGE_AUTH0_MANAGEMENT_CLIENT_SECRET`` in settings, else
``AUTH0_CLIENT_ID`` and ``AUTH0_CLIENT_SECRET`` in the environment (the
names ``manage.py djedge_setup`` reads). It needs the scopes ``read:users``
(is this person in Auth0?) and ``update:users`` (their new password). Its
token (client-credentials grant, by Authlib) is kept per process until a
minute before it expires.

"In Auth0" is what Auth0 says, asked each time: the user ``auth0|django_<pk>``
(every user djedge migrates, lazily or in bulk, has that id), or the Auth0
database user an ``Auth0Link`` names (a sign-up). Nothing the site recorded
would be as sure: the bulk import and the edge put people in Auth0 without
the site hearing of it.

A failure is an ``Auth0Error``: what the person may read (``public``) and
what the log gets (``str``); neither ever holds a password, secret or token."""

import logging
import os
import threading
from dataclasses import dataclass
from urllib.parse import quote

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings

from .backends import MIGRATED_PREFIX
from .conf import MANAGEMENT_CREDENTIALS, djedge_settings

logger = logging.getLogger(__name__)
TIMEOUT_SECONDS = 10
# Settings that name the Management API application, before the environment.
MANAGEMENT_SETTINGS = ("DJEDGE_AUTH0_MANAGEMENT_CLIENT_ID", "DJEDGE_AUTH0_MANAGEMENT_CLIENT_SECRET")
UNAVAILABLE = "The password could not be changed right now, and nothing was changed. Please try again later."


class Auth0Error(Exception):
    """The Management API could not do what was asked: ``public`` for the
    person, ``str(error)`` for the log."""

    def __init__(self, detail, public=UNAVAILABLE):
        super().__init__(detail)
        self.public = public


@dataclass(frozen=True)
class ManagementApp:
    base_url: str
    client_id: str
    client_secret: str

    @property
    def audience(self) -> str:
        return f"{self.base_url}/api/v2/"


@dataclass(frozen=True)
class Auth0User:
    """A database user in Auth0: its ``user_id`` and its connection."""

    user_id: str
    connection: str


def management_credentials() -> tuple | None:
    """The Management API application's client id and secret, from the
    settings or else the environment; None when neither has both."""
    from_settings = [getattr(settings, name, None) for name in MANAGEMENT_SETTINGS]
    client_id, secret = from_settings if all(from_settings) else [os.environ.get(n) for n in MANAGEMENT_CREDENTIALS]
    if isinstance(client_id, str) and client_id and isinstance(secret, str) and secret:
        return client_id, secret
    return None


def management_app() -> ManagementApp:
    """The Management API application at the tenant."""
    tenant = djedge_settings().tenant
    if tenant is None:
        raise Auth0Error("DJEDGE_AUTH0_DOMAIN does not name the tenant (manage.py check says why)")
    credentials = management_credentials()
    if credentials is None:
        raise Auth0Error(f"the Management API application is not set: set {' and '.join(MANAGEMENT_SETTINGS)}, "
                         f"or {' and '.join(MANAGEMENT_CREDENTIALS)} in the environment (djedge.W004)")
    return ManagementApp(tenant, *credentials)


_tokens = {}  # ManagementApp → OAuth2Token
_tokens_lock = threading.Lock()


def _token(app: ManagementApp) -> str:
    with _tokens_lock:
        token = _tokens.get(app)
        if token is None or token.is_expired(leeway=60):
            try:
                with OAuth2Session(app.client_id, app.client_secret,
                                   token_endpoint_auth_method="client_secret_post") as session:
                    token = session.fetch_token(f"{app.base_url}/oauth/token", grant_type="client_credentials",
                                                audience=app.audience, timeout=TIMEOUT_SECONDS)
            except requests.RequestException as e:
                raise Auth0Error(f"the tenant {app.base_url} did not answer for a token ({type(e).__name__})") from None
            except (AuthlibBaseError, ValueError) as e:
                # The error code alone: the description is the tenant's to word.
                raise Auth0Error(f"the tenant refused the Management API application a token "
                                 f"({getattr(e, 'error', None) or type(e).__name__})") from None
            _tokens[app] = token
        return token["access_token"]


def _call(app, method, user_id, body=None) -> requests.Response:
    url = f"{app.base_url}/api/v2/users/{quote(user_id, safe='')}"
    try:
        response = requests.request(method, url, json=body, timeout=TIMEOUT_SECONDS,
                                    headers={"authorization": f"Bearer {_token(app)}"})
        if response.status_code == 401:
            # A kept token the tenant no longer takes (keys rotated, grant
            # changed): once more with a fresh one.
            with _tokens_lock:
                _tokens.pop(app, None)
            response = requests.request(method, url, json=body, timeout=TIMEOUT_SECONDS,
                                        headers={"authorization": f"Bearer {_token(app)}"})
        return response
    except requests.RequestException as e:
        raise Auth0Error(f"the Management API did not answer {method} /api/v2/users ({type(e).__name__})") from None


def _why(response) -> str:
    """Auth0's error code and message, as it words them (never the request's)."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    return f"{response.status_code} {body.get('errorCode') or body.get('error') or ''}: {body.get('message') or ''}"


def candidate_ids(user) -> list:
    """The Auth0 database users ``user`` may be: the id djedge gives every
    migrated user, and the ``auth0|`` subs an ``Auth0Link`` records."""
    linked = user.auth0_links.filter(sub__startswith="auth0|").values_list("sub", flat=True)
    return [f"{MIGRATED_PREFIX}{user.pk}", *linked]


def find_auth0_user(app, user) -> Auth0User | None:
    """The database user ``user`` is in Auth0, or None when Auth0 has none
    (404 for each candidate); any other answer is an ``Auth0Error``."""
    for user_id in candidate_ids(user):
        response = _call(app, "GET", user_id)
        if response.status_code == 404:
            continue
        if response.status_code != 200:
            raise Auth0Error(f"GET /api/v2/users/{user_id} answered {_why(response)}")
        identity = next((i for i in response.json().get("identities") or [] if i.get("provider") == "auth0"), None)
        # A social or enterprise user has no password for Auth0 to keep.
        return Auth0User(user_id, identity["connection"]) if identity else None
    return None


def set_auth0_password(user, password) -> Auth0User | None:
    """Sets ``password`` in Auth0 for ``user`` if Auth0 has them, and says
    who that was; None when it has not (nothing was written). Raises
    ``Auth0Error`` when it could not tell, or could not set it."""
    app = management_app()
    found = find_auth0_user(app, user)
    if found is None:
        return None
    response = _call(app, "PATCH", found.user_id, {"password": password, "connection": found.connection})
    if response.status_code == 200:
        return found
    why = _why(response)
    if response.status_code == 400:
        # Auth0's password policy (too weak, reused, …): the person can act on it.
        message = why.split(": ", 1)[1] or "Auth0 did not accept it."
        raise Auth0Error(f"PATCH /api/v2/users/{found.user_id} answered {why}",
                         public=f"Auth0 refused the new password: {message}")
    raise Auth0Error(f"PATCH /api/v2/users/{found.user_id} answered {why}")

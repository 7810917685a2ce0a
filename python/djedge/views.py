"""Login through Auth0 (OpenID Connect, authorization-code flow, by Authlib):
``djedge:login`` redirects to the tenant's ``/authorize`` with ``state`` and
``nonce``; ``djedge:callback`` exchanges the code and takes the ID token
only if its RS256 signature verifies under the tenant's keys and its
``iss``, ``aud``, ``exp`` and ``nonce`` hold, and ``state`` matches;
``djedge:logout`` ends the Django session, then Auth0's.

The tenant and the application come from ``conf.py``. While a setting login
needs is missing or malformed (``manage.py check`` names it), login answers
503 and logs why, never a 500; logout still ends the Django session."""

import base64
import json
import logging
from functools import wraps
from urllib.parse import urlencode

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.django_client import OAuth
from joserfc.errors import JoseError
from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME, authenticate
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, resolve_url
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from .checks import ADMIN_LOGIN_WITHOUT_URLS
from .conf import djedge_settings

NEXT_KEY = "djedge_next"
logger = logging.getLogger(__name__)
_clients = {}


def auth0(app):
    """The OIDC client of ``app`` (a ``conf.Auth0App``): its discovery
    document and keys are fetched once, then kept."""
    if app not in _clients:
        oauth = OAuth()
        oauth.register(
            "auth0",
            client_id=app.client_id,
            client_secret=app.client_secret,
            server_metadata_url=f"{app.base_url}/.well-known/openid-configuration",
            client_kwargs={"scope": "openid profile email"},
        )
        _clients[app] = oauth.auth0
    return _clients[app]


def _unavailable(why):
    logger.error("djedge: Auth0 login is unavailable: %s", why)
    return HttpResponse("Auth0 login is not set up on this site.", status=503, content_type="text/plain")


def _what_is_wrong(conf):
    return " ".join(m.msg for m in conf.problems if m.is_serious())


def needs_auth0(view):
    """Calls ``view(request, app)`` with the site's ``conf.Auth0App``, or
    answers 503 while the settings do not make one."""

    @wraps(view)
    def with_app(request, *args, **kwargs):
        conf = djedge_settings()
        if conf.auth0 is None:
            return _unavailable(_what_is_wrong(conf))
        return view(request, conf.auth0, *args, **kwargs)

    return with_app


def _safe_next(request, default):
    """The ``next`` parameter if it stays on this site, else ``default``."""
    candidate = request.GET.get(REDIRECT_FIELD_NAME, "")
    allowed = url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return candidate if candidate and allowed else default


@require_GET
@needs_auth0
def login(request, app):
    request.session[NEXT_KEY] = _safe_next(request, resolve_url(settings.LOGIN_REDIRECT_URL))
    try:
        return auth0(app).authorize_redirect(request, request.build_absolute_uri(reverse("djedge:callback")))
    except requests.RequestException as e:
        return _unavailable(f"the tenant {app.base_url} did not answer ({type(e).__name__}).")


def _refused(reason):
    return HttpResponseForbidden(f"Auth0 login refused: {reason}", content_type="text/plain")


@require_GET
@needs_auth0
def callback(request, app):
    try:
        token = auth0(app).authorize_access_token(request)
    except requests.RequestException as e:
        # No answer is not a refusal: nobody is told no because Auth0 was down.
        return _unavailable(f"the tenant {app.base_url} did not answer ({type(e).__name__}).")
    except (AuthlibBaseError, JoseError, ValueError, KeyError) as e:
        # A bad state, code, signature, audience, nonce or an expired token.
        return _refused(type(e).__name__)
    claims = token.get("userinfo")
    if not claims or claims.get("iss") != app.issuer or _algorithm(token.get("id_token")) != "RS256":
        # Only the tenant's keys: an HS256 token (keyed with the client
        # secret) is refused even where the tenant's metadata offers it.
        return _refused("the ID token is not signed with the tenant's keys")
    user = authenticate(request, auth0_claims=dict(claims))
    if user is None:
        return _refused("no active account for this Auth0 user")
    next_url = request.session.pop(NEXT_KEY, None) or resolve_url(settings.LOGIN_REDIRECT_URL)
    auth_login(request, user)
    return redirect(next_url)


def _algorithm(id_token):
    try:
        header = id_token.split(".")[0]
        return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))).get("alg")
    except (AttributeError, ValueError, TypeError):
        return None


@require_POST
def logout(request):
    """Ends the Django session, then Auth0's (only the first while the
    settings do not name the tenant: nobody stays signed in to the site)."""
    auth_logout(request)
    return_to = request.build_absolute_uri(resolve_url(getattr(settings, "LOGOUT_REDIRECT_URL", None) or "/"))
    conf = djedge_settings()
    if conf.auth0 is None:
        logger.error("djedge: the Auth0 session is left on: %s", _what_is_wrong(conf))
        return redirect(return_to)
    query = urlencode({"client_id": conf.auth0.client_id, "returnTo": return_to})
    return redirect(f"{conf.auth0.base_url}/v2/logout?{query}")


def admin_login(request, extra_context=None):
    """The admin's login page when ``DJEDGE_ADMIN_LOGIN`` is on: staff are
    sent through Auth0, then to a safe ``next`` or the admin's index; a
    signed-in user who is not staff is refused here (sending them to Auth0
    again would loop)."""
    next_url = _safe_next(request, reverse("admin:index"))
    if request.user.is_authenticated:
        if request.user.is_active and request.user.is_staff:
            return redirect(next_url)
        return HttpResponseForbidden("This account cannot use the admin.", content_type="text/plain")
    try:
        login_url = reverse("djedge:login")
    except NoReverseMatch:
        return _unavailable(f"DJEDGE_ADMIN_LOGIN is on, but the djedge URLs are not included "
                            f"({ADMIN_LOGIN_WITHOUT_URLS}).")
    return redirect(f"{login_url}?{urlencode({REDIRECT_FIELD_NAME: next_url})}")

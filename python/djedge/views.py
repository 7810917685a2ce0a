"""Login through Auth0 (OpenID Connect, authorization-code flow, by Authlib):
``djedge:login`` redirects to the tenant's ``/authorize`` with ``state`` and
``nonce``; ``djedge:callback`` exchanges the code and takes the ID token
only if its RS256 signature verifies under the tenant's keys and its
``iss``, ``aud``, ``exp`` and ``nonce`` hold, and ``state`` matches;
``djedge:logout`` ends the Django session, then Auth0's.

Settings: ``DJEDGE_AUTH0_DOMAIN`` (a host; an ``http(s)://`` URL is taken as
the base, for local testing; the issuer is the base with a trailing
slash), ``DJEDGE_AUTH0_CLIENT_ID``, ``DJEDGE_AUTH0_CLIENT_SECRET``."""

import base64
import json
from urllib.parse import urlencode

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.django_client import OAuth
from joserfc.errors import JoseError
from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME, authenticate
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import HttpResponseForbidden
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

NEXT_KEY = "djedge_next"
_clients = {}


def tenant_base() -> str:
    domain = str(settings.DJEDGE_AUTH0_DOMAIN).strip().rstrip("/")
    return domain if domain.startswith(("https://", "http://")) else f"https://{domain}"


def auth0():
    """The tenant's OIDC client (its discovery document and keys are
    fetched once, then kept)."""
    key = (tenant_base(), settings.DJEDGE_AUTH0_CLIENT_ID)
    if key not in _clients:
        oauth = OAuth()
        oauth.register(
            "auth0",
            client_id=settings.DJEDGE_AUTH0_CLIENT_ID,
            client_secret=settings.DJEDGE_AUTH0_CLIENT_SECRET,
            server_metadata_url=f"{tenant_base()}/.well-known/openid-configuration",
            client_kwargs={"scope": "openid profile email"},
        )
        _clients[key] = oauth.auth0
    return _clients[key]


def _safe_next(request, candidate):
    allowed = url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return candidate if candidate and allowed else resolve_url(settings.LOGIN_REDIRECT_URL)


@require_GET
def login(request):
    request.session[NEXT_KEY] = _safe_next(request, request.GET.get(REDIRECT_FIELD_NAME, ""))
    return auth0().authorize_redirect(request, request.build_absolute_uri(reverse("djedge:callback")))


def _refused(reason):
    return HttpResponseForbidden(f"Auth0 login refused: {reason}", content_type="text/plain")


@require_GET
def callback(request):
    try:
        token = auth0().authorize_access_token(request)
    except (AuthlibBaseError, JoseError, requests.RequestException, ValueError, KeyError) as e:
        # A bad state, code, signature, audience, nonce or an expired token.
        return _refused(type(e).__name__)
    claims = token.get("userinfo")
    if not claims or claims.get("iss") != f"{tenant_base()}/" or _algorithm(token.get("id_token")) != "RS256":
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
    auth_logout(request)
    return_to = request.build_absolute_uri(resolve_url(getattr(settings, "LOGOUT_REDIRECT_URL", None) or "/"))
    query = urlencode({"client_id": settings.DJEDGE_AUTH0_CLIENT_ID, "returnTo": return_to})
    return redirect(f"{tenant_base()}/v2/logout?{query}")


def admin_login(request, extra_context=None):
    """The admin's login page when ``DJEDGE_ADMIN_LOGIN`` is on: staff are
    sent through Auth0; a signed-in user who is not staff is refused here
    (sending them to Auth0 again would loop)."""
    if request.user.is_authenticated:
        if request.user.is_active and request.user.is_staff:
            return redirect(_safe_next(request, request.GET.get(REDIRECT_FIELD_NAME, "")) or reverse("admin:index"))
        return HttpResponseForbidden("This account cannot use the admin.", content_type="text/plain")
    next_url = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index")
    return redirect(f"{reverse('djedge:login')}?{urlencode({REDIRECT_FIELD_NAME: next_url})}")

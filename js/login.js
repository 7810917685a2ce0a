/**
 * Auth0 custom database "Login" script for djedge.
 *
 * `djedge auth0 setup` deploys it (or paste it into Auth0 Dashboard >
 * Authentication > Database > (connection) > Custom Database > Login),
 * with "Import Users to Auth0" on. Settings (the connection's
 * configuration):
 *   DJEDGE_URL            the edge's URL, e.g. https://djedge.example.workers.dev
 *   DJEDGE_AUTH0_DOMAIN   the tenant's domain (or an http(s):// URL), and
 *   DJEDGE_AUDIENCE       the edge's API identifier, and
 *   DJEDGE_CLIENT_ID, DJEDGE_CLIENT_SECRET
 *                         a machine-to-machine app allowed to call it: the
 *                         script takes an access token by the
 *                         client-credentials grant and keeps it in `global`
 *                         until five minutes before it expires;
 *   DJEDGE_TOKEN          or instead the edge's static DJEDGE_API_TOKEN;
 *   DJEDGE_TIMEOUT_MS     optional, default 10000.
 *
 * A user Auth0 could not create as they are (no email of their own: the
 * edge says `ambiguous_email` or `cannot_land` once the password is right)
 * gets UnauthorizedError with a sentence saying so.
 *
 * Only a definite "wrong credentials" from the edge becomes
 * WrongUsernameOrPasswordError: an outage, a timeout, a refused token or a
 * 5xx is a plain Error, so nobody is told their password is wrong because
 * the edge was unreachable. The profile's app_metadata is handed to Auth0
 * as `metadata`, its name in custom database scripts.
 *
 * Self-contained, like get_user.js: Auth0 runs each script on its own, so
 * the request code (the "djedge client" block) is written out in both, and
 * a test keeps the two copies byte-equal.
 */
function login(userNameOrEmail, password, callback) {
  const endpoint = String(configuration.DJEDGE_URL || '').replace(/\/+$/, '') + '/v1/login';
  const timeoutMs = Number(configuration.DJEDGE_TIMEOUT_MS) || 10000;

  call({ username: userNameOrEmail, password: password }).then(function (reply) {
    answer(reply.status, reply.body);
  }, function (err) {
    callback(new Error('djedge: ' + ((err && err.message) || err)));
  });

  function answer(status, body) {
    const error = body && body.error;
    if (status === 200 && body) {
      const profile = Object.assign({}, body, { metadata: body.app_metadata });
      delete profile.app_metadata;
      return callback(null, profile);
    }
    if (status === 401 && error === 'wrong_credentials') {
      return callback(new WrongUsernameOrPasswordError(userNameOrEmail));
    }
    if (status === 403 && error === 'user_inactive') {
      return callback(new UnauthorizedError('This account is inactive.'));
    }
    // Right password, but Auth0 could not create this user as they are:
    // said plainly, not Auth0's "Something went wrong" (`djedge audit`
    // names these users in advance).
    if (status === 409 && error === 'ambiguous_email') {
      return callback(new UnauthorizedError('Several accounts use this email address: ask the site to give each its own.'));
    }
    if (status === 409 && error === 'cannot_land') {
      return callback(new UnauthorizedError('This account needs a valid email address of its own before it can move: ask the site to add one.'));
    }
    return callback(new Error('djedge: the edge answered ' + status + ' ' + error));
  }

  // --- the djedge client: byte-equal in login.js and get_user.js (tests/auth0/scripts.test.mjs) ---
  // POST the body to the endpoint; once more with a fresh token if the edge refuses a
  // cached one (the tenant rotated its keys, the edge's settings changed).
  function call(body) {
    return bearer(false).then(function (auth) {
      return post(body, auth).then(function (reply) {
        if (reply.status !== 401 || !reply.body || reply.body.error !== 'unauthorized' || !auth.cached) return reply;
        return bearer(true).then(function (fresh) { return post(body, fresh); });
      });
    });
  }

  function post(body, auth) {
    return fetch(endpoint, {
      method: 'POST',
      headers: { authorization: 'Bearer ' + auth.token, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    }).then(function (response) {
      return response.text().then(function (text) {
        let parsed = null;
        try { parsed = JSON.parse(text); } catch (e) { /* a non-JSON answer: body stays null */ }
        return { status: response.status, body: parsed };
      });
    }, function (err) { throw new Error('the edge did not answer (' + (err && err.name) + ')'); });
  }

  // The static token, or a machine token from the tenant, shared by every
  // run of both scripts in this container through `global` (a request
  // under way is shared too, so a burst of logins asks once).
  function bearer(refresh) {
    const clientId = configuration.DJEDGE_CLIENT_ID;
    if (!clientId) return Promise.resolve({ token: String(configuration.DJEDGE_TOKEN || ''), cached: false });
    const domain = String(configuration.DJEDGE_AUTH0_DOMAIN || '').replace(/\/+$/, '');
    const tokenUrl = (/^https?:\/\//.test(domain) ? domain : 'https://' + domain) + '/oauth/token';
    const key = tokenUrl + ' ' + clientId + ' ' + configuration.DJEDGE_AUDIENCE;
    const tokens = global.djedgeTokens = global.djedgeTokens || {};
    const held = tokens[key];
    if (!refresh && held && (held.pending || held.expiresAt - Date.now() > 5 * 60 * 1000)) {
      return (held.pending || Promise.resolve(held.token)).then(function (token) { return { token: token, cached: true }; });
    }
    const pending = fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: configuration.DJEDGE_CLIENT_SECRET,
        audience: configuration.DJEDGE_AUDIENCE,
      }),
      signal: AbortSignal.timeout(timeoutMs),
    }).then(function (response) {
      return response.json().then(function (grant) {
        if (response.status !== 200 || !grant.access_token) {
          throw new Error('no token from the tenant: ' + response.status + ' ' + (grant && grant.error));
        }
        tokens[key] = { token: grant.access_token, expiresAt: Date.now() + 1000 * Number(grant.expires_in || 0) };
        return grant.access_token;
      });
    }, function (err) { throw new Error('the tenant did not answer for a token (' + (err && err.name) + ')'); });
    tokens[key] = { pending: pending };
    pending.catch(function () { if (tokens[key] && tokens[key].pending === pending) delete tokens[key]; });
    return pending.then(function (token) { return { token: token, cached: false }; });
  }
  // --- end of the djedge client ---
}

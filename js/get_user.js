/**
 * Auth0 custom database "Get User" script for djedge: Auth0 calls it on
 * sign-up, password reset and email changes. Same configuration as
 * login.js.
 *
 * Returns the same profile login.js would (app_metadata as `metadata`),
 * `callback(null)` for an unknown email and for a user the edge has
 * recorded as migrated (Auth0 then holds them: its advice, so that an email
 * changed in Auth0 and back cannot bring the Django account in twice),
 * UnauthorizedError for an inactive user (so a password reset cannot bring
 * them in), and a plain Error when the email is shared by several Django
 * users, when Auth0 could not create the user as they are (`cannot_land`),
 * or when the edge cannot answer.
 *
 * Self-contained, like login.js: Auth0 runs each script on its own, so the
 * request code (the "djedge client" block) is written out in both, and a
 * test keeps the two copies byte-equal.
 */
function getUser(email, callback) {
  const endpoint = String(configuration.DJEDGE_URL || '').replace(/\/+$/, '') + '/v1/get_user';
  const timeoutMs = Number(configuration.DJEDGE_TIMEOUT_MS) || 10000;

  call({ email: email }).then(function (reply) {
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
    if (status === 404 && error === 'not_found') return callback(null);
    if (status === 403 && error === 'user_inactive') {
      return callback(new UnauthorizedError('This account is inactive.'));
    }
    if (status === 409 && error === 'ambiguous_email') {
      return callback(new Error('djedge: several Django accounts share this email address'));
    }
    if (status === 409 && error === 'cannot_land') {
      return callback(new Error('djedge: Auth0 could not create this user as they are (' + (body && body.detail) + ')'));
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

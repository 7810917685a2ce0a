/**
 * Auth0 post-login Action for djedge (Node 22). `djedge auth0 setup`
 * creates, deploys and binds it to the post-login trigger.
 *
 * For a user of the djedge connection whose app_metadata.django is missing
 * (the login flow broke after the password step, or they came in through
 * get_user and a password reset), it asks the edge for their Django profile
 * by their Auth0 user id, stores app_metadata.django, and the edge records
 * that they migrated, so the progress figures count them. A user Django has
 * deactivated is denied. Users of other connections, and users whose
 * metadata is there, cost nothing: no request is made.
 *
 * Secrets: DJEDGE_URL, DJEDGE_CONNECTION (the connection's name),
 * DJEDGE_AUTH0_DOMAIN, DJEDGE_AUDIENCE, DJEDGE_CLIENT_ID,
 * DJEDGE_CLIENT_SECRET (a machine-to-machine app allowed at the edge; its
 * token is kept in api.cache until five minutes before it expires), or
 * DJEDGE_TOKEN (the edge's static token) instead of the last four.
 *
 * An edge that cannot answer never blocks a login: the Action logs it, and
 * tries again at the user's next login.
 */
exports.onExecutePostLogin = async (event, api) => {
  const secrets = event.secrets || {};
  if (!event.connection || event.connection.name !== secrets.DJEDGE_CONNECTION) return;
  if (event.user.app_metadata && event.user.app_metadata.django) return;

  const base = String(secrets.DJEDGE_URL || '').replace(/\/+$/, '');
  const timeoutMs = Number(secrets.DJEDGE_TIMEOUT_MS) || 10000;

  async function bearer(refresh) {
    if (!secrets.DJEDGE_CLIENT_ID) return { token: String(secrets.DJEDGE_TOKEN || ''), cached: false };
    const key = 'djedge-token';
    const held = refresh ? undefined : api.cache.get(key);
    if (held && held.value) return { token: held.value, cached: true };
    const domain = String(secrets.DJEDGE_AUTH0_DOMAIN || '').replace(/\/+$/, '');
    const response = await fetch((/^https?:\/\//.test(domain) ? domain : 'https://' + domain) + '/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: secrets.DJEDGE_CLIENT_ID,
        client_secret: secrets.DJEDGE_CLIENT_SECRET,
        audience: secrets.DJEDGE_AUDIENCE,
      }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const grant = await response.json();
    if (response.status !== 200 || !grant.access_token) {
      throw new Error('no token from the tenant: ' + response.status + ' ' + grant.error);
    }
    const ttl = Math.max(0, 1000 * (Number(grant.expires_in) || 0) - 5 * 60 * 1000);
    if (ttl > 0) api.cache.set(key, grant.access_token, { ttl: ttl });
    return { token: grant.access_token, cached: false };
  }

  async function report(auth) {
    const response = await fetch(base + '/v1/migrated', {
      method: 'POST',
      headers: { authorization: 'Bearer ' + auth.token, 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: event.user.user_id }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let body = null;
    try { body = JSON.parse(text); } catch (e) { /* a non-JSON answer: body stays null */ }
    return { status: response.status, body: body };
  }

  let reply;
  try {
    const auth = await bearer(false);
    reply = await report(auth);
    if (reply.status === 401 && auth.cached) reply = await report(await bearer(true));
  } catch (err) {
    console.log('djedge: the edge did not answer: ' + ((err && err.message) || err));
    return;
  }
  const error = reply.body && reply.body.error;
  if (reply.status === 200 && reply.body && reply.body.app_metadata) {
    api.user.setAppMetadata('django', reply.body.app_metadata.django);
  } else if (reply.status === 403 && error === 'user_inactive') {
    api.access.deny('This account is inactive.');
  } else if (!(reply.status === 404 && error === 'not_found')) {
    // 404: not a Django user (a sign-up through this connection).
    console.log('djedge: the edge answered ' + reply.status + ' ' + error);
  }
};

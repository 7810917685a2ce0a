/**
 * Auth0 custom database "Login" script for djedge.
 *
 * Paste into Auth0 Dashboard > Authentication > Database > (connection) >
 * Custom Database > Login, with "Import Users to Auth0" on. Settings
 * (the connection's configuration):
 *   DJEDGE_URL        the Worker's URL, e.g. https://djedge.example.workers.dev
 *   DJEDGE_TOKEN      the Worker's DJEDGE_API_TOKEN
 *   DJEDGE_TIMEOUT_MS optional, default 10000
 *
 * Only a definite "wrong credentials" from the Worker becomes
 * WrongUsernameOrPasswordError: an outage, a timeout or a 5xx is a plain
 * Error, so nobody is told their password is wrong because the Worker was
 * unreachable.
 */
function login(userNameOrEmail, password, callback) {
  const base = String(configuration.DJEDGE_URL || '').replace(/\/+$/, '');
  fetch(base + '/v1/login', {
    method: 'POST',
    headers: {
      authorization: 'Bearer ' + configuration.DJEDGE_TOKEN,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ username: userNameOrEmail, password: password }),
    signal: AbortSignal.timeout(Number(configuration.DJEDGE_TIMEOUT_MS) || 10000),
  })
    .then(function (response) {
      return response.text().then(function (text) { return [response.status, text]; });
    })
    // Two-handler then: an exception in callback is not mistaken for an outage.
    .then(function (reply) {
      let body = null;
      try { body = JSON.parse(reply[1]); } catch (e) { /* a non-JSON answer: body stays null */ }
      answer(reply[0], body);
    }, function (err) {
      callback(new Error('djedge: the Worker did not answer (' + (err && err.name) + ')'));
    });

  function answer(status, body) {
    const error = body && body.error;
    if (status === 200) return callback(null, body);
    if (status === 401 && error === 'wrong_credentials') {
      return callback(new WrongUsernameOrPasswordError(userNameOrEmail));
    }
    if (status === 403 && error === 'user_inactive') {
      return callback(new UnauthorizedError('This account is inactive.'));
    }
    if (status === 409 && error === 'ambiguous_email') {
      return callback(new WrongUsernameOrPasswordError(userNameOrEmail,
        'Several accounts use this email address: log in with your username.'));
    }
    return callback(new Error('djedge: the Worker answered ' + status + ' ' + error));
  }
}

/**
 * Auth0 custom database "Get User" script for djedge: Auth0 calls it on
 * sign-up, password reset and email changes. Same configuration as login.js.
 *
 * Returns the same profile login.js would, `callback(null)` for an unknown
 * email, UnauthorizedError for an inactive user (so a password reset cannot
 * bring them in), and a plain Error when the email is shared by several
 * Django users or the Worker cannot answer.
 *
 * Self-contained, like login.js: Auth0 runs each script on its own, so the
 * request code is written out in both.
 */
function getUser(email, callback) {
  const base = String(configuration.DJEDGE_URL || '').replace(/\/+$/, '');
  fetch(base + '/v1/get_user', {
    method: 'POST',
    headers: {
      authorization: 'Bearer ' + configuration.DJEDGE_TOKEN,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ email: email }),
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
    if (status === 404 && error === 'not_found') return callback(null);
    if (status === 403 && error === 'user_inactive') {
      return callback(new UnauthorizedError('This account is inactive.'));
    }
    if (status === 409 && error === 'ambiguous_email') {
      return callback(new Error('djedge: several Django accounts share this email address'));
    }
    return callback(new Error('djedge: the Worker answered ' + status + ' ' + error));
  }
}

//! `djedge auth0 setup` and `djedge auth0 finish`: the tenant configured for
//! the lazy migration through the Management API, idempotently.
//!
//! Setup finds or creates, by name or identifier:
//! 1. the API (resource server) the edge accepts tokens for;
//! 2. a machine-to-machine app, and its client grant for that API (the
//!    scripts and the Action take its tokens);
//! 3. the custom database connection, with import mode, the login and
//!    get_user scripts and their configuration. A PATCH carrying `options`
//!    replaces them all, so the options are read, merged and written whole;
//!    `configuration` comes back from a GET encrypted, so it is always
//!    written from the values setup knows, never from what it read;
//! 4. the post-login Action, deployed and bound, every other binding of the
//!    trigger kept in its order.
//!
//! A second run creates nothing; `dry_run` reads and writes nothing.

use djedge_snapshot::Identifiers;
use djedge_snapshot::identity::{USERNAME_MAX_CHARS, USERNAME_MIN_CHARS};
use serde_json::{Map, Value, json};

use crate::management::{Answer, Management, refused, text_field};
use crate::{ApiError, Credentials};

/// The trigger the Action runs on, and its version.
const TRIGGER: &str = "post-login";
const TRIGGER_VERSION: &str = "v3";
/// Auth0's Node runtime for Actions.
const ACTION_RUNTIME: &str = "node22";
/// How long to wait for Auth0 to build an Action before deploying it.
const BUILD_POLLS: u32 = 60;

/// The scripts setup deploys (the binary carries the repository's `js/`).
#[derive(Clone, Copy, Debug)]
pub struct Scripts<'a> {
    /// `js/login.js`.
    pub login: &'a str,
    /// `js/get_user.js`.
    pub get_user: &'a str,
    /// `js/post_login_action.js`.
    pub action: &'a str,
}

/// What to set up.
#[derive(Clone, Debug)]
pub struct SetupOptions {
    /// The database connection's name.
    pub connection: String,
    /// The edge's URL, as the scripts reach it.
    pub edge_url: String,
    /// The API identifier tokens for the edge are issued for.
    pub audience: String,
    /// How the connection tells people apart.
    pub identifiers: Identifiers,
    /// Report what would change, and change nothing.
    pub dry_run: bool,
}

/// What setup leaves: the edge's settings, and the app whose tokens the
/// edge takes (for a caller that checks the edge with one, as deploy does).
#[derive(Clone, Debug)]
pub struct SetUp {
    /// The settings the edge needs.
    pub edge: EdgeSettings,
    /// The machine-to-machine app the scripts call the edge with.
    pub app: Credentials,
}

/// The settings the edge needs to take the app's tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EdgeSettings {
    /// `DJEDGE_AUTH0_DOMAIN`.
    pub domain: String,
    /// `DJEDGE_AUTH0_AUDIENCE`.
    pub audience: String,
    /// `DJEDGE_AUTH0_CLIENT_IDS`.
    pub client_ids: String,
    /// `DJEDGE_IDENTIFIERS`: the edge's profiles must match the connection.
    pub identifiers: Identifiers,
}

impl EdgeSettings {
    /// As `NAME=value` lines.
    pub fn lines(&self) -> String {
        format!(
            "DJEDGE_AUTH0_DOMAIN={}\nDJEDGE_AUTH0_AUDIENCE={}\nDJEDGE_AUTH0_CLIENT_IDS={}\nDJEDGE_IDENTIFIERS={}\n",
            self.domain, self.audience, self.client_ids, self.identifiers
        )
    }
}

/// The names setup gives what it creates, from the connection's name.
fn app_name(connection: &str) -> String {
    format!("djedge ({connection})")
}

fn action_name(connection: &str) -> String {
    format!("djedge-{connection}")
}

/// Scopes the Management API app needs (documented in the README).
pub const SETUP_SCOPES: &[&str] = &[
    "read:connections",
    "create:connections",
    "update:connections",
    "read:connections_options",
    "update:connections_options",
    "read:resource_servers",
    "create:resource_servers",
    "read:clients",
    "create:clients",
    "read:client_keys",
    "read:client_grants",
    "create:client_grants",
    "read:actions",
    "create:actions",
    "update:actions",
];

/// Configures the tenant. `log` hears one line per change (or, dry, per
/// change that would be made).
///
/// # Errors
/// When the Management API refuses a call or cannot be reached; what was
/// done before stays done, and a rerun takes up from there.
pub fn setup(
    credentials: &Credentials,
    options: &SetupOptions,
    scripts: Scripts<'_>,
    log: &mut dyn FnMut(&str),
) -> Result<SetUp, ApiError> {
    let mut api = Management::new(credentials);
    let mut say = |line: String| log(&if options.dry_run { format!("would {line}") } else { line });
    let audience = options.audience.as_str();

    // 1. The edge's API.
    let path = format!("/api/v2/resource-servers/{}", encode(audience));
    let found = api.get(&path)?;
    match found.status {
        200 => {}
        404 => {
            say(format!("create the API {audience}"));
            if !options.dry_run {
                let body = json!({
                    "name": format!("djedge edge ({})", options.connection),
                    "identifier": audience,
                    "signing_alg": "RS256",
                    "token_lifetime": 86400,
                    "allow_offline_access": false,
                });
                expect(&api.post("/api/v2/resource-servers", &body)?, &[201, 200], "to create the API")?;
            }
        }
        _ => return Err(refused(format!("to read the API {audience}"), &found)),
    }

    // 2. The machine-to-machine app and its grant.
    let name = app_name(&options.connection);
    let (client_id, client_secret) = match find_client(&mut api, &name)? {
        Some(id) => {
            let keys = api.get(&format!("/api/v2/clients/{id}?fields=client_secret&include_fields=true"))?;
            let secret = text_field(expect(&keys, &[200], "to read the app's secret")?, "client_secret")
                .ok_or_else(|| refused("to read the app's secret", &keys))?;
            (id, secret.to_string())
        }
        None => {
            say(format!("create the machine-to-machine app \"{name}\""));
            if options.dry_run {
                ("(new app)".to_string(), String::new())
            } else {
                let body = json!({
                    "name": name,
                    "description": "Calls the djedge edge from the custom database scripts and the post-login Action.",
                    "app_type": "non_interactive",
                    "grant_types": ["client_credentials"],
                    "token_endpoint_auth_method": "client_secret_post",
                });
                let created = api.post("/api/v2/clients", &body)?;
                let created = expect(&created, &[201, 200], "to create the app")?;
                match (text_field(created, "client_id"), text_field(created, "client_secret")) {
                    (Some(id), Some(secret)) => (id.to_string(), secret.to_string()),
                    _ => {
                        return Err(ApiError::Refused {
                            what: "to create the app".into(),
                            status: 201,
                            body: "no client_id".into(),
                        });
                    }
                }
            }
        }
    };
    let new_app = client_secret.is_empty();
    let granted = !new_app && {
        let path = format!("/api/v2/client-grants?audience={}&client_id={}", encode(audience), encode(&client_id));
        let grants = api.get(&path)?;
        expect(&grants, &[200], "to list the client grants")?.as_array().is_some_and(|g| !g.is_empty())
    };
    if !granted {
        say(format!("grant the app tokens for {audience}"));
        if !options.dry_run {
            let body = json!({ "client_id": client_id, "audience": audience, "scope": [] });
            expect(&api.post("/api/v2/client-grants", &body)?, &[201, 200], "to create the client grant")?;
        }
    }

    // 3. The connection.
    let domain = api.tenant().setting().to_string();
    let configuration = json!({
        "DJEDGE_URL": options.edge_url,
        "DJEDGE_AUTH0_DOMAIN": domain,
        "DJEDGE_AUDIENCE": audience,
        "DJEDGE_CLIENT_ID": client_id,
        "DJEDGE_CLIENT_SECRET": client_secret,
    });
    let ours = json!({
        "enabledDatabaseCustomization": true,
        "import_mode": true,
        "customScripts": { "login": scripts.login, "get_user": scripts.get_user },
        "configuration": configuration,
    });
    write_connection(&mut api, &options.connection, &ours, options.identifiers, options.dry_run, &mut say)?;

    // 4. The Action, deployed and bound.
    let mut secrets: Vec<Value> = configuration
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, value)| json!({ "name": name, "value": value }))
        .collect();
    secrets.push(json!({ "name": "DJEDGE_CONNECTION", "value": options.connection }));
    let name = action_name(&options.connection);
    let action = json!({
        "name": name,
        "supported_triggers": [{ "id": TRIGGER, "version": TRIGGER_VERSION }],
        "code": scripts.action,
        "runtime": ACTION_RUNTIME,
        "dependencies": [],
        "secrets": secrets,
    });
    write_action(&mut api, &name, &action, options.dry_run, &mut say)?;

    let app = Credentials { domain: api.tenant().clone(), client_id: client_id.clone(), client_secret };
    let edge = EdgeSettings {
        domain,
        audience: audience.to_string(),
        client_ids: client_id,
        identifiers: options.identifiers,
    };
    Ok(SetUp { edge, app })
}

/// The app an earlier setup made for `connection`, read and not written:
/// for a caller that knows the rest is as it set it up (deploy) and needs
/// the app only to call the edge. `None` when there is no such app.
///
/// # Errors
/// When the Management API refuses or cannot be reached.
pub fn app(credentials: &Credentials, connection: &str) -> Result<Option<Credentials>, ApiError> {
    let mut api = Management::new(credentials);
    let Some(client_id) = find_client(&mut api, &app_name(connection))? else { return Ok(None) };
    let keys = api.get(&format!("/api/v2/clients/{client_id}?fields=client_secret&include_fields=true"))?;
    let secret = text_field(expect(&keys, &[200], "to read the app's secret")?, "client_secret")
        .ok_or_else(|| refused("to read the app's secret", &keys))?;
    Ok(Some(Credentials { domain: credentials.domain.clone(), client_id, client_secret: secret.to_string() }))
}

/// Ends the migration as Auth0 advises: the login and get_user scripts
/// answer "no such user" without calling anything (everyone is in Auth0 or
/// will reset their password), import mode stays on, and every other option
/// stays as it was. The scripts' configuration goes: the new scripts need
/// none, and what a GET returns of it is ciphertext.
///
/// # Errors
/// When the connection does not exist, or the Management API refuses.
pub fn finish(
    credentials: &Credentials,
    connection: &str,
    dry_run: bool,
    log: &mut dyn FnMut(&str),
) -> Result<(), ApiError> {
    let mut api = Management::new(credentials);
    let (id, mut options) = find_connection(&mut api, connection)?.ok_or_else(|| ApiError::Refused {
        what: format!("to find the connection {connection}"),
        status: 404,
        body: "no database connection of that name".into(),
    })?;
    options.remove("configuration");
    options.insert("enabledDatabaseCustomization".into(), Value::Bool(true));
    options.insert("import_mode".into(), Value::Bool(true));
    let mut custom = object_field(options.get("customScripts"), "the connection's customScripts")?;
    custom.insert("login".into(), Value::String(FINISHED_LOGIN.into()));
    custom.insert("get_user".into(), Value::String(FINISHED_GET_USER.into()));
    options.insert("customScripts".into(), Value::Object(custom));
    log(&format!(
        "{}set the connection {connection}'s scripts to answer \"no such user\"",
        if dry_run { "would " } else { "" }
    ));
    if !dry_run {
        let answer = api.patch(&format!("/api/v2/connections/{id}"), &json!({ "options": options }))?;
        expect(&answer, &[200], "to update the connection")?;
    }
    Ok(())
}

/// The login script once the migration is over.
pub const FINISHED_LOGIN: &str = "function login(userNameOrEmail, password, callback) {\n  // djedge: the migration is over; every user is in Auth0.\n  return callback(null);\n}\n";
/// The get_user script once the migration is over.
pub const FINISHED_GET_USER: &str = "function getUser(email, callback) {\n  // djedge: the migration is over; every user is in Auth0.\n  return callback(null);\n}\n";

fn write_connection(
    api: &mut Management,
    name: &str,
    ours: &Value,
    identifiers: Identifiers,
    dry_run: bool,
    say: &mut dyn FnMut(String),
) -> Result<(), ApiError> {
    let Some((id, mut options)) = find_connection(api, name)? else {
        let mut options = object_field(Some(ours), "djedge's options")?;
        let how = set_identifiers(&mut options, identifiers)?;
        say(format!("create the database connection {name}, in import mode, with the djedge scripts; {how}"));
        if !dry_run {
            let body = json!({ "name": name, "strategy": "auth0", "options": options });
            expect(&api.post("/api/v2/connections", &body)?, &[201, 200], "to create the connection")?;
        }
        return Ok(());
    };
    // Keys of `configuration` other than ours cannot be kept: their values
    // come back encrypted.
    let dropped: Vec<String> = options
        .get("configuration")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|c| c.keys())
        .filter(|key| ours["configuration"].get(key.as_str()).is_none())
        .cloned()
        .collect();
    if !dropped.is_empty() {
        say(format!(
            "drop the connection's other configuration settings ({}): Auth0 returns them encrypted",
            dropped.join(", ")
        ));
    }
    let mut custom = object_field(options.get("customScripts"), "the connection's customScripts")?;
    if let Some(scripts) = ours["customScripts"].as_object() {
        custom.extend(scripts.clone());
    }
    let mut changed: Vec<&str> = Vec::new();
    for (key, value) in [
        ("enabledDatabaseCustomization", ours["enabledDatabaseCustomization"].clone()),
        ("import_mode", ours["import_mode"].clone()),
        ("customScripts", Value::Object(custom)),
    ] {
        if options.get(key) != Some(&value) {
            changed.push(key);
        }
        options.insert(key.into(), value);
    }
    options.insert("configuration".into(), ours["configuration"].clone());
    changed.push("configuration");
    let before = options.clone();
    let how = set_identifiers(&mut options, identifiers)?;
    if options != before {
        changed.push("identifiers");
    }
    say(format!("update the connection {name}: {} (every other option kept); {how}", changed.join(", ")));
    if !dry_run {
        let answer = api.patch(&format!("/api/v2/connections/{id}"), &json!({ "options": options }))?;
        expect(&answer, &[200], "to update the connection")?;
    }
    Ok(())
}

/// Sets the connection's identifier options for `identifiers`, keeping
/// every other option; says what the connection then does.
///
/// Email mode: no username is required (`requires_username: false`; with
/// Flexible Identifiers, the username attribute made optional). Username
/// mode: Flexible Identifiers, which Auth0 takes instead of
/// `requires_username` and `validation` (never both): email a required
/// identifier, username an optional one of 1 to 128 characters that is
/// neither an email nor a phone number, so a Django username Auth0 cannot
/// hold never costs its owner the account.
fn set_identifiers(options: &mut Map<String, Value>, identifiers: Identifiers) -> Result<String, ApiError> {
    let mut attributes = object_field(options.get("attributes"), "the connection's attributes")?;
    match identifiers {
        Identifiers::Email if attributes.is_empty() => {
            options.remove("attributes");
            options.insert("requires_username".into(), Value::Bool(false));
            Ok("identifiers: email (no usernames)".into())
        }
        Identifiers::Email => {
            // The site's own Flexible Identifiers are kept; a username only
            // stops being required.
            if let Some(username) = attributes.get_mut("username").and_then(Value::as_object_mut) {
                username.insert("profile_required".into(), Value::Bool(false));
                username.insert("signup".into(), json!({ "status": "optional" }));
            }
            options.insert("attributes".into(), Value::Object(attributes));
            Ok("identifiers: email (the connection's Flexible Identifiers kept, username optional)".into())
        }
        Identifiers::Username => {
            options.remove("requires_username");
            options.remove("validation");
            let mut email = object_field(attributes.get("email"), "the connection's email attribute")?;
            email.insert("identifier".into(), json!({ "active": true }));
            email.insert("profile_required".into(), Value::Bool(true));
            email.insert("signup".into(), json!({ "status": "required" }));
            attributes.insert("email".into(), Value::Object(email));
            attributes.insert(
                "username".into(),
                json!({
                    "identifier": { "active": true },
                    "profile_required": false,
                    "signup": { "status": "optional" },
                    "validation": {
                        "min_length": USERNAME_MIN_CHARS,
                        "max_length": USERNAME_MAX_CHARS,
                        "allowed_types": { "email": false, "phone_number": false },
                    },
                }),
            );
            options.insert("attributes".into(), Value::Object(attributes));
            Ok(format!(
                "identifiers: email (required) and username (optional, {USERNAME_MIN_CHARS} to {USERNAME_MAX_CHARS} \
                 characters), by Flexible Identifiers; users whose Django username Auth0 cannot hold log in by email"
            ))
        }
    }
}

fn write_action(
    api: &mut Management,
    name: &str,
    action: &Value,
    dry_run: bool,
    say: &mut dyn FnMut(String),
) -> Result<(), ApiError> {
    let listed = api.get(&format!("/api/v2/actions/actions?actionName={}&triggerId={TRIGGER}", encode(name)))?;
    let existing = expect(&listed, &[200], "to list the Actions")?["actions"]
        .as_array()
        .and_then(|all| all.iter().find(|a| a["name"] == action["name"]))
        .and_then(|a| text_field(a, "id"))
        .map(str::to_string);
    let id = match existing {
        Some(id) => {
            // Secrets come back without their values: always written.
            say(format!("update and deploy the post-login Action {name}"));
            if !dry_run {
                expect(&api.patch(&format!("/api/v2/actions/actions/{id}"), action)?, &[200], "to update the Action")?;
            }
            id
        }
        None => {
            say(format!("create and deploy the post-login Action {name}"));
            if dry_run {
                return Ok(());
            }
            let created = api.post("/api/v2/actions/actions", action)?;
            let created = expect(&created, &[201, 200], "to create the Action")?;
            text_field(created, "id")
                .ok_or_else(|| ApiError::Refused {
                    what: "to create the Action".into(),
                    status: 201,
                    body: "no id".into(),
                })?
                .to_string()
        }
    };
    if !dry_run {
        wait_until_built(api, &id)?;
        expect(
            &api.post(&format!("/api/v2/actions/actions/{id}/deploy"), &json!({}))?,
            // Auth0 documents 202; 200 and 201 are taken too.
            &[200, 201, 202],
            "to deploy the Action",
        )?;
    }

    let path = format!("/api/v2/actions/triggers/{TRIGGER}/bindings");
    let bound = api.get(&path)?;
    let bindings = array(&expect(&bound, &[200], "to list the trigger's bindings")?["bindings"], "the bindings")?;
    if bindings.iter().any(|b| b.pointer("/action/id").and_then(Value::as_str) == Some(id.as_str())) {
        return Ok(());
    }
    say(format!("bind {name} to the {TRIGGER} trigger, after its {} other Actions", bindings.len()));
    if dry_run {
        return Ok(());
    }
    // The PATCH replaces the trigger's bindings: every one is sent back.
    let mut refs: Vec<Value> = bindings
        .iter()
        .map(|b| {
            let mut binding = Map::new();
            binding.insert("ref".into(), json!({ "type": "action_id", "value": b.pointer("/action/id") }));
            // Auth0 takes a string or nothing here, never null.
            if let Some(name) = b.get("display_name").filter(|n| n.is_string()) {
                binding.insert("display_name".into(), name.clone());
            }
            Value::Object(binding)
        })
        .collect();
    refs.push(json!({ "ref": { "type": "action_id", "value": id }, "display_name": name }));
    expect(&api.patch(&path, &json!({ "bindings": refs }))?, &[200], "to bind the Action")?;
    Ok(())
}

fn wait_until_built(api: &mut Management, id: &str) -> Result<(), ApiError> {
    for _ in 0..BUILD_POLLS {
        let answer = api.get(&format!("/api/v2/actions/actions/{id}"))?;
        match text_field(expect(&answer, &[200], "to read the Action")?, "status") {
            Some("built") => return Ok(()),
            Some("failed") => return Err(refused("to build the Action", &answer)),
            _ => std::thread::sleep(std::time::Duration::from_secs(1)),
        }
    }
    Err(ApiError::Refused { what: "to build the Action in time".into(), status: 0, body: String::new() })
}

/// A connection's id and options.
type Connection = (String, Map<String, Value>);

/// The connection's id and options, if one of that name exists.
pub(crate) fn find_connection(api: &mut Management, name: &str) -> Result<Option<Connection>, ApiError> {
    let answer = api.get(&format!("/api/v2/connections?strategy=auth0&name={}", encode(name)))?;
    let list = expect(&answer, &[200], "to list the connections")?;
    let found = array(list, "the connections")?.iter().find(|c| c["name"].as_str() == Some(name));
    let Some((connection, id)) = found.and_then(|c| Some((c, text_field(c, "id")?.to_string()))) else {
        return Ok(None);
    };
    Ok(Some((id, object_field(connection.get("options"), "the connection's options")?)))
}

/// The id of the app named `name`, looking through every page.
fn find_client(api: &mut Management, name: &str) -> Result<Option<String>, ApiError> {
    for page in 0.. {
        let answer =
            api.get(&format!("/api/v2/clients?fields=client_id,name&include_fields=true&per_page=100&page={page}"))?;
        let list = array(expect(&answer, &[200], "to list the apps")?, "the apps")?;
        if let Some(found) = list.iter().find(|c| c["name"].as_str() == Some(name)) {
            return Ok(text_field(found, "client_id").map(str::to_string));
        }
        if list.len() < 100 {
            break;
        }
    }
    Ok(None)
}

/// The body of an answer with one of the expected statuses.
/// An object Auth0 may leave out (none set): absent or `null` is empty, but
/// anything else that is not an object is refused, never read as empty (a
/// PATCH of what was read would then erase what Auth0 holds).
fn object_field(value: Option<&Value>, what: &str) -> Result<serde_json::Map<String, Value>, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(serde_json::Map::new()),
        Some(Value::Object(object)) => Ok(object.clone()),
        Some(other) => Err(unexpected(what, other)),
    }
}

/// A list Auth0 must answer; anything else is refused, never read as empty
/// (an empty list of bindings written back would unbind every other Action).
fn array<'a>(value: &'a Value, what: &str) -> Result<&'a Vec<Value>, ApiError> {
    value.as_array().ok_or_else(|| unexpected(what, value))
}

fn unexpected(what: &str, value: &Value) -> ApiError {
    ApiError::Refused { what: format!("{what} (not what Auth0 documents)"), status: 200, body: value.to_string() }
}

pub(crate) fn expect<'a>(answer: &'a Answer, statuses: &[u16], what: &str) -> Result<&'a Value, ApiError> {
    if statuses.contains(&answer.status) { Ok(&answer.body) } else { Err(refused(what, answer)) }
}

/// Percent-encodes a query or path part.
pub(crate) fn encode(part: &str) -> String {
    percent_encoding::utf8_percent_encode(part, percent_encoding::NON_ALPHANUMERIC).to_string()
}

//! The Auth0 profile of a Django user: the same bytes from login and
//! get_user, from the Worker and from `djedge serve`.

use crate::{UserId, UserRecord};
use serde::Serialize;

/// The stable Auth0 `user_id` of a Django user: derived from the primary
/// key, so the lazy and the bulk path give one user one id (Auth0 prefixes
/// it with `auth0|`).
pub fn user_id(django_id: UserId) -> String {
    format!("django_{django_id}")
}

/// The Django primary key an Auth0 user id names: `django_<pk>`, with or
/// without the connection's `auth0|` prefix; `None` for any other id (a
/// sign-up, a social login).
pub fn django_id_of(auth0_user_id: &str) -> Option<UserId> {
    let bare = auth0_user_id.strip_prefix("auth0|").unwrap_or(auth0_user_id);
    let id: UserId = bare.strip_prefix("django_")?.parse().ok()?;
    // Only the form user_id() writes: `django_0012` or an unhyphenated
    // UUID is not one of ours.
    (user_id(id) == bare).then_some(id)
}

/// Auth0's normalized user profile.
#[derive(Serialize)]
pub struct Profile<'a> {
    user_id: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    email: &'a str,
    email_verified: bool,
    #[serde(skip_serializing_if = "str::is_empty")]
    username: &'a str,
    name: String,
    // Auth0 refuses empty names: left out rather than sent empty.
    #[serde(skip_serializing_if = "str::is_empty")]
    given_name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    family_name: &'a str,
    app_metadata: AppMetadata<'a>,
}

#[derive(Serialize)]
struct AppMetadata<'a> {
    django: DjangoMetadata<'a>,
    /// How the user came to Auth0, when it was not the edge: what
    /// `djedge progress --auth0-users` tells a bulk import by.
    #[serde(skip_serializing_if = "Option::is_none")]
    djedge: Option<Origin>,
}

/// `app_metadata.djedge` of a bulk-imported user.
#[derive(Serialize)]
struct Origin {
    bulk_import: bool,
}

#[derive(Serialize)]
struct DjangoMetadata<'a> {
    id: UserId,
    is_staff: bool,
    is_superuser: bool,
    groups: &'a [String],
    date_joined: &'a str,
    last_login: Option<&'a str>,
}

impl<'a> Profile<'a> {
    /// The profile of `user`; `email_verified` is the deployment's choice
    /// (Django records no such thing).
    pub fn new(user: &'a UserRecord, email_verified: bool) -> Self {
        // Django's get_full_name(), falling back to the username.
        let full_name = format!("{} {}", user.first_name, user.last_name).trim().to_string();
        Profile {
            user_id: user_id(user.id),
            email: &user.email,
            email_verified,
            username: &user.username,
            name: if full_name.is_empty() { user.username.clone() } else { full_name },
            given_name: &user.first_name,
            family_name: &user.last_name,
            app_metadata: AppMetadata {
                django: DjangoMetadata {
                    id: user.id,
                    is_staff: user.is_staff,
                    is_superuser: user.is_superuser,
                    groups: &user.groups,
                    date_joined: &user.date_joined,
                    last_login: user.last_login.as_deref(),
                },
                djedge: None,
            },
        }
    }

    /// The profile a bulk import sends: marked `app_metadata.djedge.bulk_import`.
    #[must_use]
    pub fn for_bulk_import(mut self) -> Self {
        self.app_metadata.djedge = Some(Origin { bulk_import: true });
        self
    }

    /// The same profile without `username`, for Auth0 connections that do
    /// not use one (the bulk import refuses it there).
    #[must_use]
    pub fn without_username(self) -> Self {
        Profile { username: "", ..self }
    }
}

//! The Auth0 tenant a setting names, validated once: the edge takes tokens
//! it issues, the Management API client calls it, `djedge auth0 setup`
//! writes it into the scripts' configuration. (The Django app holds the
//! same rule in `python/djedge/conf.py`; the scripts, which Auth0 runs on
//! their own, repeat it in their shared block.)

use std::fmt;

/// A tenant: `TENANT.auth0.com`, a custom domain, or an `http(s)://` URL (a
/// local tenant, for tests); a host name or a bracketed IPv6 address, an
/// optional port, an optional trailing slash, and nothing else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Auth0Domain {
    /// `https://host[:port]` (or the `http://` URL given), no trailing slash.
    base: String,
}

/// Text that names no tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotAnAuth0Domain;

impl fmt::Display for NotAnAuth0Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an Auth0 domain is a host name (TENANT.auth0.com) or an http(s):// URL, and nothing more")
    }
}

impl std::error::Error for NotAnAuth0Domain {}

impl Auth0Domain {
    /// The tenant `text` names.
    ///
    /// # Errors
    /// [`NotAnAuth0Domain`] for anything but a host, with an optional
    /// scheme, port and trailing slash.
    pub fn parse(text: &str) -> Result<Self, NotAnAuth0Domain> {
        let (scheme, rest) = match text.split_once("://") {
            Some((scheme @ ("https" | "http"), rest)) => (scheme, rest),
            Some(_) => return Err(NotAnAuth0Domain),
            None => ("https", text),
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(':') && (host.ends_with(']') || !host.contains(':')) => {
                (host, Some(port))
            }
            _ => (authority, None),
        };
        let host_ok = if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            !inner.is_empty() && inner.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        } else {
            !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        };
        let port_ok = port.is_none_or(|p| (1..=5).contains(&p.len()) && p.parse::<u16>().is_ok());
        if host_ok && port_ok {
            Ok(Auth0Domain { base: format!("{scheme}://{authority}") })
        } else {
            Err(NotAnAuth0Domain)
        }
    }

    /// `https://host`, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The `iss` of the tokens it issues: the base and a slash.
    pub fn issuer(&self) -> String {
        format!("{}/", self.base)
    }

    /// Its signing keys.
    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.base)
    }

    /// Its token endpoint.
    pub fn token_url(&self) -> String {
        format!("{}/oauth/token", self.base)
    }

    /// The Management API's audience and base: `https://host/api/v2/`.
    pub fn management_api(&self) -> String {
        format!("{}/api/v2/", self.base)
    }

    /// What the scripts' `DJEDGE_AUTH0_DOMAIN` says: the host for an
    /// `https://` tenant, the whole URL for a local `http://` one.
    pub fn setting(&self) -> &str {
        self.base.strip_prefix("https://").unwrap_or(&self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_urls_name_a_tenant_and_nothing_else_does() {
        for (text, base) in [
            ("example.eu.auth0.com", "https://example.eu.auth0.com"),
            ("https://example.eu.auth0.com/", "https://example.eu.auth0.com"),
            ("http://127.0.0.1:8789", "http://127.0.0.1:8789"),
            ("login.example.org", "https://login.example.org"),
            ("http://[::1]:8789/", "http://[::1]:8789"),
        ] {
            let domain = Auth0Domain::parse(text).unwrap();
            assert_eq!(domain.base(), base, "{text}");
            assert_eq!(Auth0Domain::parse(domain.setting()).unwrap(), domain, "{text} round-trips");
        }
        let domain = Auth0Domain::parse("example.eu.auth0.com").unwrap();
        assert_eq!(domain.issuer(), "https://example.eu.auth0.com/");
        assert_eq!(domain.jwks_url(), "https://example.eu.auth0.com/.well-known/jwks.json");
        assert_eq!(domain.token_url(), "https://example.eu.auth0.com/oauth/token");
        assert_eq!(domain.management_api(), "https://example.eu.auth0.com/api/v2/");
        for bad in [
            "",
            " example.auth0.com",
            "example.auth0.com/path",
            "https://example.auth0.com/a",
            "ftp://example.auth0.com",
            "https://",
            "user@example.auth0.com",
            "example.auth0.com:99999",
            "example.auth0.com:",
            "example.auth0.com?x=1",
            "HTTPS://example.auth0.com",
            "exa mple.auth0.com",
        ] {
            assert_eq!(Auth0Domain::parse(bad), Err(NotAnAuth0Domain), "{bad:?}");
        }
    }
}

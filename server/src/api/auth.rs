//! Authentication and authorisation: JWT bearer tokens with a role.
//!
//! Tokens are HS256-signed with a secret generated on first start and kept in the data
//! directory (`jwt-secret`, mode 0600), or RS256 with configured PEM keys. A token's
//! `role` claim is `viewer` (reads), `editor` (reads and lineage/entity writes) or
//! `admin` (everything, including hard deletes). Missing, malformed, badly signed or
//! expired tokens get 401; a valid token without the role needed gets 403.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::errors::{ApiError, ApiResult};

/// What a token allows, in increasing order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads.
    Viewer,
    /// Reads and writes.
    Editor,
    /// Everything.
    Admin,
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "editor" => Ok(Role::Editor),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role {other:?}; expected viewer, editor or admin"
            )),
        }
    }
}

/// The claims Headwaters puts in (and requires of) a token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    /// Who: the token's name.
    pub sub: String,
    /// What it may do.
    pub role: Role,
    /// Issued at (seconds since the epoch).
    pub iat: u64,
    /// Expires at (seconds since the epoch).
    pub exp: u64,
    /// Issuer: always `headwaters`.
    pub iss: String,
}

/// The caller of a request, after authentication.
#[derive(Clone, Debug)]
pub struct Principal {
    /// Token subject (or `anonymous` without auth).
    pub name: String,
    /// Role.
    pub role: Role,
}

/// Verifies (and, when it holds a private key, mints) tokens.
pub struct Keys {
    alg: Algorithm,
    decoding: DecodingKey,
    encoding: Option<EncodingKey>,
}

/// Where the HS256 secret lives in the data directory.
pub const SECRET_FILE: &str = "jwt-secret";

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn install_provider() {
    // Only the RustCrypto backend is compiled in; installing it is idempotent in effect.
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
}

impl Keys {
    /// HS256 keys from the secret in `data_dir`, creating the secret if it is missing.
    /// Returns the keys and whether the secret was created now (first start).
    pub fn hs256_in(data_dir: &Path) -> std::io::Result<(Keys, bool)> {
        install_provider();
        let path = data_dir.join(SECRET_FILE);
        let (secret, created) = match std::fs::read_to_string(&path) {
            Ok(s) => (s.trim().to_string(), false),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir)?;
                let a = uuid::Uuid::new_v4().simple().to_string();
                let b = uuid::Uuid::new_v4().simple().to_string();
                let s = format!("{a}{b}");
                write_private(&path, &s)?;
                (s, true)
            }
            Err(e) => return Err(e),
        };
        if secret.len() < 32 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{} holds a secret shorter than 32 characters",
                    path.display()
                ),
            ));
        }
        Ok((
            Keys {
                alg: Algorithm::HS256,
                decoding: DecodingKey::from_secret(secret.as_bytes()),
                encoding: Some(EncodingKey::from_secret(secret.as_bytes())),
            },
            created,
        ))
    }

    /// RS256 keys from PEM files; without a private key the server only verifies.
    pub fn rs256(public_pem: &Path, private_pem: Option<&Path>) -> Result<Keys, String> {
        install_provider();
        let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
        let decoding = DecodingKey::from_rsa_pem(&read(public_pem)?).map_err(|e| {
            format!(
                "{}: not an RSA public key in PEM: {e}",
                public_pem.display()
            )
        })?;
        let encoding = match private_pem {
            Some(p) => Some(
                EncodingKey::from_rsa_pem(&read(p)?)
                    .map_err(|e| format!("{}: not an RSA private key in PEM: {e}", p.display()))?,
            ),
            None => None,
        };
        Ok(Keys {
            alg: Algorithm::RS256,
            decoding,
            encoding,
        })
    }

    /// Mints a token valid for `ttl_secs`.
    pub fn mint(&self, name: &str, role: Role, ttl_secs: u64) -> Result<String, String> {
        let iat = now_secs();
        self.mint_until(name, role, iat.saturating_add(ttl_secs))
    }

    /// Mints a token that expires at `exp` (seconds since the epoch).
    pub fn mint_until(&self, name: &str, role: Role, exp: u64) -> Result<String, String> {
        let key = self
            .encoding
            .as_ref()
            .ok_or("this server has no private key to sign tokens with")?;
        let claims = Claims {
            sub: name.to_string(),
            role,
            iat: now_secs(),
            exp,
            iss: "headwaters".into(),
        };
        jsonwebtoken::encode(&Header::new(self.alg), &claims, key).map_err(|e| e.to_string())
    }

    /// Verifies a bearer token.
    pub fn verify(&self, token: &str) -> ApiResult<Principal> {
        let mut v = Validation::new(self.alg);
        v.set_issuer(&["headwaters"]);
        v.set_required_spec_claims(&["exp", "iss", "sub"]);
        v.leeway = 5;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &v).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            ApiError::Unauthorized(match e.kind() {
                ErrorKind::ExpiredSignature => "token expired".to_string(),
                ErrorKind::InvalidSignature => "token signature does not verify".to_string(),
                _ => format!("invalid token: {e}"),
            })
        })?;
        Ok(Principal {
            name: data.claims.sub,
            role: data.claims.role,
        })
    }
}

fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    o.mode(0o600);
    let mut f = o.open(path)?;
    f.write_all(content.as_bytes())?;
    f.sync_all()
}

/// Parses a duration like `30d`, `12h`, `90m`, `3600s` or `never` (100 years).
pub fn parse_ttl(s: &str) -> Result<u64, String> {
    if s == "never" {
        return Ok(100 * 365 * 86_400);
    }
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?}: expected a number with a unit, e.g. 30d, 12h, 90m, never"))?;
    let mult = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" | "" => 1,
        other => return Err(format!("{s:?}: unknown unit {other:?}; use d, h, m or s")),
    };
    Ok(n.saturating_mul(mult))
}

/// Extracts the token from an `Authorization: Bearer ...` header value.
pub fn bearer(value: Option<&str>) -> ApiResult<&str> {
    let v = value.ok_or_else(|| {
        ApiError::Unauthorized("missing Authorization: Bearer <token> header".into())
    })?;
    let t = v
        .strip_prefix("Bearer ")
        .or_else(|| v.strip_prefix("bearer "))
        .ok_or_else(|| {
            ApiError::Unauthorized("Authorization header is not a Bearer token".into())
        })?;
    Ok(t.trim())
}

/// The role a request needs, by method; handlers ask for more where needed (GraphQL
/// reads are POSTs: its mutations check the editor role themselves).
fn needed_role(method: &Method, path: &str) -> Role {
    if path == "/api/graphql" || matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        Role::Viewer
    } else {
        Role::Editor
    }
}

/// Authenticates the bearer token, checks the role for the method, applies the rate
/// limits, and hands the [`Principal`] to the handler.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let s = &*state;
    let principal = match &s.keys {
        None => Principal {
            name: "anonymous".into(),
            role: Role::Admin,
        },
        Some(keys) => {
            let header = req
                .headers()
                .get(axum::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            match bearer(header).and_then(|t| keys.verify(t)) {
                Ok(p) => p,
                Err(e) => return e.into_response(),
            }
        }
    };
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "local".into());
    let now = Instant::now();
    let verdicts = [
        s.token_limiter
            .check(&format!("token:{}", principal.name), now),
        s.ip_limiter.check(&format!("ip:{ip}"), now),
    ];
    // Report the tighter of the two limits.
    let shown = verdicts
        .iter()
        .flatten()
        .min_by_key(|v| (v.allowed, v.remaining))
        .copied();
    let mut resp = if shown.is_some_and(|v| !v.allowed) {
        ApiError::TooManyRequests(
            "rate limit exceeded; retry after X-RateLimit-Reset seconds".into(),
        )
        .into_response()
    } else if principal.role < needed_role(req.method(), req.uri().path()) {
        ApiError::Forbidden(format!(
            "{} needs the {:?} role; token {:?} has {:?}",
            req.method(),
            needed_role(req.method(), req.uri().path()),
            principal.name,
            principal.role
        ))
        .into_response()
    } else {
        req.extensions_mut().insert(principal);
        next.run(req).await
    };
    if let Some(v) = shown {
        let h = resp.headers_mut();
        for (name, value) in [
            ("x-ratelimit-limit", v.limit as u64),
            ("x-ratelimit-remaining", v.remaining as u64),
            ("x-ratelimit-reset", v.reset_secs),
        ] {
            h.insert(name, HeaderValue::from(value));
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mint_verify_and_reject() {
        let dir = tempfile::tempdir().unwrap();
        let (keys, created) = Keys::hs256_in(dir.path()).unwrap();
        assert!(created);
        let t = keys.mint("alice", Role::Editor, 60).unwrap();
        let p = keys.verify(&t).unwrap();
        assert_eq!((p.name.as_str(), p.role), ("alice", Role::Editor));
        let (again, created) = Keys::hs256_in(dir.path()).unwrap();
        assert!(!created);
        assert_eq!(again.verify(&t).unwrap().name, "alice");
        let other = tempfile::tempdir().unwrap();
        let (foreign, _) = Keys::hs256_in(other.path()).unwrap();
        assert!(matches!(foreign.verify(&t), Err(ApiError::Unauthorized(_))));
        assert!(keys.verify("not.a.token").is_err());
        assert_eq!(parse_ttl("2d").unwrap(), 172_800);
        assert!(parse_ttl("2w").is_err());
    }
}

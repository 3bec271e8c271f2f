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
    /// The token's id (what `token revoke` names); absent in tokens minted before ids
    /// existed, whose id is then `name:<sub>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

/// The caller of a request, after authentication.
#[derive(Clone, Debug)]
pub struct Principal {
    /// Token subject (or `anonymous` without auth).
    pub name: String,
    /// Role.
    pub role: Role,
    /// The token's id: what rate limits are kept per, and what revocation names.
    pub token_id: String,
}

/// Verifies (and, when it holds a private key, mints) tokens; with a registry, records
/// minted tokens and refuses revoked ones.
pub struct Keys {
    alg: Algorithm,
    decoding: DecodingKey,
    encoding: Option<EncodingKey>,
    registry: Option<TokenRegistry>,
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
                crate::files::private_dir(data_dir)?;
                let a = uuid::Uuid::new_v4().simple().to_string();
                let b = uuid::Uuid::new_v4().simple().to_string();
                let s = format!("{a}{b}");
                crate::files::write_private(&path, &s)?;
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
                registry: Some(TokenRegistry::in_dir(data_dir)),
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
            registry: None,
        })
    }

    /// Records minted tokens and revocations in `data_dir` (RS256 keys; HS256 keys
    /// from [`Keys::hs256_in`] already do).
    pub fn with_registry(mut self, data_dir: &Path) -> Keys {
        self.registry = Some(TokenRegistry::in_dir(data_dir));
        self
    }

    /// The registry of minted and revoked tokens, if this server keeps one.
    pub fn registry(&self) -> Option<&TokenRegistry> {
        self.registry.as_ref()
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
            jti: Some(uuid::Uuid::new_v4().to_string()),
        };
        let token = jsonwebtoken::encode(&Header::new(self.alg), &claims, key)
            .map_err(|e| e.to_string())?;
        if let Some(r) = &self.registry {
            r.record(&claims)
                .map_err(|e| format!("recording the token: {e}"))?;
        }
        Ok(token)
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
        let token_id = data
            .claims
            .jti
            .clone()
            .unwrap_or_else(|| format!("name:{}", data.claims.sub));
        if let Some(r) = &self.registry
            && r.is_revoked(&token_id)
        {
            return Err(ApiError::Unauthorized(format!(
                "token {token_id} has been revoked"
            )));
        }
        Ok(Principal {
            name: data.claims.sub,
            role: data.claims.role,
            token_id,
        })
    }
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

/// The token of a request: `Authorization: Bearer <token>`, or `X-API-Key: <token>`
/// (the same tokens; OpenMetadata's API guide documents both).
pub fn request_token(headers: &axum::http::HeaderMap) -> ApiResult<&str> {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    match (
        header(axum::http::header::AUTHORIZATION.as_str()),
        header("x-api-key"),
    ) {
        (Some(auth), _) => bearer(Some(auth)),
        (None, Some(key)) if !key.trim().is_empty() => Ok(key.trim()),
        (None, _) => bearer(None),
    }
}

/// Extracts the token from an `Authorization: Bearer ...` header value.
pub fn bearer(value: Option<&str>) -> ApiResult<&str> {
    let v = value.ok_or_else(|| {
        ApiError::Unauthorized(
            "missing Authorization: Bearer <token> header (or X-API-Key: <token>)".into(),
        )
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
/// limits, and hands the [`Principal`] to the handler. Every attempt counts against
/// the client IP's limit, failed ones included; the token limit is kept per token id.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let s = &*state;
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "local".into());
    let now = Instant::now();
    let ip_verdict = s.ip_limiter.check(&format!("ip:{ip}"), now);
    let principal = match &s.keys {
        None => Ok(Principal {
            name: "anonymous".into(),
            role: Role::Admin,
            token_id: "anonymous".into(),
        }),
        Some(keys) => request_token(req.headers()).and_then(|t| keys.verify(t)),
    };
    let token_verdict = principal
        .as_ref()
        .ok()
        .and_then(|p| s.token_limiter.check(&format!("token:{}", p.token_id), now));
    // Report the tighter of the two limits.
    let shown = [ip_verdict, token_verdict]
        .into_iter()
        .flatten()
        .min_by_key(|v| (v.allowed, v.remaining));
    let mut resp = match principal {
        _ if shown.is_some_and(|v| !v.allowed) => {
            ApiError::TooManyRequests("rate limit exceeded; retry after Retry-After seconds".into())
                .into_response()
        }
        Err(e) => e.into_response(),
        Ok(p) if p.role < needed_role(req.method(), req.uri().path()) => {
            ApiError::Forbidden(format!(
                "{} needs the {:?} role; token {:?} has {:?}",
                req.method(),
                needed_role(req.method(), req.uri().path()),
                p.name,
                p.role
            ))
            .into_response()
        }
        Ok(p) => {
            req.extensions_mut().insert(p);
            next.run(req).await
        }
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
        if !v.allowed {
            h.insert(
                axum::http::header::RETRY_AFTER,
                HeaderValue::from(v.reset_secs),
            );
        }
    }
    resp
}

/// A minted token as the registry lists it.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenInfo {
    /// The token's id.
    pub id: String,
    /// Its name (subject).
    pub name: String,
    /// Its role.
    #[schema(value_type = String)]
    pub role: Role,
    /// Issued at, seconds since the epoch.
    pub issued_at: u64,
    /// Expires at, seconds since the epoch.
    pub expires_at: u64,
    /// Revoked (refused from then on).
    #[serde(default)]
    pub revoked: bool,
}

/// Minted tokens (`tokens.jsonl`) and revoked ids (`revoked-tokens`) in the data
/// directory, both 0600. Revocations made through this server take effect at once;
/// those made by `headwaters token revoke` beside a running server, within a second
/// (the file is read again when it changes).
pub struct TokenRegistry {
    minted: std::path::PathBuf,
    revoked_file: std::path::PathBuf,
    revoked: std::sync::RwLock<(
        std::collections::HashSet<String>,
        Option<SystemTime>,
        Instant,
    )>,
}

impl TokenRegistry {
    /// The registry in `data_dir`.
    pub fn in_dir(data_dir: &Path) -> TokenRegistry {
        let r = TokenRegistry {
            minted: data_dir.join("tokens.jsonl"),
            revoked_file: data_dir.join("revoked-tokens"),
            revoked: std::sync::RwLock::new((Default::default(), None, Instant::now())),
        };
        r.reload();
        r
    }

    fn reload(&self) {
        let modified = std::fs::metadata(&self.revoked_file)
            .and_then(|m| m.modified())
            .ok();
        let mut g = self.revoked.write().unwrap_or_else(|p| p.into_inner());
        g.2 = Instant::now();
        if g.1 == modified && modified.is_some() {
            return;
        }
        g.0 = std::fs::read_to_string(&self.revoked_file)
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        g.1 = modified;
    }

    /// Whether the token with this id is revoked.
    pub fn is_revoked(&self, id: &str) -> bool {
        let stale = {
            let g = self.revoked.read().unwrap_or_else(|p| p.into_inner());
            g.2.elapsed() >= std::time::Duration::from_secs(1)
        };
        if stale {
            self.reload();
        }
        self.revoked
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .contains(id)
    }

    fn append(path: &Path, line: &str) -> std::io::Result<()> {
        use std::io::Write;
        if let Some(dir) = path.parent() {
            crate::files::private_dir(dir)?;
        }
        #[cfg(unix)]
        use std::os::unix::fs::OpenOptionsExt;
        let mut o = std::fs::OpenOptions::new();
        o.create(true).append(true);
        #[cfg(unix)]
        o.mode(0o600);
        let mut f = o.open(path)?;
        writeln!(f, "{line}")?;
        f.sync_all()
    }

    fn record(&self, c: &Claims) -> std::io::Result<()> {
        let info = TokenInfo {
            id: c.jti.clone().unwrap_or_default(),
            name: c.sub.clone(),
            role: c.role,
            issued_at: c.iat,
            expires_at: c.exp,
            revoked: false,
        };
        let line = serde_json::to_string(&info).map_err(std::io::Error::other)?;
        Self::append(&self.minted, &line)
    }

    /// Every token minted here, oldest first, with its revocation.
    pub fn list(&self) -> std::io::Result<Vec<TokenInfo>> {
        let text = match std::fs::read_to_string(&self.minted) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        self.reload();
        let revoked = self.revoked.read().unwrap_or_else(|p| p.into_inner());
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str::<TokenInfo>(l).ok())
            .map(|mut t| {
                t.revoked = revoked.0.contains(&t.id);
                t
            })
            .collect())
    }

    /// Revokes the token `id` (known here or not: a token minted elsewhere with the
    /// same key can be revoked by id too). Answers whether it was live before.
    pub fn revoke(&self, id: &str) -> std::io::Result<bool> {
        if id.trim().is_empty() || id.contains(char::is_whitespace) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{id:?} is not a token id"),
            ));
        }
        if self.is_revoked(id) {
            return Ok(false);
        }
        Self::append(&self.revoked_file, id)?;
        self.revoked
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .insert(id.to_string());
        Ok(true)
    }
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

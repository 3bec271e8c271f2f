//! Secrets in entity documents: the passwords, tokens and keys of a service's
//! `connection` config.
//!
//! A field is secret when its name contains `password`, `secret`, `token`, `apikey`,
//! `accesskey`, `privatekey`, `passphrase` or `credential` (case-insensitive), as
//! OpenMetadata's connection schemas mark them; every string under such a field is.
//! Stored, each secret string is sealed with ChaCha20-Poly1305 under a key kept in the
//! data directory (`secrets-key`, mode 0600): `hw-sealed:v1:<base64 nonce+ciphertext>`
//! (or, with `store_secrets = false`, not stored at all). Answered, secrets are opened
//! for admins and masked (`*********`, as OpenMetadata masks them) for everyone else. A
//! write that sends a masked value back keeps the stored secret, so a client can
//! read-modify-write an entity without knowing its secrets.

use std::path::Path;

use base64::Engine;
use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit};
use serde_json::{Map, Value};

use super::error::{Error, Result};

/// What a masked secret reads as.
pub const MASK: &str = "*********";

/// The key file in the data directory.
pub const KEY_FILE: &str = "secrets-key";

const SEALED: &str = "hw-sealed:v1:";

const SECRET_WORDS: &[&str] = &[
    "password",
    "secret",
    "token",
    "apikey",
    "accesskey",
    "privatekey",
    "passphrase",
    "credential",
];

/// Whether a field of a connection config holds a secret.
pub fn is_secret_field(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace(['_', '-'], "");
    SECRET_WORDS.iter().any(|w| n.contains(w))
}

/// Seals and opens secrets; holds the key.
pub struct Secrets {
    cipher: ChaCha20Poly1305,
    /// Store sealed secrets (`true`) or drop them (`false`).
    store: bool,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("store", &self.store)
            .finish()
    }
}

/// `N` random bytes (see [`crate::domain::clock::fill_random`]).
fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    crate::domain::clock::fill_random(&mut out)
        .map_err(|e| Error::invariant(format!("the system's random generator failed: {e}")))?;
    Ok(out)
}

impl Secrets {
    /// A key of its own, not kept anywhere (tests, in-memory stores).
    ///
    /// # Panics
    /// When the operating system has no random generator.
    pub fn ephemeral(store: bool) -> Secrets {
        let key = random_bytes::<32>().expect("the system's random generator");
        Secrets::from_key(key, store)
    }

    fn from_key(key: [u8; 32], store: bool) -> Secrets {
        Secrets {
            cipher: ChaCha20Poly1305::new(&key.into()),
            store,
        }
    }

    /// The key in `data_dir` (created, mode 0600, on first start).
    pub fn in_dir(data_dir: &Path, store: bool) -> std::io::Result<Secrets> {
        let path = data_dir.join(KEY_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = random_bytes::<32>().map_err(|e| std::io::Error::other(e.to_string()))?;
                let t = base64::engine::general_purpose::STANDARD.encode(key);
                crate::files::write_private(&path, &t)?;
                t
            }
            Err(e) => return Err(e),
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{} does not hold a 32-byte base64 key", path.display()),
                )
            })?;
        Ok(Secrets::from_key(bytes, store))
    }

    fn seal_str(&self, plain: &str) -> Result<String> {
        let nonce = random_bytes::<12>()?;
        let ct = self
            .cipher
            .encrypt(&nonce.into(), plain.as_bytes())
            .map_err(|_| Error::invariant("sealing a secret failed"))?;
        let mut all = nonce.to_vec();
        all.extend_from_slice(&ct);
        Ok(format!(
            "{SEALED}{}",
            base64::engine::general_purpose::STANDARD.encode(all)
        ))
    }

    fn open_str(&self, sealed: &str) -> Option<String> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(sealed.strip_prefix(SEALED)?)
            .ok()?;
        let (nonce, ct) = raw.split_at_checked(12)?;
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        let plain = self.cipher.decrypt(&nonce.into(), ct).ok()?;
        String::from_utf8(plain).ok()
    }

    /// Prepares a document for storage: secrets sealed (or dropped), masked values put
    /// back to what `old` had stored.
    pub fn seal(&self, doc: &mut Map<String, Value>, old: Option<&Value>) -> Result<()> {
        let old_conn = old.and_then(|o| o.get("connection"));
        if let Some(conn) = doc.get_mut("connection") {
            self.seal_value(conn, old_conn, false)?;
        }
        Ok(())
    }

    fn seal_value(&self, v: &mut Value, old: Option<&Value>, secret: bool) -> Result<()> {
        match v {
            Value::Object(m) => {
                let keys: Vec<String> = m.keys().cloned().collect();
                for k in keys {
                    let child_secret = secret || is_secret_field(&k);
                    let old_child = old.and_then(|o| o.get(&k));
                    let Some(child) = m.get_mut(&k) else { continue };
                    if child_secret && !self.store && child.is_string() {
                        m.remove(&k);
                        continue;
                    }
                    self.seal_value(child, old_child, child_secret)?;
                    if m.get(&k).is_some_and(Value::is_null) && child_secret {
                        m.remove(&k);
                    }
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter_mut().enumerate() {
                    self.seal_value(x, old.and_then(|o| o.get(i)), secret)?;
                }
            }
            Value::String(s) if secret => {
                if s == MASK {
                    // Sent back masked: keep what was stored (nothing, if nothing was).
                    *v = match old {
                        Some(Value::String(o)) if o.starts_with(SEALED) => Value::String(o.clone()),
                        _ => Value::Null,
                    };
                } else if !s.starts_with(SEALED) {
                    // The same secret again keeps its sealed form (no spurious change).
                    *v = match old {
                        Some(Value::String(o)) if self.open_str(o).as_deref() == Some(s) => {
                            Value::String(o.clone())
                        }
                        _ => Value::String(self.seal_str(s)?),
                    };
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// A stored document as answered: secrets opened for admins, masked for the rest.
    pub fn reveal(&self, doc: &mut Value, admin: bool) {
        if let Some(conn) = doc.get_mut("connection") {
            self.reveal_value(conn, admin, false);
        }
    }

    fn reveal_value(&self, v: &mut Value, admin: bool, secret: bool) {
        match v {
            Value::Object(m) => {
                for (k, child) in m.iter_mut() {
                    self.reveal_value(child, admin, secret || is_secret_field(k));
                }
            }
            Value::Array(a) => a
                .iter_mut()
                .for_each(|x| self.reveal_value(x, admin, secret)),
            Value::String(s) if secret => {
                *s = match (admin, self.open_str(s)) {
                    (true, Some(plain)) => plain,
                    (true, None) if !s.starts_with(SEALED) => s.clone(),
                    _ => MASK.to_string(),
                };
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sealed_at_rest_opened_for_admins_masked_for_others() {
        let s = Secrets::ephemeral(true);
        let mut doc = json!({"name": "pg", "connection": {"config": {"type": "Postgres",
            "username": "u", "authType": {"password": "hunter2"}, "hostPort": "db:5432"}}});
        let Value::Object(m) = &mut doc else { panic!() };
        s.seal(m, None).unwrap();
        let stored = doc.clone();
        let pw = stored["connection"]["config"]["authType"]["password"]
            .as_str()
            .unwrap();
        assert!(pw.starts_with(SEALED) && !pw.contains("hunter2"), "{pw}");
        assert_eq!(stored["connection"]["config"]["username"], "u");
        let mut admin = stored.clone();
        s.reveal(&mut admin, true);
        assert_eq!(
            admin["connection"]["config"]["authType"]["password"],
            "hunter2"
        );
        let mut viewer = stored.clone();
        s.reveal(&mut viewer, false);
        assert_eq!(viewer["connection"]["config"]["authType"]["password"], MASK);
        assert_eq!(viewer["connection"]["config"]["hostPort"], "db:5432");
        // A masked value sent back keeps the stored secret.
        let mut again = viewer.clone();
        let Value::Object(m) = &mut again else {
            panic!()
        };
        s.seal(m, Some(&stored)).unwrap();
        assert_eq!(again["connection"]["config"]["authType"]["password"], pw);
        // Another key cannot open it.
        let mut other = stored.clone();
        Secrets::ephemeral(true).reveal(&mut other, true);
        assert_eq!(other["connection"]["config"]["authType"]["password"], MASK);
    }

    #[test]
    fn not_stored_when_configured_so() {
        let s = Secrets::ephemeral(false);
        let mut doc =
            json!({"connection": {"config": {"password": "p", "token": "t", "user": "u"}}});
        let Value::Object(m) = &mut doc else { panic!() };
        s.seal(m, None).unwrap();
        assert_eq!(doc, json!({"connection": {"config": {"user": "u"}}}));
    }

    #[test]
    fn secret_names() {
        for n in [
            "password",
            "secretKey",
            "awsSecretAccessKey",
            "token",
            "apiKey",
            "private_key",
            "privateKeyPassphrase",
            "gcpCredentials",
        ] {
            assert!(is_secret_field(n), "{n}");
        }
        for n in ["username", "hostPort", "database", "type", "scheme"] {
            assert!(!is_secret_field(n), "{n}");
        }
    }
}

//! The domain layer's errors: what the caller got wrong ([`UserError`]) apart from
//! what went wrong inside ([`InternalError`]), as in the engine.
//!
//! Nothing here knows about HTTP or GraphQL: `api/errors.rs` maps a [`UserError`] to
//! a 4xx status and a GraphQL `extensions.code` by its variant, and logs an
//! [`InternalError`] with its whole source chain while answering a generic 500.

use std::fmt;

/// Result type of the domain layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every error a domain operation returns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request cannot be carried out as asked.
    #[error(transparent)]
    User(#[from] UserError),
    /// Storage or an invariant failed; the caller is not at fault.
    #[error(transparent)]
    Internal(#[from] InternalError),
}

/// The caller's mistake. Each message names the field, parameter or entity.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// Input that does not parse or breaks a rule.
    #[error("{0}")]
    Invalid(String),
    /// The entity, edge or column named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The entity already exists (create) or clashes with one that does.
    #[error("{0}")]
    Conflict(String),
    /// The work ran past the time the server gives one request and stopped at a safe
    /// point; the message says what was done and how to finish.
    #[error("{0}")]
    OverBudget(String),
}

/// A failure inside Headwaters, with its cause kept for the log.
#[derive(Debug, thiserror::Error)]
pub enum InternalError {
    /// The engine's storage failed.
    #[error(transparent)]
    Engine(headwaters_engine::InternalError),
    /// A record the server keeps (run records, import state) did not encode or decode.
    #[error("{context}: {source}")]
    Json {
        /// What was being encoded or decoded.
        context: Context,
        /// The serde error.
        source: serde_json::Error,
    },
    /// Something that cannot happen unless the store and the server disagree.
    #[error("{0}")]
    Invariant(String),
}

/// What a [`InternalError::Json`] was about (a short static phrase plus detail).
#[derive(Debug)]
pub struct Context(pub String);

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Error {
    /// Bad input; the message names the field or parameter.
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::User(UserError::Invalid(msg.into()))
    }

    /// The thing named does not exist.
    pub fn not_found(msg: impl Into<String>) -> Self {
        Error::User(UserError::NotFound(msg.into()))
    }

    /// It already exists.
    pub fn conflict(msg: impl Into<String>) -> Self {
        Error::User(UserError::Conflict(msg.into()))
    }

    /// An invariant broke (a record vanished under a lock, a stored value is not the
    /// shape the server wrote).
    pub fn invariant(msg: impl Into<String>) -> Self {
        Error::Internal(InternalError::Invariant(msg.into()))
    }

    /// A server record did not encode or decode.
    pub fn json(context: impl Into<String>, source: serde_json::Error) -> Self {
        Error::Internal(InternalError::Json {
            context: Context(context.into()),
            source,
        })
    }
}

impl From<headwaters_engine::Error> for Error {
    fn from(e: headwaters_engine::Error) -> Self {
        use headwaters_engine::UserError as U;
        match e {
            headwaters_engine::Error::User(u) => Error::User(match u {
                U::UnknownNode(_)
                | U::UnknownEntity(_)
                | U::UnknownFqn(..)
                | U::UnknownColumn(_) => UserError::NotFound(u.to_string()),
                U::DuplicateFqn(..) => UserError::Conflict(u.to_string()),
                U::TypeChange { .. } | U::BadInput(_) => UserError::Invalid(u.to_string()),
            }),
            headwaters_engine::Error::Internal(i) => Error::Internal(InternalError::Engine(i)),
        }
    }
}

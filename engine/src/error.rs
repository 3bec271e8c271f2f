//! Errors: what the caller got wrong ([`UserError`]) is kept apart from what went wrong
//! inside ([`InternalError`]), so a server can answer 4xx for one and 5xx for the other.

use crate::ids::{EntityType, NodeId};

/// Result type of the engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every error the engine returns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request cannot be carried out as asked.
    #[error(transparent)]
    User(#[from] UserError),
    /// Storage failed or holds something it should not.
    #[error(transparent)]
    Internal(#[from] InternalError),
}

/// The caller's mistake: unknown ids, invalid columns, malformed input.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// No entity has this node id (or it was hard-deleted).
    #[error("unknown node {0}")]
    UnknownNode(NodeId),
    /// No entity has this UUID.
    #[error("no entity with id {0}")]
    UnknownEntity(uuid::Uuid),
    /// No entity of this type has this fully qualified name.
    #[error("no {0} named {1:?}")]
    UnknownFqn(EntityType, String),
    /// No column has this fully qualified name.
    #[error("no column named {0:?}")]
    UnknownColumn(String),
    /// Another entity of the same type already has this FQN.
    #[error("a {0} named {1:?} already exists with another id")]
    DuplicateFqn(EntityType, String),
    /// An entity's type cannot change.
    #[error("entity {id} is a {existing}; its type cannot change to {requested}")]
    TypeChange {
        /// The entity.
        id: uuid::Uuid,
        /// Its type.
        existing: EntityType,
        /// The type asked for.
        requested: EntityType,
    },
    /// Input that does not parse or breaks a rule; the message says what and where.
    #[error("{0}")]
    BadInput(String),
}

/// Failures inside: storage I/O, corruption, incompatible on-disk format.
#[derive(Debug, thiserror::Error)]
pub enum InternalError {
    /// RocksDB reported an error.
    #[error("storage: {0}")]
    Storage(#[from] rocksdb::Error),
    /// A stored value does not decode.
    #[error("corrupt {cf} entry: {detail}")]
    Corrupt {
        /// The column family holding it.
        cf: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// The database was written by a newer, unknown storage version.
    #[error("database storage version {found} is newer than this build supports ({supported})")]
    NewerStorageVersion {
        /// Version found on disk.
        found: u32,
        /// Newest version this build knows.
        supported: u32,
    },
    /// File-system I/O outside RocksDB (bulk-load temp files).
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A write reached a replica's store from outside its replicated log.
    #[error("{0}")]
    NotThroughLog(String),
}

impl Error {
    /// Whether the caller is at fault (as opposed to the engine).
    pub fn is_user_error(&self) -> bool {
        matches!(self, Error::User(_))
    }
}

impl From<rocksdb::Error> for Error {
    fn from(e: rocksdb::Error) -> Self {
        Error::Internal(InternalError::Storage(e))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Internal(InternalError::Io(e))
    }
}

/// Shorthand for a corruption error.
pub(crate) fn corrupt(cf: &'static str, detail: impl Into<String>) -> Error {
    Error::Internal(InternalError::Corrupt {
        cf,
        detail: detail.into(),
    })
}

/// Shorthand for a bad-input error.
pub(crate) fn bad_input(msg: impl Into<String>) -> Error {
    Error::User(UserError::BadInput(msg.into()))
}

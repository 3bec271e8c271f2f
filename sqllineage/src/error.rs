//! Errors of the library's API (analysis problems are diagnostics, not errors).

/// What the caller got wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The dialect name is not known.
    #[error("unknown dialect {name:?}; valid dialects: {valid}")]
    UnknownDialect {
        /// The name given.
        name: String,
        /// The valid names.
        valid: String,
    },
    /// A catalog file is not of the expected shape.
    #[error("catalog: {0}")]
    BadCatalog(String),
}

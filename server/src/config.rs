//! Server configuration: defaults, overridden by an optional TOML file, overridden by
//! command-line flags and `HEADWATERS_*` environment variables (see `headwaters serve
//! --help`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Everything `headwaters serve` can be told. Field names are the TOML keys.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where the store and the JWT secret live.
    pub data_dir: PathBuf,
    /// Accept requests without a token (local exploration only).
    pub no_auth: bool,
    /// OpenMetadata API level reported by `/api/v1/system/version`.
    pub openmetadata_version: String,
    /// Deepest lineage query allowed.
    pub max_depth: u32,
    /// Most nodes per direction in one lineage answer.
    pub node_budget: usize,
    /// MiB of serialized lineage answers kept for repeated questions until the next
    /// write (0: none).
    pub answer_cache_mb: usize,
    /// Largest request body, bytes.
    pub body_limit_bytes: usize,
    /// Longest a request may take, seconds.
    pub request_timeout_secs: u64,
    /// Requests in flight at once (more wait).
    pub max_concurrency: usize,
    /// Requests per minute per token (0: unlimited).
    pub rate_limit_per_minute: u32,
    /// Requests per minute per client IP (0: unlimited).
    pub rate_limit_ip_per_minute: u32,
    /// RS256 public key (PEM) to verify tokens with instead of the HS256 secret.
    pub jwt_public_key: Option<PathBuf>,
    /// RS256 private key (PEM) to mint tokens with.
    pub jwt_private_key: Option<PathBuf>,
    /// Base URL used in `href`s (default: from the request's Host header).
    pub public_url: Option<String>,
    /// OpenLineage namespace -> existing service name, e.g.
    /// `"postgres://db:5432" = "warehouse"` (TOML table `[openlineage_namespaces]`).
    pub openlineage_namespaces: std::collections::BTreeMap<String, String>,
    /// OpenLineage runs kept per job.
    pub openlineage_run_retention: usize,
    /// Keep connection secrets (passwords, tokens, keys), sealed with the data
    /// directory's key; `false` drops them before anything is stored.
    pub store_secrets: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8585)),
            data_dir: PathBuf::from("./headwaters-data"),
            no_auth: false,
            openmetadata_version: "1.11.14".into(),
            max_depth: 50,
            node_budget: 10_000,
            answer_cache_mb: 64,
            body_limit_bytes: 8 << 20,
            request_timeout_secs: 30,
            max_concurrency: 1024,
            rate_limit_per_minute: 60_000,
            rate_limit_ip_per_minute: 120_000,
            jwt_public_key: None,
            jwt_private_key: None,
            public_url: None,
            openlineage_namespaces: Default::default(),
            openlineage_run_retention: 1000,
            store_secrets: true,
        }
    }
}

impl Config {
    /// Reads a TOML file over the defaults; errors name the file and the key.
    pub fn from_file(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("config file {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("config file {}: {e}", path.display()))
    }
}

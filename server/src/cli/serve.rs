//! `headwaters serve` and `headwaters token create`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use headwaters_engine::Store;
use headwaters_server::api::auth::{Keys, Role, TokenRegistry, parse_ttl};
use headwaters_server::cluster::{Cluster, ClusterConfig};
use headwaters_server::config::Config;
use headwaters_server::domain::secrets::Secrets;
use headwaters_server::ingest::demo;
use headwaters_server::{AppState, app};

/// Flags of `serve`; each overrides the TOML file, which overrides the defaults.
#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    /// TOML configuration file (keys as the long flags, with underscores).
    #[arg(long, env = "HEADWATERS_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8585; port 0 picks a free one].
    #[arg(long, env = "HEADWATERS_LISTEN")]
    listen: Option<SocketAddr>,
    /// Where the store and the token secret live [default: ./headwaters-data].
    #[arg(long, env = "HEADWATERS_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Load the demo data platform if the store is empty.
    #[arg(long, env = "HEADWATERS_DEMO")]
    demo: bool,
    /// Accept requests without a token (local exploration only; logs a warning).
    #[arg(long, env = "HEADWATERS_NO_AUTH")]
    no_auth: bool,
    /// OpenMetadata API level to report [default: 1.11.14].
    #[arg(long, env = "HEADWATERS_OPENMETADATA_VERSION")]
    openmetadata_version: Option<String>,
    /// Deepest lineage query allowed [default: 50].
    #[arg(long, env = "HEADWATERS_MAX_DEPTH")]
    max_depth: Option<u32>,
    /// Most nodes per direction in one lineage answer [default: 10000].
    #[arg(long, env = "HEADWATERS_NODE_BUDGET")]
    node_budget: Option<usize>,
    /// MiB of lineage answers kept for repeated questions until the next write, 0 for
    /// none [default: 64].
    #[arg(long, env = "HEADWATERS_ANSWER_CACHE_MB")]
    answer_cache_mb: Option<usize>,
    /// Largest request body in bytes [default: 8 MiB].
    #[arg(long, env = "HEADWATERS_BODY_LIMIT_BYTES")]
    body_limit_bytes: Option<usize>,
    /// Request timeout in seconds [default: 30].
    #[arg(long, env = "HEADWATERS_REQUEST_TIMEOUT_SECS")]
    request_timeout_secs: Option<u64>,
    /// Requests in flight at once [default: 1024].
    #[arg(long, env = "HEADWATERS_MAX_CONCURRENCY")]
    max_concurrency: Option<usize>,
    /// Requests per minute per token, 0 for none [default: 60000].
    #[arg(long, env = "HEADWATERS_RATE_LIMIT_PER_MINUTE")]
    rate_limit_per_minute: Option<u32>,
    /// Requests per minute per client IP, 0 for none [default: 120000].
    #[arg(long, env = "HEADWATERS_RATE_LIMIT_IP_PER_MINUTE")]
    rate_limit_ip_per_minute: Option<u32>,
    /// Verify RS256 tokens with this PEM public key instead of the HS256 secret.
    #[arg(long, env = "HEADWATERS_JWT_PUBLIC_KEY")]
    jwt_public_key: Option<PathBuf>,
    /// Sign RS256 tokens with this PEM private key.
    #[arg(long, env = "HEADWATERS_JWT_PRIVATE_KEY")]
    jwt_private_key: Option<PathBuf>,
    /// Base URL for hrefs [default: from the request's Host header].
    #[arg(long, env = "HEADWATERS_PUBLIC_URL")]
    public_url: Option<String>,
    /// Run as one node of a replicated cluster over NATS JetStream: the NATS servers'
    /// URLs, comma-separated (nats://host:4222,...). Every node of a cluster is given
    /// the same URLs, stream and token secret.
    #[arg(long, env = "HEADWATERS_CLUSTER", value_delimiter = ',')]
    cluster: Vec<String>,
    /// This node's name in the cluster, unique [default: the listen address].
    #[arg(long, env = "HEADWATERS_NODE_NAME", requires = "cluster")]
    node_name: Option<String>,
    /// JetStream stream holding the cluster's log.
    #[arg(
        long,
        env = "HEADWATERS_CLUSTER_STREAM",
        default_value = "HEADWATERS",
        requires = "cluster"
    )]
    cluster_stream: String,
    /// Copies of the log JetStream keeps (at most the number of NATS servers).
    #[arg(
        long,
        env = "HEADWATERS_CLUSTER_REPLICAS",
        default_value_t = 3,
        requires = "cluster"
    )]
    cluster_replicas: usize,
}

/// Cluster membership from the flags, if asked for.
fn cluster_config(a: &ServeArgs, listen: SocketAddr) -> Option<ClusterConfig> {
    if a.cluster.is_empty() {
        return None;
    }
    Some(ClusterConfig {
        urls: a.cluster.clone(),
        node: a.node_name.clone().unwrap_or_else(|| listen.to_string()),
        stream: a.cluster_stream.clone(),
        replicas: a.cluster_replicas,
        ack_timeout: std::time::Duration::from_secs(5),
        apply_timeout: std::time::Duration::from_secs(20),
    })
}

/// `token` subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum TokenCommand {
    /// Print a new token signed with the server's key.
    Create {
        /// Where the server's data (and HS256 secret) lives.
        #[arg(long, env = "HEADWATERS_DATA_DIR", default_value = "./headwaters-data")]
        data_dir: PathBuf,
        /// Name (subject) of the token.
        #[arg(long)]
        name: String,
        /// viewer (reads), editor (writes), admin (everything).
        #[arg(long, default_value = "viewer")]
        role: String,
        /// Lifetime: 30d, 12h, 90m, 3600s or never.
        #[arg(long, default_value = "30d")]
        expires: String,
        /// RS256: the PEM public key the server verifies with.
        #[arg(long, requires = "jwt_private_key")]
        jwt_public_key: Option<PathBuf>,
        /// RS256: the PEM private key to sign with.
        #[arg(long)]
        jwt_private_key: Option<PathBuf>,
    },
    /// List the tokens minted for this data directory (id, name, role, expiry, revoked).
    List {
        /// Where the server's data lives.
        #[arg(long, env = "HEADWATERS_DATA_DIR", default_value = "./headwaters-data")]
        data_dir: PathBuf,
    },
    /// Revoke a token by id: a running server refuses it within a second.
    Revoke {
        /// Where the server's data lives.
        #[arg(long, env = "HEADWATERS_DATA_DIR", default_value = "./headwaters-data")]
        data_dir: PathBuf,
        /// The token's id (`headwaters token list`).
        id: String,
    },
}

fn config(a: &ServeArgs) -> Result<(Config, bool)> {
    let mut c = match &a.config {
        Some(p) => Config::from_file(p).map_err(anyhow::Error::msg)?,
        None => Config::default(),
    };
    macro_rules! over {
        ($($f:ident),*) => { $(if let Some(v) = a.$f.clone() { c.$f = v; })* };
    }
    over!(
        listen,
        data_dir,
        openmetadata_version,
        max_depth,
        node_budget,
        answer_cache_mb,
        body_limit_bytes,
        request_timeout_secs,
        max_concurrency,
        rate_limit_per_minute,
        rate_limit_ip_per_minute
    );
    if a.no_auth {
        c.no_auth = true;
    }
    if a.jwt_public_key.is_some() {
        c.jwt_public_key = a.jwt_public_key.clone();
    }
    if a.jwt_private_key.is_some() {
        c.jwt_private_key = a.jwt_private_key.clone();
    }
    if a.public_url.is_some() {
        c.public_url = a.public_url.clone();
    }
    if c.max_depth == 0 || c.node_budget == 0 || c.max_concurrency == 0 {
        bail!("max_depth, node_budget and max_concurrency must be at least 1");
    }
    Ok((c, a.demo))
}

fn keys_for(c: &Config) -> Result<(Option<Keys>, bool)> {
    if c.no_auth {
        return Ok((None, false));
    }
    if let Some(public) = &c.jwt_public_key {
        let k = Keys::rs256(public, c.jwt_private_key.as_deref())
            .map_err(anyhow::Error::msg)?
            .with_registry(&c.data_dir);
        return Ok((Some(k), false));
    }
    let (k, created) = Keys::hs256_in(&c.data_dir)
        .with_context(|| format!("reading the token secret in {}", c.data_dir.display()))?;
    Ok((Some(k), created))
}

/// Runs the service until SIGINT/SIGTERM, then flushes the store.
pub(crate) fn serve(args: ServeArgs) -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let (cfg, demo_wanted) = config(&args)?;
    if demo_wanted && !args.cluster.is_empty() {
        bail!(
            "--demo and --cluster do not go together: load the demo into a single node, or send it to the cluster through the API"
        );
    }
    // The data directory, the store's files, the token secret and the secrets key are
    // the owner's alone.
    headwaters_server::files::owner_only_from_now_on();
    headwaters_server::files::private_dir(&cfg.data_dir)
        .with_context(|| format!("creating data directory {}", cfg.data_dir.display()))?;
    let secrets = Secrets::in_dir(&cfg.data_dir, cfg.store_secrets)
        .with_context(|| format!("reading the secrets key in {}", cfg.data_dir.display()))?;
    let (keys, first_start) = keys_for(&cfg)?;
    if cfg.no_auth {
        tracing::warn!(
            "--no-auth: every request is accepted without a token, with the admin role; do not expose this server"
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let store_dir = cfg.data_dir.join(headwaters_server::STORE_DIR);
    let cluster = cluster_config(&args, cfg.listen);
    if let Some(cc) = &cluster {
        rt.block_on(headwaters_server::cluster::prepare_store(cc, &store_dir))
            .context("preparing the store from the cluster")?;
    }
    let opening = std::time::Instant::now();
    let store = Store::open(&store_dir)
        .with_context(|| format!("opening the store in {}", cfg.data_dir.display()))?;
    let seconds = opening.elapsed().as_secs_f64();
    match store.graph_source() {
        headwaters_engine::GraphSource::Snapshot => {
            tracing::info!(seconds, "store opened; graph read from its snapshot")
        }
        headwaters_engine::GraphSource::Rebuilt(why) => {
            tracing::info!(
                seconds,
                "store opened; graph rebuilt from the database ({why})"
            )
        }
        headwaters_engine::GraphSource::Repaired => {
            tracing::warn!(
                seconds,
                "store opened; an interrupted bulk load was repaired"
            )
        }
    }
    // Bound before the state is built, so `href`s carry the real port (with port 0).
    let listen = cfg.listen;
    let listener = std::net::TcpListener::bind(listen)
        .with_context(|| format!("cannot listen on {listen} (in use? try --listen 127.0.0.1:0)"))?;
    listener.set_nonblocking(true)?;
    let mut cfg = cfg;
    cfg.listen = listener.local_addr()?;
    if cfg.public_url.is_none() && cfg.listen.ip().is_unspecified() {
        tracing::warn!(
            "listening on {} without public_url: hrefs will name that address; set public_url to the address clients use",
            cfg.listen
        );
    }
    let started = std::time::Instant::now();
    let state = AppState::new(store, cfg, keys, secrets).map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "store open, search index built"
    );
    if demo_wanted {
        let empty = state.service().stats().nodes == 0;
        if empty {
            let t = std::time::Instant::now();
            let (tables, edges) = demo::load(state.service())
                .map_err(|e| anyhow::anyhow!("loading the demo: {e}"))?;
            tracing::info!(
                tables,
                edges,
                elapsed_ms = t.elapsed().as_millis() as u64,
                "demo data platform loaded"
            );
        } else {
            tracing::info!("store is not empty; --demo leaves it as it is");
        }
    }
    if first_start && let Some(k) = &state.keys {
        let token = k
            .mint(
                "admin",
                Role::Admin,
                parse_ttl("365d").map_err(anyhow::Error::msg)?,
            )
            .map_err(anyhow::Error::msg)?;
        println!(
            "first start: admin token (valid 365 days; mint more with `headwaters token create`):\n{token}"
        );
    }
    let result = rt.block_on(async move {
        if let Some(cc) = cluster {
            let c = Cluster::join(cc, state.service.clone()).await?;
            state.join_cluster(c);
        }
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let local = listener.local_addr()?;
        // The signal handlers are in place before the address is announced: a SIGTERM
        // right after start still stops the server gracefully (it killed it before).
        let shutdown = shutdown_signal()?;
        println!("headwaters listening on http://{local}");
        use std::io::Write;
        std::io::stdout().flush().ok();
        let router = app(state.clone());
        let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
        let serving = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        });
        // In-flight requests get a grace period, not forever: a long write must not
        // keep a stopping server alive.
        let grace = async {
            let _ = stop_rx.changed().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        };
        tokio::select! {
            r = serving => r.context("serving")?,
            _ = grace => tracing::warn!(
                grace_secs = SHUTDOWN_GRACE.as_secs(),
                "requests still running after the grace period; stopping without them"
            ),
        }
        tracing::info!("shutting down: flushing the store");
        state
            .service()
            .store
            .flush()
            .map_err(|e| anyhow::anyhow!("flush: {e}"))?;
        Ok::<_, anyhow::Error>(())
    });
    // Blocking work still running (its request was never answered) is not waited for.
    rt.shutdown_timeout(std::time::Duration::from_millis(500));
    result
}

/// How long a stopping server lets in-flight requests finish.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// SIGINT or SIGTERM, with the handlers installed now (not when first polled).
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).context("installing SIGINT")?;
        let mut terminate = signal(SignalKind::terminate()).context("installing SIGTERM")?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {},
                _ = terminate.recv() => {},
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// `headwaters token create`.
pub(crate) fn token(cmd: TokenCommand) -> Result<()> {
    match cmd {
        TokenCommand::Create {
            data_dir,
            name,
            role,
            expires,
            jwt_public_key,
            jwt_private_key,
        } => {
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            let ttl = parse_ttl(&expires).map_err(anyhow::Error::msg)?;
            let keys = match jwt_public_key {
                Some(p) => {
                    Keys::rs256(&p, jwt_private_key.as_deref()).map_err(anyhow::Error::msg)?
                }
                None => {
                    let (k, created) = Keys::hs256_in(&data_dir).with_context(|| {
                        format!("reading the token secret in {}", data_dir.display())
                    })?;
                    if created {
                        eprintln!("note: created a new token secret in {}", data_dir.display());
                    }
                    k
                }
            };
            let keys = if keys.registry().is_none() {
                keys.with_registry(&data_dir)
            } else {
                keys
            };
            println!(
                "{}",
                keys.mint(&name, role, ttl).map_err(anyhow::Error::msg)?
            );
            Ok(())
        }
        TokenCommand::List { data_dir } => {
            let tokens = TokenRegistry::in_dir(&data_dir)
                .list()
                .with_context(|| format!("reading the token registry in {}", data_dir.display()))?;
            println!(
                "{:<36}  {:<20}  {:<6}  {:<10}  revoked",
                "id", "name", "role", "expires"
            );
            for t in tokens {
                let expires = time::OffsetDateTime::from_unix_timestamp(t.expires_at as i64)
                    .map(|d| d.date().to_string())
                    .unwrap_or_else(|_| "never".into());
                println!(
                    "{:<36}  {:<20}  {:<6}  {:<10}  {}",
                    t.id,
                    t.name,
                    format!("{:?}", t.role).to_lowercase(),
                    expires,
                    if t.revoked { "yes" } else { "no" }
                );
            }
            Ok(())
        }
        TokenCommand::Revoke { data_dir, id } => {
            let live = TokenRegistry::in_dir(&data_dir)
                .revoke(&id)
                .with_context(|| format!("revoking {id} in {}", data_dir.display()))?;
            eprintln!(
                "{}",
                if live {
                    format!("revoked {id}")
                } else {
                    format!("{id} was revoked already")
                }
            );
            Ok(())
        }
    }
}

/// `import` subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum ImportCommand {
    /// A dbt project's target/manifest.json (and catalog.json).
    Dbt {
        /// Where the store lives.
        #[arg(long, env = "HEADWATERS_DATA_DIR", default_value = "./headwaters-data")]
        data_dir: PathBuf,
        /// target/manifest.json.
        #[arg(long)]
        manifest: PathBuf,
        /// target/catalog.json (column names and types; `dbt docs generate` writes it).
        #[arg(long)]
        catalog: Option<PathBuf>,
        /// The database service dbt builds in (created if missing).
        #[arg(long)]
        service: String,
    },
}

/// `headwaters import dbt`.
pub(crate) fn import(cmd: ImportCommand) -> Result<()> {
    let ImportCommand::Dbt {
        data_dir,
        manifest,
        catalog,
        service,
    } = cmd;
    let read = |p: &PathBuf| -> Result<serde_json::Value> {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", p.display()))
    };
    let m = read(&manifest)?;
    let c = catalog.as_ref().map(read).transpose()?;
    let path = data_dir.join(headwaters_server::STORE_DIR);
    let store = Store::open(&path).with_context(|| {
        format!(
            "opening the store in {} (is a server running on it?)",
            path.display()
        )
    })?;
    headwaters_server::cluster::refuse_offline_write(&store, "a dbt import")?;
    let svc = headwaters_server::domain::Service::new(store, Default::default())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message("importing dbt");
    let report = svc
        .import_dbt(
            &m,
            c.as_ref(),
            &service,
            &|done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            },
            None,
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    bar.finish_and_clear();
    svc.store.flush().map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "dbt project {}: {} models, {} seeds, {} snapshots, {} sources; {} edges, {} column edges; removed from the previous import: {} edges, {} tables",
        report.project,
        report.models,
        report.seeds,
        report.snapshots,
        report.sources,
        report.edges,
        report.column_edges,
        report.removed_edges,
        report.removed_entities
    );
    for (model, why) in &report.unanalyzed {
        println!("  column lineage not analyzed for {model}: {why}");
    }
    Ok(())
}

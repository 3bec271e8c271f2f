//! Cluster mode: state-machine replication over a NATS JetStream stream.
//!
//! Every write is a [`Command`] (`api::commands`). The node that receives it fixes
//! its time and randomness, publishes it to the stream (replicated by JetStream's Raft
//! across the NATS servers) and answers once JetStream has acknowledged it (a quorum
//! has it) and this node has applied it. Every node consumes the stream in order and
//! applies each command to its own store, recording the command's sequence with it
//! ([`Store::begin_command`] / [`Store::end_command`]); reads are served locally. The
//! same commands in the same order from the same state give the same store on every
//! node (compare [`Store::digest`]).
//!
//! [`Store::begin_command`]: headwaters_engine::Store::begin_command
//! [`Store::end_command`]: headwaters_engine::Store::end_command
//! [`Store::digest`]: headwaters_engine::Store::digest

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::{oneshot, watch};
use uuid::Uuid;

use crate::api::commands::{Command, Op};
use crate::api::errors::ApiError;
use crate::domain::{self, Service, clock};

/// Why cluster work failed.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The operator must act (bad URL, a store that cannot continue, no snapshot).
    #[error("{0}")]
    Refused(String),
    /// NATS or JetStream answered with an error or not at all.
    #[error("NATS: {0}")]
    Nats(String),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] headwaters_engine::Error),
    /// Files (snapshots).
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A snapshot manifest that does not decode.
    #[error("snapshot manifest: {0}")]
    Json(#[from] serde_json::Error),
    /// A blocking task died.
    #[error("a blocking task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl<K> From<async_nats::error::Error<K>> for ClusterError
where
    K: Clone + std::fmt::Debug + std::fmt::Display + PartialEq,
{
    fn from(e: async_nats::error::Error<K>) -> Self {
        ClusterError::Nats(e.to_string())
    }
}

type Result<T, E = ClusterError> = std::result::Result<T, E>;

/// A client of the cluster's NATS servers, named after this node.
async fn connect(cfg: &ClusterConfig) -> Result<async_nats::Client> {
    let addrs: Vec<async_nats::ServerAddr> = cfg
        .urls
        .iter()
        .map(|u| {
            u.parse().map_err(|e| {
                ClusterError::Refused(format!("--cluster: {u:?} is not a NATS URL: {e}"))
            })
        })
        .collect::<Result<_>>()?;
    async_nats::ConnectOptions::new()
        .name(format!("headwaters-{}", cfg.node))
        .connection_timeout(Duration::from_secs(5))
        .retry_on_initial_connect()
        .connect(addrs)
        .await
        .map_err(|e| ClusterError::Nats(format!("connecting to {}: {e}", cfg.urls.join(","))))
}

/// How a node joins a cluster.
#[derive(Clone, Debug)]
pub struct ClusterConfig {
    /// NATS server URLs (any of the cluster's servers; the client fails over).
    pub urls: Vec<String>,
    /// This node's name (unique in the cluster).
    pub node: String,
    /// The JetStream stream holding the commands.
    pub stream: String,
    /// Its replication factor (3 for a three-server NATS cluster).
    pub replicas: usize,
    /// How long a write waits for JetStream's acknowledgement.
    pub ack_timeout: Duration,
    /// How long a write waits for this node to apply it once acknowledged.
    pub apply_timeout: Duration,
}

/// A command as it travels in the log.
#[derive(Serialize, Deserialize)]
struct Envelope {
    /// Unique per write; JetStream drops a second publication with the same id.
    id: Uuid,
    /// The node that received the request (it answers the client).
    origin: String,
    /// The time every node stamps the write with (ms since the epoch).
    at: i64,
    /// The randomness every node draws new ids and nonces from.
    seed: [u8; 32],
    command: Command,
}

type Waiter = oneshot::Sender<Box<dyn Any + Send>>;

/// How long the log may be ahead of a node with nothing arriving before it subscribes
/// again.
const STALL: Duration = Duration::from_secs(3);

/// A node's membership in the cluster.
pub struct Cluster {
    cfg: ClusterConfig,
    client: async_nats::Client,
    js: jetstream::Context,
    subject: String,
    svc: Arc<Service>,
    applied: watch::Sender<u64>,
    /// The stream's last sequence, as last seen.
    stream_last: AtomicU64,
    /// Set once this node has applied everything the stream held when it was last
    /// asked (and stays set while it keeps up).
    caught_up: AtomicBool,
    waiters: Mutex<HashMap<Uuid, Waiter>>,
    /// Why this node stopped applying (it then refuses writes and is not ready).
    broken: Mutex<Option<String>>,
    /// Commands applied since start, and those whose payload could not be read.
    applied_count: AtomicU64,
    /// Apply latency sum (µs) and count, and receive-to-apply lag of own writes.
    apply_micros: AtomicU64,
    /// Held while a command is applied, and by snapshots and digests, so those see the
    /// store between two commands.
    gate: tokio::sync::Mutex<()>,
}

/// What `/metrics` and the answers' headers show of a node.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// This node's name.
    pub node: String,
    /// Last command applied here.
    pub applied_sequence: u64,
    /// The stream's last sequence, as last seen.
    pub stream_sequence: u64,
    /// Commands in the log not yet applied here.
    pub lag: u64,
    /// Connected to NATS now.
    pub connected: bool,
    /// Caught up at least once since start and applying.
    pub ready: bool,
    /// Why this node stopped applying, if it did.
    pub broken: Option<String>,
    /// Commands applied since start.
    pub applied_since_start: u64,
    /// Commands this node's store has applied in all (each log entry once: equal to
    /// `appliedSequence`).
    pub applied_commands: u64,
    /// SHA-256 chained over every log entry applied here: equal on two nodes at the
    /// same sequence exactly when they applied the same log.
    pub log_hash: String,
}

fn unavailable(what: impl std::fmt::Display) -> ApiError {
    ApiError::Unavailable(format!(
        "writes are refused: {what}; reads are still served from this node's copy (see the X-Headwaters-Lag header)"
    ))
}

impl Cluster {
    /// Connects to NATS, creates the stream if missing, and starts applying the log
    /// from where `svc`'s store stands. Fails when no NATS server answers.
    pub async fn join(cfg: ClusterConfig, svc: Arc<Service>) -> Result<Arc<Cluster>> {
        let state = svc.store.replica_state()?;
        if let Some(seq) = state.applying {
            return Err(ClusterError::Refused(format!(
                "the store stopped in the middle of command {seq} of the cluster's log, so it holds part of it; \
                 start this node on an empty data directory (it rebuilds from the log or a snapshot)"
            )));
        }
        svc.store.set_durable(false);
        svc.store.set_replica(true);
        let client = connect(&cfg).await?;
        let mut js = jetstream::new(client.clone());
        js.set_timeout(cfg.ack_timeout);
        let subject = format!("{}.commands", cfg.stream.to_lowercase());
        let stream_cfg = stream::Config {
            name: cfg.stream.clone(),
            subjects: vec![subject.clone()],
            num_replicas: cfg.replicas,
            storage: stream::StorageType::File,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        };
        let mut tries = 0;
        let mut st = loop {
            match js.get_or_create_stream(stream_cfg.clone()).await {
                Ok(s) => break s,
                Err(e) if tries < 60 => {
                    tries += 1;
                    tracing::warn!(error = %e, "JetStream stream not available yet; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => {
                    return Err(ClusterError::Nats(format!(
                        "creating the JetStream stream {}: {e}",
                        stream_cfg.name
                    )));
                }
            }
        };
        let last = st.info().await.map(|i| i.state.last_sequence).unwrap_or(0);
        let (applied, _) = watch::channel(state.applied);
        let c = Arc::new(Cluster {
            cfg,
            client,
            js,
            subject,
            svc,
            applied,
            stream_last: AtomicU64::new(last),
            caught_up: AtomicBool::new(state.applied >= last),
            waiters: Mutex::new(HashMap::new()),
            broken: Mutex::new(None),
            applied_count: AtomicU64::new(0),
            apply_micros: AtomicU64::new(0),
            gate: tokio::sync::Mutex::new(()),
        });
        tokio::spawn(c.clone().apply_loop());
        tokio::spawn(c.clone().watch_loop());
        tracing::info!(
            node = %c.cfg.node,
            applied = state.applied,
            stream_last = last,
            "joined the cluster"
        );
        Ok(c)
    }

    /// The last sequence applied on this node.
    pub fn applied(&self) -> u64 {
        *self.applied.borrow()
    }

    /// This node's view of the cluster.
    pub fn status(&self) -> Status {
        // The store's own record first: sequence, count and log hash from one moment.
        let replica = self.svc.store.replica_state().ok();
        let applied = replica
            .as_ref()
            .map_or_else(|| self.applied(), |r| r.applied);
        let stream = self.stream_last.load(Ordering::Relaxed).max(applied);
        let broken = self
            .broken
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        Status {
            node: self.cfg.node.clone(),
            applied_sequence: applied,
            stream_sequence: stream,
            lag: stream - applied,
            connected: self.connected(),
            ready: self.caught_up.load(Ordering::Relaxed) && broken.is_none(),
            broken,
            applied_since_start: self.applied_count.load(Ordering::Relaxed),
            applied_commands: replica.as_ref().map_or(0, |s| s.applied_count),
            log_hash: replica.map(|s| s.log_hash).unwrap_or_default(),
        }
    }

    /// Applied sequence, lag and whether answers may be stale (cut off from the log,
    /// behind it, or stopped), without touching the store: for every answer's headers.
    pub fn position(&self) -> (u64, u64, bool) {
        let applied = self.applied();
        let lag = self.stream_last.load(Ordering::Relaxed).max(applied) - applied;
        let broken = self
            .broken
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some();
        (applied, lag, !self.connected() || lag > 0 || broken)
    }

    /// Mean time to apply one command since start, in µs.
    pub fn mean_apply_micros(&self) -> u64 {
        let n = self.applied_count.load(Ordering::Relaxed);
        self.apply_micros.load(Ordering::Relaxed) / n.max(1)
    }

    fn connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    /// Waits until this node has applied `seq` (read-your-writes across nodes), at
    /// most `timeout`.
    pub async fn wait_for(&self, seq: u64, timeout: Duration) -> Result<(), ApiError> {
        let mut rx = self.applied.subscribe();
        let waited = tokio::time::timeout(timeout, rx.wait_for(|a| *a >= seq)).await;
        match waited {
            Ok(Ok(_)) => Ok(()),
            _ => Err(ApiError::Unavailable(format!(
                "X-Headwaters-Min-Sequence: this node has applied the cluster's log up to {} and did not reach {seq} within {} s; retry, or ask another node",
                self.applied(),
                timeout.as_secs()
            ))),
        }
    }

    /// Publishes a write and answers its result once this node has applied it.
    pub async fn submit<O: Op>(&self, command: Command) -> Result<O::Out, ApiError> {
        if let Some(why) = self
            .broken
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Err(unavailable(format!(
                "this node stopped applying the log ({why})"
            )));
        }
        if !self.connected() {
            return Err(unavailable(
                "this node is not connected to the cluster's log (NATS JetStream)",
            ));
        }
        let env = Envelope {
            id: Uuid::new_v4(),
            origin: self.cfg.node.clone(),
            at: clock::now_millis(),
            seed: clock::fresh_seed(),
            command,
        };
        let payload = serde_json::to_vec(&env)
            .map_err(|e| ApiError::Internal(format!("encoding a command: {e}")))?;
        let max = self.client.server_info().max_payload;
        if max > 0 && payload.len() > max {
            return Err(ApiError::PayloadTooLarge(format!(
                "this write is {} bytes as a cluster command; the NATS servers take at most {max} (raise max_payload in their configuration, or split the request)",
                payload.len()
            )));
        }
        let (tx, rx) = oneshot::channel();
        self.waiters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(env.id, tx);
        let forget = || {
            self.waiters
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&env.id);
        };
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", env.id.to_string().as_str());
        let ack = async {
            self.js
                .publish_with_headers(self.subject.clone(), headers, payload.into())
                .await?
                .await
        };
        let seq = match tokio::time::timeout(self.cfg.ack_timeout, ack).await {
            Ok(Ok(a)) => a.sequence,
            Ok(Err(e)) => {
                forget();
                return Err(unavailable(format!(
                    "the cluster's log (NATS JetStream) did not take it: {e}"
                )));
            }
            Err(_) => {
                forget();
                return Err(unavailable(format!(
                    "the cluster's log (NATS JetStream) did not acknowledge it within {} s; it may or may not have been written",
                    self.cfg.ack_timeout.as_secs()
                )));
            }
        };
        self.stream_last.fetch_max(seq, Ordering::Relaxed);
        match tokio::time::timeout(self.cfg.apply_timeout, rx).await {
            Ok(Ok(out)) => match out.downcast::<domain::Result<O::Out>>() {
                Ok(r) => (*r).map_err(ApiError::from),
                Err(_) => Err(ApiError::Internal("a command answered another type".into())),
            },
            _ => {
                forget();
                Err(ApiError::Unavailable(format!(
                    "the write is in the cluster's log at sequence {seq} (durable) but this node has not applied it within {} s; it will be: read it with X-Headwaters-Min-Sequence: {seq}",
                    self.cfg.apply_timeout.as_secs()
                )))
            }
        }
    }

    fn set_broken(&self, why: String) {
        tracing::error!(node = %self.cfg.node, reason = %why, "this node stopped applying the cluster's log");
        *self.broken.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
    }

    /// Consumes the log from the next unapplied command, forever; a failed
    /// subscription (NATS restarting, leader moving) is made again from where it left.
    async fn apply_loop(self: Arc<Self>) {
        loop {
            if self
                .broken
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_some()
            {
                return;
            }
            if let Err(e) = self.consume().await {
                tracing::warn!(node = %self.cfg.node, error = %e, "reading the cluster's log; resubscribing");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }

    async fn consume(&self) -> Result<()> {
        let start = self.applied() + 1;
        let slow = |what: &str| {
            ClusterError::Nats(format!(
                "{what} did not answer within {} s",
                STALL.as_secs()
            ))
        };
        let mut st = tokio::time::timeout(STALL, self.js.get_stream(&self.cfg.stream))
            .await
            .map_err(|_| slow("the stream"))??;
        let first = tokio::time::timeout(STALL, st.info())
            .await
            .map_err(|_| slow("the stream's info"))??
            .state
            .first_sequence;
        if first > start {
            self.set_broken(format!(
                "the log starts at {first} but this node has applied only up to {}; it needs a snapshot",
                start - 1
            ));
            return Ok(());
        }
        let consumer = tokio::time::timeout(
            STALL,
            st.create_consumer(consumer::pull::OrderedConfig {
                filter_subject: self.subject.clone(),
                deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                    start_sequence: start,
                },
                ..Default::default()
            }),
        )
        .await
        .map_err(|_| slow("creating a consumer"))??;
        let mut messages = tokio::time::timeout(STALL, consumer.messages())
            .await
            .map_err(|_| slow("the consumer"))??;
        loop {
            // A subscription can go quiet without an error (a NATS server killed, the
            // stream's leader moving): when the log is ahead of this node and nothing
            // arrives for a while, subscribe again from where it stands.
            let m = match tokio::time::timeout(STALL, messages.next()).await {
                Ok(Some(m)) => m?,
                Ok(None) => return Ok(()),
                Err(_) => {
                    // Ask the log itself (not the last value seen): resubscribe when it
                    // is ahead, or when it does not answer.
                    let last = tokio::time::timeout(STALL, async {
                        let mut st = self.js.get_stream(&self.cfg.stream).await.ok()?;
                        st.info().await.ok().map(|i| i.state.last_sequence)
                    })
                    .await
                    .ok()
                    .flatten();
                    match last {
                        Some(l) if l <= self.applied() => continue,
                        Some(l) => {
                            self.stream_last.fetch_max(l, Ordering::Relaxed);
                            return Err(ClusterError::Nats(format!(
                                "no command arrived for {} s while {} behind the log",
                                STALL.as_secs(),
                                l - self.applied()
                            )));
                        }
                        None => {
                            return Err(ClusterError::Nats(
                                "no command arrived and the log does not answer".into(),
                            ));
                        }
                    }
                }
            };
            let seq = m
                .info()
                .map_err(|e| ClusterError::Nats(e.to_string()))?
                .stream_sequence;
            self.apply(seq, m.payload.to_vec()).await?;
        }
    }

    async fn apply(&self, seq: u64, payload: Vec<u8>) -> Result<()> {
        let applied = self.applied();
        if seq <= applied {
            return Ok(());
        }
        if seq != applied + 1 {
            return Err(ClusterError::Nats(format!(
                "the log skipped from {applied} to {seq}"
            )));
        }
        let svc = self.svc.clone();
        let started = std::time::Instant::now();
        let _gate = self.gate.lock().await;
        let done = tokio::task::spawn_blocking(move || -> headwaters_engine::Result<_> {
            svc.store.begin_command(seq)?;
            let out = match serde_json::from_slice::<Envelope>(&payload) {
                Ok(env) => {
                    let (id, origin) = (env.id, env.origin);
                    let out = clock::with_fixed(env.at, env.seed, || env.command.run(&svc));
                    Some((id, origin, out))
                }
                Err(e) => {
                    // Every node skips it alike (same bytes, same error).
                    tracing::error!(seq, error = %e, "a command in the log cannot be read; skipped");
                    None
                }
            };
            svc.store.end_command(seq, &payload)?;
            Ok(out)
        })
        .await;
        let out = match done {
            Ok(Ok(out)) => out,
            Ok(Err(e)) => {
                self.set_broken(format!("applying command {seq}: {e}"));
                return Err(ClusterError::Store(e));
            }
            Err(e) => {
                self.set_broken(format!("applying command {seq} panicked: {e}"));
                return Err(ClusterError::Refused(format!(
                    "applying command {seq} panicked"
                )));
            }
        };
        self.apply_micros
            .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        self.applied_count.fetch_add(1, Ordering::Relaxed);
        self.applied.send_replace(seq);
        if seq >= self.stream_last.load(Ordering::Relaxed) {
            self.caught_up.store(true, Ordering::Relaxed);
        }
        if let Some((id, origin, out)) = out
            && origin == self.cfg.node
            && let Some(w) = self
                .waiters
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&id)
        {
            let _ = w.send(out);
        }
        Ok(())
    }

    /// Keeps the stream's last sequence fresh (lag, readiness).
    async fn watch_loop(self: Arc<Self>) {
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let Ok(mut st) = self.js.get_stream(&self.cfg.stream).await else {
                continue;
            };
            if let Ok(info) = st.info().await {
                let last = info.state.last_sequence;
                self.stream_last.fetch_max(last, Ordering::Relaxed);
                if self.applied() >= last {
                    self.caught_up.store(true, Ordering::Relaxed);
                }
            }
        }
    }
}

/// Request header: answer only once this node has applied the log up to this sequence
/// (a sequence another node's write answered with), waiting up to 10 s.
pub const MIN_SEQUENCE: &str = "x-headwaters-min-sequence";
/// Answer header: the last command this node had applied when it answered.
pub const SEQUENCE: &str = "x-headwaters-sequence";
/// Answer header: commands in the log this node had not applied yet.
pub const LAG: &str = "x-headwaters-lag";
/// Answer header, `true` when this node is cut off from the log or behind it: the
/// answer may miss recent writes.
pub const STALE: &str = "x-headwaters-stale";

/// Middleware of a cluster node: honours [`MIN_SEQUENCE`] and marks every answer with
/// [`SEQUENCE`], [`LAG`] and (when it applies) [`STALE`]. A single node passes through.
pub async fn consistency(
    axum::extract::State(state): axum::extract::State<crate::api::AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let Some(c) = state.cluster.get().cloned() else {
        return next.run(req).await;
    };
    let wanted = req.headers().get(MIN_SEQUENCE).map(|v| {
        v.to_str()
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .ok_or_else(|| {
                ApiError::bad(format!(
                    "header {MIN_SEQUENCE}: {v:?} is not a sequence number"
                ))
            })
    });
    if let Some(w) = wanted {
        let waited = match w {
            Ok(seq) => c.wait_for(seq, Duration::from_secs(10)).await,
            Err(e) => Err(e),
        };
        if let Err(e) = waited {
            return e.into_response();
        }
    }
    let mut resp = next.run(req).await;
    let (applied, lag, stale) = c.position();
    let h = resp.headers_mut();
    h.insert(SEQUENCE, applied.into());
    h.insert(LAG, lag.into());
    if stale {
        h.insert(STALE, axum::http::HeaderValue::from_static("true"));
    }
    resp
}

/// What a snapshot in the object store holds.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotInfo {
    /// The last command the snapshot's store had applied.
    pub sequence: u64,
    /// The store's files (objects `<sequence>/<file>` in the bucket).
    pub files: Vec<String>,
    /// Bytes in all.
    pub bytes: u64,
    /// The node that took it.
    pub node: String,
    /// The log was trimmed up to here (commands before it are gone; `keep` entries are
    /// left behind the snapshot for nodes a little behind it); 0: not trimmed.
    pub trimmed_before: u64,
}

/// The object naming the current snapshot.
const LATEST: &str = "latest";

fn bucket_of(stream: &str) -> String {
    format!("{stream}_SNAPSHOTS")
}

async fn snapshot_bucket(
    js: &jetstream::Context,
    stream: &str,
    replicas: usize,
) -> Result<jetstream::object_store::ObjectStore> {
    let name = bucket_of(stream);
    if let Ok(os) = js.get_object_store(&name).await {
        return Ok(os);
    }
    Ok(js
        .create_object_store(jetstream::object_store::Config {
            bucket: name,
            description: Some("Headwaters store snapshots".into()),
            num_replicas: replicas,
            ..Default::default()
        })
        .await?)
}

async fn read_latest(os: &jetstream::object_store::ObjectStore) -> Result<Option<SnapshotInfo>> {
    use tokio::io::AsyncReadExt;
    let mut o = match os.get(LATEST).await {
        Ok(o) => o,
        Err(e) if e.kind() == jetstream::object_store::GetErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut buf = Vec::new();
    o.read_to_end(&mut buf).await?;
    Ok(Some(serde_json::from_slice(&buf)?))
}

impl Cluster {
    /// Takes a snapshot of this node's store (a RocksDB checkpoint, taken between two
    /// commands), uploads it to the JetStream object store as the cluster's current
    /// snapshot, deletes the one it replaces and trims the log up to it: new or
    /// far-behind nodes start from it.
    pub async fn snapshot(
        &self,
        data_dir: &std::path::Path,
        trim_keeping: Option<u64>,
    ) -> Result<SnapshotInfo> {
        let dir = data_dir.join(format!("snapshot-{}", Uuid::new_v4().simple()));
        let svc = self.svc.clone();
        let d = dir.clone();
        let seq = {
            let _gate = self.gate.lock().await;
            tokio::task::spawn_blocking(move || svc.store.checkpoint(&d)).await??
        };
        let result = self.upload(&dir, seq, trim_keeping).await;
        let _ = std::fs::remove_dir_all(&dir);
        result
    }

    /// A digest of this node's store between two commands.
    pub async fn digest(&self) -> Result<headwaters_engine::Digest> {
        let _gate = self.gate.lock().await;
        let svc = self.svc.clone();
        Ok(tokio::task::spawn_blocking(move || svc.store.digest()).await??)
    }

    async fn upload(
        &self,
        dir: &std::path::Path,
        seq: u64,
        trim_keeping: Option<u64>,
    ) -> Result<SnapshotInfo> {
        let os = snapshot_bucket(&self.js, &self.cfg.stream, self.cfg.replicas).await?;
        let previous = read_latest(&os).await?;
        let mut files = Vec::new();
        let mut bytes = 0;
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            let mut f = tokio::fs::File::open(e.path()).await?;
            bytes += os.put(format!("{seq}/{name}").as_str(), &mut f).await?.size as u64;
            files.push(name);
        }
        files.sort();
        let info = SnapshotInfo {
            sequence: seq,
            files,
            bytes,
            node: self.cfg.node.clone(),
            trimmed_before: trim_keeping.map_or(0, |keep| (seq + 1).saturating_sub(keep).max(1)),
        };
        let manifest = serde_json::to_vec(&info)?;
        os.put(LATEST, &mut manifest.as_slice()).await?;
        if let Some(p) = previous
            && p.sequence != seq
        {
            for f in &p.files {
                let _ = os.delete(format!("{}/{f}", p.sequence)).await;
            }
        }
        if info.trimmed_before > 1 {
            // Everything up to `seq` is in the snapshot; `keep` entries before it stay
            // for nodes a little behind.
            let st = self.js.get_stream(&self.cfg.stream).await?;
            st.purge().sequence(info.trimmed_before).await?;
        }
        tracing::info!(
            seq,
            bytes,
            trimmed_before = info.trimmed_before,
            "snapshot uploaded"
        );
        Ok(info)
    }
}

/// Before a cluster node opens its store: decides whether the store in `store_dir`
/// can continue from the log, and if not (missing or behind the trimmed log, or left
/// in the middle of a command) puts the cluster's current snapshot there. Returns the
/// snapshot restored, if one was.
pub async fn prepare_store(
    cfg: &ClusterConfig,
    store_dir: &std::path::Path,
) -> Result<Option<SnapshotInfo>> {
    use tokio::io::AsyncWriteExt;
    let applied = if store_dir.exists() {
        let dir = store_dir.to_path_buf();
        let state = tokio::task::spawn_blocking(move || -> Result<_> {
            let s = headwaters_engine::Store::open(&dir)?;
            Ok(s.replica_state()?)
        })
        .await??;
        tracing::info!(?state, dir = %store_dir.display(), "cluster store found");
        if let Some(seq) = state.applying {
            let aside = store_dir.with_extension(format!("partial-{seq}"));
            tracing::warn!(
                seq,
                aside = %aside.display(),
                "the store stopped in the middle of a command; set aside, rebuilding from the cluster"
            );
            std::fs::rename(store_dir, &aside)?;
            0
        } else {
            state.applied
        }
    } else {
        0
    };
    let js = jetstream::new(connect(cfg).await?);
    let first = match js.get_stream(&cfg.stream).await {
        Ok(mut st) => st.info().await?.state.first_sequence,
        Err(_) => 1, // no log yet: nothing to catch up with
    };
    if applied + 1 >= first && store_dir.exists() {
        return Ok(None);
    }
    // A new node starts from the snapshot when there is one (faster than replaying
    // the log); it must when the log no longer starts at 1.
    // Only looked up, never created here: a cluster that is still forming has no
    // snapshot yet and may not be able to place a new bucket.
    let os = js.get_object_store(bucket_of(&cfg.stream)).await.ok();
    let latest = match &os {
        Some(os) => read_latest(os).await?,
        None => None,
    };
    if latest.is_none() && first <= 1 {
        return Ok(None); // the whole log is there: replay it
    }
    let (Some(os), Some(info)) = (os, latest) else {
        return Err(ClusterError::Refused(format!(
            "the cluster's log starts at {first}, this node has applied {applied}, and there is no snapshot to start from"
        )));
    };
    if store_dir.exists() {
        let aside = store_dir.with_extension(format!("behind-{applied}"));
        std::fs::rename(store_dir, &aside)?;
    }
    let tmp = store_dir.with_extension("restoring");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)?;
    for f in &info.files {
        let mut o = os
            .get(format!("{}/{f}", info.sequence))
            .await
            .map_err(|e| ClusterError::Nats(format!("fetching snapshot file {f}: {e}")))?;
        let mut out = tokio::fs::File::create(tmp.join(f)).await?;
        tokio::io::copy(&mut o, &mut out).await?;
        out.flush().await?;
        out.sync_all().await?;
    }
    std::fs::rename(&tmp, store_dir)?;
    tracing::info!(
        seq = info.sequence,
        bytes = info.bytes,
        "store restored from the cluster's snapshot"
    );
    Ok(Some(info))
}

/// Refuses an offline write (`headwaters load`, `import dbt`, `demo`) into the store of
/// a cluster node: the other nodes would never see it, and this one would differ from
/// them from then on.
pub fn refuse_offline_write(store: &headwaters_engine::Store, what: &str) -> Result<()> {
    let st = store.replica_state()?;
    if st.applied > 0 || st.applying.is_some() {
        return Err(ClusterError::Refused(format!(
            "this data directory belongs to a cluster node (it has applied the cluster's log up to {}); \
             {what} would change it alone: send it to the cluster through the API instead",
            st.applied
        )));
    }
    Ok(())
}

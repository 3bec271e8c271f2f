//! The API layer: REST (OpenMetadata-compatible, OpenLineage, dbt, SQL) and GraphQL
//! over the one domain layer, plus the browser pages, auth, limits and metrics.
//!
//! ```text
//!  request -> request id -> trace span -> JSON errors -> metrics -> timeout
//!    -> concurrency limit -> body limit -> auth + rate limit (protected routes)
//!    -> handler (rest/*) or resolver (graphql/*): parse, authorise
//!    -> blocking(|svc| domain operation)   (tokio's blocking pool, never an async worker)
//!    -> shape the answer; errors mapped in errors.rs
//! ```

pub mod answer_cache;
pub mod auth;
pub mod commands;
pub mod errors;
pub mod graphql;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod rest;
pub mod web;

use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::HeaderName;
use axum::middleware;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::domain::{self, Service, Settings};
use auth::Keys;
use errors::{ApiError, json_errors};
use limits::RateLimiter;
use metrics::Metrics;
use openapi::{ApiRouter, Spec};

/// Shared state of every request (cheap to clone).
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// What [`AppState`] shares.
pub struct Inner {
    /// The domain layer.
    pub service: Arc<Service>,
    /// Token keys (`None` with `no_auth`).
    pub keys: Option<Keys>,
    /// Per-token limiter.
    pub token_limiter: RateLimiter,
    /// Per-IP limiter.
    pub ip_limiter: RateLimiter,
    /// Request metrics.
    pub metrics: Metrics,
    /// The configuration it runs with.
    pub config: Config,
    /// Set once start-up work (demo load) is done.
    pub ready: AtomicBool,
    /// The GraphQL schema.
    pub graphql: graphql::HwSchema,
    /// Permits for domain work running at once on the blocking pool (see [`blocking`]).
    pub work_permits: Arc<tokio::sync::Semaphore>,
    /// Serialized lineage answers of the current store version.
    pub answers: answer_cache::AnswerCache,
    /// Cluster membership (`serve --cluster`); `None` on a single node.
    pub cluster: std::sync::OnceLock<Arc<crate::cluster::Cluster>>,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// State over an opened store. `secrets` holds the key connection secrets are sealed
    /// with (`Secrets::in_dir` for a store on disk, so they open after a restart).
    pub fn new(
        store: headwaters_engine::Store,
        config: Config,
        keys: Option<Keys>,
        secrets: crate::domain::secrets::Secrets,
    ) -> Result<AppState, ApiError> {
        let settings = Settings {
            openmetadata_version: config.openmetadata_version.clone(),
            max_depth: config.max_depth,
            node_budget: config.node_budget,
            openlineage_namespaces: config.openlineage_namespaces.clone(),
            run_retention: config.openlineage_run_retention,
            secrets: Arc::new(secrets),
        };
        let service = Service::new(store, settings)?;
        Ok(AppState(Arc::new(Inner {
            service: Arc::new(service),
            keys,
            token_limiter: RateLimiter::new(config.rate_limit_per_minute),
            ip_limiter: RateLimiter::new(config.rate_limit_ip_per_minute),
            metrics: Metrics::default(),
            answers: answer_cache::AnswerCache::new(config.answer_cache_mb << 20),
            config,
            ready: AtomicBool::new(true),
            graphql: graphql::schema(),
            work_permits: Arc::new(tokio::sync::Semaphore::new(work_slots())),
            cluster: std::sync::OnceLock::new(),
        })))
    }

    /// Makes this node a member of a cluster: from now on writes go through its log.
    /// Returns false if it already was one.
    pub fn join_cluster(&self, cluster: Arc<crate::cluster::Cluster>) -> bool {
        self.cluster.set(cluster).is_ok()
    }

    /// The domain layer.
    pub fn service(&self) -> &Service {
        &self.service
    }

    /// Marks the state not ready (while the demo loads) or ready.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }
}

/// How many domain calls may run at once: twice the cores, so the async workers that
/// accept connections and answer `/healthz` always get their share of the CPU however
/// many heavy queries are in flight (a query of 40 traversals is 40 calls).
fn work_slots() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) * 2
}

/// Runs domain work on tokio's blocking pool, so no engine call (traversals, fsyncs,
/// SQL analysis) ever occupies an async worker; REST handlers and GraphQL resolvers
/// all call the domain through this (or [`blocking_light`]). At most [`work_slots`]
/// such calls run at once; the rest wait for a permit without holding a thread.
///
/// When the caller stops waiting (the request timed out, the client went away) before
/// the work has started, the work is skipped, so a flood of queued work dies with the
/// requests that queued it. Work that has started runs to the end: a write is never
/// left half done.
pub async fn blocking<T, F>(state: &AppState, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Service) -> domain::Result<T> + Send + 'static,
{
    let permit = state
        .work_permits
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| ApiError::Internal("the work permits were closed".into()))?;
    run_blocking(state, Some(permit), work).await
}

/// [`blocking`] for work on one entity or edge (get, put, patch, delete, search page):
/// it does not wait behind traversals for a permit, so cheap requests stay fast while
/// the heaviest queries run.
pub async fn blocking_light<T, F>(state: &AppState, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Service) -> domain::Result<T> + Send + 'static,
{
    run_blocking(state, None, work).await
}

async fn run_blocking<T, F>(
    state: &AppState,
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
    work: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Service) -> domain::Result<T> + Send + 'static,
{
    let svc = state.service.clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        if tx.is_closed() {
            return;
        }
        let _ = tx.send(work(&svc));
    });
    rx.await
        .map_err(|_| ApiError::Internal("blocking worker failed (panicked)".into()))?
        .map_err(ApiError::from)
}

/// When a long write (an OpenLineage batch, a dbt import) stops starting new pieces:
/// two seconds before the request timeout, so its answer can still say what was done.
pub fn work_deadline(state: &AppState) -> std::time::Instant {
    let budget = Duration::from_secs(state.config.request_timeout_secs)
        .saturating_sub(Duration::from_secs(2))
        .max(Duration::from_secs(1));
    std::time::Instant::now() + budget
}

/// The documented routes: protected (token needed) and public.
fn routes() -> (ApiRouter, ApiRouter) {
    (rest::protected().merge(graphql::routes()), rest::public())
}

/// The OpenAPI document of every REST route.
pub fn api_spec() -> Spec {
    let (protected, public) = routes();
    protected.split().1.merge(public.split().1)
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let x_request_id = HeaderName::from_static("x-request-id");
    let (protected, public) = routes();
    let (protected, protected_spec) = protected.split();
    let (public, public_spec) = public.split();
    let document = protected_spec.merge(public_spec).document();
    let protected = protected.route_layer(middleware::from_fn_with_state(
        state.clone(),
        auth::authenticate,
    ));
    let cfg = &state.config;
    Router::new()
        .merge(protected)
        .merge(public)
        .merge(openapi::docs_routes(document))
        .merge(web::routes())
        .layer(DefaultBodyLimit::max(cfg.body_limit_bytes))
        // gzip request bodies (the OpenLineage client's `compression: gzip`); the body
        // limit applies to the decompressed bytes.
        .layer(tower_http::decompression::RequestDecompressionLayer::new())
        .layer(tower::limit::ConcurrencyLimitLayer::new(cfg.max_concurrency))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(cfg.request_timeout_secs),
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::cluster::consistency,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), metrics::record))
        .layer(middleware::from_fn(json_errors))
        // gzip answers when the client asks (`Accept-Encoding: gzip`: browsers, Python's
        // requests); outside the error rewriting, so that sees plain bodies.
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path())
            }),
        )
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
        .with_state(state)
}

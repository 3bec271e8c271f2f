//! The Headwaters lineage service: OpenMetadata-compatible REST over the engine.
//!
//! [`app`] builds the axum router over an [`AppState`]; `headwaters serve` (in
//! `main.rs`) binds it to a socket. A request goes:
//!
//! ```text
//!  request-id -> trace span -> JSON errors -> metrics -> timeout -> concurrency
//!    -> body limit -> auth + rate limit (protected routes) -> handler (rest.rs)
//!    -> service layer (service.rs, lineage.rs, sql.rs) -> engine (one read view)
//! ```

pub mod auth;
pub mod config;
pub mod dbt;
pub mod demo;
pub mod error;
pub mod fqn;
pub mod graphql;
pub mod kinds;
pub mod limits;
pub mod lineage;
pub mod metrics;
pub mod openapi;
pub mod openlineage;
pub mod rest;
pub mod search;
pub mod service;
pub mod sql;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{Keys, Principal, Role};
use crate::config::Config;
use crate::error::{ApiError, json_errors};
use crate::limits::RateLimiter;
use crate::metrics::Metrics;
use crate::service::{Service, Settings};

/// The store's directory inside a data directory (`serve`, `load`, `lineage`, `demo`).
pub const STORE_DIR: &str = "store";

/// Shared state of every request.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

/// What [`AppState`] shares.
pub struct Inner {
    /// Domain operations.
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
}

impl AppState {
    /// State over an opened store.
    pub fn new(
        store: headwaters_engine::Store,
        config: Config,
        keys: Option<Keys>,
    ) -> Result<AppState, ApiError> {
        let settings = Settings {
            openmetadata_version: config.openmetadata_version.clone(),
            max_depth: config.max_depth,
            node_budget: config.node_budget,
            openlineage_namespaces: config.openlineage_namespaces.clone(),
            run_retention: config.openlineage_run_retention,
        };
        let service = Service::new(store, settings)?;
        Ok(AppState(Arc::new(Inner {
            service: Arc::new(service),
            keys,
            token_limiter: RateLimiter::new(config.rate_limit_per_minute),
            ip_limiter: RateLimiter::new(config.rate_limit_ip_per_minute),
            metrics: Metrics::default(),
            config,
            ready: AtomicBool::new(true),
            graphql: graphql::schema(),
        })))
    }

    /// The service layer.
    pub fn service(&self) -> &Service {
        &self.0.service
    }
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let x_request_id = HeaderName::from_static("x-request-id");
    let protected = rest::routes()
        .merge(sql::routes())
        .merge(openlineage::http::routes())
        .merge(dbt::http::routes())
        .route(
            "/api/graphql",
            axum::routing::post(graphql::handler).get(graphql::handler),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate));
    let cfg = &state.0.config;
    Router::new()
        .merge(protected)
        .merge(rest::public_routes())
        .merge(metrics::routes())
        .merge(openapi::routes())
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
        .layer(middleware::from_fn_with_state(state.clone(), metrics::record))
        .layer(middleware::from_fn(json_errors))
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
async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let s = &state.0;
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
            match auth::bearer(header).and_then(|t| keys.verify(t)) {
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

/// Marks the state not ready (while the demo loads) or ready.
pub fn set_ready(state: &AppState, ready: bool) {
    state.0.ready.store(ready, Ordering::SeqCst);
}

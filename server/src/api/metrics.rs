//! Prometheus metrics at `/metrics`, health at `/healthz` and readiness at `/readyz`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::api::openapi::{ApiRouter, Op};

/// Latency histogram bucket bounds, seconds.
const BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Request counters and latency histograms by method, route and status.
#[derive(Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, secs: f64) {
        let mut m = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let s = m
            .entry((method.to_string(), route.to_string(), status))
            .or_default();
        s.count += 1;
        s.sum += secs;
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                s.buckets[i] += 1;
            }
        }
    }

    fn render(&self, out: &mut String) {
        use std::fmt::Write;
        let m = self.series.lock().unwrap_or_else(|p| p.into_inner());
        out.push_str("# HELP headwaters_http_requests_total HTTP requests answered.\n");
        out.push_str("# TYPE headwaters_http_requests_total counter\n");
        for ((method, route, status), s) in m.iter() {
            let _ = writeln!(
                out,
                "headwaters_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {}",
                s.count
            );
        }
        out.push_str("# HELP headwaters_http_request_duration_seconds Time to answer.\n");
        out.push_str("# TYPE headwaters_http_request_duration_seconds histogram\n");
        for ((method, route, status), s) in m.iter() {
            let labels = format!("method=\"{method}\",route=\"{route}\",status=\"{status}\"");
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "headwaters_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "headwaters_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "headwaters_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "headwaters_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
    }
}

/// Middleware: times every request under its route pattern (not the raw path, so the
/// label set stays bounded).
pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let resp = next.run(req).await;
    state.metrics.observe(
        &method,
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}

async fn metrics(State(state): State<AppState>) -> Response {
    use std::fmt::Write;
    let mut out = String::new();
    state.metrics.render(&mut out);
    let stats = state.service().stats();
    for (name, help, v) in [
        (
            "headwaters_graph_nodes",
            "Entities in the graph.",
            stats.nodes,
        ),
        (
            "headwaters_graph_edges",
            "Table-level lineage edges.",
            stats.edges,
        ),
        ("headwaters_graph_columns", "Columns.", stats.columns),
        (
            "headwaters_graph_column_edges",
            "Column-level lineage edges.",
            stats.column_edges,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
    }
    let (hits, misses, bytes) = state.answers.stats();
    for (name, help, kind, v) in [
        (
            "headwaters_answer_cache_hits_total",
            "Lineage answers sent from the answer cache.",
            "counter",
            hits as usize,
        ),
        (
            "headwaters_answer_cache_misses_total",
            "Lineage answers computed (not in the answer cache).",
            "counter",
            misses as usize,
        ),
        (
            "headwaters_answer_cache_bytes",
            "Bytes of lineage answers held for the current store version.",
            "gauge",
            bytes,
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
        );
    }
    let rc = state.service().store.read().record_cache_stats();
    let (entity, edge, rendering) = (
        "{kind=\"entity\"}",
        "{kind=\"edge\"}",
        "{kind=\"rendering\"}",
    );
    for (name, help, kind, samples) in [
        (
            "headwaters_record_cache_hits_total",
            "Entity records, edge details and ready-made answer pieces found in memory.",
            "counter",
            vec![
                (entity, rc.entity_hits),
                (edge, rc.detail_hits),
                (rendering, rc.rendering_hits),
            ],
        ),
        (
            "headwaters_record_cache_misses_total",
            "Entity records and edge details read from storage, answer pieces made (and kept).",
            "counter",
            vec![
                (entity, rc.entity_misses),
                (edge, rc.detail_misses),
                (rendering, rc.rendering_misses),
            ],
        ),
        (
            "headwaters_record_cache_bytes",
            "Approximate bytes of decoded records and answer pieces held in memory.",
            "gauge",
            vec![("", rc.bytes as u64)],
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, v) in samples {
            let _ = writeln!(out, "{name}{labels} {v}");
        }
    }
    if let Some(c) = state.cluster.get() {
        let st = c.status();
        for (name, help, kind, v) in [
            (
                "headwaters_cluster_applied_sequence",
                "Last command of the cluster's log applied on this node.",
                "gauge",
                st.applied_sequence,
            ),
            (
                "headwaters_cluster_stream_sequence",
                "Last sequence of the cluster's log, as last seen.",
                "gauge",
                st.stream_sequence,
            ),
            (
                "headwaters_cluster_lag",
                "Commands in the cluster's log not yet applied on this node.",
                "gauge",
                st.lag,
            ),
            (
                "headwaters_cluster_connected",
                "1 while connected to NATS.",
                "gauge",
                u64::from(st.connected),
            ),
            (
                "headwaters_cluster_applied_total",
                "Commands applied since start.",
                "counter",
                st.applied_since_start,
            ),
            (
                "headwaters_cluster_apply_mean_microseconds",
                "Mean time to apply one command since start.",
                "gauge",
                c.mean_apply_micros(),
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
            );
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

async fn healthz() -> Response {
    axum::Json(serde_json::json!({"status": "ok"})).into_response()
}

async fn readyz(State(state): State<AppState>) -> Response {
    if !state.ready.load(Ordering::SeqCst) {
        return crate::api::errors::error_body(StatusCode::SERVICE_UNAVAILABLE, "still loading");
    }
    if let Some(c) = state.cluster.get() {
        let st = c.status();
        if !st.ready {
            let why = match &st.broken {
                Some(b) => format!("stopped applying the cluster's log: {b}"),
                None => format!(
                    "catching up with the cluster's log: applied {} of {}",
                    st.applied_sequence, st.stream_sequence
                ),
            };
            return crate::api::errors::error_body(StatusCode::SERVICE_UNAVAILABLE, &why);
        }
    }
    axum::Json(serde_json::json!({"status": "ready"})).into_response()
}

/// `/metrics`, `/healthz`, `/readyz` (no auth).
pub fn routes() -> ApiRouter {
    let text = utoipa::openapi::schema::Schema::Object(
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .build(),
    );
    ApiRouter::new()
        .route(
            Method::GET,
            "/metrics",
            metrics,
            Op::new("system", "Prometheus metrics")
                .public()
                .answers_with(200, "text/plain", text, "Prometheus text format 0.0.4"),
        )
        .route(
            Method::GET,
            "/healthz",
            healthz,
            Op::new("system", "Liveness")
                .public()
                .answers::<Status>(200, "The process answers"),
        )
        .route(
            Method::GET,
            "/readyz",
            readyz,
            Op::new(
                "system",
                "Readiness: 503 while start-up work (the demo load) runs, and in a cluster until the node has caught up with the log",
            )
            .public()
            .answers::<Status>(200, "Ready"),
        )
}

/// `{"status": "ok" | "ready"}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Status {
    /// `ok` (liveness) or `ready`.
    pub status: String,
}

//! The OpenLineage HTTP transport's endpoints (`/api/v1/openlineage/lineage`, its
//! batch form, and Marquez's `POST /api/v1/lineage`) and the runs received.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::api::commands::{OpenLineageBatch, OpenLineageEvent, execute_heavy};
use crate::api::errors::{ApiError, ApiResult, Json, Query};
use crate::api::openapi::{ApiRouter, Op, any_object};
use crate::api::{AppState, blocking, work_deadline};
use crate::ingest::openlineage::{RunFilter, parse_time};

/// What one event did.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventOut {
    /// Always 1.
    received: usize,
    /// Always 1.
    successful: usize,
    /// Always 0 (a refused event is a 4xx).
    failed: usize,
    /// Edges written.
    edges: usize,
    /// Column mappings written.
    column_mappings: usize,
    /// Column references the engine dropped.
    dropped_columns: Vec<String>,
    /// The same event was applied before (a retry): nothing was done again.
    repeated: bool,
}

/// A refused event of a batch.
#[derive(Serialize, ToSchema)]
pub struct EventError {
    /// Position in the batch.
    index: usize,
    /// The HTTP status it would have had alone.
    code: u16,
    /// What is wrong, naming the field (`events[2].job.name is required`).
    message: String,
}

/// What a batch did.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchOut {
    /// Events received.
    received: usize,
    /// Events applied.
    successful: usize,
    /// Events refused.
    failed: usize,
    /// Edges written.
    edges: usize,
    /// The refused events.
    errors: Vec<EventError>,
    /// Events not applied because the batch ran past the server's time budget; nothing
    /// of them was written, send them again.
    not_applied: Vec<usize>,
}

/// One event: 201 with a summary, or the event's first error.
async fn single(State(s): State<AppState>, Json(body): Json<Value>) -> ApiResult<Response> {
    let a = execute_heavy(&s, OpenLineageEvent { event: body }).await?;
    Ok((
        StatusCode::CREATED,
        Json(EventOut {
            received: 1,
            successful: 1,
            failed: 0,
            edges: a.edges,
            column_mappings: a.column_mappings,
            dropped_columns: a.dropped_columns,
            repeated: a.repeated,
        }),
    )
        .into_response())
}

/// A batch (`{"events": [...]}` or an array): each event applied on its own; bad
/// ones are reported with their index and field, good ones are kept.
async fn batch(State(s): State<AppState>, Json(body): Json<Value>) -> ApiResult<Response> {
    let deadline = work_deadline(&s);
    let op = OpenLineageBatch {
        body,
        deadline: Some(deadline),
    };
    let r = execute_heavy(&s, op).await?;
    let errors: Vec<EventError> = r
        .errors
        .into_iter()
        .map(|(index, e)| {
            let e = ApiError::from(e);
            EventError {
                index,
                code: e.status().as_u16(),
                message: e.public_message(),
            }
        })
        .collect();
    Ok(Json(BatchOut {
        received: r.received,
        successful: r.successful,
        failed: errors.len(),
        edges: r.edges,
        errors,
        not_applied: r.not_applied,
    })
    .into_response())
}

/// Parameters of the runs query: every filter is optional.
#[derive(Debug, Deserialize, IntoParams)]
pub struct RunsQuery {
    /// Only this namespace's jobs.
    namespace: Option<String>,
    /// Only this job (needs `namespace`).
    job: Option<String>,
    /// Only runs in this state: START, RUNNING, COMPLETE, FAIL, ABORT, OTHER.
    state: Option<String>,
    /// Only runs started at or after this time (RFC 3339).
    since: Option<String>,
    /// Only runs started at or before this time (RFC 3339).
    until: Option<String>,
    /// Page size, newest first (default 100, at most 10000).
    limit: Option<usize>,
    /// Runs skipped (default 0).
    offset: Option<usize>,
}

async fn runs(State(s): State<AppState>, Query(q): Query<RunsQuery>) -> ApiResult<Response> {
    let limit = q.limit.unwrap_or(100);
    if limit > 10_000 {
        return Err(ApiError::bad("parameter limit must be at most 10000"));
    }
    let time = |name: &str, v: Option<String>| -> ApiResult<Option<i64>> {
        v.map(|t| {
            parse_time(&t).ok_or_else(|| {
                ApiError::bad(format!("parameter {name}: {t:?} is not an RFC 3339 time"))
            })
        })
        .transpose()
    };
    if let Some(st) = &q.state
        && !["START", "RUNNING", "COMPLETE", "FAIL", "ABORT", "OTHER"]
            .iter()
            .any(|x| x.eq_ignore_ascii_case(st))
    {
        return Err(ApiError::bad(format!(
            "parameter state: {st:?} is not START, RUNNING, COMPLETE, FAIL, ABORT or OTHER"
        )));
    }
    let f = RunFilter {
        since: time("since", q.since)?,
        until: time("until", q.until)?,
        namespace: q.namespace,
        job: q.job,
        state: q.state,
        limit,
        offset: q.offset.unwrap_or(0),
    };
    let v = blocking(&s, move |svc| svc.openlineage_runs(&f)).await?;
    Ok(Json(v).into_response())
}

/// The OpenLineage routes, documented.
pub fn routes() -> ApiRouter {
    let event = |op: Op| {
        op.body_with(
            "application/json",
            any_object("An OpenLineage RunEvent, DatasetEvent or JobEvent (spec 2-0-2); gzip bodies are accepted."),
            "The event.",
        )
        .answers::<EventOut>(201, "Applied")
    };
    ApiRouter::new()
        .route(
            Method::POST,
            "/api/v1/openlineage/lineage",
            single,
            event(Op::new("openlineage", "Receive one OpenLineage event")),
        )
        .route(
            Method::POST,
            "/api/v1/lineage",
            single,
            event(Op::new(
                "openlineage",
                "Receive one OpenLineage event (Marquez's path)",
            )),
        )
        .route(
            Method::POST,
            "/api/v1/openlineage/lineage/batch",
            batch,
            Op::new("openlineage", "Receive a batch of OpenLineage events")
                .body_with(
                    "application/json",
                    any_object("`{\"events\": [...]}` or an array of events."),
                    "The events.",
                )
                .answers::<BatchOut>(200, "Per-event outcome"),
        )
        .route(
            Method::GET,
            "/api/v1/openlineage/runs",
            runs,
            Op::new(
                "openlineage",
                "Runs, newest first, with every facet: all, a namespace's or a job's, by state and time",
            )
            .query::<RunsQuery>()
            .answers_with(
                200,
                "application/json",
                any_object("`{\"runs\": [...], \"paging\": {total, offset, limit}}`: the run records as received"),
                "Runs",
            ),
        )
}

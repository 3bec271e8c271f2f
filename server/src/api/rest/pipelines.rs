//! `PUT /pipelines/{fqn}/status`: a pipeline run, as OpenMetadata's Python SDK
//! (`add_pipeline_status`) and Airflow's lineage backend send it.

use axum::Extension;
use axum::extract::State;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use uuid::Uuid;

use super::entities::DocAnswer;
use super::parse_body;
use crate::api::AppState;
use crate::api::auth::Principal;
use crate::api::commands::{PutPipelineStatus, execute};
use crate::api::errors::{ApiResult, Json, Path};
use crate::api::openapi::{ApiRouter, Op, any_object};
use crate::domain::Key;
use crate::domain::kinds::PIPELINE;
use crate::domain::pipelines::PipelineStatus;

async fn put_status(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(fqn): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let status: PipelineStatus = parse_body("PipelineStatus", body)?;
    // OpenMetadata's path takes the FQN; an id is taken too.
    let key = match Uuid::parse_str(&fqn) {
        Ok(id) => Key::Id(id),
        Err(_) => Key::Fqn(fqn),
    };
    let doc = execute(&s, PutPipelineStatus { key, status }).await?;
    Ok(Json(DocAnswer::new(&s, &p).doc(&PIPELINE, doc, &[])).into_response())
}

/// The route, documented.
pub fn routes() -> ApiRouter {
    // The path parameter is named like the collection's `{id}` routes it sits beside.
    ApiRouter::new().route(
        Method::PUT,
        "/api/v1/pipelines/{id}/status",
        put_status,
        Op::new("entities", "Record a pipeline run (kept as `pipelineStatus` unless a later one is)")
            .path("id", "The pipeline's fully qualified name (or id).")
            .body_with(
                "application/json",
                any_object("OpenMetadata's PipelineStatus: `timestamp` (ms), `executionStatus` (Successful, Failed, Pending, Skipped), `taskStatus[]` (`name`, `executionStatus`, ...), `executionId`, `endTime`."),
                "The run.",
            )
            .answers_with(200, "application/json", any_object("The pipeline, with `pipelineStatus`."), "The pipeline"),
    )
}

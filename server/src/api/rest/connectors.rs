//! `/api/v1/services/testConnectionDefinitions`: the steps each connector runs before
//! its workflow (read-only, one per service type; see [`crate::domain::openmetadata`]).

use axum::Extension;
use axum::extract::State;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{base_url, parse_uuid, with_hrefs};
use crate::api::AppState;
use crate::api::auth::Principal;
use crate::api::errors::{ApiError, ApiResult, Json, Path};
use crate::api::openapi::{ApiRouter, Op, any_object};
use crate::domain::openmetadata::{Definition, definitions};

const BASE: &str = "/api/v1/services/testConnectionDefinitions";

fn out(state: &AppState, d: &Definition) -> Value {
    let mut doc = d.document();
    with_hrefs(&mut doc, &base_url(state));
    doc["href"] = json!(format!("{}{BASE}/{}", base_url(state), d.id()));
    doc
}

fn missing(what: &str) -> ApiError {
    ApiError::NotFound(format!(
        "testConnectionDefinition instance for {what} not found (Headwaters knows the {} service types of openmetadata-ingestion 1.11's connectors)",
        definitions().len()
    ))
}

async fn list(State(s): State<AppState>, Extension(_p): Extension<Principal>) -> Response {
    let data: Vec<Value> = definitions().iter().map(|d| out(&s, d)).collect();
    let total = data.len();
    Json(json!({"data": data, "paging": {"total": total}})).into_response()
}

async fn by_name(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult<Response> {
    let d = Definition::by_name(&name).ok_or_else(|| missing(&name))?;
    Ok(Json(out(&s, d)).into_response())
}

async fn by_id(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let id = parse_uuid("id", &id)?;
    let d = Definition::by_id(id).ok_or_else(|| missing(&id.to_string()))?;
    Ok(Json(out(&s, d)).into_response())
}

/// The routes, documented.
pub fn routes() -> ApiRouter {
    let doc = |op: Op| {
        op.answers_with(
            200,
            "application/json",
            any_object("A TestConnectionDefinition: name (the service type), fullyQualifiedName, steps[] (name, description, errorMessage, mandatory, shortCircuit)."),
            "The definition",
        )
    };
    ApiRouter::new()
        .route(
            Method::GET,
            BASE,
            list,
            Op::new("entities", "List the test connection definitions").answers_with(
                200,
                "application/json",
                any_object("`data`: every definition, `paging.total`."),
                "Every definition",
            ),
        )
        .route(
            Method::GET,
            &format!("{BASE}/name/{{name}}"),
            by_name,
            doc(
                Op::new("entities", "Get a test connection definition by name").path(
                    "name",
                    "`Postgres.testConnectionDefinition` (or the service type).",
                ),
            ),
        )
        .route(
            Method::GET,
            &format!("{BASE}/{{id}}"),
            by_id,
            doc(
                Op::new("entities", "Get a test connection definition by id")
                    .path_uuid("id", "The definition's id."),
            ),
        )
}

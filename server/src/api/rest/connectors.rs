//! Read-only facts the ingestion framework asks for: `/api/v1/services/
//! testConnectionDefinitions` (the steps each connector runs before its workflow, one
//! per service type) and `/api/v1/metadata/types` (the entity types, for custom
//! properties, which Headwaters has none of). See [`crate::domain::openmetadata`].

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

async fn types(State(s): State<AppState>) -> Response {
    let base = base_url(&s);
    let data: Vec<Value> = headwaters_engine::EntityType::ALL
        .iter()
        .map(|t| type_doc(&base, t.as_str()))
        .collect();
    let total = data.len();
    Json(json!({"data": data, "paging": {"total": total}})).into_response()
}

async fn type_by_name(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult<Response> {
    let t = name
        .parse::<headwaters_engine::EntityType>()
        .map_err(|_| ApiError::NotFound(format!("type instance for {name} not found")))?;
    Ok(Json(type_doc(&base_url(&s), t.as_str())).into_response())
}

/// OpenMetadata's `Type` of an entity type, with no custom properties.
fn type_doc(base: &str, name: &str) -> Value {
    let id = uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_OID,
        format!("headwaters-type-{name}").as_bytes(),
    );
    json!({
        "id": id,
        "name": name,
        "fullyQualifiedName": name,
        "displayName": name,
        "description": format!("The {name} entity type (Headwaters keeps no custom properties)."),
        "category": "entity",
        "nameSpace": "data",
        "customProperties": [],
        "version": 0.1,
        "updatedAt": 0,
        "updatedBy": "headwaters",
        "href": format!("{base}/api/v1/metadata/types/{id}"),
    })
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
            "/api/v1/metadata/types",
            types,
            Op::new("entities", "List the entity types").answers_with(
                200,
                "application/json",
                any_object(
                    "`data`: a Type per entity type (category `entity`, no custom properties).",
                ),
                "Every type",
            ),
        )
        .route(
            Method::GET,
            "/api/v1/metadata/types/name/{name}",
            type_by_name,
            Op::new(
                "entities",
                "Get an entity type by name (with its custom properties: none)",
            )
            .path("name", "The entity type (`table`, ...).")
            .answers_with(
                200,
                "application/json",
                any_object(
                    "OpenMetadata's Type: name, category, nameSpace, customProperties (empty).",
                ),
                "The type",
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

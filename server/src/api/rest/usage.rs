//! OpenMetadata's usage endpoints as the usage workflow calls them: daily counts
//! (`/usage/{entity}/{id}`), percentile ranks (`/usage/compute.percentile/...`), table
//! joins (`/tables/{id}/joins`) and a query's links (`/queries/{id}/usage`, `/users`,
//! `/usedBy`).

use axum::extract::State;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use headwaters_engine::EntityType;
use serde_json::{Value, json};

use super::entities::DocAnswer;
use super::{parse_body, parse_uuid};
use crate::api::AppState;
use crate::api::auth::Principal;
use crate::api::commands::Op as WriteOp;
use crate::api::commands::{
    AddQueryUsage, AddQueryUsedBy, AddQueryUsers, ComputePercentiles, PutDataModel, PutTableJoins,
    RecordUsage, execute, execute_heavy,
};
use crate::api::errors::{ApiError, ApiResult, Json, Path};
use crate::api::openapi::{ApiRouter, Op, any_object};
use crate::domain::kinds::{Kind, QUERY, TABLE};
use crate::domain::usage::UsageRequest;
use axum::Extension;
use uuid::Uuid;

fn entity_type(s: &str) -> ApiResult<EntityType> {
    s.parse::<EntityType>()
        .map_err(|_| ApiError::bad(format!("path entity: {s:?} is not an entity type")))
}

async fn post_usage(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Path((entity, id)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let ty = entity_type(&entity)?;
    let id = parse_uuid("id", &id)?;
    let req: UsageRequest = parse_body("UsageRequest", body)?;
    let doc = execute(&s, RecordUsage { ty, id, req }).await?;
    let answer = DocAnswer::new(&s, &p).doc(Kind::of(ty), doc, &[]);
    Ok(Json(json!({
        "entity": {
            "id": answer["id"], "type": ty.as_str(), "name": answer["name"],
            "fullyQualifiedName": answer["fullyQualifiedName"], "href": answer["href"],
        },
        "usage": [answer["usageSummary"]],
    }))
    .into_response())
}

async fn compute_percentile(
    State(s): State<AppState>,
    Path((entity, date)): Path<(String, String)>,
) -> ApiResult<Response> {
    let ty = entity_type(&entity)?;
    let n = execute_heavy(&s, ComputePercentiles { ty, date }).await?;
    Ok(Json(json!({"entityType": ty.as_str(), "entities": n})).into_response())
}

async fn put_joins(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let id = parse_uuid("id", &id)?;
    let doc = execute(&s, PutTableJoins { id, joins: body }).await?;
    Ok(Json(DocAnswer::new(&s, &p).doc(&TABLE, doc, &[])).into_response())
}

fn strings(what: &str, body: Value) -> ApiResult<Vec<String>> {
    parse_body(what, body)
}

async fn query_usage(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let id = parse_uuid("id", &id)?;
    let Value::Array(refs) = body else {
        return Err(ApiError::bad(
            "the body must be an array of entity references",
        ));
    };
    let doc = execute(&s, AddQueryUsage { id, refs }).await?;
    Ok(Json(DocAnswer::new(&s, &p).doc(&QUERY, doc, &[])).into_response())
}

/// Adds names (`what`) to a query through `add`, answering the query.
async fn query_names<O: WriteOp<Out = Value>>(
    s: AppState,
    p: Principal,
    id: String,
    body: Value,
    what: &str,
    add: fn(Uuid, Vec<String>) -> O,
) -> ApiResult<Response> {
    let id = parse_uuid("id", &id)?;
    let names = strings(what, body)?;
    let doc = execute(&s, add(id, names)).await?;
    Ok(Json(DocAnswer::new(&s, &p).doc(&QUERY, doc, &[])).into_response())
}

async fn query_users(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    query_names(s, p, id, body, "user names", |id, names| AddQueryUsers {
        id,
        names,
    })
    .await
}

async fn query_used_by(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    query_names(s, p, id, body, "usedBy names", |id, names| AddQueryUsedBy {
        id,
        names,
    })
    .await
}

/// The routes, documented.
pub fn routes() -> ApiRouter {
    let doc = |op: Op, what: &str| {
        op.answers_with(
            200,
            "application/json",
            any_object(what),
            "The updated entity",
        )
    };
    let array_body = |op: Op, what: &str| op.body_with("application/json", any_object(what), what);
    ApiRouter::new()
        .route(
            Method::POST,
            "/api/v1/usage/{entity}/{id}",
            post_usage,
            doc(
                Op::new("entities", "Report an entity's use count for a day")
                    .path_type("entity", "The entity type (`table`, ...).")
                    .path_uuid("id", "The entity's id.")
                    .body_with("application/json", any_object("OpenMetadata's UsageRequest: `date` (YYYY-MM-DD), `count`."), "The day's count."),
                "`entity` (a reference) and `usage` (the new usageSummary).",
            ),
        )
        .route(
            Method::POST,
            "/api/v1/usage/compute.percentile/{entity}/{date}",
            compute_percentile,
            doc(
                Op::new("entities", "Compute the usage percentile ranks of a type for a day")
                    .path_type("entity", "The entity type (`table`, ...).")
                    .path("date", "YYYY-MM-DD.")
                    .body_with("application/json", any_object("Nothing: the body is not read (the SDK sends none)."), "No body."),
                "`entities`: how many entities were ranked.",
            ),
        )
        .route(
            Method::PUT,
            "/api/v1/tables/{id}/joins",
            put_joins,
            doc(
                Op::new("entities", "Store the tables and columns a table is joined with")
                    .path_uuid("id", "The table's id.")
                    .body_with("application/json", any_object("OpenMetadata's TableJoins: startDate, dayCount, columnJoins[], directTableJoins[]."), "The joins."),
                "The table, with `joins`.",
            ),
        )
        .route(
            Method::PUT,
            "/api/v1/queries/{id}/usage",
            query_usage,
            doc(
                array_body(Op::new("entities", "Link a query to the entities it is used in").path_uuid("id", "The query's id."), "An array of entity references (`id`, `type`)."),
                "The query, with `queryUsedIn`.",
            ),
        )
        .route(
            Method::PUT,
            "/api/v1/queries/{id}/users",
            query_users,
            doc(
                array_body(Op::new("entities", "Add users (by name) to a query").path_uuid("id", "The query's id."), "An array of user names."),
                "The query, with `users`.",
            ),
        )
        .route(
            Method::PUT,
            "/api/v1/queries/{id}/usedBy",
            query_used_by,
            doc(
                array_body(Op::new("entities", "Add who ran a query (names outside the catalog)").path_uuid("id", "The query's id."), "An array of names."),
                "The query, with `usedBy`.",
            ),
        )
}

async fn put_data_model(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let id = parse_uuid("id", &id)?;
    let doc = execute(&s, PutDataModel { id, model: body }).await?;
    Ok(Json(DocAnswer::new(&s, &p).doc(&TABLE, doc, &[])).into_response())
}

/// `PUT /tables/{id}/dataModel`, documented.
pub fn data_model_routes() -> ApiRouter {
    ApiRouter::new().route(
        Method::PUT,
        "/api/v1/tables/{id}/dataModel",
        put_data_model,
        Op::new("entities", "Store a table's data model (dbt's view of it)")
            .path_uuid("id", "The table's id.")
            .body_with(
                "application/json",
                any_object("OpenMetadata's DataModel: modelType (DBT, DDL), description, path, rawSql, sql, upstream[], owners, tags, columns[], generatedAt."),
                "The data model.",
            )
            .answers_with(200, "application/json", any_object("The table, with `dataModel`; empty descriptions and tags filled from the model."), "The updated table"),
    )
}

//! `POST /api/v1/dbt/import`: a dbt project's manifest (and catalog) into a service.

use axum::extract::State;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::parse_body;
use crate::api::commands::{ImportDbt, execute_heavy};
use crate::api::errors::{ApiResult, Json};
use crate::api::openapi::{ApiRouter, Op};
use crate::api::{AppState, work_deadline};
use crate::ingest::dbt::DbtReport;

/// `{"manifest": {...}, "catalog": {...}?, "service": "..."}`.
#[derive(Deserialize, ToSchema)]
pub struct DbtImport {
    /// `target/manifest.json`.
    #[schema(value_type = Object)]
    manifest: Value,
    /// `target/catalog.json` (column types), optional.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    catalog: Option<Value>,
    /// The database service dbt builds in.
    service: String,
}

async fn import(State(s): State<AppState>, Json(body): Json<Value>) -> ApiResult<Response> {
    let req: DbtImport = parse_body("dbt import", body)?;
    let deadline = work_deadline(&s);
    let op = ImportDbt {
        manifest: req.manifest,
        catalog: req.catalog,
        service: req.service,
        deadline: Some(deadline),
    };
    let report = execute_heavy(&s, op).await?;
    Ok(Json(report).into_response())
}

/// The dbt import route, documented.
pub fn routes() -> ApiRouter {
    ApiRouter::new().route(
        Method::POST,
        "/api/v1/dbt/import",
        import,
        Op::new("dbt", "Import a dbt project (manifest and catalog)")
            .describe("Relations become tables and views, `depends_on` edges become lineage (source DbtLineage), compiled SQL yields column lineage. A re-import removes only what the previous import of the same project created and the project no longer has.")
            .body::<DbtImport>("The artifacts and the service.")
            .answers::<DbtReport>(200, "What was imported"),
    )
}

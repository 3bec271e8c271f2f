//! Marquez's read API (`/api/v1/namespaces`, `/api/v1/lineage?nodeId=`,
//! `/api/v1/column-lineage`, `/api/v1/jobs/runs/{id}`, `/api/v1/search`), answered from
//! the graph through [`crate::ingest::marquez`]. Marquez's own write path
//! (`POST /api/v1/lineage`) is in `openlineage.rs`.

use axum::extract::State;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use super::parse_uuid;
use crate::api::errors::{ApiError, ApiResult, Json, Path, Query};
use crate::api::openapi::{ApiRouter, Op, any_object};
use crate::api::{AppState, blocking, blocking_light};
use crate::domain::{Result as DomainResult, Service};

/// Marquez's paging parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct Paging {
    /// Most items (default 100).
    limit: Option<usize>,
    /// Items skipped (default 0).
    offset: Option<usize>,
}

impl Paging {
    fn get(&self) -> ApiResult<(usize, usize)> {
        let limit = self.limit.unwrap_or(100);
        if limit > 10_000 {
            return Err(ApiError::bad("parameter limit must be at most 10000"));
        }
        Ok((limit, self.offset.unwrap_or(0)))
    }
}

/// `GET /lineage` and `/column-lineage` parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(rename_all = "camelCase")]
pub struct GraphParams {
    /// `dataset:<namespace>:<name>`, `job:<namespace>:<name>` or (column lineage)
    /// `datasetField:<namespace>:<dataset>:<field>`.
    node_id: String,
    /// Levels each way (default 20, at most 20).
    depth: Option<u32>,
    /// Column lineage: also downstream (`true`/`false`, any case; default false).
    with_downstream: Option<String>,
}

impl GraphParams {
    fn depth(&self) -> ApiResult<u32> {
        match self.depth.unwrap_or(20) {
            d if d <= 20 => Ok(d),
            d => Err(ApiError::bad(format!("parameter depth: {d}; at most 20"))),
        }
    }
}

/// `GET /search` parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct SearchParams {
    /// Name pattern: `%` any run, `_` one character; plain text matches anywhere.
    q: String,
    /// `dataset` or `job`.
    filter: Option<String>,
    /// `name` (default) or `updated_at`.
    sort: Option<String>,
    /// Most results (default 10).
    limit: Option<usize>,
}

fn json(v: Value) -> Response {
    Json(v).into_response()
}

async fn namespaces(State(s): State<AppState>, Query(p): Query<Paging>) -> ApiResult<Response> {
    let (limit, offset) = p.get()?;
    Ok(json(
        blocking_light(&s, move |svc| svc.mq_list_namespaces(limit, offset)).await?,
    ))
}

async fn namespace(State(s): State<AppState>, Path(ns): Path<String>) -> ApiResult<Response> {
    Ok(json(
        blocking_light(&s, move |svc| svc.mq_namespace(&ns)).await?,
    ))
}

/// A namespace's page of datasets or jobs (`list` is the domain call).
async fn ns_page(
    s: AppState,
    ns: String,
    p: Paging,
    list: fn(&Service, &str, usize, usize) -> DomainResult<Value>,
) -> ApiResult<Response> {
    let (limit, offset) = p.get()?;
    Ok(json(
        blocking(&s, move |svc| list(svc, &ns, limit, offset)).await?,
    ))
}

/// One dataset or job by namespace and name (`get` is the domain call).
async fn ns_named(
    s: AppState,
    ns: String,
    name: String,
    get: fn(&Service, &str, &str) -> DomainResult<Value>,
) -> ApiResult<Response> {
    Ok(json(
        blocking_light(&s, move |svc| get(svc, &ns, &name)).await?,
    ))
}

async fn datasets(
    State(s): State<AppState>,
    Path(ns): Path<String>,
    Query(p): Query<Paging>,
) -> ApiResult<Response> {
    ns_page(s, ns, p, Service::mq_datasets).await
}

async fn dataset(
    State(s): State<AppState>,
    Path((ns, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    ns_named(s, ns, name, Service::mq_dataset).await
}

async fn dataset_versions(
    State(s): State<AppState>,
    Path((ns, name)): Path<(String, String)>,
    Query(p): Query<Paging>,
) -> ApiResult<Response> {
    let (limit, offset) = p.get()?;
    Ok(json(
        blocking_light(&s, move |svc| {
            svc.mq_dataset_versions(&ns, &name, limit, offset)
        })
        .await?,
    ))
}

async fn dataset_version(
    State(s): State<AppState>,
    Path((ns, name, version)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let version = parse_uuid("version", &version)?;
    Ok(json(
        blocking_light(&s, move |svc| svc.mq_dataset_version(&ns, &name, version)).await?,
    ))
}

async fn jobs(
    State(s): State<AppState>,
    Path(ns): Path<String>,
    Query(p): Query<Paging>,
) -> ApiResult<Response> {
    ns_page(s, ns, p, Service::mq_jobs).await
}

async fn job(
    State(s): State<AppState>,
    Path((ns, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    ns_named(s, ns, name, Service::mq_job).await
}

async fn job_runs(
    State(s): State<AppState>,
    Path((ns, name)): Path<(String, String)>,
    Query(p): Query<Paging>,
) -> ApiResult<Response> {
    let (limit, offset) = p.get()?;
    Ok(json(
        blocking_light(&s, move |svc| svc.mq_job_runs(&ns, &name, limit, offset)).await?,
    ))
}

async fn run(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let id = parse_uuid("id", &id)?;
    Ok(json(blocking_light(&s, move |svc| svc.mq_run(id)).await?))
}

async fn lineage(State(s): State<AppState>, Query(p): Query<GraphParams>) -> ApiResult<Response> {
    let depth = p.depth()?;
    Ok(json(
        blocking(&s, move |svc| svc.mq_lineage(&p.node_id, depth)).await?,
    ))
}

async fn column_lineage(
    State(s): State<AppState>,
    Query(p): Query<GraphParams>,
) -> ApiResult<Response> {
    let depth = p.depth()?;
    // marquez-python sends Python's spelling (`False`).
    let down = match p
        .with_downstream
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(other) => {
            return Err(ApiError::bad(format!(
                "parameter withDownstream: {other:?} is not true or false"
            )));
        }
    };
    Ok(json(
        blocking(&s, move |svc| {
            svc.mq_column_lineage(&p.node_id, depth, down)
        })
        .await?,
    ))
}

async fn search(State(s): State<AppState>, Query(p): Query<SearchParams>) -> ApiResult<Response> {
    let limit = p.limit.unwrap_or(10).min(10_000);
    Ok(json(
        blocking(&s, move |svc| {
            svc.mq_search(&p.q, p.filter.as_deref(), p.sort.as_deref(), limit)
        })
        .await?,
    ))
}

/// The routes, documented.
pub fn routes() -> ApiRouter {
    let ans = |op: Op, what: &str| op.answers_with(200, "application/json", any_object(what), "OK");
    let ns = |op: Op| op.path("namespace", "The OpenLineage namespace.");
    let ds = |op: Op| ns(op).path("dataset", "The dataset's OpenLineage name.");
    let jb = |op: Op| ns(op).path("job", "The job's OpenLineage name.");
    ApiRouter::new()
        .route(
            Method::GET,
            "/api/v1/namespaces",
            namespaces,
            ans(
                Op::new("marquez", "List namespaces").query::<Paging>(),
                "Marquez's NamespaceList: `namespaces`, `totalCount`.",
            ),
        )
        .route(
            Method::GET,
            "/api/v1/namespaces/{namespace}",
            namespace,
            ans(
                ns(Op::new("marquez", "Get a namespace")),
                "Marquez's Namespace.",
            ),
        )
        .route(
            Method::GET,
            "/api/v1/namespaces/{namespace}/datasets",
            datasets,
            ans(
                ns(Op::new("marquez", "List a namespace's datasets")).query::<Paging>(),
                "Marquez's DatasetList: `datasets`, `totalCount`.",
            ),
        )
        .route(
            Method::GET,
            "/api/v1/namespaces/{namespace}/datasets/{dataset}",
            dataset,
            ans(
                ds(Op::new(
                    "marquez",
                    "Get a dataset (fields, facets, current version)",
                )),
                "Marquez's Dataset.",
            ),
        )
        .route(
            Method::GET,
            "/api/v1/namespaces/{namespace}/datasets/{dataset}/versions",
            dataset_versions,
            ans(
                ds(Op::new("marquez", "List a dataset's versions")).query::<Paging>(),
                "Marquez's DatasetVersionList: `versions`, `totalCount`.",
            ),
        )
        .route(
            Method::GET,
            "/api/v1/namespaces/{namespace}/datasets/{dataset}/versions/{version}",
            dataset_version,
            ans(
                ds(Op::new("marquez", "Get one version of a dataset"))
                    .path_uuid("version", "The version's id."),
                "Marquez's DatasetVersion.",
            ),
        )
        .route(
            Method::GET,
            "/api/v1/namespaces/{namespace}/jobs",
            jobs,
            ans(
                ns(Op::new("marquez", "List a namespace's jobs")).query::<Paging>(),
                "Marquez's JobList: `jobs`, `totalCount`.",
            ),
        )
        .route(
            Method::GET,
            "/api/v1/namespaces/{namespace}/jobs/{job}",
            job,
            ans(
                jb(Op::new(
                    "marquez",
                    "Get a job (inputs, outputs, latest run)",
                )),
                "Marquez's Job.",
            ),
        )
        .route(
            Method::GET,
            "/api/v1/namespaces/{namespace}/jobs/{job}/runs",
            job_runs,
            ans(
                jb(Op::new("marquez", "List a job's runs, newest first")).query::<Paging>(),
                "Marquez's RunList: `runs`, `totalCount`.",
            ),
        )
        .route(
            Method::GET,
            "/api/v1/jobs/runs/{id}",
            run,
            ans(
                Op::new("marquez", "Get a run").path_uuid("id", "The run id."),
                "Marquez's Run (state, times, facets).",
            ),
        )
        .route(
            Method::GET,
            "/api/v1/lineage",
            lineage,
            ans(
                Op::new(
                    "marquez",
                    "The lineage graph around a dataset or job (Marquez's)",
                )
                .query::<GraphParams>(),
                "Marquez's LineageGraph: `graph` of DATASET and JOB nodes with in/out edges.",
            ),
        )
        .route(
            Method::GET,
            "/api/v1/column-lineage",
            column_lineage,
            ans(
                Op::new(
                    "marquez",
                    "Column lineage around a dataset or field (Marquez's)",
                )
                .query::<GraphParams>(),
                "`graph` of DATASET_FIELD nodes with inputFields and edges.",
            ),
        )
        .route(
            Method::GET,
            "/api/v1/search",
            search,
            ans(
                Op::new("marquez", "Search datasets and jobs by name (Marquez's)")
                    .query::<SearchParams>(),
                "Marquez's SearchResultList: `totalCount`, `results`.",
            ),
        )
}

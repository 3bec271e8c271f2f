//! REST handlers: OpenMetadata's entity, lineage, search and system endpoints.
//!
//! Each handler parses its input, checks any role beyond the method's default, calls
//! the service layer, and shapes the answer (adding `href`s).

use std::collections::HashMap;

use axum::Extension;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use headwaters_engine::{EntityType, EntityTypeSet};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::AppState;
use crate::auth::{Principal, Role};
use crate::error::{ApiError, ApiResult, Json, Path, Query};
use crate::kinds::{self, Kind};
use crate::lineage::{AddLineage, LineageOpts, check_depth, entity_type, lineage_source};
use crate::search::SearchQuery;
use crate::service::{Actor, Key, ListParams, Mode, parse_include};

/// The base URL `href`s start with: the configured public URL or `http://<Host>`.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &state.0.config.public_url {
        return u.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

fn collection_of(ty: &str) -> Option<&'static str> {
    match ty {
        "user" => Some("users"),
        "team" => Some("teams"),
        _ => ty
            .parse::<EntityType>()
            .ok()
            .map(|t| Kind::of(t).collection),
    }
}

/// Adds `href` to every entity reference (an object with `id` and a known `type`).
pub fn with_hrefs(v: &mut Value, base: &str) {
    match v {
        Value::Object(m) => {
            let href = match (m.get("id"), m.get("type")) {
                (Some(Value::String(id)), Some(Value::String(t))) => {
                    collection_of(t).map(|c| format!("{base}/api/v1/{c}/{id}"))
                }
                _ => None,
            };
            if let Some(h) = href {
                m.insert("href".into(), Value::String(h));
            }
            for (k, child) in m.iter_mut() {
                if k != "extension" && k != "connection" {
                    with_hrefs(child, base);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| with_hrefs(x, base)),
        _ => {}
    }
}

/// An entity document as answered: `href`s added, requested list fields present.
fn entity_out(kind: &Kind, mut doc: Value, base: &str, fields: &[String]) -> Value {
    with_hrefs(&mut doc, base);
    if let Value::Object(m) = &mut doc {
        if let Some(Value::String(id)) = m.get("id").cloned() {
            m.insert(
                "href".into(),
                json!(format!("{base}/api/v1/{}/{id}", kind.collection)),
            );
        }
        for f in fields {
            if matches!(
                f.as_str(),
                "owners" | "tags" | "followers" | "domains" | "dataProducts"
            ) && !m.contains_key(f)
            {
                m.insert(f.clone(), json!([]));
            }
        }
    }
    doc
}

/// Parses `fields=a,b` (names only: unknown ones are ignored, malformed ones are a 400).
fn parse_fields(fields: Option<&str>) -> ApiResult<Vec<String>> {
    let mut out = Vec::new();
    for f in fields
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
    {
        if !f
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        {
            return Err(ApiError::bad(format!(
                "parameter fields: invalid field name {f:?}"
            )));
        }
        out.push(f.to_string());
    }
    Ok(out)
}

fn parse_uuid(what: &str, s: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(s).map_err(|_| ApiError::bad(format!("{what}: {s:?} is not a UUID")))
}

/// Query parameters of entity reads.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetParams {
    fields: Option<String>,
    include: Option<String>,
}

/// Query parameters of entity lists.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    limit: Option<usize>,
    before: Option<String>,
    after: Option<String>,
    fields: Option<String>,
    include: Option<String>,
    service: Option<String>,
    database: Option<String>,
    database_schema: Option<String>,
    api_collection: Option<String>,
}

/// Query parameters of deletes.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteParams {
    hard_delete: Option<bool>,
    recursive: Option<bool>,
}

fn actor(p: &Principal) -> Actor {
    Actor(p.name.clone())
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("worker failed: {e}")))?
}

async fn list(
    kind: &'static Kind,
    state: AppState,
    headers: HeaderMap,
    q: ListQuery,
) -> ApiResult<Response> {
    let limit = q.limit.unwrap_or(10);
    if limit > 1_000_000 {
        return Err(ApiError::bad("parameter limit must be at most 1000000"));
    }
    let fields = parse_fields(q.fields.as_deref())?;
    let parent = q
        .database_schema
        .or(q.database)
        .or(q.api_collection)
        .or(q.service);
    let p = ListParams {
        limit,
        after: q.after,
        before: q.before,
        parent,
        include: parse_include(q.include.as_deref())?,
    };
    let mut page = state.service().list_entities(kind, &p)?;
    let base = base_url(&state, &headers);
    if let Some(Value::Array(data)) = page.get_mut("data") {
        for d in data.iter_mut() {
            *d = entity_out(kind, d.take(), &base, &fields);
        }
    }
    Ok(Json(page).into_response())
}

async fn get_one(
    kind: &'static Kind,
    state: AppState,
    headers: HeaderMap,
    key: Key,
    q: GetParams,
) -> ApiResult<Response> {
    let fields = parse_fields(q.fields.as_deref())?;
    let include = parse_include(q.include.as_deref())?;
    let doc = state.service().get_entity(kind, &key, include)?;
    Ok(Json(entity_out(kind, doc, &base_url(&state, &headers), &fields)).into_response())
}

async fn write_one(
    kind: &'static Kind,
    state: AppState,
    headers: HeaderMap,
    p: Principal,
    body: Value,
    mode: Mode,
) -> ApiResult<Response> {
    let svc = state.0.service.clone();
    let (doc, created) = blocking(move || svc.put_entity(kind, body, &actor(&p), mode)).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(entity_out(kind, doc, &base_url(&state, &headers), &[])),
    )
        .into_response())
}

fn json_patch_body(headers: &HeaderMap, body: &[u8]) -> ApiResult<json_patch::Patch> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !(ct.starts_with("application/json-patch+json") || ct.starts_with("application/json")) {
        return Err(ApiError::UnsupportedMediaType(
            "PATCH takes an RFC 6902 JSON Patch with Content-Type: application/json-patch+json"
                .into(),
        ));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::bad(format!("invalid JSON Patch: {e}")))
}

async fn patch_one(
    kind: &'static Kind,
    state: AppState,
    headers: HeaderMap,
    p: Principal,
    key: Key,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let patch = json_patch_body(&headers, &body)?;
    let svc = state.0.service.clone();
    let doc = blocking(move || svc.patch_entity(kind, &key, &patch, &actor(&p))).await?;
    Ok(Json(entity_out(kind, doc, &base_url(&state, &headers), &[])).into_response())
}

async fn delete_one(
    kind: &'static Kind,
    state: AppState,
    headers: HeaderMap,
    p: Principal,
    key: Key,
    q: DeleteParams,
) -> ApiResult<Response> {
    let hard = q.hard_delete.unwrap_or(false);
    if hard && p.role < Role::Admin {
        return Err(ApiError::Forbidden(format!(
            "hardDelete needs the admin role; token {:?} has {:?}",
            p.name, p.role
        )));
    }
    let svc = state.0.service.clone();
    let recursive = q.recursive.unwrap_or(false);
    let doc = blocking(move || svc.delete_entity(kind, &key, hard, recursive)).await?;
    Ok(Json(entity_out(kind, doc, &base_url(&state, &headers), &[])).into_response())
}

/// Body of `PUT /{collection}/restore`.
#[derive(Debug, Deserialize)]
struct Restore {
    id: Uuid,
}

fn entity_routes(kind: &'static Kind) -> Router<AppState> {
    let base = format!("/api/v1/{}", kind.collection);
    Router::new()
        .route(
            &base,
            get(
                move |State(s): State<AppState>, h: HeaderMap, Query(q): Query<ListQuery>| {
                    list(kind, s, h, q)
                },
            )
            .put(
                move |State(s): State<AppState>,
                      h: HeaderMap,
                      Extension(p): Extension<Principal>,
                      Json(b): Json<Value>| {
                    write_one(kind, s, h, p, b, Mode::Upsert)
                },
            )
            .post(
                move |State(s): State<AppState>,
                      h: HeaderMap,
                      Extension(p): Extension<Principal>,
                      Json(b): Json<Value>| {
                    write_one(kind, s, h, p, b, Mode::Create)
                },
            ),
        )
        .route(
            &format!("{base}/restore"),
            put(
                move |State(s): State<AppState>, h: HeaderMap, Json(r): Json<Restore>| async move {
                    let svc = s.0.service.clone();
                    let doc = blocking(move || svc.restore_entity(kind, r.id)).await?;
                    Ok::<_, ApiError>(
                        Json(entity_out(kind, doc, &base_url(&s, &h), &[])).into_response(),
                    )
                },
            ),
        )
        .route(
            &format!("{base}/{{id}}"),
            get(
                move |State(s): State<AppState>,
                      h: HeaderMap,
                      Path(id): Path<String>,
                      Query(q): Query<GetParams>| async move {
                    get_one(kind, s, h, Key::Id(parse_uuid("id", &id)?), q).await
                },
            )
            .patch(
                move |State(s): State<AppState>,
                      h: HeaderMap,
                      Extension(p): Extension<Principal>,
                      Path(id): Path<String>,
                      body: axum::body::Bytes| async move {
                    patch_one(kind, s, h, p, Key::Id(parse_uuid("id", &id)?), body).await
                },
            )
            .delete(
                move |State(s): State<AppState>,
                      h: HeaderMap,
                      Extension(p): Extension<Principal>,
                      Path(id): Path<String>,
                      Query(q): Query<DeleteParams>| async move {
                    delete_one(kind, s, h, p, Key::Id(parse_uuid("id", &id)?), q).await
                },
            ),
        )
        .route(
            &format!("{base}/name/{{fqn}}"),
            get(
                move |State(s): State<AppState>,
                      h: HeaderMap,
                      Path(f): Path<String>,
                      Query(q): Query<GetParams>| {
                    get_one(kind, s, h, Key::Fqn(f), q)
                },
            )
            .patch(
                move |State(s): State<AppState>,
                      h: HeaderMap,
                      Extension(p): Extension<Principal>,
                      Path(f): Path<String>,
                      body: axum::body::Bytes| {
                    patch_one(kind, s, h, p, Key::Fqn(f), body)
                },
            )
            .delete(
                move |State(s): State<AppState>,
                      h: HeaderMap,
                      Extension(p): Extension<Principal>,
                      Path(f): Path<String>,
                      Query(q): Query<DeleteParams>| {
                    delete_one(kind, s, h, p, Key::Fqn(f), q)
                },
            ),
        )
}

/// Depth and filter parameters of lineage reads.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DepthParams {
    upstream_depth: Option<u32>,
    downstream_depth: Option<u32>,
    include_deleted: Option<bool>,
    /// Comma-separated entity types to keep.
    entity_types: Option<String>,
    fqn: Option<String>,
    #[serde(rename = "type")]
    ty: Option<String>,
    from: Option<usize>,
    size: Option<usize>,
    depth: Option<u32>,
}

impl DepthParams {
    fn opts(&self, state: &AppState) -> ApiResult<LineageOpts> {
        let max = state.0.config.max_depth;
        let types = match &self.entity_types {
            None => EntityTypeSet::ALL,
            Some(s) => s
                .split(',')
                .map(|t| entity_type(t.trim()))
                .collect::<ApiResult<EntityTypeSet>>()?,
        };
        Ok(LineageOpts {
            up: check_depth("upstreamDepth", self.upstream_depth, 1, max)?,
            down: check_depth("downstreamDepth", self.downstream_depth, 1, max)?,
            include_deleted: self.include_deleted.unwrap_or(false),
            types,
        })
    }

    fn target(&self) -> ApiResult<(EntityType, String)> {
        let fqn = self
            .fqn
            .clone()
            .ok_or_else(|| ApiError::bad("parameter fqn is required"))?;
        let ty = entity_type(self.ty.as_deref().unwrap_or("table"))?;
        Ok((ty, fqn))
    }
}

fn lineage_out(state: &AppState, headers: &HeaderMap, mut v: Value) -> Response {
    with_hrefs(&mut v, &base_url(state, headers));
    Json(v).into_response()
}

/// A body serialized already.
fn json_bytes(body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn lineage_by_id(
    State(s): State<AppState>,
    h: HeaderMap,
    Path((ty, id)): Path<(String, String)>,
    Query(q): Query<DepthParams>,
) -> ApiResult<Response> {
    let ty = entity_type(&ty)?;
    let key = Key::Id(parse_uuid("id", &id)?);
    let v = s
        .service()
        .entity_lineage(ty, &key, &q.opts(&s)?, &base_url(&s, &h))?;
    Ok(json_bytes(v))
}

async fn lineage_by_name(
    State(s): State<AppState>,
    h: HeaderMap,
    Path((ty, fqn)): Path<(String, String)>,
    Query(q): Query<DepthParams>,
) -> ApiResult<Response> {
    let ty = entity_type(&ty)?;
    let v = s
        .service()
        .entity_lineage(ty, &Key::Fqn(fqn), &q.opts(&s)?, &base_url(&s, &h))?;
    Ok(json_bytes(v))
}

async fn add_lineage(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Json(req): Json<Value>,
) -> ApiResult<Response> {
    let req: AddLineage = serde_json::from_value(req)
        .map_err(|e| ApiError::bad(format!("invalid AddLineage body: {e}")))?;
    let svc = s.0.service.clone();
    let out = blocking(move || svc.add_lineage(req, &actor(&p))).await?;
    Ok(Json(out).into_response())
}

async fn get_edge(
    State(s): State<AppState>,
    h: HeaderMap,
    Path((from, to)): Path<(String, String)>,
) -> ApiResult<Response> {
    let v = s
        .service()
        .get_edge(parse_uuid("fromId", &from)?, parse_uuid("toId", &to)?)?;
    Ok(lineage_out(&s, &h, v))
}

async fn patch_edge(
    State(s): State<AppState>,
    h: HeaderMap,
    Extension(p): Extension<Principal>,
    Path((ft, fid, tt, tid)): Path<(String, String, String, String)>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let patch = json_patch_body(&h, &body)?;
    let from = (entity_type(&ft)?, parse_uuid("fromId", &fid)?);
    let to = (entity_type(&tt)?, parse_uuid("toId", &tid)?);
    let svc = s.0.service.clone();
    let v = blocking(move || svc.patch_edge(from, to, &patch, &actor(&p))).await?;
    Ok(lineage_out(&s, &h, v))
}

async fn delete_edge(
    State(s): State<AppState>,
    Path((ft, fid, tt, tid)): Path<(String, String, String, String)>,
) -> ApiResult<Response> {
    let from = (entity_type(&ft)?, Key::Id(parse_uuid("fromId", &fid)?));
    let to = (entity_type(&tt)?, Key::Id(parse_uuid("toId", &tid)?));
    let svc = s.0.service.clone();
    blocking(move || svc.delete_edge(from, to)).await?;
    Ok(StatusCode::OK.into_response())
}

async fn delete_edge_by_name(
    State(s): State<AppState>,
    Path((ft, ff, tt, tf)): Path<(String, String, String, String)>,
) -> ApiResult<Response> {
    let from = (entity_type(&ft)?, Key::Fqn(ff));
    let to = (entity_type(&tt)?, Key::Fqn(tf));
    let svc = s.0.service.clone();
    blocking(move || svc.delete_edge(from, to)).await?;
    Ok(StatusCode::OK.into_response())
}

async fn delete_by_source(
    State(s): State<AppState>,
    Path((ty, id, source)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let ty = entity_type(&ty)?;
    let id = parse_uuid("entityId", &id)?;
    let source = lineage_source(&source)?;
    let svc = s.0.service.clone();
    let n = blocking(move || svc.delete_by_source(ty, id, source)).await?;
    Ok(Json(json!({"deleted": n})).into_response())
}

async fn get_lineage(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Query<DepthParams>,
) -> ApiResult<Response> {
    let (ty, fqn) = q.target()?;
    let v = s.service().search_lineage(
        ty,
        &fqn,
        &q.opts(&s)?,
        q.from.unwrap_or(0),
        q.size.unwrap_or(10_000),
    )?;
    Ok(lineage_out(&s, &h, v))
}

async fn pagination_info(
    State(s): State<AppState>,
    Query(q): Query<DepthParams>,
) -> ApiResult<Response> {
    let (ty, fqn) = q.target()?;
    Ok(Json(s.service().pagination_info(ty, &fqn, &q.opts(&s)?)?).into_response())
}

async fn export(State(s): State<AppState>, Query(q): Query<DepthParams>) -> ApiResult<Response> {
    let (ty, fqn) = q.target()?;
    let csv = s.service().export_csv(ty, &fqn, &q.opts(&s)?)?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
}

async fn column_lineage(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(fqn): Path<String>,
    Query(q): Query<DepthParams>,
) -> ApiResult<Response> {
    let o = q.opts(&s)?;
    let v = s.service().column_lineage(&fqn, o.up, o.down)?;
    Ok(lineage_out(&s, &h, v))
}

async fn impact(
    State(s): State<AppState>,
    h: HeaderMap,
    Path((ty, fqn)): Path<(String, String)>,
    Query(q): Query<DepthParams>,
) -> ApiResult<Response> {
    let ty = entity_type(&ty)?;
    let v = s.service().impact(ty, &Key::Fqn(fqn), q.depth)?;
    Ok(lineage_out(&s, &h, v))
}

/// Search parameters (OpenMetadata's; unknown ones such as `sort_field` are ignored).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchParams {
    q: Option<String>,
    index: Option<String>,
    from: Option<usize>,
    size: Option<usize>,
    deleted: Option<bool>,
    field_name: Option<String>,
    field_value: Option<String>,
    #[serde(flatten)]
    _rest: HashMap<String, String>,
}

fn index_types(index: Option<&str>) -> ApiResult<Vec<EntityType>> {
    match index {
        None | Some("") | Some("all") | Some("dataAsset") | Some("dataasset") => Ok(Vec::new()),
        Some(list) => list
            .split(',')
            .map(|i| {
                Kind::by_index(i.trim()).map(|k| k.ty).ok_or_else(|| {
                    ApiError::bad(format!(
                        "parameter index: unknown index {i:?}; e.g. table_search_index, dashboard_search_index, all"
                    ))
                })
            })
            .collect(),
    }
}

fn hits_out(s: &AppState, h: &HeaderMap, hits: crate::search::SearchHits) -> ApiResult<Response> {
    let view = s.service().store.read();
    let base = base_url(s, h);
    let mut out = Vec::with_capacity(hits.nodes.len());
    for n in hits.nodes {
        let Some(ty) = view.entity_type(n) else {
            continue;
        };
        let kind = Kind::of(ty);
        let mut doc = entity_out(kind, s.service().document(&view, n)?, &base, &[]);
        doc["entityType"] = json!(ty.as_str());
        out.push(json!({
            "_index": kind.index,
            "_id": doc["id"],
            "_score": 1.0,
            "_source": doc,
        }));
    }
    Ok(Json(json!({
        "took": 0,
        "timed_out": false,
        "hits": {"total": {"value": hits.total, "relation": "eq"}, "max_score": 1.0, "hits": out},
    }))
    .into_response())
}

async fn search_query(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Query<SearchParams>,
) -> ApiResult<Response> {
    let size = q.size.unwrap_or(10);
    if size > 10_000 {
        return Err(ApiError::bad("parameter size must be at most 10000"));
    }
    let query = SearchQuery {
        text: q.q.unwrap_or_default(),
        types: index_types(q.index.as_deref())?,
        from: q.from.unwrap_or(0),
        size,
        deleted: q.deleted.unwrap_or(false),
    };
    let hits = {
        let view = s.service().store.read();
        s.service().search.search(&view, &query)
    };
    hits_out(&s, &h, hits)
}

async fn field_query(
    State(s): State<AppState>,
    h: HeaderMap,
    Query(q): Query<SearchParams>,
) -> ApiResult<Response> {
    let field = q.field_name.as_deref().unwrap_or("fullyQualifiedName");
    let value = q
        .field_value
        .clone()
        .ok_or_else(|| ApiError::bad("parameter fieldValue is required"))?;
    let types = index_types(q.index.as_deref())?;
    let size = q.size.unwrap_or(10).min(10_000);
    let from = q.from.unwrap_or(0);
    let deleted = q.deleted.unwrap_or(false);
    let hits = match field {
        "fullyQualifiedName" | "fullyQualifiedName.keyword" => {
            let view = s.service().store.read();
            s.service()
                .search
                .fqn_pattern(&view, &value, &types, deleted, from, size)?
        }
        "name" | "name.keyword" | "displayName" => {
            let view = s.service().store.read();
            s.service().search.search(
                &view,
                &SearchQuery {
                    text: value,
                    types,
                    from,
                    size,
                    deleted,
                },
            )
        }
        other => {
            return Err(ApiError::bad(format!(
                "parameter fieldName: {other:?} is not searchable; use fullyQualifiedName or name"
            )));
        }
    };
    hits_out(&s, &h, hits)
}

/// `GET /api/v1/system/version`.
async fn version(State(s): State<AppState>) -> Response {
    Json(json!({
        "version": s.0.config.openmetadata_version,
        "revision": option_env!("HEADWATERS_REVISION").unwrap_or("unknown"),
        "timestamp": 0,
        "headwatersVersion": env!("CARGO_PKG_VERSION"),
    }))
    .into_response()
}

/// Body of `POST /api/v1/system/tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    name: String,
    role: String,
    #[serde(default)]
    expires: Option<String>,
}

async fn create_token(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Json(r): Json<TokenRequest>,
) -> ApiResult<Response> {
    if p.role < Role::Admin {
        return Err(ApiError::Forbidden(
            "creating tokens needs the admin role".into(),
        ));
    }
    let role: Role = r
        .role
        .parse()
        .map_err(|e: String| ApiError::bad(format!("field role: {e}")))?;
    let ttl = crate::auth::parse_ttl(r.expires.as_deref().unwrap_or("30d"))
        .map_err(|e| ApiError::bad(format!("field expires: {e}")))?;
    let keys =
        s.0.keys
            .as_ref()
            .ok_or_else(|| ApiError::bad("this server runs with --no-auth; it has no tokens"))?;
    let token = keys.mint(&r.name, role, ttl).map_err(ApiError::bad)?;
    Ok(Json(json!({"name": r.name, "role": role, "token": token})).into_response())
}

/// Every protected REST route.
pub fn routes() -> Router<AppState> {
    let mut r = Router::new();
    for kind in kinds::ALL {
        r = r.merge(entity_routes(kind));
    }
    r.route(
        "/api/v1/lineage",
        put(add_lineage).post(crate::openlineage::http::single),
    )
    .route("/api/v1/lineage/getLineage", get(get_lineage))
    .route("/api/v1/lineage/getPaginationInfo", get(pagination_info))
    .route("/api/v1/lineage/export", get(export))
    .route("/api/v1/lineage/getLineageEdge/{from}/{to}", get(get_edge))
    .route("/api/v1/lineage/column/name/{fqn}", get(column_lineage))
    .route("/api/v1/lineage/impact/{ty}/name/{fqn}", get(impact))
    .route("/api/v1/lineage/{ty}/{id}", get(lineage_by_id))
    .route("/api/v1/lineage/{ty}/name/{fqn}", get(lineage_by_name))
    .route(
        "/api/v1/lineage/{ft}/{fid}/{tt}/{tid}",
        axum::routing::patch(patch_edge).delete(delete_edge),
    )
    .route(
        "/api/v1/lineage/{ft}/name/{ff}/{tt}/name/{tf}",
        axum::routing::delete(delete_edge_by_name),
    )
    .route(
        "/api/v1/lineage/{ty}/{id}/type/{source}",
        axum::routing::delete(delete_by_source),
    )
    .route("/api/v1/search/query", get(search_query))
    .route("/api/v1/search/fieldQuery", get(field_query))
    .route("/api/v1/system/tokens", axum::routing::post(create_token))
}

/// Routes anyone may call (the SDK checks the version before anything else).
pub fn public_routes() -> Router<AppState> {
    Router::new().route("/api/v1/system/version", get(version))
}

//! OpenMetadata's lineage API (`/api/v1/lineage/...`) and Headwaters' own lineage
//! reads (column lineage, impact), in OpenMetadata's shapes.
//!
//! The hot path (`GET /lineage/{entityType}/name/{fqn}`) writes the answer from
//! ready-made JSON pieces, one per node and per edge ([`OmRenderer`]), which the
//! store's record cache keeps until a write changes what they show; only the pieces not
//! kept yet are serialised (from the typed records, no JSON tree).

use std::collections::HashMap;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use headwaters_engine::{ColumnMapping, Edge, Entity, EntityType, EntityTypeSet, NodeId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::entities::json_patch_op;
use super::{actor, base_url, href, json_bytes, parse_body, parse_uuid, with_hrefs};
use crate::api::answer_cache::AnswerKey;
use crate::api::auth::Principal;
use crate::api::commands::{DeleteEdge, DeleteEdgesBySource, PatchEdge, PutEdge, execute};
use crate::api::errors::{ApiError, ApiResult, Json, Path, Query};
use crate::api::openapi::{ApiRouter, Op, any_object};
use crate::api::{AppState, blocking, blocking_light};
use crate::domain::columns::{ColumnLineage, Impact};
use crate::domain::lineage::{
    DepthCounts, EdgeDetails, EdgeSpec, EdgeView, LineageGraph, LineageOpts, LineagePage,
    LineageRenderer, Page, RenderedLineage, Side, check_depth, entity_type, lineage_source,
};
use crate::domain::{Error, Key};

/// OpenMetadata's `EntityReference` as a request names it (`id` and `type` required;
/// the rest is accepted and ignored).
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefIn {
    /// UUID.
    pub id: Uuid,
    /// Entity type.
    #[serde(rename = "type")]
    pub ty: String,
    /// Ignored: the id decides.
    #[serde(default)]
    pub name: Option<String>,
    /// Ignored: the id decides.
    #[serde(default)]
    pub fully_qualified_name: Option<String>,
    /// Other reference fields, ignored.
    #[serde(flatten)]
    #[schema(ignore)]
    pub rest: Map<String, Value>,
}

/// `LineageDetails` as sent.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DetailsIn {
    /// SQL.
    #[serde(default)]
    pub sql_query: Option<String>,
    /// Column mappings by FQN.
    #[serde(default)]
    #[schema(value_type = Option<Vec<OmColumnLineageIn>>)]
    pub columns_lineage: Option<Vec<ColumnMapping>>,
    /// Pipeline reference.
    #[serde(default)]
    pub pipeline: Option<RefIn>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Where it came from (`Manual`, `QueryLineage`, `PipelineLineage`, ...).
    #[serde(default)]
    pub source: Option<String>,
    /// Accepted, ignored (server-maintained).
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub created_at: Option<Value>,
    /// Accepted, ignored.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub created_by: Option<Value>,
    /// Accepted, ignored.
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub updated_at: Option<Value>,
    /// Accepted, ignored.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub updated_by: Option<Value>,
    /// Accepted, ignored.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub asset_edges: Option<Value>,
}

/// A column mapping as sent (`transformation` is Headwaters' extension).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OmColumnLineageIn {
    /// Upstream column FQNs.
    pub from_columns: Vec<String>,
    /// Downstream column FQN.
    pub to_column: String,
    /// The expression.
    pub function: Option<String>,
}

/// `EntitiesEdge`.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EdgeIn {
    /// Upstream.
    pub from_entity: RefIn,
    /// Downstream.
    pub to_entity: RefIn,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Details.
    #[serde(default)]
    pub lineage_details: Option<DetailsIn>,
}

/// `AddLineage`.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddLineage {
    /// The edge.
    pub edge: EdgeIn,
}

impl DetailsIn {
    /// The domain's edge details (`description` is the edge's when the details have
    /// none).
    fn into_details(self, description: Option<String>) -> crate::domain::Result<EdgeDetails> {
        let pipeline = match self.pipeline {
            Some(p) => Some((entity_type(&p.ty)?, p.id)),
            None => None,
        };
        Ok(EdgeDetails {
            sql_query: self.sql_query,
            columns_lineage: self.columns_lineage.unwrap_or_default(),
            pipeline,
            description: self.description.or(description),
            source: self
                .source
                .as_deref()
                .map(lineage_source)
                .transpose()?
                .unwrap_or_default(),
        })
    }
}

impl AddLineage {
    fn into_spec(self) -> crate::domain::Result<EdgeSpec> {
        let e = self.edge;
        Ok(EdgeSpec {
            from: (entity_type(&e.from_entity.ty)?, Key::Id(e.from_entity.id)),
            to: (entity_type(&e.to_entity.ty)?, Key::Id(e.to_entity.id)),
            details: e
                .lineage_details
                .unwrap_or_default()
                .into_details(e.description)?,
        })
    }
}

/// An entity reference as answered.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefOut<'a> {
    id: Uuid,
    #[serde(rename = "type")]
    ty: &'static str,
    name: &'a str,
    fully_qualified_name: &'a str,
    deleted: bool,
    href: String,
}

impl<'a> RefOut<'a> {
    fn new(e: &'a Entity, base: &str) -> Self {
        RefOut {
            id: e.id,
            ty: e.entity_type.as_str(),
            name: &e.name,
            fully_qualified_name: &e.fqn,
            deleted: e.deleted,
            href: href(base, e.entity_type, e.id),
        }
    }
}

/// OpenMetadata's `ColumnLineage`: exactly `fromColumns`, `toColumn`, `function` (the
/// SDK parses it with extra fields forbidden, so `transformation` stays out).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OmColumnLineage<'a> {
    from_columns: &'a [String],
    to_column: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    function: Option<&'a str>,
    /// Only when asked (`includeTransformations=true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    transformation: Option<&'a str>,
}

fn om_columns(m: &[ColumnMapping], transformations: bool) -> Vec<OmColumnLineage<'_>> {
    m.iter()
        .map(|m| OmColumnLineage {
            from_columns: &m.from_columns,
            to_column: &m.to_column,
            function: m.function.as_deref(),
            transformation: m.transformation.as_deref().filter(|_| transformations),
        })
        .collect()
}

/// `LineageDetails` as answered: what comes before the pipeline, the pipeline, what
/// comes after (split so that an edge's answer can be kept without its pipeline's).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DetailsOut<'a> {
    #[serde(flatten)]
    head: DetailsHead<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pipeline: Option<RefOut<'a>>,
    #[serde(flatten)]
    tail: DetailsTail<'a>,
}

/// The fields of `LineageDetails` before `pipeline`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DetailsHead<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    sql_query: Option<&'a str>,
    columns_lineage: Vec<OmColumnLineage<'a>>,
}

/// The fields of `LineageDetails` after `pipeline`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DetailsTail<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_by: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_by: Option<&'a str>,
}

impl<'a> DetailsOut<'a> {
    fn new(e: &'a Edge, pipeline: Option<&'a Entity>, base: &str, transformations: bool) -> Self {
        DetailsOut {
            head: DetailsHead::new(e, transformations),
            pipeline: pipeline.map(|p| RefOut::new(p, base)),
            tail: DetailsTail::new(e),
        }
    }

    fn of_view(v: &'a EdgeView, base: &str) -> Self {
        DetailsOut::new(&v.edge, v.pipeline.as_ref(), base, false)
    }
}

impl<'a> DetailsHead<'a> {
    fn new(e: &'a Edge, transformations: bool) -> Self {
        DetailsHead {
            sql_query: e.sql_query.as_deref(),
            columns_lineage: om_columns(&e.columns_lineage, transformations),
        }
    }
}

impl<'a> DetailsTail<'a> {
    fn new(e: &'a Edge) -> Self {
        DetailsTail {
            description: e.description.as_deref(),
            source: e.source.as_str(),
            created_at: (e.created_at != 0).then_some(e.created_at),
            created_by: e.created_by.as_deref(),
            updated_at: (e.updated_at != 0).then_some(e.updated_at),
            updated_by: e.updated_by.as_deref(),
        }
    }
}

/// An `Edge` of `EntityLineage`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EdgeOut<'a> {
    from_entity: Uuid,
    to_entity: Uuid,
    lineage_details: DetailsOut<'a>,
}

/// `EntityLineage` (plus `truncated` when the node budget cut the walk).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntityLineageOut<'a> {
    entity: RefOut<'a>,
    nodes: Vec<RefOut<'a>>,
    upstream_edges: Vec<EdgeOut<'a>>,
    downstream_edges: Vec<EdgeOut<'a>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    truncated: bool,
}

/// `{"edge": LineageDetails}`.
#[derive(Serialize, ToSchema)]
pub struct EdgeDetailsOut<'a> {
    edge: DetailsOut<'a>,
}

/// The most nodes per direction a lineage answer may reach to be answered on the async
/// worker from kept pieces (larger ones go to the blocking pool: copying their pieces
/// would hold the worker too long).
const INLINE_MAX_NODES: usize = 2_000;

/// Renders the pieces of `EntityLineage` (what [`EntityLineageOut`] serialises to, piece
/// by piece): a node's `EntityReference`, and an `Edge` split around its pipeline.
struct OmRenderer<'a> {
    base: &'a str,
    transformations: bool,
}

/// The record cache's tags of [`OmRenderer`]'s pieces: without and with transformations.
const OM_TAGS: [u8; 2] = [0, 1];

fn to_json(what: &str, v: &impl Serialize) -> crate::domain::Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| Error::json(format!("serializing {what}"), e))
}

impl LineageRenderer for OmRenderer<'_> {
    fn tag(&self) -> u8 {
        OM_TAGS[usize::from(self.transformations)]
    }

    fn node(&self, e: &Entity) -> crate::domain::Result<Vec<u8>> {
        to_json("an entity reference", &RefOut::new(e, self.base))
    }

    /// `{"fromEntity":…,"toEntity":…,"lineageDetails":{<head>` and `,<tail>}}`: the
    /// head and tail objects are never empty (`columnsLineage` and `source` are always
    /// there), so their braces can be cut and a `,"pipeline":…` put between.
    fn edge(
        &self,
        e: &Edge,
        from: &Entity,
        to: &Entity,
    ) -> crate::domain::Result<(Vec<u8>, Vec<u8>)> {
        let mut head = Vec::with_capacity(256);
        for (key, id) in [
            (&b"{\"fromEntity\":\""[..], from.id),
            (b"\",\"toEntity\":\"", to.id),
        ] {
            head.extend_from_slice(key);
            head.extend_from_slice(
                id.hyphenated()
                    .encode_lower(&mut Uuid::encode_buffer())
                    .as_bytes(),
            );
        }
        head.extend_from_slice(b"\",\"lineageDetails\":");
        let details = to_json(
            "lineage details",
            &DetailsHead::new(e, self.transformations),
        )?;
        head.extend_from_slice(&details[..details.len() - 1]);
        let rest = to_json("lineage details", &DetailsTail::new(e))?;
        let mut tail = Vec::with_capacity(rest.len() + 2);
        tail.push(b',');
        tail.extend_from_slice(&rest[1..]);
        tail.push(b'}');
        Ok((head, tail))
    }
}

/// `EntityLineage` from its rendered pieces: the same bytes [`EntityLineageOut`]
/// serialises to (the router's unit test compares).
fn entity_lineage(r: &RenderedLineage) -> Vec<u8> {
    let edge_bytes = |edges: &[crate::domain::lineage::RenderedEdge]| -> usize {
        edges
            .iter()
            .map(|e| e.head().len() + e.tail().len() + 256)
            .sum::<usize>()
    };
    let size = r.root.len()
        + r.nodes.iter().map(|n| n.len() + 1).sum::<usize>()
        + edge_bytes(&r.upstream)
        + edge_bytes(&r.downstream)
        + 96;
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(b"{\"entity\":");
    out.extend_from_slice(&r.root);
    out.extend_from_slice(b",\"nodes\":[");
    for (i, n) in r.nodes.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(n);
    }
    for (name, edges) in [
        (&b"],\"upstreamEdges\":["[..], &r.upstream),
        (&b"],\"downstreamEdges\":["[..], &r.downstream),
    ] {
        out.extend_from_slice(name);
        for (i, e) in edges.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(e.head());
            if let Some(p) = e.pipeline.and_then(|p| r.pipelines.get(&p)) {
                out.extend_from_slice(b",\"pipeline\":");
                out.extend_from_slice(p);
            }
            out.extend_from_slice(e.tail());
        }
    }
    out.push(b']');
    if r.truncated {
        out.extend_from_slice(b",\"truncated\":true");
    }
    out.push(b'}');
    out
}

/// Depth and filter parameters of lineage reads.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(rename_all = "camelCase")]
pub struct DepthParams {
    /// Levels upstream (default 1).
    upstream_depth: Option<u32>,
    /// Levels downstream (default 1).
    downstream_depth: Option<u32>,
    /// Walk soft-deleted entities too.
    include_deleted: Option<bool>,
    /// Comma-separated entity types to keep (and walk through).
    entity_types: Option<String>,
    /// Start entity's FQN (getLineage, getPaginationInfo, export).
    fqn: Option<String>,
    /// Start entity's type (default `table`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    ty: Option<String>,
    /// Nodes skipped (getLineage).
    from: Option<usize>,
    /// Most nodes (getLineage, default 10000).
    size: Option<usize>,
    /// Levels (impact; unbounded when absent).
    depth: Option<u32>,
    /// Add each column mapping's transformation type (`DIRECT/AGGREGATION`, ...) to
    /// `columnsLineage` (Headwaters' extension; OpenMetadata's SDK refuses the extra
    /// field, so it is off by default).
    include_transformations: Option<bool>,
}

impl DepthParams {
    fn opts(&self, state: &AppState) -> ApiResult<LineageOpts> {
        let max = state.config.max_depth;
        let types = match &self.entity_types {
            None => EntityTypeSet::ALL,
            Some(s) => s
                .split(',')
                .map(|t| entity_type(t.trim()))
                .collect::<Result<EntityTypeSet, Error>>()?,
        };
        Ok(LineageOpts {
            up: check_depth("upstreamDepth", self.upstream_depth, 1, max)?,
            down: check_depth("downstreamDepth", self.downstream_depth, 1, max)?,
            include_deleted: self.include_deleted.unwrap_or(false),
            types,
        })
    }

    fn target(&self) -> ApiResult<(EntityType, Key)> {
        let fqn = self
            .fqn
            .clone()
            .ok_or_else(|| ApiError::bad("parameter fqn is required"))?;
        let ty = entity_type(self.ty.as_deref().unwrap_or("table"))?;
        Ok((ty, Key::Fqn(fqn)))
    }
}

fn hrefs_json(state: &AppState, mut v: Value) -> Response {
    with_hrefs(&mut v, &base_url(state));
    Json(v).into_response()
}

async fn lineage_of(
    s: AppState,
    ty: String,
    key: ApiResult<Key>,
    q: DepthParams,
) -> ApiResult<Response> {
    let (ty, key, o) = (entity_type(&ty)?, key?, q.opts(&s)?);
    let cache_key = AnswerKey {
        ty,
        key,
        opts: o,
        base: base_url(&s),
        transformations: q.include_transformations.unwrap_or(false),
    };
    // Read before the traversal's view opens (see `Store::version`).
    let version = s.service.store.version();
    if let Some(answer) = s.answers.get(version, &cache_key) {
        return Ok(json_bytes(answer));
    }
    // Answered here when cheap and made only of kept pieces (no thread hand-off: two
    // wake-ups per request were the largest cost left); else on the blocking pool.
    let kept = {
        let r = OmRenderer {
            base: &cache_key.base,
            transformations: cache_key.transformations,
        };
        s.service
            .lineage_kept(ty, &cache_key.key, &cache_key.opts, &r, INLINE_MAX_NODES)?
            .map(|g| entity_lineage(&g))
    };
    if let Some(bytes) = kept {
        let answer = Bytes::from(bytes);
        s.answers.put(version, cache_key, answer.clone());
        return Ok(json_bytes(answer));
    }
    // Serialized on the worker that traversed: the records are still in its cache, and
    // the answer crosses threads once, as bytes.
    let k = cache_key.clone();
    let bytes = blocking(&s, move |svc| {
        let r = OmRenderer {
            base: &k.base,
            transformations: k.transformations,
        };
        svc.lineage_rendered(k.ty, &k.key, &k.opts, &r)
            .map(|g| entity_lineage(&g))
    })
    .await?;
    let answer = Bytes::from(bytes);
    s.answers.put(version, cache_key, answer.clone());
    Ok(json_bytes(answer))
}

async fn lineage_by_id(
    State(s): State<AppState>,
    Path((ty, id)): Path<(String, String)>,
    Query(q): Query<DepthParams>,
) -> ApiResult<Response> {
    let key = parse_uuid("id", &id).map(Key::Id);
    lineage_of(s, ty, key, q).await
}

async fn lineage_by_name(
    State(s): State<AppState>,
    Path((ty, fqn)): Path<(String, String)>,
    Query(q): Query<DepthParams>,
) -> ApiResult<Response> {
    lineage_of(s, ty, Ok(Key::Fqn(fqn)), q).await
}

async fn add_lineage(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Json(req): Json<Value>,
) -> ApiResult<Response> {
    let spec = parse_body::<AddLineage>("AddLineage", req)?.into_spec()?;
    let w = execute(
        &s,
        PutEdge {
            spec,
            actor: actor(&p),
        },
    )
    .await?;
    let dropped: Vec<Value> = w
        .dropped_columns
        .iter()
        .map(|r| json!({"column": r.column, "reason": r.reason}))
        .collect();
    Ok(Json(json!({"created": w.created, "droppedColumns": dropped})).into_response())
}

async fn get_edge(
    State(s): State<AppState>,
    Path((from, to)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (f, t) = (parse_uuid("fromId", &from)?, parse_uuid("toId", &to)?);
    let v = blocking_light(&s, move |svc| svc.edge_by_ids(f, t)).await?;
    let base = base_url(&s);
    Ok(Json(EdgeDetailsOut {
        edge: DetailsOut::of_view(&v, &base),
    })
    .into_response())
}

async fn patch_edge(
    State(s): State<AppState>,
    h: HeaderMap,
    Extension(p): Extension<Principal>,
    Path((ft, fid, tt, tid)): Path<(String, String, String, String)>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let patch = super::entities::json_patch_body(&h, &body)?;
    let from = (entity_type(&ft)?, Key::Id(parse_uuid("fromId", &fid)?));
    let to = (entity_type(&tt)?, Key::Id(parse_uuid("toId", &tid)?));
    let base = base_url(&s);
    let op = PatchEdge {
        from,
        to,
        patch,
        base: base.clone(),
        actor: actor(&p),
    };
    let v = execute(&s, op).await?;
    Ok(Json(DetailsOut::of_view(&v, &base)).into_response())
}

/// The details of `current` with an RFC 6902 patch applied to them as the API renders
/// them (links made with `base`), so patch paths are the API's field names.
pub(crate) fn patched_details(
    current: &EdgeView,
    patch: &json_patch::Patch,
    base: &str,
) -> crate::domain::Result<EdgeDetails> {
    let mut details = serde_json::to_value(DetailsOut::of_view(current, base))
        .map_err(|e| Error::json("edge details", e))?;
    json_patch::patch(&mut details, patch)
        .map_err(|e| Error::invalid(format!("JSON Patch cannot be applied: {e}")))?;
    let d: DetailsIn = serde_json::from_value(details)
        .map_err(|e| Error::invalid(format!("patched lineage details are invalid: {e}")))?;
    d.into_details(None)
}

async fn delete_edge_between(
    s: AppState,
    from: (EntityType, Key),
    to: (EntityType, Key),
) -> ApiResult<Response> {
    if execute(&s, DeleteEdge { from, to }).await? {
        Ok(StatusCode::OK.into_response())
    } else {
        Err(ApiError::not_found("Lineage edge not found"))
    }
}

async fn delete_edge(
    State(s): State<AppState>,
    Path((ft, fid, tt, tid)): Path<(String, String, String, String)>,
) -> ApiResult<Response> {
    let from = (entity_type(&ft)?, Key::Id(parse_uuid("fromId", &fid)?));
    let to = (entity_type(&tt)?, Key::Id(parse_uuid("toId", &tid)?));
    delete_edge_between(s, from, to).await
}

async fn delete_edge_by_name(
    State(s): State<AppState>,
    Path((ft, ff, tt, tf)): Path<(String, String, String, String)>,
) -> ApiResult<Response> {
    let from = (entity_type(&ft)?, Key::Fqn(ff));
    let to = (entity_type(&tt)?, Key::Fqn(tf));
    delete_edge_between(s, from, to).await
}

async fn delete_by_source(
    State(s): State<AppState>,
    Path((ty, id, source)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let ty = entity_type(&ty)?;
    let key = Key::Id(parse_uuid("entityId", &id)?);
    let source = lineage_source(&source)?;
    let n = execute(&s, DeleteEdgesBySource { ty, key, source }).await?;
    Ok(Json(json!({"deleted": n})).into_response())
}

/// `getLineage`'s answer: nodes and edges keyed by FQN, `nodeDepth` negative upstream.
fn search_lineage(p: &LineagePage, base: &str) -> ApiResult<Value> {
    let reference = |n: NodeId| -> ApiResult<(&Entity, Value)> {
        let e = &p
            .views
            .get(&n)
            .ok_or_else(|| ApiError::Internal(format!("node {n} not fetched")))?
            .record;
        let r = serde_json::to_value(RefOut::new(e, base))
            .map_err(|e| ApiError::Internal(format!("reference: {e}")))?;
        Ok((e, r))
    };
    let mut nodes = Map::new();
    for n in std::iter::once(&p.root).chain(&p.nodes) {
        let depth = match n.side {
            Side::Upstream => -(n.depth as i64),
            Side::Downstream => n.depth as i64,
        };
        let (e, r) = reference(n.node)?;
        nodes.insert(
            e.fqn.clone(),
            json!({
                "entity": r,
                "paging": {"entityUpstreamCount": n.upstream_count, "entityDownstreamCount": n.downstream_count},
                "nodeDepth": depth,
            }),
        );
    }
    let edges = |side: &[Edge]| -> ApiResult<Map<String, Value>> {
        let mut m = Map::new();
        for e in side.iter().filter(|e| p.holds(e)) {
            let (fa, _) = reference(e.from)?;
            let (fb, _) = reference(e.to)?;
            let key = format!("{}-->{}", fa.fqn, fb.fqn);
            let pipeline = e.pipeline.and_then(|id| p.graph.pipelines.get(&id));
            let mut d = serde_json::to_value(DetailsOut::new(e, pipeline, base, false))
                .map_err(|e| ApiError::Internal(format!("details: {e}")))?;
            let columns = d
                .get_mut("columnsLineage")
                .map(Value::take)
                .unwrap_or(json!([]));
            let mut edge = json!({
                "fromEntity": {"id": fa.id, "type": fa.entity_type.as_str(), "fullyQualifiedName": fa.fqn},
                "toEntity": {"id": fb.id, "type": fb.entity_type.as_str(), "fullyQualifiedName": fb.fqn},
                "columns": columns,
                "docUniqueId": key,
            });
            if let Value::Object(dm) = d {
                for (k, v) in dm {
                    if k != "columnsLineage" {
                        edge[k] = v;
                    }
                }
            }
            m.insert(key, edge);
        }
        Ok(m)
    };
    let up = edges(&p.graph.upstream)?;
    let down = edges(&p.graph.downstream)?;
    Ok(json!({"nodes": nodes, "upstreamEdges": up, "downstreamEdges": down}))
}

async fn get_lineage(
    State(s): State<AppState>,
    Query(q): Query<DepthParams>,
) -> ApiResult<Response> {
    let (ty, key) = q.target()?;
    let o = q.opts(&s)?;
    let page = Page {
        from: q.from.unwrap_or(0),
        size: q.size.unwrap_or(10_000),
    };
    let p = blocking(&s, move |svc| svc.lineage_page(ty, &key, &o, page)).await?;
    Ok(Json(search_lineage(&p, &base_url(&s))?).into_response())
}

fn depth_info(c: &DepthCounts) -> Value {
    let info = |c: &[usize]| -> Vec<Value> {
        c.iter()
            .enumerate()
            .map(|(i, n)| json!({"depth": i + 1, "entityCount": n}))
            .collect()
    };
    json!({
        "totalUpstreamEntities": c.upstream.iter().sum::<usize>(),
        "totalDownstreamEntities": c.downstream.iter().sum::<usize>(),
        "maxUpstreamDepth": c.upstream.len(),
        "maxDownstreamDepth": c.downstream.len(),
        "upstreamDepthInfo": info(&c.upstream),
        "downstreamDepthInfo": info(&c.downstream),
    })
}

async fn pagination_info(
    State(s): State<AppState>,
    Query(q): Query<DepthParams>,
) -> ApiResult<Response> {
    let (ty, key) = q.target()?;
    let o = q.opts(&s)?;
    let c = blocking(&s, move |svc| svc.depth_counts(ty, &key, &o)).await?;
    Ok(Json(depth_info(&c)).into_response())
}

/// The edges of a lineage graph as OpenMetadata's lineage CSV.
fn export_csv(g: &LineageGraph) -> ApiResult<String> {
    let internal = |e: csv::Error| ApiError::Internal(format!("csv: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "fromId",
        "fromEntityType",
        "fromFullyQualifiedName",
        "toId",
        "toEntityType",
        "toFullyQualifiedName",
        "description",
        "pipelineId",
        "pipelineFullyQualifiedName",
        "columnLineage",
        "sqlQuery",
        "source",
    ])
    .map_err(internal)?;
    for e in g.edges() {
        let (Some(fa), Some(fb)) = (g.entities.get(&e.from), g.entities.get(&e.to)) else {
            continue;
        };
        let p = e.pipeline.and_then(|p| g.pipelines.get(&p));
        let cols: Vec<String> = e
            .columns_lineage
            .iter()
            .flat_map(|m| {
                m.from_columns
                    .iter()
                    .map(move |f| format!("{f}:{}", m.to_column))
            })
            .collect();
        w.write_record([
            fa.id.to_string().as_str(),
            fa.entity_type.as_str(),
            &fa.fqn,
            fb.id.to_string().as_str(),
            fb.entity_type.as_str(),
            &fb.fqn,
            e.description.as_deref().unwrap_or_default(),
            p.map(|p| p.id.to_string()).unwrap_or_default().as_str(),
            p.map(|p| p.fqn.as_str()).unwrap_or_default(),
            &cols.join(";"),
            e.sql_query.as_deref().unwrap_or_default(),
            e.source.as_str(),
        ])
        .map_err(internal)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ApiError::Internal(format!("csv: {e}")))?;
    String::from_utf8(bytes).map_err(|e| ApiError::Internal(format!("csv: {e}")))
}

async fn export(State(s): State<AppState>, Query(q): Query<DepthParams>) -> ApiResult<Response> {
    let (ty, key) = q.target()?;
    let o = q.opts(&s)?;
    let g = blocking(&s, move |svc| svc.lineage_graph(ty, &key, &o)).await?;
    let csv = export_csv(&g)?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
}

fn reference_of(views: &HashMap<NodeId, crate::domain::EntityView>, n: NodeId) -> ApiResult<Value> {
    views
        .get(&n)
        .map(|v| crate::domain::reference_json(&v.record))
        .ok_or_else(|| ApiError::Internal(format!("owner {n} not fetched")))
}

fn column_lineage_json(c: &ColumnLineage) -> ApiResult<Value> {
    let columns = c
        .columns
        .iter()
        .map(|v| {
            Ok(json!({
                "column": v.column,
                "table": reference_of(&c.owners, v.owner)?,
                "depth": v.depth,
                "direction": match v.side { Side::Upstream => "upstream", Side::Downstream => "downstream" },
            }))
        })
        .collect::<ApiResult<Vec<Value>>>()?;
    let edges: Vec<Value> = c
        .edges
        .iter()
        .map(|e| {
            json!({
                "fromColumn": e.from_column,
                "toColumn": e.to_column,
                "fromEntity": e.from_entity,
                "toEntity": e.to_entity,
                "function": e.function,
                "transformation": e.transformation,
                "source": e.source.map(|s| s.as_str()),
            })
        })
        .collect();
    Ok(json!({
        "column": c.column,
        "table": reference_of(&c.owners, c.owner)?,
        "columns": columns,
        "edges": edges,
        "truncated": c.truncated,
    }))
}

async fn column_lineage(
    State(s): State<AppState>,
    Path(fqn): Path<String>,
    Query(q): Query<DepthParams>,
) -> ApiResult<Response> {
    let o = q.opts(&s)?;
    let c = blocking(&s, move |svc| svc.column_lineage(&fqn, o.up, o.down)).await?;
    Ok(hrefs_json(&s, column_lineage_json(&c)?))
}

fn impact_json(i: &Impact) -> Value {
    json!({
        "entity": crate::domain::reference_json(&i.entity.record),
        "total": i.total,
        "maxDepth": i.by_depth.len(),
        "byType": i.by_type,
        "byDepth": i.by_depth.iter().enumerate().map(|(d, m)| {
            json!({"depth": d + 1, "count": m.values().sum::<usize>(), "byType": m})
        }).collect::<Vec<_>>(),
    })
}

async fn impact(
    State(s): State<AppState>,
    Path((ty, fqn)): Path<(String, String)>,
    Query(q): Query<DepthParams>,
) -> ApiResult<Response> {
    let ty = entity_type(&ty)?;
    let depth = q.depth;
    let i = blocking(&s, move |svc| svc.impact(ty, &Key::Fqn(fqn), depth)).await?;
    Ok(hrefs_json(&s, impact_json(&i)))
}

/// The lineage routes, documented.
pub fn routes() -> ApiRouter {
    let lineage_answer = |op: Op| op.answers::<EntityLineageOut>(200, "EntityLineage");
    let json_answer =
        |op: Op, what: &str| op.answers_with(200, "application/json", any_object(what), "OK");
    let from_to_ids = |op: Op| {
        op.path_type("fromType", "Upstream entity type.")
            .path_uuid("fromId", "Upstream entity id.")
            .path_type("toType", "Downstream entity type.")
            .path_uuid("toId", "Downstream entity id.")
    };
    ApiRouter::new()
        .route(
            Method::PUT,
            "/api/v1/lineage",
            add_lineage,
            json_answer(
                Op::new("lineage", "Add a lineage edge or replace its details (AddLineage)")
                    .body::<AddLineage>("OpenMetadata's AddLineage."),
                "`{\"created\": bool, \"droppedColumns\": [{\"column\", \"reason\"}]}`",
            ),
        )
        .route(
            Method::GET,
            "/api/v1/lineage/{entityType}/{id}",
            lineage_by_id,
            lineage_answer(
                Op::new("lineage", "Lineage of an entity by id")
                    .path_type("entityType", "The entity's type.")
                    .path_uuid("id", "The entity's UUID.")
                    .query::<DepthParams>(),
            ),
        )
        .route(
            Method::GET,
            "/api/v1/lineage/{entityType}/name/{fqn}",
            lineage_by_name,
            lineage_answer(
                Op::new("lineage", "Lineage of an entity by fully qualified name")
                    .path_type("entityType", "The entity's type.")
                    .path("fqn", "The entity's fully qualified name.")
                    .query::<DepthParams>(),
            ),
        )
        .route(
            Method::GET,
            "/api/v1/lineage/getLineageEdge/{fromId}/{toId}",
            get_edge,
            Op::new("lineage", "Details of one edge")
                .path_uuid("fromId", "Upstream entity id.")
                .path_uuid("toId", "Downstream entity id.")
                .answers::<EdgeDetailsOut>(200, "The edge's LineageDetails"),
        )
        .route(
            Method::PATCH,
            "/api/v1/lineage/{fromType}/{fromId}/{toType}/{toId}",
            patch_edge,
            from_to_ids(json_patch_op(Op::new(
                "lineage",
                "JSON Patch (RFC 6902) an edge's LineageDetails",
            )))
            .answers::<DetailsOut>(200, "The patched LineageDetails"),
        )
        .route(
            Method::DELETE,
            "/api/v1/lineage/{fromType}/{fromId}/{toType}/{toId}",
            delete_edge,
            from_to_ids(Op::new("lineage", "Delete an edge by ids"))
                .answers_empty(200, "Deleted (404 when there was no edge)"),
        )
        .route(
            Method::DELETE,
            "/api/v1/lineage/{fromType}/name/{fromFqn}/{toType}/name/{toFqn}",
            delete_edge_by_name,
            Op::new("lineage", "Delete an edge by names")
                .path_type("fromType", "Upstream entity type.")
                .path("fromFqn", "Upstream entity's fully qualified name.")
                .path_type("toType", "Downstream entity type.")
                .path("toFqn", "Downstream entity's fully qualified name.")
                .answers_empty(200, "Deleted (404 when there was no edge)"),
        )
        .route(
            Method::DELETE,
            "/api/v1/lineage/{entityType}/{entityId}/type/{source}",
            delete_by_source,
            json_answer(
                Op::new("lineage", "Delete an entity's upstream edges of one source")
                    .path_type("entityType", "The entity's type.")
                    .path_uuid("entityId", "The entity's UUID.")
                    .path("source", "LineageSource: Manual, QueryLineage, PipelineLineage, ..."),
                "`{\"deleted\": n}`",
            ),
        )
        .route(
            Method::GET,
            "/api/v1/lineage/getLineage",
            get_lineage,
            json_answer(
                Op::new("lineage", "Search-style lineage (fqn, type, depths, from, size)")
                    .query::<DepthParams>(),
                "`nodes` and `upstreamEdges`/`downstreamEdges` keyed by FQN; `nodeDepth` negative upstream",
            ),
        )
        .route(
            Method::GET,
            "/api/v1/lineage/getPaginationInfo",
            pagination_info,
            json_answer(
                Op::new("lineage", "Entity counts per depth").query::<DepthParams>(),
                "Totals, max depths and per-depth counts in each direction",
            ),
        )
        .route(
            Method::GET,
            "/api/v1/lineage/export",
            export,
            Op::new("lineage", "Lineage edges as OpenMetadata's CSV")
                .query::<DepthParams>()
                .answers_with(
                    200,
                    "text/csv",
                    utoipa::openapi::schema::Schema::Object(
                        utoipa::openapi::schema::ObjectBuilder::new()
                            .schema_type(utoipa::openapi::schema::Type::String)
                            .build(),
                    ),
                    "One row per edge",
                ),
        )
        .route(
            Method::GET,
            "/api/v1/lineage/column/name/{fqn}",
            column_lineage,
            json_answer(
                Op::new("lineage", "Column lineage across tables")
                    .path("fqn", "The column's fully qualified name.")
                    .query::<DepthParams>(),
                "`column`, `table`, `columns` reached (depth, direction), column `edges`, `truncated`",
            ),
        )
        .route(
            Method::GET,
            "/api/v1/lineage/impact/{entityType}/name/{fqn}",
            impact,
            json_answer(
                Op::new(
                    "lineage",
                    "Downstream impact: counts by depth and type (depth optional: unbounded)",
                )
                .path_type("entityType", "The entity's type.")
                .path("fqn", "The entity's fully qualified name.")
                .query::<DepthParams>(),
                "`entity`, `total`, `maxDepth`, `byType`, `byDepth`",
            ),
        )
}

#[cfg(test)]
mod tests {
    use headwaters_engine::Store;

    use super::*;
    use crate::domain::{Actor, Service, Settings, kinds};

    const BASE: &str = "http://lineage.test";

    /// `EntityLineage` serialised in one go from the typed graph (the answer before it
    /// was made of kept pieces): what the pieces must add up to, byte for byte.
    fn reference<'a>(g: &'a LineageGraph, transformations: bool) -> Vec<u8> {
        let edge = |e: &'a Edge| EdgeOut {
            from_entity: g.entities[&e.from].id,
            to_entity: g.entities[&e.to].id,
            lineage_details: DetailsOut::new(
                e,
                e.pipeline.and_then(|p| g.pipelines.get(&p)),
                BASE,
                transformations,
            ),
        };
        let out = EntityLineageOut {
            entity: RefOut::new(&g.entities[&g.root], BASE),
            nodes: g
                .nodes
                .iter()
                .filter(|n| **n != g.root)
                .map(|n| RefOut::new(&g.entities[n], BASE))
                .collect(),
            upstream_edges: g.upstream.iter().map(edge).collect(),
            downstream_edges: g.downstream.iter().map(edge).collect(),
            truncated: g.truncated,
        };
        serde_json::to_vec(&out).unwrap()
    }

    fn opts(depth: u32) -> LineageOpts {
        LineageOpts {
            up: depth,
            down: depth,
            include_deleted: false,
            types: EntityTypeSet::ALL,
        }
    }

    /// Every node reached from the demo's orders fact, each answered at depth 3 both
    /// ways, with and without transformations, from pieces and in one go: the same bytes.
    /// Returns how many answers had a pipeline in them.
    fn compare_all(svc: &Service) -> usize {
        let start = Key::Fqn("warehouse.analytics.marts.fct_orders".into());
        let all = svc
            .lineage_graph(EntityType::Table, &start, &opts(20))
            .unwrap();
        let mut with_pipeline = 0;
        for e in all.entities.values() {
            let key = Key::Fqn(e.fqn.clone());
            for transformations in [false, true] {
                let r = OmRenderer {
                    base: BASE,
                    transformations,
                };
                let pieces = svc
                    .lineage_rendered(e.entity_type, &key, &opts(3), &r)
                    .unwrap();
                let g = svc.lineage_graph(e.entity_type, &key, &opts(3)).unwrap();
                let expected = String::from_utf8(reference(&g, transformations)).unwrap();
                assert_eq!(
                    String::from_utf8(entity_lineage(&pieces)).unwrap(),
                    expected,
                    "{} (transformations: {transformations})",
                    e.fqn
                );
                // Now every piece is kept: the async worker's path answers the same.
                let kept = svc
                    .lineage_kept(e.entity_type, &key, &opts(3), &r, usize::MAX)
                    .unwrap()
                    .expect("every piece kept");
                assert_eq!(String::from_utf8(entity_lineage(&kept)).unwrap(), expected);
                with_pipeline += usize::from(!g.pipelines.is_empty());
            }
        }
        with_pipeline
    }

    #[test]
    fn kept_pieces_make_the_typed_answer_before_and_after_writes() {
        let svc = Service::new(Store::in_memory(), Settings::default()).unwrap();
        crate::ingest::demo::load(&svc).unwrap();
        // Nothing is kept yet, and a walk past the limit is never answered from pieces.
        let orders_key = Key::Fqn("warehouse.analytics.marts.fct_orders".into());
        let r = OmRenderer {
            base: BASE,
            transformations: false,
        };
        assert!(
            svc.lineage_kept(EntityType::Table, &orders_key, &opts(3), &r, usize::MAX)
                .unwrap()
                .is_none()
        );
        assert!(compare_all(&svc) > 0, "some answers name a pipeline");
        assert!(
            svc.lineage_kept(EntityType::Table, &orders_key, &opts(3), &r, usize::MAX)
                .unwrap()
                .is_some()
        );
        assert!(
            svc.lineage_kept(EntityType::Table, &orders_key, &opts(3), &r, 1)
                .unwrap()
                .is_none(),
            "fct_orders reaches more than one node per direction"
        );
        // Again, now from the kept pieces.
        compare_all(&svc);
        let cached = svc.store.read().record_cache_stats();
        assert!(cached.bytes > 0, "pieces were kept: {cached:?}");

        // Writes that change what kept pieces show: an edge's description, a column
        // renamed (the edges' column names), a node soft-deleted, a pipeline removed.
        let actor = Actor("test".into());
        let orders = (
            EntityType::Table,
            Key::Fqn("warehouse.analytics.marts.fct_orders".into()),
        );
        let g = svc.lineage_graph(orders.0, &orders.1, &opts(1)).unwrap();
        let up = g.upstream.first().expect("fct_orders has an upstream edge");
        let from = g.entities[&up.from].clone();
        svc.update_edge(
            (from.entity_type, Key::Id(from.id)),
            orders.clone(),
            |v| {
                let patch: json_patch::Patch = serde_json::from_value(serde_json::json!([
                    {"op": "add", "path": "/description", "value": "changed \"here\""}
                ]))
                .unwrap();
                patched_details(v, &patch, BASE)
            },
            &actor,
        )
        .unwrap();
        compare_all(&svc);
        let patch: json_patch::Patch = serde_json::from_value(serde_json::json!([
            {"op": "replace", "path": "/columns/0/name", "value": "renamed_column"}
        ]))
        .unwrap();
        svc.patch_entity(&kinds::TABLE, &Key::Id(from.id), &patch, &actor)
            .unwrap();
        compare_all(&svc);
        let pipeline = svc
            .lineage_graph(orders.0, &orders.1, &opts(20))
            .unwrap()
            .pipelines
            .values()
            .next()
            .expect("edges of the demo name pipelines")
            .id;
        let down = g
            .downstream
            .first()
            .expect("fct_orders has a downstream edge");
        let to = g.entities[&down.to].clone();
        svc.delete_entity(&kinds::TABLE, &Key::Id(to.id), false, false)
            .unwrap();
        compare_all(&svc);
        svc.delete_entity(&kinds::PIPELINE, &Key::Id(pipeline), true, false)
            .unwrap();
        compare_all(&svc);
    }
}

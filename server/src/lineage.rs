//! Lineage operations of the service layer, in OpenMetadata's shapes.

use std::collections::HashMap;

use headwaters_engine::{
    ColumnMapping, Direction, Edge, EdgeInput, Entity, EntityType, EntityTypeSet, Include,
    LineageSource, NodeId, Query, ReadView, TraversalSpec,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::service::{Actor, Key, Service};

/// OpenMetadata's `EntityReference` as a request names it (`id` and `type` required).
#[derive(Clone, Debug, Deserialize)]
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
    /// Ignored.
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// `LineageDetails` as sent.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DetailsIn {
    /// SQL.
    #[serde(default)]
    pub sql_query: Option<String>,
    /// Column mappings by FQN.
    #[serde(default)]
    pub columns_lineage: Option<Vec<ColumnMapping>>,
    /// Pipeline reference.
    #[serde(default)]
    pub pipeline: Option<RefIn>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Where it came from.
    #[serde(default)]
    pub source: Option<String>,
    /// Accepted, ignored (server-maintained).
    #[serde(default)]
    pub created_at: Option<Value>,
    /// Accepted, ignored.
    #[serde(default)]
    pub created_by: Option<Value>,
    /// Accepted, ignored.
    #[serde(default)]
    pub updated_at: Option<Value>,
    /// Accepted, ignored.
    #[serde(default)]
    pub updated_by: Option<Value>,
    /// Accepted, ignored.
    #[serde(default)]
    pub asset_edges: Option<Value>,
}

/// `EntitiesEdge`.
#[derive(Clone, Debug, Deserialize)]
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
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddLineage {
    /// The edge.
    pub edge: EdgeIn,
}

/// Parses an entity type name from a path or body.
pub fn entity_type(s: &str) -> ApiResult<EntityType> {
    s.parse::<EntityType>()
        .map_err(|e| ApiError::bad(format!("entity type: {e}")))
}

/// Parses a lineage source.
pub fn lineage_source(s: &str) -> ApiResult<LineageSource> {
    s.parse::<LineageSource>()
        .map_err(|e| ApiError::bad(format!("source: {e}")))
}

/// Depth parameters, checked against the configured maximum.
pub fn check_depth(name: &str, d: Option<u32>, default: u32, max: u32) -> ApiResult<u32> {
    let d = d.unwrap_or(default);
    if d > max {
        return Err(ApiError::bad(format!(
            "parameter {name}={d} is over this server's maximum depth {max}"
        )));
    }
    Ok(d)
}

fn millis_or_none(v: i64) -> Value {
    if v == 0 { Value::Null } else { json!(v) }
}

/// Entity records and pipeline references, fetched once per answer.
struct Refs<'v, 'a> {
    view: &'v ReadView<'a>,
    entities: HashMap<NodeId, Entity>,
}

impl<'v, 'a> Refs<'v, 'a> {
    fn new(view: &'v ReadView<'a>, nodes: &[NodeId]) -> ApiResult<Self> {
        let entities = view
            .entities(nodes)?
            .into_iter()
            .map(|e| (e.node, e))
            .collect();
        Ok(Refs { view, entities })
    }

    fn get(&mut self, n: NodeId) -> ApiResult<&Entity> {
        if !self.entities.contains_key(&n) {
            let e = self.view.entity(n)?;
            self.entities.insert(n, e);
        }
        Ok(&self.entities[&n])
    }

    fn reference(&mut self, n: NodeId) -> ApiResult<Value> {
        Ok(crate::service::reference_json(self.get(n)?))
    }

    fn pipeline(&mut self, id: Option<Uuid>) -> ApiResult<Value> {
        match id
            .map(|id| self.view.node_by_id(&id))
            .transpose()?
            .flatten()
        {
            Some(n) => self.reference(n),
            None => Ok(Value::Null),
        }
    }

    /// `LineageDetails` of an edge.
    fn details(&mut self, e: &Edge) -> ApiResult<Value> {
        let mut d = Map::new();
        if let Some(s) = &e.sql_query {
            d.insert("sqlQuery".into(), json!(s));
        }
        d.insert(
            "columnsLineage".into(),
            json!(om_columns(&e.columns_lineage)),
        );
        let p = self.pipeline(e.pipeline)?;
        if !p.is_null() {
            d.insert("pipeline".into(), p);
        }
        if let Some(s) = &e.description {
            d.insert("description".into(), json!(s));
        }
        d.insert("source".into(), json!(e.source.as_str()));
        for (k, v) in [
            ("createdAt", millis_or_none(e.created_at)),
            ("createdBy", json!(e.created_by)),
            ("updatedAt", millis_or_none(e.updated_at)),
            ("updatedBy", json!(e.updated_by)),
        ] {
            if !v.is_null() {
                d.insert(k.into(), v);
            }
        }
        Ok(Value::Object(d))
    }
}

/// An entity reference as answered.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RefOut<'a> {
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
            href: format!(
                "{base}/api/v1/{}/{}",
                crate::kinds::Kind::of(e.entity_type).collection,
                e.id
            ),
        }
    }
}

/// `LineageDetails` as answered.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DetailsOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    sql_query: Option<&'a str>,
    columns_lineage: Vec<OmColumnLineage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pipeline: Option<RefOut<'a>>,
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

/// OpenMetadata's `ColumnLineage`: exactly `fromColumns`, `toColumn`, `function` (the
/// SDK parses it with extra fields forbidden, so `transformation` stays out).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OmColumnLineage<'a> {
    from_columns: &'a [String],
    to_column: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    function: Option<&'a str>,
}

fn om_columns(m: &[ColumnMapping]) -> Vec<OmColumnLineage<'_>> {
    m.iter()
        .map(|m| OmColumnLineage {
            from_columns: &m.from_columns,
            to_column: &m.to_column,
            function: m.function.as_deref(),
        })
        .collect()
}

/// An `Edge` of `EntityLineage`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EdgeOut<'a> {
    from_entity: Uuid,
    to_entity: Uuid,
    lineage_details: DetailsOut<'a>,
}

/// `EntityLineage` (plus `truncated` when the node budget cut the walk).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EntityLineageOut<'a> {
    entity: RefOut<'a>,
    nodes: Vec<RefOut<'a>>,
    upstream_edges: Vec<EdgeOut<'a>>,
    downstream_edges: Vec<EdgeOut<'a>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    truncated: bool,
}

fn edge_out<'a>(
    e: &'a Edge,
    entities: &HashMap<NodeId, Entity>,
    pipelines: &'a HashMap<Uuid, Entity>,
    base: &str,
) -> ApiResult<EdgeOut<'a>> {
    let id = |n: NodeId| {
        entities
            .get(&n)
            .map(|e| e.id)
            .ok_or_else(|| ApiError::Internal(format!("edge end {n} not fetched")))
    };
    Ok(EdgeOut {
        from_entity: id(e.from)?,
        to_entity: id(e.to)?,
        lineage_details: DetailsOut {
            sql_query: e.sql_query.as_deref(),
            columns_lineage: om_columns(&e.columns_lineage),
            pipeline: e
                .pipeline
                .and_then(|p| pipelines.get(&p))
                .map(|p| RefOut::new(p, base)),
            description: e.description.as_deref(),
            source: e.source.as_str(),
            created_at: (e.created_at != 0).then_some(e.created_at),
            created_by: e.created_by.as_deref(),
            updated_at: (e.updated_at != 0).then_some(e.updated_at),
            updated_by: e.updated_by.as_deref(),
        },
    })
}

/// The result of [`Service::lineage_graph`].
pub struct LineageGraph {
    /// The start node.
    pub root: NodeId,
    /// Every node reached and the root, sorted.
    pub nodes: Vec<NodeId>,
    /// Upstream nodes with their depth, nearest first.
    pub visits_up: Vec<(NodeId, u32)>,
    /// Downstream nodes with their depth, nearest first.
    pub visits_down: Vec<(NodeId, u32)>,
    /// Entity records of `nodes`.
    pub entities: HashMap<NodeId, Entity>,
    /// Upstream edges followed, with details.
    pub upstream: Vec<Edge>,
    /// Downstream edges followed, with details.
    pub downstream: Vec<Edge>,
    /// Pipelines named by the edges, by UUID.
    pub pipelines: HashMap<Uuid, Entity>,
    /// Nodes reached per depth upstream (index 0 = depth 1).
    pub upstream_counts: Vec<usize>,
    /// Nodes reached per depth downstream.
    pub downstream_counts: Vec<usize>,
    /// The node budget cut the walk.
    pub truncated: bool,
}

/// Options of a lineage query beyond depths.
#[derive(Clone, Copy, Debug)]
pub struct LineageOpts {
    /// Upstream depth.
    pub up: u32,
    /// Downstream depth.
    pub down: u32,
    /// Soft-deleted nodes too.
    pub include_deleted: bool,
    /// Only these node types (walked through as well).
    pub types: EntityTypeSet,
}

impl Service {
    fn query(&self, o: &LineageOpts) -> Query {
        Query {
            spec: TraversalSpec {
                upstream_depth: Some(o.up),
                downstream_depth: Some(o.down),
                node_budget: Some(self.settings.node_budget),
                collect_edges: true,
            },
            types: o.types,
            include_deleted: o.include_deleted,
        }
    }

    /// One lineage query, with everything an answer needs fetched in batched reads: the
    /// entities reached, the edges followed with their details, their pipelines.
    pub fn lineage_graph(
        &self,
        ty: EntityType,
        key: &Key,
        o: &LineageOpts,
    ) -> ApiResult<LineageGraph> {
        let view = self.store.read();
        let include = if o.include_deleted {
            Include::All
        } else {
            Include::NonDeleted
        };
        let root = self.resolve(&view, ty, key, include)?;
        let t = view.traverse(root, &self.query(o))?;
        let mut nodes: Vec<NodeId> = vec![root];
        nodes.extend(t.upstream.visits.iter().map(|v| v.node));
        nodes.extend(t.downstream.visits.iter().map(|v| v.node));
        nodes.sort_unstable();
        nodes.dedup();
        let entities: HashMap<NodeId, Entity> = view
            .entities(&nodes)?
            .into_iter()
            .map(|e| (e.node, e))
            .collect();
        let upstream: Vec<Edge> = view
            .edges(&t.upstream.edges)?
            .into_iter()
            .flatten()
            .collect();
        let downstream: Vec<Edge> = view
            .edges(&t.downstream.edges)?
            .into_iter()
            .flatten()
            .collect();
        let mut pipelines: HashMap<Uuid, Entity> = HashMap::new();
        for p in upstream
            .iter()
            .chain(&downstream)
            .filter_map(|e| e.pipeline)
        {
            if let std::collections::hash_map::Entry::Vacant(slot) = pipelines.entry(p)
                && let Some(n) = view.node_by_id(&p)?
            {
                slot.insert(view.entity(n)?);
            }
        }
        Ok(LineageGraph {
            root,
            upstream_counts: t.upstream.counts_per_depth(),
            downstream_counts: t.downstream.counts_per_depth(),
            visits_up: t
                .upstream
                .visits
                .iter()
                .map(|v| (v.node, v.depth))
                .collect(),
            visits_down: t
                .downstream
                .visits
                .iter()
                .map(|v| (v.node, v.depth))
                .collect(),
            truncated: t.truncated(),
            nodes,
            entities,
            upstream,
            downstream,
            pipelines,
        })
    }

    /// `GET /lineage/{type}/{id}` and `/lineage/{type}/name/{fqn}`: `EntityLineage`,
    /// serialized. The hot read path: typed records straight to JSON bytes, `href`s
    /// built from `base` as it goes, no intermediate JSON tree.
    pub fn entity_lineage(
        &self,
        ty: EntityType,
        key: &Key,
        o: &LineageOpts,
        base: &str,
    ) -> ApiResult<Vec<u8>> {
        let LineageGraph {
            root,
            nodes,
            entities,
            upstream: up,
            downstream: down,
            pipelines,
            truncated,
            ..
        } = self.lineage_graph(ty, key, o)?;
        let out = EntityLineageOut {
            entity: RefOut::new(&entities[&root], base),
            nodes: nodes
                .iter()
                .filter(|n| **n != root)
                .map(|n| RefOut::new(&entities[n], base))
                .collect(),
            upstream_edges: up
                .iter()
                .map(|e| edge_out(e, &entities, &pipelines, base))
                .collect::<ApiResult<_>>()?,
            downstream_edges: down
                .iter()
                .map(|e| edge_out(e, &entities, &pipelines, base))
                .collect::<ApiResult<_>>()?,
            truncated,
        };
        serde_json::to_vec(&out)
            .map_err(|e| ApiError::Internal(format!("serializing lineage: {e}")))
    }

    fn endpoints(&self, view: &ReadView<'_>, e: &EdgeIn) -> ApiResult<(NodeId, NodeId)> {
        let from_ty = entity_type(&e.from_entity.ty)?;
        let to_ty = entity_type(&e.to_entity.ty)?;
        let from = self.resolve(
            view,
            from_ty,
            &Key::Id(e.from_entity.id),
            Include::NonDeleted,
        )?;
        let to = self.resolve(view, to_ty, &Key::Id(e.to_entity.id), Include::NonDeleted)?;
        Ok((from, to))
    }

    fn edge_input(
        &self,
        view: &ReadView<'_>,
        d: DetailsIn,
        description: Option<String>,
        actor: &Actor,
    ) -> ApiResult<EdgeInput> {
        let pipeline = match d.pipeline {
            Some(p) => {
                let ty = entity_type(&p.ty)?;
                self.resolve(view, ty, &Key::Id(p.id), Include::NonDeleted)?;
                Some(p.id)
            }
            None => None,
        };
        Ok(EdgeInput {
            sql_query: d.sql_query,
            columns_lineage: d.columns_lineage.unwrap_or_default(),
            pipeline,
            description: d.description.or(description),
            source: d
                .source
                .as_deref()
                .map(lineage_source)
                .transpose()?
                .unwrap_or_default(),
            actor: Some(actor.0.clone()),
            at_millis: None,
        })
    }

    /// `PUT /lineage`: creates the edge or replaces its details. Answers with what was
    /// done and which column references were dropped.
    pub fn add_lineage(&self, req: AddLineage, actor: &Actor) -> ApiResult<Value> {
        let view = self.store.read();
        let (from, to) = self.endpoints(&view, &req.edge)?;
        let input = self.edge_input(
            &view,
            req.edge.lineage_details.unwrap_or_default(),
            req.edge.description,
            actor,
        )?;
        drop(view);
        let outcome = self.store.put_edge(from, to, input)?;
        let dropped: Vec<Value> = outcome
            .rejected_columns
            .iter()
            .map(|r| json!({"column": r.column, "reason": r.reason}))
            .collect();
        if !dropped.is_empty() {
            tracing::info!(dropped = dropped.len(), "column lineage references dropped");
        }
        Ok(json!({
            "created": outcome.created,
            "droppedColumns": dropped,
        }))
    }

    fn edge_nodes_by_id(
        &self,
        view: &ReadView<'_>,
        from: Uuid,
        to: Uuid,
    ) -> ApiResult<(NodeId, NodeId)> {
        let f = view
            .node_by_id(&from)?
            .ok_or_else(|| ApiError::not_found(format!("entity {from} not found")))?;
        let t = view
            .node_by_id(&to)?
            .ok_or_else(|| ApiError::not_found(format!("entity {to} not found")))?;
        Ok((f, t))
    }

    /// `GET /lineage/getLineageEdge/{fromId}/{toId}`: `{"edge": LineageDetails}`.
    pub fn get_edge(&self, from: Uuid, to: Uuid) -> ApiResult<Value> {
        let view = self.store.read();
        let (f, t) = self.edge_nodes_by_id(&view, from, to)?;
        let e = view
            .edge(f, t)?
            .ok_or_else(|| ApiError::not_found("Lineage edge not found"))?;
        let mut refs = Refs::new(&view, &[f, t])?;
        Ok(json!({"edge": refs.details(&e)?}))
    }

    /// `PATCH /lineage/{fromType}/{fromId}/{toType}/{toId}`: RFC 6902 on the details.
    pub fn patch_edge(
        &self,
        from: (EntityType, Uuid),
        to: (EntityType, Uuid),
        patch: &json_patch::Patch,
        actor: &Actor,
    ) -> ApiResult<Value> {
        let view = self.store.read();
        let f = self.resolve(&view, from.0, &Key::Id(from.1), Include::NonDeleted)?;
        let t = self.resolve(&view, to.0, &Key::Id(to.1), Include::NonDeleted)?;
        let e = view
            .edge(f, t)?
            .ok_or_else(|| ApiError::not_found("Lineage edge not found"))?;
        let mut refs = Refs::new(&view, &[f, t])?;
        let mut details = refs.details(&e)?;
        json_patch::patch(&mut details, patch)
            .map_err(|e| ApiError::bad(format!("JSON Patch cannot be applied: {e}")))?;
        let d: DetailsIn = serde_json::from_value(details)
            .map_err(|e| ApiError::bad(format!("patched lineage details are invalid: {e}")))?;
        let input = self.edge_input(&view, d, None, actor)?;
        drop(view);
        self.store.put_edge(f, t, input)?;
        let view = self.store.read();
        let e = view
            .edge(f, t)?
            .ok_or_else(|| ApiError::not_found("Lineage edge not found"))?;
        let mut refs = Refs::new(&view, &[f, t])?;
        refs.details(&e)
    }

    /// `DELETE /lineage/{fromType}/{from}/{toType}/{to}` (by id or by name).
    pub fn delete_edge(&self, from: (EntityType, Key), to: (EntityType, Key)) -> ApiResult<()> {
        let view = self.store.read();
        let f = self.resolve(&view, from.0, &from.1, Include::All)?;
        let t = self.resolve(&view, to.0, &to.1, Include::All)?;
        drop(view);
        if self.store.remove_edge(f, t)? {
            Ok(())
        } else {
            Err(ApiError::not_found("Lineage edge not found"))
        }
    }

    /// `DELETE /lineage/{type}/{id}/type/{source}`: upstream edges with that source.
    pub fn delete_by_source(
        &self,
        ty: EntityType,
        id: Uuid,
        source: LineageSource,
    ) -> ApiResult<usize> {
        let view = self.store.read();
        let n = self.resolve(&view, ty, &Key::Id(id), Include::All)?;
        drop(view);
        Ok(self.store.remove_upstream_edges_by_source(n, source)?)
    }

    /// `GET /lineage/getLineage`: OpenMetadata's search-style answer (maps keyed by FQN).
    /// `nodeDepth` is negative upstream, positive downstream, 0 for the root.
    pub fn search_lineage(
        &self,
        ty: EntityType,
        fqn: &str,
        o: &LineageOpts,
        from: usize,
        size: usize,
    ) -> ApiResult<Value> {
        let view = self.store.read();
        let root = self.resolve(&view, ty, &Key::Fqn(fqn.to_string()), Include::NonDeleted)?;
        let t = view.traverse(root, &self.query(o))?;
        let mut listed: Vec<(NodeId, i64)> = vec![(root, 0)];
        let rest = t
            .upstream
            .visits
            .iter()
            .map(|v| (v.node, -(v.depth as i64)))
            .chain(t.downstream.visits.iter().map(|v| (v.node, v.depth as i64)))
            .skip(from)
            .take(size);
        listed.extend(rest);
        let ids: Vec<NodeId> = listed.iter().map(|x| x.0).collect();
        let mut refs = Refs::new(&view, &ids)?;
        let mut nodes = Map::new();
        let keep: std::collections::HashSet<NodeId> = ids.iter().copied().collect();
        for (n, depth) in &listed {
            let r = refs.reference(*n)?;
            let up = view.neighbors(*n, Direction::Upstream)?.len();
            let down = view.neighbors(*n, Direction::Downstream)?.len();
            let fqn = refs.get(*n)?.fqn.clone();
            nodes.insert(
                fqn,
                json!({
                    "entity": r,
                    "paging": {"entityUpstreamCount": up, "entityDownstreamCount": down},
                    "nodeDepth": depth,
                }),
            );
        }
        let mut edges_map = |pairs: &[(NodeId, NodeId)]| -> ApiResult<Map<String, Value>> {
            let mut m = Map::new();
            for (a, b) in pairs {
                if !keep.contains(a) || !keep.contains(b) {
                    continue;
                }
                let Some(e) = view.edge(*a, *b)? else {
                    continue;
                };
                let fa = refs.reference(*a)?;
                let fb = refs.reference(*b)?;
                let key = format!(
                    "{}-->{}",
                    fa["fullyQualifiedName"].as_str().unwrap_or(""),
                    fb["fullyQualifiedName"].as_str().unwrap_or("")
                );
                let mut d = refs.details(&e)?;
                let columns = d
                    .get_mut("columnsLineage")
                    .map(Value::take)
                    .unwrap_or(json!([]));
                let mut edge = json!({
                    "fromEntity": {"id": fa["id"], "type": fa["type"], "fullyQualifiedName": fa["fullyQualifiedName"]},
                    "toEntity": {"id": fb["id"], "type": fb["type"], "fullyQualifiedName": fb["fullyQualifiedName"]},
                    "columns": columns,
                    "docUniqueId": key,
                });
                if let Value::Object(dm) = d {
                    for (k, v) in dm {
                        edge[k] = v;
                    }
                }
                m.insert(key, edge);
            }
            Ok(m)
        };
        let up = edges_map(&t.upstream.edges)?;
        let down = edges_map(&t.downstream.edges)?;
        Ok(json!({"nodes": nodes, "upstreamEdges": up, "downstreamEdges": down}))
    }

    /// `GET /lineage/getPaginationInfo`: entity counts per depth in each direction.
    pub fn pagination_info(&self, ty: EntityType, fqn: &str, o: &LineageOpts) -> ApiResult<Value> {
        let view = self.store.read();
        let root = self.resolve(&view, ty, &Key::Fqn(fqn.to_string()), Include::NonDeleted)?;
        let mut q = self.query(o);
        q.spec.collect_edges = false;
        q.spec.node_budget = None;
        let t = view.traverse(root, &q)?;
        let info = |c: Vec<usize>| -> Vec<Value> {
            c.into_iter()
                .enumerate()
                .map(|(i, n)| json!({"depth": i + 1, "entityCount": n}))
                .collect()
        };
        let up = t.upstream.counts_per_depth();
        let down = t.downstream.counts_per_depth();
        Ok(json!({
            "totalUpstreamEntities": t.upstream.visits.len(),
            "totalDownstreamEntities": t.downstream.visits.len(),
            "maxUpstreamDepth": up.len(),
            "maxDownstreamDepth": down.len(),
            "upstreamDepthInfo": info(up),
            "downstreamDepthInfo": info(down),
        }))
    }

    /// `GET /lineage/export`: the edges of a lineage query as OpenMetadata's CSV.
    pub fn export_csv(&self, ty: EntityType, fqn: &str, o: &LineageOpts) -> ApiResult<String> {
        let view = self.store.read();
        let root = self.resolve(&view, ty, &Key::Fqn(fqn.to_string()), Include::NonDeleted)?;
        let t = view.traverse(root, &self.query(o))?;
        let mut refs = Refs::new(&view, &[root])?;
        let mut w = csv::Writer::from_writer(Vec::new());
        let internal = |e: csv::Error| ApiError::Internal(format!("csv: {e}"));
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
        for (a, b) in t.upstream.edges.iter().chain(&t.downstream.edges) {
            let Some(e) = view.edge(*a, *b)? else {
                continue;
            };
            let fa = refs.get(*a)?.clone();
            let fb = refs.get(*b)?.clone();
            let p = refs.pipeline(e.pipeline)?;
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
                fa.id.to_string(),
                fa.entity_type.to_string(),
                fa.fqn,
                fb.id.to_string(),
                fb.entity_type.to_string(),
                fb.fqn,
                e.description.unwrap_or_default(),
                p.get("id")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                p.get("fullyQualifiedName")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                cols.join(";"),
                e.sql_query.unwrap_or_default(),
                e.source.to_string(),
            ])
            .map_err(internal)?;
        }
        String::from_utf8(
            w.into_inner()
                .map_err(|e| ApiError::Internal(e.to_string()))?,
        )
        .map_err(|e| ApiError::Internal(e.to_string()))
    }

    /// Column lineage across tables from one column.
    pub fn column_lineage(&self, column_fqn: &str, up: u32, down: u32) -> ApiResult<Value> {
        let view = self.store.read();
        let c = view
            .column_by_fqn(column_fqn)?
            .ok_or_else(|| ApiError::not_found(format!("column {column_fqn} not found")))?;
        let mut q = Query::depths(up, down);
        q.spec.node_budget = Some(self.settings.node_budget);
        let t = view.column_traverse(c, &q)?;
        let owner = |c| {
            view.column_owner(c)
                .ok_or_else(|| ApiError::Internal(format!("column {c} has no owner")))
        };
        let mut owners: Vec<NodeId> = vec![owner(c)?];
        for v in t.upstream.visits.iter().chain(&t.downstream.visits) {
            owners.push(owner(v.node)?);
        }
        owners.sort_unstable();
        owners.dedup();
        let mut refs = Refs::new(&view, &owners)?;
        let mut columns = Vec::new();
        for (dir, reach) in [("upstream", &t.upstream), ("downstream", &t.downstream)] {
            for v in &reach.visits {
                let table = refs.reference(owner(v.node)?)?;
                columns.push(json!({
                    "column": view.column_fqn(v.node)?,
                    "table": table,
                    "depth": v.depth,
                    "direction": dir,
                }));
            }
        }
        let mut edge_cache: HashMap<(NodeId, NodeId), Option<Edge>> = HashMap::new();
        let mut edges = Vec::new();
        for (a, b) in t.upstream.edges.iter().chain(&t.downstream.edges) {
            let (oa, ob) = (owner(*a)?, owner(*b)?);
            let fa = view.column_fqn(*a)?;
            let fb = view.column_fqn(*b)?;
            if let std::collections::hash_map::Entry::Vacant(slot) = edge_cache.entry((oa, ob)) {
                slot.insert(view.edge(oa, ob)?);
            }
            let mapping = edge_cache[&(oa, ob)].as_ref().and_then(|e| {
                e.columns_lineage
                    .iter()
                    .find(|m| m.to_column == fb && m.from_columns.contains(&fa))
            });
            let function = mapping.and_then(|m| m.function.clone());
            let transformation = mapping.and_then(|m| m.transformation.clone());
            let source = edge_cache[&(oa, ob)].as_ref().map(|e| e.source.as_str());
            edges.push(json!({
                "fromColumn": fa,
                "toColumn": fb,
                "fromEntity": refs.get(oa)?.id,
                "toEntity": refs.get(ob)?.id,
                "function": function,
                "transformation": transformation,
                "source": source,
            }));
        }
        let table = refs.reference(owner(c)?)?;
        Ok(json!({
            "column": column_fqn,
            "table": table,
            "columns": columns,
            "edges": edges,
            "truncated": t.truncated(),
        }))
    }

    /// Downstream impact: counts by depth and by entity type, unbounded depth allowed.
    pub fn impact(&self, ty: EntityType, key: &Key, depth: Option<u32>) -> ApiResult<Value> {
        let view = self.store.read();
        let root = self.resolve(&view, ty, key, Include::NonDeleted)?;
        let q = Query {
            spec: TraversalSpec {
                upstream_depth: Some(0),
                downstream_depth: depth,
                node_budget: None,
                collect_edges: false,
            },
            types: EntityTypeSet::ALL,
            include_deleted: false,
        };
        let t = view.traverse(root, &q)?;
        let mut by_depth: Vec<Map<String, Value>> = Vec::new();
        let mut by_type: std::collections::BTreeMap<&'static str, usize> = Default::default();
        for v in &t.downstream.visits {
            let tname = view
                .entity_type(v.node)
                .map_or("unknown", EntityType::as_str);
            *by_type.entry(tname).or_default() += 1;
            let d = v.depth as usize;
            if by_depth.len() < d {
                by_depth.resize(d, Map::new());
            }
            let slot = by_depth[d - 1].entry(tname).or_insert(json!(0));
            *slot = json!(slot.as_u64().unwrap_or(0) + 1);
        }
        let entity = Service::reference(&view, root)?;
        Ok(json!({
            "entity": entity,
            "total": t.downstream.visits.len(),
            "maxDepth": by_depth.len(),
            "byType": by_type,
            "byDepth": by_depth.into_iter().enumerate().map(|(i, m)| {
                let count: u64 = m.values().filter_map(Value::as_u64).sum();
                json!({"depth": i + 1, "count": count, "byType": m})
            }).collect::<Vec<_>>(),
        }))
    }
}

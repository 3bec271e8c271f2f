//! Lineage of entities: graphs and pages of a traversal, edges written, updated and
//! deleted, depth counts. Each read operation answers from one read view.

use std::collections::HashMap;
use std::sync::Arc;

use headwaters_engine::{
    ColumnMapping, Direction, Edge, EdgeInput, Entity, EntityType, EntityTypeSet, Include,
    LineageSource, NodeId, Query, ReadView, RejectedColumn, RenderOf, Rendering, Traversal,
    TraversalSpec,
};
use uuid::Uuid;

use super::document::EntityView;
use super::error::{Error, Result};
use super::service::{Actor, Key, Service};

/// Parses an entity type name from a path, parameter or body.
pub fn entity_type(s: &str) -> Result<EntityType> {
    s.parse::<EntityType>()
        .map_err(|e| Error::invalid(format!("entity type: {e}")))
}

/// Parses a lineage source (`Manual`, `QueryLineage`, ...).
pub fn lineage_source(s: &str) -> Result<LineageSource> {
    s.parse::<LineageSource>()
        .map_err(|e| Error::invalid(format!("source: {e}")))
}

/// A depth parameter `name`, `default` when absent, checked against `max`.
pub fn check_depth(name: &str, d: Option<u32>, default: u32, max: u32) -> Result<u32> {
    let d = d.unwrap_or(default);
    if d > max {
        return Err(Error::invalid(format!(
            "parameter {name}={d} is over this server's maximum depth {max}"
        )));
    }
    Ok(d)
}

/// Which side of the root a node is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Towards sources.
    Upstream,
    /// Towards consumers.
    Downstream,
}

/// Options of a lineage query beyond depths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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

/// One lineage traversal with everything an answer needs, read from one view: the
/// entities reached, the edges followed with their details, the pipelines they name.
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
    pub entities: HashMap<NodeId, Arc<Entity>>,
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

impl LineageGraph {
    /// Upstream then downstream visits, each with its side: the order pages follow.
    pub fn visits(&self) -> impl Iterator<Item = (NodeId, u32, Side)> + '_ {
        self.visits_up
            .iter()
            .map(|(n, d)| (*n, *d, Side::Upstream))
            .chain(
                self.visits_down
                    .iter()
                    .map(|(n, d)| (*n, *d, Side::Downstream)),
            )
    }

    /// Every edge followed, upstream first.
    pub fn edges(&self) -> impl Iterator<Item = &Edge> {
        self.upstream.iter().chain(&self.downstream)
    }
}

/// Renders the nodes and edges of lineage answers for [`Service::lineage_rendered`].
pub trait LineageRenderer {
    /// The tag its renderings are kept under (below `headwaters_engine::RENDER_TAGS`):
    /// renderers whose output differs need different tags.
    fn tag(&self) -> u8;
    /// A node's reference.
    fn node(&self, e: &Entity) -> Result<Vec<u8>>;
    /// An edge without its pipeline (which may change on its own): the bytes before
    /// where the pipeline's reference goes, and the bytes after it.
    fn edge(&self, e: &Edge, from: &Entity, to: &Entity) -> Result<(Vec<u8>, Vec<u8>)>;
}

/// An edge as a [`LineageRenderer`] rendered it, and the pipeline it names now.
pub struct RenderedEdge {
    /// The split point (8 bytes), then the bytes before and after the pipeline.
    bytes: Arc<Rendering>,
    /// The pipeline, if the edge names one that exists.
    pub pipeline: Option<Uuid>,
}

impl RenderedEdge {
    fn encode(head: &[u8], tail: &[u8]) -> Rendering {
        let mut b = Vec::with_capacity(8 + head.len() + tail.len());
        b.extend_from_slice(&(head.len() as u64).to_le_bytes());
        b.extend_from_slice(head);
        b.extend_from_slice(tail);
        Rendering(b.into_boxed_slice())
    }

    fn split(&self) -> usize {
        let mut n = [0u8; 8];
        n.copy_from_slice(&self.bytes[..8]);
        8 + u64::from_le_bytes(n) as usize
    }

    /// The bytes before the pipeline's reference.
    pub fn head(&self) -> &[u8] {
        &self.bytes[8..self.split()]
    }

    /// The bytes after it.
    pub fn tail(&self) -> &[u8] {
        &self.bytes[self.split()..]
    }
}

/// A lineage traversal as renderings (see [`Service::lineage_rendered`]).
pub struct RenderedLineage {
    /// The root's reference.
    pub root: Arc<Rendering>,
    /// The other nodes reached, in node order.
    pub nodes: Vec<Arc<Rendering>>,
    /// Upstream edges followed.
    pub upstream: Vec<RenderedEdge>,
    /// Downstream edges followed.
    pub downstream: Vec<RenderedEdge>,
    /// References of the pipelines the edges name, by UUID.
    pub pipelines: HashMap<Uuid, Arc<Rendering>>,
    /// The node budget cut the walk.
    pub truncated: bool,
}

/// A page of a lineage traversal's nodes (`from`, `size` over [`LineageGraph::visits`]).
#[derive(Clone, Copy, Debug)]
pub struct Page {
    /// Nodes skipped.
    pub from: usize,
    /// Most nodes returned.
    pub size: usize,
}

/// A node of a [`LineagePage`].
pub struct PageNode {
    /// The node.
    pub node: NodeId,
    /// Hops from the root.
    pub depth: u32,
    /// Its side of the root.
    pub side: Side,
    /// Direct upstream neighbours in the whole graph.
    pub upstream_count: usize,
    /// Direct downstream neighbours in the whole graph.
    pub downstream_count: usize,
}

/// A page of lineage: the whole traversal, the page's nodes, and the views (record and
/// document) of the root and of every node of the page.
pub struct LineagePage {
    /// The traversal.
    pub graph: LineageGraph,
    /// The root (depth 0) with its neighbour counts.
    pub root: PageNode,
    /// This page's nodes, in visit order.
    pub nodes: Vec<PageNode>,
    /// The root and this page's nodes.
    pub views: HashMap<NodeId, EntityView>,
}

impl LineagePage {
    /// Whether both ends of `e` are the root or on this page.
    pub fn holds(&self, e: &Edge) -> bool {
        self.views.contains_key(&e.from) && self.views.contains_key(&e.to)
    }

    /// Edges among the root and this page's nodes.
    pub fn edges(&self) -> impl Iterator<Item = &Edge> {
        self.graph.edges().filter(|e| self.holds(e))
    }
}

/// Entity counts per depth, in each direction (no node budget).
pub struct DepthCounts {
    /// Upstream, index 0 = depth 1.
    pub upstream: Vec<usize>,
    /// Downstream.
    pub downstream: Vec<usize>,
}

/// An edge with its endpoints' and pipeline's records.
pub struct EdgeView {
    /// The edge and its details.
    pub edge: Edge,
    /// Upstream end.
    pub from: Entity,
    /// Downstream end.
    pub to: Entity,
    /// The pipeline named by the details, if it exists.
    pub pipeline: Option<Entity>,
}

/// The details an edge is written with.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct EdgeDetails {
    /// The SQL the lineage came from.
    pub sql_query: Option<String>,
    /// Column mappings by column FQN.
    pub columns_lineage: Vec<ColumnMapping>,
    /// The pipeline that moves the data.
    pub pipeline: Option<(EntityType, Uuid)>,
    /// Free text.
    pub description: Option<String>,
    /// Where the lineage came from.
    pub source: LineageSource,
}

/// An edge to create or whose details to replace.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct EdgeSpec {
    /// Upstream end.
    pub from: (EntityType, Key),
    /// Downstream end.
    pub to: (EntityType, Key),
    /// Details.
    pub details: EdgeDetails,
}

/// What [`Service::put_edge`] did.
pub struct EdgeWritten {
    /// A new edge (not a replacement of an existing one's details).
    pub created: bool,
    /// Column references dropped because they name no column of the endpoints.
    pub dropped_columns: Vec<RejectedColumn>,
    /// The edge as stored.
    pub edge: EdgeView,
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

    /// One lineage traversal (see [`LineageGraph`]).
    pub fn lineage_graph(
        &self,
        ty: EntityType,
        key: &Key,
        o: &LineageOpts,
    ) -> Result<LineageGraph> {
        let view = self.store.read();
        self.graph_in(&view, ty, key, o)
    }

    /// The root, the traversal and every node reached with the root, sorted.
    fn walk(
        &self,
        view: &ReadView<'_>,
        ty: EntityType,
        key: &Key,
        o: &LineageOpts,
        budget: usize,
    ) -> Result<(NodeId, Traversal<NodeId>, Vec<NodeId>)> {
        let include = if o.include_deleted {
            Include::All
        } else {
            Include::NonDeleted
        };
        let root = self.resolve(view, ty, key, include)?;
        let mut q = self.query(o);
        q.spec.node_budget = Some(budget);
        let t = view.traverse(root, &q)?;
        let mut nodes: Vec<NodeId> = vec![root];
        nodes.extend(t.upstream.visits.iter().map(|v| v.node));
        nodes.extend(t.downstream.visits.iter().map(|v| v.node));
        nodes.sort_unstable();
        nodes.dedup();
        Ok((root, t, nodes))
    }

    /// One lineage traversal as `r` renders its nodes and edges, from one read view.
    /// Renderings are kept in the store's record cache and reused until a write changes
    /// what they show, so a node or edge answered before costs neither a storage read
    /// nor a rendering; only the pipelines' names are looked up each time.
    pub fn lineage_rendered(
        &self,
        ty: EntityType,
        key: &Key,
        o: &LineageOpts,
        r: &dyn LineageRenderer,
    ) -> Result<RenderedLineage> {
        let view = self.store.read();
        let (root, t, nodes) = self.walk(&view, ty, key, o, self.settings.node_budget)?;
        self.rendered_in(&view, root, &t, &nodes, r, false)?
            .ok_or_else(|| Error::invariant("a rendering was missing after rendering"))
    }

    /// [`Service::lineage_rendered`] for a caller that must not wait (an async worker):
    /// `None` unless the store's lock is free, the walk stays within `max_nodes` nodes
    /// per direction, and every node and edge reached has its rendering kept; then no
    /// rendering is made and no record read (the root's name, the edges' pipelines and a
    /// detail the cache lost are still looked up in storage).
    pub fn lineage_kept(
        &self,
        ty: EntityType,
        key: &Key,
        o: &LineageOpts,
        r: &dyn LineageRenderer,
        max_nodes: usize,
    ) -> Result<Option<RenderedLineage>> {
        let Some(view) = self.store.try_read() else {
            return Ok(None);
        };
        let budget = self.settings.node_budget.min(max_nodes);
        let (root, t, nodes) = self.walk(&view, ty, key, o, budget)?;
        if t.truncated() && budget < self.settings.node_budget {
            return Ok(None);
        }
        self.rendered_in(&view, root, &t, &nodes, r, true)
    }

    /// The renderings of a walk, the missing ones made and kept (or, when `kept_only`,
    /// `None` at the first one missing).
    fn rendered_in(
        &self,
        view: &ReadView<'_>,
        root: NodeId,
        t: &Traversal<NodeId>,
        nodes: &[NodeId],
        r: &dyn LineageRenderer,
        kept_only: bool,
    ) -> Result<Option<RenderedLineage>> {
        let tag = r.tag();
        let pairs: Vec<(NodeId, NodeId)> = t
            .upstream
            .edges
            .iter()
            .chain(&t.downstream.edges)
            .copied()
            .collect();
        // The walk's own pieces first: a caller that takes only kept ones stops here on
        // a first-time question, before any storage read for pipelines.
        let all_kept = |got: &[Option<Arc<Rendering>>]| got.iter().all(Option::is_some);
        let node_key = |n: &NodeId| (RenderOf::Node(*n), tag);
        let mut node_r = view.renderings(nodes.iter().map(node_key));
        let mut edge_r = view.renderings(pairs.iter().map(|(a, b)| (RenderOf::Edge(*a, *b), tag)));
        if kept_only && !(all_kept(&node_r) && all_kept(&edge_r)) {
            return Ok(None);
        }
        let pipelines_named = view.edge_pipelines(&pairs)?;
        let mut pipeline_nodes: Vec<(Uuid, NodeId)> = Vec::new();
        for p in pipelines_named.iter().flatten() {
            if !pipeline_nodes.iter().any(|(u, _)| u == p)
                && let Some(n) = view.node_by_id(p)?
            {
                pipeline_nodes.push((*p, n));
            }
        }
        let pipeline_r = view.renderings(pipeline_nodes.iter().map(|(_, n)| node_key(n)));
        if kept_only && !all_kept(&pipeline_r) {
            return Ok(None);
        }
        node_r.extend(pipeline_r);
        // Render what is not kept: the records of those nodes and of the missing edges'
        // ends, and those edges, in one batched read each.
        let node_ids: Vec<NodeId> = nodes
            .iter()
            .chain(pipeline_nodes.iter().map(|(_, n)| n))
            .copied()
            .collect();
        let missing_edges: Vec<usize> = (0..pairs.len()).filter(|i| edge_r[*i].is_none()).collect();
        let missing_pairs: Vec<(NodeId, NodeId)> =
            missing_edges.iter().map(|i| pairs[*i]).collect();
        let fetched = view.edges(&missing_pairs)?;
        let mut need: Vec<NodeId> = node_ids
            .iter()
            .zip(&node_r)
            .filter(|(_, got)| got.is_none())
            .map(|(n, _)| *n)
            .chain(missing_pairs.iter().flat_map(|(a, b)| [*a, *b]))
            .collect();
        need.sort_unstable();
        need.dedup();
        let entities: HashMap<NodeId, Arc<Entity>> = view
            .shared_entities(&need)?
            .into_iter()
            .map(|e| (e.node, e))
            .collect();
        let entity = |n: &NodeId| {
            entities
                .get(n)
                .ok_or_else(|| Error::invariant(format!("node {n} was not read")))
        };
        let mut made = Vec::new();
        for (n, got) in node_ids.iter().zip(node_r.iter_mut()) {
            if got.is_none() {
                let rendering = Arc::new(Rendering(r.node(entity(n)?)?.into_boxed_slice()));
                made.push(((RenderOf::Node(*n), tag), rendering.clone()));
                *got = Some(rendering);
            }
        }
        for (i, e) in missing_edges.into_iter().zip(fetched) {
            // An edge the traversal followed is there (same view); were it not, the
            // answer leaves it out as `lineage_graph` does.
            if let Some(e) = e {
                let (head, tail) = r.edge(&e, entity(&e.from)?, entity(&e.to)?)?;
                let rendering = Arc::new(RenderedEdge::encode(&head, &tail));
                made.push(((RenderOf::Edge(e.from, e.to), tag), rendering.clone()));
                edge_r[i] = Some(rendering);
            }
        }
        view.keep_renderings(made);
        let mut node_r = node_r.into_iter().flatten();
        let mut root_r = None;
        let mut others = Vec::with_capacity(nodes.len().saturating_sub(1));
        for (n, got) in nodes.iter().zip(node_r.by_ref()) {
            if *n == root {
                root_r = Some(got);
            } else {
                others.push(got);
            }
        }
        let pipelines = pipeline_nodes.iter().map(|(u, _)| *u).zip(node_r).collect();
        let mut edges = edge_r
            .into_iter()
            .zip(pipelines_named)
            .map(|(got, pipeline)| got.map(|bytes| RenderedEdge { bytes, pipeline }));
        let upstream = edges
            .by_ref()
            .take(t.upstream.edges.len())
            .flatten()
            .collect();
        let downstream = edges.flatten().collect();
        Ok(Some(RenderedLineage {
            root: root_r.ok_or_else(|| Error::invariant("the root was not rendered"))?,
            nodes: others,
            upstream,
            downstream,
            pipelines,
            truncated: t.truncated(),
        }))
    }

    fn graph_in(
        &self,
        view: &ReadView<'_>,
        ty: EntityType,
        key: &Key,
        o: &LineageOpts,
    ) -> Result<LineageGraph> {
        let (root, t, nodes) = self.walk(view, ty, key, o, self.settings.node_budget)?;
        let entities: HashMap<NodeId, Arc<Entity>> = view
            .shared_entities(&nodes)?
            .into_iter()
            .map(|e| (e.node, e))
            .collect();
        let fetch = |pairs: &[(NodeId, NodeId)]| -> Result<Vec<Edge>> {
            Ok(view.edges(pairs)?.into_iter().flatten().collect())
        };
        let upstream = fetch(&t.upstream.edges)?;
        let downstream = fetch(&t.downstream.edges)?;
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
        let visits = |r: &headwaters_engine::Reach<NodeId>| {
            r.visits.iter().map(|v| (v.node, v.depth)).collect()
        };
        Ok(LineageGraph {
            root,
            upstream_counts: t.upstream.counts_per_depth(),
            downstream_counts: t.downstream.counts_per_depth(),
            visits_up: visits(&t.upstream),
            visits_down: visits(&t.downstream),
            truncated: t.truncated(),
            nodes,
            entities,
            upstream,
            downstream,
            pipelines,
        })
    }

    /// One page of a lineage traversal, with the views of the root and the page's
    /// nodes, all from one read view.
    pub fn lineage_page(
        &self,
        ty: EntityType,
        key: &Key,
        o: &LineageOpts,
        page: Page,
    ) -> Result<LineagePage> {
        let view = self.store.read();
        let graph = self.graph_in(&view, ty, key, o)?;
        let page_node = |node: NodeId, depth: u32, side: Side| -> Result<PageNode> {
            Ok(PageNode {
                node,
                depth,
                side,
                upstream_count: view.neighbors(node, Direction::Upstream)?.len(),
                downstream_count: view.neighbors(node, Direction::Downstream)?.len(),
            })
        };
        let root = page_node(graph.root, 0, Side::Upstream)?;
        let nodes = graph
            .visits()
            .skip(page.from)
            .take(page.size)
            .map(|(n, d, side)| page_node(n, d, side))
            .collect::<Result<Vec<_>>>()?;
        let mut ids: Vec<NodeId> = nodes.iter().map(|n| n.node).collect();
        ids.push(graph.root);
        ids.sort_unstable();
        ids.dedup();
        let views = ids.iter().copied().zip(self.views(&view, &ids)?).collect();
        Ok(LineagePage {
            graph,
            root,
            nodes,
            views,
        })
    }

    /// Entity counts per depth in each direction, with no node budget.
    pub fn depth_counts(&self, ty: EntityType, key: &Key, o: &LineageOpts) -> Result<DepthCounts> {
        let view = self.store.read();
        let root = self.resolve(&view, ty, key, Include::NonDeleted)?;
        let mut q = self.query(o);
        q.spec.collect_edges = false;
        q.spec.node_budget = None;
        let t = view.traverse(root, &q)?;
        Ok(DepthCounts {
            upstream: t.upstream.counts_per_depth(),
            downstream: t.downstream.counts_per_depth(),
        })
    }

    fn edge_view(&self, view: &ReadView<'_>, from: NodeId, to: NodeId) -> Result<EdgeView> {
        let edge = view
            .edge(from, to)?
            .ok_or_else(|| Error::not_found("Lineage edge not found"))?;
        let pipeline = match edge.pipeline {
            Some(p) => match view.node_by_id(&p)? {
                Some(n) => Some(view.entity(n)?),
                None => None,
            },
            None => None,
        };
        Ok(EdgeView {
            from: view.entity(from)?,
            to: view.entity(to)?,
            pipeline,
            edge,
        })
    }

    /// The edge between two entities named by id (any type).
    pub fn edge_by_ids(&self, from: Uuid, to: Uuid) -> Result<EdgeView> {
        let view = self.store.read();
        let node = |id: Uuid| -> Result<NodeId> {
            view.node_by_id(&id)?
                .ok_or_else(|| Error::not_found(format!("entity {id} not found")))
        };
        let (f, t) = (node(from)?, node(to)?);
        self.edge_view(&view, f, t)
    }

    fn edge_input(&self, view: &ReadView<'_>, d: EdgeDetails, actor: &Actor) -> Result<EdgeInput> {
        let pipeline = match d.pipeline {
            Some((ty, id)) => {
                self.resolve(view, ty, &Key::Id(id), Include::NonDeleted)?;
                Some(id)
            }
            None => None,
        };
        Ok(EdgeInput {
            sql_query: d.sql_query,
            columns_lineage: d.columns_lineage,
            pipeline,
            description: d.description,
            source: d.source,
            actor: Some(actor.0.clone()),
            at_millis: Some(crate::domain::clock::now_millis()),
        })
    }

    /// Creates an edge or replaces its details. Column mappings that name unknown
    /// columns are dropped (and reported), the rest kept.
    pub fn put_edge(&self, spec: EdgeSpec, actor: &Actor) -> Result<EdgeWritten> {
        let (from, to, input) = {
            let view = self.store.read();
            let f = self.resolve(&view, spec.from.0, &spec.from.1, Include::NonDeleted)?;
            let t = self.resolve(&view, spec.to.0, &spec.to.1, Include::NonDeleted)?;
            (f, t, self.edge_input(&view, spec.details, actor)?)
        };
        let outcome = self.store.put_edge(from, to, input)?;
        if !outcome.rejected_columns.is_empty() {
            tracing::info!(
                dropped = outcome.rejected_columns.len(),
                "column lineage references dropped"
            );
        }
        let edge = self.edge_view(&self.store.read(), from, to)?;
        Ok(EdgeWritten {
            created: outcome.created,
            dropped_columns: outcome.rejected_columns,
            edge,
        })
    }

    /// Replaces an existing edge's details with what `change` makes of the current
    /// edge, under the document lock (so two updates do not interleave).
    pub fn update_edge(
        &self,
        from: (EntityType, Key),
        to: (EntityType, Key),
        change: impl FnOnce(&EdgeView) -> Result<EdgeDetails>,
        actor: &Actor,
    ) -> Result<EdgeView> {
        let _guard = self.lock_docs();
        let (f, t, input) = {
            let view = self.store.read();
            let f = self.resolve(&view, from.0, &from.1, Include::NonDeleted)?;
            let t = self.resolve(&view, to.0, &to.1, Include::NonDeleted)?;
            let current = self.edge_view(&view, f, t)?;
            let details = change(&current)?;
            (f, t, self.edge_input(&view, details, actor)?)
        };
        self.store.put_edge(f, t, input)?;
        self.edge_view(&self.store.read(), f, t)
    }

    /// Deletes the edge between two entities; `false` when there was none.
    pub fn delete_edge(&self, from: (EntityType, Key), to: (EntityType, Key)) -> Result<bool> {
        let (f, t) = {
            let view = self.store.read();
            (
                self.resolve(&view, from.0, &from.1, Include::All)?,
                self.resolve(&view, to.0, &to.1, Include::All)?,
            )
        };
        Ok(self.store.remove_edge(f, t)?)
    }

    /// Deletes an entity's upstream edges of one source; answers how many.
    pub fn delete_by_source(
        &self,
        ty: EntityType,
        key: &Key,
        source: LineageSource,
    ) -> Result<usize> {
        let n = {
            let view = self.store.read();
            self.resolve(&view, ty, key, Include::All)?
        };
        Ok(self.store.remove_upstream_edges_by_source(n, source)?)
    }
}

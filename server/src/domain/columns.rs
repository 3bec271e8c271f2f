//! Reads beyond one entity's neighbourhood: column lineage across tables, downstream
//! impact, paths between two entities, entity lookup and search. Each answers from one
//! read view, with the views (record and document) of the entities it names.

use std::collections::{BTreeMap, HashMap};

use headwaters_engine::{
    Edge, EntityType, EntityTypeSet, Include, LineageSource, NodeId, Query, ReadView, TraversalSpec,
};
use serde_json::Value;
use uuid::Uuid;

use super::document::EntityView;
use super::error::{Error, Result};
use super::lineage::Side;
use super::search::SearchQuery;
use super::service::{Key, Service};

/// A column reached by a column-lineage walk.
pub struct ColumnVisit {
    /// Column FQN.
    pub column: String,
    /// The entity that owns it.
    pub owner: NodeId,
    /// Hops from the start column.
    pub depth: u32,
    /// Its side of the start column.
    pub side: Side,
}

/// One column-level edge followed.
pub struct ColumnEdgeView {
    /// Upstream column FQN.
    pub from_column: String,
    /// Downstream column FQN.
    pub to_column: String,
    /// Upstream column's owner.
    pub from_entity: Uuid,
    /// Downstream column's owner.
    pub to_entity: Uuid,
    /// The expression, if known.
    pub function: Option<String>,
    /// OpenLineage transformation type/subtype, if known.
    pub transformation: Option<String>,
    /// Source of the table edge the mapping belongs to.
    pub source: Option<LineageSource>,
}

/// Column lineage across tables from one column.
pub struct ColumnLineage {
    /// The start column's FQN.
    pub column: String,
    /// Its owner.
    pub owner: NodeId,
    /// Columns reached, upstream first, nearest first.
    pub columns: Vec<ColumnVisit>,
    /// Column edges followed.
    pub edges: Vec<ColumnEdgeView>,
    /// The node budget cut the walk.
    pub truncated: bool,
    /// Views of the owners of the start column and of every column reached.
    pub owners: HashMap<NodeId, EntityView>,
}

/// Everything downstream of an entity, counted.
pub struct Impact {
    /// The entity.
    pub entity: EntityView,
    /// Downstream entities in all.
    pub total: usize,
    /// Per type name, sorted by name.
    pub by_type: BTreeMap<&'static str, usize>,
    /// Per depth (index 0 = depth 1), per type name.
    pub by_depth: Vec<BTreeMap<&'static str, usize>>,
}

/// A page of search hits.
pub struct SearchPage {
    /// Hits in all pages.
    pub total: usize,
    /// This page, best first.
    pub hits: Vec<EntityView>,
}

impl Service {
    /// Column lineage from the column `column_fqn`, `up` and `down` levels.
    pub fn column_lineage(&self, column_fqn: &str, up: u32, down: u32) -> Result<ColumnLineage> {
        let view = self.store.read();
        let c = view
            .column_by_fqn(column_fqn)?
            .ok_or_else(|| Error::not_found(format!("column {column_fqn} not found")))?;
        let mut q = Query::depths(up, down);
        q.spec.node_budget = Some(self.settings.node_budget);
        let t = view.column_traverse(c, &q)?;
        let owner = |c| {
            view.column_owner(c)
                .ok_or_else(|| Error::invariant(format!("column {c} has no owner")))
        };
        let mut columns = Vec::new();
        for (side, reach) in [
            (Side::Upstream, &t.upstream),
            (Side::Downstream, &t.downstream),
        ] {
            for v in &reach.visits {
                columns.push(ColumnVisit {
                    column: view.column_fqn(v.node)?,
                    owner: owner(v.node)?,
                    depth: v.depth,
                    side,
                });
            }
        }
        let root_owner = owner(c)?;
        let mut ids: Vec<NodeId> = columns.iter().map(|c| c.owner).collect();
        ids.push(root_owner);
        ids.sort_unstable();
        ids.dedup();
        let owners: HashMap<NodeId, EntityView> =
            ids.iter().copied().zip(self.views(&view, &ids)?).collect();
        let mut table_edges: HashMap<(NodeId, NodeId), Option<Edge>> = HashMap::new();
        let mut edges = Vec::new();
        for (a, b) in t.upstream.edges.iter().chain(&t.downstream.edges) {
            let (oa, ob) = (owner(*a)?, owner(*b)?);
            let (from_column, to_column) = (view.column_fqn(*a)?, view.column_fqn(*b)?);
            if let std::collections::hash_map::Entry::Vacant(slot) = table_edges.entry((oa, ob)) {
                slot.insert(view.edge(oa, ob)?);
            }
            let edge = table_edges[&(oa, ob)].as_ref();
            let mapping = edge.and_then(|e| {
                e.columns_lineage
                    .iter()
                    .find(|m| m.to_column == to_column && m.from_columns.contains(&from_column))
            });
            let id = |n: NodeId| {
                owners
                    .get(&n)
                    .map(|v| v.record.id)
                    .ok_or_else(|| Error::invariant(format!("owner {n} not fetched")))
            };
            edges.push(ColumnEdgeView {
                from_entity: id(oa)?,
                to_entity: id(ob)?,
                function: mapping.and_then(|m| m.function.clone()),
                transformation: mapping.and_then(|m| m.transformation.clone()),
                source: edge.map(|e| e.source),
                from_column,
                to_column,
            });
        }
        Ok(ColumnLineage {
            column: column_fqn.to_string(),
            owner: root_owner,
            columns,
            edges,
            truncated: t.truncated(),
            owners,
        })
    }

    /// Downstream impact of an entity: counts by depth and by type; `depth` `None`
    /// walks to the end.
    pub fn impact(&self, ty: EntityType, key: &Key, depth: Option<u32>) -> Result<Impact> {
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
        let mut by_depth: Vec<BTreeMap<&'static str, usize>> = Vec::new();
        let mut by_type: BTreeMap<&'static str, usize> = BTreeMap::new();
        for v in &t.downstream.visits {
            let tname = view
                .entity_type(v.node)
                .map_or("unknown", EntityType::as_str);
            *by_type.entry(tname).or_default() += 1;
            let d = v.depth as usize;
            if by_depth.len() < d {
                by_depth.resize(d, BTreeMap::new());
            }
            *by_depth[d - 1].entry(tname).or_default() += 1;
        }
        let entity = self
            .views(&view, &[root])?
            .pop()
            .ok_or_else(|| Error::invariant("impact root not fetched"))?;
        Ok(Impact {
            entity,
            total: t.downstream.visits.len(),
            by_type,
            by_depth,
        })
    }

    /// Simple paths (at most `limit`, each at most `max_depth` edges) from one entity
    /// to another, as entity views.
    pub fn paths(
        &self,
        from: (EntityType, Key),
        to: (EntityType, Key),
        max_depth: u32,
        limit: usize,
    ) -> Result<Vec<Vec<EntityView>>> {
        let view = self.store.read();
        let f = self.resolve(&view, from.0, &from.1, Include::NonDeleted)?;
        let t = self.resolve(&view, to.0, &to.1, Include::NonDeleted)?;
        let q = Query::depths(max_depth, max_depth);
        view.paths(f, t, max_depth, limit, &q)?
            .iter()
            .map(|p| self.views(&view, p))
            .collect()
    }

    /// One entity by type and FQN, or by id (any type); `None` when absent.
    pub fn find_entity(&self, ty: EntityType, key: &Key) -> Result<Option<EntityView>> {
        let view = self.store.read();
        let node = match key {
            Key::Fqn(f) => view.node_by_fqn(ty, f)?,
            Key::Id(id) => view.node_by_id(id)?,
        };
        match node {
            Some(n) => Ok(self.views(&view, &[n])?.pop()),
            None => Ok(None),
        }
    }

    /// Free-text search, with the views of the page's hits.
    pub fn search_entities(&self, q: &SearchQuery) -> Result<SearchPage> {
        let view = self.store.read();
        if q.filter.is_some() || q.sort.is_some() {
            return self.search_filtered(&view, q);
        }
        let hits = self.search.search(&view, q);
        Ok(SearchPage {
            total: hits.total,
            hits: self.views(&view, &hits.nodes)?,
        })
    }

    /// A search with a document filter or a sort: the index gives the candidates (the
    /// words of `q.text` and the filter's required words), their documents are checked
    /// and sorted.
    fn search_filtered(&self, view: &ReadView<'_>, q: &SearchQuery) -> Result<SearchPage> {
        let words = q
            .filter
            .as_ref()
            .map(|f| f.required_words())
            .unwrap_or_default();
        let candidates = self
            .search
            .candidates(view, &q.text, &words, &q.types, q.deleted);
        let ids: Vec<NodeId> = candidates.iter().map(NodeId).collect();
        let mut matched: Vec<(Value, String, NodeId)> = Vec::new();
        for chunk in ids.chunks(1024) {
            for e in view.entities(chunk)? {
                let doc = view.document(e.node)?;
                if q.filter.as_ref().is_none_or(|f| f.matches(&doc)) {
                    let key = match &q.sort {
                        Some((field, _)) => sort_key(&doc, field),
                        None => Value::Null,
                    };
                    matched.push((key, e.fqn, e.node));
                }
            }
        }
        let desc = q.sort.as_ref().is_some_and(|s| s.1);
        matched.sort_by(|a, b| {
            let o = compare_values(&a.0, &b.0).then_with(|| a.1.cmp(&b.1));
            if desc { o.reverse() } else { o }
        });
        let total = matched.len();
        let page: Vec<NodeId> = matched
            .into_iter()
            .skip(q.from)
            .take(q.size)
            .map(|m| m.2)
            .collect();
        Ok(SearchPage {
            total,
            hits: self.views(view, &page)?,
        })
    }

    /// Entities whose FQN matches the pattern in `q.text` (`*` wildcards,
    /// case-insensitive), in FQN order, with the views of the page's hits.
    pub fn search_fqn(&self, q: &SearchQuery) -> Result<SearchPage> {
        let view = self.store.read();
        let hits = self
            .search
            .fqn_pattern(&view, &q.text, &q.types, q.deleted, q.from, q.size)?;
        Ok(SearchPage {
            total: hits.total,
            hits: self.views(&view, &hits.nodes)?,
        })
    }
}

/// The value a search sorts a document by (`name.keyword` -> `name`).
fn sort_key(doc: &Value, field: &str) -> Value {
    let path = field.strip_suffix(".keyword").unwrap_or(field);
    let mut cur = doc;
    for part in path.split('.') {
        match cur.get(part) {
            Some(v) => cur = v,
            None => return Value::Null,
        }
    }
    cur.clone()
}

/// Numbers by value, strings case-insensitively; missing values last.
fn compare_values(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (a, b) {
        (Value::Null, Value::Null) => Equal,
        (Value::Null, _) => Greater,
        (_, Value::Null) => Less,
        (Value::Number(x), Value::Number(y)) => {
            x.as_f64().partial_cmp(&y.as_f64()).unwrap_or(Equal)
        }
        (Value::String(x), Value::String(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (x, y) => x.to_string().cmp(&y.to_string()),
    }
}

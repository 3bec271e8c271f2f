//! Marquez's read API over the graph: OpenLineage's names (namespace + name) for the
//! entities that OpenLineage events created, and Marquez's shapes for namespaces,
//! datasets (and their versions), jobs, runs, the lineage graph and column lineage.
//!
//! The events are applied to the graph as everything else (`openlineage.rs`); this
//! module keeps a registry in the store's `aux` family so the graph can be read back
//! under OpenLineage's names:
//!
//! ```text
//!   mq/namespaces       {namespace: {createdAt, updatedAt}}
//!   mq/ds/{namespace}   {dataset name: entity id}
//!   mq/job/{namespace}  {job name: pipeline id}
//!   mq/node/{id}        {namespace, name, type, facets (latest of each), createdAt, updatedAt}
//! ```
//! Entities that no event named (tables from the catalog, dbt, SQL) appear in lineage
//! graphs under their service as namespace and the rest of their FQN as name.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use headwaters_engine::{ColumnId, EntityType, NodeId, Query, ReadView};
use serde_json::{Map, Value, json};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::domain::error::{Error, Result};
use crate::domain::fqn;
use crate::domain::search_dsl::glob_match;
use crate::domain::versions::version_text;
use crate::domain::{Key, Service};

/// Namespace of the stable ids (versions) this module derives.
const ID_NAMESPACE: Uuid = Uuid::from_u128(0x6d61_7271_7565_7a2d_6865_6164_7761_7465);

fn aux_json(view: &ReadView<'_>, key: &str) -> Result<Option<Value>> {
    match view.aux(key.as_bytes())? {
        Some(b) => Ok(Some(
            serde_json::from_slice(&b).map_err(|e| Error::json(key.to_string(), e))?,
        )),
        None => Ok(None),
    }
}

/// ISO-8601 of epoch milliseconds.
pub fn iso(ms: i64) -> Value {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .map(Value::String)
        .unwrap_or(Value::Null)
}

/// A node id of Marquez's graph: `dataset:ns:name`, `job:ns:name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRef {
    /// `dataset` or `job` (or `datasetField`).
    pub kind: String,
    /// The namespace.
    pub namespace: String,
    /// The name (a field's node id adds `:field`).
    pub name: String,
    /// The field, for `datasetField:ns:name:field` (and `dataset:...` with a field).
    pub field: Option<String>,
}

impl NodeRef {
    /// Parses `dataset:ns:name` (a namespace may hold `://` and `:port`, so the name is
    /// split off at the last `:` that leaves a known namespace, or the first one after
    /// the scheme).
    pub fn parse(id: &str, namespaces: &BTreeSet<String>) -> Result<NodeRef> {
        // A `#version` suffix (marquez-python's version argument) names a version; the
        // graph answered is the current one.
        let id = id.split_once('#').map_or(id, |(a, _)| a);
        let (kind, rest) = id.split_once(':').ok_or_else(|| {
            Error::invalid(format!(
                "parameter nodeId: {id:?} is not dataset:<namespace>:<name> or job:<namespace>:<name>"
            ))
        })?;
        if !matches!(kind, "dataset" | "job" | "datasetField") {
            return Err(Error::invalid(format!(
                "parameter nodeId: {kind:?} is not dataset, job or datasetField"
            )));
        }
        // The longest known namespace that prefixes the rest.
        let ns = namespaces
            .iter()
            .filter(|ns| {
                rest.len() > ns.len() + 1
                    && rest.starts_with(ns.as_str())
                    && rest.as_bytes()[ns.len()] == b':'
            })
            .max_by_key(|ns| ns.len())
            .cloned()
            .ok_or_else(|| {
                Error::not_found(format!("parameter nodeId: no namespace known for {id:?}"))
            })?;
        let name = &rest[ns.len() + 1..];
        let (name, field) = if kind == "datasetField" {
            match name.rsplit_once(':') {
                Some((n, f)) => (n.to_string(), Some(f.to_string())),
                None => {
                    return Err(Error::invalid(format!(
                        "parameter nodeId: {id:?} is not datasetField:<namespace>:<dataset>:<field>"
                    )));
                }
            }
        } else {
            (name.to_string(), None)
        };
        Ok(NodeRef {
            kind: kind.to_string(),
            namespace: ns,
            name,
            field,
        })
    }
}

/// What the registry knows of an entity.
struct Named {
    namespace: String,
    name: String,
    rec: Value,
}

impl Service {
    /// Records that OpenLineage calls entity `id` `namespace`/`name` (a dataset or a
    /// job), with the facets this event gave it.
    pub(crate) fn mq_register(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        id: Uuid,
        facets: &Map<String, Value>,
        at: i64,
    ) -> Result<()> {
        let _guard = self.lock_docs();
        let view = self.store.read();
        let put = |key: &str, v: &Value| -> Result<()> {
            self.store.put_aux(
                key.as_bytes(),
                Some(serde_json::to_vec(v).map_err(|e| Error::json(key.to_string(), e))?),
            )?;
            Ok(())
        };
        let mut nss = aux_json(&view, "mq/namespaces")?.unwrap_or_else(|| json!({}));
        if nss.get(namespace).is_none() {
            nss[namespace] = json!({"createdAt": at, "updatedAt": at});
            put("mq/namespaces", &nss)?;
        }
        let list_key = format!(
            "mq/{}/{namespace}",
            if kind == "JOB" { "job" } else { "ds" }
        );
        let mut list = aux_json(&view, &list_key)?.unwrap_or_else(|| json!({}));
        if list.get(name).and_then(Value::as_str) != Some(id.to_string().as_str()) {
            list[name] = json!(id);
            put(&list_key, &list)?;
        }
        let node_key = format!("mq/node/{id}");
        let old = aux_json(&view, &node_key)?;
        let mut rec = old.clone().unwrap_or_else(
            || json!({"namespace": namespace, "name": name, "type": kind, "facets": {}, "createdAt": at}),
        );
        rec["updatedAt"] = json!(at.max(rec["updatedAt"].as_i64().unwrap_or(0)));
        for (k, v) in facets {
            rec["facets"][k] = v.clone();
        }
        if old.as_ref() != Some(&rec) {
            put(&node_key, &rec)?;
        }
        Ok(())
    }

    /// Whether an OpenLineage event has named the dataset `namespace`/`name`.
    pub(crate) fn mq_known(&self, namespace: &str, name: &str) -> Result<bool> {
        Ok(Self::mq_list(&self.store.read(), "ds", namespace)?.contains_key(name))
    }

    fn mq_namespaces(view: &ReadView<'_>) -> Result<Map<String, Value>> {
        Ok(match aux_json(view, "mq/namespaces")? {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        })
    }

    fn mq_list(view: &ReadView<'_>, kind: &str, namespace: &str) -> Result<Map<String, Value>> {
        Ok(match aux_json(view, &format!("mq/{kind}/{namespace}"))? {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        })
    }

    /// The OpenLineage name of a node: registered, else service + rest of the FQN.
    fn mq_named(&self, view: &ReadView<'_>, node: NodeId) -> Result<Named> {
        let e = view.entity(node)?;
        if let Some(rec) = aux_json(view, &format!("mq/node/{}", e.id))? {
            return Ok(Named {
                namespace: rec["namespace"].as_str().unwrap_or_default().to_string(),
                name: rec["name"].as_str().unwrap_or_default().to_string(),
                rec,
            });
        }
        let parts = fqn::split(&e.fqn);
        let (ns, rest) = parts
            .split_first()
            .map(|(a, b)| (a.clone(), b.join(".")))
            .unwrap_or_default();
        Ok(Named {
            namespace: ns,
            name: rest,
            rec: json!({"facets": {}, "createdAt": 0, "updatedAt": 0}),
        })
    }

    fn mq_node(
        &self,
        view: &ReadView<'_>,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<NodeId> {
        let list = Self::mq_list(view, kind, namespace)?;
        let what = if kind == "job" { "job" } else { "dataset" };
        let id = list
            .get(name)
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| {
                Error::not_found(format!(
                    "{what} '{name}' not found in namespace '{namespace}'"
                ))
            })?;
        view.node_by_id(&id)?.ok_or_else(|| {
            Error::not_found(format!(
                "{what} '{name}' no longer exists in namespace '{namespace}'"
            ))
        })
    }

    /// `GET /namespaces`.
    pub fn mq_list_namespaces(&self, limit: usize, offset: usize) -> Result<Value> {
        let view = self.store.read();
        let all = Self::mq_namespaces(&view)?;
        let total = all.len();
        let page: Vec<Value> = all
            .iter()
            .skip(offset)
            .take(limit)
            .map(|(n, r)| namespace_out(n, r))
            .collect();
        Ok(json!({"namespaces": page, "totalCount": total}))
    }

    /// `GET /namespaces/{ns}`.
    pub fn mq_namespace(&self, namespace: &str) -> Result<Value> {
        let view = self.store.read();
        let all = Self::mq_namespaces(&view)?;
        all.get(namespace)
            .map(|r| namespace_out(namespace, r))
            .ok_or_else(|| Error::not_found(format!("namespace '{namespace}' not found")))
    }

    fn mq_dataset_out(&self, view: &ReadView<'_>, node: NodeId) -> Result<Value> {
        let named = self.mq_named(view, node)?;
        let e = view.entity(node)?;
        let doc = self.document(view, node)?;
        let fields: Vec<Value> = doc["columns"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                json!({
                    "name": c["name"],
                    "type": c.get("dataTypeDisplay").cloned().unwrap_or_else(|| c["dataType"].clone()),
                    "tags": c["tags"].as_array().map(|t| t.iter().filter_map(|x| x["tagFQN"].as_str()).collect::<Vec<_>>()).unwrap_or_default(),
                    "description": c.get("description").cloned().unwrap_or(Value::Null),
                })
            })
            .collect();
        let ty = if e.entity_type == EntityType::Topic {
            "STREAM"
        } else {
            "DB_TABLE"
        };
        let version = doc["version"].as_f64().unwrap_or(0.1);
        Ok(json!({
            "id": {"namespace": named.namespace, "name": named.name},
            "type": ty,
            "name": named.name,
            "physicalName": named.name,
            "createdAt": iso(named.rec["createdAt"].as_i64().unwrap_or(0)),
            "updatedAt": iso(doc["updatedAt"].as_i64().unwrap_or(0).max(named.rec["updatedAt"].as_i64().unwrap_or(0))),
            "namespace": named.namespace,
            "sourceName": named.namespace,
            "fields": fields,
            "tags": doc["tags"].as_array().map(|t| t.iter().filter_map(|x| x["tagFQN"].as_str()).collect::<Vec<_>>()).unwrap_or_default(),
            "lastModifiedAt": iso(named.rec["updatedAt"].as_i64().unwrap_or(0)),
            "lastLifecycleState": Value::Null,
            "description": doc.get("description").cloned().unwrap_or(Value::Null),
            "facets": named.rec["facets"],
            "currentVersion": version_id(e.id, version),
            "deleted": view.is_deleted(node),
        }))
    }

    /// `GET /namespaces/{ns}/datasets`.
    pub fn mq_datasets(&self, namespace: &str, limit: usize, offset: usize) -> Result<Value> {
        self.mq_page(
            "ds",
            "datasets",
            namespace,
            (limit, offset),
            Self::mq_dataset_out,
        )
    }

    /// A page of a namespace's datasets (`kind` `ds`) or jobs (`job`), answered as
    /// `{<key>: [...], totalCount}` with `out` shaping each.
    fn mq_page(
        &self,
        kind: &str,
        key: &str,
        namespace: &str,
        (limit, offset): (usize, usize),
        out: fn(&Self, &ReadView<'_>, NodeId) -> Result<Value>,
    ) -> Result<Value> {
        let view = self.store.read();
        self.mq_namespace_exists(&view, namespace)?;
        let list = Self::mq_list(&view, kind, namespace)?;
        let mut page = Vec::new();
        for (name, _) in list.iter().skip(offset).take(limit) {
            let n = self.mq_node(&view, kind, namespace, name)?;
            page.push(out(self, &view, n)?);
        }
        Ok(json!({key: page, "totalCount": list.len()}))
    }

    fn mq_namespace_exists(&self, view: &ReadView<'_>, namespace: &str) -> Result<()> {
        if Self::mq_namespaces(view)?.contains_key(namespace) {
            Ok(())
        } else {
            Err(Error::not_found(format!(
                "namespace '{namespace}' not found"
            )))
        }
    }

    /// `GET /namespaces/{ns}/datasets/{name}`.
    pub fn mq_dataset(&self, namespace: &str, name: &str) -> Result<Value> {
        let view = self.store.read();
        let n = self.mq_node(&view, "ds", namespace, name)?;
        self.mq_dataset_out(&view, n)
    }

    /// `GET /namespaces/{ns}/datasets/{name}/versions`: one per version of the entity,
    /// newest first.
    pub fn mq_dataset_versions(
        &self,
        namespace: &str,
        name: &str,
        limit: usize,
        offset: usize,
    ) -> Result<Value> {
        let (id, kind) = {
            let view = self.store.read();
            let n = self.mq_node(&view, "ds", namespace, name)?;
            let e = view.entity(n)?;
            (e.id, crate::domain::kinds::Kind::of(e.entity_type))
        };
        let docs = self.entity_versions(kind, id)?;
        let total = docs.len();
        let versions: Vec<Value> = docs
            .iter()
            .skip(offset)
            .take(limit)
            .map(|d| dataset_version_out(namespace, name, id, d))
            .collect();
        Ok(json!({"versions": versions, "totalCount": total}))
    }

    /// `GET /namespaces/{ns}/datasets/{name}/versions/{version}` (a version UUID).
    pub fn mq_dataset_version(&self, namespace: &str, name: &str, version: Uuid) -> Result<Value> {
        let all = self.mq_dataset_versions(namespace, name, usize::MAX, 0)?;
        all["versions"]
            .as_array()
            .and_then(|v| v.iter().find(|d| d["version"] == json!(version)).cloned())
            .ok_or_else(|| {
                Error::not_found(format!("version '{version}' of dataset '{name}' not found"))
            })
    }

    fn mq_runs_of(&self, view: &ReadView<'_>, pipeline_id: Uuid) -> Result<Vec<Value>> {
        let runs: Vec<Uuid> = match aux_json(view, &format!("ol-job/{pipeline_id}"))? {
            Some(v) => serde_json::from_value(v).map_err(|e| Error::json("run list", e))?,
            None => Vec::new(),
        };
        let mut out = Vec::new();
        for r in runs.iter().rev() {
            if let Some(rec) = aux_json(view, &format!("ol-run/{r}"))? {
                out.push(rec);
            }
        }
        Ok(out)
    }

    fn mq_job_out(&self, view: &ReadView<'_>, node: NodeId) -> Result<Value> {
        let named = self.mq_named(view, node)?;
        let e = view.entity(node)?;
        let doc = self.document(view, node)?;
        let runs = self.mq_runs_of(view, e.id)?;
        let latest = runs.first().map(run_out);
        let ids = |key: &str| -> Vec<Value> {
            runs.iter()
                .find(|r| r.get(key).is_some())
                .and_then(|r| r[key].as_array())
                .map(|a| {
                    a.iter()
                        .map(|d| json!({"namespace": d["namespace"], "name": d["name"]}))
                        .collect()
                })
                .unwrap_or_default()
        };
        let facets = runs
            .first()
            .map(|r| r["jobFacets"].clone())
            .unwrap_or_else(|| json!({}));
        Ok(json!({
            "id": {"namespace": named.namespace, "name": named.name},
            "type": "BATCH",
            "name": named.name,
            "simpleName": named.name,
            "createdAt": iso(named.rec["createdAt"].as_i64().unwrap_or(0)),
            "updatedAt": iso(named.rec["updatedAt"].as_i64().unwrap_or(0)),
            "namespace": named.namespace,
            "inputs": ids("inputs"),
            "outputs": ids("outputs"),
            "location": Value::Null,
            "description": doc.get("description").cloned().unwrap_or(Value::Null),
            "latestRun": latest.unwrap_or(Value::Null),
            "facets": facets,
            "currentVersion": version_id(e.id, doc["version"].as_f64().unwrap_or(0.1)),
        }))
    }

    /// `GET /namespaces/{ns}/jobs`.
    pub fn mq_jobs(&self, namespace: &str, limit: usize, offset: usize) -> Result<Value> {
        self.mq_page("job", "jobs", namespace, (limit, offset), Self::mq_job_out)
    }

    /// `GET /namespaces/{ns}/jobs/{name}`.
    pub fn mq_job(&self, namespace: &str, name: &str) -> Result<Value> {
        let view = self.store.read();
        let n = self.mq_node(&view, "job", namespace, name)?;
        self.mq_job_out(&view, n)
    }

    /// `GET /namespaces/{ns}/jobs/{name}/runs`, newest first.
    pub fn mq_job_runs(
        &self,
        namespace: &str,
        name: &str,
        limit: usize,
        offset: usize,
    ) -> Result<Value> {
        let view = self.store.read();
        let n = self.mq_node(&view, "job", namespace, name)?;
        let runs = self.mq_runs_of(&view, view.entity(n)?.id)?;
        let page: Vec<Value> = runs.iter().skip(offset).take(limit).map(run_out).collect();
        Ok(json!({"runs": page, "totalCount": runs.len()}))
    }

    /// `GET /jobs/runs/{id}`.
    pub fn mq_run(&self, id: Uuid) -> Result<Value> {
        let view = self.store.read();
        aux_json(&view, &format!("ol-run/{id}"))?
            .map(|r| run_out(&r))
            .ok_or_else(|| Error::not_found(format!("run '{id}' not found")))
    }

    /// `GET /lineage?nodeId=&depth=`: datasets and the jobs between them, as Marquez's
    /// UI draws them (an edge driven by a pipeline becomes dataset -> job -> dataset).
    pub fn mq_lineage(&self, node_id: &str, depth: u32) -> Result<Value> {
        let view = self.store.read();
        let nss: BTreeSet<String> = Self::mq_namespaces(&view)?.keys().cloned().collect();
        let r = NodeRef::parse(node_id, &nss)?;
        let start = self.mq_node(
            &view,
            if r.kind == "job" { "job" } else { "ds" },
            &r.namespace,
            &r.name,
        )?;
        // A job's own datasets are the roots of its graph.
        let roots: Vec<NodeId> = if r.kind == "job" {
            let job = self.mq_job_out(&view, start)?;
            let mut v = Vec::new();
            for d in job["inputs"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(job["outputs"].as_array().into_iter().flatten())
            {
                if let Ok(n) = self.mq_node(
                    &view,
                    "ds",
                    d["namespace"].as_str().unwrap_or(""),
                    d["name"].as_str().unwrap_or(""),
                ) {
                    v.push(n);
                }
            }
            v
        } else {
            vec![start]
        };
        let mut nodes: BTreeSet<NodeId> = roots.iter().copied().collect();
        let mut edges: BTreeSet<(NodeId, NodeId)> = BTreeSet::new();
        let mut q = Query::depths(depth, depth);
        q.spec.node_budget = Some(self.settings.node_budget);
        for root in roots {
            let t = view.traverse(root, &q)?;
            for reach in [&t.upstream, &t.downstream] {
                nodes.extend(reach.visits.iter().map(|v| v.node));
                edges.extend(reach.edges.iter().copied());
            }
        }
        let pairs: Vec<(NodeId, NodeId)> = edges.iter().copied().collect();
        let details = view.edges(&pairs)?;
        let mut graph: BTreeMap<String, Value> = BTreeMap::new();
        let mut links: Vec<(String, String)> = Vec::new();
        let mut ids: HashMap<NodeId, String> = HashMap::new();
        for n in &nodes {
            let named = self.mq_named(&view, *n)?;
            let id = format!("dataset:{}:{}", named.namespace, named.name);
            ids.insert(*n, id.clone());
            graph.insert(id.clone(), json!({"id": id, "type": "DATASET", "data": self.mq_dataset_out(&view, *n)?, "inEdges": [], "outEdges": []}));
        }
        for ((a, b), d) in pairs.iter().zip(details) {
            let (Some(from), Some(to)) = (ids.get(a).cloned(), ids.get(b).cloned()) else {
                continue;
            };
            let job = d
                .and_then(|d| d.pipeline)
                .map(|p| view.node_by_id(&p))
                .transpose()?
                .flatten();
            match job {
                Some(j) => {
                    let named = self.mq_named(&view, j)?;
                    let jid = format!("job:{}:{}", named.namespace, named.name);
                    if !graph.contains_key(&jid) {
                        graph.insert(jid.clone(), json!({"id": jid, "type": "JOB", "data": self.mq_job_out(&view, j)?, "inEdges": [], "outEdges": []}));
                    }
                    links.push((from, jid.clone()));
                    links.push((jid, to));
                }
                None => links.push((from, to)),
            }
        }
        links.sort();
        links.dedup();
        for (o, d) in &links {
            let e = json!({"origin": o, "destination": d});
            if let Some(Value::Array(a)) = graph.get_mut(o).and_then(|n| n.get_mut("outEdges")) {
                a.push(e.clone());
            }
            if let Some(Value::Array(a)) = graph.get_mut(d).and_then(|n| n.get_mut("inEdges")) {
                a.push(e);
            }
        }
        Ok(json!({"graph": graph.into_values().collect::<Vec<_>>()}))
    }

    /// `GET /column-lineage?nodeId=&depth=&withDownstream=`: the fields of a dataset (or
    /// one field) and their sources, `depth` levels up (and down when asked).
    pub fn mq_column_lineage(
        &self,
        node_id: &str,
        depth: u32,
        with_downstream: bool,
    ) -> Result<Value> {
        let view = self.store.read();
        let nss: BTreeSet<String> = Self::mq_namespaces(&view)?.keys().cloned().collect();
        let r = NodeRef::parse(node_id, &nss)?;
        if r.kind == "job" {
            // A job's column lineage: that of the fields of its outputs.
            let j = self.mq_node(&view, "job", &r.namespace, &r.name)?;
            let job = self.mq_job_out(&view, j)?;
            drop(view);
            let mut graph: Vec<Value> = Vec::new();
            for o in job["outputs"].as_array().into_iter().flatten() {
                let id = format!(
                    "dataset:{}:{}",
                    o["namespace"].as_str().unwrap_or(""),
                    o["name"].as_str().unwrap_or("")
                );
                drop_duplicates_into(
                    &mut graph,
                    self.mq_column_lineage(&id, depth, with_downstream)?,
                );
            }
            return Ok(json!({"graph": graph}));
        }
        let start = self.mq_node(&view, "ds", &r.namespace, &r.name)?;
        let e = view.entity(start)?;
        let roots: Vec<ColumnId> = match &r.field {
            Some(f) => {
                let c = view
                    .column_by_fqn(&format!("{}.{}", e.fqn, fqn::quote(f)?))?
                    .ok_or_else(|| {
                        Error::not_found(format!("field '{f}' not found in dataset '{}'", r.name))
                    })?;
                vec![c]
            }
            None => e.columns.iter().map(|(_, id)| *id).collect(),
        };
        let down = if with_downstream { depth } else { 0 };
        let mut q = Query::depths(depth, down);
        q.spec.node_budget = Some(self.settings.node_budget);
        let mut fields: BTreeSet<ColumnId> = roots.iter().copied().collect();
        let mut links: BTreeSet<(ColumnId, ColumnId)> = BTreeSet::new();
        for root in roots {
            let t = view.column_traverse(root, &q)?;
            for reach in [&t.upstream, &t.downstream] {
                fields.extend(reach.visits.iter().map(|v| v.node));
                links.extend(reach.edges.iter().copied());
            }
        }
        let mut names: HashMap<ColumnId, (String, String, String, String)> = HashMap::new();
        for c in &fields {
            let (owner, col) = view.column(*c)?;
            let named = self.mq_named(&view, owner)?;
            let doc = self.document(&view, owner)?;
            let ty = doc["columns"]
                .as_array()
                .and_then(|cols| {
                    cols.iter()
                        .find(|x| x["name"].as_str() == Some(col.as_str()))
                })
                .map(|x| {
                    x.get("dataTypeDisplay")
                        .cloned()
                        .unwrap_or_else(|| x["dataType"].clone())
                })
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            names.insert(*c, (named.namespace, named.name, col, ty));
        }
        let node_id = |c: &ColumnId| {
            let (ns, ds, f, _) = &names[c];
            format!("datasetField:{ns}:{ds}:{f}")
        };
        let mut graph = Vec::new();
        for c in &fields {
            let (ns, ds, f, ty) = &names[c];
            let inputs: Vec<Value> = links
                .iter()
                .filter(|(_, to)| to == c)
                .map(|(from, _)| {
                    let (ins, ids, inf, _) = &names[from];
                    json!({"namespace": ins, "dataset": ids, "field": inf, "transformationDescription": Value::Null, "transformationType": Value::Null})
                })
                .collect();
            let in_edges: Vec<Value> = links
                .iter()
                .filter(|(_, to)| to == c)
                .map(|(from, to)| json!({"origin": node_id(from), "destination": node_id(to)}))
                .collect();
            let out_edges: Vec<Value> = links
                .iter()
                .filter(|(from, _)| from == c)
                .map(|(from, to)| json!({"origin": node_id(from), "destination": node_id(to)}))
                .collect();
            graph.push(json!({
                "id": node_id(c),
                "type": "DATASET_FIELD",
                "data": {"namespace": ns, "dataset": ds, "datasetVersion": Value::Null, "field": f, "fieldType": ty,
                         "transformationDescription": Value::Null, "transformationType": Value::Null, "inputFields": inputs},
                "inEdges": in_edges,
                "outEdges": out_edges,
            }));
        }
        Ok(json!({"graph": graph}))
    }

    /// `GET /search?q=&filter=&sort=&limit=`: datasets and jobs whose name matches `q`
    /// (`%` any run, `_` one character, case-insensitive; no wildcard: contains).
    pub fn mq_search(
        &self,
        q: &str,
        filter: Option<&str>,
        sort: Option<&str>,
        limit: usize,
    ) -> Result<Value> {
        let view = self.store.read();
        let pattern = if q.contains('%') || q.contains('_') {
            q.to_lowercase()
        } else {
            format!("%{}%", q.to_lowercase())
        };
        let mut results = Vec::new();
        for ns in Self::mq_namespaces(&view)?.keys() {
            for (kind, ty, prefix) in [("ds", "DATASET", "dataset"), ("job", "JOB", "job")] {
                if filter.is_some_and(|f| {
                    !f.eq_ignore_ascii_case(if kind == "ds" { "dataset" } else { "job" })
                }) {
                    continue;
                }
                for (name, id) in Self::mq_list(&view, kind, ns)? {
                    if !like(&pattern, &name.to_lowercase()) {
                        continue;
                    }
                    let at = match id.as_str().and_then(|s| Uuid::parse_str(s).ok()) {
                        Some(id) => aux_json(&view, &format!("mq/node/{id}"))?
                            .and_then(|r| r["updatedAt"].as_i64())
                            .unwrap_or(0),
                        None => 0,
                    };
                    results.push((name.clone(), at, json!({"type": ty, "name": name, "updatedAt": iso(at), "namespace": ns, "nodeId": format!("{prefix}:{ns}:{name}")})));
                }
            }
        }
        match sort {
            Some("updated_at") | Some("UPDATE_AT") | Some("updatedAt") => {
                results.sort_by_key(|r| std::cmp::Reverse(r.1))
            }
            _ => results.sort_by(|a, b| a.0.cmp(&b.0)),
        }
        let total = results.len();
        Ok(
            json!({"totalCount": total, "results": results.into_iter().take(limit).map(|r| r.2).collect::<Vec<_>>()}),
        )
    }

    /// A dataset known by OpenLineage name, as an entity key (for tests and tools).
    pub fn mq_dataset_key(&self, namespace: &str, name: &str) -> Result<Key> {
        let view = self.store.read();
        let n = self.mq_node(&view, "ds", namespace, name)?;
        Ok(Key::Id(view.entity(n)?.id))
    }
}

/// Appends the nodes of `more["graph"]` that `graph` lacks (by id).
fn drop_duplicates_into(graph: &mut Vec<Value>, more: Value) {
    if let Value::Object(mut m) = more
        && let Some(Value::Array(nodes)) = m.remove("graph")
    {
        for n in nodes {
            if !graph.iter().any(|g| g["id"] == n["id"]) {
                graph.push(n);
            }
        }
    }
}

/// SQL LIKE: `%` any run, `_` one character (both already lower-cased).
fn like(pattern: &str, s: &str) -> bool {
    glob_match(pattern, s, '%', '_')
}

fn namespace_out(name: &str, r: &Value) -> Value {
    json!({
        "name": name,
        "createdAt": iso(r["createdAt"].as_i64().unwrap_or(0)),
        "updatedAt": iso(r["updatedAt"].as_i64().unwrap_or(0)),
        "ownerName": "anonymous",
        "description": Value::Null,
        "isHidden": false,
    })
}

/// A stable version id: UUID v5 of the entity id and its version number.
fn version_id(id: Uuid, version: f64) -> Uuid {
    Uuid::new_v5(
        &ID_NAMESPACE,
        format!("{id}/{}", version_text(version)).as_bytes(),
    )
}

fn dataset_version_out(namespace: &str, name: &str, id: Uuid, doc: &Value) -> Value {
    let v = version_id(id, doc["version"].as_f64().unwrap_or(0.1));
    let fields: Vec<Value> = doc["columns"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| json!({"name": c["name"], "type": c.get("dataTypeDisplay").cloned().unwrap_or_else(|| c["dataType"].clone()), "tags": [], "description": c.get("description").cloned().unwrap_or(Value::Null)}))
        .collect();
    json!({
        "id": {"namespace": namespace, "name": name, "version": v},
        "type": "DB_TABLE",
        "name": name,
        "physicalName": name,
        "createdAt": iso(doc["updatedAt"].as_i64().unwrap_or(0)),
        "version": v,
        "namespace": namespace,
        "sourceName": namespace,
        "fields": fields,
        "tags": [],
        "description": doc.get("description").cloned().unwrap_or(Value::Null),
        "lifecycleState": Value::Null,
        "createdByRun": Value::Null,
        "facets": {},
    })
}

/// Marquez's `Run` of a run record.
pub fn run_out(r: &Value) -> Value {
    let state = match r["state"].as_str() {
        Some("START" | "RUNNING") => "RUNNING",
        Some("COMPLETE") => "COMPLETED",
        Some("FAIL") => "FAILED",
        Some("ABORT") => "ABORTED",
        _ => "NEW",
    };
    let start = r["startTime"].as_i64();
    let end = r["endTime"].as_i64();
    let ids = |key: &str| -> Vec<Value> {
        r[key]
            .as_array()
            .map(|a| a.iter().map(|d| json!({"namespace": d["namespace"], "name": d["name"], "version": Value::Null})).collect())
            .unwrap_or_default()
    };
    json!({
        "id": r["runId"],
        "createdAt": iso(start.unwrap_or(0)),
        "updatedAt": iso(end.or(start).unwrap_or(0)),
        "nominalStartTime": r["runFacets"]["nominalTime"]["nominalStartTime"],
        "nominalEndTime": r["runFacets"]["nominalTime"]["nominalEndTime"],
        "state": state,
        "startedAt": start.map(iso).unwrap_or(Value::Null),
        "endedAt": end.map(iso).unwrap_or(Value::Null),
        "durationMs": match (start, end) { (Some(s), Some(e)) => json!(e - s), _ => Value::Null },
        "args": {},
        "jobVersion": {"namespace": r["jobNamespace"], "name": r["jobName"], "version": Value::Null},
        "inputVersions": ids("inputs"),
        "outputVersions": ids("outputs"),
        "context": {},
        "facets": r.get("runFacets").cloned().unwrap_or_else(|| json!({})),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_split_at_a_known_namespace() {
        let nss: BTreeSet<String> = ["postgres://db:5432".to_string(), "dbt".to_string()].into();
        let r = NodeRef::parse("dataset:postgres://db:5432:public.orders", &nss).unwrap();
        assert_eq!(
            (r.namespace.as_str(), r.name.as_str()),
            ("postgres://db:5432", "public.orders")
        );
        let f = NodeRef::parse("datasetField:dbt:main.orders:amount", &nss).unwrap();
        assert_eq!(
            (f.name.as_str(), f.field.as_deref()),
            ("main.orders", Some("amount"))
        );
        assert!(NodeRef::parse("table:dbt:x", &nss).is_err());
        assert!(NodeRef::parse("dataset:nowhere:x", &nss).is_err());
    }

    #[test]
    fn like_patterns() {
        assert!(like("%orders%", "main.orders"));
        assert!(like("main._rders", "main.orders"));
        assert!(!like("orders", "main.orders"));
    }
}

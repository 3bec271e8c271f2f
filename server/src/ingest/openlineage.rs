//! The OpenLineage receiver: RunEvents, DatasetEvents and JobEvents become entities,
//! edges, column edges and run records.
//!
//! ```text
//!  event --parse (every field checked, path-named errors; nothing written yet)-->
//!  datasets {namespace, name} --map--> service / database / schema / table  (or
//!                                      storage container, messaging topic)
//!  job {namespace, name}      -------> pipelineService / pipeline
//!  COMPLETE RunEvent, JobEvent: input x output -> edge (source OpenLineage, pipeline),
//!       columnLineage facet -> column mappings (transformation type/subtype kept)
//!  RunEvent: run record (aux `ol-run/<runId>`), job's run list (`ol-job/<pipeline id>`),
//!       last run on the pipeline entity (`pipelineStatus`)
//! ```
//! Namespaces map to services by configuration (`openlineage_namespaces`), otherwise to
//! a service named after the namespace (`postgres://db:5432` -> `postgres_db_5432`),
//! created on first sight with a service type from the scheme. Re-sending an event
//! gives the same graph and the same run record.

use std::collections::{BTreeMap, BTreeSet};

use headwaters_engine::{ColumnMapping, EdgeInput, EntityType, Include, LineageSource, NodeId};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::domain::error::{Error, Result, UserError};
use crate::domain::fqn;
use crate::domain::kinds::{self, Kind, data_type};
use crate::domain::pipelines::{PipelineStatus, StatusType};
use crate::domain::{Actor, Key, Mode, Service};

/// A dataset as an event names it.
#[derive(Clone, Debug)]
struct Dataset {
    namespace: String,
    name: String,
    facets: Map<String, Value>,
    /// `inputFacets` and `outputFacets` (data-quality assertions and metrics, ...).
    io_facets: Map<String, Value>,
    /// Columns from the `schema` facet.
    schema: Vec<SchemaField>,
    /// `columnLineage`: output field -> (input (namespace, name, field), transformation, description).
    column_lineage: Vec<(String, Vec<InputField>)>,
}

/// A field of the `schema` facet.
#[derive(Clone, Debug)]
struct SchemaField {
    name: String,
    /// OpenMetadata's data type for it.
    data_type: String,
    /// The type as the producer spelled it (kept as `dataTypeDisplay`).
    display: Option<String>,
    description: Option<String>,
}

#[derive(Clone, Debug)]
struct InputField {
    namespace: String,
    name: String,
    field: String,
    transformation: Option<String>,
    description: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum EventKind {
    Run { run_id: Uuid, event_type: String },
    Dataset,
    Job,
}

/// An event, parsed and checked.
#[derive(Clone, Debug)]
struct Event {
    kind: EventKind,
    event_time: Option<String>,
    job: Option<(String, String, Map<String, Value>)>,
    run_facets: Map<String, Value>,
    inputs: Vec<Dataset>,
    outputs: Vec<Dataset>,
}

/// What one event did.
#[derive(Clone, Debug, Default)]
pub struct Applied {
    /// Edges written.
    pub edges: usize,
    /// Column mappings written.
    pub column_mappings: usize,
    /// Column references the engine dropped.
    pub dropped_columns: Vec<String>,
    /// The same event (same content) was applied before: nothing was done again.
    pub repeated: bool,
}

/// Most input x output pairs (edges) one event may write; a bigger event is refused
/// before anything is written (split it).
pub const MAX_EVENT_EDGES: usize = 10_000;

/// Content digests of a run's events kept in its record, for retries.
const DIGESTS_KEPT: usize = 32;

/// A stable digest of an event's content (serde_json's maps are sorted by key).
fn digest(v: &Value) -> String {
    use sha2::Digest;
    let bytes = serde_json::to_vec(v).unwrap_or_default();
    sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What a batch of events did.
#[derive(Debug, Default)]
pub struct BatchReport {
    /// Events in the batch.
    pub received: usize,
    /// Events applied.
    pub successful: usize,
    /// Edges written over all events.
    pub edges: usize,
    /// Events refused: index and why.
    pub errors: Vec<(usize, UserError)>,
    /// Events not applied because the batch passed its deadline (they may be sent
    /// again: nothing of them was written).
    pub not_applied: Vec<usize>,
}

fn bad(path: &str, what: &str) -> Error {
    if what.starts_with("is ") {
        Error::invalid(format!("{path} {what}"))
    } else {
        Error::invalid(format!("{path}: {what}"))
    }
}

fn obj<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>> {
    v.as_object().ok_or_else(|| bad(path, "must be an object"))
}

fn req_str(m: &Map<String, Value>, key: &str, path: &str) -> Result<String> {
    match m.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(_) => Err(bad(&format!("{path}.{key}"), "must be a non-empty string")),
        None => Err(bad(&format!("{path}.{key}"), "is required")),
    }
}

fn opt_obj(m: &Map<String, Value>, key: &str, path: &str) -> Result<Map<String, Value>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(o)) => Ok(o.clone()),
        Some(_) => Err(bad(&format!("{path}.{key}"), "must be an object")),
    }
}

fn parse_dataset(v: &Value, path: &str) -> Result<Dataset> {
    let m = obj(v, path)?;
    let namespace = req_str(m, "namespace", path)?;
    let name = req_str(m, "name", path)?;
    let facets = opt_obj(m, "facets", path)?;
    let mut io_facets = opt_obj(m, "inputFacets", path)?;
    io_facets.extend(opt_obj(m, "outputFacets", path)?);
    let mut schema = Vec::new();
    if let Some(s) = facets.get("schema") {
        let fpath = format!("{path}.facets.schema");
        let sm = obj(s, &fpath)?;
        if let Some(fields) = sm.get("fields") {
            let arr = fields
                .as_array()
                .ok_or_else(|| bad(&format!("{fpath}.fields"), "must be an array"))?;
            for (i, f) in arr.iter().enumerate() {
                let p = format!("{fpath}.fields[{i}]");
                let fm = obj(f, &p)?;
                let n = req_str(fm, "name", &p)?;
                let t = fm.get("type").and_then(Value::as_str);
                schema.push(SchemaField {
                    name: n,
                    data_type: data_type(t.unwrap_or("UNKNOWN")),
                    display: t.filter(|t| !t.is_empty()).map(str::to_lowercase),
                    description: fm
                        .get("description")
                        .and_then(Value::as_str)
                        .filter(|d| !d.is_empty())
                        .map(str::to_string),
                });
            }
        }
    }
    let mut column_lineage = Vec::new();
    if let Some(cl) = facets.get("columnLineage") {
        let cpath = format!("{path}.facets.columnLineage");
        let cm = obj(cl, &cpath)?;
        let fields = match cm.get("fields") {
            Some(Value::Object(f)) => f.clone(),
            Some(_) => return Err(bad(&format!("{cpath}.fields"), "must be an object")),
            None => Map::new(),
        };
        for (out_field, spec) in fields {
            let p = format!("{cpath}.fields.{out_field}");
            let sm = obj(&spec, &p)?;
            let desc = sm
                .get("transformationDescription")
                .and_then(Value::as_str)
                .map(str::to_string);
            let legacy_type = sm
                .get("transformationType")
                .and_then(Value::as_str)
                .map(str::to_string);
            let inputs = match sm.get("inputFields") {
                Some(Value::Array(a)) => a.clone(),
                Some(_) => return Err(bad(&format!("{p}.inputFields"), "must be an array")),
                None => return Err(bad(&format!("{p}.inputFields"), "is required")),
            };
            let mut ins = Vec::new();
            for (i, inf) in inputs.iter().enumerate() {
                let ip = format!("{p}.inputFields[{i}]");
                let im = obj(inf, &ip)?;
                let (mut transformation, mut description) = (legacy_type.clone(), desc.clone());
                if let Some(Value::Array(ts)) = im.get("transformations")
                    && let Some(Value::Object(t)) = ts.first()
                {
                    let ty = t.get("type").and_then(Value::as_str).unwrap_or("DIRECT");
                    transformation = Some(match t.get("subtype").and_then(Value::as_str) {
                        Some(st) => format!("{ty}/{st}"),
                        None => ty.to_string(),
                    });
                    if let Some(d) = t.get("description").and_then(Value::as_str) {
                        description = Some(d.to_string());
                    }
                }
                ins.push(InputField {
                    namespace: req_str(im, "namespace", &ip)?,
                    name: req_str(im, "name", &ip)?,
                    field: req_str(im, "field", &ip)?,
                    transformation,
                    description,
                });
            }
            column_lineage.push((out_field, ins));
        }
    }
    Ok(Dataset {
        namespace,
        name,
        facets,
        io_facets,
        schema,
        column_lineage,
    })
}

fn parse_datasets(m: &Map<String, Value>, key: &str, path: &str) -> Result<Vec<Dataset>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, d)| parse_dataset(d, &format!("{path}.{key}[{i}]")))
            .collect(),
        Some(_) => Err(bad(&format!("{path}.{key}"), "must be an array")),
    }
}

const EVENT_TYPES: &[&str] = &["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"];

fn parse_event(v: &Value, path: &str) -> Result<Event> {
    let m = obj(v, path)?;
    let event_time = match m.get("eventTime") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            parse_time(s).ok_or_else(|| {
                bad(
                    &format!("{path}.eventTime"),
                    "must be an ISO 8601 date-time, e.g. 2024-05-01T12:00:00Z",
                )
            })?;
            Some(s.clone())
        }
        Some(_) => return Err(bad(&format!("{path}.eventTime"), "must be a string")),
    };
    let job = match m.get("job") {
        None | Some(Value::Null) => None,
        Some(j) => {
            let jp = format!("{path}.job");
            let jm = obj(j, &jp)?;
            Some((
                req_str(jm, "namespace", &jp)?,
                req_str(jm, "name", &jp)?,
                opt_obj(jm, "facets", &jp)?,
            ))
        }
    };
    let (kind, run_facets) = if let Some(run) = m.get("run") {
        let rp = format!("{path}.run");
        let rm = obj(run, &rp)?;
        let id = req_str(rm, "runId", &rp)?;
        let run_id =
            Uuid::parse_str(&id).map_err(|_| bad(&format!("{rp}.runId"), "must be a UUID"))?;
        if job.is_none() {
            return Err(bad(&format!("{path}.job"), "is required in a RunEvent"));
        }
        let event_type = match m.get("eventType") {
            None | Some(Value::Null) => "OTHER".to_string(),
            Some(Value::String(t)) if EVENT_TYPES.contains(&t.as_str()) => t.clone(),
            Some(other) => {
                return Err(bad(
                    &format!("{path}.eventType"),
                    &format!("{other} is not one of {}", EVENT_TYPES.join(", ")),
                ));
            }
        };
        (
            EventKind::Run { run_id, event_type },
            opt_obj(rm, "facets", &rp)?,
        )
    } else if m.contains_key("dataset") {
        (EventKind::Dataset, Map::new())
    } else if job.is_some() {
        (EventKind::Job, Map::new())
    } else {
        return Err(bad(
            path,
            "not an OpenLineage event: a RunEvent has run and job, a DatasetEvent has dataset, a JobEvent has job",
        ));
    };
    let (inputs, outputs) = if kind == EventKind::Dataset {
        (
            Vec::new(),
            vec![parse_dataset(&m["dataset"], &format!("{path}.dataset"))?],
        )
    } else {
        (
            parse_datasets(m, "inputs", path)?,
            parse_datasets(m, "outputs", path)?,
        )
    };
    Ok(Event {
        kind,
        event_time,
        job,
        run_facets,
        inputs,
        outputs,
    })
}

/// Milliseconds since the epoch of an RFC 3339 date-time (`2024-05-01T12:00:00.123+02:00`;
/// a space for the `T` and a missing offset, meaning UTC, are accepted too).
pub fn parse_time(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    let t = time::OffsetDateTime::parse(s, &Rfc3339).ok().or_else(|| {
        let local = format_description!(
            "[year]-[month]-[day][first [T][ ]][hour]:[minute]:[second][optional [.[subsecond]]]"
        );
        time::PrimitiveDateTime::parse(s, local)
            .ok()
            .map(time::PrimitiveDateTime::assume_utc)
    })?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Where a dataset lives in the OpenMetadata hierarchy.
struct Placement {
    service_kind: &'static Kind,
    service: String,
    service_type: &'static str,
    /// The entity's kind and, for tables, database and schema.
    kind: &'static Kind,
    database: Option<String>,
    schema: Option<String>,
    name: String,
}

/// dbt-ol names a model's job `<db>.<schema>.<project>.<model>` under `dbt run` and
/// adds `.build.run` (`.build.snapshot`, `.build.seed`, `.build.test`) under
/// `dbt build`: one pipeline per model needs one name, so the suffix is dropped for
/// jobs whose `jobType` facet says the integration is dbt.
fn normalize_dbt_job(ev: &mut Event) {
    let Some((_, name, facets)) = ev.job.as_mut() else {
        return;
    };
    let is_dbt = facet(facets, "jobType")["integration"]
        .as_str()
        .is_some_and(|i| i.eq_ignore_ascii_case("dbt"));
    if !is_dbt {
        return;
    }
    for suffix in [
        ".build.run",
        ".build.snapshot",
        ".build.seed",
        ".build.test",
    ] {
        if let Some(base) = name.strip_suffix(suffix) {
            *name = base.to_string();
            return;
        }
    }
}

/// A facet by name, `Null` when absent (indexing a `Map` would panic).
fn facet<'a>(facets: &'a Map<String, Value>, name: &str) -> &'a Value {
    facets.get(name).unwrap_or(&Value::Null)
}

fn sanitize(ns: &str) -> String {
    let s: String = ns
        .replace("://", "_")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    s.trim_matches('_').to_string()
}

impl Service {
    /// The service a namespace maps to: configured, else named after the namespace.
    fn service_for_namespace(&self, namespace: &str) -> String {
        self.settings
            .openlineage_namespaces
            .get(namespace)
            .cloned()
            .unwrap_or_else(|| sanitize(namespace))
    }

    fn placement(&self, namespace: &str, name: &str) -> Placement {
        let scheme = namespace
            .split("://")
            .next()
            .unwrap_or(namespace)
            .to_lowercase();
        let service = self.service_for_namespace(namespace);
        let db_type = match scheme.as_str() {
            "postgres" | "postgresql" => Some("Postgres"),
            "mysql" => Some("Mysql"),
            "mariadb" => Some("MariaDB"),
            "snowflake" => Some("Snowflake"),
            "bigquery" => Some("BigQuery"),
            "redshift" => Some("Redshift"),
            "sqlserver" | "mssql" => Some("Mssql"),
            "oracle" => Some("Oracle"),
            "trino" => Some("Trino"),
            "presto" => Some("Presto"),
            "hive" => Some("Hive"),
            "awsathena" | "athena" => Some("Athena"),
            "databricks" => Some("Databricks"),
            "clickhouse" => Some("Clickhouse"),
            "teradata" => Some("Teradata"),
            "db2" => Some("Db2"),
            "sqlite" => Some("SQLite"),
            "duckdb" | "spark" | "jdbc" => Some("CustomDatabase"),
            _ => None,
        };
        if let Some(t) = db_type {
            let parts: Vec<&str> = name.split('.').collect();
            let (database, schema, table) = match parts.as_slice() {
                [d, s, rest @ ..] if !rest.is_empty() => {
                    (d.to_string(), s.to_string(), rest.join("."))
                }
                [s, t] => ("default".to_string(), s.to_string(), t.to_string()),
                _ => (
                    "default".to_string(),
                    "default".to_string(),
                    name.to_string(),
                ),
            };
            return Placement {
                service_kind: &kinds::DATABASE_SERVICE,
                service,
                service_type: t,
                kind: &kinds::TABLE,
                database: Some(database),
                schema: Some(schema),
                name: table,
            };
        }
        let (service_kind, service_type, kind) = match scheme.as_str() {
            "kafka" => (&kinds::MESSAGING_SERVICE, "Kafka", &kinds::TOPIC),
            "kinesis" => (&kinds::MESSAGING_SERVICE, "Kinesis", &kinds::TOPIC),
            "pulsar" | "pubsub" => (&kinds::MESSAGING_SERVICE, "CustomMessaging", &kinds::TOPIC),
            "s3" | "s3a" | "s3n" => (&kinds::STORAGE_SERVICE, "S3", &kinds::CONTAINER),
            "gs" | "gcs" => (&kinds::STORAGE_SERVICE, "GCS", &kinds::CONTAINER),
            "abfss" | "abfs" | "wasbs" | "adl" => {
                (&kinds::STORAGE_SERVICE, "ADLS", &kinds::CONTAINER)
            }
            _ => (&kinds::STORAGE_SERVICE, "CustomStorage", &kinds::CONTAINER),
        };
        Placement {
            service_kind,
            service,
            service_type,
            kind,
            database: None,
            schema: None,
            name: name.trim_start_matches('/').to_string(),
        }
    }

    fn ensure(&self, kind: &Kind, body: Value) -> Result<Value> {
        let name = body["name"].as_str().unwrap_or_default().to_string();
        let parent = kind
            .parent
            .and_then(|(f, _)| body.get(f))
            .and_then(Value::as_str)
            .map(str::to_string);
        let full = fqn::build(parent.as_deref(), &name)?;
        {
            let view = self.store.read();
            if let Some(n) = view.node_by_fqn(kind.ty, &full)?
                && !view.is_deleted(n)
            {
                return self.document(&view, n);
            }
        }
        Ok(self
            .put_entity(kind, body, &Actor("openlineage".into()), Mode::Upsert)?
            .0)
    }

    /// The entity of a dataset, created (with its service, database and schema) if
    /// missing; columns from the schema facet and the lineage are added if missing.
    fn ensure_dataset(
        &self,
        d: &Dataset,
        referenced: &BTreeSet<String>,
    ) -> Result<(NodeId, String)> {
        let p = self.placement(&d.namespace, &d.name);
        let svc = self.ensure(
            p.service_kind,
            json!({"name": p.service, "serviceType": p.service_type}),
        )?;
        let svc_fqn = svc["fullyQualifiedName"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut body = json!({"name": p.name});
        let parent_fqn = if let (Some(db), Some(sch)) = (&p.database, &p.schema) {
            let dbd = self.ensure(&kinds::DATABASE, json!({"name": db, "service": svc_fqn}))?;
            let dbf = dbd["fullyQualifiedName"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let sd = self.ensure(
                &kinds::DATABASE_SCHEMA,
                json!({"name": sch, "database": dbf}),
            )?;
            let sf = sd["fullyQualifiedName"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            body["databaseSchema"] = json!(sf);
            sf
        } else {
            body["service"] = json!(svc_fqn);
            svc_fqn
        };
        let full = fqn::build(Some(&parent_fqn), &p.name)?;
        let existing = {
            let view = self.store.read();
            match view.node_by_fqn(p.kind.ty, &full)? {
                Some(n) => Some((n, self.document(&view, n)?, view.is_deleted(n))),
                None => None,
            }
        };
        if p.kind.has_columns {
            let mut cols: Vec<Value> = existing
                .as_ref()
                .and_then(|(_, doc, _)| doc.get("columns").and_then(Value::as_array).cloned())
                .unwrap_or_default();
            let mut changed = existing.is_none();
            let have = |cols: &[Value], n: &str| {
                cols.iter().any(|c| {
                    c["name"]
                        .as_str()
                        .is_some_and(|x| x.eq_ignore_ascii_case(n))
                })
            };
            for f in &d.schema {
                if !have(&cols, &f.name) {
                    cols.push(json!({"name": f.name, "dataType": f.data_type}));
                    changed = true;
                }
                // What the facet knows and the stored column lacks: a known type (the
                // producer's spelling as dataTypeDisplay), a description.
                let Some(Value::Object(c)) = cols.iter_mut().find(|c| {
                    c["name"]
                        .as_str()
                        .is_some_and(|x| x.eq_ignore_ascii_case(&f.name))
                }) else {
                    continue;
                };
                if c.get("dataType").and_then(Value::as_str) == Some("UNKNOWN")
                    && f.data_type != "UNKNOWN"
                {
                    c.insert("dataType".into(), json!(f.data_type));
                    changed = true;
                }
                if let Some(t) = &f.display
                    && c.get("dataTypeDisplay").is_none()
                {
                    c.insert("dataTypeDisplay".into(), json!(t));
                    changed = true;
                }
                if let Some(desc) = &f.description
                    && c.get("description")
                        .and_then(Value::as_str)
                        .is_none_or(str::is_empty)
                {
                    c.insert("description".into(), json!(desc));
                    changed = true;
                }
            }
            for n in referenced {
                if !have(&cols, n) {
                    cols.push(json!({"name": n, "dataType": "UNKNOWN"}));
                    changed = true;
                }
            }
            let facts = self.dataset_facts(d, existing.as_ref().map(|e| &e.1))?;
            if let Some((n, _, false)) = &existing
                && !changed
                && facts.is_empty()
            {
                return Ok((*n, full));
            }
            for c in &mut cols {
                if let Value::Object(m) = c {
                    m.remove("fullyQualifiedName");
                }
            }
            body["columns"] = Value::Array(cols);
            for (k, v) in facts {
                body[k.as_str()] = v;
            }
        } else {
            let facts = self.dataset_facts(d, existing.as_ref().map(|e| &e.1))?;
            if let Some((n, _, false)) = &existing
                && facts.is_empty()
            {
                return Ok((*n, full));
            }
            for (k, v) in facts {
                if k != "tableType" {
                    body[k.as_str()] = v;
                }
            }
        }
        if p.kind.ty == EntityType::Topic {
            body["partitions"] = json!(1);
            if let Some((_, doc, _)) = &existing
                && let Some(parts) = doc.get("partitions")
            {
                body["partitions"] = parts.clone();
            }
        }
        let (doc, _) = self.put_entity(p.kind, body, &Actor("openlineage".into()), Mode::Upsert)?;
        let id: Uuid = serde_json::from_value(doc["id"].clone())
            .map_err(|e| Error::json("id of a stored dataset", e))?;
        let view = self.store.read();
        let n = view
            .node_by_id(&id)?
            .ok_or_else(|| Error::invariant(format!("{full} vanished")))?;
        Ok((n, full))
    }

    /// Inputs that are CTEs of the job's own SQL leaked as datasets (dbt-ol names a CTE
    /// `events` as `<namespace>:default.default.events`): unknown to the registry and to
    /// the catalog, named like a `WITH <name> AS (` of the `sql` job facet, and not a
    /// table that SQL reads. They are left out, with their column lineage.
    fn leaked_ctes(&self, ev: &Event) -> Result<BTreeSet<(String, String)>> {
        let mut out = BTreeSet::new();
        let Some(sql) = ev
            .job
            .as_ref()
            .and_then(|(_, _, f)| f.get("sql"))
            .and_then(|s| s.get("query"))
            .and_then(Value::as_str)
        else {
            return Ok(out);
        };
        let squeezed: String = sql
            .to_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let mut names: BTreeSet<(String, String)> = ev
            .inputs
            .iter()
            .map(|d| (d.namespace.clone(), d.name.clone()))
            .collect();
        for o in &ev.outputs {
            for (_, ins) in &o.column_lineage {
                names.extend(ins.iter().map(|i| (i.namespace.clone(), i.name.clone())));
            }
        }
        let last_part = |name: &str| {
            name.rsplit('.')
                .next()
                .unwrap_or(name)
                .trim_matches('"')
                .to_lowercase()
        };
        // Only names the SQL defines as a CTE are candidates; most events have none,
        // and then the SQL is not analyzed at all.
        names.retain(|(_, name)| {
            let last = last_part(name);
            squeezed.contains(&format!("{last} as (")) || squeezed.contains(&format!("{last} as("))
        });
        if names.is_empty() {
            return Ok(out);
        }
        let analysis =
            headwaters_sqllineage::analyze(sql, &headwaters_sqllineage::Options::default());
        let reads: BTreeSet<String> = analysis
            .statements
            .iter()
            .flat_map(|st| st.reads.iter().map(|t| t.name.to_lowercase()))
            .collect();
        for (ns, name) in names {
            if reads.contains(&last_part(&name)) {
                continue;
            }
            let known = self.mq_known(&ns, &name)?;
            let p = self.placement(&ns, &name);
            let in_catalog = match (&p.database, &p.schema) {
                (Some(db), Some(sch)) => {
                    let full = format!(
                        "{}.{}.{}.{}",
                        fqn::quote(&p.service)?,
                        fqn::quote(db)?,
                        fqn::quote(sch)?,
                        fqn::quote(&p.name)?
                    );
                    self.store.read().node_by_fqn(p.kind.ty, &full)?.is_some()
                }
                _ => true,
            };
            if !known && !in_catalog {
                out.insert((ns, name));
            }
        }
        Ok(out)
    }

    /// Replaces every dataset name of the event by its canonical name: a name recorded
    /// as an alias, or (for a dataset whose `symlinks` facet names a dataset already
    /// known) the known one. Symlinks to names not known yet are recorded as aliases of
    /// this dataset. Answers the aliases applied: (alias ns, alias name, ns, name).
    fn canonicalize(&self, ev: &mut Event) -> Result<Vec<(String, String, String, String)>> {
        let alias_key = |ns: &str, name: &str| format!("mq/alias/{ns}\u{1}{name}");
        let lookup = |ns: &str, name: &str| -> Result<Option<(String, String)>> {
            Ok(
                match self.store.read().aux(alias_key(ns, name).as_bytes())? {
                    Some(b) => {
                        Some(serde_json::from_slice(&b).map_err(|e| Error::json("alias", e))?)
                    }
                    None => None,
                },
            )
        };
        let known = |ns: &str, name: &str| self.mq_known(ns, name);
        let mut applied = Vec::new();
        for d in ev.inputs.iter_mut().chain(ev.outputs.iter_mut()) {
            let mut target = lookup(&d.namespace, &d.name)?;
            let links: Vec<(String, String)> = facet(&d.facets, "symlinks")["identifiers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| {
                    Some((
                        i["namespace"].as_str()?.to_string(),
                        i["name"].as_str()?.to_string(),
                    ))
                })
                .filter(|(ns, n)| (ns, n) != (&d.namespace, &d.name))
                .collect();
            if target.is_none() && !known(&d.namespace, &d.name)? {
                for (ns, n) in &links {
                    if let Some(t) = lookup(ns, n)? {
                        target = Some(t);
                    } else if known(ns, n)? {
                        target = Some((ns.clone(), n.clone()));
                    }
                    if target.is_some() {
                        break;
                    }
                }
            }
            let (cns, cname) = target
                .clone()
                .unwrap_or_else(|| (d.namespace.clone(), d.name.clone()));
            // Every name of this dataset points at the canonical one.
            for (ns, n) in links
                .iter()
                .chain(std::iter::once(&(d.namespace.clone(), d.name.clone())))
            {
                if (ns, n) != (&cns, &cname) && lookup(ns, n)?.is_none() && !known(ns, n)? {
                    self.store.put_aux(
                        alias_key(ns, n).as_bytes(),
                        Some(
                            serde_json::to_vec(&(&cns, &cname))
                                .map_err(|e| Error::json("alias", e))?,
                        ),
                    )?;
                }
            }
            if target.is_some() {
                applied.push((
                    d.namespace.clone(),
                    d.name.clone(),
                    cns.clone(),
                    cname.clone(),
                ));
                d.namespace = cns;
                d.name = cname;
            }
        }
        let renames: BTreeMap<(String, String), (String, String)> = applied
            .iter()
            .map(|(a, b, c, d)| ((a.clone(), b.clone()), (c.clone(), d.clone())))
            .collect();
        for d in ev.outputs.iter_mut() {
            for (_, ins) in d.column_lineage.iter_mut() {
                for i in ins.iter_mut() {
                    let to = match renames.get(&(i.namespace.clone(), i.name.clone())) {
                        Some(t) => Some(t.clone()),
                        None => lookup(&i.namespace, &i.name)?,
                    };
                    if let Some((ns, n)) = to {
                        i.namespace = ns;
                        i.name = n;
                    }
                }
            }
        }
        Ok(applied)
    }

    /// What a dataset's facets say that the stored entity lacks: `description` (the
    /// `documentation` facet), `tableType` (the `datasetType` facet: VIEW, TABLE, ...),
    /// `owners` (the `ownership` facet; each owner becomes a user, created if new).
    /// Only fields the entity has not got yet are returned: the catalog's word wins.
    fn dataset_facts(&self, d: &Dataset, old: Option<&Value>) -> Result<Map<String, Value>> {
        let mut out = Map::new();
        let missing = |k: &str| {
            old.is_none_or(|o| match o.get(k) {
                None | Some(Value::Null) => true,
                Some(Value::String(s)) => s.is_empty(),
                Some(Value::Array(a)) => a.is_empty(),
                Some(_) => false,
            })
        };
        if let Some(desc) = facet(&d.facets, "documentation")["description"].as_str()
            && !desc.is_empty()
            && missing("description")
        {
            out.insert("description".into(), json!(desc));
        }
        if let Some(t) = facet(&d.facets, "datasetType")["datasetType"].as_str()
            && missing("tableType")
        {
            let tt = match t.to_ascii_uppercase().as_str() {
                "VIEW" => Some("View"),
                "MATERIALIZED_VIEW" | "MATERIALIZEDVIEW" => Some("MaterializedView"),
                "TABLE" => Some("Regular"),
                "EXTERNAL_TABLE" | "EXTERNAL" => Some("External"),
                _ => None,
            };
            if let Some(tt) = tt {
                out.insert("tableType".into(), json!(tt));
            }
        }
        if let Some(Value::Array(owners)) = facet(&d.facets, "ownership").get("owners")
            && !owners.is_empty()
            && missing("owners")
        {
            let mut refs = Vec::new();
            for o in owners {
                let Some(raw) = o["name"].as_str() else {
                    continue;
                };
                let name = raw.rsplit(':').next().unwrap_or(raw);
                if name.is_empty() {
                    continue;
                }
                let user = self.ensure(
                    &kinds::USER,
                    json!({
                        "name": name,
                        // `.invalid` is reserved: this user came from an event, with no e-mail.
                        "email": format!("{}@openlineage.invalid", name.replace(|c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '_' && c != '-', "_")),
                        "description": format!("Owner named by an OpenLineage ownership facet ({raw})"),
                    }),
                )?;
                refs.push(json!({"id": user["id"], "type": "user", "name": user["name"], "fullyQualifiedName": user["fullyQualifiedName"]}));
            }
            if !refs.is_empty() {
                out.insert("owners".into(), Value::Array(refs));
            }
        }
        Ok(out)
    }

    fn ensure_job(&self, namespace: &str, name: &str) -> Result<(NodeId, Uuid, String)> {
        let service = self.service_for_namespace(namespace);
        let svc = self.ensure(
            &kinds::PIPELINE_SERVICE,
            json!({"name": service, "serviceType": "OpenLineage"}),
        )?;
        let svc_fqn = svc["fullyQualifiedName"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let doc = self.ensure(&kinds::PIPELINE, json!({"name": name, "service": svc_fqn, "description": format!("OpenLineage job {namespace}/{name}")}))?;
        let id: Uuid = serde_json::from_value(doc["id"].clone())
            .map_err(|e| Error::json("id of a stored pipeline", e))?;
        let view = self.store.read();
        let n = view
            .node_by_id(&id)?
            .ok_or_else(|| Error::invariant("pipeline vanished"))?;
        Ok((
            n,
            id,
            doc["fullyQualifiedName"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        ))
    }

    /// Applies one event (already a JSON value). Errors name the field under `path`.
    pub fn openlineage_event(&self, v: &Value, path: &str) -> Result<Applied> {
        let mut ev = parse_event(v, path)?;
        normalize_dbt_job(&mut ev);
        let aliases = self.canonicalize(&mut ev)?;
        let leaked = self.leaked_ctes(&ev)?;
        ev.inputs
            .retain(|d| !leaked.contains(&(d.namespace.clone(), d.name.clone())));
        let pairs = ev.inputs.len().saturating_mul(ev.outputs.len());
        if pairs > MAX_EVENT_EDGES {
            return Err(Error::invalid(format!(
                "{path}: {} inputs x {} outputs is {pairs} edges; at most {MAX_EVENT_EDGES} per event (split it)",
                ev.inputs.len(),
                ev.outputs.len()
            )));
        }
        // A run event already applied (a retry after a timeout) is not applied again.
        let digest = digest(v);
        if let EventKind::Run { run_id, .. } = &ev.kind
            && let Some(b) = self
                .store
                .read()
                .aux(format!("ol-run/{run_id}").as_bytes())?
        {
            let rec: Value = serde_json::from_slice(&b)
                .map_err(|e| Error::json(format!("run record {run_id}"), e))?;
            if rec["eventDigests"]
                .as_array()
                .is_some_and(|d| d.iter().any(|x| x.as_str() == Some(digest.as_str())))
            {
                return Ok(Applied {
                    repeated: true,
                    ..Applied::default()
                });
            }
        }
        let mut applied = Applied::default();
        // Columns each dataset must have: its own lineage targets and the inputs named.
        let key = |ns: &str, n: &str| (ns.to_string(), n.to_string());
        let mut referenced: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
        for o in &ev.outputs {
            for (out, ins) in &o.column_lineage {
                referenced
                    .entry(key(&o.namespace, &o.name))
                    .or_default()
                    .insert(out.clone());
                for i in ins {
                    referenced
                        .entry(key(&i.namespace, &i.name))
                        .or_default()
                        .insert(i.field.clone());
                }
            }
        }
        // Inputs: those listed, plus datasets named only by column lineage.
        let mut inputs: Vec<Dataset> = ev.inputs.clone();
        for o in &ev.outputs {
            for (_, ins) in &o.column_lineage {
                for i in ins {
                    if leaked.contains(&(i.namespace.clone(), i.name.clone())) {
                        continue;
                    }
                    let listed = inputs
                        .iter()
                        .any(|d| d.namespace == i.namespace && d.name == i.name);
                    let is_output = o.namespace == i.namespace && o.name == i.name;
                    if !listed && !is_output {
                        inputs.push(Dataset {
                            namespace: i.namespace.clone(),
                            name: i.name.clone(),
                            facets: Map::new(),
                            io_facets: Map::new(),
                            schema: Vec::new(),
                            column_lineage: Vec::new(),
                        });
                    }
                }
            }
        }
        let none = BTreeSet::new();
        let at = ev
            .event_time
            .as_deref()
            .and_then(parse_time)
            .unwrap_or_else(crate::domain::clock::now_millis);
        let mut resolved: BTreeMap<(String, String), (NodeId, String)> = BTreeMap::new();
        for d in inputs.iter().chain(&ev.outputs) {
            let k = key(&d.namespace, &d.name);
            let r = self.ensure_dataset(d, referenced.get(&k).unwrap_or(&none))?;
            let id = self.store.read().entity(r.0)?.id;
            let mut facets = d.facets.clone();
            facets.extend(d.io_facets.clone());
            self.mq_register("DATASET", &d.namespace, &d.name, id, &facets, at)?;
            resolved.insert(k, r);
        }
        // A dataset seen under another name (a symlink) answers to both in Marquez's API.
        for (alias_ns, alias_name, ns, name) in &aliases {
            if let Some((n, _)) = resolved.get(&key(ns, name)) {
                let id = self.store.read().entity(*n)?.id;
                self.mq_register("DATASET", alias_ns, alias_name, id, &Map::new(), at)?;
            }
        }
        let job = match &ev.job {
            Some((ns, name, facets)) => {
                let j = self.ensure_job(ns, name)?;
                self.mq_register("JOB", ns, name, j.1, facets, at)?;
                Some(j)
            }
            None => None,
        };
        let apply_edges = match &ev.kind {
            EventKind::Run { event_type, .. } => event_type == "COMPLETE",
            EventKind::Job | EventKind::Dataset => true,
        };
        if apply_edges {
            let sql = ev
                .job
                .as_ref()
                .and_then(|(_, _, f)| f.get("sql"))
                .and_then(|s| s.get("query"))
                .and_then(Value::as_str)
                .map(str::to_string);
            for o in &ev.outputs {
                let (to, to_fqn) = resolved[&key(&o.namespace, &o.name)].clone();
                for i in &inputs {
                    let ik = key(&i.namespace, &i.name);
                    if ik == key(&o.namespace, &o.name) {
                        continue;
                    }
                    let (from, from_fqn) = resolved[&ik].clone();
                    let mut mappings = Vec::new();
                    for (out_field, ins) in &o.column_lineage {
                        let mine: Vec<&InputField> = ins
                            .iter()
                            .filter(|f| key(&f.namespace, &f.name) == ik)
                            .collect();
                        if mine.is_empty() {
                            continue;
                        }
                        mappings.push(ColumnMapping {
                            from_columns: mine
                                .iter()
                                .map(|f| Ok(format!("{from_fqn}.{}", fqn::quote(&f.field)?)))
                                .collect::<Result<_>>()?,
                            to_column: format!("{to_fqn}.{}", fqn::quote(out_field)?),
                            function: mine.iter().find_map(|f| f.description.clone()),
                            transformation: mine.iter().find_map(|f| f.transformation.clone()),
                        });
                    }
                    // A DatasetEvent only links datasets its column lineage names.
                    if ev.kind == EventKind::Dataset && mappings.is_empty() {
                        continue;
                    }
                    applied.column_mappings += mappings.len();
                    let outcome = self.store.put_edge(
                        from,
                        to,
                        EdgeInput {
                            sql_query: sql.clone(),
                            columns_lineage: mappings,
                            pipeline: job.as_ref().map(|j| j.1),
                            description: None,
                            source: LineageSource::OpenLineage,
                            actor: Some("openlineage".into()),
                            at_millis: Some(
                                ev.event_time
                                    .as_deref()
                                    .and_then(parse_time)
                                    .unwrap_or_else(crate::domain::clock::now_millis),
                            ),
                        },
                    )?;
                    applied.edges += 1;
                    applied
                        .dropped_columns
                        .extend(outcome.rejected_columns.into_iter().map(|r| r.column));
                }
            }
        }
        if let (
            EventKind::Run { run_id, event_type },
            Some((pipeline, pipeline_id, pipeline_fqn)),
        ) = (&ev.kind, &job)
        {
            self.record_run(
                &ev,
                (*run_id, event_type, &digest),
                *pipeline,
                *pipeline_id,
                pipeline_fqn,
            )?;
        }
        Ok(applied)
    }

    fn record_run(
        &self,
        ev: &Event,
        (run_id, event_type, digest): (Uuid, &str, &str),
        pipeline: NodeId,
        pipeline_id: Uuid,
        pipeline_fqn: &str,
    ) -> Result<()> {
        let _guard = self.lock_docs();
        let run_key = format!("ol-run/{run_id}");
        let mut rec = match self.store.read().aux(run_key.as_bytes())? {
            Some(b) => serde_json::from_slice::<Value>(&b)
                .map_err(|e| Error::json(format!("run record {run_id}"), e))?,
            None => json!({"runId": run_id, "job": pipeline_fqn, "pipelineId": pipeline_id}),
        };
        let (ns, name, job_facets) = ev.job.clone().unwrap_or_default();
        rec["jobNamespace"] = json!(ns);
        rec["jobName"] = json!(name);
        // Later states win, but a late START or RUNNING does not undo an end state.
        let ended = matches!(rec["state"].as_str(), Some("COMPLETE" | "FAIL" | "ABORT"));
        if !ended || matches!(event_type, "COMPLETE" | "FAIL" | "ABORT") {
            rec["state"] = json!(event_type);
        }
        let t = ev.event_time.as_deref().and_then(parse_time);
        match event_type {
            "START" => rec["startTime"] = json!(t),
            "COMPLETE" | "FAIL" | "ABORT" => {
                rec["endTime"] = json!(t);
                if rec.get("startTime").is_none_or(Value::is_null) {
                    rec["startTime"] = json!(t);
                }
            }
            _ => {}
        }
        let facets_of = |ds: &[Dataset]| {
            ds.iter()
                .map(|d| json!({"namespace": d.namespace, "name": d.name, "facets": d.facets}))
                .collect::<Vec<_>>()
        };
        if !ev.inputs.is_empty() {
            rec["inputs"] = json!(facets_of(&ev.inputs));
        }
        if !ev.outputs.is_empty() {
            rec["outputs"] = json!(facets_of(&ev.outputs));
        }
        if let Value::Object(m) = &mut rec {
            let digests = m.entry("eventDigests").or_insert(json!([]));
            if let Value::Array(d) = digests {
                d.push(json!(digest));
                let extra = d.len().saturating_sub(DIGESTS_KEPT);
                d.drain(..extra);
            }
            let rf = m.entry("runFacets").or_insert(json!({}));
            for (k, v) in &ev.run_facets {
                rf[k] = v.clone();
            }
            let jf = m.entry("jobFacets").or_insert(json!({}));
            for (k, v) in job_facets {
                jf[&k] = v;
            }
        }
        self.store.put_aux(
            run_key.as_bytes(),
            Some(serde_json::to_vec(&rec).map_err(|e| Error::json("run record", e))?),
        )?;
        // The job's runs, newest last, bounded.
        let job_key = format!("ol-job/{pipeline_id}");
        let mut runs: Vec<Uuid> = match self.store.read().aux(job_key.as_bytes())? {
            Some(b) => serde_json::from_slice(&b)
                .map_err(|e| Error::json(format!("run list {job_key}"), e))?,
            None => Vec::new(),
        };
        if !runs.contains(&run_id) {
            runs.push(run_id);
            while runs.len() > self.settings.run_retention.max(1) {
                let old = runs.remove(0);
                self.store
                    .put_aux(format!("ol-run/{old}").as_bytes(), None)?;
            }
            self.store.put_aux(
                job_key.as_bytes(),
                Some(serde_json::to_vec(&runs).map_err(|e| Error::json("run list", e))?),
            )?;
        }
        // The last run on the pipeline entity, in OpenMetadata's pipelineStatus shape.
        let mut other = serde_json::Map::new();
        other.insert("executionId".into(), json!(run_id.to_string()));
        if let Some(end) = rec["endTime"].as_i64() {
            other.insert("endTime".into(), json!(end));
        }
        let status = PipelineStatus {
            timestamp: rec["startTime"].as_i64().or(t).unwrap_or(0),
            execution_status: match rec["state"].as_str() {
                Some("COMPLETE") => StatusType::Successful,
                Some("FAIL" | "ABORT") => StatusType::Failed,
                _ => StatusType::Pending,
            },
            task_status: Vec::new(),
            other,
        };
        self.keep_newer_pipeline_status(pipeline, &status)?;
        Ok(())
    }

    /// A batch of events (`{"events": [...]}` or an array), each applied on its own:
    /// an event the caller got wrong is reported with its index and field, the others
    /// are kept; an internal error stops the batch.
    ///
    /// Past `deadline` no further event starts: the ones left are reported in
    /// `not_applied`, nothing of them written.
    pub fn openlineage_batch(
        &self,
        body: Value,
        deadline: Option<std::time::Instant>,
    ) -> Result<BatchReport> {
        let events = match body {
            Value::Array(a) => a,
            Value::Object(mut m) => match m.remove("events") {
                Some(Value::Array(a)) => a,
                _ => {
                    return Err(Error::invalid(
                        "events: a batch is {\"events\": [...]} or an array of events",
                    ));
                }
            },
            _ => {
                return Err(Error::invalid(
                    "a batch is {\"events\": [...]} or an array of events",
                ));
            }
        };
        let mut report = BatchReport {
            received: events.len(),
            ..BatchReport::default()
        };
        for (index, e) in events.iter().enumerate() {
            if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                report.not_applied.extend(index..events.len());
                break;
            }
            match self.openlineage_event(e, &format!("events[{index}]")) {
                Ok(a) => {
                    report.successful += 1;
                    report.edges += a.edges;
                }
                Err(Error::User(error)) => report.errors.push((index, error)),
                Err(e) => return Err(e),
            }
        }
        Ok(report)
    }

    /// Runs, newest first (by start time), filtered and paged: every job's, one
    /// namespace's, or one job's (`namespace` + `job`); by state (`START`, `RUNNING`,
    /// `COMPLETE`, `FAIL`, `ABORT`, `OTHER`) and start time (`since`/`until`, epoch ms).
    pub fn openlineage_runs(&self, f: &RunFilter) -> Result<Value> {
        if f.job.is_some() && f.namespace.is_none() {
            return Err(Error::invalid(
                "parameter job needs namespace (a job is named within one)",
            ));
        }
        let view = self.store.read();
        // The pipelines whose runs are read: one job, a namespace's jobs, or all jobs.
        let mut pipelines: Vec<Uuid> = Vec::new();
        let namespaces: Vec<String> = match &f.namespace {
            Some(ns) => vec![ns.clone()],
            None => match view.aux(b"mq/namespaces")? {
                Some(b) => serde_json::from_slice::<Map<String, Value>>(&b)
                    .map_err(|e| Error::json("namespaces", e))?
                    .keys()
                    .cloned()
                    .collect(),
                None => Vec::new(),
            },
        };
        for ns in &namespaces {
            let jobs: Map<String, Value> = match view.aux(format!("mq/job/{ns}").as_bytes())? {
                Some(b) => serde_json::from_slice(&b).map_err(|e| Error::json("jobs", e))?,
                None => Map::new(),
            };
            for (name, id) in jobs {
                if f.job.as_deref().is_some_and(|j| j != name) {
                    continue;
                }
                if let Some(id) = id.as_str().and_then(|s| Uuid::parse_str(s).ok()) {
                    pipelines.push(id);
                }
            }
        }
        if let (Some(ns), Some(job)) = (&f.namespace, &f.job)
            && pipelines.is_empty()
        {
            // A job recorded before the registry existed: its pipeline by name.
            let service = self.service_for_namespace(ns);
            let pfqn = fqn::build(Some(&fqn::quote(&service)?), job)?;
            let n = self
                .resolve(&view, EntityType::Pipeline, &Key::Fqn(pfqn), Include::All)
                .map_err(|_| Error::not_found(format!("job {job} not found in namespace {ns}")))?;
            pipelines.push(view.entity(n)?.id);
        }
        let mut runs: Vec<Value> = Vec::new();
        for p in pipelines {
            let ids: Vec<Uuid> = match view.aux(format!("ol-job/{p}").as_bytes())? {
                Some(b) => serde_json::from_slice(&b)
                    .map_err(|e| Error::json(format!("run list of {p}"), e))?,
                None => Vec::new(),
            };
            for r in ids {
                let Some(b) = view.aux(format!("ol-run/{r}").as_bytes())? else {
                    continue;
                };
                let mut rec = serde_json::from_slice::<Value>(&b)
                    .map_err(|e| Error::json(format!("run record {r}"), e))?;
                let start = rec["startTime"].as_i64().unwrap_or(0);
                let state_ok = f.state.as_deref().is_none_or(|s| {
                    rec["state"]
                        .as_str()
                        .is_some_and(|x| x.eq_ignore_ascii_case(s))
                });
                if !state_ok
                    || f.since.is_some_and(|t| start < t)
                    || f.until.is_some_and(|t| start > t)
                {
                    continue;
                }
                if let Value::Object(m) = &mut rec {
                    m.remove("eventDigests");
                }
                runs.push(rec);
            }
        }
        runs.sort_by(|a, b| {
            b["startTime"]
                .as_i64()
                .cmp(&a["startTime"].as_i64())
                .then_with(|| a["runId"].as_str().cmp(&b["runId"].as_str()))
        });
        let total = runs.len();
        let page: Vec<Value> = runs.into_iter().skip(f.offset).take(f.limit).collect();
        Ok(json!({"runs": page, "paging": {"total": total, "offset": f.offset, "limit": f.limit}}))
    }
}

/// Which runs [`Service::openlineage_runs`] lists.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    /// Only this namespace's jobs.
    pub namespace: Option<String>,
    /// Only this job (with `namespace`).
    pub job: Option<String>,
    /// Only runs in this state.
    pub state: Option<String>,
    /// Only runs started at or after (epoch ms).
    pub since: Option<i64>,
    /// Only runs started at or before (epoch ms).
    pub until: Option<i64>,
    /// Page size.
    pub limit: usize,
    /// Runs skipped.
    pub offset: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_types() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_time("2024-05-01T12:00:00.5+02:00"),
            Some(1_714_557_600_500)
        );
        assert_eq!(
            parse_time("2024-05-01T12:00:00.123456Z"),
            Some(1_714_564_800_123)
        );
        assert_eq!(parse_time("2024-05-01 12:00:00"), Some(1_714_564_800_000));
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(data_type("integer"), "INT");
        assert_eq!(data_type("varchar(20)"), "VARCHAR");
        assert_eq!(data_type("geo-thing"), "UNKNOWN");
        assert_eq!(
            sanitize("postgres://db.internal:5432"),
            "postgres_db_internal_5432"
        );
    }
}

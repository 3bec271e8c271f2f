//! Usage, as OpenMetadata's usage workflow reports it: daily use counts per entity
//! (`usageSummary` with daily, weekly and monthly counts and percentile ranks), the
//! tables and columns a table is joined with, and the entities and users a query is
//! linked to. These are server-maintained fields: they do not bump an entity's version.

use headwaters_engine::{EntityType, Include, ReadView};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::{Date, Duration, macros::format_description};
use uuid::Uuid;

use super::error::{Error, Result};
use super::service::{Key, Service};

/// Appends to the array `field` of `doc` each of `new` whose `key` is not there yet.
fn append_unique(
    doc: &mut Map<String, Value>,
    field: &str,
    new: Vec<Value>,
    key: fn(&Value) -> &Value,
) {
    let mut list: Vec<Value> = doc
        .get(field)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for v in new {
        if !list.iter().any(|x| key(x) == key(&v)) {
            list.push(v);
        }
    }
    doc.insert(field.into(), Value::Array(list));
}

/// `POST /usage/{type}/{id}`'s body: OpenMetadata's `UsageRequest`.
#[derive(Clone, Debug, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageRequest {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Uses on that day.
    pub count: u64,
}

/// Days of history kept per entity (enough for the monthly window).
const HISTORY_DAYS: i64 = 31;

fn parse_date(what: &str, s: &str) -> Result<Date> {
    Date::parse(s, format_description!("[year]-[month]-[day]"))
        .map_err(|_| Error::invalid(format!("{what}: {s:?} is not a YYYY-MM-DD date")))
}

fn history_key(id: Uuid) -> String {
    format!("usage/{id}")
}

impl Service {
    /// Runs `f` on the document of one entity under the document lock and stores the
    /// result as is (no version bump): for server-maintained fields.
    fn maintain<F>(&self, ty: EntityType, key: &Key, f: F) -> Result<Value>
    where
        F: FnOnce(&ReadView<'_>, &mut Map<String, Value>) -> Result<()>,
    {
        let _guard = self.lock_docs();
        let view = self.store.read();
        let node = self.resolve(&view, ty, key, Include::NonDeleted)?;
        let Value::Object(mut doc) = self.document(&view, node)? else {
            return Err(Error::invariant(format!(
                "document of {ty} {key:?} is not an object"
            )));
        };
        f(&view, &mut doc)?;
        drop(view);
        let doc = Value::Object(doc);
        self.replace_document(node, doc.clone())?;
        Ok(doc)
    }

    /// Records `count` uses of an entity on a day and recomputes its `usageSummary`
    /// (daily, weekly = 7 days, monthly = 30 days ending that day). Percentile ranks
    /// come from [`Service::compute_percentiles`].
    pub fn record_usage(&self, ty: EntityType, id: Uuid, req: &UsageRequest) -> Result<Value> {
        let day = parse_date("field date", &req.date)?;
        self.maintain(ty, &Key::Id(id), |view, doc| {
            let mut history: Map<String, Value> = match view.aux(history_key(id).as_bytes())? {
                Some(b) => serde_json::from_slice(&b).unwrap_or_default(),
                None => Map::new(),
            };
            history.insert(req.date.clone(), json!(req.count));
            let oldest = day - Duration::days(HISTORY_DAYS);
            history.retain(|d, _| parse_date("history", d).is_ok_and(|d| d > oldest));
            let window = |days: i64| -> u64 {
                history
                    .iter()
                    .filter(|(d, _)| {
                        parse_date("history", d)
                            .is_ok_and(|d| d <= day && d > day - Duration::days(days))
                    })
                    .filter_map(|(_, c)| c.as_u64())
                    .sum()
            };
            doc.insert(
                "usageSummary".into(),
                json!({
                    "dailyStats": {"count": req.count, "percentileRank": 0.0},
                    "weeklyStats": {"count": window(7), "percentileRank": 0.0},
                    "monthlyStats": {"count": window(30), "percentileRank": 0.0},
                    "date": req.date,
                }),
            );
            self.store.put_aux(
                history_key(id).as_bytes(),
                Some(serde_json::to_vec(&history).map_err(|e| Error::json("usage history", e))?),
            )?;
            Ok(())
        })
    }

    /// Sets the percentile ranks of every entity of `ty` whose usage summary is for
    /// `date`: the share of those entities used less, per window.
    pub fn compute_percentiles(&self, ty: EntityType, date: &str) -> Result<usize> {
        parse_date("date", date)?;
        let view = self.store.read();
        let nodes = view.list(ty, "", None, false, usize::MAX, Include::NonDeleted)?;
        let mut rows = Vec::new();
        for (_, n) in nodes {
            let doc = self.document(&view, n)?;
            let s = &doc["usageSummary"];
            if s["date"].as_str() == Some(date) {
                let c = |w: &str| s[w]["count"].as_u64().unwrap_or(0);
                rows.push((n, [c("dailyStats"), c("weeklyStats"), c("monthlyStats")]));
            }
        }
        drop(view);
        let total = rows.len();
        for (i, w) in ["dailyStats", "weeklyStats", "monthlyStats"]
            .iter()
            .enumerate()
        {
            let mut counts: Vec<u64> = rows.iter().map(|r| r.1[i]).collect();
            counts.sort_unstable();
            for (n, c) in &rows {
                let below = counts.partition_point(|x| x < &c[i]);
                let rank = if total == 0 {
                    0.0
                } else {
                    below as f64 * 100.0 / total as f64
                };
                let id = self.store.read().entity(*n)?.id;
                self.maintain(ty, &Key::Id(id), |_, doc| {
                    if let Some(Value::Object(stats)) =
                        doc.get_mut("usageSummary").and_then(|s| s.get_mut(*w))
                    {
                        stats.insert("percentileRank".into(), json!(rank));
                    }
                    Ok(())
                })?;
            }
        }
        Ok(total)
    }

    /// Stores a table's joins (`PUT /tables/{id}/joins`, OpenMetadata's `TableJoins`),
    /// checking that every joined column and table exists.
    pub fn put_table_joins(&self, id: Uuid, joins: Value) -> Result<Value> {
        let Value::Object(j) = &joins else {
            return Err(Error::invalid("the joins body must be a JSON object"));
        };
        for k in j.keys() {
            if !matches!(
                k.as_str(),
                "startDate" | "dayCount" | "columnJoins" | "directTableJoins"
            ) {
                return Err(Error::invalid(format!(
                    "field {k}: not a field of TableJoins"
                )));
            }
        }
        if let Some(d) = j.get("startDate") {
            parse_date("field startDate", d.as_str().unwrap_or(""))?;
        }
        self.maintain(EntityType::Table, &Key::Id(id), |view, doc| {
            let check = |path: String, fqn: Option<&str>, column: bool| -> Result<()> {
                let fqn = fqn.ok_or_else(|| {
                    Error::invalid(format!("field {path}: fullyQualifiedName is required"))
                })?;
                let known = if column {
                    view.column_by_fqn(fqn)?.is_some()
                } else {
                    view.node_by_fqn(EntityType::Table, fqn)?.is_some()
                };
                if known {
                    Ok(())
                } else {
                    Err(Error::not_found(format!("field {path}: {fqn} not found")))
                }
            };
            for (i, cj) in j
                .get("columnJoins")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                for (k, w) in cj["joinedWith"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    check(
                        format!("columnJoins[{i}].joinedWith[{k}]"),
                        w["fullyQualifiedName"].as_str(),
                        true,
                    )?;
                }
            }
            for (i, t) in j
                .get("directTableJoins")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                check(
                    format!("directTableJoins[{i}]"),
                    t["fullyQualifiedName"].as_str(),
                    false,
                )?;
            }
            doc.insert("joins".into(), joins.clone());
            Ok(())
        })
    }

    /// Links a query to the entities it was used in (`PUT /queries/{id}/usage`).
    pub fn add_query_usage(&self, id: Uuid, refs: &[Value]) -> Result<Value> {
        self.maintain(EntityType::Query, &Key::Id(id), |view, doc| {
            let mut found = Vec::new();
            for (i, r) in refs.iter().enumerate() {
                let rid = r["id"]
                    .as_str()
                    .and_then(|s| Uuid::parse_str(s).ok())
                    .ok_or_else(|| Error::invalid(format!("[{i}].id: expected an entity id")))?;
                let node = view
                    .node_by_id(&rid)?
                    .ok_or_else(|| Error::not_found(format!("[{i}]: entity {rid} not found")))?;
                found.push(Service::reference(view, node)?);
            }
            append_unique(doc, "queryUsedIn", found, |v| &v["id"]);
            Ok(())
        })
    }

    /// Adds users (by name) to a query (`PUT /queries/{id}/users`); unknown users are
    /// a 404 naming them.
    pub fn add_query_users(&self, id: Uuid, users: &[String]) -> Result<Value> {
        self.maintain(EntityType::Query, &Key::Id(id), |view, doc| {
            let found = users
                .iter()
                .map(|u| Service::user_reference(view, u))
                .collect::<Result<Vec<_>>>()?;
            append_unique(doc, "users", found, |v| &v["id"]);
            Ok(())
        })
    }

    /// Adds names of whoever ran a query outside the catalog's users
    /// (`PUT /queries/{id}/usedBy`).
    pub fn add_query_used_by(&self, id: Uuid, names: &[String]) -> Result<Value> {
        self.maintain(EntityType::Query, &Key::Id(id), |_, doc| {
            append_unique(
                doc,
                "usedBy",
                names.iter().map(|n| json!(n)).collect(),
                |v| v,
            );
            Ok(())
        })
    }

    /// Queries linked to an entity (`GET /queries?entityId=`), in FQN order.
    pub fn queries_of(&self, entity: Uuid, include: Include) -> Result<Vec<Value>> {
        let view = self.store.read();
        let mut out = Vec::new();
        for (_, n) in view.list(EntityType::Query, "", None, false, usize::MAX, include)? {
            let doc = self.document(&view, n)?;
            let used = doc["queryUsedIn"].as_array().is_some_and(|u| {
                u.iter()
                    .any(|r| r["id"].as_str() == Some(entity.to_string().as_str()))
            });
            if used {
                out.push(doc);
            }
        }
        Ok(out)
    }
}

impl Service {
    /// Stores a table's data model (`PUT /tables/{id}/dataModel`, what dbt knows of the
    /// table) as OpenMetadata does: the model is kept as `dataModel`, its tags are
    /// applied to the table, and where the table or a column has no description (or
    /// tags, or owners) yet, the model's are taken.
    pub fn put_data_model(&self, id: Uuid, model: Value) -> Result<Value> {
        let Value::Object(m) = &model else {
            return Err(Error::invalid("the dataModel body must be a JSON object"));
        };
        if !m.get("modelType").is_some_and(Value::is_string) {
            return Err(Error::invalid("field modelType is required (DBT, DDL)"));
        }
        for k in m.keys() {
            if !matches!(
                k.as_str(),
                "modelType"
                    | "resourceType"
                    | "dbtSourceProject"
                    | "description"
                    | "path"
                    | "rawSql"
                    | "sql"
                    | "upstream"
                    | "owners"
                    | "tags"
                    | "columns"
                    | "generatedAt"
            ) {
                return Err(Error::invalid(format!(
                    "field {k}: not a field of DataModel"
                )));
            }
        }
        self.maintain(EntityType::Table, &Key::Id(id), |_, doc| {
            let empty = |v: Option<&Value>| v.and_then(Value::as_str).is_none_or(str::is_empty);
            if empty(doc.get("description"))
                && let Some(d) = m.get("description").filter(|d| !empty(Some(d)))
            {
                doc.insert("description".into(), d.clone());
            }
            // The model's tags are applied to the table (merged by tagFQN), its owners
            // taken where the table has none.
            if let Some(Value::Array(tags)) = m.get("tags") {
                let mut have: Vec<Value> = doc
                    .get("tags")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for t in tags {
                    if !have.iter().any(|h| h["tagFQN"] == t["tagFQN"]) {
                        have.push(t.clone());
                    }
                }
                doc.insert("tags".into(), Value::Array(have));
            }
            if doc
                .get("owners")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty)
                && let Some(Value::Array(owners)) = m.get("owners")
                && !owners.is_empty()
            {
                doc.insert("owners".into(), Value::Array(owners.clone()));
            }
            if let (Some(Value::Array(cols)), Some(Value::Array(model_cols))) =
                (doc.get_mut("columns"), m.get("columns"))
            {
                for c in cols.iter_mut() {
                    let Some(name) = c["name"].as_str().map(str::to_lowercase) else {
                        continue;
                    };
                    let Some(mc) = model_cols.iter().find(|mc| {
                        mc["name"].as_str().map(str::to_lowercase) == Some(name.clone())
                    }) else {
                        continue;
                    };
                    if empty(c.get("description")) && !empty(mc.get("description")) {
                        c["description"] = mc["description"].clone();
                    }
                    if let Some(Value::Array(tags)) = mc.get("tags")
                        && !tags.is_empty()
                        && c.get("tags")
                            .and_then(Value::as_array)
                            .is_none_or(Vec::is_empty)
                    {
                        c["tags"] = Value::Array(tags.clone());
                    }
                }
            }
            doc.insert("dataModel".into(), model.clone());
            Ok(())
        })
    }
}

//! The subset of Elasticsearch's query DSL that OpenMetadata's SDK and ingestion
//! workflows send in `query_filter` (and `post_filter`), plus `field:value` terms of
//! `q`, evaluated against entity documents.
//!
//! Supported: `bool` (`must`, `filter`, `should` with `minimum_should_match`,
//! `must_not`), `term`, `terms`, `match`, `match_phrase`, `prefix`, `wildcard`,
//! `exists`, `range`, `match_all`; a top-level `{"query": ...}` wrapper. Field paths
//! are dotted (`service.name`), go through arrays (`tags.tagFQN` matches any tag), and
//! drop Elasticsearch's `.keyword` sub-field suffix. Anything else is refused with the
//! path of the clause, never ignored.
//!
//! Before any document is read, [`Filter::required_words`] gives the words every match
//! must contain; the search index intersects their postings, so a filter narrows by
//! the index and only the candidates' documents are checked.

use serde_json::Value;

use super::error::{Error, Result};
use super::search::tokenize;

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Matches everything.
    All,
    /// `bool`.
    Bool {
        /// All must match (`must` and `filter`).
        must: Vec<Filter>,
        /// At least `min_should` must match.
        should: Vec<Filter>,
        /// How many `should` clauses must match (1 when there is no `must`).
        min_should: usize,
        /// None may match.
        must_not: Vec<Filter>,
    },
    /// `term` / `terms`: the field equals one of the values (strings compare
    /// case-insensitively).
    Term {
        /// Dotted path.
        field: String,
        /// Accepted values.
        values: Vec<Value>,
    },
    /// `match` / `match_phrase`: every word of the text is a word of the field.
    Match {
        /// Dotted path.
        field: String,
        /// The text.
        text: String,
    },
    /// `prefix`.
    Prefix {
        /// Dotted path.
        field: String,
        /// The prefix (case-insensitive).
        prefix: String,
    },
    /// `wildcard` (`*` and `?`, case-insensitive).
    Wildcard {
        /// Dotted path.
        field: String,
        /// The pattern.
        pattern: String,
    },
    /// `exists`.
    Exists {
        /// Dotted path.
        field: String,
    },
    /// `range` over numbers (or strings, compared as text).
    Range {
        /// Dotted path.
        field: String,
        /// Bounds: (`gt`/`gte`, inclusive) and (`lt`/`lte`, inclusive).
        lower: Option<(Value, bool)>,
        /// Upper bound.
        upper: Option<(Value, bool)>,
    },
}

fn bad(path: &str, what: impl std::fmt::Display) -> Error {
    Error::invalid(format!("query_filter {path}: {what}"))
}

fn field_name(f: &str) -> String {
    f.strip_suffix(".keyword").unwrap_or(f).to_string()
}

/// The single `{field: body}` entry of a leaf clause.
fn single<'a>(path: &str, v: &'a Value) -> Result<(&'a String, &'a Value)> {
    match v {
        Value::Object(m) if m.len() == 1 => Ok(m.iter().next().expect("one entry")),
        _ => Err(bad(path, "expected an object with one field")),
    }
}

impl Filter {
    /// Parses a filter (a clause, or `{"query": clause}`).
    pub fn parse(v: &Value) -> Result<Filter> {
        match v {
            Value::Object(m) if m.len() == 1 && m.contains_key("query") => {
                Filter::clause("query", &m["query"])
            }
            _ => Filter::clause("", v),
        }
    }

    /// Parses the JSON text of a `query_filter` parameter.
    pub fn parse_text(text: &str) -> Result<Filter> {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| Error::invalid(format!("query_filter: not JSON: {e}")))?;
        Filter::parse(&v)
    }

    fn list(path: &str, v: &Value) -> Result<Vec<Filter>> {
        match v {
            Value::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, c)| Filter::clause(&format!("{path}[{i}]"), c))
                .collect(),
            Value::Object(_) => Ok(vec![Filter::clause(path, v)?]),
            _ => Err(bad(path, "expected a clause or an array of clauses")),
        }
    }

    fn clause(path: &str, v: &Value) -> Result<Filter> {
        let Value::Object(m) = v else {
            return Err(bad(path, "expected an object"));
        };
        if m.is_empty() {
            return Ok(Filter::All);
        }
        if m.len() != 1 {
            return Err(bad(path, "expected one clause per object"));
        }
        let (kind, body) = m.iter().next().expect("one entry");
        let here = if path.is_empty() {
            kind.clone()
        } else {
            format!("{path}.{kind}")
        };
        match kind.as_str() {
            "match_all" => Ok(Filter::All),
            "bool" => {
                let Value::Object(b) = body else {
                    return Err(bad(&here, "expected an object"));
                };
                let (mut must, mut should, mut must_not) = (Vec::new(), Vec::new(), Vec::new());
                let mut min_should = None;
                for (k, c) in b {
                    let p = format!("{here}.{k}");
                    match k.as_str() {
                        "must" | "filter" => must.extend(Filter::list(&p, c)?),
                        "should" => should.extend(Filter::list(&p, c)?),
                        "must_not" => must_not.extend(Filter::list(&p, c)?),
                        "minimum_should_match" => {
                            min_should = Some(
                                c.as_u64()
                                    .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
                                    .ok_or_else(|| bad(&p, "expected a count"))?
                                    as usize,
                            )
                        }
                        "boost" | "_name" | "adjust_pure_negative" => {}
                        other => return Err(bad(&p, format!("{other:?} is not supported"))),
                    }
                }
                let min_should =
                    min_should.unwrap_or(usize::from(must.is_empty() && !should.is_empty()));
                Ok(Filter::Bool {
                    must,
                    should,
                    min_should,
                    must_not,
                })
            }
            "term" | "terms" => {
                let (field, val) = single(&here, body)?;
                let values = match (kind.as_str(), val) {
                    ("terms", Value::Array(a)) => a.clone(),
                    ("terms", _) => return Err(bad(&here, "expected an array of values")),
                    (_, Value::Object(o)) => vec![
                        o.get("value")
                            .cloned()
                            .ok_or_else(|| bad(&here, "expected {\"value\": ...}"))?,
                    ],
                    (_, v) => vec![v.clone()],
                };
                Ok(Filter::Term {
                    field: field_name(field),
                    values,
                })
            }
            "match" | "match_phrase" => {
                let (field, val) = single(&here, body)?;
                let text = match val {
                    Value::Object(o) => o.get("query").cloned(),
                    v => Some(v.clone()),
                };
                let text = match text {
                    Some(Value::String(s)) => s,
                    Some(Value::Bool(b)) => b.to_string(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => return Err(bad(&here, "expected a text")),
                };
                Ok(Filter::Match {
                    field: field_name(field),
                    text,
                })
            }
            "prefix" | "wildcard" => {
                let (field, val) = single(&here, body)?;
                let text = match val {
                    Value::Object(o) => o.get("value").and_then(Value::as_str),
                    v => v.as_str(),
                }
                .ok_or_else(|| bad(&here, "expected a string"))?
                .to_lowercase();
                let field = field_name(field);
                Ok(if kind == "prefix" {
                    Filter::Prefix {
                        field,
                        prefix: text,
                    }
                } else {
                    Filter::Wildcard {
                        field,
                        pattern: text,
                    }
                })
            }
            "exists" => match body.get("field") {
                Some(Value::String(f)) => Ok(Filter::Exists {
                    field: field_name(f),
                }),
                _ => Err(bad(&here, "expected {\"field\": name}")),
            },
            "range" => {
                let (field, val) = single(&here, body)?;
                let Value::Object(b) = val else {
                    return Err(bad(&here, "expected bounds"));
                };
                let (mut lower, mut upper) = (None, None);
                for (k, v) in b {
                    match k.as_str() {
                        "gt" => lower = Some((v.clone(), false)),
                        "gte" => lower = Some((v.clone(), true)),
                        "lt" => upper = Some((v.clone(), false)),
                        "lte" => upper = Some((v.clone(), true)),
                        "format" | "boost" => {}
                        other => {
                            return Err(bad(&here, format!("bound {other:?} is not supported")));
                        }
                    }
                }
                Ok(Filter::Range {
                    field: field_name(field),
                    lower,
                    upper,
                })
            }
            other => Err(bad(
                &here,
                format!(
                    "{other:?} is not supported (bool, term, terms, match, match_phrase, prefix, wildcard, exists, range, match_all are)"
                ),
            )),
        }
    }

    /// Whether `doc` matches.
    pub fn matches(&self, doc: &Value) -> bool {
        match self {
            Filter::All => true,
            Filter::Bool {
                must,
                should,
                min_should,
                must_not,
            } => {
                must.iter().all(|f| f.matches(doc))
                    && !must_not.iter().any(|f| f.matches(doc))
                    && should.iter().filter(|f| f.matches(doc)).count() >= *min_should
            }
            Filter::Term { field, values } => {
                values_at(doc, field).any(|v| values.iter().any(|want| same(v, want)))
            }
            Filter::Match { field, text } => {
                let mut want = Vec::new();
                tokenize(text, &mut want);
                values_at(doc, field).any(|v| {
                    let mut have = Vec::new();
                    tokenize(&as_text(v), &mut have);
                    !want.is_empty() && want.iter().all(|w| have.contains(w))
                })
            }
            Filter::Prefix { field, prefix } => {
                values_at(doc, field).any(|v| as_text(v).to_lowercase().starts_with(prefix))
            }
            Filter::Wildcard { field, pattern } => values_at(doc, field)
                .any(|v| glob_match(pattern, &as_text(v).to_lowercase(), '*', '?')),
            Filter::Exists { field } => values_at(doc, field).any(|v| !v.is_null()),
            Filter::Range {
                field,
                lower,
                upper,
            } => values_at(doc, field).any(|v| {
                let ok_low = lower.as_ref().is_none_or(|(b, incl)| {
                    compare(v, b).is_some_and(|o| o.is_gt() || (*incl && o.is_eq()))
                });
                let ok_up = upper.as_ref().is_none_or(|(b, incl)| {
                    compare(v, b).is_some_and(|o| o.is_lt() || (*incl && o.is_eq()))
                });
                ok_low && ok_up
            }),
        }
    }

    /// Words every matching document has among its indexed words (name, FQN, display
    /// name, description): the string values of `term` and `match` clauses on those
    /// fields, or on a reference's `name`/`fullyQualifiedName` (whose words are part of
    /// the FQN), that every match must satisfy.
    pub fn required_words(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_words(&mut out);
        out
    }

    fn collect_words(&self, out: &mut Vec<String>) {
        let indexed = |f: &str| {
            matches!(f, "name" | "fullyQualifiedName" | "displayName")
                || f.ends_with(".name")
                    && matches!(f, "service.name" | "database.name" | "databaseSchema.name")
                || matches!(
                    f,
                    "service.fullyQualifiedName"
                        | "database.fullyQualifiedName"
                        | "databaseSchema.fullyQualifiedName"
                )
        };
        match self {
            Filter::Bool { must, .. } => must.iter().for_each(|f| f.collect_words(out)),
            Filter::Term { field, values } if values.len() == 1 && indexed(field) => {
                if let Some(s) = values[0].as_str() {
                    tokenize(s, out);
                }
            }
            Filter::Match { field, text } if indexed(field) => tokenize(text, out),
            _ => {}
        }
    }
}

/// Every value at a dotted path (through arrays).
fn values_at<'a>(doc: &'a Value, path: &str) -> impl Iterator<Item = &'a Value> {
    let mut cur: Vec<&Value> = vec![doc];
    for part in path.split('.') {
        let mut next = Vec::new();
        for v in cur {
            match v {
                Value::Object(m) => {
                    if let Some(x) = m.get(part) {
                        next.push(x);
                    }
                }
                Value::Array(a) => {
                    for item in a {
                        if let Some(x) = item.get(part) {
                            next.push(x);
                        }
                    }
                }
                _ => {}
            }
        }
        cur = next;
    }
    cur.into_iter().flat_map(|v| match v {
        Value::Array(a) => a.iter().collect::<Vec<_>>(),
        other => vec![other],
    })
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn same(have: &Value, want: &Value) -> bool {
    match (have, want) {
        (Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
        (Value::Bool(a), Value::String(b)) => b.eq_ignore_ascii_case(&a.to_string()),
        (Value::Number(a), Value::String(b)) => a.to_string() == *b,
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}

fn compare(have: &Value, bound: &Value) -> Option<std::cmp::Ordering> {
    match (have.as_f64(), bound.as_f64()) {
        (Some(a), Some(b)) => a.partial_cmp(&b),
        _ => match (have, bound) {
            (Value::String(a), Value::String(b)) => Some(a.as_str().cmp(b.as_str())),
            _ => None,
        },
    }
}

/// Whether `s` matches `pattern`, where `any` matches any run of characters and `one`
/// a single one (Elasticsearch's `*`/`?`, SQL LIKE's `%`/`_`); callers lower-case both
/// sides for case-insensitive matching.
pub fn glob_match(pattern: &str, s: &str, any: char, one: char) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), s.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == one || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == any {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(sp) = star {
            pi = sp + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == any)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "name": "raw_orders",
            "fullyQualifiedName": "pg.jaffle.main.raw_orders",
            "processedLineage": true,
            "service": {"name": "pg", "type": "databaseService"},
            "tags": [{"tagFQN": "PII.Sensitive"}, {"tagFQN": "dbtTags.nightly"}],
            "updatedAt": 1000,
        })
    }

    #[test]
    fn the_sdks_lineage_filter() {
        let f = Filter::parse(&json!({"query": {"bool": {"must": [
            {"term": {"processedLineage": true}},
            {"term": {"service.name.keyword": "pg"}}
        ]}}}))
        .unwrap();
        assert!(f.matches(&doc()));
        assert_eq!(f.required_words(), vec!["pg".to_string()]);
        let other = Filter::parse(&json!({"term": {"service.name.keyword": "mysql"}})).unwrap();
        assert!(!other.matches(&doc()));
    }

    #[test]
    fn clauses() {
        let d = doc();
        let t = |v: Value| Filter::parse(&v).unwrap().matches(&d);
        assert!(t(json!({"terms": {"tags.tagFQN": ["x", "pii.sensitive"]}})));
        assert!(!t(
            json!({"bool": {"must_not": {"exists": {"field": "tags"}}}})
        ));
        assert!(t(
            json!({"bool": {"should": [{"term": {"name": "x"}}, {"match": {"name": "orders"}}]}})
        ));
        assert!(!t(
            json!({"bool": {"should": [{"term": {"name": "x"}}], "minimum_should_match": 1}})
        ));
        assert!(t(json!({"prefix": {"fullyQualifiedName": "PG.jaffle"}})));
        assert!(t(json!({"wildcard": {"name": {"value": "raw_*s"}}})));
        assert!(t(
            json!({"range": {"updatedAt": {"gte": 1000, "lt": 2000}}})
        ));
        assert!(!t(json!({"range": {"updatedAt": {"gt": 1000}}})));
        assert!(t(json!({})));
    }

    #[test]
    fn unsupported_clauses_name_their_path() {
        let e = Filter::parse(&json!({"bool": {"must": [{"geo_shape": {}}]}})).unwrap_err();
        assert!(e.to_string().contains("bool.must[0].geo_shape"), "{e}");
        assert!(Filter::parse_text("{not json").is_err());
    }
}

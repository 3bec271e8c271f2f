//! `/api/v1/search/query` and `/search/fieldQuery`: OpenMetadata's search endpoints,
//! answered from the in-process index in Elasticsearch's answer shape.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use headwaters_engine::EntityType;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::entities::DocAnswer;
use crate::api::auth::Principal;
use crate::api::errors::{ApiError, ApiResult, Json, Query};
use crate::api::openapi::{ApiRouter, Op, any_object};
use crate::api::{AppState, blocking_light};
use crate::domain::columns::SearchPage;
use crate::domain::kinds::Kind;
use crate::domain::search::SearchQuery;
use crate::domain::search_dsl::Filter;

/// Search parameters (OpenMetadata's; others, such as `track_total_hits`, are ignored).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(rename_all = "camelCase")]
pub struct SearchParams {
    /// Words to match (prefix match per word); empty or `*` matches everything.
    q: Option<String>,
    /// Comma-separated search indexes (`table_search_index`, ...) or `all`.
    index: Option<String>,
    /// Hits skipped.
    from: Option<usize>,
    /// Most hits (default 10, at most 10000).
    size: Option<usize>,
    /// Deleted entities instead of live ones.
    deleted: Option<bool>,
    /// `fieldQuery`: `fullyQualifiedName` (with `*` wildcards) or `name`.
    field_name: Option<String>,
    /// `fieldQuery`: the value.
    field_value: Option<String>,
    /// An Elasticsearch query-DSL filter (JSON): bool, term, terms, match, prefix,
    /// wildcard, exists, range.
    #[serde(rename = "query_filter")]
    #[param(rename = "query_filter")]
    query_filter: Option<String>,
    /// Applied like `query_filter`.
    #[serde(rename = "post_filter")]
    #[param(rename = "post_filter")]
    post_filter: Option<String>,
    /// Applied like `query_filter`.
    filters: Option<String>,
    /// Sort by this field (`name.keyword`, `updatedAt`, ...; `_score`: relevance).
    #[serde(rename = "sort_field")]
    #[param(rename = "sort_field")]
    sort_field: Option<String>,
    /// `asc` or `desc` (default `desc`, as OpenMetadata).
    #[serde(rename = "sort_order")]
    #[param(rename = "sort_order")]
    sort_order: Option<String>,
    /// Only these fields of each `_source` (repeatable; read from the raw query).
    #[serde(skip)]
    #[param(rename = "include_source_fields")]
    #[allow(dead_code)] // In the struct for the OpenAPI document; read from the raw query.
    include_source_fields: Option<String>,
    /// Other parameters, accepted and ignored.
    #[serde(flatten)]
    #[param(ignore)]
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

fn hits_out(s: &AppState, who: &Principal, page: SearchPage) -> Value {
    let answer = DocAnswer::new(s, who);
    let hits: Vec<_> = page
        .hits
        .into_iter()
        .map(|v| {
            let ty = v.record.entity_type;
            let kind = Kind::of(ty);
            let mut doc = answer.doc(kind, v.document.into_json(), &[]);
            doc["entityType"] = json!(ty.as_str());
            json!({"_index": kind.index, "_id": doc["id"], "_score": 1.0, "_source": doc})
        })
        .collect();
    json!({
        "took": 0,
        "timed_out": false,
        "hits": {"total": {"value": page.total, "relation": "eq"}, "max_score": 1.0, "hits": hits},
    })
}

/// `q` split into free text and `field:value` terms (each a `match` filter).
fn split_q(q: &str) -> (String, Vec<Filter>) {
    let mut text = Vec::new();
    let mut filters = Vec::new();
    for word in q.split_whitespace() {
        match word.split_once(':') {
            Some((field, value))
                if !field.is_empty()
                    && !value.is_empty()
                    && field
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_') =>
            {
                let value = value.trim_matches('"').to_string();
                let field = field.strip_suffix(".keyword").unwrap_or(field).to_string();
                filters.push(if value.contains('*') {
                    Filter::Wildcard {
                        field,
                        pattern: value.to_lowercase(),
                    }
                } else {
                    Filter::Match { field, text: value }
                });
            }
            _ if matches!(word, "AND" | "&&") => {}
            _ => text.push(word),
        }
    }
    (text.join(" "), filters)
}

async fn search_query(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    RawQuery(raw): RawQuery,
    Query(q): Query<SearchParams>,
) -> ApiResult<Response> {
    // Repeated parameters (`include_source_fields=a&include_source_fields=b`, what the
    // SDK sends) are collected here; the typed struct keeps the last.
    let keep: Vec<String> = form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes())
        .filter(|(k, _)| k == "include_source_fields")
        .flat_map(|(_, v)| {
            v.split(',')
                .map(|f| f.trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|f| !f.is_empty())
        .collect();
    let size = q.size.unwrap_or(10);
    if size > 10_000 {
        return Err(ApiError::bad("parameter size must be at most 10000"));
    }
    let (text, mut must) = split_q(q.q.as_deref().unwrap_or(""));
    for (name, f) in [
        ("query_filter", &q.query_filter),
        ("post_filter", &q.post_filter),
        ("filters", &q.filters),
    ] {
        if let Some(f) = f.as_deref().filter(|f| !f.trim().is_empty()) {
            must.push(Filter::parse_text(f).map_err(|e| {
                ApiError::bad(format!(
                    "parameter {name}: {}",
                    e.to_string().trim_start_matches("query_filter")
                ))
            })?);
        }
    }
    let filter = (!must.is_empty()).then_some(Filter::Bool {
        must,
        should: Vec::new(),
        min_should: 0,
        must_not: Vec::new(),
    });
    let sort = match q.sort_field.as_deref() {
        None | Some("") | Some("_score") => None,
        Some(f) => Some((
            f.to_string(),
            match q.sort_order.as_deref() {
                None | Some("desc") => true,
                Some("asc") => false,
                Some(o) => {
                    return Err(ApiError::bad(format!(
                        "parameter sort_order: {o:?} is not asc or desc"
                    )));
                }
            },
        )),
    };
    let query = SearchQuery {
        text,
        types: index_types(q.index.as_deref())?,
        from: q.from.unwrap_or(0),
        size,
        deleted: q.deleted.unwrap_or(false),
        filter,
        sort,
    };
    let page = blocking_light(&s, move |svc| svc.search_entities(&query)).await?;
    let mut out = hits_out(&s, &p, page);
    if !keep.is_empty()
        && let Some(Value::Array(hits)) = out.pointer_mut("/hits/hits")
    {
        for h in hits {
            if let Some(Value::Object(src)) = h.get_mut("_source") {
                src.retain(|k, _| keep.contains(k));
            }
        }
    }
    Ok(Json(out).into_response())
}

async fn field_query(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Query(q): Query<SearchParams>,
) -> ApiResult<Response> {
    let field = q.field_name.as_deref().unwrap_or("fullyQualifiedName");
    let value = q
        .field_value
        .clone()
        .ok_or_else(|| ApiError::bad("parameter fieldValue is required"))?;
    let query = SearchQuery {
        text: value,
        types: index_types(q.index.as_deref())?,
        from: q.from.unwrap_or(0),
        size: q.size.unwrap_or(10).min(10_000),
        deleted: q.deleted.unwrap_or(false),
        ..SearchQuery::default()
    };
    let page = match field {
        "fullyQualifiedName" | "fullyQualifiedName.keyword" => {
            blocking_light(&s, move |svc| svc.search_fqn(&query)).await?
        }
        "name" | "name.keyword" | "displayName" => {
            blocking_light(&s, move |svc| svc.search_entities(&query)).await?
        }
        other => {
            return Err(ApiError::bad(format!(
                "parameter fieldName: {other:?} is not searchable; use fullyQualifiedName or name"
            )));
        }
    };
    Ok(Json(hits_out(&s, &p, page)).into_response())
}

/// The search routes, documented.
pub fn routes() -> ApiRouter {
    let hits = |op: Op| {
        op.query::<SearchParams>().answers_with(
            200,
            "application/json",
            any_object("Elasticsearch-shaped: `hits.total.value`, `hits.hits[]._source` (the entity document, with `entityType`)"),
            "Hits",
        )
    };
    ApiRouter::new()
        .route(
            Method::GET,
            "/api/v1/search/query",
            search_query,
            hits(Op::new(
                "search",
                "Search names, FQNs, display names and descriptions (q, index, from, size)",
            )),
        )
        .route(
            Method::GET,
            "/api/v1/search/fieldQuery",
            field_query,
            hits(Op::new(
                "search",
                "Search one field; fullyQualifiedName takes * wildcards",
            )),
        )
}

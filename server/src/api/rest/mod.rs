//! REST handlers, one module per resource. Each handler parses its input, checks any
//! role beyond the method's default, calls one domain operation through
//! [`crate::api::blocking`], and shapes the answer (OpenMetadata's shapes, `href`s
//! added). Every route is registered with its documentation ([`ApiRouter`]).

pub mod connectors;
pub mod dbt;
pub mod entities;
pub mod lineage;
pub mod marquez;
pub mod openlineage;
pub mod pipelines;
pub mod search;
pub mod sql;
pub mod system;
pub mod usage;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use headwaters_engine::EntityType;
use serde_json::Value;
use uuid::Uuid;

use super::AppState;
use super::auth::Principal;
use super::errors::{ApiError, ApiResult};
use super::openapi::ApiRouter;
use crate::domain::Actor;
use crate::domain::kinds::Kind;

/// Every route that needs a token.
pub fn protected() -> ApiRouter {
    entities::routes()
        .merge(connectors::routes())
        .merge(lineage::routes())
        .merge(sql::routes())
        .merge(openlineage::routes())
        .merge(marquez::routes())
        .merge(dbt::routes())
        .merge(search::routes())
        .merge(system::routes())
        .merge(usage::routes())
        .merge(usage::data_model_routes())
        .merge(pipelines::routes())
}

/// Routes anyone may call (the SDK checks the version before anything else; health
/// and metrics).
pub fn public() -> ApiRouter {
    system::public_routes().merge(super::metrics::routes())
}

/// The base URL `href`s start with: the configured public URL, else the listen
/// address. Never the request's Host header, which a client chooses.
pub fn base_url(state: &AppState) -> String {
    match &state.config.public_url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => format!("http://{}", state.config.listen),
    }
}

fn collection_of(ty: &str) -> Option<&'static str> {
    ty.parse::<EntityType>()
        .ok()
        .map(|t| Kind::of(t).collection)
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

/// `{base}/api/v1/{collection}/{id}`.
pub fn href(base: &str, ty: EntityType, id: Uuid) -> String {
    format!("{base}/api/v1/{}/{id}", Kind::of(ty).collection)
}

/// A path or body UUID.
pub fn parse_uuid(what: &str, s: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(s).map_err(|_| ApiError::bad(format!("{what}: {s:?} is not a UUID")))
}

/// The acting user of a write.
pub fn actor(p: &Principal) -> Actor {
    Actor(p.name.clone())
}

/// A JSON body serialized already.
pub fn json_bytes(body: impl Into<axum::body::Bytes>) -> Response {
    let body: axum::body::Bytes = body.into();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A JSON body parsed into `T` with the path of the first bad field in the message
/// (`edge.fromEntity.id: invalid type ...`).
pub fn parse_body<T: serde::de::DeserializeOwned>(what: &str, body: Value) -> ApiResult<T> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            ApiError::bad(format!("invalid {what} body: {}", e.inner()))
        } else {
            ApiError::bad(format!("invalid {what} body: {path}: {}", e.inner()))
        }
    })
}

//! OpenMetadata's entity collections: list, create, create-or-update, get, patch,
//! delete and restore, by id and by fully qualified name, for every [`Kind`].

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use headwaters_engine::EntityType;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{actor, base_url, parse_uuid, with_hrefs};
use crate::api::auth::{Principal, Role};
use crate::api::commands::{
    self, DeleteEntity, PatchEntity, PutEntities, PutEntity, RestoreEntity, execute, execute_heavy,
};
use crate::api::errors::{ApiError, ApiResult, Json, Path, Query};
use crate::api::openapi::{ApiRouter, Op, any_object};
use crate::api::{AppState, blocking_light};
use crate::domain::kinds::{self, DATA_TYPES, Kind, TABLE_TYPES};
use crate::domain::openmetadata::entity_fields;
use crate::domain::{Key, ListParams, Mode, parse_include};

/// How entity documents are answered to one caller: `href`s from the base URL,
/// connection secrets opened for admins and masked for everyone else.
pub struct DocAnswer<'a> {
    state: &'a AppState,
    base: String,
    admin: bool,
}

impl<'a> DocAnswer<'a> {
    /// For the caller `who` of a request with `headers`.
    pub fn new(state: &'a AppState, who: &Principal) -> Self {
        DocAnswer {
            state,
            base: base_url(state),
            admin: who.role >= Role::Admin,
        }
    }

    /// A stored document as answered.
    pub fn doc(&self, kind: &Kind, mut doc: Value, fields: &[String]) -> Value {
        self.state
            .service
            .settings
            .secrets
            .reveal(&mut doc, self.admin);
        entity_out(kind, doc, &self.base, fields)
    }
}

/// An entity document with `href`s added and requested list fields present.
fn entity_out(kind: &Kind, mut doc: Value, base: &str, fields: &[String]) -> Value {
    with_hrefs(&mut doc, base);
    if let Value::Object(m) = &mut doc {
        if let Some(Value::String(id)) = m.get("id").cloned() {
            m.insert(
                "href".into(),
                json!(format!("{base}/api/v1/{}/{id}", kind.collection)),
            );
        }
        for f in fields {
            if matches!(
                f.as_str(),
                "owners"
                    | "tags"
                    | "followers"
                    | "domains"
                    | "dataProducts"
                    | "experts"
                    | "reviewers"
            ) && !m.contains_key(f)
                && entity_fields(kind.collection).contains(f)
            {
                m.insert(f.clone(), json!([]));
            }
        }
    }
    doc
}

/// Runs `work` (which answers a stored document) and answers the document to `who`.
async fn answer_doc<O: commands::Op<Out = Value>>(
    kind: &Kind,
    state: &AppState,
    who: &Principal,
    op: O,
) -> ApiResult<Response> {
    let doc = execute(state, op).await?;
    Ok(Json(DocAnswer::new(state, who).doc(kind, doc, &[])).into_response())
}

/// Model fields that are not `fields=` names (always answered, or never stored).
const NOT_FIELD_PARAMS: &[&str] = &[
    "id",
    "name",
    "fullyQualifiedName",
    "href",
    "version",
    "updatedAt",
    "updatedBy",
    "deleted",
    "changeDescription",
    "incrementalChangeDescription",
    "impersonatedBy",
];

/// Parses `fields=a,b` as OpenMetadata does: `*` means every field of the kind's
/// model, a name the model does not have is a 400 naming it.
fn parse_fields(kind: &Kind, fields: Option<&str>) -> ApiResult<Vec<String>> {
    let allowed = || {
        entity_fields(kind.collection)
            .iter()
            .filter(|f| !NOT_FIELD_PARAMS.contains(&f.as_str()))
    };
    let mut out: Vec<String> = Vec::new();
    for f in fields
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
    {
        let add: Vec<String> = if f == "*" {
            allowed().cloned().collect()
        } else if allowed().any(|a| a == f) {
            vec![f.to_string()]
        } else {
            return Err(ApiError::bad(format!(
                "parameter fields: Invalid field name {f} (a {} has {})",
                kind.ty,
                allowed().cloned().collect::<Vec<_>>().join(", ")
            )));
        };
        for a in add {
            if !out.contains(&a) {
                out.push(a);
            }
        }
    }
    Ok(out)
}

/// Query parameters of entity reads.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(rename_all = "camelCase")]
pub struct GetParams {
    /// Comma-separated fields to include (`owners`, `tags`, ...).
    fields: Option<String>,
    /// `non-deleted` (default), `deleted` or `all`.
    include: Option<String>,
}

/// Query parameters of entity lists.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(rename_all = "camelCase")]
pub struct ListQuery {
    /// Page size (default 10).
    limit: Option<usize>,
    /// Cursor: the page before this one.
    before: Option<String>,
    /// Cursor: the page after this one.
    after: Option<String>,
    /// Comma-separated fields to include.
    fields: Option<String>,
    /// `non-deleted` (default), `deleted` or `all`.
    include: Option<String>,
    /// Only entities of this service (FQN).
    service: Option<String>,
    /// Only entities of this database (FQN).
    database: Option<String>,
    /// Only entities of this schema (FQN).
    database_schema: Option<String>,
    /// Only entities of this API collection (FQN).
    api_collection: Option<String>,
    /// Queries: only those used in this entity.
    entity_id: Option<String>,
}

/// Query parameters of deletes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(rename_all = "camelCase")]
pub struct DeleteParams {
    /// Delete for good (admin role) instead of soft-deleting.
    hard_delete: Option<bool>,
    /// Delete the children (databases of a service, ...) too.
    recursive: Option<bool>,
}

/// Query parameters of `PUT /{collection}/bulk`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(rename_all = "camelCase")]
pub struct BulkParams {
    /// OpenMetadata runs an asynchronous bulk request in the background; Headwaters
    /// always answers when every entity is written (the answer is the same).
    #[serde(rename = "async")]
    #[param(rename = "async")]
    run_async: Option<bool>,
}

/// Most create requests one `PUT /{collection}/bulk` takes.
pub const MAX_BULK: usize = 10_000;

/// Body of `PUT /{collection}/restore`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Restore {
    /// The soft-deleted entity's id.
    id: Uuid,
}

async fn list(
    kind: &'static Kind,
    state: AppState,
    who: Principal,
    q: ListQuery,
) -> ApiResult<Response> {
    let limit = q.limit.unwrap_or(10);
    if limit > 1_000_000 {
        return Err(ApiError::bad("parameter limit must be at most 1000000"));
    }
    let fields = parse_fields(kind, q.fields.as_deref())?;
    if let Some(entity) = q.entity_id.as_deref() {
        if kind.ty != EntityType::Query {
            return Err(ApiError::bad(
                "parameter entityId: only queries are listed by entity",
            ));
        }
        let entity = super::parse_uuid("entityId", entity)?;
        let include = parse_include(q.include.as_deref())?;
        let docs = blocking_light(&state, move |svc| svc.queries_of(entity, include)).await?;
        let answer = DocAnswer::new(&state, &who);
        let total = docs.len();
        let data: Vec<Value> = docs
            .into_iter()
            .map(|d| answer.doc(kind, d, &fields))
            .collect();
        return Ok(Json(json!({"data": data, "paging": {"total": total}})).into_response());
    }
    let parent = q
        .database_schema
        .or(q.database)
        .or(q.api_collection)
        .or(q.service);
    let p = ListParams {
        limit,
        after: q.after,
        before: q.before,
        parent,
        include: parse_include(q.include.as_deref())?,
    };
    let mut page = blocking_light(&state, move |svc| svc.list_entities(kind, &p)).await?;
    let answer = DocAnswer::new(&state, &who);
    if let Some(Value::Array(data)) = page.get_mut("data") {
        for d in data.iter_mut() {
            *d = answer.doc(kind, d.take(), &fields);
        }
    }
    Ok(Json(page).into_response())
}

async fn get_one(
    kind: &'static Kind,
    state: AppState,
    who: Principal,
    key: Key,
    q: GetParams,
) -> ApiResult<Response> {
    let fields = parse_fields(kind, q.fields.as_deref())?;
    let include = parse_include(q.include.as_deref())?;
    let doc = blocking_light(&state, move |svc| svc.get_entity(kind, &key, include)).await?;
    Ok(Json(DocAnswer::new(&state, &who).doc(kind, doc, &fields)).into_response())
}

async fn write_one(
    kind: &'static Kind,
    state: AppState,
    p: Principal,
    body: Value,
    mode: Mode,
) -> ApiResult<Response> {
    let who = p.clone();
    let op = PutEntity {
        ty: kind.ty,
        body,
        actor: actor(&p),
        mode,
    };
    let (doc, created) = execute(&state, op).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(DocAnswer::new(&state, &who).doc(kind, doc, &[])),
    )
        .into_response())
}

/// `PUT /{collection}/bulk`: create or update every request of the array, each on its
/// own (one failing does not stop the others), answering OpenMetadata's
/// `BulkOperationResult`.
async fn bulk(
    kind: &'static Kind,
    state: AppState,
    p: Principal,
    q: BulkParams,
    body: Value,
) -> ApiResult<Response> {
    if q.run_async == Some(true) {
        tracing::debug!("bulk {}: async=true runs synchronously", kind.collection);
    }
    let Value::Array(requests) = body else {
        return Err(ApiError::bad(format!(
            "PUT /{}/bulk takes a JSON array of create requests",
            kind.collection
        )));
    };
    if requests.len() > MAX_BULK {
        return Err(ApiError::bad(format!(
            "{} create requests in one bulk request; at most {MAX_BULK}",
            requests.len()
        )));
    }
    let op = PutEntities {
        ty: kind.ty,
        requests,
        actor: actor(&p),
    };
    let results = execute_heavy(&state, op).await?;
    let (mut passed, mut failed) = (Vec::new(), Vec::new());
    for (name, r) in results {
        match r {
            Ok((doc, created)) => passed.push(json!({
                "request": doc.get("fullyQualifiedName").cloned().unwrap_or(name),
                "message": if created { "Entity created" } else { "Entity updated" },
                "status": if created { 201 } else { 200 },
            })),
            Err(e) => {
                let e = ApiError::from(e);
                failed.push(json!({
                    "request": name,
                    "message": e.to_string(),
                    "status": e.status().as_u16(),
                }));
            }
        }
    }
    let status = match (passed.is_empty(), failed.is_empty()) {
        (_, true) => "success",
        (true, false) => "failure",
        (false, false) => "partialSuccess",
    };
    Ok(Json(json!({
        "dryRun": false,
        "status": status,
        "numberOfRowsProcessed": passed.len() + failed.len(),
        "numberOfRowsPassed": passed.len(),
        "numberOfRowsFailed": failed.len(),
        "successRequest": passed,
        "failedRequest": failed,
    }))
    .into_response())
}

async fn versions(
    kind: &'static Kind,
    state: AppState,
    who: Principal,
    id: String,
) -> ApiResult<Response> {
    let id = super::parse_uuid("id", &id)?;
    let docs = blocking_light(&state, move |svc| svc.entity_versions(kind, id)).await?;
    let answer = DocAnswer::new(&state, &who);
    // OpenMetadata answers each version as a JSON text.
    let versions: Vec<Value> = docs
        .into_iter()
        .map(|d| Value::String(answer.doc(kind, d, &[]).to_string()))
        .collect();
    Ok(Json(json!({"entityType": kind.ty.as_str(), "versions": versions})).into_response())
}

async fn version(
    kind: &'static Kind,
    state: AppState,
    who: Principal,
    id: String,
    version: String,
) -> ApiResult<Response> {
    let id = super::parse_uuid("id", &id)?;
    let doc = blocking_light(&state, move |svc| svc.entity_version(kind, id, &version)).await?;
    Ok(Json(DocAnswer::new(&state, &who).doc(kind, doc, &[])).into_response())
}

/// An RFC 6902 JSON Patch body (`application/json-patch+json` or `application/json`).
pub fn json_patch_body(headers: &HeaderMap, body: &[u8]) -> ApiResult<json_patch::Patch> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !(ct.starts_with("application/json-patch+json") || ct.starts_with("application/json")) {
        return Err(ApiError::UnsupportedMediaType(
            "PATCH takes an RFC 6902 JSON Patch with Content-Type: application/json-patch+json"
                .into(),
        ));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::bad(format!("invalid JSON Patch: {e}")))
}

async fn patch_one(
    kind: &'static Kind,
    state: AppState,
    headers: HeaderMap,
    p: Principal,
    key: Key,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let patch = json_patch_body(&headers, &body)?;
    let op = PatchEntity {
        ty: kind.ty,
        key,
        patch,
        actor: actor(&p),
    };
    answer_doc(kind, &state, &p, op).await
}

async fn delete_one(
    kind: &'static Kind,
    state: AppState,
    p: Principal,
    key: Key,
    q: DeleteParams,
) -> ApiResult<Response> {
    let hard = q.hard_delete.unwrap_or(false);
    if hard && p.role < Role::Admin {
        return Err(ApiError::Forbidden(format!(
            "hardDelete needs the admin role; token {:?} has {:?}",
            p.name, p.role
        )));
    }
    let recursive = q.recursive.unwrap_or(false);
    let op = DeleteEntity {
        ty: kind.ty,
        key,
        hard,
        recursive,
    };
    answer_doc(kind, &state, &p, op).await
}

async fn restore(
    kind: &'static Kind,
    state: AppState,
    who: Principal,
    r: Restore,
) -> ApiResult<Response> {
    let op = RestoreEntity {
        ty: kind.ty,
        id: r.id,
    };
    answer_doc(kind, &state, &who, op).await
}

/// `table` -> `Table`, `databaseService` -> `DatabaseService`.
fn type_title(ty: EntityType) -> String {
    let s = ty.as_str();
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn string() -> Schema {
    Schema::Object(ObjectBuilder::new().schema_type(Type::String).build())
}

fn any() -> Schema {
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(SchemaType::AnyValue)
            .build(),
    )
}

fn enum_of(values: &[&str]) -> Schema {
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(values.iter().copied()))
            .build(),
    )
}

/// A column of a create request (nested `children` have the same shape).
fn column_schema() -> Schema {
    let children = ArrayBuilder::new().items(RefOr::T(any())).build();
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("name", string())
            .required("name")
            .property("dataType", enum_of(DATA_TYPES))
            .required("dataType")
            .property("dataTypeDisplay", string())
            .property("dataLength", any())
            .property("description", string())
            .property("children", children)
            .build(),
    )
}

/// The create request of a kind: `name`, the parent's FQN, the stored fields.
fn create_schema(kind: &Kind) -> Schema {
    let mut b = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(format!(
            "OpenMetadata's create request for a {}; other fields are refused with 400.",
            kind.ty
        )))
        .property("name", string())
        .required("name");
    if let Some((field, pty)) = kind.parent {
        b = b
            .property(
                field,
                Schema::Object(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .description(Some(format!("Fully qualified name of the {pty}.")))
                        .build(),
                ),
            )
            .required(field);
    }
    for f in kind.fields {
        let s = match *f {
            "columns" => {
                Schema::Array(ArrayBuilder::new().items(RefOr::T(column_schema())).build())
            }
            "tableType" => enum_of(TABLE_TYPES),
            "description" | "displayName" | "serviceType" | "sourceUrl" => string(),
            _ => any(),
        };
        b = b.property(*f, s);
    }
    for r in kind.required {
        b = b.required(*r);
    }
    Schema::Object(b.build())
}

/// Every route of one collection, documented.
fn collection_routes(kind: &'static Kind) -> ApiRouter {
    let base = format!("/api/v1/{}", kind.collection);
    let t = kind.ty.as_str();
    let title = type_title(kind.ty);
    let entity = |op: Op, status: u16, what: &str| entity_answer(kind, op, status, what);
    let create = |op: Op| -> Op {
        let mut op = op;
        let schema = op.named(&format!("Create{title}"), create_schema(kind));
        op.body_with("application/json", schema, "The create request.")
    };
    let page_schema = |op: Op| -> Op {
        op.answers_with(
            200,
            "application/json",
            any_object(&format!(
                "A page: `data` ({title} documents), `paging` (`before`, `after` cursors, `total`)."
            )),
            "A page of entities",
        )
    };
    let by_id = format!("{base}/{{id}}");
    let by_name = format!("{base}/name/{{fqn}}");
    let id_doc = format!("The {t}'s UUID.");
    let fqn_doc = format!("The {t}'s fully qualified name.");
    ApiRouter::new()
        .route(
            Method::GET,
            &base,
            move |State(s): State<AppState>,
                  Extension(p): Extension<Principal>,
                  Query(q): Query<ListQuery>| { list(kind, s, p, q) },
            page_schema(Op::new("entities", format!("List {t} entities")).query::<ListQuery>()),
        )
        .route(
            Method::PUT,
            &base,
            move |State(s): State<AppState>,
                  Extension(p): Extension<Principal>,
                  Json(b): Json<Value>| { write_one(kind, s, p, b, Mode::Upsert) },
            entity(
                create(Op::new("entities", format!("Create or update a {t}"))),
                200,
                "Updated (201 when created)",
            ),
        )
        .route(
            Method::POST,
            &base,
            move |State(s): State<AppState>,
                  Extension(p): Extension<Principal>,
                  Json(b): Json<Value>| { write_one(kind, s, p, b, Mode::Create) },
            entity(
                create(Op::new(
                    "entities",
                    format!("Create a {t} (409 if it exists)"),
                )),
                201,
                "Created",
            ),
        )
        .route(
            Method::PUT,
            &format!("{base}/bulk"),
            move |State(s): State<AppState>,
                  Extension(p): Extension<Principal>,
                  Query(q): Query<BulkParams>,
                  Json(b): Json<Value>| { bulk(kind, s, p, q, b) },
            Op::new(
                "entities",
                format!("Create or update many {t} entities (each on its own)"),
            )
            .query::<BulkParams>()
            .body_with(
                "application/json",
                Schema::Array(
                    ArrayBuilder::new()
                        .items(RefOr::T(create_schema(kind)))
                        .max_items(Some(MAX_BULK))
                        .build(),
                ),
                "An array of create requests.",
            )
            .answers_with(
                200,
                "application/json",
                any_object("OpenMetadata's BulkOperationResult: status (success, partialSuccess, failure), numberOfRowsProcessed/Passed/Failed, successRequest[] and failedRequest[] ({request, message, status})."),
                "What was written and what was refused, per request",
            ),
        )
        .route(
            Method::PUT,
            &format!("{base}/restore"),
            move |State(s): State<AppState>,
                  Extension(p): Extension<Principal>,
                  Json(r): Json<Restore>| { restore(kind, s, p, r) },
            entity(
                Op::new("entities", format!("Restore a soft-deleted {t}"))
                    .body::<Restore>("The entity to restore."),
                200,
                "Restored",
            ),
        )
        .route(
            Method::GET,
            &format!("{by_id}/versions"),
            move |State(s): State<AppState>,
                  Extension(p): Extension<Principal>,
                  Path(id): Path<String>| { versions(kind, s, p, id) },
            Op::new("entities", format!("List a {t}'s versions"))
                .path_uuid("id", &id_doc)
                .answers_with(
                    200,
                    "application/json",
                    any_object("OpenMetadata's EntityHistory: `entityType`, `versions` (each version's document as JSON text, newest first; each update's document carries a `changeDescription`)."),
                    "Every version",
                ),
        )
        .route(
            Method::GET,
            &format!("{by_id}/versions/{{version}}"),
            move |State(s): State<AppState>,
                  Extension(p): Extension<Principal>,
                  Path((id, v)): Path<(String, String)>| { version(kind, s, p, id, v) },
            entity(
                Op::new("entities", format!("Get a {t} as it was at one version"))
                    .path_uuid("id", &id_doc)
                    .path("version", "The version, e.g. 0.2."),
                200,
                "The document at that version",
            ),
        )
        .merge(keyed_routes(
            kind,
            &by_id,
            |op| op.path_uuid("id", &id_doc),
            "id",
        ))
        .merge(keyed_routes(
            kind,
            &by_name,
            |op| op.path("fqn", &fqn_doc),
            "fully qualified name",
        ))
}

/// GET, PATCH and DELETE of one entity at `path` (by id or by name: [`EntityKey`]
/// reads whichever the path names).
fn keyed_routes(
    kind: &'static Kind,
    path: &str,
    key_param: impl Fn(Op) -> Op,
    by: &str,
) -> ApiRouter {
    let t = kind.ty.as_str();
    let entity = |op: Op, what: &str| entity_answer(kind, op, 200, what);
    ApiRouter::new()
        .route(
            Method::GET,
            path,
            move |State(s): State<AppState>,
                  Extension(p): Extension<Principal>,
                  EntityKey(key): EntityKey,
                  Query(q): Query<GetParams>| { get_one(kind, s, p, key, q) },
            entity(
                key_param(Op::new("entities", format!("Get a {t} by {by}"))).query::<GetParams>(),
                "The entity",
            ),
        )
        .route(
            Method::PATCH,
            path,
            move |State(s): State<AppState>,
                  h: HeaderMap,
                  Extension(p): Extension<Principal>,
                  EntityKey(key): EntityKey,
                  body: axum::body::Bytes| { patch_one(kind, s, h, p, key, body) },
            entity(
                key_param(json_patch_op(Op::new(
                    "entities",
                    format!("JSON Patch (RFC 6902) a {t} by {by}"),
                ))),
                "The patched entity",
            ),
        )
        .route(
            Method::DELETE,
            path,
            move |State(s): State<AppState>,
                  Extension(p): Extension<Principal>,
                  EntityKey(key): EntityKey,
                  Query(q): Query<DeleteParams>| { delete_one(kind, s, p, key, q) },
            entity(
                key_param(Op::new("entities", format!("Delete a {t} by {by}")))
                    .query::<DeleteParams>(),
                "The deleted entity",
            ),
        )
}

/// An entity named by the path: `{id}` (a UUID) or `{fqn}`.
pub struct EntityKey(pub Key);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for EntityKey {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        let Path(params): Path<std::collections::HashMap<String, String>> =
            Path::from_request_parts(parts, state).await?;
        match (params.get("id"), params.get("fqn")) {
            (Some(id), _) => Ok(EntityKey(Key::Id(parse_uuid("id", id)?))),
            (None, Some(fqn)) => Ok(EntityKey(Key::Fqn(fqn.clone()))),
            (None, None) => Err(ApiError::Internal(
                "entity route without {id} or {fqn}".into(),
            )),
        }
    }
}

/// `op` answering a document of `kind` with `status`.
fn entity_answer(kind: &Kind, mut op: Op, status: u16, what: &str) -> Op {
    let t = kind.ty.as_str();
    let schema = op.named(
        &type_title(kind.ty),
        any_object(&format!(
            "A {t} document in OpenMetadata 1.11's shape: id, name, fullyQualifiedName, version, updatedAt, updatedBy, deleted, href, the parent references and the stored create-request fields."
        )),
    );
    op.answers_with(status, "application/json", schema, what)
}

/// An RFC 6902 JSON Patch request body.
pub fn json_patch_op(op: Op) -> Op {
    let item = Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property(
                "op",
                enum_of(&["add", "remove", "replace", "move", "copy", "test"]),
            )
            .required("op")
            .property("path", string())
            .required("path")
            .property("from", string())
            .property("value", any())
            .build(),
    );
    op.body_with(
        "application/json-patch+json",
        Schema::Array(ArrayBuilder::new().items(RefOr::T(item)).build()),
        "An RFC 6902 JSON Patch.",
    )
}

/// The routes of every collection.
pub fn routes() -> ApiRouter {
    kinds::ALL
        .iter()
        .fold(ApiRouter::new(), |r, kind| r.merge(collection_routes(kind)))
}

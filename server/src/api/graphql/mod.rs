//! The GraphQL API at `/api/graphql`: one schema over the same domain layer as REST.
//!
//! Queries (`query.rs`): `entity`, `search`, `lineage`, `columnLineage`, `impact`,
//! `paths`; mutations (`mutation.rs`, editor role): `addLineage`, `deleteLineage`,
//! `lineageFromSql`; object types (`types.rs`). Resolvers stay thin: parse arguments,
//! one domain call through [`crate::api::blocking`], map the typed answer. Depth and
//! complexity are limited; the SDL is committed at `server/schema.graphql` and a test
//! fails when the code drifts from it. Errors carry `extensions.code` (`errors.rs`).

pub mod mutation;
pub mod query;
pub mod types;

use async_graphql::{Context, EmptySubscription, Schema};
use axum::http::Method;

use crate::api::AppState;
use crate::api::auth::{Principal, Role};
use crate::api::errors::{ApiError, graphql_error};
use crate::api::openapi::{ApiRouter, Op, any_object};
use crate::domain::Actor;
pub use mutation::MutationRoot;
pub use query::QueryRoot;

/// The schema type.
pub type HwSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Deepest nesting of a query. GraphiQL's standard introspection query (its `TypeRef`
/// fragment nests `ofType` nine times) needs 15; depth bombs are deeper, and floods of
/// cheap fields are refused by [`MAX_FIELDS`] and the complexity budget anyway.
pub const MAX_DEPTH: usize = 20;

/// Most complexity one request may have. Every field costs 1 plus its children; a
/// list costs its page size times its children; a field that walks the graph costs
/// [`TRAVERSAL_COST`] more (see the `complexity` of each field in `query.rs`). A query
/// over the budget is refused before anything runs.
pub const MAX_COMPLEXITY: usize = 100_000;

/// What a field that walks the graph (lineage, impact, column lineage, paths) costs on
/// top of its answer: the traversal's own work, bounded by the node budget.
pub const TRAVERSAL_COST: usize = 2_000;

/// Longest query document, bytes (variables not counted): what a person or a tool
/// writes is far smaller; a longer one is an alias or field flood.
pub const MAX_QUERY_BYTES: usize = 32 * 1024;

/// Largest answer, bytes.
pub const MAX_RESPONSE_BYTES: usize = 32 << 20;

/// Most fields (aliases and fragment uses included) one query selects.
pub const MAX_FIELDS: usize = 2_000;

/// Most introspection roots (`__schema`, `__type`) one query selects: a client needs
/// one; each answers the whole schema.
pub const MAX_INTROSPECTIONS: usize = 2;

/// Fields and introspection roots a document selects, fragments expanded where they
/// are used; counting stops past the limits.
fn selected(doc: &async_graphql::parser::types::ExecutableDocument) -> (usize, usize) {
    use async_graphql::parser::types::{Selection, SelectionSet};
    fn walk(
        set: &SelectionSet,
        doc: &async_graphql::parser::types::ExecutableDocument,
        depth: usize,
        n: &mut (usize, usize),
    ) {
        for item in &set.items {
            if n.0 > MAX_FIELDS || depth > 32 {
                return;
            }
            match &item.node {
                Selection::Field(f) => {
                    n.0 += 1;
                    if matches!(f.node.name.node.as_str(), "__schema" | "__type") {
                        n.1 += 1;
                    }
                    walk(&f.node.selection_set.node, doc, depth + 1, n);
                }
                Selection::InlineFragment(f) => walk(&f.node.selection_set.node, doc, depth + 1, n),
                Selection::FragmentSpread(s) => {
                    if let Some(f) = doc.fragments.get(&s.node.fragment_name.node) {
                        walk(&f.node.selection_set.node, doc, depth + 1, n);
                    }
                }
            }
        }
    }
    let mut n = (0, 0);
    for (_, op) in doc.operations.iter() {
        walk(&op.node.selection_set.node, doc, 0, &mut n);
    }
    n
}

/// Refuses a query document that is too long or selects too much, before it is
/// validated or run.
fn check_document(query: &str) -> Result<(), ApiError> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(ApiError::bad(format!(
            "the query document is {} bytes; at most {MAX_QUERY_BYTES} are accepted (use variables for large values)",
            query.len()
        )));
    }
    // A document that does not parse is left to the executor, which says where.
    let Ok(doc) = async_graphql::parser::parse_query(query) else {
        return Ok(());
    };
    let (fields, introspections) = selected(&doc);
    if fields > MAX_FIELDS {
        return Err(ApiError::bad(format!(
            "the query selects more than {MAX_FIELDS} fields (aliases and fragment uses counted)"
        )));
    }
    if introspections > MAX_INTROSPECTIONS {
        return Err(ApiError::bad(format!(
            "the query has {introspections} introspection roots (__schema, __type); at most {MAX_INTROSPECTIONS}"
        )));
    }
    Ok(())
}

/// Builds the schema, with depth, complexity and directive limits. Each request carries
/// the [`AppState`] and the caller's [`Principal`] as request data.
pub fn schema() -> HwSchema {
    Schema::build(QueryRoot, MutationRoot, EmptySubscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_recursive_depth(32)
        .limit_directives(16)
        .finish()
}

/// The SDL of the schema (what `server/schema.graphql` must hold).
pub fn sdl() -> String {
    schema().sdl()
}

/// `POST /api/graphql` (and GET with a query string).
///
/// The query document is checked for size before it is parsed; validation (depth,
/// complexity) refuses a query before any resolver runs; resolvers run on the blocking
/// pool under the server's request timeout; an answer over [`MAX_RESPONSE_BYTES`] is
/// replaced by an error.
async fn handler(
    axum::extract::State(state): axum::extract::State<AppState>,
    axum::Extension(principal): axum::Extension<Principal>,
    req: async_graphql_axum::GraphQLRequest,
) -> axum::response::Response {
    let req = req.into_inner();
    if let Err(e) = check_document(&req.query) {
        return refused(e);
    }
    let schema = state.graphql.clone();
    let resp = schema.execute(req.data(state).data(principal)).await;
    match serde_json::to_vec(&resp) {
        Ok(body) if body.len() <= MAX_RESPONSE_BYTES => json_body(body),
        Ok(body) => refused(ApiError::bad(format!(
            "the answer would be {} bytes; at most {MAX_RESPONSE_BYTES} are sent: ask for fewer fields or a smaller page",
            body.len()
        ))),
        Err(e) => refused(ApiError::Internal(format!(
            "serializing a GraphQL answer: {e}"
        ))),
    }
}

fn json_body(body: Vec<u8>) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// A GraphQL answer carrying one error and no data.
fn refused(e: ApiError) -> axum::response::Response {
    let resp = async_graphql::Response::from_errors(vec![
        graphql_error(e).into_server_error(async_graphql::Pos::default()),
    ]);
    json_body(serde_json::to_vec(&resp).unwrap_or_default())
}

/// The GraphQL endpoint, documented.
pub fn routes() -> ApiRouter {
    let op = |summary: &str| {
        Op::new("graphql", summary)
            .describe("Queries need a viewer token, mutations an editor token. The schema is in `server/schema.graphql`; `/graphiql` is an explorer.")
            .answers_with(
                200,
                "application/json",
                any_object("`{\"data\": ..., \"errors\": [{\"message\", \"extensions\": {\"code\"}}]}`"),
                "The GraphQL response",
            )
    };
    ApiRouter::new()
        .route(
            Method::POST,
            "/api/graphql",
            handler,
            op("Run a GraphQL query or mutation").body_with(
                "application/json",
                any_object(
                    "`{\"query\": \"...\", \"variables\": {...}, \"operationName\": \"...\"}`",
                ),
                "A GraphQL request.",
            ),
        )
        .route(
            Method::GET,
            "/api/graphql",
            handler,
            op("Run a GraphQL query given in the query string (`?query=...`)"),
        )
}

pub(crate) type R<T> = async_graphql::Result<T>;

pub(crate) fn state<'a>(ctx: &Context<'a>) -> R<&'a AppState> {
    ctx.data::<AppState>()
}

/// The acting user of a mutation; refuses callers below the editor role.
pub(crate) fn editor(ctx: &Context<'_>) -> R<Actor> {
    let p = ctx.data::<Principal>()?;
    if p.role < Role::Editor {
        return Err(graphql_error(ApiError::Forbidden(format!(
            "mutations need the editor role; token {:?} has {:?}",
            p.name, p.role
        ))));
    }
    Ok(Actor(p.name.clone()))
}

/// An opaque page cursor for `offset`.
pub(crate) fn cursor(offset: usize) -> String {
    crate::domain::encode_cursor(&offset.to_string())
}

/// The offset a cursor stands for (0 without one).
pub(crate) fn offset(after: Option<String>) -> R<usize> {
    match after {
        None => Ok(0),
        Some(c) => {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| {
                    graphql_error(ApiError::bad(format!(
                        "after: {c:?} is not a cursor this server issued"
                    )))
                })
        }
    }
}

/// A page size argument, checked.
pub(crate) fn page_size(first: i32, max: i32) -> R<usize> {
    if first < 0 || first > max {
        return Err(graphql_error(ApiError::bad(format!(
            "first must be between 0 and {max}"
        ))));
    }
    Ok(first as usize)
}

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

/// Builds the schema, with depth and complexity limits. Each request carries the
/// [`AppState`] and the caller's [`Principal`] as request data.
pub fn schema() -> HwSchema {
    Schema::build(QueryRoot, MutationRoot, EmptySubscription)
        .limit_depth(12)
        .limit_complexity(20_000)
        .finish()
}

/// The SDL of the schema (what `server/schema.graphql` must hold).
pub fn sdl() -> String {
    schema().sdl()
}

/// `POST /api/graphql` (and GET with a query string).
async fn handler(
    axum::extract::State(state): axum::extract::State<AppState>,
    axum::Extension(principal): axum::Extension<Principal>,
    req: async_graphql_axum::GraphQLRequest,
) -> async_graphql_axum::GraphQLResponse {
    let schema = state.graphql.clone();
    schema
        .execute(req.into_inner().data(state).data(principal))
        .await
        .into()
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

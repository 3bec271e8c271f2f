//! The OpenAPI 3 document (`/api/v1/openapi.json`), built with utoipa from the route
//! table below, and the API docs page (`/api/docs`, Swagger UI vendored into the
//! binary by `utoipa-swagger-ui`'s `vendored` feature: no CDN).
//!
//! A router test walks [`documented_routes`] and checks each one is served, so the
//! document cannot list an endpoint that does not exist.

use axum::Router;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItemBuilder,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Required,
    ResponseBuilder, SecurityRequirement,
};
use utoipa_swagger_ui::SwaggerUi;

use crate::AppState;
use crate::kinds;

/// One documented endpoint: method, path (axum syntax), tag, summary.
pub type RouteDoc = (&'static str, String, &'static str, String);

/// Every endpoint the server answers (entity routes once per collection).
pub fn documented_routes() -> Vec<RouteDoc> {
    let mut r: Vec<RouteDoc> = Vec::new();
    for k in kinds::ALL {
        let base = format!("/api/v1/{}", k.collection);
        let t = k.ty.as_str();
        r.push((
            "get",
            base.clone(),
            "entities",
            format!("List {t} entities (limit, before, after, include, fields, parent filters)"),
        ));
        r.push((
            "put",
            base.clone(),
            "entities",
            format!("Create or update a {t} from its OpenMetadata create request"),
        ));
        r.push((
            "post",
            base.clone(),
            "entities",
            format!("Create a {t} (409 if it exists)"),
        ));
        r.push((
            "put",
            format!("{base}/restore"),
            "entities",
            format!("Restore a soft-deleted {t}"),
        ));
        r.push((
            "get",
            format!("{base}/{{id}}"),
            "entities",
            format!("Get a {t} by id"),
        ));
        r.push((
            "patch",
            format!("{base}/{{id}}"),
            "entities",
            format!("JSON Patch (RFC 6902) a {t} by id"),
        ));
        r.push((
            "delete",
            format!("{base}/{{id}}"),
            "entities",
            format!("Delete a {t} by id (hardDelete, recursive)"),
        ));
        r.push((
            "get",
            format!("{base}/name/{{fqn}}"),
            "entities",
            format!("Get a {t} by fully qualified name"),
        ));
        r.push((
            "patch",
            format!("{base}/name/{{fqn}}"),
            "entities",
            format!("JSON Patch a {t} by name"),
        ));
        r.push((
            "delete",
            format!("{base}/name/{{fqn}}"),
            "entities",
            format!("Delete a {t} by name"),
        ));
    }
    let fixed: &[(&str, &str, &str, &str)] = &[
        (
            "put",
            "/api/v1/lineage",
            "lineage",
            "Add or replace a lineage edge (AddLineage)",
        ),
        (
            "get",
            "/api/v1/lineage/{ty}/{id}",
            "lineage",
            "Lineage of an entity by id (upstreamDepth, downstreamDepth)",
        ),
        (
            "get",
            "/api/v1/lineage/{ty}/name/{fqn}",
            "lineage",
            "Lineage of an entity by name",
        ),
        (
            "get",
            "/api/v1/lineage/getLineageEdge/{from}/{to}",
            "lineage",
            "Details of one edge",
        ),
        (
            "patch",
            "/api/v1/lineage/{ft}/{fid}/{tt}/{tid}",
            "lineage",
            "JSON Patch an edge's details",
        ),
        (
            "delete",
            "/api/v1/lineage/{ft}/{fid}/{tt}/{tid}",
            "lineage",
            "Delete an edge by ids",
        ),
        (
            "delete",
            "/api/v1/lineage/{ft}/name/{ff}/{tt}/name/{tf}",
            "lineage",
            "Delete an edge by names",
        ),
        (
            "delete",
            "/api/v1/lineage/{ty}/{id}/type/{source}",
            "lineage",
            "Delete an entity's upstream edges of one source",
        ),
        (
            "get",
            "/api/v1/lineage/getLineage",
            "lineage",
            "Search-style lineage (fqn, type, depths, from, size)",
        ),
        (
            "get",
            "/api/v1/lineage/getPaginationInfo",
            "lineage",
            "Entity counts per depth",
        ),
        (
            "get",
            "/api/v1/lineage/export",
            "lineage",
            "Lineage edges as CSV",
        ),
        (
            "get",
            "/api/v1/lineage/column/name/{fqn}",
            "lineage",
            "Column lineage across tables",
        ),
        (
            "get",
            "/api/v1/lineage/impact/{ty}/name/{fqn}",
            "lineage",
            "Downstream impact: counts by depth and type (depth optional: unbounded)",
        ),
        (
            "post",
            "/api/v1/lineage/sql",
            "lineage",
            "Lineage from SQL, parsed server-side",
        ),
        (
            "post",
            "/api/v1/lineage/sql/batch",
            "lineage",
            "Lineage from a query log",
        ),
        (
            "get",
            "/api/v1/search/query",
            "search",
            "Search names, FQNs, descriptions (q, index, from, size)",
        ),
        (
            "get",
            "/api/v1/search/fieldQuery",
            "search",
            "Search one field; fullyQualifiedName takes * wildcards",
        ),
        (
            "get",
            "/api/v1/system/version",
            "system",
            "OpenMetadata API level and Headwaters version",
        ),
        (
            "post",
            "/api/v1/system/tokens",
            "system",
            "Mint a token (admin)",
        ),
        ("get", "/healthz", "system", "Liveness"),
        ("get", "/readyz", "system", "Readiness"),
        ("get", "/metrics", "system", "Prometheus metrics"),
    ];
    for (m, p, t, s) in fixed {
        r.push((m, p.to_string(), t, s.to_string()));
    }
    r
}

fn method(m: &str) -> HttpMethod {
    match m {
        "get" => HttpMethod::Get,
        "put" => HttpMethod::Put,
        "post" => HttpMethod::Post,
        "patch" => HttpMethod::Patch,
        _ => HttpMethod::Delete,
    }
}

/// The OpenAPI document.
pub fn document() -> OpenApi {
    let mut by_path: std::collections::BTreeMap<String, PathItemBuilder> = Default::default();
    for (m, path, tag, summary) in documented_routes() {
        let mut op = OperationBuilder::new()
            .summary(Some(summary))
            .tag(tag)
            .response("200", ResponseBuilder::new().description("OK").build())
            .response(
                "4XX",
                ResponseBuilder::new()
                    .description("{\"code\": status, \"message\": \"what and where\"}")
                    .build(),
            );
        for seg in path.split('/') {
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                op = op.parameter(
                    ParameterBuilder::new()
                        .name(name)
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True)
                        .build(),
                );
            }
        }
        let item = by_path.remove(&path).unwrap_or_default();
        by_path.insert(path, item.operation(method(m), op.build()));
    }
    let mut paths = PathsBuilder::new();
    for (p, item) in by_path {
        paths = paths.path(p, item.build());
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Headwaters")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Lineage service with OpenMetadata-compatible REST endpoints. Authenticate with `Authorization: Bearer <token>` (`headwaters token create`).",
                ))
                .build(),
        )
        .paths(paths.build())
        .components(Some(
            ComponentsBuilder::new()
                .security_scheme(
                    "bearer",
                    SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
                )
                .build(),
        ))
        .security(Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]))
        .build()
}

/// `/api/v1/openapi.json` and the docs page at `/api/docs`.
pub fn routes() -> Router<AppState> {
    Router::new().merge(SwaggerUi::new("/api/docs").url("/api/v1/openapi.json", document()))
}

//! The OpenAPI 3.1 document (`/api/v1/openapi.json`), generated from the routes
//! themselves, and the API docs page (`/api/docs`, Swagger UI vendored into the binary:
//! no CDN).
//!
//! Every REST route is added through [`ApiRouter::route`], which takes the handler and
//! its [`Op`] (tag, summary, typed path parameters, query parameters, request body and
//! response schemas) together: a route cannot be served without being documented. A
//! path parameter of the path that the [`Op`] does not declare (or the reverse) is a
//! programming error caught when the router is built, so by every test.
//!
//! ```text
//!   rest::entities::routes() ─┐
//!   rest::lineage::routes()  ─┼─> ApiRouter ──split──> axum Router (served)
//!   ...                      ─┘                  └──> Spec ──> OpenApi (documented)
//! ```

use std::collections::BTreeMap;

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::response::IntoResponse;
use axum::routing::{MethodFilter, MethodRouter};
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, Parameter, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr,
    Required, ResponseBuilder, SecurityRequirement,
};
use utoipa::{IntoParams, PartialSchema, ToSchema};
use utoipa_swagger_ui::SwaggerUi;

use super::AppState;

/// Tags in the order the document (and so the docs page) lists them: lineage first.
pub const TAGS: &[(&str, &str)] = &[
    (
        "lineage",
        "Table and column lineage: traversals, edges, impact, export (OpenMetadata's lineage API plus Headwaters' own reads).",
    ),
    ("sql", "Lineage from SQL, one text or a query log."),
    (
        "openlineage",
        "The OpenLineage HTTP transport's endpoints (also Marquez's `POST /api/v1/lineage`) and the runs received.",
    ),
    (
        "marquez",
        "Marquez's read API (namespaces, datasets, jobs, runs, lineage, column lineage, search) over the same graph.",
    ),
    ("dbt", "Import a dbt project's manifest and catalog."),
    (
        "graphql",
        "The GraphQL endpoint (schema in `server/schema.graphql`).",
    ),
    (
        "search",
        "Search entities (OpenMetadata's Elasticsearch-shaped answers).",
    ),
    (
        "entities",
        "OpenMetadata entity collections: services, databases, schemas, tables, dashboards, pipelines, topics, ...",
    ),
    ("system", "Version, tokens, health, metrics."),
];

/// One documented operation: what [`ApiRouter::route`] needs besides the handler.
#[derive(Clone)]
pub struct Op {
    tag: &'static str,
    summary: String,
    description: Option<String>,
    params: Vec<Parameter>,
    body: Option<utoipa::openapi::request_body::RequestBody>,
    responses: Vec<(String, utoipa::openapi::Response)>,
    schemas: Vec<(String, RefOr<Schema>)>,
    public: bool,
}

fn string_schema(format: Option<KnownFormat>) -> Schema {
    let mut b = ObjectBuilder::new().schema_type(Type::String);
    if let Some(f) = format {
        b = b.format(Some(SchemaFormat::KnownFormat(f)));
    }
    Schema::Object(b.build())
}

/// A JSON object schema that takes any properties (OpenMetadata documents, whose
/// fields are listed in the description).
pub fn any_object(description: &str) -> Schema {
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(description))
            .build(),
    )
}

impl Op {
    /// An operation under `tag` with a one-line summary.
    pub fn new(tag: &'static str, summary: impl Into<String>) -> Op {
        debug_assert!(TAGS.iter().any(|(t, _)| *t == tag), "unknown tag {tag}");
        Op {
            tag,
            summary: summary.into(),
            description: None,
            params: Vec::new(),
            body: None,
            responses: Vec::new(),
            schemas: Vec::new(),
            public: false,
        }
    }

    /// Longer text.
    pub fn describe(mut self, text: impl Into<String>) -> Op {
        self.description = Some(text.into());
        self
    }

    /// Callable without a token.
    pub fn public(mut self) -> Op {
        self.public = true;
        self
    }

    fn path_param(mut self, name: &str, description: &str, schema: Schema) -> Op {
        self.params.push(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some(description))
                .schema(Some(schema))
                .build(),
        );
        self
    }

    /// A string path parameter.
    pub fn path(self, name: &str, description: &str) -> Op {
        self.path_param(name, description, string_schema(None))
    }

    /// A UUID path parameter.
    pub fn path_uuid(self, name: &str, description: &str) -> Op {
        self.path_param(name, description, string_schema(Some(KnownFormat::Uuid)))
    }

    /// An entity type path parameter (`table`, `dashboard`, ...).
    pub fn path_type(self, name: &str, description: &str) -> Op {
        let types: Vec<&str> = headwaters_engine::EntityType::ALL
            .iter()
            .map(|t| t.as_str())
            .collect();
        let schema = Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(types))
                .build(),
        );
        self.path_param(name, description, schema)
    }

    /// Query parameters from a type deriving `IntoParams`. An optional parameter's
    /// type is its value's type (`string`, not `[string, null]`): optionality is the
    /// parameter's `required: false`, and clients that read parameter types as one
    /// name (OpenMetadata's REST connector) would drop the parameter otherwise.
    pub fn query<P: IntoParams>(mut self) -> Op {
        for mut p in P::into_params(|| Some(ParameterIn::Query)) {
            if let Some(RefOr::T(Schema::Object(o))) = &mut p.schema
                && let SchemaType::Array(types) = &o.schema_type
            {
                let non_null: Vec<Type> = types
                    .iter()
                    .filter(|t| **t != Type::Null)
                    .cloned()
                    .collect();
                if let [one] = non_null.as_slice() {
                    o.schema_type = SchemaType::Type(one.clone());
                }
            }
            self.params.push(p);
        }
        self
    }

    /// A schema registered under `name` in the document's components, referenced.
    pub fn named(&mut self, name: &str, schema: Schema) -> RefOr<Schema> {
        self.schemas.push((name.to_string(), RefOr::T(schema)));
        RefOr::Ref(Ref::from_schema_name(name))
    }

    fn collect<T: ToSchema>(&mut self) -> RefOr<Schema> {
        let name = T::name().to_string();
        self.schemas.push((name.clone(), T::schema()));
        T::schemas(&mut self.schemas);
        RefOr::Ref(Ref::from_schema_name(name))
    }

    /// A JSON request body of type `T`.
    pub fn body<T: ToSchema>(mut self, description: &str) -> Op {
        let schema = self.collect::<T>();
        self.body_with("application/json", schema, description)
    }

    /// A request body with an explicit content type and schema.
    pub fn body_with(
        mut self,
        content_type: &str,
        schema: impl Into<RefOr<Schema>>,
        description: &str,
    ) -> Op {
        self.body = Some(
            RequestBodyBuilder::new()
                .description(Some(description))
                .required(Some(Required::True))
                .content(
                    content_type,
                    ContentBuilder::new().schema(Some(schema)).build(),
                )
                .build(),
        );
        self
    }

    /// A JSON answer of type `T` with `status`.
    pub fn answers<T: ToSchema>(mut self, status: u16, description: &str) -> Op {
        let schema = self.collect::<T>();
        self.answers_with(status, "application/json", schema, description)
    }

    /// An answer with an explicit content type and schema.
    pub fn answers_with(
        mut self,
        status: u16,
        content_type: &str,
        schema: impl Into<RefOr<Schema>>,
        description: &str,
    ) -> Op {
        self.responses.push((
            status.to_string(),
            ResponseBuilder::new()
                .description(description)
                .content(
                    content_type,
                    ContentBuilder::new().schema(Some(schema)).build(),
                )
                .build(),
        ));
        self
    }

    /// An answer without a body.
    pub fn answers_empty(mut self, status: u16, description: &str) -> Op {
        self.responses.push((
            status.to_string(),
            ResponseBuilder::new().description(description).build(),
        ));
        self
    }

    fn path_names(&self) -> Vec<String> {
        self.params
            .iter()
            .filter(|p| p.parameter_in == ParameterIn::Path)
            .map(|p| p.name.clone())
            .collect()
    }

    fn into_operation(mut self, error_schema: RefOr<Schema>) -> Operation {
        let error = |d: &str| {
            ResponseBuilder::new()
                .description(d)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(error_schema.clone()))
                        .build(),
                )
                .build()
        };
        self.responses.push((
            "400".into(),
            error("Bad input; the message names the field or parameter."),
        ));
        if !self.public {
            self.responses
                .push(("401".into(), error("Missing, invalid or expired token.")));
            self.responses
                .push(("403".into(), error("The token's role is not enough.")));
            self.responses
                .push(("429".into(), error("Over the rate limit.")));
        }
        let mut op = OperationBuilder::new()
            .tag(self.tag)
            .summary(Some(self.summary))
            .description(self.description)
            .parameters(Some(self.params))
            .request_body(self.body);
        for (code, r) in self.responses {
            op = op.response(code, r);
        }
        if self.public {
            op = op.securities(Some(Vec::<SecurityRequirement>::new()));
        }
        op.build()
    }
}

/// `{"code": status, "message": "what and where"}`: every error answer.
#[derive(serde::Serialize, ToSchema)]
pub struct ErrorBody {
    /// The HTTP status.
    pub code: u16,
    /// What went wrong and where.
    pub message: String,
}

/// The paths and schemas of some routes.
#[derive(Default)]
pub struct Spec {
    /// `(path, method, operation)`.
    pub operations: Vec<(String, Method, Op)>,
}

/// An axum router that documents every route it serves.
#[derive(Default)]
pub struct ApiRouter {
    methods: BTreeMap<String, MethodRouter<AppState>>,
    spec: Spec,
}

/// The path parameters of an axum path (`/a/{x}/b/{y}` -> `x`, `y`).
fn path_params(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_string)
        .collect()
}

fn filter(m: &Method) -> MethodFilter {
    match *m {
        Method::GET => MethodFilter::GET,
        Method::PUT => MethodFilter::PUT,
        Method::POST => MethodFilter::POST,
        Method::PATCH => MethodFilter::PATCH,
        Method::DELETE => MethodFilter::DELETE,
        ref other => panic!("no route uses method {other}"),
    }
}

impl ApiRouter {
    /// An empty router.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `handler` for `method path`, documented by `op`.
    ///
    /// # Panics
    /// When the path's parameters and the ones `op` declares differ (a programming
    /// error, found by any test that builds the app).
    pub fn route<H, T>(mut self, method: Method, path: &str, handler: H, op: Op) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let (mut want, mut have) = (path_params(path), op.path_names());
        want.sort();
        have.sort();
        assert_eq!(
            want, have,
            "{method} {path}: path parameters and documented parameters differ"
        );
        let mr = self.methods.remove(path).unwrap_or_default();
        self.methods
            .insert(path.to_string(), mr.on(filter(&method), handler));
        self.spec.operations.push((path.to_string(), method, op));
        self
    }

    /// Both routers' routes.
    pub fn merge(mut self, other: ApiRouter) -> Self {
        for (path, mr) in other.methods {
            let merged = match self.methods.remove(&path) {
                Some(m) => m.merge(mr),
                None => mr,
            };
            self.methods.insert(path, merged);
        }
        self.spec.operations.extend(other.spec.operations);
        self
    }

    /// The axum router and the routes' documentation.
    pub fn split(self) -> (Router<AppState>, Spec) {
        let mut router = Router::new();
        for (path, mr) in self.methods {
            router = router.route(&path, mr);
        }
        (router, self.spec)
    }
}

fn http_method(m: &Method) -> HttpMethod {
    match *m {
        Method::GET => HttpMethod::Get,
        Method::PUT => HttpMethod::Put,
        Method::POST => HttpMethod::Post,
        Method::PATCH => HttpMethod::Patch,
        _ => HttpMethod::Delete,
    }
}

impl Spec {
    /// Both specs' operations.
    pub fn merge(mut self, other: Spec) -> Spec {
        self.operations.extend(other.operations);
        self
    }

    /// `(method, path)` of every documented operation, lower-case method.
    pub fn routes(&self) -> Vec<(String, String)> {
        self.operations
            .iter()
            .map(|(p, m, _)| (m.as_str().to_lowercase(), p.clone()))
            .collect()
    }

    /// The OpenAPI document.
    pub fn document(self) -> OpenApi {
        let mut schemas: BTreeMap<String, RefOr<Schema>> = BTreeMap::new();
        let error_ref = RefOr::Ref(Ref::from_schema_name("ErrorBody"));
        schemas.insert("ErrorBody".into(), ErrorBody::schema());
        let mut paths = Paths::new();
        for (path, method, op) in self.operations {
            for (name, schema) in &op.schemas {
                schemas
                    .entry(name.clone())
                    .or_insert_with(|| schema.clone());
            }
            let operation = op.into_operation(error_ref.clone());
            paths.add_path_operation(&path, vec![http_method(&method)], operation);
        }
        let mut components = ComponentsBuilder::new().security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        for (name, schema) in schemas {
            components = components.schema(name, schema);
        }
        OpenApiBuilder::new()
            .info(
                InfoBuilder::new()
                    .title("Headwaters")
                    .version(env!("CARGO_PKG_VERSION"))
                    .description(Some(
                        "Data-lineage service: table and column lineage over a graph engine, with OpenMetadata-compatible REST endpoints, OpenLineage and dbt ingestion, SQL lineage and GraphQL. Authenticate with `Authorization: Bearer <token>` or `X-API-Key: <token>` (`headwaters token create`). Also serves Marquez's read API (tag marquez) and the endpoints OpenMetadata's ingestion framework calls.",
                    ))
                    .build(),
            )
            .tags(Some(TAGS.iter().map(|(name, d)| {
                TagBuilder::new().name(*name).description(Some(*d)).build()
            })))
            .paths(paths)
            .components(Some(components.build()))
            .security(Some(vec![SecurityRequirement::new(
                "bearer",
                Vec::<String>::new(),
            )]))
            .build()
    }
}

/// The docs page at `/api/docs`, serving `document` at `/api/v1/openapi.json`; the
/// page is titled after the product, not the tool.
pub fn docs_routes(document: OpenApi) -> Router<AppState> {
    Router::new()
        .merge(SwaggerUi::new("/api/docs").url("/api/v1/openapi.json", document))
        .layer(axum::middleware::map_response(retitle))
}

/// Swagger UI's `index.html` with Headwaters' title (the page is small; other files
/// pass through untouched).
async fn retitle(res: axum::response::Response) -> axum::response::Response {
    const FROM: &[u8] = b"<title>Swagger UI</title>";
    const TO: &[u8] = b"<title>Headwaters API</title>";
    let html = res
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !html {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, 1 << 20).await {
        Ok(b) => b,
        Err(e) => {
            let msg = format!("the API docs page could not be read: {e}");
            return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, msg).into_response();
        }
    };
    let out = match bytes.windows(FROM.len()).position(|w| w == FROM) {
        Some(i) => [&bytes[..i], TO, &bytes[i + FROM.len()..]].concat(),
        None => bytes.to_vec(),
    };
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    axum::response::Response::from_parts(parts, axum::body::Body::from(out))
}

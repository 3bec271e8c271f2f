//! The one place where errors become HTTP answers and GraphQL errors.
//!
//! Every failure a handler can meet is an [`ApiError`]; it renders as OpenMetadata's
//! error body `{"code": <status>, "message": "..."}`, and in GraphQL as the message with
//! `extensions.code`. Domain user errors become 4xx by their variant (never by their
//! text); internal errors are logged with their cause chain and the request id and
//! answered with a generic 500 that does not echo internals. Extractor rejections (bad JSON, bad query
//! parameters, wrong content type, body too large) are converted here too, and
//! [`json_errors`] rewrites any plain-text error that a lower layer produced (unknown
//! route, wrong method, timeout) into the same JSON shape.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::domain::{Error as DomainError, UserError};
use serde_json::json;

/// An error on its way to the client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed; the message names the field or parameter.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: valid credentials without the role needed.
    #[error("{0}")]
    Forbidden(String),
    /// 404: the thing named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// 409: it already exists.
    #[error("{0}")]
    Conflict(String),
    /// 413: the body is over the limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 415: the body's content type is not one this endpoint takes.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 429: over the rate limit.
    #[error("{0}")]
    TooManyRequests(String),
    /// 408: the work ran past the request time budget.
    #[error("{0}")]
    Timeout(String),
    /// 503: a dependency (the cluster's log) is out of reach; retry later.
    #[error("{0}")]
    Unavailable(String),
    /// 500: our fault; the detail is logged, not sent (and not in `Display`).
    #[error("internal error")]
    Internal(String),
}

/// Result type of handlers and of the service layer.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message shown to the client (never internal detail).
    pub fn public_message(&self) -> String {
        match self {
            ApiError::Internal(_) => {
                "internal error; the server log has the details under this request's id".to_string()
            }
            other => other.to_string(),
        }
    }

    /// Shorthand for a 400.
    pub fn bad(msg: impl Into<String>) -> Self {
        ApiError::BadRequest(msg.into())
    }

    /// Shorthand for a 404.
    pub fn not_found(msg: impl Into<String>) -> Self {
        ApiError::NotFound(msg.into())
    }
}

/// `{"code": status, "message": msg}`.
pub fn error_body(status: StatusCode, message: &str) -> Response {
    let body = json!({"code": status.as_u16(), "message": message});
    (status, axum::Json(body)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            // The request id is on the enclosing tracing span.
            tracing::error!(error = %detail, "internal error");
        }
        error_body(self.status(), &self.public_message())
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::User(u) => u.into(),
            // The whole cause chain goes to the log, none of it to the client.
            DomainError::Internal(i) => ApiError::Internal(error_chain(&i)),
        }
    }
}

impl From<UserError> for ApiError {
    fn from(u: UserError) -> Self {
        match u {
            UserError::Invalid(m) => ApiError::BadRequest(m),
            UserError::NotFound(m) => ApiError::NotFound(m),
            UserError::Conflict(m) => ApiError::Conflict(m),
            UserError::OverBudget(m) => ApiError::Timeout(m),
        }
    }
}

/// An error and its sources, `outer: inner: ...`.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.ends_with(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
                "expected a JSON body with Content-Type: application/json".into(),
            ),
            JsonRejection::BytesRejection(b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::PayloadTooLarge("request body is over the size limit".into())
            }
            other => ApiError::BadRequest(format!("invalid JSON body: {}", other.body_text())),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::BadRequest(format!("invalid query parameter: {}", r.body_text()))
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::BadRequest(format!("invalid path parameter: {}", r.body_text()))
    }
}

/// `axum::Json` with rejections turned into [`ApiError`]s.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let axum::Json(v) = axum::Json::<T>::from_request(req, state).await?;
        Ok(Json(v))
    }
}

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Query` with rejections turned into [`ApiError`]s.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Query(v) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(Query(v))
    }
}

/// `axum::extract::Path` with rejections turned into [`ApiError`]s.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(v) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(Path(v))
    }
}

/// Rewrites error responses that are not JSON (produced by the router or a tower
/// layer: unknown route, wrong method, timeout, body limit) into `{"code","message"}`.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return resp;
    }
    let message = match status {
        StatusCode::NOT_FOUND => format!("no such endpoint: {method} {path}"),
        StatusCode::METHOD_NOT_ALLOWED => format!("method {method} is not allowed on {path}"),
        StatusCode::REQUEST_TIMEOUT => "the request took longer than the server's timeout".into(),
        StatusCode::PAYLOAD_TOO_LARGE => "request body is over the size limit".into(),
        s => {
            let (parts, body) = resp.into_parts();
            let text = axum::body::to_bytes(body, 64 * 1024)
                .await
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            let mut r = error_body(
                s,
                if text.is_empty() {
                    s.canonical_reason().unwrap_or("error")
                } else {
                    &text
                },
            );
            for (k, v) in parts.headers.iter() {
                if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
                    r.headers_mut().insert(k, v.clone());
                }
            }
            return r;
        }
    };
    let (parts, _) = resp.into_parts();
    let mut r = error_body(status, &message);
    for (k, v) in parts.headers.iter() {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            r.headers_mut().insert(k, v.clone());
        }
    }
    r
}

impl ApiError {
    /// The `extensions.code` of this error in GraphQL answers.
    pub fn graphql_code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "BAD_REQUEST",
            ApiError::Unauthorized(_) => "UNAUTHENTICATED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::Conflict(_) => "CONFLICT",
            ApiError::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            ApiError::UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            ApiError::TooManyRequests(_) => "RATE_LIMITED",
            ApiError::Timeout(_) => "TIMEOUT",
            ApiError::Unavailable(_) => "UNAVAILABLE",
            ApiError::Internal(_) => "INTERNAL",
        }
    }
}

/// The GraphQL form of an error: the public message and `extensions.code`.
pub fn graphql_error(e: ApiError) -> async_graphql::Error {
    use async_graphql::ErrorExtensions;
    if let ApiError::Internal(detail) = &e {
        tracing::error!(error = %detail, "internal error");
    }
    let code = e.graphql_code();
    async_graphql::Error::new(e.public_message()).extend_with(|_, ext| ext.set("code", code))
}

/// `.gql()?` turns domain and API errors into GraphQL errors with a code.
pub trait OrGraphql<T> {
    /// Converts the error.
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> OrGraphql<T> for Result<T, ApiError> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(graphql_error)
    }
}

impl<T> OrGraphql<T> for Result<T, DomainError> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|e| graphql_error(e.into()))
    }
}

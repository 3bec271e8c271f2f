//! `/api/v1/system/version` (public: the SDK checks it first) and
//! `/api/v1/system/tokens` (admin).

use axum::Extension;
use axum::extract::State;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::AppState;
use crate::api::auth::{Keys, Principal, Role, TokenInfo, TokenRegistry, parse_ttl};
use crate::api::errors::{ApiError, ApiResult, Json, Path};
use crate::api::openapi::{ApiRouter, Op};

/// `GET /api/v1/system/cluster`'s answer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterOut {
    /// False on a single node (the other fields are then absent).
    clustered: bool,
    /// The node's status (see `cluster::Status`).
    #[schema(value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<crate::cluster::Status>,
    /// With `digest=true`: SHA-256 of the store's content at `digestSequence`.
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<String>,
    /// The applied sequence the digest was taken at.
    #[serde(skip_serializing_if = "Option::is_none")]
    digest_sequence: Option<u64>,
    /// Entries hashed.
    #[serde(skip_serializing_if = "Option::is_none")]
    digest_entries: Option<u64>,
    /// Per column family: entries and digest (where two nodes differ).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    digest_families: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `GET /api/v1/system/cluster`'s parameters.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClusterParams {
    /// Also hash the whole store (seconds on a big graph; writes wait meanwhile).
    #[serde(default)]
    digest: bool,
}

/// `POST /api/v1/system/cluster/snapshot`'s body.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SnapshotRequest {
    /// Purge the log up to the snapshot (default true): nodes further behind then
    /// start from the snapshot.
    #[serde(default)]
    trim: Option<bool>,
    /// Log entries kept behind the snapshot when trimming (default 100,000), so nodes
    /// a little behind it catch up from the log instead of needing the snapshot.
    #[serde(default)]
    keep: Option<u64>,
}

async fn cluster_snapshot(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: SnapshotRequest = if body.iter().all(u8::is_ascii_whitespace) {
        SnapshotRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad(format!("snapshot options: {e}")))?
    };
    if p.role < Role::Admin {
        return Err(ApiError::Forbidden(format!(
            "snapshots need the admin role; token {:?} has {:?}",
            p.name, p.role
        )));
    }
    let Some(c) = s.cluster.get() else {
        return Err(ApiError::bad(
            "this server is a single node (no --cluster): copy its data directory instead",
        ));
    };
    let info = c
        .snapshot(
            &s.config.data_dir,
            req.trim
                .unwrap_or(true)
                .then(|| req.keep.unwrap_or(100_000)),
        )
        .await
        .map_err(|e| ApiError::Unavailable(format!("snapshot failed: {e:#}")))?;
    Ok(Json(info).into_response())
}

async fn cluster_status(
    State(s): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<ClusterParams>,
) -> ApiResult<Response> {
    let Some(c) = s.cluster.get() else {
        return Ok(Json(ClusterOut {
            clustered: false,
            status: None,
            digest: None,
            digest_sequence: None,
            digest_entries: None,
            digest_families: None,
        })
        .into_response());
    };
    let status = c.status();
    let digest = if q.digest {
        Some(
            c.digest()
                .await
                .map_err(|e| ApiError::Unavailable(format!("digest failed: {e}")))?,
        )
    } else {
        None
    };
    Ok(Json(ClusterOut {
        clustered: true,
        status: Some(status),
        digest_sequence: digest.as_ref().map(|d| d.applied),
        digest_entries: digest.as_ref().map(|d| d.entries),
        digest_families: digest.as_ref().map(|d| {
            d.families
                .iter()
                .map(|(f, n, h)| (f.clone(), serde_json::json!({"entries": n, "sha256": h})))
                .collect()
        }),
        digest: digest.map(|d| d.sha256),
    })
    .into_response())
}

/// `GET /api/v1/system/version`'s answer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Version {
    /// The OpenMetadata API level served.
    version: String,
    /// Build revision.
    revision: String,
    /// Build time (0: unknown).
    timestamp: u64,
    /// Headwaters' own version.
    headwaters_version: String,
}

async fn version(State(s): State<AppState>) -> Response {
    Json(Version {
        version: s.config.openmetadata_version.clone(),
        revision: option_env!("HEADWATERS_REVISION")
            .unwrap_or("unknown")
            .to_string(),
        timestamp: 0,
        headwaters_version: env!("CARGO_PKG_VERSION").to_string(),
    })
    .into_response()
}

/// Body of `POST /api/v1/system/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The token's name (its subject).
    name: String,
    /// `viewer`, `editor` or `admin`.
    role: String,
    /// Lifetime: `30d` (default), `12h`, `never`.
    #[serde(default)]
    expires: Option<String>,
}

/// A minted token.
#[derive(Serialize, ToSchema)]
pub struct TokenOut {
    /// The token's name.
    name: String,
    /// Its role.
    #[schema(value_type = String)]
    role: Role,
    /// The JWT to send as `Authorization: Bearer <token>`.
    token: String,
}

async fn create_token(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Json(r): Json<TokenRequest>,
) -> ApiResult<Response> {
    if p.role < Role::Admin {
        return Err(ApiError::Forbidden(
            "creating tokens needs the admin role".into(),
        ));
    }
    let role: Role = r
        .role
        .parse()
        .map_err(|e: String| ApiError::bad(format!("field role: {e}")))?;
    let ttl = parse_ttl(r.expires.as_deref().unwrap_or("30d"))
        .map_err(|e| ApiError::bad(format!("field expires: {e}")))?;
    let keys = s
        .keys
        .as_ref()
        .ok_or_else(|| ApiError::bad("this server runs with --no-auth; it has no tokens"))?;
    let token = keys.mint(&r.name, role, ttl).map_err(ApiError::bad)?;
    Ok(Json(TokenOut {
        name: r.name,
        role,
        token,
    })
    .into_response())
}

fn admin_registry<'a>(s: &'a AppState, p: &Principal) -> ApiResult<&'a TokenRegistry> {
    if p.role < Role::Admin {
        return Err(ApiError::Forbidden(
            "managing tokens needs the admin role".into(),
        ));
    }
    s.keys
        .as_ref()
        .and_then(Keys::registry)
        .ok_or_else(|| ApiError::bad("this server keeps no token registry (--no-auth)"))
}

/// The tokens minted here.
#[derive(Serialize, ToSchema)]
pub struct TokenList {
    /// Oldest first.
    data: Vec<TokenInfo>,
}

async fn list_tokens(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
) -> ApiResult<Response> {
    let data = admin_registry(&s, &p)?
        .list()
        .map_err(|e| ApiError::Internal(format!("reading the token registry: {e}")))?;
    Ok(Json(TokenList { data }).into_response())
}

async fn revoke_token(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let was_live = admin_registry(&s, &p)?
        .revoke(&id)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidInput => ApiError::bad(format!("token id: {e}")),
            _ => ApiError::Internal(format!("writing the token registry: {e}")),
        })?;
    Ok(Json(serde_json::json!({"id": id, "revoked": true, "wasLive": was_live})).into_response())
}

/// Token routes (admin).
pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .route(
            Method::POST,
            "/api/v1/system/cluster/snapshot",
            cluster_snapshot,
            Op::new(
                "system",
                "Snapshot this node's store into the cluster's object store and trim the log before it (admin)",
            )
            .body::<SnapshotRequest>("Options (an empty body takes the defaults).")
            .answers::<crate::cluster::SnapshotInfo>(200, "The snapshot"),
        )
        .route(
            Method::GET,
            "/api/v1/system/cluster",
            cluster_status,
            Op::new(
                "system",
                "This node's place in the cluster: applied sequence, lag, connection; with digest=true a digest of its whole store",
            )
            .query::<ClusterParams>()
            .answers::<ClusterOut>(200, "The node's status"),
        )
        .route(
            Method::POST,
            "/api/v1/system/tokens",
            create_token,
            Op::new("system", "Mint a token (admin)")
                .body::<TokenRequest>("Name, role and lifetime.")
                .answers::<TokenOut>(200, "The token"),
        )
        .route(
            Method::GET,
            "/api/v1/system/tokens",
            list_tokens,
            Op::new(
                "system",
                "List the tokens minted here, revoked ones marked (admin)",
            )
            .answers::<TokenList>(200, "The tokens"),
        )
        .route(
            Method::DELETE,
            "/api/v1/system/tokens/{id}",
            revoke_token,
            Op::new(
                "system",
                "Revoke a token by id; refused from the next request on (admin)",
            )
            .path("id", "The token's id (its `jti`).")
            .answers_with(
                200,
                "application/json",
                crate::api::openapi::any_object("`{\"id\", \"revoked\": true, \"wasLive\": bool}`"),
                "Revoked",
            ),
        )
}

/// The version route (public).
pub fn public_routes() -> ApiRouter {
    ApiRouter::new().route(
        Method::GET,
        "/api/v1/system/version",
        version,
        Op::new("system", "OpenMetadata API level and Headwaters version")
            .public()
            .answers::<Version>(200, "Versions"),
    )
}

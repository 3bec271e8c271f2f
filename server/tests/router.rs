//! Router tests: every endpoint through `tower::ServiceExt::oneshot` on the real app
//! (in-memory store), including error paths and auth.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use headwaters_engine::Store;
use headwaters_server::api::auth::{Keys, Role};
use headwaters_server::config::Config;
use headwaters_server::domain::secrets::Secrets;
use headwaters_server::{AppState, app};
use serde_json::{Value, json};
use tower::ServiceExt;

struct T {
    app: Router,
    state: AppState,
    keys_dir: tempfile::TempDir,
    admin: String,
    editor: String,
    viewer: String,
}

fn setup_with(cfg: Config) -> T {
    let cfg_store_secrets = cfg.store_secrets;
    let keys_dir = tempfile::tempdir().unwrap();
    let (keys, _) = Keys::hs256_in(keys_dir.path()).unwrap();
    let admin = keys.mint("root", Role::Admin, 600).unwrap();
    let editor = keys.mint("ed", Role::Editor, 600).unwrap();
    let viewer = keys.mint("vi", Role::Viewer, 600).unwrap();
    let state = AppState::new(
        Store::in_memory(),
        cfg,
        Some(keys),
        Secrets::ephemeral(cfg_store_secrets),
    )
    .unwrap();
    T {
        app: app(state.clone()),
        state,
        keys_dir,
        admin,
        editor,
        viewer,
    }
}

fn setup() -> T {
    setup_with(Config::default())
}

impl T {
    async fn raw(&self, req: Request<Body>) -> (StatusCode, Value, axum::http::HeaderMap) {
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        let v = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, v, headers)
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "hw.test");
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(v) => b
                .header(
                    header::CONTENT_TYPE,
                    if method == "PATCH" {
                        "application/json-patch+json"
                    } else {
                        "application/json"
                    },
                )
                .body(Body::from(v.to_string()))
                .unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        let (s, v, _) = self.raw(req).await;
        (s, v)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call("GET", path, Some(&self.viewer.clone()), None)
            .await
    }

    async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call("PUT", path, Some(&self.editor.clone()), Some(body))
            .await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call("POST", path, Some(&self.editor.clone()), Some(body))
            .await
    }

    async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call("PATCH", path, Some(&self.editor.clone()), Some(body))
            .await
    }

    async fn admin_get(&self, path: &str) -> (StatusCode, Value) {
        self.call("GET", path, Some(&self.admin.clone()), None)
            .await
    }

    async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call("DELETE", path, Some(&self.admin.clone()), None)
            .await
    }

    /// service `svc`, database `db`, schema `sch`, tables a(x, y), b(x, y), c(x)
    async fn platform(&self) -> (Value, Value, Value) {
        assert_eq!(
            self.put(
                "/api/v1/services/databaseServices",
                json!({"name": "svc", "serviceType": "Postgres"})
            )
            .await
            .0,
            StatusCode::CREATED
        );
        assert_eq!(
            self.put("/api/v1/databases", json!({"name": "db", "service": "svc"}))
                .await
                .0,
            StatusCode::CREATED
        );
        assert_eq!(
            self.put(
                "/api/v1/databaseSchemas",
                json!({"name": "sch", "database": "svc.db"})
            )
            .await
            .0,
            StatusCode::CREATED
        );
        let t = |n: &str, cols: &[&str]| {
            json!({"name": n, "databaseSchema": "svc.db.sch",
            "columns": cols.iter().map(|c| json!({"name": c, "dataType": "INT"})).collect::<Vec<_>>()})
        };
        let a = self.put("/api/v1/tables", t("a", &["x", "y"])).await.1;
        let b = self.put("/api/v1/tables", t("b", &["x", "y"])).await.1;
        let c = self.put("/api/v1/tables", t("c", &["x"])).await.1;
        (a, b, c)
    }

    async fn edge(&self, from: &Value, to: &Value, details: Value) -> (StatusCode, Value) {
        self.put(
            "/api/v1/lineage",
            json!({"edge": {
            "fromEntity": {"id": from["id"], "type": "table"},
            "toEntity": {"id": to["id"], "type": "table"},
            "lineageDetails": details}}),
        )
        .await
    }
}

fn assert_error(v: &Value, status: StatusCode, needle: &str) {
    assert_eq!(v["code"], json!(status.as_u16()), "{v}");
    let m = v["message"].as_str().unwrap_or_default();
    assert!(
        m.contains(needle),
        "message {m:?} should mention {needle:?}"
    );
}

#[tokio::test]
async fn auth_tokens_and_roles() {
    let t = setup();
    let (s, v) = t.call("GET", "/api/v1/tables", None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_error(&v, s, "Bearer");
    let (s, v) = t.call("GET", "/api/v1/tables", Some("garbage"), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_error(&v, s, "invalid token");
    let (keys, _) = Keys::hs256_in(t.keys_dir.path()).unwrap();
    let expired = keys.mint_until("old", Role::Admin, 1_000).unwrap();
    let (s, v) = t.call("GET", "/api/v1/tables", Some(&expired), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_error(&v, s, "expired");
    let other = tempfile::tempdir().unwrap();
    let (foreign, _) = Keys::hs256_in(other.path()).unwrap();
    let forged = foreign.mint("x", Role::Admin, 60).unwrap();
    assert_eq!(
        t.call("GET", "/api/v1/tables", Some(&forged), None).await.0,
        StatusCode::UNAUTHORIZED
    );

    let body = json!({"name": "svc", "serviceType": "Postgres"});
    let (s, v) = t
        .call(
            "PUT",
            "/api/v1/services/databaseServices",
            Some(&t.viewer),
            Some(body.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_error(&v, s, "Editor");
    assert_eq!(
        t.put("/api/v1/services/databaseServices", body).await.0,
        StatusCode::CREATED
    );
    let (s, _) = t
        .call(
            "DELETE",
            "/api/v1/services/databaseServices/name/svc?hardDelete=true",
            Some(&t.editor),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(
        t.delete("/api/v1/services/databaseServices/name/svc?hardDelete=true")
            .await
            .0,
        StatusCode::OK
    );

    // Tokens through the API: admin only.
    let req = json!({"name": "ci", "role": "viewer", "expires": "1h"});
    assert_eq!(
        t.call(
            "POST",
            "/api/v1/system/tokens",
            Some(&t.editor),
            Some(req.clone())
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (s, v) = t
        .call("POST", "/api/v1/system/tokens", Some(&t.admin), Some(req))
        .await;
    assert_eq!(s, StatusCode::OK);
    let minted = v["token"].as_str().unwrap();
    assert_eq!(
        t.call("GET", "/api/v1/tables", Some(minted), None).await.0,
        StatusCode::OK
    );
    let (s, v) = t
        .call(
            "POST",
            "/api/v1/system/tokens",
            Some(&t.admin),
            Some(json!({"name": "x", "role": "root"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, s, "field role");

    // `X-API-Key: <token>` works in place of the bearer header, with the same checks.
    let with_key = |key: &str| {
        Request::builder()
            .uri("/api/v1/tables")
            .header("X-API-Key", key)
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(t.raw(with_key(minted)).await.0, StatusCode::OK);
    let (s, v, _) = t.raw(with_key(&forged)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_error(&v, s, "does not verify");
    let viewer_write = Request::builder()
        .method("PUT")
        .uri("/api/v1/services/databaseServices")
        .header("X-API-Key", minted)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"name": "k", "serviceType": "Postgres"}).to_string(),
        ))
        .unwrap();
    assert_eq!(t.raw(viewer_write).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn system_endpoints() {
    let t = setup();
    let (s, v) = t.call("GET", "/api/v1/system/version", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["version"], "1.11.14");
    assert_eq!(v["headwatersVersion"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        t.call("GET", "/healthz", None, None).await.1["status"],
        "ok"
    );
    assert_eq!(
        t.call("GET", "/readyz", None, None).await.1["status"],
        "ready"
    );
    t.platform().await;
    let (s, v) = t.call("GET", "/metrics", None, None).await;
    assert_eq!(s, StatusCode::OK);
    let text = v.as_str().unwrap();
    assert!(text.contains("headwaters_graph_nodes 6"), "{text}");
    assert!(text.contains("headwaters_http_requests_total{method=\"PUT\",route=\"/api/v1/tables\",status=\"201\"} 3"), "{text}");
    let (s, v) = t.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["paths"]["/api/v1/lineage/{entityType}/name/{fqn}"]["get"].is_object());
    let (s, v) = t.call("GET", "/api/docs/", None, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(
        v.as_str().unwrap().contains("swagger"),
        "docs page is Swagger UI"
    );
}

/// A value for a documented path parameter, from its schema: a UUID for `format:
/// uuid`, the first of an enum, `Manual` for a lineage source, else a name.
fn param_value(p: &Value) -> String {
    let schema = &p["schema"];
    if schema["format"] == "uuid" {
        "00000000-0000-0000-0000-000000000000".into()
    } else if let Some(first) = schema["enum"].get(0).and_then(Value::as_str) {
        first.into()
    } else if p["name"] == "source" {
        "Manual".into()
    } else {
        "x.y".into()
    }
}

#[tokio::test]
async fn every_documented_route_is_served_and_nothing_else() {
    let t = setup();
    let (s, doc) = t.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() > 100, "{} paths", paths.len());
    for (path, item) in paths {
        let ops = item.as_object().unwrap();
        for method in ["get", "put", "post", "patch", "delete"] {
            let documented = ops.get(method);
            let params = documented
                .or_else(|| ops.values().next())
                .and_then(|o| o["parameters"].as_array())
                .cloned()
                .unwrap_or_default();
            let mut concrete = path.clone();
            for p in params.iter().filter(|p| p["in"] == "path") {
                let name = p["name"].as_str().unwrap();
                concrete = concrete.replace(&format!("{{{name}}}"), &param_value(p));
            }
            assert!(!concrete.contains('{'), "{path}: undeclared path parameter");
            let body = matches!(method, "put" | "post" | "patch").then(|| json!({}));
            let (s, v) = t
                .call(
                    &method.to_uppercase(),
                    &concrete,
                    Some(&t.admin.clone()),
                    body,
                )
                .await;
            let msg = v["message"].as_str().unwrap_or_default();
            if documented.is_some() {
                assert!(
                    !(msg.starts_with("no such endpoint") || msg.contains("is not allowed on")),
                    "{method} {path} is documented but not served: {s} {v}"
                );
                assert_ne!(s, StatusCode::INTERNAL_SERVER_ERROR, "{method} {path}: {v}");
            } else {
                assert_eq!(
                    s,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is served but not documented: {v}"
                );
            }
        }
    }
}

#[test]
fn every_route_the_router_builds_is_in_the_document() {
    let spec = headwaters_server::api::api_spec();
    let routes = spec.routes();
    let doc = serde_json::to_value(spec.document()).unwrap();
    for (method, path) in &routes {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is routed but missing from the document"
        );
    }
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|i| i.as_object().unwrap().len())
        .sum();
    assert_eq!(documented, routes.len(), "one operation per route");
    for must in [
        ("post", "/api/v1/openlineage/lineage"),
        ("post", "/api/v1/openlineage/lineage/batch"),
        ("post", "/api/v1/lineage"),
        ("post", "/api/v1/dbt/import"),
        ("post", "/api/v1/lineage/sql"),
        ("post", "/api/graphql"),
    ] {
        assert!(
            routes.iter().any(|(m, p)| (m.as_str(), p.as_str()) == must),
            "{must:?} missing"
        );
    }
}

#[test]
fn the_document_describes_bodies_answers_and_parameters() {
    let doc = serde_json::to_value(headwaters_server::api::api_spec().document()).unwrap();
    let tags: Vec<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(tags[0], "lineage", "lineage is the first tag: {tags:?}");
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let here = format!("{method} {path}");
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{here}"
            );
            assert!(op["tags"][0].is_string(), "{here}: no tag");
            for p in op["parameters"].as_array().into_iter().flatten() {
                assert!(
                    p["schema"].is_object(),
                    "{here}: parameter {} has no schema",
                    p["name"]
                );
                let name = p["name"].as_str().unwrap();
                assert!(
                    name.len() > 2 || name == "q" || name == "id",
                    "{here}: parameter name {name:?}"
                );
            }
            if matches!(method.as_str(), "put" | "post" | "patch") {
                let content = &op["requestBody"]["content"];
                assert!(
                    content
                        .as_object()
                        .is_some_and(|c| c.values().all(|m| m["schema"].is_object())),
                    "{here}: no request body schema"
                );
            }
            let ok = op["responses"]
                .as_object()
                .unwrap()
                .iter()
                .find(|(code, _)| code.starts_with('2'));
            assert!(ok.is_some(), "{here}: no success answer");
            assert!(
                op["responses"]["400"]["content"]["application/json"]["schema"].is_object(),
                "{here}"
            );
        }
    }
    // A body schema a fuzzer can build a valid request from.
    let add = &doc["components"]["schemas"]["AddLineage"];
    assert_eq!(add["required"], json!(["edge"]), "{add}");
    let create = &doc["components"]["schemas"]["CreateTable"];
    assert!(
        create["required"]
            .as_array()
            .unwrap()
            .contains(&json!("databaseSchema")),
        "{create}"
    );
    assert!(
        create["properties"]["columns"]["items"]["properties"]["dataType"]["enum"].is_array(),
        "{create}"
    );
}

#[tokio::test]
async fn entity_lifecycle() {
    let t = setup();
    let (a, _, _) = t.platform().await;
    assert_eq!(a["fullyQualifiedName"], "svc.db.sch.a");
    // hrefs come from the listen address (or public_url), never from the Host
    // header the client sent (hw.test).
    assert_eq!(
        a["href"],
        format!(
            "http://127.0.0.1:8585/api/v1/tables/{}",
            a["id"].as_str().unwrap()
        )
    );
    assert_eq!(a["columns"][1]["fullyQualifiedName"], "svc.db.sch.a.y");
    assert_eq!(a["databaseSchema"]["fullyQualifiedName"], "svc.db.sch");
    assert_eq!(a["service"]["type"], "databaseService");
    assert_eq!(a["serviceType"], "Postgres");
    assert!(
        a["service"]["href"]
            .as_str()
            .unwrap()
            .contains("/api/v1/services/databaseServices/")
    );

    // PUT again updates; POST of an existing name is a conflict.
    let (s, v) = t
        .put(
            "/api/v1/tables",
            json!({"name": "a", "databaseSchema": "svc.db.sch", "description": "first",
        "columns": [{"name": "x", "dataType": "INT"}, {"name": "y", "dataType": "INT"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (
            v["id"].clone(),
            v["version"].clone(),
            v["description"].clone()
        ),
        (a["id"].clone(), json!(0.2), json!("first"))
    );
    let (s, v) = t
        .post(
            "/api/v1/tables",
            json!({"name": "a", "databaseSchema": "svc.db.sch", "columns": []}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_error(&v, s, "svc.db.sch.a");

    // Reads.
    let id = a["id"].as_str().unwrap();
    assert_eq!(t.get(&format!("/api/v1/tables/{id}")).await.1["name"], "a");
    let (s, v) = t
        .get("/api/v1/tables/name/svc.db.sch.a?fields=owners,tags")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (v["owners"].clone(), v["tags"].clone()),
        (json!([]), json!([]))
    );
    let (s, v) = t.get("/api/v1/tables/name/svc.db.sch.nope").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_error(&v, s, "svc.db.sch.nope");
    // fields: `*` is every field of the model, an unknown name is refused by name.
    let (s, v) = t.get("/api/v1/tables/name/svc.db.sch.a?fields=*").await;
    assert_eq!((s, v["owners"].clone()), (StatusCode::OK, json!([])));
    let (s, v) = t
        .get("/api/v1/tables/name/svc.db.sch.a?fields=owners,nonsense")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, s, "nonsense");

    // Versions: the update above kept version 0.1 and says what changed.
    let v = t.get(&format!("/api/v1/tables/{id}")).await.1;
    assert_eq!(v["changeDescription"]["previousVersion"], json!(0.1));
    assert_eq!(
        v["changeDescription"]["fieldsAdded"],
        json!([{"name": "description", "newValue": "first"}])
    );
    let (s, h) = t.get(&format!("/api/v1/tables/{id}/versions")).await;
    assert_eq!(
        (s, h["entityType"].clone()),
        (StatusCode::OK, json!("table"))
    );
    let versions: Vec<Value> = h["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| serde_json::from_str(v.as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(
        versions
            .iter()
            .map(|v| v["version"].clone())
            .collect::<Vec<_>>(),
        vec![json!(0.2), json!(0.1)]
    );
    assert!(versions[1].get("description").is_none(), "{}", versions[1]);
    let (s, old) = t.get(&format!("/api/v1/tables/{id}/versions/0.1")).await;
    assert_eq!((s, old["version"].clone()), (StatusCode::OK, json!(0.1)));
    let (s, v) = t.get(&format!("/api/v1/tables/{id}/versions/0.9")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_error(&v, s, "0.2, 0.1");
    let (s, v) = t.get("/api/v1/tables/not-a-uuid").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, s, "not a UUID");
    assert_eq!(
        t.get("/api/v1/tables?include=sometimes").await.0,
        StatusCode::BAD_REQUEST
    );

    // Paging: forward with after, back with before, total.
    let (_, p1) = t.get("/api/v1/tables?limit=2").await;
    assert_eq!(p1["paging"]["total"], 3);
    let names = |p: &Value| {
        p["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&p1), ["a", "b"]);
    assert!(p1["paging"].get("before").is_none());
    let after = p1["paging"]["after"].as_str().unwrap();
    let (_, p2) = t
        .get(&format!("/api/v1/tables?limit=2&after={after}"))
        .await;
    assert_eq!(names(&p2), ["c"]);
    assert!(p2["paging"].get("after").is_none());
    let before = p2["paging"]["before"].as_str().unwrap();
    let (_, p0) = t
        .get(&format!("/api/v1/tables?limit=2&before={before}"))
        .await;
    assert_eq!(names(&p0), ["a", "b"]);
    assert_eq!(
        t.get("/api/v1/tables?after=%%%").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        t.get("/api/v1/tables?limit=ten").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        names(&t.get("/api/v1/databaseSchemas?database=svc.db").await.1),
        ["sch"]
    );
    assert_eq!(
        t.get("/api/v1/tables?databaseSchema=svc.db.other").await.1["paging"]["total"],
        0
    );

    // PATCH.
    let (s, v) = t
        .patch(
            &format!("/api/v1/tables/{id}"),
            json!([{"op": "add", "path": "/description", "value": "patched"}]),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["description"], "patched");
    assert_eq!(v["version"], 0.3);
    let (s, v) = t
        .patch(
            &format!("/api/v1/tables/{id}"),
            json!([{"op": "replace", "path": "/name", "value": "zz"}]),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, s, "name");
    let (s, v) = t
        .patch(
            &format!("/api/v1/tables/{id}"),
            json!([{"op": "remove", "path": "/nothing"}]),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, s, "JSON Patch");
    let req = Request::builder()
        .method("PATCH")
        .uri(format!("/api/v1/tables/{id}"))
        .header(header::AUTHORIZATION, format!("Bearer {}", t.editor))
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("[]"))
        .unwrap();
    assert_eq!(t.raw(req).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // DELETE: a schema with tables needs recursive; soft delete hides, include finds, restore.
    let (s, v) = t.delete("/api/v1/databaseSchemas/name/svc.db.sch").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, s, "recursive=true");
    assert_eq!(
        t.delete("/api/v1/databaseSchemas/name/svc.db.sch?recursive=true")
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        t.get("/api/v1/tables/name/svc.db.sch.a").await.0,
        StatusCode::NOT_FOUND
    );
    let (s, v) = t
        .get("/api/v1/tables/name/svc.db.sch.a?include=deleted")
        .await;
    assert_eq!((s, v["deleted"].clone()), (StatusCode::OK, json!(true)));
    assert_eq!(
        t.get("/api/v1/tables?include=deleted").await.1["paging"]["total"],
        3
    );
    let (s, v) = t.put("/api/v1/tables/restore", json!({"id": id})).await;
    assert_eq!((s, v["deleted"].clone()), (StatusCode::OK, json!(false)));
    // Hard delete frees the name.
    assert_eq!(
        t.delete(&format!("/api/v1/tables/{id}?hardDelete=true"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        t.get("/api/v1/tables/name/svc.db.sch.a?include=all")
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bad_input_is_a_clear_4xx() {
    let t = setup();
    t.platform().await;
    let cases = [
        (
            json!({"name": "t", "databaseSchema": "svc.db.sch", "columns": [{"name": "x", "dataType": "integer"}]}),
            StatusCode::BAD_REQUEST,
            "columns[0].dataType",
        ),
        (
            json!({"name": "t", "databaseSchema": "svc.db.sch", "columns": [{"name": "x"}]}),
            StatusCode::BAD_REQUEST,
            "columns[0].dataType is required",
        ),
        (
            json!({"name": "t", "databaseSchema": "svc.db.sch", "columns": [{"name": "s", "dataType": "STRUCT", "children": [{"name": "", "dataType": "INT"}]}]}),
            StatusCode::BAD_REQUEST,
            "columns[0].children[0].name",
        ),
        (
            json!({"name": "t", "databaseSchema": "svc.db.sch", "columns": [], "colour": "red"}),
            StatusCode::BAD_REQUEST,
            "field colour",
        ),
        (
            json!({"name": "t", "columns": []}),
            StatusCode::BAD_REQUEST,
            "field databaseSchema is required",
        ),
        (
            json!({"databaseSchema": "svc.db.sch", "columns": []}),
            StatusCode::BAD_REQUEST,
            "field name is required",
        ),
        (
            json!({"name": "t", "databaseSchema": "svc.db.missing", "columns": []}),
            StatusCode::NOT_FOUND,
            "svc.db.missing",
        ),
        (
            json!({"name": "t\"q", "databaseSchema": "svc.db.sch", "columns": []}),
            StatusCode::BAD_REQUEST,
            "double quote",
        ),
        (
            json!({"name": "t", "databaseSchema": "svc.db.sch", "columns": [], "tableType": "Weird"}),
            StatusCode::BAD_REQUEST,
            "tableType",
        ),
        (json!([1, 2]), StatusCode::BAD_REQUEST, "JSON object"),
    ];
    for (body, status, needle) in cases {
        let (s, v) = t.put("/api/v1/tables", body.clone()).await;
        assert_eq!(s, status, "{body} -> {v}");
        assert_error(&v, s, needle);
    }
    let req = |ct: Option<&str>, body: &str| {
        let mut b = Request::builder()
            .method("PUT")
            .uri("/api/v1/tables")
            .header(header::AUTHORIZATION, format!("Bearer {}", t.editor));
        if let Some(ct) = ct {
            b = b.header(header::CONTENT_TYPE, ct);
        }
        b.body(Body::from(body.to_string())).unwrap()
    };
    let (s, v, _) = t.raw(req(Some("application/json"), "{\"name\": ")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, s, "invalid JSON");
    let (s, v, _) = t.raw(req(None, "{}")).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_error(&v, s, "application/json");
    let (s, v) = t.get("/api/v1/nowhere").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_error(&v, s, "no such endpoint");
    let (s, v) = t
        .call(
            "POST",
            "/api/v1/lineage/getLineage",
            Some(&t.admin.clone()),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert_error(&v, s, "not allowed");

    let small = setup_with(Config {
        body_limit_bytes: 64,
        ..Config::default()
    });
    let big = json!({"name": "x".repeat(200), "serviceType": "Postgres"});
    let (s, v) = small.put("/api/v1/services/databaseServices", big).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_error(&v, s, "size limit");
}

#[tokio::test]
async fn rate_limit_answers_429_with_headers() {
    let t = setup_with(Config {
        rate_limit_per_minute: 3,
        ..Config::default()
    });
    for left in [2, 1, 0] {
        let req = Request::builder()
            .uri("/api/v1/tables")
            .header(header::AUTHORIZATION, format!("Bearer {}", t.viewer))
            .body(Body::empty())
            .unwrap();
        let (s, _, h) = t.raw(req).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(h["x-ratelimit-limit"], "3");
        assert_eq!(h["x-ratelimit-remaining"], left.to_string().as_str());
    }
    let req = Request::builder()
        .uri("/api/v1/tables")
        .header(header::AUTHORIZATION, format!("Bearer {}", t.viewer))
        .body(Body::empty())
        .unwrap();
    let (s, v, h) = t.raw(req).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert_error(&v, s, "rate limit");
    assert!(h.contains_key("x-ratelimit-reset") && h.contains_key(header::RETRY_AFTER));
    // Another token has its own budget.
    assert_eq!(
        t.call("GET", "/api/v1/tables", Some(&t.editor.clone()), None)
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn lineage_endpoints() {
    let t = setup();
    let (a, b, c) = t.platform().await;
    let fqn = |v: &Value, col: &str| format!("{}.{col}", v["fullyQualifiedName"].as_str().unwrap());
    let (s, v) = t.edge(&a, &b, json!({"sqlQuery": "insert into b select x, y from a", "source": "QueryLineage",
        "columnsLineage": [{"fromColumns": [fqn(&a, "x")], "toColumn": fqn(&b, "x"), "function": "identity"},
                           {"fromColumns": [fqn(&a, "nope"), fqn(&a, "y")], "toColumn": fqn(&b, "y")}]})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["created"], true);
    assert_eq!(v["droppedColumns"][0]["column"], fqn(&a, "nope"));
    assert_eq!(
        t.edge(
            &b,
            &c,
            json!({"columnsLineage": [{"fromColumns": [fqn(&b, "y")], "toColumn": fqn(&c, "x")}]})
        )
        .await
        .0,
        StatusCode::OK
    );

    // GET by name and by id at depths.
    let (s, v) = t
        .get("/api/v1/lineage/table/name/svc.db.sch.a?upstreamDepth=0&downstreamDepth=1")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["entity"]["id"], a["id"]);
    assert_eq!(v["nodes"].as_array().unwrap().len(), 1);
    assert_eq!(
        v["downstreamEdges"][0]["lineageDetails"]["sqlQuery"],
        "insert into b select x, y from a"
    );
    assert_eq!(
        v["downstreamEdges"][0]["lineageDetails"]["columnsLineage"][1]["fromColumns"],
        json!([fqn(&a, "y")])
    );
    let (_, v) = t
        .get(&format!(
            "/api/v1/lineage/table/{}?upstreamDepth=3&downstreamDepth=0",
            c["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(v["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(v["upstreamEdges"].as_array().unwrap().len(), 2);
    assert!(
        v["nodes"][0]["href"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:8585/api/v1/tables/")
    );
    let (s, v) = t
        .get("/api/v1/lineage/table/name/svc.db.sch.a?downstreamDepth=51")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, s, "downstreamDepth=51");
    let (s, v) = t.get("/api/v1/lineage/tabel/name/svc.db.sch.a").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, s, "tabel");
    assert_eq!(
        t.get("/api/v1/lineage/table/name/svc.db.sch.zz").await.0,
        StatusCode::NOT_FOUND
    );

    // Edge read, patch.
    let (ai, bi, ci) = (
        a["id"].as_str().unwrap(),
        b["id"].as_str().unwrap(),
        c["id"].as_str().unwrap(),
    );
    let (s, v) = t
        .get(&format!("/api/v1/lineage/getLineageEdge/{ai}/{bi}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["edge"]["source"], "QueryLineage");
    assert_eq!(
        t.get(&format!("/api/v1/lineage/getLineageEdge/{ai}/{ci}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let (s, v) = t.patch(&format!("/api/v1/lineage/table/{ai}/table/{bi}"),
        json!([{"op": "add", "path": "/description", "value": "nightly"}, {"op": "remove", "path": "/columnsLineage/1"}])).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["description"], "nightly");
    assert_eq!(v["columnsLineage"].as_array().unwrap().len(), 1);

    // Search-style lineage, pagination info, export, column lineage, impact.
    let (_, v) = t.get("/api/v1/lineage/getLineage?fqn=svc.db.sch.b&type=table&upstreamDepth=1&downstreamDepth=1").await;
    assert_eq!(v["nodes"]["svc.db.sch.a"]["nodeDepth"], -1);
    assert_eq!(v["nodes"]["svc.db.sch.c"]["nodeDepth"], 1);
    assert_eq!(
        v["nodes"]["svc.db.sch.b"]["paging"]["entityDownstreamCount"],
        1
    );
    assert!(
        v["upstreamEdges"]["svc.db.sch.a-->svc.db.sch.b"].is_object(),
        "{v}"
    );
    let (_, v) = t.get("/api/v1/lineage/getPaginationInfo?fqn=svc.db.sch.a&type=table&upstreamDepth=0&downstreamDepth=3").await;
    assert_eq!(v["totalDownstreamEntities"], 2);
    assert_eq!(
        v["downstreamDepthInfo"],
        json!([{"depth": 1, "entityCount": 1}, {"depth": 2, "entityCount": 1}])
    );
    let (s, v) = t
        .get("/api/v1/lineage/export?fqn=svc.db.sch.a&type=table&upstreamDepth=0&downstreamDepth=2")
        .await;
    assert_eq!(s, StatusCode::OK);
    let csv = v.as_str().unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("fromId,fromEntityType,fromFullyQualifiedName,toId"),
        "{csv}"
    );
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        csv.contains(&format!("{}:{}", fqn(&a, "x"), fqn(&b, "x"))),
        "{csv}"
    );
    assert_eq!(
        t.get("/api/v1/lineage/export?type=table").await.0,
        StatusCode::BAD_REQUEST
    );
    let (s, v) = t
        .get(&format!(
            "/api/v1/lineage/column/name/{}?upstreamDepth=0&downstreamDepth=5",
            fqn(&a, "x")
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["columns"][0]["column"], fqn(&b, "x"));
    assert_eq!(v["edges"][0]["function"], "identity");
    let (_, v) = t
        .get(&format!(
            "/api/v1/lineage/column/name/{}?upstreamDepth=0&downstreamDepth=5",
            fqn(&a, "x")
        ))
        .await;
    assert_eq!(
        v["columns"].as_array().unwrap().len(),
        1,
        "b.y no longer comes from a.y after the patch"
    );
    assert_eq!(
        t.get("/api/v1/lineage/column/name/svc.db.sch.a.zz").await.0,
        StatusCode::NOT_FOUND
    );
    let (_, v) = t
        .get("/api/v1/lineage/impact/table/name/svc.db.sch.a")
        .await;
    assert_eq!(v["total"], 2);
    assert_eq!(v["byType"]["table"], 2);
    assert_eq!(v["byDepth"][1]["count"], 1);

    // Deletes: by ids (second is 404), by names, by source.
    let (s, _) = t
        .delete(&format!("/api/v1/lineage/table/{bi}/table/{ci}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = t
        .delete(&format!("/api/v1/lineage/table/{bi}/table/{ci}"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v["message"], "Lineage edge not found");
    t.edge(&b, &c, json!({})).await;
    assert_eq!(
        t.delete("/api/v1/lineage/table/name/svc.db.sch.b/table/name/svc.db.sch.c")
            .await
            .0,
        StatusCode::OK
    );
    let (s, v) = t
        .delete(&format!("/api/v1/lineage/table/{bi}/type/QueryLineage"))
        .await;
    assert_eq!((s, v["deleted"].clone()), (StatusCode::OK, json!(1)));
    assert_eq!(
        t.get(&format!("/api/v1/lineage/getLineageEdge/{ai}/{bi}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // Pipelines in details; a missing pipeline is a 404.
    assert_eq!(
        t.put(
            "/api/v1/services/pipelineServices",
            json!({"name": "air", "serviceType": "Airflow"})
        )
        .await
        .0,
        StatusCode::CREATED
    );
    let (_, p) = t
        .put(
            "/api/v1/pipelines",
            json!({"name": "dag", "service": "air"}),
        )
        .await;
    t.edge(
        &a,
        &c,
        json!({"pipeline": {"id": p["id"], "type": "pipeline"}}),
    )
    .await;
    let (_, v) = t
        .get(&format!("/api/v1/lineage/getLineageEdge/{ai}/{ci}"))
        .await;
    assert_eq!(v["edge"]["pipeline"]["fullyQualifiedName"], "air.dag");
    let (s, _) = t
        .edge(
            &a,
            &c,
            json!({"pipeline": {"id": "00000000-0000-0000-0000-000000000000", "type": "pipeline"}}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = t
        .put(
            "/api/v1/lineage",
            json!({"edge": {"fromEntity": {"id": ai}}}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, s, "AddLineage");
}

#[tokio::test]
async fn lineage_from_sql_and_search() {
    let t = setup();
    t.platform().await;
    let (s, v) = t.post("/api/v1/lineage/sql", json!({"sql": "INSERT INTO sch.c (x) SELECT a.x + b.y FROM sch.a a JOIN sch.b b ON a.x = b.x; INSERT INTO sch.c SELECT * FROM sch.ghost",
        "service": "svc", "defaultDatabase": "db", "dialect": "postgres", "dryRun": true})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["edges"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["unresolved"][0]["table"], "db.sch.ghost");
    assert!(
        v["unresolved"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("no table matches svc.db.sch.ghost"),
        "{v}"
    );
    assert_eq!(
        t.get("/api/v1/lineage/table/name/svc.db.sch.c?upstreamDepth=1")
            .await
            .1["nodes"],
        json!([]),
        "dry run wrote nothing"
    );
    let (_, v) = t.post("/api/v1/lineage/sql", json!({"sql": "INSERT INTO sch.c (x) SELECT a.x + b.y FROM sch.a a JOIN sch.b b ON a.x = b.x",
        "service": "svc", "defaultDatabase": "db"})).await;
    let e = v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["fromEntity"]["name"] == "a")
        .unwrap();
    assert_eq!(e["columnsLineage"][0]["toColumn"], "svc.db.sch.c.x");
    let (_, up) = t
        .get("/api/v1/lineage/table/name/svc.db.sch.c?upstreamDepth=1&downstreamDepth=0")
        .await;
    assert_eq!(
        up["upstreamEdges"][0]["lineageDetails"]["source"],
        "QueryLineage"
    );
    let (s, v) = t
        .post(
            "/api/v1/lineage/sql",
            json!({"sql": "select 1", "service": "nope"}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_error(&v, s, "nope");
    let (s, v) = t
        .post(
            "/api/v1/lineage/sql",
            json!({"sql": "select 1", "service": "svc", "dialect": "cobol"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, s, "dialect");
    let (s, v) = t.post("/api/v1/lineage/sql/batch", json!({"service": "svc", "defaultDatabase": "db", "defaultSchema": "sch",
        "queries": [{"sql": "insert into b select * from a"}, {"sql": "insert into c select x from b"}]})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (
            v["queries"].clone(),
            v["failed"].clone(),
            v["edges"].clone()
        ),
        (json!(2), json!(0), json!(2))
    );

    // Search.
    let (_, v) = t
        .get("/api/v1/search/query?q=sch&index=table_search_index&size=2")
        .await;
    assert_eq!(v["hits"]["total"]["value"], 3);
    assert_eq!(v["hits"]["hits"].as_array().unwrap().len(), 2);
    assert_eq!(v["hits"]["hits"][0]["_index"], "table_search_index");
    let (_, v) = t
        .get("/api/v1/search/query?q=a&index=table_search_index")
        .await;
    assert_eq!(
        v["hits"]["hits"][0]["_source"]["name"], "a",
        "exact name ranks first"
    );
    let (_, v) = t.get("/api/v1/search/fieldQuery?fieldName=fullyQualifiedName&fieldValue=svc.*.sch.b&index=table_search_index").await;
    assert_eq!(v["hits"]["total"]["value"], 1);
    assert_eq!(
        v["hits"]["hits"][0]["_source"]["fullyQualifiedName"],
        "svc.db.sch.b"
    );
    let (_, v) = t.get("/api/v1/search/fieldQuery?fieldName=fullyQualifiedName&fieldValue=svc.*&index=database_schema_search_index").await;
    assert_eq!(v["hits"]["total"]["value"], 1);
    let (s, v) = t.get("/api/v1/search/query?q=a&index=nope_index").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, s, "index");
    assert_eq!(
        t.get("/api/v1/search/fieldQuery?fieldName=owner&fieldValue=x")
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn every_entity_kind_round_trips() {
    let t = setup();
    // (collection, create body); parents first.
    let bodies = [
        (
            "services/databaseServices",
            json!({"name": "dbs", "serviceType": "Postgres"}),
        ),
        ("databases", json!({"name": "db", "service": "dbs"})),
        (
            "databaseSchemas",
            json!({"name": "sch", "database": "dbs.db"}),
        ),
        (
            "tables",
            json!({"name": "t", "databaseSchema": "dbs.db.sch", "columns": [{"name": "c", "dataType": "INT"}]}),
        ),
        (
            "storedProcedures",
            json!({"name": "p", "databaseSchema": "dbs.db.sch", "storedProcedureCode": {"language": "SQL", "code": "select 1"}}),
        ),
        (
            "services/dashboardServices",
            json!({"name": "bi", "serviceType": "Looker"}),
        ),
        ("dashboards", json!({"name": "d", "service": "bi"})),
        ("charts", json!({"name": "ch", "service": "bi"})),
        (
            "dashboard/datamodels",
            json!({"name": "m", "service": "bi", "dataModelType": "LookMlView", "columns": [{"name": "c", "dataType": "INT"}]}),
        ),
        (
            "services/pipelineServices",
            json!({"name": "air", "serviceType": "Airflow"}),
        ),
        ("pipelines", json!({"name": "dag", "service": "air"})),
        (
            "services/messagingServices",
            json!({"name": "kafka", "serviceType": "Kafka"}),
        ),
        (
            "topics",
            json!({"name": "events", "service": "kafka", "partitions": 3}),
        ),
        (
            "services/mlmodelServices",
            json!({"name": "ml", "serviceType": "Mlflow"}),
        ),
        (
            "mlmodels",
            json!({"name": "churn", "service": "ml", "algorithm": "xgboost"}),
        ),
        (
            "services/storageServices",
            json!({"name": "s3", "serviceType": "S3"}),
        ),
        ("containers", json!({"name": "bucket", "service": "s3"})),
        (
            "services/searchServices",
            json!({"name": "es", "serviceType": "ElasticSearch"}),
        ),
        (
            "searchIndexes",
            json!({"name": "idx", "service": "es", "fields": [{"name": "f", "dataType": "TEXT"}]}),
        ),
        (
            "services/apiServices",
            json!({"name": "api", "serviceType": "Rest"}),
        ),
        ("apiCollections", json!({"name": "v1", "service": "api"})),
        (
            "apiEndpoints",
            json!({"name": "get.users", "apiCollection": "api.v1"}),
        ),
        ("metrics", json!({"name": "revenue"})),
        (
            "queries",
            json!({"query": "select c from t", "service": "dbs", "queryUsedIn": []}),
        ),
        (
            "classifications",
            json!({"name": "PII", "description": "Personal data"}),
        ),
        (
            "tags",
            json!({"name": "email", "classification": "PII", "description": "An e-mail address"}),
        ),
        (
            "users",
            json!({"name": "ada", "email": "ada@example.com", "password": "never stored"}),
        ),
        ("teams", json!({"name": "data", "teamType": "Group"})),
    ];
    assert_eq!(
        bodies.len(),
        headwaters_server::domain::kinds::ALL.len(),
        "one body per collection"
    );
    let mut ids = Vec::new();
    for (collection, body) in &bodies {
        let (s, v) = t.post(&format!("/api/v1/{collection}"), body.clone()).await;
        assert_eq!(s, StatusCode::CREATED, "{collection}: {v}");
        let fqn = v["fullyQualifiedName"].as_str().unwrap().to_string();
        let (s, got) = t
            .get(&format!("/api/v1/{collection}/name/{}", urlencode(&fqn)))
            .await;
        assert_eq!(s, StatusCode::OK, "{collection} {fqn}: {got}");
        assert_eq!(got["id"], v["id"]);
        assert!(
            got["href"]
                .as_str()
                .unwrap()
                .contains(&format!("/api/v1/{collection}/"))
        );
        ids.push((collection, v["id"].as_str().unwrap().to_string(), fqn));
    }
    let fqn_of = |c: &str| ids.iter().find(|(k, _, _)| **k == c).unwrap().2.clone();
    assert_eq!(fqn_of("apiEndpoints"), "api.v1.\"get.users\"");
    assert_eq!(fqn_of("topics"), "kafka.events");
    assert_eq!(fqn_of("metrics"), "revenue");
    // A query is named by its checksum, the MD5 the SDK computes with hashlib
    // (python3 -c "import hashlib; print(hashlib.md5(b'select c from t').hexdigest())").
    assert_eq!(fqn_of("queries"), "dbs.6392c3d4fe6cd429fde00df974c61e9f");
    assert_eq!(fqn_of("tags"), "PII.email");
    // Lineage across types: topic -> pipeline -> table -> dashboard -> mlmodel.
    let id_of = |c: &str| ids.iter().find(|(k, _, _)| **k == c).unwrap().1.clone();
    for (a, at, b, bt) in [
        ("topics", "topic", "pipelines", "pipeline"),
        ("pipelines", "pipeline", "tables", "table"),
        ("tables", "table", "dashboards", "dashboard"),
        ("dashboards", "dashboard", "mlmodels", "mlmodel"),
    ] {
        let (s, v) = t.put("/api/v1/lineage", json!({"edge": {"fromEntity": {"id": id_of(a), "type": at}, "toEntity": {"id": id_of(b), "type": bt}}})).await;
        assert_eq!(s, StatusCode::OK, "{a} -> {b}: {v}");
    }
    let (_, v) = t
        .get("/api/v1/lineage/topic/name/kafka.events?downstreamDepth=4&upstreamDepth=0")
        .await;
    let types: Vec<&str> = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .collect();
    assert_eq!(types.len(), 4, "{v}");
    for ty in ["pipeline", "table", "dashboard", "mlmodel"] {
        assert!(types.contains(&ty), "{types:?}");
    }
    let (_, v) = t
        .get("/api/v1/lineage/impact/topic/name/kafka.events")
        .await;
    assert_eq!(
        v["byType"],
        json!({"dashboard": 1, "mlmodel": 1, "pipeline": 1, "table": 1})
    );
    let (_, v) = t.get("/api/v1/lineage/topic/name/kafka.events?downstreamDepth=4&upstreamDepth=0&entityTypes=topic,pipeline,table").await;
    assert_eq!(
        v["nodes"].as_array().unwrap().len(),
        2,
        "type filter stops the walk: {v}"
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

mod never_500 {
    use super::*;
    use proptest::prelude::*;

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            "[a-z.\"*%]{0,12}".prop_map(Value::String),
            Just(json!("svc.db.sch.a")),
            Just(json!("INT")),
            Just(json!("00000000-0000-0000-0000-000000000000")),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec(
                    (
                        prop_oneof![
                            Just("name".to_string()),
                            Just("columns".to_string()),
                            Just("edge".to_string()),
                            Just("fromEntity".to_string()),
                            Just("id".to_string()),
                            Just("type".to_string()),
                            Just("databaseSchema".to_string()),
                            Just("dataType".to_string()),
                            Just("op".to_string()),
                            Just("path".to_string()),
                            Just("value".to_string()),
                            Just("sql".to_string()),
                            Just("service".to_string()),
                            "[a-z]{1,6}"
                        ],
                        inner
                    ),
                    0..5
                )
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn arbitrary_bodies_get_4xx_or_2xx(body in json_value(), which in 0usize..7, seg in "[a-zA-Z0-9.%\"*_-]{1,20}") {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            // A client cannot send a raw `"` in a URL; everything else goes as generated.
            let seg = seg.replace('"', "%22");
            rt.block_on(async {
                let t = setup();
                t.platform().await;
                let (method, path) = match which {
                    0 => ("PUT", "/api/v1/tables".to_string()),
                    1 => ("PUT", "/api/v1/lineage".to_string()),
                    2 => ("POST", "/api/v1/lineage/sql".to_string()),
                    3 => ("PATCH", "/api/v1/tables/name/svc.db.sch.a".to_string()),
                    4 => ("PATCH", format!("/api/v1/lineage/table/{seg}/table/{seg}")),
                    5 => ("GET", format!("/api/v1/lineage/table/name/{seg}?upstreamDepth=2")),
                    _ => ("GET", format!("/api/v1/search/fieldQuery?fieldName=fullyQualifiedName&fieldValue={seg}")),
                };
                let body = (method != "GET").then_some(body);
                let (s, v) = t.call(method, &path, Some(&t.admin.clone()), body).await;
                prop_assert!(s.as_u16() < 500, "{method} {path}: {s} {v}");
                if !s.is_success() {
                    prop_assert_eq!(&v["code"], &json!(s.as_u16()));
                    prop_assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
                }
                Ok(())
            })?;
        }
    }
}

#[tokio::test]
async fn openlineage_events_checked_field_by_field() {
    let t = setup();
    let ev = |job: Value, outputs: Value| {
        json!({"eventType": "COMPLETE", "eventTime": "2026-01-02T03:04:05Z",
        "run": {"runId": "3f1c2c7e-8b4a-4c59-9f55-0d6a1f1e2b3c"}, "job": job, "producer": "test",
        "inputs": [{"namespace": "postgres://h:5432", "name": "db.s.a"}], "outputs": outputs})
    };
    let good = ev(
        json!({"namespace": "etl", "name": "j"}),
        json!([{"namespace": "postgres://h:5432", "name": "db.s.b"}]),
    );
    let (s, v) = t.post("/api/v1/openlineage/lineage", good.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["edges"], 1);
    let (_, v) = t
        .get("/api/v1/lineage/table/name/postgres_h_5432.db.s.b?upstreamDepth=1&downstreamDepth=0")
        .await;
    assert_eq!(
        v["nodes"][0]["fullyQualifiedName"],
        "postgres_h_5432.db.s.a"
    );
    for (body, needle) in [
        (
            ev(json!({"namespace": "etl"}), json!([])),
            "event.job.name is required",
        ),
        (
            ev(
                json!({"namespace": "etl", "name": "j"}),
                json!([{"namespace": "x"}]),
            ),
            "event.outputs[0].name is required",
        ),
        (
            ev(json!({"namespace": "etl", "name": "j"}), json!({"a": 1})),
            "event.outputs: must be an array",
        ),
        (
            json!({"eventTime": "noon", "job": {"namespace": "a", "name": "b"}}),
            "event.eventTime",
        ),
        (json!({"producer": "x"}), "not an OpenLineage event"),
    ] {
        let (s, v) = t.post("/api/v1/openlineage/lineage", body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
        assert_error(&v, s, needle);
    }
    let mut bad_type = good.clone();
    bad_type["eventType"] = json!("DONE");
    let (s, v) = t.post("/api/v1/openlineage/lineage", bad_type).await;
    assert_error(&v, s, "event.eventType");
    let (s, v) = t
        .post("/api/v1/openlineage/lineage/batch", json!({"evnts": []}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, s, "events");
    let (s, v) = t
        .post(
            "/api/v1/openlineage/lineage/batch",
            json!([good, {"job": 5, "run": {}}]),
        )
        .await;
    assert_eq!(
        (s, v["successful"].clone(), v["failed"].clone()),
        (StatusCode::OK, json!(1), json!(1)),
        "{v}"
    );
    let (s, v) = t.get("/api/v1/openlineage/runs?namespace=etl&job=j").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["runs"][0]["state"], "COMPLETE");
    assert_eq!(v["runs"][0]["endTime"], 1_767_323_045_000_i64);
    assert_eq!(
        t.get("/api/v1/openlineage/runs?namespace=etl&job=nope")
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    // Runs listed without a job, filtered by state and start time, paged.
    let (s, all) = t.get("/api/v1/openlineage/runs").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(all["paging"]["total"], json!(1), "{all}");
    for (q, n) in [
        ("state=complete", 1),
        ("state=FAIL", 0),
        ("namespace=etl&since=2026-01-02T03:00:00Z", 1),
        ("until=2025-01-01T00:00:00Z", 0),
        ("namespace=elsewhere", 0),
    ] {
        let (_, v) = t.get(&format!("/api/v1/openlineage/runs?{q}")).await;
        assert_eq!(v["paging"]["total"], json!(n), "{q}: {v}");
    }
    let (s, v) = t.get("/api/v1/openlineage/runs?job=j").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, s, "namespace");
    let (s, v) = t.get("/api/v1/openlineage/runs?since=yesterday").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, s, "since");
    let (s, v) = t.get("/api/v1/openlineage/runs?state=DONE").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, s, "state");
    let (_, v) = t.get("/api/v1/openlineage/runs?offset=1").await;
    assert_eq!(
        (v["runs"].clone(), v["paging"]["total"].clone()),
        (json!([]), json!(1))
    );
    // gzip bodies.
    let mut gz = Vec::new();
    {
        use std::io::Write;
        let mut e = flate2_writer(&mut gz);
        e.write_all(good.to_string().as_bytes()).unwrap();
    }
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/openlineage/lineage")
        .header(header::AUTHORIZATION, format!("Bearer {}", t.editor))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_ENCODING, "gzip")
        .body(Body::from(gz))
        .unwrap();
    let (s, v, _) = t.raw(req).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

fn flate2_writer(out: &mut Vec<u8>) -> flate2::write::GzEncoder<&mut Vec<u8>> {
    flate2::write::GzEncoder::new(out, flate2::Compression::fast())
}

impl T {
    async fn gql(&self, token: &str, query: &str, variables: Value) -> Value {
        let (s, v) = self
            .call(
                "POST",
                "/api/graphql",
                Some(token),
                Some(json!({"query": query, "variables": variables})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v
    }
}

fn gql_code(v: &Value) -> &str {
    v["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("none")
}

#[tokio::test]
async fn graphql_queries() {
    let t = setup();
    let (a, b, c) = t.platform().await;
    let fq = |v: &Value, col: &str| format!("{}.{col}", v["fullyQualifiedName"].as_str().unwrap());
    t.edge(&a, &b, json!({"columnsLineage": [{"fromColumns": [fq(&a, "x")], "toColumn": fq(&b, "x"), "function": "x + 1"}], "sqlQuery": "insert into b select x + 1 from a"})).await;
    t.edge(
        &b,
        &c,
        json!({"columnsLineage": [{"fromColumns": [fq(&b, "x")], "toColumn": fq(&c, "x")}]}),
    )
    .await;
    let v = t.viewer.clone();

    let r = t.gql(&v, r#"{ entity(fqn: "svc.db.sch.a") { __typename id name fullyQualifiedName ... on Table { columns { name dataType fullyQualifiedName } } } }"#, json!({})).await;
    assert_eq!(r["data"]["entity"]["__typename"], "Table");
    assert_eq!(r["data"]["entity"]["id"], a["id"]);
    assert_eq!(
        r["data"]["entity"]["columns"][1]["fullyQualifiedName"],
        "svc.db.sch.a.y"
    );
    let r = t
        .gql(
            &v,
            r#"{ entity(fqn: "svc.db.sch.zz") { name } }"#,
            json!({}),
        )
        .await;
    assert!(r["data"]["entity"].is_null());
    let r = t
        .gql(
            &v,
            r#"{ entity(fqn: "svc.db.sch.a", type: "tabel") { name } }"#,
            json!({}),
        )
        .await;
    assert_eq!(gql_code(&r), "BAD_REQUEST", "{r}");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("tabel")
    );

    let r = t.gql(&v, r#"query($after: String) { search(query: "sch", types: ["table"], first: 2, after: $after) { total hasNextPage endCursor nodes { name } } }"#, json!({})).await;
    let s = &r["data"]["search"];
    assert_eq!(
        (s["total"].clone(), s["hasNextPage"].clone()),
        (json!(3), json!(true)),
        "{r}"
    );
    let r2 = t.gql(&v, r#"query($after: String) { search(query: "sch", types: ["table"], first: 2, after: $after) { hasNextPage nodes { name } } }"#, json!({"after": s["endCursor"]})).await;
    assert_eq!(r2["data"]["search"]["nodes"].as_array().unwrap().len(), 1);
    assert_eq!(r2["data"]["search"]["hasNextPage"], false);

    let q = r#"query($first: Int!, $after: String) { lineage(fqn: "svc.db.sch.c", direction: UPSTREAM, depth: 5, first: $first, after: $after) {
        root { name } totalNodes hasNextPage endCursor upstreamCounts truncated
        nodes { depth direction entity { name } }
        edges { fromFqn toFqn sqlQuery source columnsLineage { fromColumns toColumn function } } } }"#;
    let r = t.gql(&v, q, json!({"first": 10})).await;
    let l = &r["data"]["lineage"];
    assert_eq!(l["root"]["name"], "c");
    assert_eq!(l["upstreamCounts"], json!([1, 1]));
    assert_eq!(
        l["nodes"],
        json!([{"depth": 1, "direction": "UPSTREAM", "entity": {"name": "b"}}, {"depth": 2, "direction": "UPSTREAM", "entity": {"name": "a"}}])
    );
    assert_eq!(l["edges"].as_array().unwrap().len(), 2);
    let ab = l["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["fromFqn"] == "svc.db.sch.a")
        .unwrap();
    assert_eq!(ab["columnsLineage"][0]["function"], "x + 1");
    assert_eq!(ab["sqlQuery"], "insert into b select x + 1 from a");
    let r = t.gql(&v, q, json!({"first": 1})).await;
    assert_eq!(r["data"]["lineage"]["hasNextPage"], true);
    assert_eq!(
        r["data"]["lineage"]["edges"].as_array().unwrap().len(),
        1,
        "only edges among the page's nodes"
    );
    let r = t
        .gql(
            &v,
            q,
            json!({"first": 1, "after": r["data"]["lineage"]["endCursor"]}),
        )
        .await;
    assert_eq!(r["data"]["lineage"]["nodes"][0]["entity"]["name"], "a");
    let r = t
        .gql(
            &v,
            r#"{ lineage(fqn: "svc.db.sch.c", depth: 99) { totalNodes } }"#,
            json!({}),
        )
        .await;
    assert_eq!(gql_code(&r), "BAD_REQUEST");
    let r = t
        .gql(
            &v,
            r#"{ lineage(fqn: "svc.db.sch.q") { totalNodes } }"#,
            json!({}),
        )
        .await;
    assert_eq!(gql_code(&r), "NOT_FOUND");
    let r = t.gql(&v, r#"{ lineage(fqn: "svc.db.sch.a", direction: DOWNSTREAM, entityTypes: ["dashboard"]) { totalNodes } }"#, json!({})).await;
    assert_eq!(r["data"]["lineage"]["totalNodes"], 0, "type filter");

    let r = t.gql(&v, r#"{ columnLineage(columnFqn: "svc.db.sch.a.x", direction: DOWNSTREAM) { columns { column depth entity { name } } edges { fromColumn toColumn function } } }"#, json!({})).await;
    let cl = &r["data"]["columnLineage"];
    assert_eq!(
        pluck_str(&cl["columns"], "column"),
        ["svc.db.sch.b.x", "svc.db.sch.c.x"]
    );
    assert_eq!(cl["edges"][0]["function"], "x + 1");
    let r = t.gql(&v, r#"{ impact(fqn: "svc.db.sch.a") { total byDepth { depth count } byType { entityType count } entity { name } } }"#, json!({})).await;
    assert_eq!(r["data"]["impact"]["total"], 2);
    assert_eq!(
        r["data"]["impact"]["byType"],
        json!([{"entityType": "table", "count": 2}])
    );
    let r = t
        .gql(
            &v,
            r#"{ paths(from: "svc.db.sch.a", to: "svc.db.sch.c") { name } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        r["data"]["paths"],
        json!([[{"name": "a"}, {"name": "b"}, {"name": "c"}]])
    );

    // Limits: nesting deeper than the limit is refused.
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(24),
        "} ".repeat(24)
    );
    let r = t.gql(&v, &deep, json!({})).await;
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("nested too deep"),
        "{r}"
    );
    // Without a token: 401 like REST.
    let (s, _) = t
        .call(
            "POST",
            "/api/graphql",
            None,
            Some(json!({"query": "{ search(query: \"a\") { total } }"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

fn pluck_str(v: &Value, field: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x[field].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn graphql_mutations() {
    let t = setup();
    let (a, b, _) = t.platform().await;
    let add = r#"mutation($i: AddLineageInput!) { addLineage(input: $i) { fromFqn toFqn source columnsLineage { fromColumns toColumn } } }"#;
    let input = json!({"i": {"fromFqn": "svc.db.sch.a", "toFqn": "svc.db.sch.b", "source": "QueryLineage",
        "columnsLineage": [{"fromColumns": ["svc.db.sch.a.x"], "toColumn": "svc.db.sch.b.y"}]}});
    let r = t.gql(&t.viewer.clone(), add, input.clone()).await;
    assert_eq!(gql_code(&r), "FORBIDDEN", "{r}");
    let r = t.gql(&t.editor.clone(), add, input).await;
    assert_eq!(r["data"]["addLineage"]["source"], "QueryLineage", "{r}");
    assert_eq!(
        r["data"]["addLineage"]["columnsLineage"][0]["toColumn"],
        "svc.db.sch.b.y"
    );
    let (_, v) = t
        .get(&format!(
            "/api/v1/lineage/getLineageEdge/{}/{}",
            a["id"].as_str().unwrap(),
            b["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        v["edge"]["source"], "QueryLineage",
        "REST sees the GraphQL write"
    );
    let del = r#"mutation { deleteLineage(fromFqn: "svc.db.sch.a", toFqn: "svc.db.sch.b") }"#;
    assert_eq!(
        t.gql(&t.editor.clone(), del, json!({})).await["data"]["deleteLineage"],
        true
    );
    assert_eq!(
        t.gql(&t.editor.clone(), del, json!({})).await["data"]["deleteLineage"],
        false
    );
    let sql = r#"mutation { lineageFromSql(sql: "insert into sch.c (x) select a.x from sch.a a; insert into sch.c select * from sch.ghost", service: "svc", defaultDatabase: "db", dryRun: true) {
        statements edges { fromFqn toFqn columnsLineage { fromColumns toColumn } } unresolved { table reason } } }"#;
    let r = t.gql(&t.editor.clone(), sql, json!({})).await;
    let l = &r["data"]["lineageFromSql"];
    assert_eq!(l["statements"], 2, "{r}");
    assert_eq!(l["edges"][0]["fromFqn"], "svc.db.sch.a");
    assert_eq!(
        l["edges"][0]["columnsLineage"][0]["toColumn"],
        "svc.db.sch.c.x"
    );
    assert_eq!(l["unresolved"][0]["table"], "db.sch.ghost");
}

#[tokio::test]
async fn graphql_sdl_is_committed_and_explorer_is_self_hosted() {
    let sdl = headwaters_server::api::graphql::sdl();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    if std::env::var_os("UPDATE_GRAPHQL_SCHEMA").is_some() {
        std::fs::write(path, &sdl).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == sdl,
        "server/schema.graphql is stale: run `UPDATE_GRAPHQL_SCHEMA=1 cargo test --release -p headwaters-server --test router graphql_sdl` and commit it"
    );
    assert!(sdl.contains("interface Entity"), "{sdl}");
    // Every type, field and enum value carries a description (the explorer shows them).
    let lines: Vec<&str> = sdl.lines().collect();
    let mut in_description = false;
    let mut described = false;
    for l in &lines {
        let t = l.trim_start();
        if t == "\"\"\"" {
            in_description = !in_description;
            described = true;
            continue;
        }
        if in_description {
            continue;
        }
        if t.starts_with("\"\"\"") {
            described = true;
            continue;
        }
        let depth = l.len() - t.len();
        let is_type = depth == 0
            && ["type ", "interface ", "enum ", "input "]
                .iter()
                .any(|k| t.starts_with(k));
        let is_member = depth == 1
            && t.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && !t.starts_with("query:")
            && !t.starts_with("mutation:");
        if (is_type || is_member) && !t.starts_with("type __") {
            assert!(described, "no description for `{t}`");
        }
        if !t.is_empty() {
            described = false;
        }
    }
    let t = setup();
    let (s, page) = t.call("GET", "/graphiql", None, None).await;
    assert_eq!(s, StatusCode::OK);
    let html = page.as_str().unwrap();
    for src in [
        "/graphiql/react.production.min.js",
        "/graphiql/react-dom.production.min.js",
        "/graphiql/graphiql.min.js",
        "/graphiql/graphiql.min.css",
    ] {
        assert!(html.contains(src), "{src}");
        let (s, _) = t.call("GET", src, None, None).await;
        assert_eq!(s, StatusCode::OK, "{src}");
    }
    assert!(
        !html.contains("https://") && !html.contains("http://"),
        "the explorer loads nothing from another host"
    );
}

/// The hardening findings: secrets, tokens, limits, headers, input, GraphQL budgets.
mod hardening {
    use super::*;
    use headwaters_engine::Include;
    use headwaters_server::domain::Key;
    use headwaters_server::domain::kinds;

    fn service_body(password: &str) -> Value {
        json!({"name": "pg", "serviceType": "Postgres", "connection": {"config": {
            "type": "Postgres", "username": "u", "hostPort": "db:5432",
            "authType": {"password": password}}}})
    }

    fn password(v: &Value) -> &Value {
        &v["connection"]["config"]["authType"]["password"]
    }

    #[tokio::test]
    async fn connection_secrets_are_sealed_at_rest_and_masked_for_non_admins() {
        let t = setup();
        let (s, v) = t
            .put("/api/v1/services/databaseServices", service_body("hunter2"))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(password(&v), "*********", "an editor sees it masked: {v}");
        let (_, viewer) = t.get("/api/v1/services/databaseServices/name/pg").await;
        assert_eq!(password(&viewer), "*********");
        assert_eq!(viewer["connection"]["config"]["username"], "u");
        let (_, admin) = t
            .admin_get("/api/v1/services/databaseServices/name/pg")
            .await;
        assert_eq!(password(&admin), "hunter2");
        let (_, hits) = t
            .get("/api/v1/search/query?q=pg&index=database_service_search_index")
            .await;
        assert!(!hits.to_string().contains("hunter2"), "{hits}");
        let (_, list) = t.get("/api/v1/services/databaseServices").await;
        assert!(!list.to_string().contains("hunter2"), "{list}");
        // At rest: sealed.
        let stored = t
            .state
            .service()
            .get_entity(
                &kinds::DATABASE_SERVICE,
                &Key::Fqn("pg".into()),
                Include::NonDeleted,
            )
            .unwrap();
        let sealed = password(&stored).as_str().unwrap();
        assert!(
            sealed.starts_with("hw-sealed:v1:") && !sealed.contains("hunter2"),
            "{sealed}"
        );
        // The masked value sent back (a client's read-modify-write) keeps the secret and
        // changes nothing; the same secret again changes nothing either.
        let mut back = service_body("x");
        back["connection"] = viewer["connection"].clone();
        let (s, v) = t.put("/api/v1/services/databaseServices", back).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["version"], admin["version"], "no spurious version: {v}");
        let (_, v) = t
            .put("/api/v1/services/databaseServices", service_body("hunter2"))
            .await;
        assert_eq!(
            v["version"], admin["version"],
            "same secret, same version: {v}"
        );
        let (_, admin) = t
            .admin_get("/api/v1/services/databaseServices/name/pg")
            .await;
        assert_eq!(password(&admin), "hunter2");
    }

    #[tokio::test]
    async fn secrets_are_not_stored_when_configured_so() {
        let t = setup_with(Config {
            store_secrets: false,
            ..Config::default()
        });
        let (s, _) = t
            .put("/api/v1/services/databaseServices", service_body("hunter2"))
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let (_, admin) = t
            .admin_get("/api/v1/services/databaseServices/name/pg")
            .await;
        assert!(password(&admin).is_null(), "{admin}");
        assert_eq!(admin["connection"]["config"]["username"], "u");
    }

    #[tokio::test]
    async fn tokens_have_ids_and_revocation_takes_effect_at_once() {
        let t = setup();
        let admin = t.admin.clone();
        let (s, v) = t
            .call(
                "POST",
                "/api/v1/system/tokens",
                Some(&admin),
                Some(json!({"name": "bot", "role": "viewer", "expires": "1h"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let bot = v["token"].as_str().unwrap().to_string();
        assert_eq!(
            t.call("GET", "/api/v1/tables", Some(&bot), None).await.0,
            StatusCode::OK
        );
        let (s, v) = t
            .call(
                "GET",
                "/api/v1/system/tokens",
                Some(&t.viewer.clone()),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
        let (s, list) = t
            .call("GET", "/api/v1/system/tokens", Some(&admin), None)
            .await;
        assert_eq!(s, StatusCode::OK, "{list}");
        let entry = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == "bot")
            .cloned()
            .unwrap();
        assert_eq!(entry["revoked"], false);
        let id = entry["id"].as_str().unwrap();
        let (s, v) = t
            .call(
                "DELETE",
                &format!("/api/v1/system/tokens/{id}"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) = t.call("GET", "/api/v1/tables", Some(&bot), None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
        assert_error(&v, s, "revoked");
        let (_, list) = t
            .call("GET", "/api/v1/system/tokens", Some(&admin), None)
            .await;
        assert!(
            list["data"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["id"] == id && x["revoked"] == true)
        );
        // The other tokens still work.
        assert_eq!(t.get("/api/v1/tables").await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn failed_authentications_count_against_the_ip_and_retry_after_matches_the_window() {
        let t = setup_with(Config {
            rate_limit_ip_per_minute: 3,
            ..Config::default()
        });
        for _ in 0..3 {
            let (s, _) = t.call("GET", "/api/v1/tables", Some("forged"), None).await;
            assert_eq!(s, StatusCode::UNAUTHORIZED);
        }
        let req = Request::builder()
            .uri("/api/v1/tables")
            .header(header::AUTHORIZATION, format!("Bearer {}", t.viewer))
            .body(Body::empty())
            .unwrap();
        let (s, v, h) = t.raw(req).await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
        let retry: u64 = h["retry-after"].to_str().unwrap().parse().unwrap();
        let reset: u64 = h["x-ratelimit-reset"].to_str().unwrap().parse().unwrap();
        assert_eq!(retry, reset);
        assert!(retry > 50, "the window is a minute: {retry}");
    }

    #[tokio::test]
    async fn limits_are_kept_per_token_not_per_name() {
        let t = setup_with(Config {
            rate_limit_per_minute: 2,
            ..Config::default()
        });
        let (keys, _) = Keys::hs256_in(t.keys_dir.path()).unwrap();
        let one = keys.mint("same", Role::Viewer, 600).unwrap();
        let two = keys.mint("same", Role::Viewer, 600).unwrap();
        for _ in 0..2 {
            assert_eq!(
                t.call("GET", "/api/v1/tables", Some(&one), None).await.0,
                StatusCode::OK
            );
        }
        assert_eq!(
            t.call("GET", "/api/v1/tables", Some(&one), None).await.0,
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(
            t.call("GET", "/api/v1/tables", Some(&two), None).await.0,
            StatusCode::OK,
            "another token with the same name has its own limit"
        );
    }

    #[tokio::test]
    async fn pages_carry_security_headers_and_no_inline_script() {
        let t = setup();
        for page in ["/", "/graphiql"] {
            let req = Request::builder().uri(page).body(Body::empty()).unwrap();
            let (s, v, h) = t.raw(req).await;
            assert_eq!(s, StatusCode::OK);
            let csp = h["content-security-policy"].to_str().unwrap();
            assert!(
                csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
                "{csp}"
            );
            assert_eq!(h["x-content-type-options"], "nosniff");
            let html = v.as_str().unwrap();
            assert!(!html.contains("<script>"), "{page} has an inline script");
        }
    }

    #[tokio::test]
    async fn wrong_types_and_long_names_are_refused_naming_the_field() {
        let t = setup();
        t.platform().await;
        for (body, needle) in [
            (
                json!({"name": "t1", "databaseSchema": "svc.db.sch", "columns": [], "description": 5}),
                "field description: must be a string",
            ),
            (
                json!({"name": "t1", "databaseSchema": "svc.db.sch", "columns": [], "tags": "notalist"}),
                "field tags: must be an array",
            ),
            (
                json!({"name": "x".repeat(257), "databaseSchema": "svc.db.sch", "columns": []}),
                "field name: 257 characters",
            ),
            (
                json!({"name": "t1", "databaseSchema": "svc.db.sch", "columns": [{"name": "c".repeat(300), "dataType": "INT"}]}),
                "columns[0].name",
            ),
        ] {
            let (s, v) = t.put("/api/v1/tables", body).await;
            assert_error(&v, s, needle);
        }
        let (s, v) = t
            .patch(
                "/api/v1/tables/name/svc.db.sch.a",
                json!([{"op": "add", "path": "/description", "value": 7}]),
            )
            .await;
        assert_error(&v, s, "field description");
        let (s, _) = t
            .put(
                "/api/v1/tables",
                json!({"name": "x".repeat(256), "databaseSchema": "svc.db.sch", "columns": []}),
            )
            .await;
        assert_eq!(
            s,
            StatusCode::CREATED,
            "256 characters is the limit, inclusive"
        );
    }

    #[tokio::test]
    async fn graphql_floods_are_refused_before_they_run() {
        let t = setup();
        t.platform().await;
        let v = t.viewer.clone();
        let refused = |r: &Value, needle: &str| {
            let m = r["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            assert!(m.contains(needle), "{needle:?} not in {r}");
            assert!(r["data"].is_null(), "nothing ran: {r}");
        };
        // Over the cost budget: 60 traversals.
        let q: String = (0..60)
            .map(|i| format!("a{i}: impact(fqn: \"svc.db.sch.a\") {{ total }} "))
            .collect();
        refused(
            &t.gql(&v, &format!("{{ {q} }}"), json!({})).await,
            "complex",
        );
        // A long document (the 9,000-alias flood).
        let q: String = (0..9000)
            .map(|i| format!("a{i}: impact(fqn: \"svc.db.sch.a\") {{ total }} "))
            .collect();
        refused(&t.gql(&v, &format!("{{ {q} }}"), json!({})).await, "bytes");
        // Many cheap fields, through a fragment used over and over.
        let fields: String = (0..50).map(|i| format!("t{i}: __typename ")).collect();
        let spreads = "...F ".repeat(100);
        let doc = format!("query {{ {spreads} }} fragment F on QueryRoot {{ {fields} }}");
        refused(&t.gql(&v, &doc, json!({})).await, "fields");
        // Repeated introspection.
        let q: String = (0..5)
            .map(|i| format!("s{i}: __schema {{ types {{ name }} }} "))
            .collect();
        refused(
            &t.gql(&v, &format!("{{ {q} }}"), json!({})).await,
            "introspection",
        );
        // A few traversals are fine.
        let r = t
            .gql(
                &v,
                "{ a: impact(fqn: \"svc.db.sch.a\") { total } b: impact(fqn: \"svc.db.sch.b\") { total } }",
                json!({}),
            )
            .await;
        assert!(r["errors"].is_null(), "{r}");
    }

    fn ol_event(run: &str, inputs: usize, outputs: usize) -> Value {
        let ds = |p: &str, n: usize| -> Vec<Value> {
            (0..n)
                .map(|i| json!({"namespace": "postgres://db:5432", "name": format!("d.s.{p}{i}")}))
                .collect()
        };
        json!({"eventType": "COMPLETE", "eventTime": "2026-01-01T00:00:00Z",
            "run": {"runId": run}, "job": {"namespace": "etl", "name": "load"},
            "inputs": ds("in", inputs), "outputs": ds("out", outputs),
            "producer": "test", "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json"})
    }

    #[tokio::test]
    async fn openlineage_retries_apply_nothing_twice_and_huge_events_are_refused() {
        let t = setup();
        let run = "3f1b5a4e-8c2d-4b7a-9f60-0a1b2c3d4e5f";
        let ev = ol_event(run, 2, 1);
        let (s, v) = t.post("/api/v1/openlineage/lineage", ev.clone()).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(
            (v["edges"].as_u64(), v["repeated"].as_bool()),
            (Some(2), Some(false)),
            "{v}"
        );
        let (s, v) = t.post("/api/v1/openlineage/lineage", ev.clone()).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(
            (v["edges"].as_u64(), v["repeated"].as_bool()),
            (Some(0), Some(true)),
            "a retry: {v}"
        );
        // The run record does not show the bookkeeping.
        let (_, runs) = t
            .get("/api/v1/openlineage/runs?namespace=etl&job=load")
            .await;
        assert!(runs["runs"][0].get("eventDigests").is_none(), "{runs}");
        // 101 x 100 = 10,100 edges in one event: refused, nothing written.
        let (s, v) = t
            .post(
                "/api/v1/openlineage/lineage",
                ol_event("5a1b5a4e-8c2d-4b7a-9f60-0a1b2c3d4e5f", 101, 100),
            )
            .await;
        assert_error(&v, s, "split it");
        let (_, hits) = t.get("/api/v1/search/query?q=out99").await;
        assert_eq!(hits["hits"]["total"]["value"], 0, "{hits}");
    }

    #[tokio::test]
    async fn an_openlineage_batch_past_its_deadline_stops_between_events() {
        let t = setup();
        let events: Vec<Value> = (0..5)
            .map(|i| ol_event(&format!("00000000-0000-4000-8000-00000000000{i}"), 1, 1))
            .collect();
        let svc = t.state.service();
        let late = svc
            .openlineage_batch(json!({"events": events}), Some(std::time::Instant::now()))
            .unwrap();
        assert_eq!(late.not_applied, vec![0, 1, 2, 3, 4]);
        assert_eq!((late.successful, late.edges), (0, 0));
        assert_eq!(
            svc.stats().edges,
            0,
            "nothing of the events not applied was written"
        );
        let in_time = svc
            .openlineage_batch(
                json!({"events": events}),
                Some(std::time::Instant::now() + std::time::Duration::from_secs(3600)),
            )
            .unwrap();
        assert!(in_time.not_applied.is_empty());
        assert_eq!(in_time.successful, 5);
    }

    #[tokio::test]
    async fn a_dbt_import_past_its_deadline_stops_between_relations_and_a_resend_finishes_it() {
        let t = setup();
        let read = |f: &str| -> Value {
            let p = format!("{}/../fixtures/dbt/jaffle/{f}", env!("CARGO_MANIFEST_DIR"));
            serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
        };
        let (manifest, catalog) = (read("manifest.json"), read("catalog.json"));
        let svc = t.state.service();
        let late = svc.import_dbt(
            &manifest,
            Some(&catalog),
            "warehouse",
            &|_, _| {},
            Some(std::time::Instant::now()),
        );
        let e = late.expect_err("past its deadline");
        assert!(
            e.to_string()
                .contains("sending the same import again finishes it"),
            "{e}"
        );
        assert_eq!(svc.stats().edges, 0, "stopped before any relation");
        let done = svc
            .import_dbt(&manifest, Some(&catalog), "warehouse", &|_, _| {}, None)
            .unwrap();
        assert_eq!((done.models, done.edges), (6, 10));
        let edges = svc.stats().edges;
        let again = svc
            .import_dbt(&manifest, Some(&catalog), "warehouse", &|_, _| {}, None)
            .unwrap();
        assert_eq!(
            (again.edges, again.removed_edges, again.removed_entities),
            (10, 0, 0)
        );
        assert_eq!(svc.stats().edges, edges, "applied twice, changed nothing");
    }

    /// graphql-js 16's `getIntrospectionQuery({descriptions: true, specifiedByUrl: true,
    /// directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation:
    /// true})`: what GraphiQL sends to load the schema.
    const STANDARD_INTROSPECTION: &str = r#"
    query IntrospectionQuery {
      __schema {
        description
        queryType { name }
        mutationType { name }
        subscriptionType { name }
        types { ...FullType }
        directives {
          name description isRepeatable locations
          args(includeDeprecated: true) { ...InputValue }
        }
      }
    }
    fragment FullType on __Type {
      kind name description specifiedByURL
      fields(includeDeprecated: true) {
        name description
        args(includeDeprecated: true) { ...InputValue }
        type { ...TypeRef }
        isDeprecated deprecationReason
      }
      inputFields(includeDeprecated: true) { ...InputValue }
      interfaces { ...TypeRef }
      enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
      possibleTypes { ...TypeRef }
    }
    fragment InputValue on __InputValue {
      name description type { ...TypeRef } defaultValue isDeprecated deprecationReason
    }
    fragment TypeRef on __Type {
      kind name
      ofType { kind name ofType { kind name ofType { kind name ofType { kind name
        ofType { kind name ofType { kind name ofType { kind name ofType { kind name
          ofType { kind name } } } } } } } } }
    }"#;

    #[tokio::test]
    async fn the_standard_introspection_query_is_answered() {
        let t = setup();
        let r = t
            .gql(&t.viewer.clone(), STANDARD_INTROSPECTION, json!({}))
            .await;
        assert!(r["errors"].is_null(), "{}", r["errors"]);
        let types = r["data"]["__schema"]["types"].as_array().unwrap();
        let query = types.iter().find(|t| t["name"] == "QueryRoot").unwrap();
        let fields: Vec<&str> = query["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        assert!(
            fields.contains(&"lineage") && fields.contains(&"impact"),
            "{fields:?}"
        );
    }
}

#[tokio::test]
async fn pipeline_runs_transformations_column_search_and_docs_title() {
    let t = setup();
    let (a, b, _) = t.platform().await;
    // A pipeline's runs: the latest is kept, an older one is ignored, bad ones refused.
    assert_eq!(
        t.put(
            "/api/v1/services/pipelineServices",
            json!({"name": "af", "serviceType": "Airflow"})
        )
        .await
        .0,
        StatusCode::CREATED
    );
    let (s, p) = t
        .put("/api/v1/pipelines", json!({"name": "etl", "service": "af"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let run = json!({"timestamp": 2000, "executionStatus": "Failed", "executionId": "r2",
        "taskStatus": [{"name": "load", "executionStatus": "Successful", "startTime": 2001}]});
    let (s, v) = t.put("/api/v1/pipelines/af.etl/status", run.clone()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["pipelineStatus"], run, "kept as sent");
    assert_eq!(v["version"], p["version"], "a run is not a new version");
    let (s, v) = t
        .put(
            &format!("/api/v1/pipelines/{}/status", p["id"].as_str().unwrap()),
            json!({"timestamp": 1000, "executionStatus": "Successful"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v["pipelineStatus"]["executionId"], "r2",
        "an older run is ignored"
    );
    let (s, v) = t
        .put(
            "/api/v1/pipelines/af.etl/status",
            json!({"timestamp": 3000, "executionStatus": "Done"}),
        )
        .await;
    assert_error(&v, StatusCode::BAD_REQUEST, "executionStatus");
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (_, v) = t
        .put(
            "/api/v1/pipelines/af.etl/status",
            json!({"executionStatus": "Failed", "taskStatus": [{"name": "x", "executionStatus": "Failed"}]}),
        )
        .await;
    assert_error(&v, StatusCode::BAD_REQUEST, "timestamp");
    let (_, v) = t
        .put(
            "/api/v1/pipelines/af.nope/status",
            json!({"timestamp": 1, "executionStatus": "Failed"}),
        )
        .await;
    assert_error(&v, StatusCode::NOT_FOUND, "af.nope");
    let (s, _) = t
        .call(
            "PUT",
            "/api/v1/pipelines/af.etl/status",
            Some(&t.viewer.clone()),
            Some(json!({"timestamp": 4000, "executionStatus": "Failed"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "viewers do not write runs");

    // Transformation types on lineage reads only when asked (the SDK refuses the field).
    let (s, _) = t
        .edge(
            &a,
            &b,
            json!({"columnsLineage": [{"fromColumns": ["svc.db.sch.a.x"], "toColumn": "svc.db.sch.b.x", "function": "sum(x)"}],
                "source": "QueryLineage"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, v) = t
        .post(
            "/api/v1/lineage/sql",
            json!({"sql": "INSERT INTO sch.b (y) SELECT SUM(a.y) FROM sch.a a", "service": "svc", "defaultDatabase": "db"}),
        )
        .await;
    assert_eq!(v["edges"].as_array().map(Vec::len), Some(1), "{v}");
    let path = "/api/v1/lineage/table/name/svc.db.sch.a?upstreamDepth=0&downstreamDepth=1";
    let plain = t.get(path).await.1;
    let cols = &plain["downstreamEdges"][0]["lineageDetails"]["columnsLineage"];
    assert!(
        cols.as_array()
            .unwrap()
            .iter()
            .all(|c| c.get("transformation").is_none()),
        "{cols}"
    );
    let rich = t
        .get(&format!("{path}&includeTransformations=true"))
        .await
        .1;
    let cols = rich["downstreamEdges"][0]["lineageDetails"]["columnsLineage"]
        .as_array()
        .unwrap()
        .clone();
    let y = cols
        .iter()
        .find(|c| c["toColumn"] == "svc.db.sch.b.y")
        .unwrap_or_else(|| panic!("{cols:?}"));
    assert_eq!(y["transformation"], "DIRECT/AGGREGATION", "{y}");
    assert_eq!(y["function"], "SUM(a.y)", "{y}");
    let (s, v) = t.get(&format!("{path}&includeTransformations=maybe")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    // A plain query's output columns and their sources, resolved to column FQNs.
    let (s, v) = t
        .post(
            "/api/v1/lineage/sql",
            json!({"sql": "SELECT a.x, SUM(b.y) AS total FROM sch.a a JOIN sch.b b ON a.x = b.x GROUP BY a.x",
                "service": "svc", "defaultDatabase": "db"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["edges"], json!([]), "a query writes nothing: {v}");
    let out = v["queryOutput"].as_array().unwrap();
    let total = out
        .iter()
        .find(|c| c["column"] == "total")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(total["statement"], 1);
    let sources = total["sources"].as_array().unwrap();
    assert!(
        sources.iter().any(|s| s["column"] == "svc.db.sch.b.y"
            && s["transformation"] == "DIRECT/AGGREGATION"
            && s["function"] == "SUM(b.y)"),
        "{sources:?}"
    );
    assert!(
        sources
            .iter()
            .any(|s| s["column"] == "svc.db.sch.a.x" && s["transformation"] == "INDIRECT/JOIN"),
        "{sources:?}"
    );

    // A column's name finds its table.
    let (_, v) = t
        .get("/api/v1/search/query?q=y&index=table_search_index")
        .await;
    let names: Vec<&str> = v["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["_source"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b"], "tables with a column y, not c: {v}");

    // The API docs page is titled after the product.
    let (s, v) = t.get("/api/docs/").await;
    assert_eq!(s, StatusCode::OK);
    let html = v.as_str().unwrap();
    assert!(html.contains("<title>Headwaters API</title>"), "{html}");
    assert!(!html.contains("Swagger UI</title>"));
}

#[tokio::test]
async fn answers_are_gzipped_only_when_asked() {
    let t = setup();
    let (a, b, _) = t.platform().await;
    assert_eq!(t.edge(&a, &b, json!({})).await.0, StatusCode::OK);
    let path = "/api/v1/lineage/table/name/svc.db.sch.a?upstreamDepth=0&downstreamDepth=1";
    let request = |gzip: bool| {
        let mut r = Request::builder()
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {}", t.viewer));
        if gzip {
            r = r.header(header::ACCEPT_ENCODING, "gzip");
        }
        r.body(Body::empty()).unwrap()
    };
    let plain = t.app.clone().oneshot(request(false)).await.unwrap();
    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
    let plain = axum::body::to_bytes(plain.into_body(), usize::MAX)
        .await
        .unwrap();
    let zipped = t.app.clone().oneshot(request(true)).await.unwrap();
    assert_eq!(zipped.status(), StatusCode::OK);
    assert_eq!(
        zipped.headers().get(header::CONTENT_ENCODING).unwrap(),
        "gzip"
    );
    let zipped = axum::body::to_bytes(zipped.into_body(), usize::MAX)
        .await
        .unwrap();
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&zipped[..]),
        &mut unzipped,
    )
    .unwrap();
    assert_eq!(unzipped, plain.to_vec(), "the same answer, compressed");
    // Errors are still JSON with a message once unzipped.
    let r = Request::builder()
        .uri("/api/v1/tables/name/svc.db.sch.nope")
        .header(header::AUTHORIZATION, format!("Bearer {}", t.viewer))
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())
        .unwrap();
    let res = t.app.clone().oneshot(r).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let text = if body.starts_with(&[0x1f, 0x8b]) {
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&body[..]), &mut out)
            .unwrap();
        out
    } else {
        String::from_utf8(body.to_vec()).unwrap()
    };
    let v: Value = serde_json::from_str(&text).unwrap();
    assert!(v["message"].as_str().unwrap().contains("nope"), "{v}");
}

/// The body of a GET as bytes.
async fn body_bytes(t: &T, path: &str) -> Vec<u8> {
    let r = Request::builder()
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {}", t.viewer))
        .body(Body::empty())
        .unwrap();
    let resp = t.app.clone().oneshot(r).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec()
}

#[tokio::test]
async fn cached_lineage_answers_are_the_computed_ones_until_a_write() {
    let cached = setup();
    let uncached = setup_with(Config {
        answer_cache_mb: 0,
        ..Config::default()
    });
    let path = "/api/v1/lineage/table/name/svc.db.sch.b?upstreamDepth=3&downstreamDepth=3";
    let mut answers = Vec::new();
    for t in [&cached, &uncached] {
        let (a, b, c) = t.platform().await;
        assert_eq!(
            t.edge(&a, &b, json!({"sqlQuery": "insert into b select * from a"}))
                .await
                .0,
            StatusCode::OK
        );
        let first = body_bytes(t, path).await;
        let second = body_bytes(t, path).await;
        assert_eq!(first, second, "a repeated question gets the same bytes");
        // A write changes the answer at once.
        assert_eq!(t.edge(&b, &c, json!({})).await.0, StatusCode::OK);
        let after = body_bytes(t, path).await;
        let v: Value = serde_json::from_slice(&after).unwrap();
        let downstream = v["downstreamEdges"].as_array().unwrap();
        assert_eq!(
            downstream.len(),
            1,
            "the new edge is in the next answer: {v}"
        );
        assert_eq!(body_bytes(t, path).await, after);
        answers.push((first, after, v));
    }
    let (hits, misses, bytes) = cached.state.answers.stats();
    assert_eq!(
        (hits, misses),
        (2, 2),
        "second asks are hits, each first one after a write a miss"
    );
    assert!(bytes > 0);
    assert_eq!(uncached.state.answers.stats(), (0, 0, 0));
    // Same content with and without the cache (ids, times and hrefs differ between the
    // two stores, so compare the shape: entity and edge FQNs, column mappings).
    let shape = |v: &Value| {
        let edges = |k: &str| {
            v[k].as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["sqlQuery"].clone(),
                        e["columns"].clone(),
                        e["source"].clone(),
                    )
                })
                .collect::<Vec<_>>()
        };
        let mut nodes: Vec<String> = v["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["fullyQualifiedName"].as_str().unwrap().to_string())
            .collect();
        nodes.sort();
        (
            v["entity"]["fullyQualifiedName"].clone(),
            nodes,
            edges("upstreamEdges"),
            edges("downstreamEdges"),
        )
    };
    assert_eq!(shape(&answers[0].2), shape(&answers[1].2));
    // The cache is reported in /metrics.
    let text = String::from_utf8(body_bytes(&cached, "/metrics").await).unwrap();
    assert!(
        text.contains("headwaters_answer_cache_hits_total 2"),
        "{text}"
    );
    // So is the engine's record cache: the computed answers read their records once.
    let misses = text
        .lines()
        .find_map(|l| l.strip_prefix("headwaters_record_cache_misses_total{kind=\"entity\"} "))
        .and_then(|v| v.parse::<u64>().ok())
        .expect("record cache misses reported");
    assert!(misses >= 1, "{text}");
    // The computed answers' pieces were made once each, then found kept.
    let pieces = |kind: &str| {
        text.lines()
            .find_map(|l| {
                l.strip_prefix(&format!(
                    "headwaters_record_cache_{kind}_total{{kind=\"rendering\"}} "
                ))
            })
            .and_then(|v| v.parse::<u64>().ok())
            .expect("rendering hits and misses reported")
    };
    assert!(pieces("misses") >= 1 && pieces("hits") >= 1, "{text}");
    assert!(
        text.contains("# TYPE headwaters_record_cache_bytes gauge"),
        "{text}"
    );
}

#[tokio::test]
async fn sql_lineage_of_a_plain_query_is_stored_on_its_query_entity() {
    let t = setup();
    t.platform().await;
    let sql = "SELECT a.x AS total, b.y FROM sch.a a JOIN sch.b b ON a.x = b.x";
    let (s, q) = t
        .put(
            "/api/v1/queries",
            json!({"name": "report", "query": sql, "service": "svc"}),
        )
        .await;
    assert!(s.is_success(), "{q}");
    let qfqn = q["fullyQualifiedName"].as_str().unwrap().to_string();
    let body = |query: &str, sql: &str| json!({"sql": sql, "service": "svc", "defaultDatabase": "db", "query": query});
    let (s, v) = t.post("/api/v1/lineage/sql", body("svc.nope", sql)).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let (s, v) = t
        .post(
            "/api/v1/lineage/sql",
            body(&qfqn, "INSERT INTO sch.c SELECT x FROM sch.a"),
        )
        .await;
    assert_error(&v, s, "no plain query");
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, v) = t.post("/api/v1/lineage/sql", body(&qfqn, sql)).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // The query's upstream: a and b, with mappings onto its output columns.
    let mappings = |v: &Value, side: &str| {
        let mut out: Vec<(String, String)> = v[side]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|e| {
                e["lineageDetails"]["columnsLineage"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .flat_map(|m| {
                let to = m["toColumn"].as_str().unwrap().to_string();
                m["fromColumns"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| (f.as_str().unwrap().to_string(), to.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        out.sort();
        out
    };
    let want = vec![
        ("svc.db.sch.a.x".to_string(), format!("{qfqn}.total")),
        ("svc.db.sch.b.y".to_string(), format!("{qfqn}.y")),
    ];
    let up_path = format!("/api/v1/lineage/query/name/{qfqn}?upstreamDepth=1&downstreamDepth=0");
    let (s, up) = t.get(&up_path).await;
    assert_eq!(s, StatusCode::OK, "{up}");
    assert_eq!(up["upstreamEdges"].as_array().unwrap().len(), 2, "{up}");
    assert_eq!(mappings(&up, "upstreamEdges"), want, "{up}");

    // Updating the Query through the API keeps its columns and their lineage.
    let (s, v) = t
        .put(
            "/api/v1/queries",
            json!({"name": "report", "query": sql, "service": "svc", "description": "daily"}),
        )
        .await;
    assert!(s.is_success(), "{v}");
    assert_eq!(mappings(&t.get(&up_path).await.1, "upstreamEdges"), want);

    // What breaks if a.x changes: the query, downstream of the table.
    let (_, down) = t
        .get("/api/v1/lineage/table/name/svc.db.sch.a?upstreamDepth=0&downstreamDepth=1")
        .await;
    assert!(
        down["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["fullyQualifiedName"] == qfqn.as_str()),
        "{down}"
    );
}

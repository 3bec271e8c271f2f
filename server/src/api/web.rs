//! Browser pages embedded in the binary: the lineage viewer at `/` (built from
//! `server/viewer/` with `npm run build`, committed, so `cargo build` needs no node) and
//! the GraphiQL explorer at `/graphiql` (vendored, see `server/assets/graphiql/`).
//! Nothing is loaded from another host.

use axum::Router;
use axum::http::header;
use axum::routing::{MethodRouter, get};

use crate::AppState;

/// The pages' Content-Security-Policy: everything from this server only (no inline
/// script; inline styles allowed for the pages' own and the libraries' style
/// attributes; images from the canvas for PNG export), never framed by another site.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn asset(ct: &'static str, body: &'static [u8]) -> MethodRouter<AppState> {
    get(move || async move {
        (
            [
                (header::CONTENT_TYPE, ct),
                (header::CACHE_CONTROL, "no-cache"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::CONTENT_SECURITY_POLICY, CSP),
                (header::X_FRAME_OPTIONS, "DENY"),
                (header::REFERRER_POLICY, "no-referrer"),
            ],
            body,
        )
    })
}

/// `/`, `/viewer.js`, `/graphiql` and its assets (no auth: the pages ask for a token).
pub fn routes() -> Router<AppState> {
    const JS: &str = "text/javascript; charset=utf-8";
    const HTML: &str = "text/html; charset=utf-8";
    Router::new()
        .route(
            "/",
            asset(HTML, include_bytes!("../../assets/viewer/index.html")),
        )
        .route(
            "/viewer.js",
            asset(JS, include_bytes!("../../assets/viewer/viewer.js")),
        )
        .route(
            "/graphiql",
            asset(HTML, include_bytes!("../../assets/graphiql/index.html")),
        )
        .route(
            "/graphiql/init.js",
            asset(JS, include_bytes!("../../assets/graphiql/init.js")),
        )
        .route(
            "/graphiql/graphiql.min.js",
            asset(JS, include_bytes!("../../assets/graphiql/graphiql.min.js")),
        )
        .route(
            "/graphiql/graphiql.min.css",
            asset(
                "text/css; charset=utf-8",
                include_bytes!("../../assets/graphiql/graphiql.min.css"),
            ),
        )
        .route(
            "/graphiql/react.production.min.js",
            asset(
                JS,
                include_bytes!("../../assets/graphiql/react.production.min.js"),
            ),
        )
        .route(
            "/graphiql/react-dom.production.min.js",
            asset(
                JS,
                include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
            ),
        )
}

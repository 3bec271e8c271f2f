//! The lineage viewer and the GraphiQL explorer in headless Chromium (Debian's), driven
//! by playwright-core, against the real `headwaters serve --demo`. Screenshots go to
//! `docs/` (shown in the README).

mod common;

use std::path::Path;
use std::process::Command;

use common::{Server, run_ok};

#[test]
fn viewer_and_explorer_work_offline_in_chromium() {
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "Chromium is missing. Run: sudo apt-get install -y --no-install-recommends chromium (scripts/test.sh does this when run as root)"
    );
    let viewer = concat!(env!("CARGO_MANIFEST_DIR"), "/viewer");
    if !Path::new(viewer)
        .join("node_modules/playwright-core")
        .exists()
    {
        run_ok(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(viewer),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo"]);
    let token = server
        .first_token
        .clone()
        .expect("first start prints an admin token");
    // Screenshots go to docs/ when asked (UPDATE_SCREENSHOTS=1), else to a temp dir.
    let shots = tempfile::tempdir().unwrap();
    let docs = if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../docs").to_string()
    } else {
        shots.path().to_string_lossy().into_owned()
    };
    std::fs::create_dir_all(&docs).unwrap();
    let out = Command::new("node")
        .arg("tests/browser.mjs")
        .current_dir(viewer)
        .env("HW_URL", &server.url)
        .env("HW_TOKEN", &token)
        .env("OUT_DIR", &docs)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("browser checks passed"),
        "browser test failed\n--- stdout\n{stdout}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for shot in ["viewer.png", "viewer-500.png", "graphiql.png"] {
        let len = std::fs::metadata(Path::new(&docs).join(shot))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(len > 10_000, "{shot} was not written ({len} bytes)");
    }
    server.stop();
}

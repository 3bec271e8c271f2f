//! OpenMetadata's ingestion framework (`metadata ingest` / `metadata usage` of
//! openmetadata-ingestion 1.11, unchanged) against the real server: the postgres
//! metadata, lineage and usage workflows over a real PostgreSQL 15 that the script
//! starts on a loopback port, and the dbt workflow on fixtures/dbt/jaffle. The script
//! asserts what each workflow landed, then runs them all again and checks that
//! nothing changed.

mod common;

use common::{Server, run_python_with, sdk_python, token};

/// PostgreSQL's server binaries: `HW_PG_BIN`, else the newest Debian install. A
/// machine without them fails here with the command that installs them.
fn pg_bin() -> String {
    if let Ok(dir) = std::env::var("HW_PG_BIN") {
        return dir;
    }
    let mut found: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists() && p.join("pg_ctl").exists())
        .collect();
    found.sort();
    let dir = found.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL's server is not installed (the ingestion test starts its own). Run: \
             sudo apt-get install -y --no-install-recommends postgresql (or set HW_PG_BIN)"
        )
    });
    dir.display().to_string()
}

#[test]
fn openmetadata_ingestion_workflows_run_unchanged() {
    let pg = pg_bin();
    let python = sdk_python();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let editor = token(dir.path(), "editor");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ingest/om_ingest_e2e.py");
    let repo = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let env = [("HW_REPO", repo), ("HW_PG_BIN", pg.as_str())];
    run_python_with(
        &python,
        script,
        &server.url,
        &editor,
        "ingestion checks passed",
        &env,
    );
    server.stop();
}

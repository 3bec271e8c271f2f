//! A real OpenLineage producer against the real server: `dbt-ol build` and `dbt-ol run`
//! (openlineage-dbt with dbt-duckdb, in a cached venv) on the jaffle project.

mod common;

use common::{Server, run_python_with, token, venv};

#[test]
fn dbt_ol_build_and_run_land_one_graph() {
    // dbt-core 1.11+ pulls a wheel from outside PyPI, so it is pinned below.
    let python = venv(
        "dbtol-venv",
        "openlineage-dbt~=1.54.0 dbt-core<1.11 dbt-duckdb<1.11",
        "",
    );
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let editor = token(dir.path(), "editor");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/dbt_ol/dbt_ol_e2e.py");
    let repo = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    run_python_with(
        &python,
        script,
        &server.url,
        &editor,
        "dbt-ol checks passed",
        &[("HW_REPO", repo)],
    );
    server.stop();
}

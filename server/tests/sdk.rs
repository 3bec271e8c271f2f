//! The official OpenMetadata Python SDK, unchanged, against the real server.

mod common;

use common::{Server, run_python, sdk_python, token};

#[test]
fn openmetadata_python_sdk_works_unchanged() {
    let python = sdk_python();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let editor = token(dir.path(), "editor");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/om_sdk_e2e.py");
    run_python(&python, script, &server.url, &editor, "SDK checks passed");
    server.stop();
}

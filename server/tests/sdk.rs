//! The official OpenMetadata Python SDK, unchanged, against the real server.

mod common;

use std::process::Command;

use common::{Server, sdk_python, token};

#[test]
fn openmetadata_python_sdk_works_unchanged() {
    let python = sdk_python();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let editor = token(dir.path(), "editor");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/om_sdk_e2e.py");
    let out = Command::new(python)
        .arg(script)
        .env("HW_URL", &server.url)
        .env("HW_TOKEN", &editor)
        .env("PYTHONWARNINGS", "ignore")
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "SDK script failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    assert!(stdout.contains("SDK checks passed"), "{stdout}");
    server.stop();
}

//! Helpers for tests that run the real `headwaters` binary.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary under test: the one cargo built, or `HEADWATERS_TEST_BIN` when set (to run
/// the tests against a copy, e.g. in a loop while the workspace is rebuilt).
pub(crate) fn bin() -> &'static str {
    static BIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        std::env::var("HEADWATERS_TEST_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_headwaters").to_string())
    })
}

/// A running `headwaters serve`.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) url: String,
    /// The admin token printed on first start, if this was one.
    pub(crate) first_token: Option<String>,
}

impl Server {
    /// Starts `serve` on a free loopback port and waits until it listens.
    pub(crate) fn start(data_dir: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(bin())
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("headwaters starts");
        let stdout = child.stdout.take();
        // Owned by a Server at once, so a failed start still kills and reaps the child.
        let mut server = Server {
            child,
            url: String::new(),
            first_token: None,
        };
        let stdout = stdout.expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut expect_token = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .expect("server printed its address within 60 s");
            if expect_token {
                server.first_token = Some(line.trim().to_string());
                expect_token = false;
            } else if line.starts_with("first start: admin token") {
                expect_token = true;
            } else if let Some(url) = line.strip_prefix("headwaters listening on ") {
                server.url = url.trim().to_string();
                return server;
            }
        }
    }

    /// SIGTERM, then waits for a clean exit.
    pub(crate) fn stop(mut self) {
        terminate(self.child.id());
        let status = self.child.wait().expect("server exits");
        assert!(status.success(), "server exited with {status}");
    }
}

/// Sends SIGTERM with kill(1) (the crate forbids unsafe code).
fn terminate(pid: u32) {
    let ok = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(ok.success());
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `cmd` to the end, fails the test (with its output) unless it succeeds, and
/// returns its standard output.
pub(crate) fn run_ok(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} did not run: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Mints a token with the CLI.
pub(crate) fn token(data_dir: &Path, role: &str) -> String {
    run_ok(
        Command::new(bin())
            .args([
                "token",
                "create",
                "--name",
                &format!("test-{role}"),
                "--role",
                role,
                "--data-dir",
            ])
            .arg(data_dir),
    )
    .trim()
    .to_string()
}

/// A minimal JSON client that never treats a status as an error.
pub(crate) struct Client {
    agent: ureq::Agent,
    pub(crate) base: String,
    pub(crate) token: String,
}

impl Client {
    pub(crate) fn new(base: &str, token: &str) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent();
        Client {
            agent,
            base: base.to_string(),
            token: token.to_string(),
        }
    }

    fn finish(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Value) {
        let mut r = r.expect("request completes");
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub(crate) fn get(&self, path: &str) -> (u16, Value) {
        Self::finish(
            self.agent
                .get(format!("{}{path}", self.base))
                .header("Authorization", format!("Bearer {}", self.token))
                .call(),
        )
    }

    pub(crate) fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        Self::finish(
            self.agent
                .put(format!("{}{path}", self.base))
                .header("Authorization", format!("Bearer {}", self.token))
                .send_json(body),
        )
    }

    pub(crate) fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        Self::finish(
            self.agent
                .post(format!("{}{path}", self.base))
                .header("Authorization", format!("Bearer {}", self.token))
                .send_json(body),
        )
    }

    pub(crate) fn delete(&self, path: &str) -> (u16, Value) {
        Self::finish(
            self.agent
                .delete(format!("{}{path}", self.base))
                .header("Authorization", format!("Bearer {}", self.token))
                .call(),
        )
    }
}

/// A Python venv with `spec` installed, created once and cached in `$HEADWATERS_CACHE`
/// (default `~/.cache/headwaters`) under `name`. A failed install fails the test with
/// pip's output: a missing PyPI must never skip silently.
pub(crate) fn venv(name: &str, spec: &str, constraints: &str) -> PathBuf {
    let cache = std::env::var_os("HEADWATERS_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/headwaters")
        });
    let venv = cache.join(name);
    let python = venv.join("bin/python");
    let marker = venv.join("headwaters-ready");
    let wanted = format!("{spec}\n{constraints}");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(wanted.as_str()) {
        return python;
    }
    std::fs::create_dir_all(&cache).unwrap();
    let _ = std::fs::remove_dir_all(&venv);
    let run = |cmd: &mut Command| drop(run_ok(cmd));
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    let constraint_file = cache.join(format!("{name}-constraints.txt"));
    std::fs::write(&constraint_file, constraints).unwrap();
    run(Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "-c"])
        .arg(&constraint_file)
        .args(spec.split(' ')));
    std::fs::write(&marker, wanted).unwrap();
    python
}

/// The venv with OpenMetadata's SDK and ingestion framework, openmetadata-ingestion
/// 1.11.x with the postgres and dbt connectors' extras (dbt-core 1.11+ pulls a wheel
/// from outside PyPI; the dbt connector reads artifacts and needs no newer one).
pub(crate) fn sdk_python() -> PathBuf {
    venv(
        "om-venv",
        "openmetadata-ingestion[postgres,dbt]~=1.11.0 cachetools",
        "dbt-core<1.11\n",
    )
}

/// The venv with the OpenLineage Python client 1.5x and Marquez's Python client
/// (which imports `pytz` without declaring it).
pub(crate) fn openlineage_python() -> PathBuf {
    venv(
        "ol-venv",
        "openlineage-python~=1.54.0 marquez-python~=0.50.0 pytz requests",
        "",
    )
}

/// Runs a Python script against a server; fails with its output unless it exits 0 and
/// prints `expect`.
pub(crate) fn run_python(python: &Path, script: &str, url: &str, token: &str, expect: &str) {
    run_python_with(python, script, url, token, expect, &[]);
}

/// [`run_python`] with more environment variables for the script.
pub(crate) fn run_python_with(
    python: &Path,
    script: &str,
    url: &str,
    token: &str,
    expect: &str,
    env: &[(&str, &str)],
) {
    let out = Command::new(python)
        .arg(script)
        .envs(env.iter().copied())
        .env("HW_URL", url)
        .env("HW_TOKEN", token)
        .env("PYTHONWARNINGS", "ignore")
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains(expect),
        "{script} failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
}

/// The string `field` of every object in the array `v[key]`.
pub(crate) fn pluck(v: &Value, key: &str, field: &str) -> Vec<String> {
    v[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x[field].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

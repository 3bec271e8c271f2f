//! Cluster mode against real processes: three `nats-server`s clustered on loopback
//! (JetStream, R3) and `headwaters serve --cluster` nodes, under concurrent writes
//! through every node, while a NATS server and a Headwaters node are killed with
//! SIGKILL and restarted, a fourth node starts from a snapshot, and one node is cut off
//! from NATS (a proxy in this test drops its connections). At the end every
//! acknowledged write is on every node, the nodes' stores have the same digest at the
//! same sequence, and each node applied every log entry exactly once.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Server, bin, run_ok};
use serde_json::{Value, json};

/// Debian's `nats-server` (the test command installs it as root when it is missing).
fn nats_server() -> PathBuf {
    for p in ["/usr/sbin/nats-server", "/usr/bin/nats-server"] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!("nats-server is missing; run: sudo apt-get install -y nats-server");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// One NATS server of the three.
struct Nats {
    conf: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Nats {
    fn start(&mut self) {
        let child = Command::new(nats_server())
            .arg("-c")
            .arg(&self.conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().expect("SIGKILL");
            c.wait().expect("reaped");
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn nats_cluster(dir: &Path) -> Vec<Nats> {
    let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
    let routes: Vec<String> = ports
        .iter()
        .map(|(_, r)| format!("nats-route://127.0.0.1:{r}"))
        .collect();
    ports
        .iter()
        .enumerate()
        .map(|(i, (client, route))| {
            let conf = dir.join(format!("nats{i}.conf"));
            // no_advertise: clients know only the servers they were given, so node 3
            // reaches NATS only through the proxy (a partition cuts it off for real).
            std::fs::write(
                &conf,
                format!(
                    "server_name: n{i}\nlisten: 127.0.0.1:{client}\nmax_payload: 8MB\n\
                     jetstream {{ store_dir: {:?} }}\n\
                     cluster {{ name: hw\n listen: 127.0.0.1:{route}\n no_advertise: true\n routes: [{}] }}\n",
                    dir.join(format!("js{i}")),
                    routes.join(", ")
                ),
            )
            .expect("config written");
            let mut n = Nats {
                conf,
                port: *client,
                child: None,
            };
            n.start();
            n
        })
        .collect()
}

/// A TCP proxy in front of one NATS server: cutting it drops every connection through
/// it and refuses new ones, as a network partition would.
struct Proxy {
    port: u16,
    cut: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn start(target: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy binds");
        let port = listener.local_addr().expect("addr").port();
        let cut = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (c2, k2) = (cut.clone(), conns.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if c2.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let mut list = k2.lock().expect("lock");
                for s in [&client, &server] {
                    if let Ok(c) = s.try_clone() {
                        list.push(c);
                    }
                }
                drop(list);
                for (mut from, mut to) in [
                    (
                        client.try_clone().expect("clone"),
                        server.try_clone().expect("clone"),
                    ),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 16 << 10];
                        while let Ok(n) = from.read(&mut buf) {
                            if n == 0 || to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
            }
        });
        Proxy { port, cut, conns }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for c in self.conns.lock().expect("lock").drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
    }

    fn heal(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

/// An HTTP answer: status, the headers this test reads, and the JSON body. `None`
/// when the node did not answer at all (it is down).
struct Answer {
    status: u16,
    stale: bool,
    body: Value,
}

#[derive(Clone)]
struct Http {
    agent: ureq::Agent,
    token: String,
}

impl Http {
    fn new(token: &str) -> Http {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .new_agent();
        Http {
            agent,
            token: token.to_string(),
        }
    }

    fn call(&self, method: &str, url: &str, body: Option<&Value>) -> Option<Answer> {
        let auth = format!("Bearer {}", self.token);
        let r = match (method, body) {
            ("GET", _) => self.agent.get(url).header("Authorization", &auth).call(),
            ("POST", Some(b)) => self
                .agent
                .post(url)
                .header("Authorization", &auth)
                .send_json(b),
            ("POST", None) => self
                .agent
                .post(url)
                .header("Authorization", &auth)
                .send_empty(),
            ("PUT", Some(b)) => self
                .agent
                .put(url)
                .header("Authorization", &auth)
                .send_json(b),
            _ => unreachable!("the test's own calls"),
        };
        let mut r = r.ok()?;
        let stale = r
            .headers()
            .get("x-headwaters-stale")
            .is_some_and(|v| v == "true");
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        Some(Answer {
            status,
            stale,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        })
    }
}

/// A headwaters node of the cluster.
struct Node {
    name: String,
    dir: PathBuf,
    urls: String,
    server: Option<Server>,
}

impl Node {
    fn start(&mut self) {
        let s = Server::start(
            &self.dir,
            &["--cluster", &self.urls, "--node-name", &self.name],
        );
        self.server = Some(s);
    }

    fn url(&self) -> String {
        self.server.as_ref().expect("running").url.clone()
    }

    fn kill9(&mut self) {
        if let Some(mut s) = self.server.take() {
            s.child.kill().expect("SIGKILL");
            s.child.wait().expect("reaped");
        }
    }

    fn status(&self, http: &Http, digest: bool) -> Value {
        let q = if digest { "?digest=true" } else { "" };
        let a = http
            .call(
                "GET",
                &format!("{}/api/v1/system/cluster{q}", self.url()),
                None,
            )
            .expect("the node answers");
        assert_eq!(a.status, 200, "{}", a.body);
        a.body
    }

    fn wait_ready(&self, http: &Http, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let st = self.status(http, false);
            if st["status"]["ready"] == json!(true) && st["status"]["connected"] == json!(true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} not ready in time: {st}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// What the writers were told.
#[derive(Default)]
struct Ledger {
    /// Tables acknowledged (name).
    tables: Vec<String>,
    /// Edges acknowledged (from, to).
    edges: Vec<(String, String)>,
    /// Writes refused with 503 (not written).
    refused: usize,
    /// Writes without an answer (the node died): may or may not be in the log.
    unknown: usize,
}

fn table_body(name: &str) -> Value {
    json!({
        "name": name,
        "databaseSchema": "svc.db.s",
        "columns": [{"name": "id", "dataType": "INT"}, {"name": "v", "dataType": "STRING"}],
    })
}

fn edge_body((from, from_id): &(String, Value), (to, to_id): &(String, Value)) -> Value {
    json!({"edge": {
        "fromEntity": {"type": "table", "id": from_id},
        "toEntity": {"type": "table", "id": to_id},
        "lineageDetails": {"columnsLineage": [{
            "fromColumns": [format!("svc.db.s.{from}.id")],
            "toColumn": format!("svc.db.s.{to}.id"),
        }]},
    }})
}

/// Writes through `url()` until `stop`: a table, then an edge from this writer's
/// previous table to it. Any answer other than 2xx or 503 fails the test.
fn writer(
    id: usize,
    http: Http,
    url: Arc<Mutex<String>>,
    stop: Arc<AtomicBool>,
    ledger: Arc<Mutex<Ledger>>,
    done: Arc<AtomicUsize>,
) {
    let mut prev: Option<(String, Value)> = None;
    let mut i = 0;
    // Unanswered (the node died) and refused writes are retried after a pause.
    let note = |a: &Option<Answer>| -> bool {
        let mut l = ledger.lock().expect("lock");
        match a {
            None => l.unknown += 1,
            Some(a) if a.status == 503 => l.refused += 1,
            Some(_) => return true,
        }
        false
    };
    while !stop.load(Ordering::SeqCst) {
        i += 1;
        let base = url.lock().expect("lock").clone();
        let name = format!("w{id}_{i}");
        let a = http.call(
            "PUT",
            &format!("{base}/api/v1/tables"),
            Some(&table_body(&name)),
        );
        if !note(&a) {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        let a = a.expect("answered");
        assert!(
            a.status == 200 || a.status == 201,
            "writer {id}: PUT table {name}: {} {}",
            a.status,
            a.body
        );
        ledger.lock().expect("lock").tables.push(name.clone());
        let this = (name, a.body["id"].clone());
        if let Some(p) = prev.replace(this.clone()) {
            let a = http.call(
                "PUT",
                &format!("{base}/api/v1/lineage"),
                Some(&edge_body(&p, &this)),
            );
            if note(&a) {
                let a = a.expect("answered");
                assert_eq!(
                    a.status, 200,
                    "writer {id}: PUT lineage {}->{}: {}",
                    p.0, this.0, a.body
                );
                ledger.lock().expect("lock").edges.push((p.0, this.0));
            }
        }
        done.fetch_add(1, Ordering::Relaxed);
    }
}

fn wait_writes(done: &AtomicUsize, writers: &[std::thread::JoinHandle<()>], more: usize) {
    let target = done.load(Ordering::Relaxed) + more;
    let deadline = Instant::now() + Duration::from_secs(90);
    while done.load(Ordering::Relaxed) < target {
        assert!(
            !writers.iter().any(|w| w.is_finished()),
            "a writer failed (see its panic above)"
        );
        assert!(Instant::now() < deadline, "writers stalled");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_three_node_cluster_survives_kills_a_partition_and_a_new_node_from_a_snapshot() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut nats = nats_cluster(tmp.path());
    let proxy = Proxy::start(nats[2].port);
    let all = nats
        .iter()
        .map(|n| format!("nats://127.0.0.1:{}", n.port))
        .collect::<Vec<_>>()
        .join(",");
    // One token secret for the whole cluster.
    let secret = "0123456789abcdef0123456789abcdef-cluster-test-secret";
    let mk = |i: usize, urls: &str| {
        let dir = tmp.path().join(format!("hw{i}"));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("jwt-secret"), secret).expect("secret");
        Node {
            name: format!("hw{i}"),
            dir,
            urls: urls.to_string(),
            server: None,
        }
    };
    let via_proxy = format!("nats://127.0.0.1:{}", proxy.port);
    let mut nodes = vec![mk(1, &all), mk(2, &all), mk(3, &via_proxy), mk(4, &all)];
    let token = run_ok(
        Command::new(bin())
            .args([
                "token",
                "create",
                "--name",
                "test",
                "--role",
                "admin",
                "--data-dir",
            ])
            .arg(&nodes[0].dir),
    )
    .trim()
    .to_string();
    let http = Http::new(&token);
    for n in nodes.iter_mut().take(3) {
        n.start();
    }
    for n in nodes.iter().take(3) {
        n.wait_ready(&http, Duration::from_secs(60));
    }
    // The hierarchy, each level through another node.
    let setup: [(&str, Value); 3] = [
        (
            "/api/v1/services/databaseServices",
            json!({"name": "svc", "serviceType": "Mysql"}),
        ),
        ("/api/v1/databases", json!({"name": "db", "service": "svc"})),
        (
            "/api/v1/databaseSchemas",
            json!({"name": "s", "database": "svc.db"}),
        ),
    ];
    for (i, (path, body)) in setup.iter().enumerate() {
        let a = http
            .call("PUT", &format!("{}{path}", nodes[i].url()), Some(body))
            .expect("answer");
        assert!(a.status == 201 || a.status == 200, "{path}: {}", a.body);
    }

    // Writers, one per node.
    let stop = Arc::new(AtomicBool::new(false));
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let done = Arc::new(AtomicUsize::new(0));
    let urls: Vec<Arc<Mutex<String>>> = nodes
        .iter()
        .take(3)
        .map(|n| Arc::new(Mutex::new(n.url())))
        .collect();
    let writers: Vec<_> = (0..3)
        .map(|i| {
            let (h, u, s, l, d) = (
                http.clone(),
                urls[i].clone(),
                stop.clone(),
                ledger.clone(),
                done.clone(),
            );
            std::thread::spawn(move || writer(i + 1, h, u, s, l, d))
        })
        .collect();
    wait_writes(&done, &writers, 150);

    // SIGKILL one NATS server (not node 3's: its only route is through the proxy), then
    // one Headwaters node; writes go on through the others.
    nats[1].kill9();
    wait_writes(&done, &writers, 150);
    nodes[1].kill9();
    wait_writes(&done, &writers, 150);
    nats[1].start();
    nodes[1].start();
    *urls[1].lock().expect("lock") = nodes[1].url();
    nodes[1].wait_ready(&http, Duration::from_secs(90));
    wait_writes(&done, &writers, 150);

    // A snapshot, and a fourth node that starts from it (a new node prefers the
    // snapshot to replaying the log; the log keeps 100k entries behind it).
    let snap = http
        .call(
            "POST",
            &format!("{}/api/v1/system/cluster/snapshot", nodes[0].url()),
            None,
        )
        .expect("answer");
    assert_eq!(snap.status, 200, "{}", snap.body);
    let snap_seq = snap.body["sequence"].as_u64().expect("sequence");
    assert!(snap_seq > 100, "{}", snap.body);
    nodes[3].start();
    nodes[3].wait_ready(&http, Duration::from_secs(90));
    let st4 = nodes[3].status(&http, false);
    assert!(
        st4["status"]["appliedSinceStart"].as_u64().expect("count")
            < st4["status"]["appliedSequence"].as_u64().expect("seq"),
        "node 4 started from the snapshot, not from the start of the log: {st4}"
    );
    wait_writes(&done, &writers, 150);

    // Partition: node 3 loses NATS. Writes there are refused with a clear 503; reads are
    // served, marked stale.
    proxy.cut();
    let deadline = Instant::now() + Duration::from_secs(30);
    while nodes[2].status(&http, false)["status"]["connected"] == json!(true) {
        assert!(
            Instant::now() < deadline,
            "node 3 never noticed the partition"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let refused = http
        .call(
            "PUT",
            &format!("{}/api/v1/tables", nodes[2].url()),
            Some(&table_body("cut_off")),
        )
        .expect("answer");
    assert_eq!(refused.status, 503, "{}", refused.body);
    let msg = refused.body["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("writes are refused") && msg.contains("NATS"),
        "{msg}"
    );
    let read = http
        .call(
            "GET",
            &format!("{}/api/v1/tables/name/svc.db.s.w1_1", nodes[2].url()),
            None,
        )
        .expect("answer");
    assert_eq!(read.status, 200, "{}", read.body);
    assert!(read.stale, "a read from the cut-off node is marked stale");
    wait_writes(&done, &writers, 150); // the others keep writing meanwhile
    proxy.heal();
    nodes[2].wait_ready(&http, Duration::from_secs(90));
    wait_writes(&done, &writers, 60);

    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().expect("writer");
    }

    // Every node reaches the same sequence, with the same digest.
    // (Twice in a row: a write whose answer timed out may still land in the log.)
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = Value::Null;
    let statuses = loop {
        let s: Vec<Value> = nodes.iter().map(|n| n.status(&http, true)).collect();
        let seqs: Vec<&Value> = s.iter().map(|v| &v["digestSequence"]).collect();
        let same = seqs.iter().all(|q| *q == seqs[0])
            && s.iter().all(|v| {
                v["status"]["lag"] == json!(0) && v["status"]["appliedSequence"] == *seqs[0]
            });
        if same && *seqs[0] == last {
            break s;
        }
        last = if same { seqs[0].clone() } else { Value::Null };
        assert!(Instant::now() < deadline, "nodes did not converge: {s:?}");
        std::thread::sleep(Duration::from_millis(300));
    };
    // The same log first (else JetStream delivered different entries), then the same
    // stores (else applying a command is not deterministic).
    let logs: Vec<&Value> = statuses.iter().map(|s| &s["status"]["logHash"]).collect();
    assert!(
        logs.iter().all(|l| *l == logs[0]),
        "the nodes applied different logs: {statuses:?}"
    );
    let digests: Vec<&Value> = statuses.iter().map(|s| &s["digest"]).collect();
    assert!(
        digests.iter().all(|d| *d == digests[0]),
        "the nodes' stores differ: {statuses:?}"
    );
    for s in &statuses {
        assert_eq!(
            s["status"]["appliedCommands"], s["status"]["appliedSequence"],
            "each log entry applied exactly once: {s}"
        );
    }

    // Every acknowledged write is on every node.
    let l = ledger.lock().expect("lock");
    assert!(
        l.tables.len() > 500,
        "enough writes to mean something: {}",
        l.tables.len()
    );
    assert!(l.refused > 0, "the partition refused writes");
    for n in &nodes {
        let base = n.url();
        for t in &l.tables {
            let a = http
                .call(
                    "GET",
                    &format!("{base}/api/v1/tables/name/svc.db.s.{t}"),
                    None,
                )
                .expect("answer");
            assert_eq!(a.status, 200, "{}: table {t} missing: {}", n.name, a.body);
        }
        for (f, t) in l.edges.iter().step_by(7) {
            let a = http
                .call(
                    "GET",
                    &format!("{base}/api/v1/lineage/table/name/svc.db.s.{t}?upstreamDepth=1&downstreamDepth=0"),
                    None,
                )
                .expect("answer");
            assert_eq!(a.status, 200, "{}", a.body);
            let ups = a.body["upstreamEdges"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let from_fqn = format!("svc.db.s.{f}");
            let has = a.body["nodes"].as_array().is_some_and(|ns| {
                ns.iter()
                    .any(|x| x["fullyQualifiedName"] == json!(from_fqn))
            });
            assert!(
                has && !ups.is_empty(),
                "{}: edge {f}->{t} missing: {}",
                n.name,
                a.body
            );
        }
    }
    eprintln!(
        "cluster test: {} tables and {} edges acknowledged, {} refused (partition, NATS down), {} unanswered (node killed); {} commands in the log; snapshot at {snap_seq}",
        l.tables.len(),
        l.edges.len(),
        l.refused,
        l.unknown,
        statuses[0]["digestSequence"]
    );
    drop(l);
    for n in &mut nodes {
        if let Some(s) = n.server.take() {
            s.stop();
        }
    }
}

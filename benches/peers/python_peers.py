"""Python peers of the `peers` bench: DuckDB (recursive CTE) and networkx (a data
engineer's script). Run by benches/benches/peers.rs through benches/peers/run.sh, one
process per engine so each one's peak RSS is its own.

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
    loaders = {"duckdb": load_duckdb, "networkx": load_networkx}
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
        "peak_rss_kib": peak_rss_kib(),
        "classes": out,
    }
    with open(os.path.join(work, f"{engine}.json"), "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()

"""End-to-end test: OpenMetadata's ingestion framework (`metadata ingest`, `metadata
usage`, openmetadata-ingestion 1.11.x, unchanged) against a real `headwaters serve`,
reading a real PostgreSQL 15 that this script starts on a loopback port.

Run by server/tests/ingest.rs with HW_URL, HW_TOKEN and HW_REPO set (and
HW_PG_BIN, the directory of PostgreSQL's server binaries). Every workflow must exit 0
with no failures in its status report; after each, the script asserts on what landed
in Headwaters through the REST API. Each workflow then runs a second time and must
change nothing it should not."""

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

URL = os.environ["HW_URL"]
TOKEN = os.environ["HW_TOKEN"]
REPO = os.environ["HW_REPO"]
PG_BIN = os.environ["HW_PG_BIN"]
METADATA = os.path.join(os.path.dirname(sys.executable), "metadata")
JAFFLE = os.path.join(REPO, "fixtures", "dbt", "jaffle")
SERVICE = "pg_local"
step = 0


def ok(what):
    global step
    step += 1
    print(f"ok {step} - {what}", flush=True)


# --- Headwaters over plain HTTP (not the SDK: the assertions must not depend on it) ---


def api(method, path, body=None):
    req = urllib.request.Request(
        f"{URL}/api/v1/{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def get(path):
    status, body = api("GET", path)
    assert status == 200, f"GET {path}: {status} {body}"
    return body


def q(s):
    return urllib.parse.quote(s, safe="")


# --- PostgreSQL ------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """A throwaway PostgreSQL cluster on a loopback port, trust auth, pg_stat_statements
    on. As root, the server runs as the `postgres` user (PostgreSQL refuses root)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="hw-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.as_user = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.run([f"{PG_BIN}/initdb", "-D", self.data, "-U", "hw", "--auth=trust", "-E", "UTF8"])
        self.run(
            [
                f"{PG_BIN}/pg_ctl", "-D", self.data, "-w", "-l", os.path.join(self.dir, "log"),
                "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all "
                "-c pg_stat_statements.track_utility=on",
                "start",
            ]
        )

    def run(self, cmd, **kw):
        out = subprocess.run(self.as_user + cmd, capture_output=True, text=True, **kw)
        assert out.returncode == 0, f"{cmd} failed:\n{out.stdout}\n{out.stderr}"
        return out.stdout

    def sql(self, db, script):
        return subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
             str(self.port), "-U", "hw", "-d", db],
            input=script, capture_output=True, text=True, check=True,
        ).stdout

    def stop(self):
        subprocess.run(self.as_user + [f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", "fast", "stop"],
                       capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


PG_TYPES = {"INTEGER": "integer", "BIGINT": "bigint", "VARCHAR": "varchar(200)",
            "DATE": "date", "DOUBLE": "double precision", "TIMESTAMP": "timestamp"}


def build_jaffle(pg):
    """Database `jaffle` as `dbt build` would leave it: the seeds loaded from the
    project's CSVs (plus keys and comments), the source the on-run-start hook creates,
    then every model and the snapshot from the manifest's compiled SQL in dependency
    order, views as views and tables with CREATE TABLE AS, each statement carrying
    dbt's query comment (so the query-log lineage skips them, as it does dbt's own, and
    their table lineage comes from the dbt workflow). Then, outside dbt, a reporting
    schema: one table filled with INSERT ... SELECT, one made with CREATE TABLE AS,
    and a join read three times (query-log lineage and usage)."""
    pg.sql("postgres", "CREATE DATABASE jaffle;")
    manifest = json.load(open(os.path.join(JAFFLE, "manifest.json")))
    catalog = json.load(open(os.path.join(JAFFLE, "catalog.json")))
    s = ["CREATE EXTENSION pg_stat_statements;", "CREATE SCHEMA main;", "CREATE SCHEMA snapshots;",
         "CREATE SCHEMA reporting;"]
    keys = {"raw_customers": "id", "raw_orders": "id", "raw_payments": "id"}
    for seed in ("raw_customers", "raw_orders", "raw_payments"):
        cols = catalog["nodes"][f"seed.jaffle.{seed}"]["columns"].values()
        defs = [f"{c['name']} {PG_TYPES[c['type']]}" for c in sorted(cols, key=lambda c: c["index"])]
        defs.append(f"PRIMARY KEY ({keys[seed]})")
        s.append(f"CREATE TABLE main.{seed} ({', '.join(defs)});")
        rows = list(csv.reader(open(os.path.join(JAFFLE, "project", "seeds", f"{seed}.csv"))))
        values = ",".join("(" + ",".join(f"'{v}'" for v in r) + ")" for r in rows[1:])
        s.append(f"INSERT INTO main.{seed} VALUES {values};")
    s.append("ALTER TABLE main.raw_orders ADD FOREIGN KEY (user_id) REFERENCES main.raw_customers (id);")
    s.append("ALTER TABLE main.raw_payments ADD FOREIGN KEY (order_id) REFERENCES main.raw_orders (id);")
    s.append("COMMENT ON TABLE main.raw_orders IS 'Orders as the shop exports them';")
    s.append("COMMENT ON COLUMN main.raw_orders.status IS 'placed, shipped, completed or returned';")
    s.extend(manifest["on-run-start"] if isinstance(manifest.get("on-run-start"), list) else [])
    hook = manifest["nodes"]["operation.jaffle.jaffle-on-run-start-0"]["compiled_code"]
    s.append(hook + ";")
    done = {k for k in manifest["nodes"] if k.startswith("seed.") or k.startswith("operation.")}
    done |= set(manifest["sources"])
    todo = [k for k in manifest["nodes"] if k not in done]
    while todo:
        for k in list(todo):
            n = manifest["nodes"][k]
            if not all(d in done for d in n["depends_on"]["nodes"]):
                continue
            code = n["compiled_code"].strip().rstrip(";")
            rel = f"{n['schema']}.{n['alias']}"
            dbt_comment = f'/* {{"app": "dbt", "dbt_version": "1.10.23", "node_id": "{k}"}} */ '
            s.append(dbt_comment)
            if n["config"]["materialized"] == "view":
                s[-1] += f"CREATE VIEW {rel} AS {code};"
            elif n["resource_type"] == "snapshot":
                s[-1] += (
                    f"CREATE TABLE {rel} AS SELECT o.*, md5(o.id::text) AS dbt_scd_id, "
                    "now()::timestamp AS dbt_updated_at, now()::timestamp AS dbt_valid_from, "
                    f"NULL::timestamp AS dbt_valid_to FROM ({code}) o;"
                )
            else:
                s[-1] += f"CREATE TABLE {rel} AS {code};"
            done.add(k)
            todo.remove(k)
    s.append("CREATE TABLE reporting.daily_revenue (order_date date, orders bigint, revenue double precision);")
    s.append("COMMENT ON TABLE reporting.daily_revenue IS 'Revenue per day';")
    s.append(
        "INSERT INTO reporting.daily_revenue (order_date, orders, revenue) "
        "SELECT order_date, count(*), sum(amount) FROM main.orders GROUP BY order_date;"
    )
    s.append(
        "CREATE TABLE reporting.top_customers AS SELECT customer_id, first_name, lifetime_value "
        "FROM main.customers WHERE lifetime_value IS NOT NULL ORDER BY lifetime_value DESC LIMIT 10;"
    )
    # Reads for the usage workflow: a join, run a few times.
    for _ in range(3):
        s.append(
            "SELECT c.first_name, sum(o.amount) FROM main.customers c "
            "JOIN main.orders o ON o.customer_id = c.customer_id GROUP BY c.first_name;"
        )
    pg.sql("jaffle", "\n".join(s))


# --- workflows ---------------------------------------------------------------------


def server_config():
    return {
        "openMetadataServerConfig": {
            "hostPort": f"{URL}/api",
            "authProvider": "openmetadata",
            "securityConfig": {"jwtToken": TOKEN},
        },
        "loggerLevel": "INFO",
    }


def pg_connection(pg):
    return {
        "config": {
            "type": "Postgres",
            "username": "hw",
            "authType": {"password": "unused"},
            "hostPort": f"127.0.0.1:{pg.port}",
            "database": "jaffle",
        }
    }


def run_workflow(kind, config, work):
    """Runs `metadata {kind} -c` on `config`; fails unless it exits 0 and its status
    report lists no failures."""
    path = os.path.join(work, f"{config['source']['type']}.yaml")
    with open(path, "w") as f:
        json.dump(config, f)  # YAML is a superset of JSON
    out = subprocess.run([METADATA, kind, "-c", path], capture_output=True, text=True)
    log = out.stdout + out.stderr
    with open(os.path.join(work, f"{config['source']['type']}.log"), "w") as f:
        f.write(log)
    assert out.returncode == 0, f"metadata {kind} ({config['source']['type']}) exited {out.returncode}:\n{log[-20000:]}"
    for line in log.splitlines():
        # The summary table: "| Failures | 0 |" per step; any other count is a failure.
        if "Failures" in line and "|" in line:
            cells = [c.strip() for c in line.split("|") if c.strip()]
            if len(cells) >= 2 and cells[0].startswith("Failures"):
                assert cells[1] in ("0", "[]"), f"{config['source']['type']}: {line}\n{log[-20000:]}"
    for bad in ("Traceback", "Error fetching", "status_code=4", "status_code=5"):
        assert bad not in log, f"{config['source']['type']}: {bad!r} in the log:\n{log[-20000:]}"
    return log


def metadata_workflow(pg, work):
    return run_workflow(
        "ingest",
        {
            "source": {
                "type": "postgres",
                "serviceName": SERVICE,
                "serviceConnection": pg_connection(pg),
                "sourceConfig": {
                    "config": {
                        "type": "DatabaseMetadata",
                        "includeViews": True,
                        "includeTables": True,
                        "includeStoredProcedures": True,
                        "schemaFilterPattern": {"excludes": ["^information_schema$", "^pg_catalog$"]},
                    }
                },
            },
            "sink": {"type": "metadata-rest", "config": {}},
            "workflowConfig": server_config(),
        },
        work,
    )


def lineage_workflow(pg, work):
    return run_workflow(
        "ingest",
        {
            "source": {
                "type": "postgres-lineage",
                "serviceName": SERVICE,
                "serviceConnection": pg_connection(pg),
                "sourceConfig": {
                    "config": {
                        "type": "DatabaseLineage",
                        "queryLogDuration": 1,
                        "resultLimit": 10000,
                        "processViewLineage": True,
                        "processQueryLineage": True,
                        "processStoredProcedureLineage": True,
                    }
                },
            },
            "sink": {"type": "metadata-rest", "config": {}},
            "workflowConfig": server_config(),
        },
        work,
    )


def usage_workflow(pg, work):
    stage = os.path.join(work, "usage-stage")
    return run_workflow(
        "usage",
        {
            "source": {
                "type": "postgres-usage",
                "serviceName": SERVICE,
                "serviceConnection": pg_connection(pg),
                "sourceConfig": {"config": {"type": "DatabaseUsage", "queryLogDuration": 1, "resultLimit": 10000}},
            },
            "processor": {"type": "query-parser", "config": {}},
            "stage": {"type": "table-usage", "config": {"filename": stage}},
            "bulkSink": {"type": "metadata-usage", "config": {"filename": stage}},
            "workflowConfig": server_config(),
        },
        work,
    )


def dbt_workflow(work):
    return run_workflow(
        "ingest",
        {
            "source": {
                "type": "dbt",
                "serviceName": SERVICE,
                "sourceConfig": {
                    "config": {
                        "type": "DBT",
                        "dbtConfigSource": {
                            "dbtConfigType": "local",
                            "dbtManifestFilePath": os.path.join(JAFFLE, "manifest.json"),
                            "dbtCatalogFilePath": os.path.join(JAFFLE, "catalog.json"),
                        },
                        "dbtUpdateDescriptions": True,
                        "includeTags": True,
                    }
                },
            },
            "sink": {"type": "metadata-rest", "config": {}},
            "workflowConfig": server_config(),
        },
        work,
    )


def rest_workflow(work):
    """OpenMetadata's REST connector on Headwaters' own OpenAPI document."""
    return run_workflow(
        "ingest",
        {
            "source": {
                "type": "rest",
                "serviceName": "hw_api",
                "serviceConnection": {
                    "config": {
                        "type": "Rest",
                        "openAPISchemaConnection": {"openAPISchemaURL": f"{URL}/api/v1/openapi.json"},
                    }
                },
                "sourceConfig": {"config": {"type": "ApiMetadata"}},
            },
            "sink": {"type": "metadata-rest", "config": {}},
            "workflowConfig": server_config(),
        },
        work,
    )


# --- what landed -------------------------------------------------------------------


def table(name, fields="columns,tableConstraints,tags,usageSummary,joins,dataModel"):
    return get(f"tables/name/{q(SERVICE + '.jaffle.' + name)}?fields={fields}")


def upstream(name):
    """{upstream table name: (source, column mappings)} of a table."""
    g = get(f"lineage/table/name/{q(SERVICE + '.jaffle.' + name)}?upstreamDepth=1&downstreamDepth=0")
    names = {n["id"]: n["fullyQualifiedName"].split(".", 2)[2] for n in g["nodes"]}
    out = {}
    for e in g.get("upstreamEdges", []):
        d = e.get("lineageDetails") or {}
        cols = {(c["fromColumns"][0].rsplit(".", 1)[1], c["toColumn"].rsplit(".", 1)[1])
                for c in d.get("columnsLineage") or [] for _ in c["fromColumns"][:1]}
        out[names[e["fromEntity"]]] = (d.get("source"), cols)
    return out


def short(x):
    """An assertion message that stays readable."""
    text = json.dumps(x, default=str)
    return text if len(text) < 1500 else text[:1500] + " ..."


def column(t, name):
    return next(c for c in t["columns"] if c["name"] == name)


def search(**params):
    return get("search/query?" + urllib.parse.urlencode(params))


def snapshot():
    """Counts that a second run of the same workflows must leave unchanged."""
    tables = get("tables?limit=1000&fields=tags")
    edges = sum(
        len(get(f"lineage/table/name/{q(t['fullyQualifiedName'])}?upstreamDepth=1&downstreamDepth=0").get("upstreamEdges", []))
        for t in tables["data"]
    )
    return {
        "tables": tables["paging"]["total"],
        "edges": edges,
        "queries": get("queries?limit=1")["paging"]["total"],
        "tags": get("tags?limit=1")["paging"]["total"],
        "classifications": get("classifications?limit=1")["paging"]["total"],
        "versions": [table(t)["version"] for t in ("main.customers", "main.stg_orders", "reporting.daily_revenue")],
    }


def check_metadata(second_run=False):
    svc = get(f"services/databaseServices/name/{SERVICE}?fields=*")
    assert svc["serviceType"] == "Postgres", short(svc)
    assert get(f"databaseSchemas?database={SERVICE}.jaffle&limit=100")["paging"]["total"] >= 3
    main_tables = get(f"tables?databaseSchema={SERVICE}.jaffle.main&limit=100")["data"]
    assert {t["name"] for t in main_tables} >= {
        "raw_customers", "raw_orders", "raw_payments", "ext_events", "stg_customers", "stg_orders",
        "stg_payments", "stg_events", "orders", "customers"}, [t["name"] for t in main_tables]
    t = table("main.raw_orders")
    assert t["description"] == "Orders as the shop exports them", short(t)
    assert [c["name"] for c in t["columns"]] == ["id", "user_id", "order_date", "status"], t["columns"]
    assert column(t, "id")["constraint"] == "PRIMARY_KEY" and column(t, "id")["dataType"] == "INT"
    assert column(t, "status")["description"] == "placed, shipped, completed or returned"
    # The source resolves a foreign key by reading the referred table back; the sink
    # writes tables in bulk batches, so a key to a table of the same batch lands on the
    # next run (as with OpenMetadata itself: the client does this, not the server).
    fk = [c for c in t["tableConstraints"] if c["constraintType"] == "FOREIGN_KEY"]
    assert fk or not second_run, short(t["tableConstraints"])
    if fk:
        assert fk[0]["columns"] == ["user_id"], short(fk)
        assert fk[0]["referredColumns"] == [f"{SERVICE}.jaffle.main.raw_customers.id"], short(fk)
    v = table("main.stg_payments", "columns")
    assert v["tableType"] == "View" and "raw_payments" in v["schemaDefinition"], short(v)
    # The seed guide's search examples, answered from the ingested catalog.
    hits = search(q="name:raw_orders", index="table_search_index")["hits"]
    assert [h["_source"]["name"] for h in hits["hits"]] == ["raw_orders"], short(hits)
    f = json.dumps({"query": {"bool": {"must": [{"term": {"tableType": "View"}}, {"term": {"service.name.keyword": SERVICE}}, {"term": {"databaseSchema.name": "main"}}]}}})
    views = search(q="", index="table_search_index", query_filter=f, size=50, sort_field="name.keyword", sort_order="asc")["hits"]
    assert [h["_source"]["name"] for h in views["hits"]] == ["stg_customers", "stg_events", "stg_orders", "stg_payments"], short(views)
    status, body = api("GET", f"tables/name/{q(SERVICE + '.jaffle.main.raw_orders')}?fields=nonsense")
    assert status == 400 and "nonsense" in body["message"], (status, short(body))


def check_lineage():
    # The workflow marks the views it has read (PATCH add /processedLineage).
    assert table("main.stg_payments", "columns").get("processedLineage") is True
    up = upstream("main.stg_payments")
    assert up["main.raw_payments"][0] == "ViewLineage" and ("amount", "amount") in up["main.raw_payments"][1], short(up)
    up = upstream("reporting.daily_revenue")
    assert up["main.orders"][0] == "QueryLineage" and ("amount", "revenue") in up["main.orders"][1], short(up)
    up = upstream("reporting.top_customers")
    assert up["main.customers"][0] == "QueryLineage" and ("lifetime_value", "lifetime_value") in up["main.customers"][1], short(up)
    # The query entities, found the way the SDK looks for processed queries.
    f = json.dumps({"query": {"bool": {"must": [{"term": {"processedLineage": True}}, {"term": {"service.name.keyword": SERVICE}}]}}})
    hits = search(q="", index="query_search_index", query_filter=f, size=100, include_source_fields="checksum")["hits"]["hits"]
    sums = {h["_source"]["checksum"] for h in hits}
    queries = get("queries?limit=100")["data"]
    insert = [x for x in queries if x["query"].startswith("INSERT INTO reporting.daily_revenue")]
    assert len(insert) == 1 and insert[0]["checksum"] in sums and insert[0]["fullyQualifiedName"] == f"{SERVICE}.{insert[0]['checksum']}", short(insert)


def check_usage():
    t = table("main.orders")
    u = t["usageSummary"]
    assert u["dailyStats"]["count"] >= 2 and 0 <= u["dailyStats"]["percentileRank"] <= 100, short(u)
    assert u["weeklyStats"]["count"] >= u["dailyStats"]["count"], u
    joined = {w["fullyQualifiedName"] for cj in t["joins"]["columnJoins"] for w in cj["joinedWith"]}
    assert f"{SERVICE}.jaffle.main.customers.customer_id" in joined, short(t["joins"])
    used = get(f"queries?entityId={t['id']}&limit=100")["data"]
    assert any(x["query"].startswith("SELECT c.first_name") for x in used), [x["query"][:60] for x in used]


def check_dbt():
    t = table("main.orders")
    assert t["description"] == "One row per order, with what was paid", short(t["description"])
    assert column(t, "amount")["description"] == "Order total in dollars"
    assert "dbtTags.money" in [x["tagFQN"] for x in column(t, "amount")["tags"]], short(column(t, "amount"))
    assert "dbtTags.finance" in [x["tagFQN"] for x in t["tags"]], t["tags"]
    assert t["dataModel"]["modelType"] == "DBT" and "stg_payments" in t["dataModel"]["sql"], short(t["dataModel"])
    assert get("classifications/name/dbtTags")["name"] == "dbtTags"
    assert get("tags/name/dbtTags.marketing")["classification"]["name"] == "dbtTags"
    up = upstream("main.customers")
    assert {k: v[0] for k, v in up.items()} == {
        "main.orders": "DbtLineage", "main.stg_customers": "DbtLineage", "main.stg_events": "DbtLineage"}, up
    assert ("lifetime_value", "lifetime_value") not in up["main.orders"][1]
    tagged = search(q="", index="table_search_index", query_filter=json.dumps({"term": {"tags.tagFQN": "dbtTags.finance"}}))
    assert {h["_source"]["name"] for h in tagged["hits"]["hits"]} == {"orders", "customers"}, short(tagged)


def check_rest():
    svc = get("services/apiServices/name/hw_api")
    assert svc["serviceType"] == "Rest", short(svc)
    cols = get("apiCollections?service=hw_api&limit=100")["data"]
    assert "lineage" in {c["name"] for c in cols}, short([c["name"] for c in cols])
    # The connector files each path under the tag of its first operation.
    eps = [e for c in cols for e in get(f"apiEndpoints?apiCollection=hw_api.{q(c['name'])}&limit=1000")["data"]]
    put = [e for e in eps if e["name"] == "/api/v1/lineage/put"]
    assert put and put[0]["requestMethod"] == "PUT", short([e["name"] for e in eps])
    fields = {f["name"] for f in put[0]["requestSchema"]["schemaFields"]}
    assert "edge" in fields, short(put[0]["requestSchema"])
    get_lineage = next(e for e in eps if e["name"] == "/api/v1/lineage/{entityType}/name/{fqn}/get")
    assert get_lineage["responseSchema"]["schemaFields"], short(get_lineage)
    # An endpoint is a lineage node like any other: the table it serves, upstream.
    orders = table("main.orders", "columns")
    status, body = api("PUT", "lineage", {"edge": {
        "fromEntity": {"id": orders["id"], "type": "table"},
        "toEntity": {"id": get_lineage["id"], "type": "apiEndpoint"},
    }})
    assert status == 200, short(body)
    g = get(f"lineage/apiEndpoint/{get_lineage['id']}?upstreamDepth=1&downstreamDepth=0")
    assert orders["id"] in [e["fromEntity"] for e in g["upstreamEdges"]], short(g)


def main():
    work = os.environ.get("HW_WORK") or tempfile.mkdtemp(prefix="hw-ingest-")
    os.makedirs(work, exist_ok=True)
    pg = Postgres()
    try:
        build_jaffle(pg)
        ok(f"PostgreSQL on port {pg.port} with database jaffle")
        runs = [
            ("postgres metadata workflow", lambda: metadata_workflow(pg, work), check_metadata),
            ("postgres-lineage workflow", lambda: lineage_workflow(pg, work), check_lineage),
            ("postgres usage workflow", lambda: usage_workflow(pg, work), check_usage),
            ("dbt workflow", lambda: dbt_workflow(work), check_dbt),
            ("REST (OpenAPI) workflow", lambda: rest_workflow(work), check_rest),
        ]
        for what, run, check in runs:
            run()
            check()
            ok(f"{what}: exit 0, no failures, and what it read landed")
        before = snapshot()
        for what, run, check in runs:
            run()
        check_metadata(second_run=True), check_lineage(), check_dbt()
        after = snapshot()
        assert before == after, f"a second run changed {before} into {after}"
        ok(f"every workflow a second time: nothing changed ({after})")
    finally:
        pg.stop()
    print("ingestion checks passed")


if __name__ == "__main__":
    main()

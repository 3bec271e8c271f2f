"""End-to-end test: a real OpenLineage producer, `dbt-ol` (openlineage-dbt with
dbt-duckdb), running `dbt-ol build` and then `dbt-ol run` on the jaffle project
(fixtures/dbt/jaffle/project, copied to a temporary directory) against a real
`headwaters serve`. Run by server/tests/dbt_ol.rs with HW_URL, HW_TOKEN and HW_REPO set.

Asserts the graph, the column lineage, descriptions and types, one pipeline per model
across both commands, no table made of a CTE, and the runs of each command."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

URL, TOKEN, REPO = os.environ["HW_URL"], os.environ["HW_TOKEN"], os.environ["HW_REPO"]
BIN = os.path.dirname(sys.executable)
NS = "dbt_jaffle"
step = 0


def ok(what):
    global step
    step += 1
    print(f"ok {step} - {what}", flush=True)


def get(path):
    req = urllib.request.Request(f"{URL}/api/v1/{path}", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def q(s):
    return urllib.parse.quote(s, safe="")


def dbt_ol(command, project):
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "OPENLINEAGE_URL": URL,
           "OPENLINEAGE_API_KEY": TOKEN, "OPENLINEAGE_NAMESPACE": NS, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    out = subprocess.run([os.path.join(BIN, "dbt-ol"), command, "--profiles-dir", "."], cwd=project, env=env,
                         capture_output=True, text=True, timeout=600)
    log = out.stdout + out.stderr
    assert out.returncode == 0, f"dbt-ol {command} exited {out.returncode}:\n{log[-8000:]}"
    assert "failed to emit" not in log, f"dbt-ol {command}: an event was refused:\n{log[-8000:]}"
    return log


project = tempfile.mkdtemp(prefix="hw-dbt-ol-")
shutil.copytree(os.path.join(REPO, "fixtures", "dbt", "jaffle", "project"), project, dirs_exist_ok=True)
dbt_ol("build", project)
ok("dbt-ol build: every event accepted")
dbt_ol("run", project)
ok("dbt-ol run: every event accepted")

namespaces = {n["name"] for n in get("namespaces")["namespaces"]}
assert NS in namespaces and len(namespaces) == 2, namespaces
ds_ns = next(n for n in namespaces if n != NS)
tables = get("tables?limit=1000&fields=columns")["data"]
names = sorted(t["fullyQualifiedName"].split(".", 1)[1] for t in tables)
assert names == sorted(f"jaffle.main.{t}" for t in ["customers", "ext_events", "orders", "raw_customers", "raw_orders", "raw_payments", "stg_customers", "stg_events", "stg_orders", "stg_payments"]) + ["jaffle.snapshots.orders_snapshot"], names
ok("one table per relation; the CTE `events` of customers.sql did not become a table")

models = ["customers", "orders", "stg_customers", "stg_events", "stg_orders", "stg_payments"]
jobs = {j["name"] for j in get(f"namespaces/{q(NS)}/jobs?limit=100")["jobs"]}
for m in models:
    assert f"jaffle.main.jaffle.{m}" in jobs, jobs
assert not [j for j in jobs if ".build." in j], jobs
runs = get(f"openlineage/runs?namespace={q(NS)}&job=jaffle.main.jaffle.orders")["runs"]
assert len(runs) == 2 and {r["state"] for r in runs} == {"COMPLETE"}, runs
ok("one pipeline per model across build and run, with both runs")


def table(name):
    svc = tables[0]["service"]["name"]
    return get(f"tables/name/{q(svc + '.jaffle.' + name)}?fields=columns")


def upstream(name):
    svc = tables[0]["service"]["name"]
    g = get(f"lineage/table/name/{q(svc + '.jaffle.' + name)}?upstreamDepth=1&downstreamDepth=0")
    by_id = {n["id"]: n["name"] for n in g["nodes"]}
    return {by_id[e["fromEntity"]]: e["lineageDetails"] for e in g["upstreamEdges"]}


up = upstream("main.customers")
assert set(up) == {"orders", "stg_customers", "stg_events"}, up
assert up["orders"]["source"] == "OpenLineage" and up["orders"]["pipeline"]["name"] == "jaffle.main.jaffle.customers", up["orders"]
cols = {(c["fromColumns"][0].rsplit(".", 1)[1], c["toColumn"].rsplit(".", 1)[1]) for c in up["orders"]["columnsLineage"]}
assert ("amount", "lifetime_value") in cols, cols
assert set(upstream("main.orders")) == {"stg_orders", "stg_payments"}
# (dbt-ol's snapshot events name no inputs, so the snapshot has no upstream edge.)
ok("table lineage and column lineage (orders.amount -> customers.lifetime_value), with the pipeline")

o = table("main.orders")
assert o["description"] == "One row per order, with what was paid", o.get("description")
amount = next(c for c in o["columns"] if c["name"] == "amount")
assert amount["description"] == "Order total in dollars", amount
assert (amount["dataType"], amount.get("dataTypeDisplay")) == ("DOUBLE", "double"), amount
mq = get(f"namespaces/{q(ds_ns)}/datasets/{q('jaffle.main.orders')}")
assert mq["description"] == o["description"] and "documentation" in mq["facets"], mq
ok("descriptions and types from the documentation and schema facets (type kept as dataTypeDisplay)")

print(f"all {step} dbt-ol checks passed", flush=True)
shutil.rmtree(project, ignore_errors=True)

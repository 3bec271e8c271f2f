"""End-to-end: the openlineage-python client (1.5x, HTTP transport) against a real
`headwaters serve`. Run by server/tests/openlineage.rs with HW_URL and HW_TOKEN.
Asserts the resulting graph through Headwaters' REST API."""

import gzip
import json
import os
import sys
import uuid
from datetime import datetime, timezone

import requests
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import (
    InputDataset,
    Job,
    JobEvent,
    OutputDataset,
    Run,
    RunEvent,
    RunState,
    DatasetEvent,
    StaticDataset,
)
from openlineage.client.generated.column_lineage_dataset import (
    ColumnLineageDatasetFacet,
    Fields,
    InputField,
    Transformation,
)
from openlineage.client.generated.schema_dataset import (
    SchemaDatasetFacet,
    SchemaDatasetFacetFields,
)
from openlineage.client.generated.sql_job import SQLJobFacet
from openlineage.client.serde import Serde
from openlineage.client.transport.http import (
    ApiKeyTokenProvider,
    HttpCompression,
    HttpConfig,
    HttpTransport,
)

URL, TOKEN = os.environ["HW_URL"], os.environ["HW_TOKEN"]
H = {"Authorization": f"Bearer {TOKEN}"}
PRODUCER = "https://github.com/example/headwaters-e2e"
step = 0


def ok(what):
    global step
    step += 1
    print(f"ok {step} - {what}", flush=True)


def get(path):
    r = requests.get(URL + path, headers=H, timeout=30)
    return r.status_code, r.json()


def now():
    return datetime.now(timezone.utc).isoformat()


client = OpenLineageClient(
    transport=HttpTransport(
        HttpConfig(
            url=URL,
            endpoint="api/v1/openlineage/lineage",
            auth=ApiKeyTokenProvider({"apiKey": TOKEN}),
            compression=HttpCompression.GZIP,
        )
    )
)

PG, SF = "postgres://db:5432", "snowflake://acme"
schema = lambda *cols: SchemaDatasetFacet(fields=[SchemaDatasetFacetFields(name=n, type=t) for n, t in cols])
orders = InputDataset(PG, "shop.public.orders", facets={"schema": schema(("id", "integer"), ("amount", "numeric"), ("status", "varchar"), ("created_at", "timestamp"))})
lineage = ColumnLineageDatasetFacet(
    fields={
        "total": Fields(inputFields=[InputField(PG, "shop.public.orders", "amount", transformations=[Transformation(type="DIRECT", subtype="AGGREGATION", description="sum(amount)")])]),
        "day": Fields(inputFields=[InputField(PG, "shop.public.orders", "created_at", transformations=[Transformation(type="DIRECT", subtype="TRANSFORMATION", description="date(created_at)")])]),
    }
)
revenue = OutputDataset(SF, "analytics.marts.revenue", facets={"schema": schema(("day", "date"), ("total", "decimal")), "columnLineage": lineage, "x-custom-facet": {"_producer": PRODUCER, "_schemaURL": "https://example.com/x.json", "team": "finance"}})
job = Job(namespace="etl", name="daily_orders", facets={"sql": SQLJobFacet(query="INSERT INTO revenue SELECT date(created_at), sum(amount) FROM orders GROUP BY 1")})
run_id = str(uuid.uuid4())

# The pre-existing OpenMetadata-style table the postgres namespace maps to (config).
s, before = get("/api/v1/tables/name/pg_prod.shop.public.orders")
assert s == 200, before

client.emit(RunEvent(eventType=RunState.START, eventTime=now(), run=Run(runId=run_id), job=job, producer=PRODUCER, inputs=[orders], outputs=[revenue]))
s, v = get("/api/v1/lineage/table/name/snowflake_acme.analytics.marts.revenue?upstreamDepth=1&downstreamDepth=0")
assert s == 200 and v["upstreamEdges"] == [], f"START must not add edges: {v}"
ok("START creates the datasets but no edges")

complete = RunEvent(eventType=RunState.COMPLETE, eventTime=now(), run=Run(runId=run_id), job=job, producer=PRODUCER, inputs=[orders], outputs=[revenue])
client.emit(complete)
s, v = get("/api/v1/lineage/table/name/snowflake_acme.analytics.marts.revenue?upstreamDepth=1&downstreamDepth=0")
assert [n["fullyQualifiedName"] for n in v["nodes"]] == ["pg_prod.shop.public.orders"], v
assert v["nodes"][0]["id"] == before["id"], "the mapped namespace reuses the existing table"
d = v["upstreamEdges"][0]["lineageDetails"]
assert d["source"] == "OpenLineage" and d["pipeline"]["fullyQualifiedName"] == "etl.daily_orders", d
assert d["sqlQuery"].startswith("INSERT INTO revenue"), d
cols = {c["toColumn"]: (c["fromColumns"], c.get("function")) for c in d["columnsLineage"]}
assert cols == {
    "snowflake_acme.analytics.marts.revenue.total": (["pg_prod.shop.public.orders.amount"], "sum(amount)"),
    "snowflake_acme.analytics.marts.revenue.day": (["pg_prod.shop.public.orders.created_at"], "date(created_at)"),
}, cols
ok("COMPLETE (gzip) adds the edge with pipeline, SQL and column lineage")

s, c = get("/api/v1/lineage/column/name/pg_prod.shop.public.orders.amount?upstreamDepth=0&downstreamDepth=2")
assert c["edges"][0]["transformation"] == "DIRECT/AGGREGATION", c
s, t = get("/api/v1/tables/name/snowflake_acme.analytics.marts.revenue")
assert [(x["name"], x["dataType"]) for x in t["columns"]] == [("day", "DATE"), ("total", "DECIMAL")], t
assert t["service"]["name"] == "snowflake_acme"
ok("transformation type/subtype kept; schema facet gave the columns; unmapped namespace got its own service")

client.emit(complete)  # re-send
s, v2 = get("/api/v1/lineage/table/name/snowflake_acme.analytics.marts.revenue?upstreamDepth=1&downstreamDepth=0")
assert len(v2["upstreamEdges"]) == 1 and v2["upstreamEdges"][0]["lineageDetails"]["columnsLineage"] == d["columnsLineage"]
s, runs = get("/api/v1/openlineage/runs?namespace=etl&job=daily_orders")
assert len(runs["runs"]) == 1, runs
r = runs["runs"][0]
assert r["runId"] == run_id and r["state"] == "COMPLETE" and r["startTime"] and r["endTime"] >= r["startTime"], r
assert r["outputs"][0]["facets"]["x-custom-facet"]["team"] == "finance", "unknown facets are kept"
s, p = get("/api/v1/pipelines/name/etl.daily_orders")
assert p["pipelineStatus"]["executionStatus"] == "Successful" and p["pipelineStatus"]["executionId"] == run_id, p
ok("re-sending is idempotent; the run is recorded and is the pipeline's last run")

# A failed run adds no edges.
fail_job = Job(namespace="etl", name="broken")
broken_out = OutputDataset(SF, "analytics.marts.broken")
fail_run = str(uuid.uuid4())
for state in (RunState.START, RunState.FAIL):
    client.emit(RunEvent(eventType=state, eventTime=now(), run=Run(runId=fail_run), job=fail_job, producer=PRODUCER, inputs=[orders], outputs=[broken_out]))
s, v = get("/api/v1/lineage/table/name/snowflake_acme.analytics.marts.broken?upstreamDepth=1&downstreamDepth=0")
assert s == 200 and v["upstreamEdges"] == [], v
s, p = get("/api/v1/pipelines/name/etl.broken")
assert p["pipelineStatus"]["executionStatus"] == "Failed", p
ok("FAIL records the run as failed and adds no edges")

# A gzip batch: a JobEvent (static lineage), a DatasetEvent, and a bad event.
job_event = JobEvent(eventTime=now(), job=Job(namespace="streams", name="sink_orders"), producer=PRODUCER,
                     inputs=[InputDataset("kafka://broker:9092", "orders")], outputs=[OutputDataset("s3://lake", "/raw/orders")])
ds_event = DatasetEvent(eventTime=now(), producer=PRODUCER, dataset=StaticDataset(SF, "analytics.marts.customers", facets={"schema": schema(("id", "bigint"), ("name", "varchar"))}))
events = [json.loads(Serde.to_json(job_event)), json.loads(Serde.to_json(ds_event)),
          {"eventType": "COMPLETE", "eventTime": now(), "producer": PRODUCER, "run": {"runId": str(uuid.uuid4())}, "job": {"namespace": "etl"}}]
r = requests.post(URL + "/api/v1/openlineage/lineage/batch", data=gzip.compress(json.dumps({"events": events}).encode()),
                  headers={**H, "Content-Type": "application/json", "Content-Encoding": "gzip"}, timeout=30)
assert r.status_code == 200, r.text
b = r.json()
assert (b["received"], b["successful"], b["failed"]) == (3, 2, 1), b
assert b["errors"][0]["index"] == 2 and "events[2].job.name" in b["errors"][0]["message"], b
s, v = get("/api/v1/lineage/topic/name/kafka_broker_9092.orders?upstreamDepth=0&downstreamDepth=1")
assert s == 200 and v["nodes"][0]["type"] == "container", v
assert v["nodes"][0]["fullyQualifiedName"] == "s3_lake.raw/orders", v
assert v["downstreamEdges"][0]["lineageDetails"]["pipeline"]["fullyQualifiedName"] == "streams.sink_orders", v
s, t = get("/api/v1/tables/name/snowflake_acme.analytics.marts.customers")
assert [x["name"] for x in t["columns"]] == ["id", "name"], t
ok("gzip batch: the good events applied, the bad one reported by index and field")

# Marquez's path takes a RunEvent too; a bad single event is a 400 naming the field.
r = requests.post(URL + "/api/v1/lineage", json=json.loads(Serde.to_json(complete)), headers=H, timeout=30)
assert r.status_code == 201, r.text
bad = json.loads(Serde.to_json(complete))
bad["run"]["runId"] = "not-a-uuid"
r = requests.post(URL + "/api/v1/openlineage/lineage", json=bad, headers=H, timeout=30)
assert r.status_code == 400 and "event.run.runId" in r.json()["message"], r.text
ok("POST /api/v1/lineage (Marquez) accepted; a bad event is a 400 naming event.run.runId")

print(f"all {step} OpenLineage checks passed", flush=True)
sys.exit(0)

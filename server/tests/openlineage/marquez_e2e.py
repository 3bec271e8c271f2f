"""End-to-end test: Marquez's read API over Headwaters' graph, read with Marquez's own
Python client (marquez-python) after the OpenLineage Python client wrote the events.
Run by server/tests/openlineage.rs with HW_URL and HW_TOKEN set.

The shapes are checked against Marquez's published OpenAPI document (spec/openapi.yml
in MarquezProject/marquez): the properties each object there declares are listed below
and must be present, enums must hold, timestamps must be ISO-8601."""

import os
import sys
import uuid
from datetime import datetime, timezone

import requests
from marquez_client import MarquezClient
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.generated.column_lineage_dataset import (
    ColumnLineageDatasetFacet,
    Fields,
    InputField,
    Transformation,
)
from openlineage.client.generated.data_quality_assertions_dataset import Assertion, DataQualityAssertionsDatasetFacet
from openlineage.client.generated.dataset_type_dataset import DatasetTypeDatasetFacet
from openlineage.client.generated.documentation_dataset import DocumentationDatasetFacet
from openlineage.client.generated.ownership_dataset import Owner, OwnershipDatasetFacet
from openlineage.client.generated.schema_dataset import SchemaDatasetFacet, SchemaDatasetFacetFields
from openlineage.client.generated.symlinks_dataset import Identifier, SymlinksDatasetFacet
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport

URL, TOKEN = os.environ["HW_URL"], os.environ["HW_TOKEN"]
PRODUCER = "https://github.com/example/headwaters-marquez-e2e"
step = 0

# Marquez's OpenAPI: the properties of each object (components.schemas).
NAMESPACE = {"name", "createdAt", "updatedAt", "ownerName", "description"}
DATASET = {"id", "type", "name", "physicalName", "createdAt", "updatedAt", "namespace", "sourceName",
           "fields", "tags", "lastModifiedAt", "description", "facets", "currentVersion"}
DATASET_VERSION = {"id", "type", "name", "physicalName", "createdAt", "version", "namespace", "sourceName",
                   "fields", "tags", "description", "facets"}
JOB = {"id", "type", "name", "createdAt", "updatedAt", "namespace", "inputs", "outputs", "location",
       "description", "latestRun", "facets", "currentVersion"}
RUN = {"id", "createdAt", "updatedAt", "nominalStartTime", "nominalEndTime", "state", "startedAt", "endedAt",
       "durationMs", "args", "facets", "jobVersion", "inputVersions", "outputVersions"}
GRAPH_NODE = {"id", "type", "data", "inEdges", "outEdges"}
SEARCH_RESULT = {"type", "name", "updatedAt", "namespace", "nodeId"}


def ok(what):
    global step
    step += 1
    print(f"ok {step} - {what}", flush=True)


def shape(obj, keys, what):
    missing = keys - set(obj)
    assert not missing, f"{what} lacks {sorted(missing)}: {obj}"


def iso(v, what):
    assert isinstance(v, str), f"{what}: {v!r}"
    datetime.fromisoformat(v.replace("Z", "+00:00"))


def now():
    return datetime.now(timezone.utc).isoformat()


ol = OpenLineageClient(transport=HttpTransport(HttpConfig(
    url=URL, endpoint="api/v1/lineage", auth=ApiKeyTokenProvider({"apiKey": TOKEN}))))
PG, SF = "postgres://db:5432", "snowflake://acme"
schema = lambda *cols: SchemaDatasetFacet(fields=[SchemaDatasetFacetFields(name=n, type=t) for n, t in cols])
orders = InputDataset(PG, "shop.public.orders", facets={"schema": schema(("id", "integer"), ("amount", "numeric"), ("created_at", "timestamp"))})
lineage = ColumnLineageDatasetFacet(fields={
    "total": Fields(inputFields=[InputField(PG, "shop.public.orders", "amount", transformations=[Transformation(type="DIRECT", subtype="AGGREGATION")])]),
    "day": Fields(inputFields=[InputField(PG, "shop.public.orders", "created_at", transformations=[Transformation(type="DIRECT", subtype="TRANSFORMATION")])]),
})
revenue = OutputDataset(SF, "analytics.marts.revenue", facets={"schema": schema(("day", "date"), ("total", "decimal")), "columnLineage": lineage})
report = OutputDataset(SF, "analytics.marts.report", facets={"schema": schema(("day", "date"), ("total", "decimal")), "columnLineage": ColumnLineageDatasetFacet(fields={
    "total": Fields(inputFields=[InputField(SF, "analytics.marts.revenue", "total", transformations=[Transformation(type="DIRECT", subtype="IDENTITY")])]),
})})
run_id, run2 = str(uuid.uuid4()), str(uuid.uuid4())
for state in (RunState.START, RunState.COMPLETE):
    ol.emit(RunEvent(eventType=state, eventTime=now(), run=Run(runId=run_id), job=Job(namespace="etl", name="daily_orders"),
                     producer=PRODUCER, inputs=[orders], outputs=[revenue]))
for state in (RunState.START, RunState.COMPLETE):
    ol.emit(RunEvent(eventType=state, eventTime=now(), run=Run(runId=run2), job=Job(namespace="etl", name="report"),
                     producer=PRODUCER, inputs=[InputDataset(SF, "analytics.marts.revenue")], outputs=[report]))
ok("two jobs' runs emitted on Marquez's POST /api/v1/lineage")

mq = MarquezClient(URL, api_key=TOKEN)

nss = mq.list_namespaces()["namespaces"]
assert {n["name"] for n in nss} == {PG, SF, "etl"}, nss
for n in nss:
    shape(n, NAMESPACE, "Namespace")
    iso(n["createdAt"], "createdAt")
assert mq.get_namespace("etl")["name"] == "etl"
ok("namespaces: every namespace the events named, in Marquez's shape")

ds = mq.list_datasets(SF)
assert ds["totalCount"] == 2 and {d["name"] for d in ds["datasets"]} == {"analytics.marts.revenue", "analytics.marts.report"}, ds
d = mq.get_dataset(SF, "analytics.marts.revenue")
shape(d, DATASET, "Dataset")
assert d["id"] == {"namespace": SF, "name": "analytics.marts.revenue"} and d["type"] == "DB_TABLE", d
assert [f["name"] for f in d["fields"]] == ["day", "total"], d["fields"]
assert d["facets"]["columnLineage"]["fields"]["total"]["inputFields"][0]["field"] == "amount", d["facets"]
versions = mq.list_dataset_versions(SF, "analytics.marts.revenue")["versions"]
assert versions and versions[0]["version"] == d["currentVersion"], versions
shape(versions[0], DATASET_VERSION, "DatasetVersion")
assert mq.get_dataset_version(SF, "analytics.marts.revenue", d["currentVersion"])["version"] == d["currentVersion"]
ok("datasets: fields, facets as received, the current version and its history")

jobs = mq.list_jobs("etl")
assert jobs["totalCount"] == 2, jobs
j = mq.get_job("etl", "daily_orders")
shape(j, JOB, "Job")
assert j["inputs"] == [{"namespace": PG, "name": "shop.public.orders"}], j
assert j["outputs"] == [{"namespace": SF, "name": "analytics.marts.revenue"}], j
shape(j["latestRun"], RUN, "Run")
assert j["latestRun"]["state"] == "COMPLETED" and j["latestRun"]["id"] == run_id, j["latestRun"]
runs = mq.list_job_runs("etl", "daily_orders")["runs"]
assert [r["id"] for r in runs] == [run_id], runs
r = mq.get_job_run(run_id)
shape(r, RUN, "Run")
assert r["state"] in {"NEW", "RUNNING", "COMPLETED", "FAILED", "ABORTED"} and r["state"] == "COMPLETED", r
iso(r["startedAt"], "startedAt"), iso(r["endedAt"], "endedAt")
assert r["durationMs"] >= 0, r
ok("jobs and runs: inputs, outputs, latest run, run state and times")

g = requests.get(f"{URL}/api/v1/lineage", params={"nodeId": f"dataset:{SF}:analytics.marts.revenue", "depth": 2},
                 headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30).json()["graph"]
byid = {n["id"]: n for n in g}
for n in g:
    shape(n, GRAPH_NODE, "GraphNode")
    assert n["type"] in {"DATASET", "JOB"}, n
want = {f"dataset:{PG}:shop.public.orders", "job:etl:daily_orders", f"dataset:{SF}:analytics.marts.revenue",
        "job:etl:report", f"dataset:{SF}:analytics.marts.report"}
assert set(byid) == want, sorted(byid)
assert {e["destination"] for e in byid["job:etl:daily_orders"]["outEdges"]} == {f"dataset:{SF}:analytics.marts.revenue"}
assert {e["origin"] for e in byid["job:etl:daily_orders"]["inEdges"]} == {f"dataset:{PG}:shop.public.orders"}
ok("GET /api/v1/lineage: datasets and the jobs between them, with in/out edges")

cl = mq.get_column_lineage_by_dataset(SF, "analytics.marts.report", depth=2)["graph"]
fields = {n["id"]: n for n in cl}
total = fields[f"datasetField:{SF}:analytics.marts.report:total"]
assert [(i["dataset"], i["field"]) for i in total["data"]["inputFields"]] == [("analytics.marts.revenue", "total")], total
assert f"datasetField:{PG}:shop.public.orders:amount" in fields, sorted(fields)
down = mq.get_column_lineage_by_dataset_field(PG, "shop.public.orders", "amount", depth=2, with_downstream=True)["graph"]
assert f"datasetField:{SF}:analytics.marts.report:total" in {n["id"] for n in down}, down
ok("column lineage: two hops up from a dataset, downstream from a field")

s = requests.get(f"{URL}/api/v1/search", params={"q": "revenue"}, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30).json()
assert s["totalCount"] == 1 and s["results"][0]["nodeId"] == f"dataset:{SF}:analytics.marts.revenue", s
shape(s["results"][0], SEARCH_RESULT, "SearchResult")
s = requests.get(f"{URL}/api/v1/search", params={"q": "%report%", "filter": "job"}, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30).json()
assert [x["nodeId"] for x in s["results"]] == ["job:etl:report"], s
miss = requests.get(f"{URL}/api/v1/namespaces/nowhere/datasets/x", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
assert miss.status_code == 404 and "nowhere" in miss.json()["message"], miss.text
ok("search by name pattern and type; unknown names are a 404 that says what")

# Events kept whole: documentation, column descriptions and types, dataset type,
# ownership, data-quality assertions, and a symlink merging two names.
H = {"Authorization": f"Bearer {TOKEN}"}
doc_view = OutputDataset(SF, "analytics.marts.v_orders", facets={
    "documentation": DocumentationDatasetFacet(description="Orders, one row each"),
    "schema": SchemaDatasetFacet(fields=[SchemaDatasetFacetFields(name="id", type="BIGINT", description="Order id"),
                                         SchemaDatasetFacetFields(name="amount", type="NUMBER(38,2)")]),
    "datasetType": DatasetTypeDatasetFacet(datasetType="VIEW"),
    "ownership": OwnershipDatasetFacet(owners=[Owner(name="user:ada", type="MAINTAINER")]),
    "symlinks": SymlinksDatasetFacet(identifiers=[Identifier(namespace="hive://meta", name="marts.v_orders", type="TABLE")]),
})
checked = InputDataset(PG, "shop.public.orders", inputFacets={"dataQualityAssertions": DataQualityAssertionsDatasetFacet(
    assertions=[Assertion(assertion="not_null", success=True, column="id")])})
run3 = str(uuid.uuid4())
for state in (RunState.START, RunState.COMPLETE):
    ol.emit(RunEvent(eventType=state, eventTime=now(), run=Run(runId=run3), job=Job(namespace="etl", name="views"),
                     producer=PRODUCER, inputs=[checked], outputs=[doc_view]))
t = requests.get(f"{URL}/api/v1/tables/name/snowflake_acme.analytics.marts.v_orders?fields=columns,owners", headers=H, timeout=30).json()
assert t["description"] == "Orders, one row each" and t["tableType"] == "View", t
cols = {c["name"]: c for c in t["columns"]}
assert (cols["id"]["dataType"], cols["id"]["dataTypeDisplay"], cols["id"]["description"]) == ("BIGINT", "bigint", "Order id"), cols["id"]
assert (cols["amount"]["dataType"], cols["amount"]["dataTypeDisplay"]) == ("NUMBER", "number(38,2)"), cols["amount"]
assert [o["name"] for o in t["owners"]] == ["ada"] and t["owners"][0]["type"] == "user", t["owners"]
src = mq.get_dataset(PG, "shop.public.orders")
assert src["facets"]["dataQualityAssertions"]["assertions"][0]["assertion"] == "not_null", src["facets"]
# The same dataset under its symlinked name: one entity, two names.
ol.emit(RunEvent(eventType=RunState.COMPLETE, eventTime=now(), run=Run(runId=str(uuid.uuid4())), job=Job(namespace="etl", name="hive_reader"),
                 producer=PRODUCER, inputs=[InputDataset("hive://meta", "marts.v_orders")], outputs=[OutputDataset(SF, "analytics.marts.v_orders_copy")]))
via_link = mq.get_dataset("hive://meta", "marts.v_orders")
assert via_link["description"] == "Orders, one row each", via_link
tables = requests.get(f"{URL}/api/v1/tables?limit=1000", headers=H, timeout=30).json()["data"]
assert not [x for x in tables if x["name"] == "v_orders" and "hive" in x["fullyQualifiedName"]], "the symlink made a second table"
up = requests.get(f"{URL}/api/v1/lineage/table/name/snowflake_acme.analytics.marts.v_orders_copy?upstreamDepth=1&downstreamDepth=0", headers=H, timeout=30).json()
assert [n["fullyQualifiedName"] for n in up["nodes"]] == ["snowflake_acme.analytics.marts.v_orders"], up["nodes"]
ok("events kept whole: documentation, column descriptions and types, view type, owners, assertions; a symlink merges two names")

print(f"all {step} Marquez checks passed", flush=True)
sys.exit(0)

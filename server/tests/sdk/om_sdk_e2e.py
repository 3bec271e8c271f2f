"""End-to-end test: OpenMetadata's Python SDK (openmetadata-ingestion 1.11.x) against a
real `headwaters serve`. Run by server/tests/sdk.rs with HW_URL and HW_TOKEN set.
Every step asserts on what came back, not only on the absence of exceptions."""

import os
import sys

from metadata.generated.schema.api.data.createDatabase import CreateDatabaseRequest
from metadata.generated.schema.api.data.createDatabaseSchema import (
    CreateDatabaseSchemaRequest,
)
from metadata.generated.schema.api.data.createPipeline import CreatePipelineRequest
from metadata.generated.schema.api.data.createTable import CreateTableRequest
from metadata.generated.schema.api.services.createPipelineService import (
    CreatePipelineServiceRequest,
)
from metadata.generated.schema.entity.data.pipeline import (
    Pipeline,
    PipelineStatus,
    StatusType,
    Task,
    TaskStatus,
)
from metadata.generated.schema.entity.services.pipelineService import PipelineServiceType
from metadata.generated.schema.api.lineage.addLineage import AddLineageRequest
from metadata.generated.schema.api.services.createDatabaseService import (
    CreateDatabaseServiceRequest,
)
from metadata.generated.schema.entity.data.table import Column, DataType, Table
from metadata.generated.schema.entity.services.connections.metadata.openMetadataConnection import (
    OpenMetadataConnection,
)
from metadata.generated.schema.entity.services.connections.database.mysqlConnection import (
    MysqlConnection,
)
from metadata.generated.schema.entity.services.databaseService import (
    DatabaseConnection,
    DatabaseService,
    DatabaseServiceType,
)
from metadata.generated.schema.security.client.openMetadataJWTClientConfig import (
    OpenMetadataJWTClientConfig,
)
from metadata.generated.schema.type.entityLineage import (
    ColumnLineage,
    EntitiesEdge,
    LineageDetails,
)
from metadata.generated.schema.type.entityLineage import Source as LineageSource
from metadata.generated.schema.type.entityReference import EntityReference
from metadata.ingestion.ometa.client import APIError
from metadata.ingestion.ometa.ometa_api import OpenMetadata

URL = os.environ["HW_URL"]
TOKEN = os.environ["HW_TOKEN"]

meta = OpenMetadata(
    OpenMetadataConnection(
        hostPort=f"{URL}/api",
        authProvider="openmetadata",
        securityConfig=OpenMetadataJWTClientConfig(jwtToken=TOKEN),
    )
)
assert meta.health_check(), "health check (version endpoint) failed"
step = 0


def ok(what):
    global step
    step += 1
    print(f"ok {step} - {what}", flush=True)


# --- entities -----------------------------------------------------------------
svc = meta.create_or_update(
    CreateDatabaseServiceRequest(
        name="sdk_svc",
        serviceType=DatabaseServiceType.Mysql,
        connection=DatabaseConnection(
            config=MysqlConnection(username="reader", hostPort="localhost:3306")
        ),
    )
)
assert svc.fullyQualifiedName.root == "sdk_svc", svc
assert svc.serviceType == DatabaseServiceType.Mysql
db = meta.create_or_update(CreateDatabaseRequest(name="shop", service="sdk_svc"))
assert db.fullyQualifiedName.root == "sdk_svc.shop"
assert db.service.id == svc.id and db.service.type == "databaseService"
schema = meta.create_or_update(
    CreateDatabaseSchemaRequest(name="sales", database="sdk_svc.shop")
)
assert schema.fullyQualifiedName.root == "sdk_svc.shop.sales"
assert schema.database.id == db.id
ok("service, database, schema created with OpenMetadata FQNs and references")


def table(name, columns):
    return meta.create_or_update(
        CreateTableRequest(
            name=name, databaseSchema="sdk_svc.shop.sales", columns=columns
        )
    )


orders = table(
    "orders",
    [
        Column(name="id", dataType=DataType.BIGINT),
        Column(name="amount", dataType=DataType.DECIMAL),
        Column(
            name="customer",
            dataType=DataType.STRUCT,
            children=[
                Column(name="name", dataType=DataType.VARCHAR, dataLength=100),
                Column(name="email", dataType=DataType.VARCHAR, dataLength=200),
            ],
        ),
    ],
)
assert orders.fullyQualifiedName.root == "sdk_svc.shop.sales.orders"
struct = orders.columns[2]
assert [c.fullyQualifiedName.root for c in struct.children] == [
    "sdk_svc.shop.sales.orders.customer.name",
    "sdk_svc.shop.sales.orders.customer.email",
], struct
assert orders.databaseSchema.id == schema.id and orders.service.id == svc.id
report = table(
    "report",
    [
        Column(name="id", dataType=DataType.BIGINT),
        Column(name="total", dataType=DataType.DECIMAL),
        Column(name="customer_name", dataType=DataType.VARCHAR, dataLength=100),
    ],
)
dotted = table(
    "report.v2",
    [
        Column(name="id", dataType=DataType.BIGINT),
        Column(name="total", dataType=DataType.DECIMAL),
    ],
)
assert dotted.fullyQualifiedName.root == 'sdk_svc.shop.sales."report.v2"', dotted
assert str(orders.href.root).startswith(URL), orders.href
ok("tables created: nested struct children and a dotted name quoted in the FQN")

# Update: same name, new description -> same id, version bumps.
again = meta.create_or_update(
    CreateTableRequest(
        name="orders",
        databaseSchema="sdk_svc.shop.sales",
        columns=[Column(name=c.name, dataType=c.dataType, children=c.children) for c in orders.columns],
        description="All orders",
    )
)
assert again.id == orders.id and again.description.root == "All orders"
assert again.version.root > orders.version.root
ok("create_or_update updates in place and bumps the version")

got = meta.get_by_name(entity=Table, fqn='sdk_svc.shop.sales."report.v2"', fields=["columns", "tags", "owners"])
assert got is not None and got.id == dotted.id and got.name.root == "report.v2"
assert meta.get_by_name(entity=Table, fqn="sdk_svc.shop.sales.missing") is None
assert meta.get_by_id(entity=Table, entity_id=report.id).name.root == "report"
assert meta.get_by_name(entity=DatabaseService, fqn="sdk_svc").id == svc.id
ok("get_by_name (dotted name, missing -> None), get_by_id")

page = meta.list_entities(entity=Table, limit=2, params={"databaseSchema": "sdk_svc.shop.sales"})
assert page.total == 3 and len(page.entities) == 2 and page.after, page
rest = meta.list_entities(entity=Table, limit=2, after=page.after, params={"databaseSchema": "sdk_svc.shop.sales"})
names = {t.name.root for t in page.entities} | {t.name.root for t in rest.entities}
assert names == {"orders", "report", "report.v2"}, names
assert len(list(meta.list_all_entities(entity=Table, limit=1, params={"databaseSchema": "sdk_svc.shop.sales"}))) == 3
ok("list_entities pages with after cursors and total; list_all_entities")

try:
    meta.create_or_update(
        CreateTableRequest(name="x", databaseSchema="sdk_svc.shop.nope", columns=[Column(name="a", dataType=DataType.INT)])
    )
    raise AssertionError("creating under a missing schema must fail")
except APIError as err:
    assert err.status_code == 404, err
ok("a missing parent schema is a 404 APIError")

# --- lineage ------------------------------------------------------------------
def ref(t):
    return EntityReference(id=t.id, type="table")


def col(t, name):
    return f"{t.fullyQualifiedName.root}.{name}"


res = meta.add_lineage(
    AddLineageRequest(
        edge=EntitiesEdge(
            fromEntity=ref(orders),
            toEntity=ref(report),
            lineageDetails=LineageDetails(
                sqlQuery="insert into report select id, sum(amount) from orders group by id",
                columnsLineage=[
                    ColumnLineage(fromColumns=[col(orders, "amount")], toColumn=col(report, "total"), function="sum(amount)"),
                ],
                source=LineageSource.QueryLineage,
            ),
        )
    )
)
assert "error" not in res, res
assert res["entity"]["id"] == str(orders.id.root)
assert [n["id"] for n in res["nodes"]] == [str(report.id.root)], res
assert res["downstreamEdges"][0]["toEntity"] == str(report.id.root)
ok("add_lineage with columnsLineage; answer is the source's lineage")

res = meta.add_lineage(
    AddLineageRequest(
        edge=EntitiesEdge(
            fromEntity=ref(orders),
            toEntity=ref(report),
            lineageDetails=LineageDetails(
                columnsLineage=[
                    ColumnLineage(fromColumns=[col(orders, "customer.name")], toColumn=col(report, "customer_name")),
                ],
                source=LineageSource.QueryLineage,
            ),
        )
    ),
    check_patch=True,
)
assert "error" not in res, res
edge = meta.get_lineage_edge(str(orders.id.root), str(report.id.root))
cols = {c["toColumn"]: c["fromColumns"] for c in edge["edge"]["columnsLineage"]}
assert cols == {
    col(report, "total"): [col(orders, "amount")],
    col(report, "customer_name"): [col(orders, "customer.name")],
}, edge
ok("add_lineage(check_patch=True) merges column lineage through PATCH")

res = meta.add_lineage(
    AddLineageRequest(
        edge=EntitiesEdge(
            fromEntity=ref(report),
            toEntity=ref(dotted),
            lineageDetails=LineageDetails(
                columnsLineage=[
                    ColumnLineage(fromColumns=[col(report, "total")], toColumn=col(dotted, "total")),
                    ColumnLineage(fromColumns=[col(report, "nope")], toColumn=col(dotted, "id")),
                ],
            ),
        )
    )
)
assert "error" not in res, res
e2 = meta.get_lineage_edge(str(report.id.root), str(dotted.id.root))["edge"]
assert [c["toColumn"] for c in e2["columnsLineage"]] == [col(dotted, "total")], e2
ok("a mapping naming a missing column is dropped, the valid one kept")

down = meta.get_lineage_by_name(entity=Table, fqn=orders.fullyQualifiedName.root, up_depth=0, down_depth=3)
assert {n["fullyQualifiedName"] for n in down["nodes"]} == {report.fullyQualifiedName.root, dotted.fullyQualifiedName.root}, down
assert len(down["downstreamEdges"]) == 2 and down["upstreamEdges"] == []
one = meta.get_lineage_by_name(entity=Table, fqn=orders.fullyQualifiedName.root, up_depth=0, down_depth=1)
assert [n["name"] for n in one["nodes"]] == ["report"], one
up = meta.get_lineage_by_id(entity=Table, entity_id=str(dotted.id.root), up_depth=2, down_depth=0)
assert {n["name"] for n in up["nodes"]} == {"orders", "report"}, up
assert len(up["upstreamEdges"]) == 2
mid = meta.get_lineage_by_name(entity=Table, fqn=report.fullyQualifiedName.root, up_depth=1, down_depth=1)
assert len(mid["upstreamEdges"]) == 1 and len(mid["downstreamEdges"]) == 1
ok("get_lineage_by_name / get_lineage_by_id at depths 1, 2, 3")

def edge_uncached(a, b):
    """The SDK caches edges it has seen; ask the server itself."""
    try:
        return meta.client.get(f"/lineage/getLineageEdge/{a.id.root}/{b.id.root}")
    except APIError as err:
        assert err.status_code == 404, err
        return None


assert edge_uncached(report, dotted) is not None
meta.delete_lineage_edge(EntitiesEdge(fromEntity=ref(report), toEntity=ref(dotted)))
assert edge_uncached(report, dotted) is None
meta.delete_lineage_edge(EntitiesEdge(fromEntity=ref(report), toEntity=ref(dotted)))  # logs, no raise
after = meta.get_lineage_by_name(entity=Table, fqn=orders.fullyQualifiedName.root, up_depth=0, down_depth=3)
assert [n["name"] for n in after["nodes"]] == ["report"], after
ok("delete_lineage_edge, and a second delete of the same edge is harmless")

summary = table(
    "summary",
    [Column(name="id", dataType=DataType.BIGINT), Column(name="total", dataType=DataType.DECIMAL)],
)
assert svc.connection.config.type.value == "Mysql"
meta.add_lineage_by_query(
    database_service=svc,
    sql="INSERT INTO sales.summary (id, total) SELECT id, total FROM sales.report",
    database_name="shop",
    schema_name="sales",
)
e3 = edge_uncached(report, summary)
assert e3 is not None, "add_lineage_by_query created no edge"
assert e3["edge"]["source"] == "QueryLineage", e3
assert {c["toColumn"] for c in e3["edge"]["columnsLineage"]} == {col(summary, "id"), col(summary, "total")}, e3
ok("add_lineage_by_query: fieldQuery search with wildcards, then lineage with columns")

# A pipeline and its runs, as Airflow's lineage backend reports them.
pipeline_service = meta.create_or_update(
    CreatePipelineServiceRequest(
        name="sdk_airflow",
        serviceType=PipelineServiceType.Airflow,
    )
)
pipeline = meta.create_or_update(
    CreatePipelineRequest(
        name="nightly",
        service=pipeline_service.fullyQualifiedName.root,
        tasks=[Task(name="load"), Task(name="report")],
    )
)
assert pipeline.fullyQualifiedName.root == "sdk_airflow.nightly", pipeline
run = PipelineStatus(
    timestamp=1_764_460_800_000,
    executionStatus=StatusType.Failed,
    taskStatus=[
        TaskStatus(name="load", executionStatus=StatusType.Successful),
        TaskStatus(name="report", executionStatus=StatusType.Failed),
    ],
)
after_run = meta.add_pipeline_status(fqn=pipeline.fullyQualifiedName.root, status=run)
assert after_run.pipelineStatus.executionStatus == StatusType.Failed, after_run
assert [t.executionStatus for t in after_run.pipelineStatus.taskStatus] == [StatusType.Successful, StatusType.Failed]
older = PipelineStatus(timestamp=1_764_374_400_000, executionStatus=StatusType.Successful)
kept = meta.add_pipeline_status(fqn=pipeline.fullyQualifiedName.root, status=older)
assert kept.pipelineStatus.timestamp.root == run.timestamp.root, "an older run does not replace the latest"
fetched = meta.get_by_name(entity=Pipeline, fqn="sdk_airflow.nightly", fields=["pipelineStatus", "tasks"])
assert fetched.pipelineStatus.executionStatus == StatusType.Failed, fetched
try:
    meta.add_pipeline_status(fqn="sdk_airflow.nope", status=run)
    raise AssertionError("a run of an unknown pipeline was accepted")
except APIError as err:
    assert err.status_code == 404, err
ok("add_pipeline_status: the latest run is kept on the pipeline; older runs and unknown pipelines refused or ignored")

print(f"all {step} SDK checks passed", flush=True)
sys.exit(0)

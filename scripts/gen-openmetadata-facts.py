"""Writes server/src/domain/openmetadata.json, facts read out of the installed
openmetadata-ingestion: every entity model's field names (what `fields=*` expands to and
what an answer may hold), and OpenMetadata's test connection definitions (`GET /api/v1/services/testConnectionDefinitions/name/{Type}.testConnectionDefinition`)
for every service type, derived from the connectors of the installed openmetadata-ingestion.

Every ingestion workflow starts by fetching its connector's definition and running the
steps it lists, looking each step name up in the connector's own `test_fn` table (an
unknown name is a KeyError). So the step names here are read from each connector's
`test_connection` source: the string keys of its `test_fn` / `queries` dicts, plus the
default steps of the shared helpers it calls. The first step (reaching the source) is
mandatory and short-circuits; the others warn, as in OpenMetadata.

Run with the venv the tests use (pip install 'openmetadata-ingestion~=1.11.0'):
    ~/.cache/headwaters/om-venv/bin/python scripts/gen-test-connections.py
"""

import ast
import importlib
import json
import os
import sys

import metadata

SRC = os.path.join(os.path.dirname(metadata.__file__), "ingestion", "source")
HELPERS = os.path.join(os.path.dirname(metadata.__file__), "ingestion", "connections", "test_connections.py")
FAMILIES = {
    "database": "databaseService.DatabaseServiceType",
    "dashboard": "dashboardService.DashboardServiceType",
    "pipeline": "pipelineService.PipelineServiceType",
    "messaging": "messagingService.MessagingServiceType",
    "mlmodel": "mlmodelService.MlModelServiceType",
    "storage": "storageService.StorageServiceType",
    "search": "searchService.SearchServiceType",
    "api": "apiService.ApiServiceType",
}


def dict_keys(node):
    return [k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]


def helper_defaults():
    """Step names each shared helper of test_connections.py adds itself."""
    tree = ast.parse(open(HELPERS).read())
    out = {}
    for fn in tree.body:
        if isinstance(fn, ast.FunctionDef):
            keys = []
            for n in ast.walk(fn):
                if isinstance(n, ast.Assign) and isinstance(n.value, ast.Dict):
                    if any(isinstance(t, ast.Name) and t.id == "test_fn" for t in n.targets):
                        keys += dict_keys(n.value)
            if keys:
                out[fn.name] = keys
    return out


def steps_of(path, helpers):
    tree = ast.parse(open(path).read())
    fns = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "test_connection"]
    steps = []
    for fn in fns:
        for n in ast.walk(fn):
            if isinstance(n, ast.Assign) and isinstance(n.value, ast.Dict):
                names = [t.id for t in n.targets if isinstance(t, ast.Name)]
                if any(x in ("test_fn", "queries") for x in names):
                    steps += [k for k in dict_keys(n.value) if k not in steps]
            if isinstance(n, ast.Call):
                f = n.func
                name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", None)
                for k in helpers.get(name, []):
                    if k not in steps:
                        steps.insert(len([s for s in steps if s in helpers.get(name, [])]), k)
    return steps


# Each collection's entity model (module under metadata.generated.schema.entity, class).
MODELS = {
    "services/databaseServices": ("services.databaseService", "DatabaseService"),
    "databases": ("data.database", "Database"),
    "databaseSchemas": ("data.databaseSchema", "DatabaseSchema"),
    "tables": ("data.table", "Table"),
    "storedProcedures": ("data.storedProcedure", "StoredProcedure"),
    "services/dashboardServices": ("services.dashboardService", "DashboardService"),
    "dashboards": ("data.dashboard", "Dashboard"),
    "charts": ("data.chart", "Chart"),
    "dashboard/datamodels": ("data.dashboardDataModel", "DashboardDataModel"),
    "services/pipelineServices": ("services.pipelineService", "PipelineService"),
    "pipelines": ("data.pipeline", "Pipeline"),
    "services/messagingServices": ("services.messagingService", "MessagingService"),
    "topics": ("data.topic", "Topic"),
    "services/mlmodelServices": ("services.mlmodelService", "MlModelService"),
    "mlmodels": ("data.mlmodel", "MlModel"),
    "services/storageServices": ("services.storageService", "StorageService"),
    "containers": ("data.container", "Container"),
    "services/searchServices": ("services.searchService", "SearchService"),
    "searchIndexes": ("data.searchIndex", "SearchIndex"),
    "services/apiServices": ("services.apiService", "ApiService"),
    "apiCollections": ("data.apiCollection", "APICollection"),
    "apiEndpoints": ("data.apiEndpoint", "APIEndpoint"),
    "metrics": ("data.metric", "Metric"),
    "queries": ("data.query", "Query"),
    "classifications": ("classification.classification", "Classification"),
    "tags": ("classification.tag", "Tag"),
    "users": ("teams.user", "User"),
    "teams": ("teams.team", "Team"),
}


def entity_fields():
    """Every field of each collection's entity model (the SDK forbids others)."""
    out = {}
    for coll, (module, cls) in MODELS.items():
        mod = importlib.import_module(f"metadata.generated.schema.entity.{module}")
        out[coll] = sorted(getattr(mod, cls).model_fields)
    return out


def main():
    helpers = helper_defaults()
    defs = []
    for family, enum_path in FAMILIES.items():
        module, enum = enum_path.split(".")
        mod = importlib.import_module(f"metadata.generated.schema.entity.services.{module}")
        for member in getattr(mod, enum):
            name = member.value
            path = os.path.join(SRC, family, name.lower(), "connection.py")
            if not os.path.exists(path):
                continue
            steps = steps_of(path, helpers)
            if not steps:
                continue
            defs.append(
                {
                    "serviceType": name,
                    "steps": [
                        {"name": s, "mandatory": i == 0, "shortCircuit": i == 0}
                        for i, s in enumerate(steps)
                    ],
                }
            )
    out = os.path.join(os.path.dirname(__file__), "..", "server", "src", "domain", "openmetadata.json")
    version = importlib.metadata.version("openmetadata-ingestion")
    with open(out, "w") as f:
        json.dump(
            {
                "source": f"openmetadata-ingestion {version}",
                "definitions": defs,
                "entityFields": entity_fields(),
            },
            f,
            indent=1,
        )
        f.write("\n")
    print(f"{len(defs)} definitions -> {os.path.normpath(out)}", file=sys.stderr)


if __name__ == "__main__":
    import importlib.metadata

    main()

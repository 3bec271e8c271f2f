"""Time Python SQL-lineage tools on the corpora Headwaters' throughput bench uses.

Run by benches/sql_peers.sh inside a throwaway venv. Prints one markdown row per
(tool, corpus): statements analyzed, failures, statements and texts per second (one
thread). Tools count statements their own way, so texts per second (whole SQL texts,
the same inputs for every tool) is the figure to compare across tools; Headwaters'
throughput bench prints it too.
Each (tool, corpus) run stops after BUDGET seconds; a tool fast enough repeats the
corpus for at least MIN_SECONDS. The rate covers what was analyzed.
"""
import json
import os
import sys
import time

BUDGET = float(os.environ.get("PEER_BUDGET_SECONDS", "60"))
MIN_SECONDS = 3.0
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")


def corpora():
    cases = json.load(open(os.path.join(ROOT, "sql-conformance", "cases.json")))
    mixed = [(c["sql"], c["dialect"], c["metadata"] or {}) for c in cases]
    tpc = json.load(open(os.path.join(ROOT, "sql-bench", "tpc.json")))
    out = [("mixed (sqllineage cases)", mixed)]
    for key, name in (("tpch", "TPC-H"), ("tpcds", "TPC-DS")):
        schema = {t: list(cols) for t, cols in tpc[key]["schema"].items()}
        out.append((name, [(q["sql"], "ansi", schema) for q in tpc[key]["queries"]]))
    # 878 files of real dialect syntax from sqlfluff's fixtures (MIT, see its README).
    dialects = json.load(open(os.path.join(ROOT, "sql-dialects", "cases.json")))
    out.append(("dialects (sqlfluff fixtures)", [(c["sql"], c["dialect"], {}) for c in dialects]))
    return out


def run_sqllineage(sql, dialect, meta):
    from sqllineage.core.metadata_provider import MetaDataProvider  # noqa: F401
    from sqllineage.core.metadata.dummy import DummyMetaDataProvider
    from sqllineage.runner import LineageRunner

    runner = LineageRunner(sql, dialect=dialect, metadata_provider=DummyMetaDataProvider(meta))
    runner.get_column_lineage()
    return len(runner.statements()) or 1


GLOT_DIALECTS = {"ansi": None, "non-validating": None, "sparksql": "spark", "db2": None, "vertica": None,
                 "exasol": None, "mariadb": "mysql", "sqlite": "sqlite", "tsql": "tsql"}


def run_sqlglot(sql, dialect, meta):
    import sqlglot
    from sqlglot import exp
    from sqlglot.lineage import lineage

    d = GLOT_DIALECTS.get(dialect, dialect)
    schema = {}
    for table, cols in meta.items():
        parts = table.split(".")
        node = schema
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = {c: "text" for c in cols}
    statements = [s for s in sqlglot.parse(sql, read=d) if s is not None]
    for stmt in statements:
        select = stmt if isinstance(stmt, exp.Select) else stmt.find(exp.Select)
        if select is None:
            continue
        for name in select.named_selects:
            lineage(name, select, schema=schema or None, dialect=d)
    return len(statements) or 1


OL_DIALECTS = {"non-validating": "generic", "mariadb": "mysql", "sparksql": "hive", "databricks": "hive", "tsql": "mssql",
               "db2": "generic", "vertica": "generic", "exasol": "generic", "oracle": "generic",
               "athena": "generic", "trino": "generic", "teradata": "generic"}


def run_openlineage_sql(sql, dialect, meta):
    """OpenLineage's Rust extractor (sqlparser-rs, like Headwaters), called from Python:
    tables and column lineage of every statement. Statements are counted as the
    non-empty pieces between semicolons (the extractor reports no count)."""
    import openlineage_sql

    openlineage_sql.parse([sql], dialect=OL_DIALECTS.get(dialect, dialect))
    return len([p for p in sql.split(";") if p.strip()]) or 1


def main():
    tools = {"sqllineage": run_sqllineage, "sqlglot": run_sqlglot,
             "openlineage-sql": run_openlineage_sql}
    label = sys.argv[1] if len(sys.argv) > 1 else "sqlglot"
    wanted = sys.argv[2:] or list(tools)
    for tool in wanted:
        fn = tools[tool]
        name = label if tool in ("sqlglot", "openlineage-sql") else tool
        for corpus, items in corpora():
            done = failed = texts = 0
            start = time.perf_counter()
            # Whole passes over the corpus until MIN_SECONDS have gone by (a fast tool's
            # single pass is too short to time), stopping inside a pass at BUDGET.
            passes = 0
            while passes == 0 or time.perf_counter() - start < min(MIN_SECONDS, BUDGET):
                passes += 1
                for sql, dialect, meta in items:
                    if time.perf_counter() - start > BUDGET:
                        break
                    texts += 1
                    try:
                        done += fn(sql, dialect, meta)
                    except (KeyboardInterrupt, SystemExit):
                        raise
                    except BaseException:  # noqa: BLE001 - a Rust panic is a BaseException (pyo3)
                        failed += 1
                        done += 1
            elapsed = time.perf_counter() - start
            rate = done / elapsed if elapsed else 0
            text_rate = texts / elapsed if elapsed else 0
            print(f"| {name} | {corpus} | {done} | {failed} | {rate:,.1f} | {text_rate:,.1f} |", flush=True)


if __name__ == "__main__":
    main()

//! What the extractor promises beyond the conformance cases: transformation types,
//! qualification, scripts, diagnostics with positions.

use std::sync::Arc;

use headwaters_sqllineage::{
    ColumnEdge, DiagnosticKind, JsonCatalog, Options, TransformationSubtype as Sub,
    TransformationType as Kind, analyze,
};

fn edges(sql: &str, opts: &Options) -> Vec<(String, String, Kind, Sub)> {
    let l = analyze(sql, opts);
    let mut v: Vec<_> = l
        .statements
        .iter()
        .flat_map(|s| s.columns.iter())
        .map(|e: &ColumnEdge| {
            (
                e.source.to_string(),
                e.target.to_string(),
                e.kind,
                e.subtype,
            )
        })
        .collect();
    v.sort();
    v
}

fn has(v: &[(String, String, Kind, Sub)], from: &str, to: &str, sub: Sub) -> bool {
    v.iter()
        .any(|(a, b, _, s)| a == from && b == to && *s == sub)
}

#[test]
fn transformation_types_follow_openlineage() {
    let sql = "INSERT INTO o SELECT s.a AS id, s.b + 1 AS inc, sum(s.c) AS total, \
               CASE WHEN s.d > 0 THEN s.e END AS picked, \
               row_number() OVER (PARTITION BY s.f ORDER BY s.g) AS rn \
               FROM s JOIN u ON s.k = u.k WHERE s.h = 1 \
               GROUP BY s.a, s.b, s.d, s.e, s.f, s.g ORDER BY id";
    let v = edges(sql, &Options::default());
    assert!(has(&v, "s.a", "o.id", Sub::Identity), "{v:#?}");
    assert!(has(&v, "s.b", "o.inc", Sub::Transformation));
    assert!(has(&v, "s.c", "o.total", Sub::Aggregation));
    assert!(has(&v, "s.e", "o.picked", Sub::Transformation));
    assert!(has(&v, "s.d", "o.picked", Sub::Conditional));
    assert!(has(&v, "s.f", "o.rn", Sub::Window) && has(&v, "s.g", "o.rn", Sub::Window));
    assert!(has(&v, "s.k", "o.id", Sub::Join) && has(&v, "u.k", "o.total", Sub::Join));
    assert!(has(&v, "s.h", "o.inc", Sub::Filter));
    assert!(has(&v, "s.a", "o.total", Sub::GroupBy));
    assert!(has(&v, "s.a", "o.rn", Sub::Sort));
    assert!(v.iter().all(|(_, _, k, s)| *k == s.kind()));
    // The CASE condition influences only the CASE column.
    assert!(!has(&v, "s.d", "o.id", Sub::Conditional));
}

#[test]
fn defaults_catalog_and_star() {
    let catalog = JsonCatalog::from_json(
        r#"{"raw.orders": ["id", "amount"], "raw.customers": ["id", "name"]}"#,
    )
    .unwrap();
    let opts = Options {
        default_schema: Some("raw".into()),
        default_database: Some("wh".into()),
        catalog: Some(Arc::new(catalog)),
        ..Options::default()
    };
    let l = analyze("INSERT INTO mart.x SELECT * FROM orders", &opts);
    let s = &l.statements[0];
    assert_eq!(s.reads[0].to_string(), "wh.raw.orders");
    assert_eq!(s.writes[0].to_string(), "wh.mart.x");
    let v = edges(
        "INSERT INTO mart.x SELECT name, amount FROM raw.orders o JOIN raw.customers c ON o.id = c.id",
        &opts,
    );
    assert!(
        has(&v, "wh.raw.customers.name", "wh.mart.x.name", Sub::Identity),
        "{v:#?}"
    );
    assert!(has(
        &v,
        "wh.raw.orders.amount",
        "wh.mart.x.amount",
        Sub::Identity
    ));
    let unresolved = analyze(
        "INSERT INTO x SELECT name FROM a JOIN b ON a.k = b.k",
        &Options::default(),
    );
    let d: Vec<_> = unresolved.diagnostics().collect();
    assert!(
        d.iter()
            .any(|d| d.kind == DiagnosticKind::AmbiguousColumn && d.message.contains("name")),
        "{d:?}"
    );
}

#[test]
fn scripts_carry_tables_between_statements() {
    let sql = "CREATE TEMP TABLE t AS SELECT id, amount * 2 AS doubled FROM raw.orders;\n\
               INSERT INTO mart.y SELECT * FROM t;\n\
               ALTER TABLE mart.y RENAME TO mart.z;";
    let l = analyze(sql, &Options::default());
    assert_eq!(l.statements.len(), 3);
    assert_eq!(
        l.intermediate_tables
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>(),
        ["t"]
    );
    let second = &l.statements[1];
    assert_eq!(
        second.writes[0].to_string(),
        "mart.z",
        "the later rename applies"
    );
    assert!(
        second.columns.iter().any(
            |e| e.source.to_string() == "t.doubled" && e.target.to_string() == "mart.z.doubled"
        ),
        "SELECT * expands to the temp table's columns: {:#?}",
        second.columns
    );
}

#[test]
fn diagnostics_carry_positions_and_nothing_is_dropped() {
    let sql = "INSERT INTO a SELECT x FROM b;\n  SELEC y FROM c;\nGRANT SELECT ON a TO bob;\nINSERT INTO d SELECT z FROM e";
    let l = analyze(sql, &Options::default());
    assert_eq!(l.statements.len(), 4);
    let parse = &l.statements[1].diagnostics[0];
    assert_eq!(parse.kind, DiagnosticKind::Parse);
    assert_eq!(
        (parse.location.line, parse.location.column),
        (2, 3),
        "{parse}"
    );
    assert_eq!(
        l.statements[2].diagnostics[0].kind,
        DiagnosticKind::Unsupported
    );
    assert_eq!(l.statements[3].writes[0].to_string(), "d");
}

#[test]
fn dialect_features() {
    let hive = Options {
        dialect: "hive".parse().unwrap(),
        ..Options::default()
    };
    let v = edges(
        "INSERT OVERWRITE TABLE t SELECT tag FROM p LATERAL VIEW explode(tags) x AS tag",
        &hive,
    );
    assert!(has(&v, "p.tags", "t.tag", Sub::Transformation), "{v:#?}");
    let snow = Options {
        dialect: "snowflake".parse().unwrap(),
        ..Options::default()
    };
    let v = edges("INSERT INTO t SELECT a + 1 AS b, b * 2 AS c FROM s", &snow);
    assert!(
        has(&v, "s.a", "t.c", Sub::Transformation),
        "lateral column alias: {v:#?}"
    );
    let pg = Options {
        dialect: "postgres".parse().unwrap(),
        ..Options::default()
    };
    let v = edges(
        "INSERT INTO \"Mixed\".\"Case\" SELECT \"Col\" FROM Src",
        &pg,
    );
    assert!(
        has(&v, "src.Col", "Mixed.Case.Col", Sub::Identity),
        "quoted names keep their case: {v:#?}"
    );
}

#[test]
fn identifier_case_follows_the_dialect() {
    let bq = Options {
        dialect: "bigquery".parse().unwrap(),
        ..Options::default()
    };
    let l = analyze(
        "INSERT INTO Sales.Daily SELECT Amount FROM `proj.Raw.Orders` o",
        &bq,
    );
    let s = &l.statements[0];
    assert_eq!(
        s.writes[0].to_string(),
        "Sales.Daily",
        "BigQuery table names keep their case"
    );
    assert_eq!(s.reads[0].to_string(), "proj.Raw.Orders");
    assert_eq!(
        s.columns[0].source.column, "amount",
        "column names are case-insensitive"
    );
    let pg = Options {
        dialect: "postgres".parse().unwrap(),
        ..Options::default()
    };
    let l = analyze(
        "INSERT INTO Sales.Daily SELECT o.Amount FROM Raw.Orders O",
        &pg,
    );
    assert_eq!(l.statements[0].writes[0].to_string(), "sales.daily");
    assert_eq!(
        l.statements[0].columns[0].source.to_string(),
        "raw.orders.amount"
    );
}

#[test]
fn a_plain_query_reports_its_output_columns_sources() {
    // With a catalog, `*` expands and unqualified columns resolve.
    let catalog = JsonCatalog::from_json(r#"{"s": ["a", "b"], "u": ["k", "v"]}"#).unwrap();
    let opts = Options {
        catalog: Some(Arc::new(catalog)),
        ..Options::default()
    };
    let l = analyze(
        "SELECT a, sum(v) AS total FROM s JOIN u ON s.b = u.k GROUP BY a",
        &opts,
    );
    let s = &l.statements[0];
    assert!(
        s.writes.is_empty() && s.columns.is_empty(),
        "a query writes nothing"
    );
    let out: Vec<(String, String, Kind, Sub)> = s
        .query_output
        .iter()
        .map(|e| {
            (
                e.source.to_string(),
                e.target.to_string(),
                e.kind,
                e.subtype,
            )
        })
        .collect();
    assert!(
        s.query_output
            .iter()
            .all(|e| e.target.table.is_query_output())
    );
    assert!(has(&out, "s.a", "<query>.a", Sub::Identity), "{out:?}");
    assert!(
        has(&out, "u.v", "<query>.total", Sub::Aggregation),
        "{out:?}"
    );
    assert!(has(&out, "s.b", "<query>.total", Sub::Join), "{out:?}");
    assert!(has(&out, "s.a", "<query>.total", Sub::GroupBy), "{out:?}");
    let star = analyze("SELECT * FROM s", &opts);
    let cols: Vec<String> = star.statements[0]
        .query_output
        .iter()
        .map(|e| e.target.column.clone())
        .collect();
    assert_eq!(cols, ["a", "b"], "`*` expands through the catalog");
    // Writes keep their own edges; no query output beside them.
    for sql in [
        "INSERT INTO t SELECT a FROM s",
        "SELECT a INTO t FROM s",
        "CREATE VIEW w AS SELECT a FROM s",
    ] {
        let l = analyze(sql, &opts);
        assert!(l.statements[0].query_output.is_empty(), "{sql}");
        assert!(!l.statements[0].columns.is_empty(), "{sql}");
    }
    // JSON carries it as `query_output`, left out when empty.
    let insert = analyze("INSERT INTO t SELECT a FROM s", &opts);
    let v = serde_json::to_value(&insert.statements[0]).unwrap();
    assert!(v.get("query_output").is_none(), "{v}");
    let v = serde_json::to_value(s).unwrap();
    assert_eq!(v["query_output"][0]["target"]["table"]["name"], "<query>");
}

#[test]
fn date_sharded_tables_fold_into_one_when_asked() {
    let sql = "INSERT INTO mart.daily SELECT user_id FROM analytics.events_20240101 \
               UNION ALL SELECT user_id FROM analytics.events_20240102; \
               INSERT INTO mart.all_days SELECT user_id FROM `analytics.events_*`";
    let bq = |normalize| Options {
        dialect: "bigquery".parse().unwrap(),
        normalize_sharded_tables: normalize,
        ..Options::default()
    };
    let on = analyze(sql, &bq(true));
    let reads: Vec<Vec<String>> = on
        .statements
        .iter()
        .map(|s| s.reads.iter().map(|t| t.to_string()).collect())
        .collect();
    assert_eq!(
        reads,
        [["analytics.events_yyyymmdd"], ["analytics.events_yyyymmdd"]],
        "shards and the wildcard are one table"
    );
    assert!(has(
        &edges(sql, &bq(true)),
        "analytics.events_yyyymmdd.user_id",
        "mart.daily.user_id",
        Sub::Identity
    ));
    let off = analyze(sql, &bq(false));
    assert_eq!(
        off.statements[0].reads.len(),
        2,
        "off by default: each shard is its own table"
    );
}

#[test]
fn snowflake_folds_unquoted_names_to_upper_case() {
    // A catalog as Snowflake's information schema spells it.
    let catalog =
        JsonCatalog::from_json(r#"{"PUBLIC.ORDERS": ["ID", "AMOUNT", "Region"]}"#).unwrap();
    let opts = |dialect: &str| Options {
        dialect: dialect.parse().unwrap(),
        catalog: Some(Arc::new(catalog.clone())),
        ..Options::default()
    };
    let sql = "INSERT INTO mart.t SELECT * FROM public.orders; \
               INSERT INTO mart.u (a, r) SELECT \"AMOUNT\", \"Region\" FROM \"PUBLIC\".\"ORDERS\"";
    let e = edges(sql, &opts("snowflake"));
    for (from, to) in [
        ("public.orders.id", "mart.t.id"),
        ("public.orders.amount", "mart.t.amount"),
        ("public.orders.Region", "mart.t.Region"),
        ("public.orders.amount", "mart.u.a"),
        ("public.orders.Region", "mart.u.r"),
    ] {
        assert!(has(&e, from, to, Sub::Identity), "{from} -> {to}: {e:?}");
    }
    let l = analyze(sql, &opts("snowflake"));
    assert_eq!(
        l.statements[1].reads[0].to_string(),
        "public.orders",
        "\"PUBLIC\".\"ORDERS\" is public.orders"
    );
    // Postgres folds to lower case: "AMOUNT" there is another column than amount.
    let pg = analyze(
        "INSERT INTO t SELECT \"AMOUNT\" FROM \"PUBLIC\".\"ORDERS\"",
        &opts("postgres"),
    );
    assert_eq!(pg.statements[0].reads[0].to_string(), "PUBLIC.ORDERS");
}

#[test]
fn struct_paths_are_kept_unless_the_catalog_only_knows_the_top_column() {
    let sql = "INSERT INTO out (aid) SELECT t.widget.asset.id FROM src t; \
               INSERT INTO out2 (aid) SELECT widget.asset.id FROM src";
    let with = |json: Option<&str>| Options {
        dialect: "bigquery".parse().unwrap(),
        catalog: json.map(|j| {
            Arc::new(JsonCatalog::from_json(j).unwrap()) as Arc<dyn headwaters_sqllineage::Catalog>
        }),
        ..Options::default()
    };
    let none = edges(sql, &with(None));
    assert!(
        has(&none, "src.widget.asset.id", "out.aid", Sub::Identity),
        "{none:?}"
    );
    assert!(
        has(&none, "src.widget.asset.id", "out2.aid", Sub::Identity),
        "{none:?}"
    );
    let nested = edges(
        sql,
        &with(Some(
            r#"{"src": ["widget", "widget.asset", "widget.asset.id"]}"#,
        )),
    );
    assert!(
        has(&nested, "src.widget.asset.id", "out.aid", Sub::Identity),
        "{nested:?}"
    );
    let flat = edges(sql, &with(Some(r#"{"src": ["widget", "name"]}"#)));
    assert!(
        has(&flat, "src.widget", "out.aid", Sub::Identity),
        "top column: {flat:?}"
    );
    assert!(
        has(&flat, "src.widget", "out2.aid", Sub::Identity),
        "top column: {flat:?}"
    );
}

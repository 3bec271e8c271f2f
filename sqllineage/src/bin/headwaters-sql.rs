//! `headwaters-sql`: table and column lineage from SQL files, query logs or stdin.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, ValueEnum};
use headwaters_sqllineage::{
    ColumnEdge, DiagnosticKind, Dialect, JsonCatalog, Lineage, Options, TransformationType, analyze,
};
use rayon::prelude::*;

#[derive(Parser)]
#[command(
    name = "headwaters-sql",
    version,
    about = "Table and column lineage from SQL"
)]
struct Cli {
    /// SQL to analyze (repeatable).
    #[arg(short = 'e', long = "execute")]
    sql: Vec<String>,
    /// Files, directories (every .sql inside) or glob patterns (repeatable).
    #[arg(short = 'f', long = "file")]
    files: Vec<String>,
    /// A query log: one statement per line, or JSON lines with a `query` field.
    #[arg(long)]
    log: Vec<PathBuf>,
    /// SQL dialect (generic, ansi, mysql, postgres, snowflake, bigquery, redshift, mssql,
    /// hive, sparksql, databricks, duckdb, clickhouse, oracle, sqlite, teradata; aliases
    /// such as tsql, athena, trino, presto).
    #[arg(long, default_value = "generic")]
    dialect: String,
    /// Schema for unqualified table names.
    #[arg(long)]
    default_schema: Option<String>,
    /// Database for table names without one.
    #[arg(long)]
    default_database: Option<String>,
    /// Catalog JSON: {"schema.table": ["col", ...]}.
    #[arg(long)]
    catalog: Option<PathBuf>,
    /// Name date-sharded tables as one table (`events_20240101` and `events_*` become
    /// `events_yyyymmdd`), as DataHub does.
    #[arg(long)]
    normalize_sharded_tables: bool,
    /// Lineage level.
    #[arg(long, value_enum, default_value_t = Level::Column)]
    level: Level,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// OpenLineage output: the datasets' namespace (default `<dialect>://default`, e.g.
    /// `postgres://default`, so receivers take the datasets for tables).
    #[arg(long)]
    namespace: Option<String>,
    /// OpenLineage output: the job's name (default: the input's name); the job's
    /// namespace is `headwaters-sql`.
    #[arg(long)]
    job: Option<String>,
    /// OpenLineage output: one RunEvent per statement (default) or per input file.
    #[arg(long, value_enum, default_value_t = OlPer::Statement)]
    openlineage_per: OlPer,
}

/// How `--format openlineage` groups statements into events.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OlPer {
    /// One event per statement that reads or writes a table: its reads and writes only.
    Statement,
    /// One event per input: every read and write of the file.
    File,
}

/// What `--format openlineage` needs besides the lineage.
struct OlNames {
    namespace: String,
    job: Option<String>,
    per: OlPer,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Level {
    Table,
    Column,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
    Dot,
    Mermaid,
    Openlineage,
}

/// One piece of input: where it came from and its SQL.
struct Unit {
    origin: String,
    /// Line of the input where this SQL starts (for log lines).
    first_line: u64,
    sql: String,
}

fn usage_error(msg: String) -> ExitCode {
    eprintln!("headwaters-sql: {msg}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let dialect: Dialect = match cli.dialect.parse() {
        Ok(d) => d,
        Err(e) => return usage_error(e.to_string()),
    };
    let catalog = match &cli.catalog {
        None => None,
        Some(p) => match std::fs::read_to_string(p)
            .map_err(|e| e.to_string())
            .and_then(|t| JsonCatalog::from_json(&t).map_err(|e| e.to_string()))
        {
            Ok(c) => Some(Arc::new(c) as Arc<dyn headwaters_sqllineage::Catalog>),
            Err(e) => return usage_error(format!("{}: {e}", p.display())),
        },
    };
    let opts = Options {
        dialect,
        default_schema: cli.default_schema.clone(),
        default_database: cli.default_database.clone(),
        catalog,
        lateral_column_alias: None,
        normalize_sharded_tables: cli.normalize_sharded_tables,
    };
    let units = match inputs(&cli) {
        Ok(u) => u,
        Err(e) => return usage_error(e),
    };
    let bar = (std::io::stderr().is_terminal() && units.len() > 1).then(|| {
        let b = indicatif::ProgressBar::new(units.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} inputs [{elapsed}]")
                .expect("valid template"),
        );
        b
    });
    let results: Vec<(&Unit, Lineage)> = units
        .par_iter()
        .map(|u| {
            let l = analyze(&u.sql, &opts);
            if let Some(b) = &bar {
                b.inc(1);
            }
            (u, l)
        })
        .collect();
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let ol = OlNames {
        namespace: cli
            .namespace
            .clone()
            .unwrap_or_else(|| format!("{}://default", namespace_scheme(dialect))),
        job: cli.job.clone(),
        per: cli.openlineage_per,
    };
    print!("{}", render(&results, cli.format, cli.level, &ol));
    summarize(&results)
}

/// Gathers every input: -e, -f (files, directories, globs), --log, else stdin.
fn inputs(cli: &Cli) -> Result<Vec<Unit>, String> {
    let mut units = Vec::new();
    for (i, sql) in cli.sql.iter().enumerate() {
        units.push(Unit {
            origin: format!("-e#{}", i + 1),
            first_line: 1,
            sql: sql.clone(),
        });
    }
    for f in &cli.files {
        for path in expand(f)? {
            let sql =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            units.push(Unit {
                origin: path.display().to_string(),
                first_line: 1,
                sql,
            });
        }
    }
    for log in &cli.log {
        let text = std::fs::read_to_string(log).map_err(|e| format!("{}: {e}", log.display()))?;
        for (i, line) in text.lines().enumerate() {
            let line_no = i as u64 + 1;
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            let sql = if trimmed.starts_with('{') {
                let v: serde_json::Value = serde_json::from_str(trimmed)
                    .map_err(|e| format!("{}:{line_no}: not JSON: {e}", log.display()))?;
                match v.get("query").and_then(|q| q.as_str()) {
                    Some(q) => q.to_string(),
                    None => return Err(format!("{}:{line_no}: no \"query\" field", log.display())),
                }
            } else {
                trimmed.to_string()
            };
            units.push(Unit {
                origin: log.display().to_string(),
                first_line: line_no,
                sql,
            });
        }
    }
    if units.is_empty() {
        if std::io::stdin().is_terminal() {
            return Err(
                "no input: give -e SQL, -f FILE, --log FILE, or pipe SQL to stdin (see --help)"
                    .into(),
            );
        }
        let mut sql = String::new();
        std::io::stdin()
            .read_to_string(&mut sql)
            .map_err(|e| format!("stdin: {e}"))?;
        units.push(Unit {
            origin: "<stdin>".into(),
            first_line: 1,
            sql,
        });
    }
    Ok(units)
}

/// A file, every `.sql` file under a directory, or the files a glob pattern matches.
fn expand(arg: &str) -> Result<Vec<PathBuf>, String> {
    let p = Path::new(arg);
    if p.is_dir() {
        let mut out = Vec::new();
        walk(p, &mut out).map_err(|e| format!("{arg}: {e}"))?;
        out.sort();
        return Ok(out);
    }
    if p.exists() {
        return Ok(vec![p.to_path_buf()]);
    }
    let matches: Vec<PathBuf> = glob::glob(arg)
        .map_err(|e| format!("{arg}: bad pattern: {e}"))?
        .filter_map(Result::ok)
        .filter(|p| p.is_file())
        .collect();
    if matches.is_empty() {
        return Err(format!("{arg}: no such file"));
    }
    Ok(matches)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|x| x.eq_ignore_ascii_case("sql")) {
            out.push(p);
        }
    }
    Ok(())
}

/// Prints diagnostics and the summary; the exit code says whether all statements parsed.
fn summarize(results: &[(&Unit, Lineage)]) -> ExitCode {
    let (mut statements, mut failed) = (0usize, 0usize);
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for (u, l) in results {
        for s in &l.statements {
            statements += 1;
            if s.diagnostics
                .iter()
                .any(|d| matches!(d.kind, DiagnosticKind::Parse | DiagnosticKind::TooDeep))
            {
                failed += 1;
            }
            for d in &s.diagnostics {
                *kinds.entry(format!("{:?}", d.kind)).or_default() += 1;
                let line = d.location.line + u.first_line - 1;
                eprintln!(
                    "{}:{}:{}: {:?}: {}",
                    u.origin, line, d.location.column, d.kind, d.message
                );
            }
        }
    }
    let per_kind: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
    eprintln!(
        "statements: {statements}, succeeded: {}, failed: {failed}{}",
        statements - failed,
        if per_kind.is_empty() {
            String::new()
        } else {
            format!(" (diagnostics: {})", per_kind.join(", "))
        }
    );
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The URI scheme OpenLineage's naming conventions give a dialect's datasets.
fn namespace_scheme(d: Dialect) -> &'static str {
    match d {
        Dialect::Postgres => "postgres",
        Dialect::MySql => "mysql",
        Dialect::Snowflake => "snowflake",
        Dialect::BigQuery => "bigquery",
        Dialect::Redshift => "redshift",
        Dialect::MsSql => "sqlserver",
        Dialect::Hive => "hive",
        Dialect::SparkSql => "spark",
        Dialect::Databricks => "databricks",
        Dialect::DuckDb => "duckdb",
        Dialect::ClickHouse => "clickhouse",
        Dialect::Oracle => "oracle",
        Dialect::Sqlite => "sqlite",
        Dialect::Teradata => "teradata",
        _ => "jdbc",
    }
}

fn render(results: &[(&Unit, Lineage)], format: Format, level: Level, ol: &OlNames) -> String {
    let mut out = String::new();
    let table_edges = |l: &Lineage| -> Vec<(String, String)> {
        let mut v = Vec::new();
        for s in &l.statements {
            for r in &s.reads {
                for w in &s.writes {
                    v.push((r.to_string(), w.to_string()));
                }
            }
        }
        v.sort();
        v.dedup();
        v
    };
    let column_edges = |l: &Lineage| -> Vec<(String, String, String)> {
        let mut v: Vec<(String, String, String)> = l
            .statements
            .iter()
            .flat_map(|s| s.columns.iter().chain(&s.query_output).map(move |e| (s, e)))
            .map(|(s, e)| (e.source.to_string(), target_label(s, e), e.transformation()))
            .collect();
        v.sort();
        v.dedup();
        v
    };
    match format {
        Format::Json => {
            let v: Vec<serde_json::Value> = results
                .iter()
                .map(|(u, l)| serde_json::json!({"origin": u.origin, "line": u.first_line, "lineage": l}))
                .collect();
            out = serde_json::to_string_pretty(&v).expect("lineage serializes");
            out.push('\n');
        }
        Format::Text => {
            for (u, l) in results {
                out += &format!("== {}:{}\n", u.origin, u.first_line);
                for (i, s) in l.statements.iter().enumerate() {
                    out += &format!("statement {} ({}) at {}\n", i + 1, s.kind, s.location);
                    let names = |v: &[headwaters_sqllineage::TableName]| {
                        v.iter()
                            .map(|t| t.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    out += &format!(
                        "  reads:  {}\n  writes: {}\n",
                        names(&s.reads),
                        names(&s.writes)
                    );
                    if !s.reads_written.is_empty() {
                        out += &format!("  reads (written too): {}\n", names(&s.reads_written));
                    }
                    if !s.modifies.is_empty() {
                        out += &format!("  modifies: {}\n", names(&s.modifies));
                    }
                    if level == Level::Column {
                        for e in s.columns.iter().chain(&s.query_output) {
                            let expr = e
                                .expression
                                .as_deref()
                                .map(|x| format!("  [{x}]"))
                                .unwrap_or_default();
                            out += &format!(
                                "  {} -> {}  {:?}/{:?}{expr}\n",
                                e.source,
                                target_label(s, e),
                                e.kind,
                                e.subtype
                            );
                        }
                    }
                }
                if !l.intermediate_tables.is_empty() {
                    let t: Vec<String> = l
                        .intermediate_tables
                        .iter()
                        .map(|t| t.to_string())
                        .collect();
                    out += &format!("intermediate tables: {}\n", t.join(", "));
                }
            }
        }
        Format::Dot => {
            out += "digraph lineage {\n  rankdir=LR;\n";
            for (_, l) in results {
                if level == Level::Table {
                    for (a, b) in table_edges(l) {
                        out += &format!("  {a:?} -> {b:?};\n");
                    }
                } else {
                    for (a, b, kind) in column_edges(l) {
                        let style = if kind.starts_with("INDIRECT") {
                            " [style=dashed]"
                        } else {
                            ""
                        };
                        out += &format!("  {a:?} -> {b:?}{style};\n");
                    }
                }
            }
            out += "}\n";
        }
        Format::Mermaid => {
            out += "flowchart LR\n";
            let mut ids: BTreeMap<String, usize> = BTreeMap::new();
            let mut id = |name: &str, out: &mut String| -> String {
                let n = ids.len();
                let i = *ids.entry(name.to_string()).or_insert_with(|| {
                    out.push_str(&format!("  n{n}[\"{}\"]\n", name.replace('"', "#quot;")));
                    n
                });
                format!("n{i}")
            };
            for (_, l) in results {
                if level == Level::Table {
                    for (a, b) in table_edges(l) {
                        let (x, y) = (id(&a, &mut out), id(&b, &mut out));
                        out += &format!("  {x} --> {y}\n");
                    }
                } else {
                    for (a, b, kind) in column_edges(l) {
                        let (x, y) = (id(&a, &mut out), id(&b, &mut out));
                        let arrow = if kind.starts_with("INDIRECT") {
                            "-.->"
                        } else {
                            "-->"
                        };
                        out += &format!("  {x} {arrow} {y}\n");
                    }
                }
            }
        }
        Format::Openlineage => {
            for (u, l) in results {
                let job = ol.job.clone().unwrap_or_else(|| u.origin.clone());
                let groups: Vec<&[headwaters_sqllineage::StatementLineage]> = match ol.per {
                    OlPer::File => vec![&l.statements[..]],
                    OlPer::Statement => l
                        .statements
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| !s.reads.is_empty() || !s.writes.is_empty())
                        .map(|(i, _)| &l.statements[i..=i])
                        .collect(),
                };
                for g in groups {
                    out += &serde_json::to_string(&openlineage_event(&ol.namespace, &job, g))
                        .expect("serializes");
                    out.push('\n');
                }
            }
        }
    }
    out
}

/// A column edge's target as shown: a query's output column is named after the
/// statement's position (`query@3:1.revenue`), so two queries' outputs stay apart.
fn target_label(s: &headwaters_sqllineage::StatementLineage, e: &ColumnEdge) -> String {
    if e.target.table.is_query_output() {
        format!("query@{}.{}", s.location, e.target.column)
    } else {
        e.target.to_string()
    }
}

/// An OpenLineage RunEvent (COMPLETE) of some statements: their reads as inputs, their
/// writes as outputs with the columnLineage facet.
fn openlineage_event(
    namespace: &str,
    job: &str,
    statements: &[headwaters_sqllineage::StatementLineage],
) -> serde_json::Value {
    const PRODUCER: &str = concat!("urn:headwaters:headwaters-sql:", env!("CARGO_PKG_VERSION"));
    let mut inputs: Vec<String> = statements
        .iter()
        .flat_map(|s| s.reads.iter().map(|t| t.to_string()))
        .collect();
    inputs.sort();
    inputs.dedup();
    let mut outputs: BTreeMap<String, BTreeMap<String, Vec<serde_json::Value>>> = BTreeMap::new();
    for s in statements {
        for w in &s.writes {
            outputs.entry(w.to_string()).or_default();
        }
        for e in &s.columns {
            let field = serde_json::json!({
                "namespace": namespace,
                "name": e.source.table.to_string(),
                "field": e.source.column,
                "transformations": [{
                    "type": if e.kind == TransformationType::Direct { "DIRECT" } else { "INDIRECT" },
                    "subtype": format!("{:?}", e.subtype).to_uppercase(),
                    "description": e.expression.clone().unwrap_or_default(),
                    "masking": false,
                }],
            });
            outputs
                .entry(e.target.table.to_string())
                .or_default()
                .entry(e.target.column.clone())
                .or_default()
                .push(field);
        }
    }
    let outputs: Vec<serde_json::Value> = outputs
        .into_iter()
        .map(|(name, fields)| {
            let fields: serde_json::Map<String, serde_json::Value> = fields
                .into_iter()
                .map(|(col, inputs)| (col, serde_json::json!({"inputFields": inputs})))
                .collect();
            serde_json::json!({
                "namespace": namespace,
                "name": name,
                "facets": {"columnLineage": {
                    "_producer": PRODUCER,
                    "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json",
                    "fields": fields,
                }},
            })
        })
        .collect();
    serde_json::json!({
        "eventType": "COMPLETE",
        "eventTime": rfc3339_now(),
        "run": {"runId": uuid::Uuid::new_v4()},
        "job": {"namespace": "headwaters-sql", "name": job},
        "inputs": inputs.iter().map(|n| serde_json::json!({"namespace": namespace, "name": n})).collect::<Vec<_>>(),
        "outputs": outputs,
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/RunEvent",
    })
}

/// The current UTC time as RFC 3339 (`2026-11-21T21:09:13Z`).
fn rfc3339_now() -> String {
    let now = time::OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

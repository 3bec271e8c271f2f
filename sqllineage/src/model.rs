//! What the extractor returns, and what it takes besides the SQL.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::dialect::Dialect;
use crate::error::Error;

/// The name of [`TableName::query_output`].
pub const QUERY_OUTPUT: &str = "<query>";

/// A table (or view, or path), qualified as far as the SQL and the defaults allow.
/// Unquoted identifiers are lower-cased; quoted ones are kept as written.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TableName {
    /// Database (catalog), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// Schema, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Table name (or a path such as `s3://bucket/key`).
    pub name: String,
}

impl TableName {
    /// A table with only a name.
    pub fn bare(name: impl Into<String>) -> Self {
        TableName {
            database: None,
            schema: None,
            name: name.into(),
        }
    }

    /// The stand-in table of a query's own output (`<query>`): the target of
    /// [`StatementLineage::query_output`]'s edges. No SQL identifier can name it.
    pub fn query_output() -> Self {
        TableName::bare(QUERY_OUTPUT)
    }

    /// This is [`TableName::query_output`].
    pub fn is_query_output(&self) -> bool {
        self.database.is_none() && self.schema.is_none() && self.name == QUERY_OUTPUT
    }

    /// A date-sharded table's name as one table: `events_20240101` (a plausible
    /// `YYYYMMDD` after `_` or `$`) and the wildcard `events_*` become
    /// `events_yyyymmdd`; other names are returned as they are.
    pub fn unsharded(name: &str) -> std::borrow::Cow<'_, str> {
        use std::borrow::Cow;
        if let Some(prefix) = name.strip_suffix("_*").filter(|p| !p.is_empty()) {
            return Cow::Owned(format!("{prefix}_yyyymmdd"));
        }
        // The last 8 bytes must be ASCII digits before the name is cut there (a cut
        // inside a multi-byte character would panic).
        let bytes = name.as_bytes();
        if bytes.len() < 10 || !bytes[bytes.len() - 8..].iter().all(u8::is_ascii_digit) {
            return Cow::Borrowed(name);
        }
        let (head, date) = name.split_at(name.len() - 8);
        let sep = head.as_bytes()[head.len() - 1];
        let plausible = matches!(&date[..2], "19" | "20")
            && (1..=12).contains(&date[4..6].parse::<u8>().unwrap_or(0))
            && (1..=31).contains(&date[6..].parse::<u8>().unwrap_or(0));
        if (sep == b'_' || sep == b'$') && head.len() > 1 && plausible {
            Cow::Owned(format!("{}_yyyymmdd", &head[..head.len() - 1]))
        } else {
            Cow::Borrowed(name)
        }
    }

    /// Parses `a.b.c`, `b.c` or `c` (no quoting).
    pub fn parse_dotted(s: &str) -> Self {
        let parts: Vec<&str> = s.split('.').collect();
        match parts.as_slice() {
            [d, sch, n] => TableName {
                database: Some(d.to_string()),
                schema: Some(sch.to_string()),
                name: n.to_string(),
            },
            [sch, n] => TableName {
                database: None,
                schema: Some(sch.to_string()),
                name: n.to_string(),
            },
            _ => TableName::bare(s),
        }
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.database {
            write!(f, "{d}.")?;
        }
        if let Some(s) = &self.schema {
            write!(f, "{s}.")?;
        }
        f.write_str(&self.name)
    }
}

/// A column of a table.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ColumnRef {
    /// The table.
    pub table: TableName,
    /// The column name.
    pub column: String,
}

impl fmt::Display for ColumnRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.table, self.column)
    }
}

/// OpenLineage's transformation type of a column edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransformationType {
    /// The source's value flows into the target.
    Direct,
    /// The source influences which rows or how, not the value itself.
    Indirect,
}

/// OpenLineage's transformation subtype.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransformationSubtype {
    /// Taken as is.
    Identity,
    /// Computed from the source.
    Transformation,
    /// Aggregated.
    Aggregation,
    /// Used in a join condition.
    Join,
    /// Used in WHERE / HAVING / QUALIFY.
    Filter,
    /// Used in GROUP BY.
    GroupBy,
    /// Used in ORDER BY.
    Sort,
    /// Used in a window's PARTITION BY / ORDER BY.
    Window,
    /// Used in a CASE / IF condition.
    Conditional,
}

impl TransformationSubtype {
    /// The type this subtype belongs to.
    pub fn kind(self) -> TransformationType {
        match self {
            Self::Identity | Self::Transformation | Self::Aggregation => TransformationType::Direct,
            _ => TransformationType::Indirect,
        }
    }
}

/// One source column feeding one target column.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ColumnEdge {
    /// Where the data comes from.
    pub source: ColumnRef,
    /// Where it goes.
    pub target: ColumnRef,
    /// DIRECT or INDIRECT.
    #[serde(rename = "type")]
    pub kind: TransformationType,
    /// How.
    pub subtype: TransformationSubtype,
    /// The SQL expression that produced the target (for DIRECT edges).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
}

impl ColumnEdge {
    /// Kind and subtype in one word: `DIRECT/AGGREGATION`, `INDIRECT/FILTER`, ...
    pub fn transformation(&self) -> String {
        format!("{:?}/{:?}", self.kind, self.subtype).to_uppercase()
    }

    /// The expression that computes the target, for transformations other than a plain
    /// copy (indirect edges carry none).
    pub fn function(&self) -> Option<&str> {
        if self.subtype == TransformationSubtype::Identity {
            None
        } else {
            self.expression.as_deref()
        }
    }
}

/// A position in the SQL text (1-based).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Location {
    /// Line.
    pub line: u64,
    /// Column (in characters).
    pub column: u64,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// What kind of problem a diagnostic reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosticKind {
    /// The statement does not parse.
    Parse,
    /// The statement parses but produces no lineage we extract.
    Unsupported,
    /// A column could belong to more than one table.
    AmbiguousColumn,
    /// A name could not be resolved.
    Unresolved,
    /// Nesting deeper than the extractor follows.
    TooDeep,
}

/// A problem found while analyzing, with where it is.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Diagnostic {
    /// What kind of problem.
    pub kind: DiagnosticKind,
    /// Where (start of the statement, or the parser's position).
    pub location: Location,
    /// What exactly.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// What a statement does, as far as lineage is concerned. Serialized (and displayed)
/// in snake case: `select`, `insert`, `create_table_as`, ...
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementKind {
    /// The statement did not parse.
    Unparsed,
    /// A query (its lineage is its reads).
    Select,
    /// `SELECT ... INTO t`.
    SelectInto,
    /// `INSERT` (and `INSERT OVERWRITE`).
    Insert,
    /// `INSERT OVERWRITE DIRECTORY`.
    InsertDirectory,
    /// `CREATE TABLE` with columns.
    CreateTable,
    /// `CREATE TABLE ... AS SELECT`.
    CreateTableAs,
    /// `CREATE TABLE ... CLONE`.
    CreateTableClone,
    /// `CREATE TABLE ... LIKE`.
    CreateTableLike,
    /// `CREATE VIEW`.
    CreateView,
    /// `CREATE MATERIALIZED VIEW`.
    CreateMaterializedView,
    /// `UPDATE`.
    Update,
    /// `DELETE`.
    Delete,
    /// `MERGE`.
    Merge,
    /// `DROP TABLE/VIEW`.
    Drop,
    /// `TRUNCATE TABLE`.
    Truncate,
    /// `ALTER TABLE` (renames, swaps).
    AlterTable,
    /// `ALTER VIEW` (a new definition, a rename, property changes).
    AlterView,
    /// `RENAME TABLE`.
    RenameTable,
    /// `COPY` / `COPY INTO`.
    Copy,
    /// `UNLOAD`.
    Unload,
    /// A statement holding others: a procedure's, function's or trigger's body, a
    /// `BEGIN ... END` block, `IF`/`WHILE`/`CASE`. Its lineage is the union of its
    /// statements' lineage.
    Compound,
    /// Anything else (reported as unsupported).
    #[default]
    Other,
}

impl StatementKind {
    /// The snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            StatementKind::Unparsed => "unparsed",
            StatementKind::Select => "select",
            StatementKind::SelectInto => "select_into",
            StatementKind::Insert => "insert",
            StatementKind::InsertDirectory => "insert_directory",
            StatementKind::CreateTable => "create_table",
            StatementKind::CreateTableAs => "create_table_as",
            StatementKind::CreateTableClone => "create_table_clone",
            StatementKind::CreateTableLike => "create_table_like",
            StatementKind::CreateView => "create_view",
            StatementKind::CreateMaterializedView => "create_materialized_view",
            StatementKind::Update => "update",
            StatementKind::Delete => "delete",
            StatementKind::Merge => "merge",
            StatementKind::Drop => "drop",
            StatementKind::Truncate => "truncate",
            StatementKind::AlterTable => "alter_table",
            StatementKind::AlterView => "alter_view",
            StatementKind::RenameTable => "rename_table",
            StatementKind::Copy => "copy",
            StatementKind::Unload => "unload",
            StatementKind::Compound => "compound",
            StatementKind::Other => "other",
        }
    }
}

impl fmt::Display for StatementKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The lineage of one statement.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StatementLineage {
    /// What the statement does (`unparsed` if it did not parse).
    pub kind: StatementKind,
    /// Where the statement starts.
    pub location: Location,
    /// Tables read.
    pub reads: Vec<TableName>,
    /// Tables written.
    pub writes: Vec<TableName>,
    /// Tables changed in place with no data flowing in: the targets of DROP, TRUNCATE
    /// and ALTER TABLE (what "tables written" means to a tool that lists DDL targets;
    /// kept apart from `writes`, which carry lineage).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modifies: Vec<TableName>,
    /// Written tables the statement also reads: an UPDATE's or MERGE's target where
    /// its own columns feed a value or pick the rows (`SET n = n + 1`, `WHERE
    /// t.active`, MERGE's `ON`). Kept apart from `reads`, which lists the sources of
    /// the data written, so no table is its own lineage source; "every table read" is
    /// `reads` and `reads_written` together.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reads_written: Vec<TableName>,
    /// Column edges.
    pub columns: Vec<ColumnEdge>,
    /// A query that writes nothing (a plain `SELECT`, what query logs and BI tools run
    /// most): where each of its output columns comes from, as column edges whose target
    /// table is [`TableName::query_output`] and whose target column is the output
    /// column's name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query_output: Vec<ColumnEdge>,
    /// Problems found in this statement.
    pub diagnostics: Vec<Diagnostic>,
    /// Read from inside a statement the parser refused (the previous unparsed one), by
    /// resuming at a later keyword after its error: e.g. the `INSERT` in a procedure
    /// body whose header is not understood. Partial lineage of that statement.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recovered: bool,
}

/// The lineage of a script.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Lineage {
    /// One entry per statement, in order.
    pub statements: Vec<StatementLineage>,
    /// Tables both written and read within the script (temp tables, CTAS targets and
    /// views used later).
    pub intermediate_tables: Vec<TableName>,
}

impl Lineage {
    /// Every diagnostic of every statement.
    pub fn diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        self.statements.iter().flat_map(|s| s.diagnostics.iter())
    }
}

/// Table -> columns, to expand `*` and resolve unqualified columns.
pub trait Catalog: Send + Sync {
    /// The columns of a table, in order, if known.
    fn columns(&self, table: &TableName) -> Option<Vec<String>>;

    /// The same columns, shared: a catalog that keeps them behind an [`Arc`] returns
    /// them without copying (the analyzer asks once per statement and table).
    fn shared_columns(&self, table: &TableName) -> Option<Arc<Vec<String>>> {
        self.columns(table).map(Arc::new)
    }
}

/// A catalog read from JSON: `{"schema.table": ["col", ...], ...}` (keys may also be
/// `table` or `database.schema.table`).
#[derive(Clone, Debug, Default)]
pub struct JsonCatalog {
    tables: HashMap<String, Arc<Vec<String>>>,
}

impl JsonCatalog {
    /// Parses the JSON form.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let raw: HashMap<String, Vec<String>> = serde_json::from_str(text).map_err(|e| {
            Error::BadCatalog(format!(
                "expected {{\"schema.table\": [\"col\", ...]}}: {e}"
            ))
        })?;
        let tables = raw
            .into_iter()
            .map(|(k, v)| {
                // Table keys match without regard to case; column names are kept as
                // given and matched by the dialect's rules (see `Options::dialect`).
                (k.to_lowercase(), Arc::new(v))
            })
            .collect();
        Ok(JsonCatalog { tables })
    }
}

impl Catalog for JsonCatalog {
    fn columns(&self, table: &TableName) -> Option<Vec<String>> {
        self.shared_columns(table).map(|c| c.to_vec())
    }

    fn shared_columns(&self, table: &TableName) -> Option<Arc<Vec<String>>> {
        self.tables
            .get(&table.to_string().to_lowercase())
            .or_else(|| {
                // A catalog keyed `schema.table` still answers for `db.schema.table`.
                let short = TableName {
                    database: None,
                    ..table.clone()
                };
                self.tables.get(&short.to_string().to_lowercase())
            })
            .cloned()
    }
}

/// How to analyze.
#[derive(Clone, Default)]
pub struct Options {
    /// Grammar and identifier rules.
    pub dialect: Dialect,
    /// Database for names that have none (only applied with a schema).
    pub default_database: Option<String>,
    /// Schema for unqualified names.
    pub default_schema: Option<String>,
    /// Known tables and columns.
    pub catalog: Option<Arc<dyn Catalog>>,
    /// Let a select item refer to an alias defined earlier in the same SELECT
    /// (`None`: as the dialect does).
    pub lateral_column_alias: Option<bool>,
    /// Name date-sharded tables as one table, as DataHub does: `events_20240101` and
    /// BigQuery's wildcard `events_*` become `events_yyyymmdd` (off by default).
    pub normalize_sharded_tables: bool,
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("dialect", &self.dialect)
            .field("default_database", &self.default_database)
            .field("default_schema", &self.default_schema)
            .field("catalog", &self.catalog.is_some())
            .field("lateral_column_alias", &self.lateral_column_alias)
            .field("normalize_sharded_tables", &self.normalize_sharded_tables)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sharded_names_fold_to_one_table() {
        assert_eq!(TableName::unsharded("events_20240101"), "events_yyyymmdd");
        assert_eq!(
            TableName::unsharded("ga_sessions$20191231"),
            "ga_sessions_yyyymmdd"
        );
        assert_eq!(TableName::unsharded("events_*"), "events_yyyymmdd");
        for keep in [
            "events_2024",
            "t_12345678",
            "events_20241301",
            "events20240101",
            "_20240101",
            "*",
            "orders",
            "événements_2024é",
            "tableé12345678",
        ] {
            assert_eq!(TableName::unsharded(keep), keep, "{keep}");
        }
    }
}

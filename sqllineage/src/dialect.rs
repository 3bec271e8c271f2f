//! SQL dialects by name, with the usual aliases.

use std::fmt;
use std::str::FromStr;

use sqlparser::dialect as sp;

use crate::error::Error;

/// A SQL dialect the extractor parses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    /// Permissive: accepts most syntax (also athena, trino, presto, vertica, db2).
    #[default]
    Generic,
    /// ANSI SQL.
    Ansi,
    /// MySQL / MariaDB.
    MySql,
    /// PostgreSQL.
    Postgres,
    /// Snowflake.
    Snowflake,
    /// Google BigQuery.
    BigQuery,
    /// Amazon Redshift.
    Redshift,
    /// Microsoft SQL Server (T-SQL).
    MsSql,
    /// Apache Hive.
    Hive,
    /// Spark SQL.
    SparkSql,
    /// Databricks.
    Databricks,
    /// DuckDB.
    DuckDb,
    /// ClickHouse.
    ClickHouse,
    /// Oracle.
    Oracle,
    /// SQLite.
    Sqlite,
    /// Teradata (parsed with the generic grammar).
    Teradata,
}

/// Canonical names, in the order error messages list them.
const NAMES: &[(&str, Dialect)] = &[
    ("generic", Dialect::Generic),
    ("ansi", Dialect::Ansi),
    ("mysql", Dialect::MySql),
    ("postgres", Dialect::Postgres),
    ("snowflake", Dialect::Snowflake),
    ("bigquery", Dialect::BigQuery),
    ("redshift", Dialect::Redshift),
    ("mssql", Dialect::MsSql),
    ("hive", Dialect::Hive),
    ("sparksql", Dialect::SparkSql),
    ("databricks", Dialect::Databricks),
    ("duckdb", Dialect::DuckDb),
    ("clickhouse", Dialect::ClickHouse),
    ("oracle", Dialect::Oracle),
    ("sqlite", Dialect::Sqlite),
    ("teradata", Dialect::Teradata),
];

/// Other names people use for the same dialects.
const ALIASES: &[(&str, Dialect)] = &[
    ("tsql", Dialect::MsSql),
    ("sqlserver", Dialect::MsSql),
    ("postgresql", Dialect::Postgres),
    ("spark", Dialect::SparkSql),
    ("mariadb", Dialect::MySql),
    ("athena", Dialect::Generic),
    ("trino", Dialect::Generic),
    ("presto", Dialect::Generic),
    ("vertica", Dialect::Generic),
    ("db2", Dialect::Generic),
    ("exasol", Dialect::Generic),
    ("non-validating", Dialect::Generic),
];

impl Dialect {
    /// The canonical name.
    pub fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(_, d)| *d == self)
            .map_or("generic", |(n, _)| n)
    }

    /// Every canonical dialect name.
    pub fn names() -> impl Iterator<Item = &'static str> {
        NAMES.iter().map(|(n, _)| *n)
    }

    /// The sqlparser grammar for this dialect.
    pub(crate) fn parser_dialect(self) -> Box<dyn sp::Dialect> {
        match self {
            Dialect::Generic | Dialect::Teradata => Box::new(sp::GenericDialect {}),
            Dialect::Ansi => Box::new(sp::AnsiDialect {}),
            Dialect::MySql => Box::new(sp::MySqlDialect {}),
            Dialect::Postgres => Box::new(sp::PostgreSqlDialect {}),
            Dialect::Snowflake => Box::new(sp::SnowflakeDialect {}),
            Dialect::BigQuery => Box::new(sp::BigQueryDialect {}),
            Dialect::Redshift => Box::new(sp::RedshiftSqlDialect {}),
            Dialect::MsSql => Box::new(sp::MsSqlDialect {}),
            Dialect::Hive => Box::new(sp::HiveDialect {}),
            Dialect::SparkSql | Dialect::Databricks => Box::new(sp::DatabricksDialect {}),
            Dialect::DuckDb => Box::new(sp::DuckDbDialect {}),
            Dialect::ClickHouse => Box::new(sp::ClickHouseDialect {}),
            Dialect::Oracle => Box::new(sp::OracleDialect {}),
            Dialect::Sqlite => Box::new(sp::SQLiteDialect {}),
        }
    }

    /// Grammars tried, in order, on a statement this dialect's grammar refuses: the
    /// same tokens (so quoting and literals keep this dialect's meaning) read by a
    /// related dialect's grammar, then by sqlparser's generic one, which accepts the
    /// union of many dialects' syntax.
    pub(crate) fn fallback_parser_dialects(self) -> Vec<Box<dyn sp::Dialect>> {
        let mut out: Vec<Box<dyn sp::Dialect>> = match self {
            Dialect::Redshift | Dialect::DuckDb => vec![Box::new(sp::PostgreSqlDialect {})],
            Dialect::SparkSql | Dialect::Databricks => vec![Box::new(sp::HiveDialect {})],
            Dialect::Hive => vec![Box::new(sp::DatabricksDialect {})],
            _ => Vec::new(),
        };
        if !matches!(self, Dialect::Generic | Dialect::Teradata) {
            out.push(Box::new(sp::GenericDialect {}));
        }
        out
    }

    /// Whether table names are case-sensitive, so unquoted ones keep their case:
    /// BigQuery (datasets and tables) and MySQL (tables are files on case-sensitive file
    /// systems). Elsewhere unquoted identifiers are lower-cased.
    pub fn case_sensitive_table_names(self) -> bool {
        matches!(self, Dialect::BigQuery | Dialect::MySql)
    }

    /// Whether unquoted identifiers are stored upper-case (Snowflake, Oracle), so that
    /// `"AMOUNT"` names the same column as `amount`, and a catalog read from the
    /// database lists `AMOUNT`.
    pub fn folds_to_upper(self) -> bool {
        matches!(self, Dialect::Snowflake | Dialect::Oracle)
    }

    /// The identifier as an unquoted one is stored: `AMOUNT` for `amount` where
    /// unquoted names fold to upper case. Only names an unquoted identifier could spell
    /// (letters, digits, `_`, `$`; not starting with a digit) qualify.
    pub fn is_folded_spelling(self, name: &str) -> bool {
        self.folds_to_upper()
            && name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '$')
    }

    /// Whether a select item may refer to an alias defined earlier in the same SELECT.
    pub fn has_lateral_column_alias(self) -> bool {
        matches!(
            self,
            Dialect::Snowflake
                | Dialect::Redshift
                | Dialect::Databricks
                | Dialect::SparkSql
                | Dialect::DuckDb
                | Dialect::ClickHouse
                | Dialect::Teradata
        )
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Dialect {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let lower = s.trim().to_ascii_lowercase();
        NAMES
            .iter()
            .chain(ALIASES)
            .find(|(n, _)| *n == lower)
            .map(|(_, d)| *d)
            .ok_or_else(|| Error::UnknownDialect {
                name: s.to_string(),
                valid: Dialect::names().collect::<Vec<_>>().join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_parse() {
        for name in Dialect::names() {
            assert_eq!(name.parse::<Dialect>().unwrap().name(), name);
        }
        assert_eq!("TSQL".parse::<Dialect>().unwrap(), Dialect::MsSql);
        assert_eq!("athena".parse::<Dialect>().unwrap(), Dialect::Generic);
        let err = "sqlserverr".parse::<Dialect>().unwrap_err().to_string();
        assert!(
            err.contains("sqlserverr") && err.contains("snowflake, bigquery"),
            "{err}"
        );
    }
}

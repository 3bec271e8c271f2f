//! From statements to lineage.
//!
//! A query is analyzed into a [`QueryOut`]: its output columns, each with the *base
//! table* columns that flow into it (subqueries and CTEs are resolved on the way), plus
//! the columns that influence every row (joins, filters, grouping, sorting). Names are
//! resolved in explicit scopes: the relations of the current FROM, then the enclosing
//! query's (correlated subqueries), with CTEs visible by name.
//!
//! ```text
//!  INSERT INTO t (a, b) SELECT x.p + 1, sum(y.q) FROM x JOIN y ON x.k = y.k GROUP BY x.p
//!        target cols  <-  output cols: [p (TRANSFORMATION), q (AGGREGATION)]
//!                         indirect:    [x.k, y.k (JOIN), x.p (GROUP_BY)]
//! ```

use std::cell::RefCell;
use std::collections::BTreeSet;

use rustc_hash::FxHashMap;
use std::ops::ControlFlow;
use std::rc::Rc;
use std::sync::Arc;

use sqlparser::ast::{
    self, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, Ident, InTarget,
    ObjectName, ObjectNamePart, Query, Select, SelectItem, SelectItemQualifiedWildcardKind,
    SetExpr, SetQuantifier, Statement, TableFactor, TableWithJoins, Visit, Visitor,
};

use crate::model::{
    ColumnEdge, ColumnRef, Diagnostic, DiagnosticKind, Lineage, Location, Options, StatementKind,
    StatementLineage, TableName, TransformationSubtype as Sub,
};
use crate::split;

mod expr;
mod query;
mod scope;
mod statement;

use expr::RelationCollector;
use scope::{Resolved, find_rel};

/// Deepest nesting of queries and expressions the analysis follows.
const MAX_DEPTH: usize = 200;

/// Analyzes a script: every statement, with state carried from one to the next.
pub fn analyze(sql: &str, opts: &Options) -> Lineage {
    let mut script = ScriptState::default();
    let mut statements = Vec::new();
    for parsed in split::statements(sql, opts.dialect) {
        let recovered = parsed.recovered;
        let mut lineage = match parsed.result {
            Err(_) if parsed.recognized.is_some() => {
                let r = parsed.recognized.expect("checked");
                let cx = Cx::new(opts, &script, parsed.location);
                let out = StatementLineage {
                    kind: r.kind,
                    location: parsed.location,
                    reads: r.reads.iter().map(|n| cx.table(n)).collect(),
                    writes: r.writes.iter().map(|n| cx.table(n)).collect(),
                    ..StatementLineage::default()
                };
                script.after(&out, Vec::new());
                out
            }
            Err(message) => StatementLineage {
                kind: StatementKind::Unparsed,
                location: parsed.location,
                diagnostics: vec![Diagnostic {
                    kind: DiagnosticKind::Parse,
                    location: parser_location(&message).unwrap_or(parsed.location),
                    message,
                }],
                ..StatementLineage::default()
            },
            Ok(stmt) => {
                let mut cx = Cx::new(opts, &script, parsed.location);
                let mut out = cx.statement(&stmt);
                out.location = parsed.location;
                out.reads = cx.reads.into_iter().collect();
                out.diagnostics.extend(cx.diags);
                if let Some(message) = parsed.partial {
                    out.diagnostics.push(Diagnostic {
                        kind: DiagnosticKind::Parse,
                        location: parser_location(&message).unwrap_or(parsed.location),
                        message,
                    });
                }
                let (created, renamed) = (cx.created, cx.renamed);
                script.after(&out, created);
                for (old, new) in renamed {
                    rename_in(&mut statements, &old, &new);
                }
                out
            }
        };
        lineage.recovered = recovered;
        statements.push(lineage);
    }
    let intermediate_tables = script.intermediate();
    Lineage {
        statements,
        intermediate_tables,
    }
}

/// Renames a table in the lineage of earlier statements: after `ALTER TABLE a RENAME TO
/// b` the data those statements moved lives in `b`.
fn rename_in(statements: &mut [StatementLineage], old: &TableName, new: &TableName) {
    let fix = |t: &mut TableName| {
        if t == old {
            *t = new.clone();
        }
    };
    for s in statements {
        s.reads.iter_mut().for_each(fix);
        s.writes.iter_mut().for_each(fix);
        for e in &mut s.columns {
            fix(&mut e.source.table);
            fix(&mut e.target.table);
        }
    }
}

/// `... at Line: 3, Column: 7` in sqlparser's messages.
fn parser_location(message: &str) -> Option<Location> {
    let at = message.rfind("Line: ")?;
    let rest = &message[at + 6..];
    let (line, rest) = rest.split_once(", Column: ")?;
    let column: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some(Location {
        line: line.trim().parse().ok()?,
        column: column.parse().ok()?,
    })
}

/// What earlier statements of the script left behind.
#[derive(Default)]
struct ScriptState {
    /// Columns of tables created (CREATE TABLE, CTAS, views) earlier in the script.
    tables: FxHashMap<TableName, Vec<String>>,
    /// Tables written so far, in order.
    written: Vec<TableName>,
    /// Tables read after being written.
    intermediate: BTreeSet<TableName>,
}

impl ScriptState {
    fn after(&mut self, s: &StatementLineage, created: Vec<(TableName, Option<Vec<String>>)>) {
        for r in &s.reads {
            if self.written.contains(r) {
                self.intermediate.insert(r.clone());
            }
        }
        for w in &s.writes {
            if !self.written.contains(w) {
                self.written.push(w.clone());
            }
        }
        for (t, cols) in created {
            match cols {
                Some(c) => {
                    self.tables.insert(t, c);
                }
                None => {
                    self.tables.remove(&t);
                }
            }
        }
    }

    fn intermediate(&self) -> Vec<TableName> {
        self.intermediate.iter().cloned().collect()
    }
}

/// A source column and how it reaches the output. The column is shared: a query's
/// sources are copied into every level that reads it (CTEs, subqueries, each output
/// column's edges), and a count costs less than its strings.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Src {
    col: Rc<ColumnRef>,
    sub: Sub,
}

/// One output column of a query.
#[derive(Clone, Debug)]
struct OutCol {
    name: String,
    direct: Vec<Src>,
    /// Columns that influence this output column only (CASE conditions, window keys).
    indirect: Vec<Src>,
    expr: Option<String>,
}

/// What a query produces.
#[derive(Clone, Debug, Default)]
struct QueryOut {
    cols: Vec<OutCol>,
    indirect: Vec<Src>,
}

/// A relation visible in a scope.
#[derive(Clone, Debug)]
enum Rel {
    /// A base table.
    Table(TableName),
    /// A subquery, CTE or other computed relation.
    Derived(QueryOut),
    /// UNNEST / explode of expressions: any column of it comes from them.
    Unnest(Vec<Src>),
}

/// The relations of one FROM clause, and the select items defined so far.
#[derive(Default)]
struct Scope<'p> {
    rels: Vec<(String, Option<TableName>, Rel)>,
    lateral: Vec<OutCol>,
    parent: Option<&'p Scope<'p>>,
}

/// Per-statement analysis state.
struct Cx<'a> {
    opts: &'a Options,
    script: &'a ScriptState,
    location: Location,
    reads: BTreeSet<TableName>,
    diags: Vec<Diagnostic>,
    ctes: Vec<FxHashMap<String, QueryOut>>,
    created: Vec<(TableName, Option<Vec<String>>)>,
    /// Statements nested in a query (`WITH ... INSERT`), merged into the outer one.
    nested: Vec<StatementLineage>,
    /// Tables renamed by this statement (old, new).
    renamed: Vec<(TableName, TableName)>,
    /// Columns of base tables, as looked up so far in this statement.
    columns_seen: RefCell<FxHashMap<TableName, Option<Arc<Vec<String>>>>>,
    /// Inside the body of a compound statement (procedure, block, `IF`): statements
    /// that move no data there (DECLARE, SET, RETURN) are not reported as unsupported.
    in_compound: usize,
    /// Parameters of the routine whose body is being read (`CREATE PROCEDURE p(IN since
    /// DATE) ... WHERE d >= since`): a bare name among them is the parameter, not a
    /// column (MySQL and T-SQL give the routine's variables precedence).
    routine_params: Vec<String>,
    depth: usize,
    lateral_alias: bool,
}

/// Lower-cases unquoted identifiers; quoted ones stay as written.
fn norm(i: &Ident) -> String {
    if i.quote_style.is_some() {
        i.value.clone()
    } else {
        i.value.to_lowercase()
    }
}

fn name_parts(n: &ObjectName) -> Vec<String> {
    n.0.iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => norm(i),
            ObjectNamePart::Function(f) => f.name.value.to_lowercase(),
        })
        .collect()
}

const AGGREGATES: &[&str] = &[
    "sum",
    "count",
    "avg",
    "min",
    "max",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "variance",
    "var_pop",
    "var_samp",
    "collect_list",
    "collect_set",
    "array_agg",
    "string_agg",
    "listagg",
    "group_concat",
    "median",
    "approx_count_distinct",
    "any_value",
    "first",
    "last",
    "first_value",
    "last_value",
    "bit_and",
    "bit_or",
    "bool_and",
    "bool_or",
    "percentile_cont",
    "percentile_disc",
    "mode",
    "corr",
    "covar_pop",
    "covar_samp",
];

/// How a sub-expression's role combines with the role of its source.
fn combine(outer: Sub, inner: Sub) -> Sub {
    match (outer, inner) {
        (Sub::Identity, s) => s,
        (Sub::Aggregation, _) | (_, Sub::Aggregation) => Sub::Aggregation,
        (o, _) => o,
    }
}

impl<'a> Cx<'a> {
    fn new(opts: &'a Options, script: &'a ScriptState, location: Location) -> Self {
        Cx {
            opts,
            script,
            location,
            reads: BTreeSet::new(),
            diags: Vec::new(),
            ctes: Vec::new(),
            created: Vec::new(),
            nested: Vec::new(),
            renamed: Vec::new(),
            columns_seen: RefCell::new(FxHashMap::default()),
            in_compound: 0,
            routine_params: Vec::new(),
            depth: 0,
            lateral_alias: opts
                .lateral_column_alias
                .unwrap_or_else(|| opts.dialect.has_lateral_column_alias()),
        }
    }

    fn diag(&mut self, kind: DiagnosticKind, message: String) {
        if !self.diags.iter().any(|d| d.message == message) {
            self.diags.push(Diagnostic {
                kind,
                location: self.location,
                message,
            });
        }
    }

    fn enter(&mut self) -> bool {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.diag(
                DiagnosticKind::TooDeep,
                format!("nesting deeper than {MAX_DEPTH} levels is not followed"),
            );
            return false;
        }
        true
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }
}

fn role_is_indirect(r: Sub) -> bool {
    r.kind() == crate::model::TransformationType::Indirect
}

fn star(t: &TableName) -> OutCol {
    OutCol {
        name: "*".into(),
        direct: vec![Src {
            col: Rc::new(ColumnRef {
                table: t.clone(),
                column: "*".into(),
            }),
            sub: Sub::Identity,
        }],
        indirect: Vec::new(),
        expr: None,
    }
}

/// A subquery used as a relation: what filtered or joined its rows influences every
/// column read from it.
fn fold_indirect(mut q: QueryOut) -> QueryOut {
    let ind = std::mem::take(&mut q.indirect);
    for c in &mut q.cols {
        c.indirect.extend(ind.iter().cloned());
    }
    q
}

/// The name an unaliased select item gets: the column's own name, else its text.
fn expr_name(e: &Expr) -> String {
    match e {
        Expr::Identifier(i) => norm(i),
        Expr::CompoundIdentifier(ids) => ids.last().map(norm).unwrap_or_default(),
        Expr::Nested(inner) => expr_name(inner),
        other => other.to_string(),
    }
}

fn dedup(v: &mut Vec<Src>) {
    v.sort();
    v.dedup();
}

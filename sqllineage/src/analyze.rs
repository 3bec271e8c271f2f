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
use std::collections::{BTreeSet, HashMap};
use std::ops::ControlFlow;
use std::rc::Rc;

use sqlparser::ast::{
    self, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, Ident, ObjectName,
    ObjectNamePart, Query, Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, Statement,
    TableFactor, TableWithJoins, Visit, Visitor,
};

use crate::model::{
    ColumnEdge, ColumnRef, Diagnostic, DiagnosticKind, Lineage, Location, Options,
    StatementLineage, TableName, TransformationSubtype as Sub,
};
use crate::split;

/// Deepest nesting of queries and expressions the analysis follows.
const MAX_DEPTH: usize = 200;

/// Analyzes a script: every statement, with state carried from one to the next.
pub fn analyze(sql: &str, opts: &Options) -> Lineage {
    let mut script = ScriptState::default();
    let mut statements = Vec::new();
    for parsed in split::statements(sql, opts.dialect) {
        let lineage = match parsed.result {
            Err(message) => StatementLineage {
                kind: "unparsed".into(),
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
                let (created, renamed) = (cx.created, cx.renamed);
                script.after(&out, created);
                for (old, new) in renamed {
                    rename_in(&mut statements, &old, &new);
                }
                out
            }
        };
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
    tables: HashMap<TableName, Vec<String>>,
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

/// A source column and how it reaches the output.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Src {
    col: ColumnRef,
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
    ctes: Vec<HashMap<String, QueryOut>>,
    created: Vec<(TableName, Option<Vec<String>>)>,
    /// Statements nested in a query (`WITH ... INSERT`), merged into the outer one.
    nested: Vec<StatementLineage>,
    /// Tables renamed by this statement (old, new).
    renamed: Vec<(TableName, TableName)>,
    /// Columns of base tables, as looked up so far in this statement.
    columns_seen: RefCell<HashMap<TableName, Option<Rc<Vec<String>>>>>,
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
            columns_seen: RefCell::new(HashMap::new()),
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

    /// A table name qualified with the defaults.
    fn table(&self, n: &ObjectName) -> TableName {
        let mut parts = if self.opts.dialect.case_sensitive_table_names() {
            n.0.iter()
                .map(|p| {
                    p.to_string()
                        .trim_matches(|c| c == '`' || c == '"')
                        .to_string()
                })
                .collect()
        } else {
            name_parts(n)
        };
        let name = parts.pop().unwrap_or_default();
        if name.contains('/') {
            // A path (`parquet.`s3://...``, `delta.`/data/x``): the path is the name.
            return TableName::bare(name);
        }
        match parts.len() {
            0 => TableName {
                database: self
                    .opts
                    .default_schema
                    .as_ref()
                    .and(self.opts.default_database.clone()),
                schema: self.opts.default_schema.clone(),
                name,
            },
            1 => TableName {
                database: self.opts.default_database.clone(),
                schema: parts.pop(),
                name,
            },
            _ => {
                let schema = parts.pop();
                TableName {
                    database: Some(parts.join(".")),
                    schema,
                    name,
                }
            }
        }
    }

    /// Known columns of a base table: created earlier in the script, or in the catalog.
    /// Looked up once per statement and table (big queries ask many times).
    fn known_columns(&self, t: &TableName) -> Option<Rc<Vec<String>>> {
        if let Some(hit) = self.columns_seen.borrow().get(t) {
            return hit.clone();
        }
        let found = match self.script.tables.get(t) {
            Some(c) => Some(c.clone()),
            None => self.opts.catalog.as_ref().and_then(|c| c.columns(t)),
        }
        .map(Rc::new);
        self.columns_seen
            .borrow_mut()
            .insert(t.clone(), found.clone());
        found
    }

    /// T-SQL's `t(NOLOCK)`: table hints that parse like table-function arguments.
    fn is_table_hint(&self, args: Option<&ast::TableFunctionArgs>) -> bool {
        const HINTS: &[&str] = &[
            "nolock",
            "readuncommitted",
            "readcommitted",
            "repeatableread",
            "serializable",
            "updlock",
            "holdlock",
            "rowlock",
            "paglock",
            "tablock",
            "tablockx",
            "xlock",
            "nowait",
            "readpast",
            "snapshot",
            "forceseek",
            "forcescan",
        ];
        self.opts.dialect == crate::dialect::Dialect::MsSql
            && args.is_some_and(|a| {
                !a.args.is_empty() && a.args.iter().all(|arg| {
                    matches!(arg, FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Identifier(i)))
                            if HINTS.contains(&i.value.to_lowercase().as_str()))
                })
            })
    }

    fn cte(&self, name: &str) -> Option<QueryOut> {
        self.ctes.iter().rev().find_map(|m| m.get(name).cloned())
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

    // ----- statements -----

    fn statement(&mut self, stmt: &Statement) -> StatementLineage {
        let mut out = self.statement_inner(stmt);
        for inner in std::mem::take(&mut self.nested) {
            if out.kind == "select" {
                out.kind = inner.kind;
            }
            out.writes.extend(inner.writes);
            out.columns.extend(inner.columns);
        }
        out.columns.sort();
        out.columns.dedup();
        out
    }

    fn statement_inner(&mut self, stmt: &Statement) -> StatementLineage {
        let mut out = StatementLineage::default();
        match stmt {
            Statement::Query(q) => {
                out.kind = "select".into();
                self.query(q, None);
            }
            Statement::Insert(ins) => {
                out.kind = "insert".into();
                let target = match &ins.table {
                    ast::TableObject::TableName(n) => self.table(n),
                    other => TableName::bare(other.to_string()),
                };
                out.writes.push(target.clone());
                if let Some(src) = &ins.source {
                    let q = self.query(src, None);
                    let names: Vec<String> = ins
                        .columns
                        .iter()
                        .map(|c| name_parts(c).pop().unwrap_or_default())
                        .collect();
                    let names = if names.is_empty() {
                        self.known_columns(&target)
                            .map(|c| c.to_vec())
                            .unwrap_or_default()
                    } else {
                        names
                    };
                    out.columns = self.edges(&target, &q, &names);
                }
            }
            Statement::CreateTable(ct) => {
                let target = self.table(&ct.name);
                if let Some(q) = &ct.query {
                    out.kind = "create_table_as".into();
                    let names = ct.columns.iter().map(|c| norm(&c.name)).collect();
                    self.create_from_query(target, q, names, &mut out);
                } else if let Some(src) = ct.clone.as_ref() {
                    out.kind = "create_table_clone".into();
                    let from = self.table(src);
                    self.reads.insert(from);
                    out.writes.push(target);
                } else if let Some(like) = &ct.like {
                    out.kind = "create_table_like".into();
                    let src = match like {
                        ast::CreateTableLikeKind::Parenthesized(l)
                        | ast::CreateTableLikeKind::Plain(l) => &l.name,
                    };
                    let from = self.table(src);
                    self.reads.insert(from);
                    out.writes.push(target);
                } else {
                    out.kind = "create_table".into();
                    out.writes.push(target.clone());
                    let cols: Vec<String> = ct.columns.iter().map(|c| norm(&c.name)).collect();
                    self.created
                        .push((target, (!cols.is_empty()).then_some(cols)));
                }
            }
            Statement::CreateView(v) => {
                out.kind = if v.materialized {
                    "create_materialized_view"
                } else {
                    "create_view"
                }
                .into();
                let target = self.table(&v.name);
                let names = v.columns.iter().map(|c| norm(&c.name)).collect();
                self.create_from_query(target, &v.query, names, &mut out);
            }
            Statement::Update(u) => {
                out.kind = "update".into();
                self.update(u, &mut out);
            }
            Statement::Delete(d) => {
                out.kind = "delete".into();
                let mut scope = Scope::default();
                let from = match &d.from {
                    ast::FromTable::WithFromKeyword(f) | ast::FromTable::WithoutKeyword(f) => f,
                };
                for twj in from.iter().chain(d.using.iter().flatten()) {
                    self.add_from(twj, &mut scope);
                }
                // The deleted table is modified, not read; only what the filter reads counts.
                if let Some((_, Some(t), _)) = scope.rels.first() {
                    let t = t.clone();
                    if d.using.is_none() {
                        self.reads.remove(&t);
                    }
                }
                if let Some(w) = &d.selection {
                    let mut ind = Vec::new();
                    self.expr(w, &scope, Sub::Filter, &mut ind.clone(), &mut ind);
                }
            }
            Statement::Merge(m) => {
                out.kind = "merge".into();
                self.merge(m, &mut out);
            }
            Statement::Drop {
                names, object_type, ..
            } => {
                out.kind = "drop".into();
                if matches!(object_type, ast::ObjectType::Table | ast::ObjectType::View) {
                    for n in names {
                        let t = self.table(n);
                        self.created.push((t, None));
                    }
                }
            }
            Statement::AlterTable(at) => {
                out.kind = "alter_table".into();
                let from = self.table(&at.name);
                for op in &at.operations {
                    match op {
                        ast::AlterTableOperation::RenameTable { table_name } => {
                            let to = match table_name {
                                ast::RenameTableNameKind::As(n)
                                | ast::RenameTableNameKind::To(n) => self.table(n),
                            };
                            // A rename moves no data: no lineage of its own; the table is
                            // known by its new name from here on, in earlier statements too.
                            self.renamed.push((from.clone(), to.clone()));
                            let cols = self.known_columns(&from).map(|c| c.to_vec());
                            self.created.push((from.clone(), None));
                            self.created.push((to, cols));
                        }
                        ast::AlterTableOperation::SwapWith { table_name } => {
                            // The table takes the other's data.
                            let other = self.table(table_name);
                            self.reads.insert(other);
                            out.writes.push(from.clone());
                        }
                        _ => {}
                    }
                }
            }
            Statement::RenameTable(renames) => {
                out.kind = "rename_table".into();
                for r in renames {
                    let (from, to) = (self.table(&r.old_name), self.table(&r.new_name));
                    self.renamed.push((from.clone(), to.clone()));
                    let cols = self.known_columns(&from).map(|c| c.to_vec());
                    self.created.push((from, None));
                    self.created.push((to, cols));
                }
            }
            Statement::Copy {
                source, to, target, ..
            } => {
                out.kind = "copy".into();
                let path = match target {
                    ast::CopyTarget::File { filename } => Some(filename.clone()),
                    _ => None,
                };
                let table = match source {
                    ast::CopySource::Table { table_name, .. } => Some(self.table(table_name)),
                    ast::CopySource::Query(q) => {
                        self.query(q, None);
                        None
                    }
                };
                match (table, path, *to) {
                    (Some(t), Some(p), false) => {
                        self.reads.insert(TableName::bare(p));
                        out.writes.push(t);
                    }
                    (Some(t), Some(p), true) => {
                        self.reads.insert(t);
                        out.writes.push(TableName::bare(p));
                    }
                    (Some(t), None, false) => out.writes.push(t),
                    (Some(t), None, true) => {
                        self.reads.insert(t);
                    }
                    (None, Some(p), true) => out.writes.push(TableName::bare(p)),
                    _ => {}
                }
            }
            Statement::Directory { path, source, .. } => {
                out.kind = "insert_directory".into();
                self.query(source, None);
                out.writes.push(TableName::bare(path.clone()));
            }
            Statement::CopyIntoSnowflake {
                kind,
                into,
                from_obj,
                stage_params,
                from_query,
                ..
            } => {
                out.kind = "copy".into();
                let source = from_obj
                    .as_ref()
                    .map(|o| self.table(o))
                    .or_else(|| stage_params.url.clone().map(TableName::bare));
                if let Some(q) = from_query {
                    self.query(q, None);
                }
                match kind {
                    ast::CopyIntoSnowflakeKind::Table => {
                        self.reads.extend(source);
                        out.writes.push(self.table(into));
                    }
                    ast::CopyIntoSnowflakeKind::Location => {
                        self.reads.extend(source);
                        out.writes.push(TableName::bare(into.to_string()));
                    }
                }
            }
            Statement::Unload {
                query,
                to,
                query_text,
                ..
            } => {
                out.kind = "unload".into();
                if let Some(q) = query {
                    self.query(q, None);
                } else if let Some(text) = query_text {
                    let inner = crate::analyze::analyze(text, self.opts);
                    for s in inner.statements {
                        self.reads.extend(s.reads);
                    }
                }
                out.writes.push(TableName::bare(to.value.clone()));
            }
            other => {
                let text = other.to_string();
                let word: String = text
                    .split_whitespace()
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" ");
                out.kind = "other".into();
                self.diag(
                    DiagnosticKind::Unsupported,
                    format!("no lineage extracted from this statement ({word} ...)"),
                );
            }
        }
        out
    }

    /// CREATE TABLE AS / CREATE VIEW: `target` gets the query's columns (named by
    /// `names` when given) and is known to later statements.
    fn create_from_query(
        &mut self,
        target: TableName,
        query: &Query,
        names: Vec<String>,
        out: &mut StatementLineage,
    ) {
        out.writes.push(target.clone());
        let q = self.query(query, None);
        out.columns = self.edges(&target, &q, &names);
        let cols = if names.is_empty() {
            q.cols.iter().map(|c| c.name.clone()).collect()
        } else {
            names
        };
        self.created.push((target, Some(cols)));
    }

    fn update(&mut self, u: &ast::Update, out: &mut StatementLineage) {
        let mut scope = Scope::default();
        self.add_from(&u.table, &mut scope);
        let target = scope.rels.first().and_then(|r| r.1.clone());
        if let Some(t) = &target {
            self.reads.remove(t);
            out.writes.push(t.clone());
        }
        if let Some(from) = &u.from {
            let items = match from {
                ast::UpdateTableFromKind::BeforeSet(f) | ast::UpdateTableFromKind::AfterSet(f) => f,
            };
            for twj in items {
                self.add_from(twj, &mut scope);
            }
        }
        let mut indirect = Vec::new();
        if let Some(w) = &u.selection {
            let mut sink = Vec::new();
            self.expr(w, &scope, Sub::Filter, &mut sink, &mut indirect);
            indirect.extend(sink);
        }
        let Some(target) = target else { return };
        for a in &u.assignments {
            let cols = match &a.target {
                ast::AssignmentTarget::ColumnName(n) => vec![n],
                ast::AssignmentTarget::Tuple(ns) => ns.iter().collect(),
            };
            for c in cols {
                let name = name_parts(c).pop().unwrap_or_default();
                let edges = self.assignment(&target, name, &a.value, &scope, &indirect);
                out.columns.extend(edges);
            }
        }
    }

    /// `SET name = value` on `target`: edges from the value's columns, plus `indirect`
    /// (what selected the rows) and whatever the value's own subqueries filter on.
    fn assignment(
        &mut self,
        target: &TableName,
        name: String,
        value: &Expr,
        scope: &Scope<'_>,
        indirect: &[Src],
    ) -> Vec<ColumnEdge> {
        let (mut direct, mut ind) = (Vec::new(), indirect.to_vec());
        self.expr(value, scope, Sub::Identity, &mut direct, &mut ind);
        let col = OutCol {
            name: name.clone(),
            direct,
            indirect: Vec::new(),
            expr: Some(value.to_string()),
        };
        let q = QueryOut {
            cols: vec![col],
            indirect: ind,
        };
        self.edges(target, &q, &[name])
    }

    fn merge(&mut self, m: &ast::Merge, out: &mut StatementLineage) {
        let mut scope = Scope::default();
        self.table_factor(&m.table, &mut scope);
        let target = scope.rels.first().and_then(|r| r.1.clone());
        if let Some(t) = &target {
            self.reads.remove(t);
            out.writes.push(t.clone());
        }
        self.table_factor(&m.source, &mut scope);
        let mut indirect = Vec::new();
        let mut sink = Vec::new();
        self.expr(&m.on, &scope, Sub::Join, &mut sink, &mut indirect);
        indirect.extend(sink);
        let Some(target) = target else { return };
        for clause in &m.clauses {
            let mut ind = indirect.clone();
            if let Some(p) = &clause.predicate {
                let mut s = Vec::new();
                self.expr(p, &scope, Sub::Filter, &mut s, &mut ind);
                ind.extend(s.into_iter().map(|x| Src {
                    sub: Sub::Filter,
                    ..x
                }));
            }
            match &clause.action {
                ast::MergeAction::Update(upd) => {
                    let assignments = match &upd.kind {
                        ast::MergeUpdateKind::Set(a) => a.as_slice(),
                        _ => &[],
                    };
                    for a in assignments {
                        let Some(name) = (match &a.target {
                            ast::AssignmentTarget::ColumnName(n) => name_parts(n).pop(),
                            ast::AssignmentTarget::Tuple(_) => None,
                        }) else {
                            continue;
                        };
                        let edges = self.assignment(&target, name, &a.value, &scope, &ind);
                        out.columns.extend(edges);
                    }
                }
                ast::MergeAction::Insert(ins) => {
                    let names: Vec<String> = ins
                        .columns
                        .iter()
                        .map(|c| name_parts(c).pop().unwrap_or_default())
                        .collect();
                    if let ast::MergeInsertKind::Values(values) = &ins.kind {
                        for row in &values.rows {
                            let mut cols = Vec::new();
                            for (i, e) in row.iter().enumerate() {
                                let mut direct = Vec::new();
                                self.expr(e, &scope, Sub::Identity, &mut direct, &mut ind);
                                let name = names.get(i).cloned().unwrap_or_default();
                                cols.push(OutCol {
                                    name,
                                    direct,
                                    expr: Some(e.to_string()),
                                    indirect: Vec::new(),
                                });
                            }
                            let q = QueryOut {
                                cols,
                                indirect: ind.clone(),
                            };
                            out.columns.extend(self.edges(&target, &q, &names));
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Column edges from a query's output into `target`'s columns: by position into
    /// `names` when given, else by the output's own names.
    fn edges(&mut self, target: &TableName, q: &QueryOut, names: &[String]) -> Vec<ColumnEdge> {
        let mut edges = BTreeSet::new();
        if !names.is_empty() && names.len() != q.cols.len() && !q.cols.iter().any(|c| c.name == "*")
        {
            self.diag(
                DiagnosticKind::Unresolved,
                format!(
                    "{target} takes {} columns but the query gives {}",
                    names.len(),
                    q.cols.len()
                ),
            );
        }
        for (i, col) in q.cols.iter().enumerate() {
            let tname = if col.name == "*" {
                "*".to_string()
            } else {
                match names.get(i) {
                    Some(n) => n.clone(),
                    None => col.name.clone(),
                }
            };
            let to = ColumnRef {
                table: target.clone(),
                column: tname,
            };
            for s in &col.direct {
                let source = s.col.clone();
                edges.insert(ColumnEdge {
                    source,
                    target: to.clone(),
                    kind: s.sub.kind(),
                    subtype: s.sub,
                    expression: col.expr.clone(),
                });
            }
            for s in col.indirect.iter().chain(&q.indirect) {
                edges.insert(ColumnEdge {
                    source: s.col.clone(),
                    target: to.clone(),
                    kind: s.sub.kind(),
                    subtype: s.sub,
                    expression: None,
                });
            }
        }
        edges.into_iter().collect()
    }

    // ----- queries -----

    fn query(&mut self, q: &Query, parent: Option<&Scope<'_>>) -> QueryOut {
        if !self.enter() {
            return QueryOut::default();
        }
        let mut pushed = false;
        if let Some(with) = &q.with {
            self.ctes.push(HashMap::new());
            pushed = true;
            for cte in &with.cte_tables {
                let name = norm(&cte.alias.name);
                if with.recursive {
                    // The recursive part may name the CTE itself: let it see an empty one.
                    self.ctes
                        .last_mut()
                        .expect("pushed above")
                        .insert(name.clone(), QueryOut::default());
                }
                let mut out = self.query(&cte.query, parent);
                if with.recursive {
                    // A second pass lets the recursive reference see the anchor's columns.
                    self.ctes
                        .last_mut()
                        .expect("pushed above")
                        .insert(name.clone(), out.clone());
                    out = self.query(&cte.query, parent);
                }
                for (c, a) in out.cols.iter_mut().zip(&cte.alias.columns) {
                    c.name = norm(&a.name);
                }
                self.ctes
                    .last_mut()
                    .expect("pushed above")
                    .insert(name, out);
            }
        }
        let mut out = self.set_expr(&q.body, parent);
        if let Some(ob) = &q.order_by
            && let ast::OrderByKind::Expressions(exprs) = &ob.kind
        {
            // ORDER BY may name output columns; resolve against the output first.
            let scope = Scope {
                rels: vec![(String::new(), None, Rel::Derived(out.clone()))],
                lateral: Vec::new(),
                parent,
            };
            for o in exprs {
                let mut sink = Vec::new();
                let mut ind = Vec::new();
                self.expr(&o.expr, &scope, Sub::Sort, &mut sink, &mut ind);
                out.indirect.extend(sink.into_iter().map(|s| Src {
                    sub: Sub::Sort,
                    ..s
                }));
                out.indirect.extend(ind);
            }
        }
        if pushed {
            self.ctes.pop();
        }
        self.leave();
        out
    }

    fn set_expr(&mut self, body: &SetExpr, parent: Option<&Scope<'_>>) -> QueryOut {
        match body {
            SetExpr::Select(s) => self.select(s, parent),
            SetExpr::Query(q) => self.query(q, parent),
            SetExpr::SetOperation { left, right, .. } => {
                if !self.enter() {
                    return QueryOut::default();
                }
                let mut l = self.set_expr(left, parent);
                let r = self.set_expr(right, parent);
                for (i, rc) in r.cols.into_iter().enumerate() {
                    match l.cols.get_mut(i) {
                        Some(lc) => {
                            lc.direct.extend(rc.direct);
                            lc.indirect.extend(rc.indirect);
                        }
                        None => l.cols.push(rc),
                    }
                }
                l.indirect.extend(r.indirect);
                self.leave();
                l
            }
            SetExpr::Values(v) => {
                let mut out = QueryOut::default();
                let scope = Scope {
                    parent,
                    ..Scope::default()
                };
                for row in &v.rows {
                    for (i, e) in row.iter().enumerate() {
                        let mut direct = Vec::new();
                        let mut ind = Vec::new();
                        self.expr(e, &scope, Sub::Identity, &mut direct, &mut ind);
                        if let Some(c) = out.cols.get_mut(i) {
                            c.direct.extend(direct);
                            c.indirect.extend(ind);
                            continue;
                        }
                        out.cols.push(OutCol {
                            name: format!("column{}", i + 1),
                            direct,
                            indirect: ind,
                            expr: None,
                        });
                    }
                }
                out
            }
            SetExpr::Table(t) => {
                let mut out = QueryOut::default();
                if let Some(name) = &t.table_name {
                    let n = ObjectName::from(vec![Ident::new(name.clone())]);
                    let table = self.table(&n);
                    self.reads.insert(table.clone());
                    out.cols.push(star(&table));
                }
                out
            }
            SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) | SetExpr::Merge(s) => {
                // `WITH ... INSERT ...`: the statement's writes and edges belong to the
                // enclosing statement.
                let inner = self.statement(s);
                self.nested.push(inner);
                QueryOut::default()
            }
        }
    }

    fn select(&mut self, s: &Select, parent: Option<&Scope<'_>>) -> QueryOut {
        let mut scope = Scope {
            parent,
            ..Scope::default()
        };
        let mut indirect = Vec::new();
        for twj in &s.from {
            let ind = self.add_from(twj, &mut scope);
            indirect.extend(ind);
        }
        for lv in &s.lateral_views {
            let mut direct = Vec::new();
            self.expr(
                &lv.lateral_view,
                &scope,
                Sub::Transformation,
                &mut direct,
                &mut indirect,
            );
            let alias = name_parts(&lv.lateral_view_name).pop().unwrap_or_default();
            let cols = lv
                .lateral_col_alias
                .iter()
                .map(|a| OutCol {
                    name: norm(a),
                    direct: direct.clone(),
                    expr: Some(lv.lateral_view.to_string()),
                    indirect: Vec::new(),
                })
                .collect();
            scope.rels.push((
                alias,
                None,
                Rel::Derived(QueryOut {
                    cols,
                    indirect: Vec::new(),
                }),
            ));
        }
        let clauses = [
            (&s.selection, Sub::Filter),
            (&s.having, Sub::Filter),
            (&s.qualify, Sub::Filter),
            (&s.prewhere, Sub::Filter),
        ];
        for (e, sub) in clauses {
            if let Some(e) = e {
                let mut sink = Vec::new();
                self.expr(e, &scope, sub, &mut sink, &mut indirect);
                indirect.extend(sink.into_iter().map(|x| Src { sub, ..x }));
            }
        }
        if let GroupByExpr::Expressions(exprs, _) = &s.group_by {
            for e in exprs {
                let mut sink = Vec::new();
                self.expr(e, &scope, Sub::GroupBy, &mut sink, &mut indirect);
                indirect.extend(sink.into_iter().map(|x| Src {
                    sub: Sub::GroupBy,
                    ..x
                }));
            }
        }
        let mut out = QueryOut {
            cols: Vec::new(),
            indirect: Vec::new(),
        };
        for item in &s.projection {
            match item {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                    let name = match item {
                        SelectItem::ExprWithAlias { alias, .. } => norm(alias),
                        _ => expr_name(e),
                    };
                    let (mut direct, mut col_ind) = (Vec::new(), Vec::new());
                    self.expr(e, &scope, Sub::Identity, &mut direct, &mut col_ind);
                    dedup(&mut direct);
                    dedup(&mut col_ind);
                    let col = OutCol {
                        name,
                        direct,
                        indirect: col_ind,
                        expr: Some(e.to_string()),
                    };
                    if self.lateral_alias {
                        scope.lateral.push(col.clone());
                    }
                    out.cols.push(col);
                }
                SelectItem::ExprWithAliases { expr, aliases } => {
                    let (mut direct, mut col_ind) = (Vec::new(), Vec::new());
                    self.expr(expr, &scope, Sub::Identity, &mut direct, &mut col_ind);
                    for a in aliases {
                        out.cols.push(OutCol {
                            name: norm(a),
                            direct: direct.clone(),
                            indirect: col_ind.clone(),
                            expr: Some(expr.to_string()),
                        });
                    }
                }
                SelectItem::Wildcard(_) => {
                    let rels: Vec<Rel> = scope.rels.iter().map(|r| r.2.clone()).collect();
                    for r in rels {
                        out.cols.extend(self.expand(&r));
                    }
                }
                SelectItem::QualifiedWildcard(kind, _) => {
                    if let SelectItemQualifiedWildcardKind::ObjectName(n) = kind {
                        let parts = name_parts(n);
                        match find_rel(&scope, &parts) {
                            Some(r) => {
                                let r = r.clone();
                                out.cols.extend(self.expand(&r));
                            }
                            None => self.diag(
                                DiagnosticKind::Unresolved,
                                format!(
                                    "no relation {} for {}.*",
                                    parts.join("."),
                                    parts.join(".")
                                ),
                            ),
                        }
                    }
                }
            }
        }
        out.indirect = indirect;
        dedup(&mut out.indirect);
        if let Some(into) = &s.into {
            // SELECT ... INTO t: t is written with the selected columns.
            for target in &into.targets {
                let parts = match target {
                    Expr::Identifier(i) => vec![i.clone()],
                    Expr::CompoundIdentifier(ids) => ids.clone(),
                    _ => continue,
                };
                let t = self.table(&ObjectName::from(parts));
                let columns = self.edges(&t, &out, &[]);
                let cols = out.cols.iter().map(|c| c.name.clone()).collect();
                self.created.push((t.clone(), Some(cols)));
                self.nested.push(StatementLineage {
                    kind: "select_into".into(),
                    writes: vec![t],
                    columns,
                    ..StatementLineage::default()
                });
            }
        }
        out
    }

    /// The columns of `*` over one relation.
    fn expand(&mut self, r: &Rel) -> Vec<OutCol> {
        match r {
            Rel::Unnest(srcs) => vec![OutCol {
                name: "*".into(),
                direct: srcs.clone(),
                indirect: Vec::new(),
                expr: None,
            }],
            Rel::Derived(q) => q.cols.clone(),
            Rel::Table(t) => match self.known_columns(t) {
                Some(cols) => cols
                    .iter()
                    .cloned()
                    .map(|c| OutCol {
                        direct: vec![Src {
                            col: ColumnRef {
                                table: t.clone(),
                                column: c.clone(),
                            },
                            sub: Sub::Identity,
                        }],
                        name: c,
                        indirect: Vec::new(),
                        expr: None,
                    })
                    .collect(),
                None => vec![star(t)],
            },
        }
    }

    /// Adds the relations of one FROM item to the scope; returns the columns its join
    /// conditions use.
    fn add_from(&mut self, twj: &TableWithJoins, scope: &mut Scope<'_>) -> Vec<Src> {
        let mut indirect = Vec::new();
        self.table_factor(&twj.relation, scope);
        for j in &twj.joins {
            self.table_factor(&j.relation, scope);
            use ast::JoinOperator as J;
            let constraint = match &j.join_operator {
                J::Join(c)
                | J::Inner(c)
                | J::Left(c)
                | J::LeftOuter(c)
                | J::Right(c)
                | J::RightOuter(c)
                | J::FullOuter(c)
                | J::CrossJoin(c)
                | J::Semi(c)
                | J::LeftSemi(c)
                | J::RightSemi(c)
                | J::Anti(c)
                | J::LeftAnti(c)
                | J::RightAnti(c)
                | J::StraightJoin(c) => Some(c),
                _ => None,
            };
            if let Some(ast::JoinConstraint::On(e)) = constraint {
                let mut sink = Vec::new();
                self.expr(e, scope, Sub::Join, &mut sink, &mut indirect);
                indirect.extend(sink.into_iter().map(|x| Src {
                    sub: Sub::Join,
                    ..x
                }));
            }
        }
        indirect
    }

    fn table_factor(&mut self, tf: &TableFactor, scope: &mut Scope<'_>) {
        match tf {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                let parts = name_parts(name);
                let alias_name = alias.as_ref().map(|a| norm(&a.name));
                if args.is_some() && !self.is_table_hint(args.as_ref()) {
                    // A table-valued function: nothing read by name.
                    scope.rels.push((
                        alias_name.unwrap_or_else(|| parts.join(".")),
                        None,
                        Rel::Derived(QueryOut::default()),
                    ));
                    return;
                }
                if parts.len() == 1
                    && let Some(q) = self.cte(&parts[0])
                {
                    {
                        let mut q = q;
                        if let Some(a) = alias {
                            for (c, n) in q.cols.iter_mut().zip(&a.columns) {
                                c.name = norm(&n.name);
                            }
                        }
                        scope.rels.push((
                            alias_name.unwrap_or_else(|| parts[0].clone()),
                            None,
                            Rel::Derived(fold_indirect(q)),
                        ));
                        return;
                    }
                }
                let t = self.table(name);
                self.reads.insert(t.clone());
                let key = alias_name.unwrap_or_else(|| t.name.clone());
                scope.rels.push((key, Some(t.clone()), Rel::Table(t)));
            }
            TableFactor::Derived {
                subquery,
                alias,
                lateral,
                ..
            } => {
                let mut q = if *lateral {
                    let view = Scope {
                        rels: scope.rels.clone(),
                        lateral: Vec::new(),
                        parent: scope.parent,
                    };
                    self.query(subquery, Some(&view))
                } else {
                    self.query(subquery, scope.parent)
                };
                if let Some(a) = alias {
                    for (c, n) in q.cols.iter_mut().zip(&a.columns) {
                        c.name = norm(&n.name);
                    }
                }
                let key = alias.as_ref().map(|a| norm(&a.name)).unwrap_or_default();
                scope.rels.push((key, None, Rel::Derived(fold_indirect(q))));
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                let ind = self.add_from(table_with_joins, scope);
                let _ = (ind, alias);
            }
            TableFactor::UNNEST {
                array_exprs, alias, ..
            } => {
                let (mut direct, mut ind) = (Vec::new(), Vec::new());
                for e in array_exprs {
                    self.expr(e, scope, Sub::Transformation, &mut direct, &mut ind);
                }
                let key = alias.as_ref().map(|a| norm(&a.name)).unwrap_or_default();
                scope.rels.push((key, None, Rel::Unnest(direct)));
            }
            other => {
                // Table functions, PIVOT, ...: columns come from expressions we
                // do not model; record what they read by name.
                let mut v = RelationCollector::default();
                let _ = other.visit(&mut v);
                for n in v.names {
                    let t = self.table(&n);
                    self.reads.insert(t);
                }
                let alias = match other {
                    TableFactor::Function { alias, .. }
                    | TableFactor::TableFunction { alias, .. }
                    | TableFactor::Pivot { alias, .. }
                    | TableFactor::Unpivot { alias, .. } => alias.as_ref().map(|a| norm(&a.name)),
                    _ => None,
                };
                scope.rels.push((
                    alias.unwrap_or_default(),
                    None,
                    Rel::Derived(QueryOut::default()),
                ));
            }
        }
    }

    // ----- expressions -----

    /// Collects the source columns of `e`: value-carrying ones into `direct` with role
    /// `role` (combined with what is found inside), the rest into `indirect`.
    fn expr(
        &mut self,
        e: &Expr,
        scope: &Scope<'_>,
        role: Sub,
        direct: &mut Vec<Src>,
        indirect: &mut Vec<Src>,
    ) {
        if !self.enter() {
            return;
        }
        match e {
            Expr::Identifier(i) => self.column(&[norm(i)], scope, role, direct, indirect),
            Expr::CompoundIdentifier(ids) => {
                let parts: Vec<String> = ids.iter().map(norm).collect();
                self.column(&parts, scope, role, direct, indirect)
            }
            Expr::Nested(inner) => self.expr(inner, scope, role, direct, indirect),
            Expr::Cast { expr, .. } => self.expr(
                expr,
                scope,
                combine(role, Sub::Transformation),
                direct,
                indirect,
            ),
            Expr::Function(f) => {
                let fname = name_parts(&f.name).pop().unwrap_or_default();
                let is_agg = AGGREGATES.contains(&fname.as_str())
                    || f.over.is_some() && !role_is_indirect(role);
                let inner = if is_agg && AGGREGATES.contains(&fname.as_str()) {
                    combine(role, Sub::Aggregation)
                } else {
                    combine(role, Sub::Transformation)
                };
                match &f.args {
                    FunctionArguments::List(list) => {
                        for a in &list.args {
                            let ae = match a {
                                FunctionArg::Named { arg, .. }
                                | FunctionArg::ExprNamed { arg, .. }
                                | FunctionArg::Unnamed(arg) => arg,
                            };
                            match ae {
                                FunctionArgExpr::Expr(x) => {
                                    self.expr(x, scope, inner, direct, indirect)
                                }
                                // count(*): every row of every relation in scope counts.
                                FunctionArgExpr::Wildcard
                                | FunctionArgExpr::WildcardWithOptions(_) => {
                                    for (_, t, _) in &scope.rels {
                                        if let Some(t) = t {
                                            direct.push(Src {
                                                col: ColumnRef {
                                                    table: t.clone(),
                                                    column: "*".into(),
                                                },
                                                sub: inner,
                                            });
                                        }
                                    }
                                }
                                FunctionArgExpr::QualifiedWildcard(n) => {
                                    if let Some(Rel::Table(t)) = find_rel(scope, &name_parts(n)) {
                                        direct.push(Src {
                                            col: ColumnRef {
                                                table: t.clone(),
                                                column: "*".into(),
                                            },
                                            sub: inner,
                                        });
                                    }
                                }
                            }
                        }
                    }
                    FunctionArguments::Subquery(q) => {
                        let out = self.query(q, Some(scope));
                        for c in out.cols {
                            direct.extend(c.direct.into_iter().map(|s| Src {
                                sub: combine(inner, s.sub),
                                ..s
                            }));
                        }
                        indirect.extend(out.indirect);
                    }
                    FunctionArguments::None => {}
                }
                if let Some(filter) = &f.filter {
                    let mut sink = Vec::new();
                    self.expr(filter, scope, Sub::Filter, &mut sink, indirect);
                    indirect.extend(sink.into_iter().map(|x| Src {
                        sub: Sub::Filter,
                        ..x
                    }));
                }
                if let Some(ast::WindowType::WindowSpec(w)) = &f.over {
                    let exprs = w
                        .partition_by
                        .iter()
                        .chain(w.order_by.iter().map(|o| &o.expr));
                    for x in exprs {
                        let mut sink = Vec::new();
                        self.expr(x, scope, Sub::Window, &mut sink, indirect);
                        indirect.extend(sink.into_iter().map(|s| Src {
                            sub: Sub::Window,
                            ..s
                        }));
                    }
                }
            }
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                let mut cond = Vec::new();
                if let Some(op) = operand {
                    self.expr(op, scope, Sub::Conditional, &mut cond, indirect);
                }
                let inner = combine(role, Sub::Transformation);
                for w in conditions {
                    self.expr(&w.condition, scope, Sub::Conditional, &mut cond, indirect);
                    self.expr(&w.result, scope, inner, direct, indirect);
                }
                if let Some(er) = else_result {
                    self.expr(er, scope, inner, direct, indirect);
                }
                indirect.extend(cond.into_iter().map(|s| Src {
                    sub: Sub::Conditional,
                    ..s
                }));
            }
            Expr::Subquery(q) => {
                let out = self.query(q, Some(scope));
                let inner = combine(role, Sub::Transformation);
                for c in out.cols {
                    direct.extend(c.direct.into_iter().map(|s| Src {
                        sub: combine(inner, s.sub),
                        ..s
                    }));
                }
                indirect.extend(out.indirect);
            }
            Expr::Exists { subquery, .. } => {
                let out = self.query(subquery, Some(scope));
                indirect.extend(out.indirect);
            }
            Expr::InSubquery { expr, subquery, .. } => {
                self.expr(
                    expr,
                    scope,
                    combine(role, Sub::Transformation),
                    direct,
                    indirect,
                );
                let out = self.query(subquery, Some(scope));
                for c in out.cols {
                    indirect.extend(c.direct.into_iter().map(|s| Src {
                        sub: Sub::Filter,
                        ..s
                    }));
                }
                indirect.extend(out.indirect);
            }
            Expr::BinaryOp { left, right, .. } => {
                let inner = combine(role, Sub::Transformation);
                self.expr(left, scope, inner, direct, indirect);
                self.expr(right, scope, inner, direct, indirect);
            }
            Expr::UnaryOp { expr, .. } => self.expr(
                expr,
                scope,
                combine(role, Sub::Transformation),
                direct,
                indirect,
            ),
            Expr::Value(_) | Expr::TypedString { .. } => {}
            other => {
                // Everything else: every column it names carries value, transformed; any
                // subquery inside is analyzed for what it reads.
                let mut v = ExprCollector::default();
                let _ = other.visit(&mut v);
                let inner = combine(role, Sub::Transformation);
                for parts in v.columns {
                    self.column(&parts, scope, inner, direct, indirect);
                }
                for q in v.queries {
                    let out = self.query(&q, Some(scope));
                    for c in out.cols {
                        direct.extend(c.direct.into_iter().map(|s| Src {
                            sub: combine(inner, s.sub),
                            ..s
                        }));
                    }
                    indirect.extend(out.indirect);
                }
            }
        }
        self.leave();
    }

    /// Resolves a column reference (`col`, `t.col`, `s.t.col`, `t.col.field`).
    fn column(
        &mut self,
        parts: &[String],
        scope: &Scope<'_>,
        role: Sub,
        out: &mut Vec<Src>,
        indirect: &mut Vec<Src>,
    ) {
        match self.resolve(parts, scope) {
            Resolved::Sources(srcs, ind) => {
                out.extend(srcs.into_iter().map(|s| Src {
                    sub: combine(role, s.sub),
                    ..s
                }));
                // A column used to filter or join passes that role on to whatever
                // influenced it upstream.
                let indirect_role = role.kind() == crate::model::TransformationType::Indirect;
                indirect.extend(ind.into_iter().map(|s| {
                    if indirect_role {
                        Src { sub: role, ..s }
                    } else {
                        s
                    }
                }));
            }
            Resolved::Ambiguous(tables) => self.diag(
                DiagnosticKind::AmbiguousColumn,
                format!(
                    "column {} could come from {}; give a catalog or qualify it",
                    parts.join("."),
                    tables.join(" or ")
                ),
            ),
            Resolved::Unknown => {}
        }
    }

    fn resolve(&self, parts: &[String], scope: &Scope<'_>) -> Resolved {
        // A qualifier names a relation of this query or of an enclosing one (correlated
        // subquery) before `a.b` may be read as field `b` of column `a`.
        if parts.len() >= 2 {
            let mut s = Some(scope);
            while let Some(sc) = s {
                for split in (1..parts.len()).rev() {
                    if let Some(rel) = find_rel(sc, &parts[..split]) {
                        return self.column_of(rel, &parts[split]);
                    }
                }
                s = sc.parent;
            }
        }
        let mut s = Some(scope);
        while let Some(sc) = s {
            let r = self.resolve_in(parts, sc);
            if !matches!(r, Resolved::Unknown) {
                return r;
            }
            s = sc.parent;
        }
        Resolved::Unknown
    }

    fn resolve_in(&self, parts: &[String], scope: &Scope<'_>) -> Resolved {
        let col = &parts[0];
        // Which relations have this column?
        let mut known: Vec<&Rel> = Vec::new();
        let mut maybe: Vec<&Rel> = Vec::new();
        for (_, _, rel) in &scope.rels {
            match rel {
                Rel::Derived(q) => {
                    if q.cols.iter().any(|c| &c.name == col) {
                        known.push(rel);
                    } else if q.cols.iter().any(|c| c.name == "*") {
                        maybe.push(rel);
                    }
                }
                Rel::Table(t) => match self.known_columns(t) {
                    Some(cols) if cols.contains(col) => known.push(rel),
                    Some(_) => {}
                    None => maybe.push(rel),
                },
                Rel::Unnest(_) => maybe.push(rel),
            }
        }
        if known.len() == 1 {
            return self.column_of(known[0], col);
        }
        if known.is_empty()
            && let Some(l) = scope.lateral.iter().rev().find(|c| &c.name == col)
        {
            return Resolved::Sources(l.direct.clone(), l.indirect.clone());
        }
        match (known.len(), maybe.len()) {
            (0, 1) => self.column_of(maybe[0], col),
            (k, _) if k >= 2 => {
                // Several relations have it (a catalog or subqueries say so): report all.
                let (mut d, mut i) = (Vec::new(), Vec::new());
                for r in known {
                    if let Resolved::Sources(dd, ii) = self.column_of(r, col) {
                        d.extend(dd);
                        i.extend(ii);
                    }
                }
                Resolved::Sources(d, i)
            }
            (0, 0) => Resolved::Unknown,
            _ => Resolved::Ambiguous(known.iter().chain(&maybe).map(|r| rel_label(r)).collect()),
        }
    }

    /// Sources of column `col` of a relation.
    fn column_of(&self, rel: &Rel, col: &str) -> Resolved {
        match rel {
            Rel::Unnest(srcs) => Resolved::Sources(srcs.clone(), Vec::new()),
            Rel::Table(t) => Resolved::Sources(
                vec![Src {
                    col: ColumnRef {
                        table: t.clone(),
                        column: col.to_string(),
                    },
                    sub: Sub::Identity,
                }],
                Vec::new(),
            ),
            Rel::Derived(q) => {
                if let Some(c) = q.cols.iter().find(|c| c.name == col) {
                    return Resolved::Sources(c.direct.clone(), c.indirect.clone());
                }
                // Through a `*` of an unknown table: the column of that table.
                let direct = q
                    .cols
                    .iter()
                    .filter(|c| c.name == "*")
                    .flat_map(|c| c.direct.iter())
                    .map(|s| Src {
                        col: ColumnRef {
                            table: s.col.table.clone(),
                            column: col.to_string(),
                        },
                        sub: s.sub,
                    })
                    .collect();
                Resolved::Sources(direct, Vec::new())
            }
        }
    }
}

fn role_is_indirect(r: Sub) -> bool {
    r.kind() == crate::model::TransformationType::Indirect
}

enum Resolved {
    /// Direct sources, and columns that influence the value indirectly.
    Sources(Vec<Src>, Vec<Src>),
    Ambiguous(Vec<String>),
    Unknown,
}

fn rel_label(r: &Rel) -> String {
    match r {
        Rel::Unnest(_) => "an UNNEST".into(),
        Rel::Table(t) => t.to_string(),
        Rel::Derived(_) => "a subquery".into(),
    }
}

/// The relation a qualifier names: an alias, a table name, or a qualified table name.
fn find_rel<'s>(scope: &'s Scope<'_>, qualifier: &[String]) -> Option<&'s Rel> {
    let q = qualifier.join(".");
    scope
        .rels
        .iter()
        .find(|(key, _, _)| key.eq_ignore_ascii_case(&q))
        .or_else(|| {
            // Table names may keep their case (BigQuery, MySQL); qualifiers match them
            // without regard to case.
            let last = qualifier.last().map_or("", String::as_str);
            scope.rels.iter().find(|(_, t, _)| {
                t.as_ref().is_some_and(|t| {
                    t.name.eq_ignore_ascii_case(last)
                        && (qualifier.len() == 1
                            || t.to_string().to_lowercase().ends_with(&q.to_lowercase()))
                })
            })
        })
        .map(|r| &r.2)
}

fn star(t: &TableName) -> OutCol {
    OutCol {
        name: "*".into(),
        direct: vec![Src {
            col: ColumnRef {
                table: t.clone(),
                column: "*".into(),
            },
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

/// Column names and nested queries in an expression, for the generic fallback.
#[derive(Default)]
struct ExprCollector {
    columns: Vec<Vec<String>>,
    queries: Vec<Query>,
    depth: usize,
}

impl Visitor for ExprCollector {
    type Break = ();

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        if self.depth == 0 {
            self.queries.push(q.clone());
        }
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _q: &Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        if self.depth == 0 {
            match e {
                Expr::Identifier(i) => self.columns.push(vec![norm(i)]),
                Expr::CompoundIdentifier(ids) => self.columns.push(ids.iter().map(norm).collect()),
                _ => {}
            }
        }
        ControlFlow::Continue(())
    }
}

/// Table names anywhere inside a node.
#[derive(Default)]
struct RelationCollector {
    names: Vec<ObjectName>,
}

impl Visitor for RelationCollector {
    type Break = ();

    fn pre_visit_relation(&mut self, r: &ObjectName) -> ControlFlow<()> {
        self.names.push(r.clone());
        ControlFlow::Continue(())
    }
}

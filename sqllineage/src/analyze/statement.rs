//! Statements: what each kind reads and writes, and how a query's output columns map
//! onto the written table's columns.

use super::*;

impl<'a> Cx<'a> {
    pub(super) fn statement(&mut self, stmt: &Statement) -> StatementLineage {
        let mut out = self.statement_inner(stmt);
        for inner in std::mem::take(&mut self.nested) {
            if out.kind == StatementKind::Select {
                // `SELECT ... INTO t`: the output goes to t, the statement writes.
                out.kind = inner.kind;
                out.query_output.clear();
            }
            out.writes.extend(inner.writes);
            out.columns.extend(inner.columns);
        }
        // Usually one list of edges, already in order and distinct: then checking is
        // all (a comparison per pair, not a sort and a dedup).
        if !out.columns.is_sorted_by(|a, b| a < b) {
            out.columns.sort();
            out.columns.dedup();
        }
        out
    }

    /// One statement's own lineage: dispatches on the statement kind.
    pub(super) fn statement_inner(&mut self, stmt: &Statement) -> StatementLineage {
        let mut out = StatementLineage::default();
        out.kind = match stmt {
            Statement::Query(q) => {
                if let Some((from, to)) = swap_partitions(q) {
                    // Vertica's SWAP_PARTITIONS_BETWEEN_TABLES('staging', min, max,
                    // 'target') moves partitions between the two tables it names.
                    let name = |s: &str| {
                        ObjectName(
                            s.split('.')
                                .map(|p| ObjectNamePart::Identifier(Ident::new(p)))
                                .collect(),
                        )
                    };
                    let (from, to) = (self.table(&name(&from)), self.table(&name(&to)));
                    self.reads.insert(from);
                    out.writes.push(to);
                    return out_with(out, StatementKind::AlterTable);
                }
                let q = self.query(q, None);
                out.query_output = self.edges(&TableName::query_output(), &q, &[]);
                StatementKind::Select
            }
            Statement::Insert(ins) => {
                self.insert(ins, &mut out);
                StatementKind::Insert
            }
            Statement::CreateTable(ct) => {
                self.create_table(ct, &mut out);
                out.kind
            }
            Statement::CreateView(v) => {
                let target = self.table(&v.name);
                let names = v.columns.iter().map(|c| norm(&c.name)).collect();
                self.create_from_query(target, &v.query, names, &mut out);
                if v.materialized {
                    StatementKind::CreateMaterializedView
                } else {
                    StatementKind::CreateView
                }
            }
            Statement::Update(u) => {
                self.update(u, &mut out);
                StatementKind::Update
            }
            Statement::Delete(d) => {
                self.delete(d);
                StatementKind::Delete
            }
            Statement::Merge(m) => {
                self.merge(m, &mut out);
                StatementKind::Merge
            }
            Statement::Drop {
                names, object_type, ..
            } => {
                if matches!(
                    object_type,
                    ast::ObjectType::Table
                        | ast::ObjectType::View
                        | ast::ObjectType::MaterializedView
                ) {
                    for n in names {
                        let t = self.table(n);
                        out.modifies.push(t.clone());
                        self.created.push((t, None));
                    }
                }
                StatementKind::Drop
            }
            Statement::Truncate(tr) => {
                for t in &tr.table_names {
                    let t = self.table(&t.name);
                    out.modifies.push(t);
                }
                StatementKind::Truncate
            }
            Statement::AlterTable(at) => {
                self.alter_table(at, &mut out);
                StatementKind::AlterTable
            }
            Statement::AlterView(av) => {
                self.alter_view(av, &mut out);
                StatementKind::AlterView
            }
            Statement::RenameTable(renames) => {
                self.rename_tables(renames);
                StatementKind::RenameTable
            }
            Statement::Copy {
                source, to, target, ..
            } => {
                self.copy(source, *to, target, &mut out);
                StatementKind::Copy
            }
            Statement::Directory { path, source, .. } => {
                self.query(source, None);
                out.writes.push(TableName::bare(path.clone()));
                StatementKind::InsertDirectory
            }
            Statement::CopyIntoSnowflake {
                kind,
                into,
                from_obj,
                stage_params,
                from_query,
                ..
            } => {
                self.copy_into_snowflake(
                    kind,
                    into,
                    from_obj.as_ref(),
                    stage_params.url.as_deref(),
                    from_query.as_deref(),
                    &mut out,
                );
                StatementKind::Copy
            }
            Statement::Unload {
                query,
                to,
                query_text,
                ..
            } => {
                self.unload(query.as_deref(), to, query_text.as_deref(), &mut out);
                StatementKind::Unload
            }
            other => {
                let body = child_statements(other);
                if body.is_empty() {
                    self.unsupported(other);
                    StatementKind::Other
                } else {
                    let params = routine_params(other);
                    let outer = self.routine_params.len();
                    self.routine_params.extend(params);
                    self.compound(&body, &mut out);
                    self.routine_params.truncate(outer);
                    StatementKind::Compound
                }
            }
        };
        out
    }

    /// A statement holding others: each one's lineage, merged (control flow such as
    /// `IF`/`WHILE` inside is followed down to the statements that move data).
    fn compound(&mut self, body: &[Statement], out: &mut StatementLineage) {
        self.in_compound += 1;
        for stmt in body {
            // A later DELETE or UPDATE of a table does not undo an earlier read of it.
            let read_before = std::mem::take(&mut self.reads);
            let inner = self.statement(stmt);
            self.reads.extend(read_before);
            out.writes.extend(inner.writes);
            out.modifies.extend(inner.modifies);
            out.reads_written.extend(inner.reads_written);
            out.columns.extend(inner.columns);
            out.diagnostics.extend(inner.diagnostics);
        }
        self.in_compound -= 1;
        out.writes.sort();
        out.writes.dedup();
        out.modifies.sort();
        out.modifies.dedup();
        out.reads_written.sort();
        out.reads_written.dedup();
    }

    /// INSERT: the target's columns from the column list, else the catalog.
    fn insert(&mut self, ins: &ast::Insert, out: &mut StatementLineage) {
        let target = match &ins.table {
            ast::TableObject::TableName(n) => self.table(n),
            other => TableName::bare(other.to_string()),
        };
        out.writes.push(target.clone());
        self.output_into(ins.output.as_ref(), &target, &mut Scope::default());
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

    /// CREATE TABLE: AS a query, CLONE, LIKE, or with columns.
    fn create_table(&mut self, ct: &ast::CreateTable, out: &mut StatementLineage) {
        let target = self.table(&ct.name);
        if let Some(q) = &ct.query {
            out.kind = StatementKind::CreateTableAs;
            let names = ct.columns.iter().map(|c| norm(&c.name)).collect();
            self.create_from_query(target, q, names, out);
        } else if let Some(src) = ct.clone.as_ref() {
            out.kind = StatementKind::CreateTableClone;
            let from = self.table(src);
            self.reads.insert(from);
            out.writes.push(target);
        } else if let Some(like) = &ct.like {
            out.kind = StatementKind::CreateTableLike;
            let src = match like {
                ast::CreateTableLikeKind::Parenthesized(l) | ast::CreateTableLikeKind::Plain(l) => {
                    &l.name
                }
            };
            let from = self.table(src);
            self.reads.insert(from);
            out.writes.push(target);
        } else {
            out.kind = StatementKind::CreateTable;
            out.writes.push(target.clone());
            let cols: Vec<String> = ct.columns.iter().map(|c| norm(&c.name)).collect();
            self.created
                .push((target, (!cols.is_empty()).then_some(cols)));
        }
    }

    /// DELETE: the deleted table is modified, not read; what the filter reads counts.
    fn delete(&mut self, d: &ast::Delete) {
        let mut scope = Scope::default();
        let from = match &d.from {
            ast::FromTable::WithFromKeyword(f) | ast::FromTable::WithoutKeyword(f) => f,
        };
        for twj in from.iter().chain(d.using.iter().flatten()) {
            self.add_from(twj, &mut scope);
        }
        // The deleted table is modified, not read; only what the filter reads counts.
        // MySQL's multi-table form names its targets (`DELETE t1, t2 FROM t1 JOIN t2 ...`),
        // as aliases or tables of the FROM.
        if d.tables.is_empty() {
            if let Some((_, Some(t), _)) = scope.rels.first() {
                let t = t.clone();
                if d.using.is_none() {
                    self.reads.remove(&t);
                }
            }
        } else {
            for name in &d.tables {
                let parts = name_parts(name);
                let key = parts.last().cloned().unwrap_or_default();
                let target = scope
                    .rels
                    .iter()
                    .find_map(|(k, t, _)| (*k == key).then(|| t.clone()).flatten())
                    .unwrap_or_else(|| self.table(name));
                self.reads.remove(&target);
            }
        }
        if let Some(w) = &d.selection {
            let mut ind = Vec::new();
            self.expr(w, &scope, Sub::Filter, &mut ind.clone(), &mut ind);
        }
        let target = match d.tables.first() {
            Some(name) => Some(self.table(name)),
            None => scope.rels.first().and_then(|r| r.1.clone()),
        };
        if let Some(t) = target {
            self.output_into(d.output.as_ref(), &t, &mut scope);
        }
    }

    /// T-SQL's `OUTPUT ... INTO t` on INSERT, UPDATE, DELETE or MERGE: the rows the
    /// statement changed (`INSERTED.c` / `DELETED.c` name the target's columns) and the
    /// columns of the statement's other tables go to t, another statement's worth of
    /// lineage merged into this one.
    fn output_into(
        &mut self,
        output: Option<&ast::OutputClause>,
        target: &TableName,
        scope: &mut Scope<'_>,
    ) {
        let Some(ast::OutputClause::Output {
            select_items,
            into_table: Some(into),
            ..
        }) = output
        else {
            return;
        };
        for pseudo in ["inserted", "deleted"] {
            scope.rels.push((
                pseudo.into(),
                Some(target.clone()),
                Rel::Table(target.clone()),
            ));
        }
        let q = QueryOut {
            cols: self.projection(select_items, scope),
            indirect: Vec::new(),
        };
        self.reads.insert(target.clone());
        for name in into
            .targets
            .iter()
            .filter_map(super::query::into_table_name)
        {
            let t = self.table(&name);
            let columns = self.edges(&t, &q, &[]);
            self.nested.push(StatementLineage {
                kind: StatementKind::Insert,
                writes: vec![t],
                columns,
                ..StatementLineage::default()
            });
        }
    }

    /// ALTER TABLE: renames (no lineage of their own) and swaps.
    fn alter_table(&mut self, at: &ast::AlterTable, out: &mut StatementLineage) {
        let from = self.table(&at.name);
        if !at
            .operations
            .iter()
            .any(|op| matches!(op, ast::AlterTableOperation::SwapWith { .. }))
        {
            out.modifies.push(from.clone());
        }
        for op in &at.operations {
            match op {
                ast::AlterTableOperation::RenameTable { table_name } => {
                    let to = match table_name {
                        ast::RenameTableNameKind::As(n) | ast::RenameTableNameKind::To(n) => {
                            self.table(n)
                        }
                    };
                    self.rename(from.clone(), to);
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

    /// ALTER VIEW: a new definition (`AS query`, MySQL) has the lineage of CREATE VIEW;
    /// a rename is known from here on; any other change alters the view.
    fn alter_view(&mut self, av: &ast::AlterView, out: &mut StatementLineage) {
        let target = self.table(&av.name);
        match &av.operation {
            ast::AlterViewOperation::As { columns, query, .. } => {
                let names = columns.iter().map(norm).collect();
                self.create_from_query(target, query, names, out);
            }
            ast::AlterViewOperation::RenameTo { new_name } => {
                let to = self.table(new_name);
                self.rename(target, to);
            }
            _ => out.modifies.push(target),
        }
    }

    /// RENAME TABLE: later (and earlier) statements know the tables by their new names.
    fn rename_tables(&mut self, renames: &[ast::RenameTable]) {
        for r in renames {
            let (from, to) = (self.table(&r.old_name), self.table(&r.new_name));
            self.rename(from, to);
        }
    }

    /// A rename moves no data: no lineage of its own; the table is known by its new
    /// name from here on, in earlier statements too.
    fn rename(&mut self, from: TableName, to: TableName) {
        self.renamed.push((from.clone(), to.clone()));
        let cols = self.known_columns(&from).map(|c| c.to_vec());
        self.created.push((from, None));
        self.created.push((to, cols));
    }

    /// COPY between a table (or query) and a file.
    fn copy(
        &mut self,
        source: &ast::CopySource,
        to: bool,
        target: &ast::CopyTarget,
        out: &mut StatementLineage,
    ) {
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
        match (table, path, to) {
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

    /// Snowflake's COPY INTO a table or a location.
    fn copy_into_snowflake(
        &mut self,
        kind: &ast::CopyIntoSnowflakeKind,
        into: &ObjectName,
        from_obj: Option<&ObjectName>,
        stage_url: Option<&str>,
        from_query: Option<&Query>,
        out: &mut StatementLineage,
    ) {
        let source = from_obj
            .as_ref()
            .map(|o| self.table(o))
            .or_else(|| stage_url.map(|u| TableName::bare(u.to_string())));
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

    /// Redshift's UNLOAD of a query to a location.
    fn unload(
        &mut self,
        query: Option<&Query>,
        to: &Ident,
        query_text: Option<&str>,
        out: &mut StatementLineage,
    ) {
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

    /// Anything else: an `Unsupported` diagnostic naming the statement (none inside a
    /// compound statement, where DECLARE, SET, RETURN and the like are expected).
    fn unsupported(&mut self, other: &Statement) {
        if self.in_compound > 0 {
            return;
        }
        let text = other.to_string();
        let word: String = text
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        self.diag(
            DiagnosticKind::Unsupported,
            format!("no lineage extracted from this statement ({word} ...)"),
        );
    }

    /// CREATE TABLE AS / CREATE VIEW: `target` gets the query's columns (named by
    /// `names` when given) and is known to later statements.
    pub(super) fn create_from_query(
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

    pub(super) fn update(&mut self, u: &ast::Update, out: &mut StatementLineage) {
        let mut scope = Scope::default();
        let from_items = u.from.as_ref().map(|from| match from {
            ast::UpdateTableFromKind::BeforeSet(f) | ast::UpdateTableFromKind::AfterSet(f) => f,
        });
        // T-SQL's `UPDATE alias SET ... FROM table AS alias JOIN ...`: the target is the
        // FROM's table of that alias.
        let aliased = from_items.and_then(|items| update_alias_target(&u.table, items));
        let target = if let Some(name) = aliased {
            let t = self.table(&name);
            for twj in from_items.into_iter().flatten() {
                self.add_from(twj, &mut scope);
            }
            self.reads.remove(&t);
            Some(t)
        } else {
            self.add_from(&u.table, &mut scope);
            let target = scope.rels.first().and_then(|r| r.1.clone());
            if let Some(t) = &target {
                self.reads.remove(t);
            }
            for twj in from_items.into_iter().flatten() {
                self.add_from(twj, &mut scope);
            }
            target
        };
        if let Some(t) = &target {
            out.writes.push(t.clone());
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
        self.read_target_if_used(&target, out);
        self.output_into(u.output.as_ref(), &target, &mut scope);
    }

    /// UPDATE and MERGE write their target; they also read it where its columns feed
    /// a value or decide which rows change (`SET x = x + 1`, `WHERE t.flag`, MERGE's
    /// `ON`): listed in `reads_written`.
    fn read_target_if_used(&mut self, target: &TableName, out: &mut StatementLineage) {
        if out.columns.iter().any(|e| e.source.table == *target)
            && !out.reads_written.contains(target)
        {
            out.reads_written.push(target.clone());
        }
    }

    /// `SET name = value` on `target`: edges from the value's columns, plus `indirect`
    /// (what selected the rows) and whatever the value's own subqueries filter on.
    pub(super) fn assignment(
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

    pub(super) fn merge(&mut self, m: &ast::Merge, out: &mut StatementLineage) {
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
        self.read_target_if_used(&target, out);
        self.output_into(m.output.as_ref(), &target, &mut scope);
    }

    /// Column edges from a query's output into `target`'s columns: by position into
    /// `names` when given, else by the output's own names.
    pub(super) fn edges<'q>(
        &mut self,
        target: &TableName,
        q: &'q QueryOut,
        names: &[String],
    ) -> Vec<ColumnEdge> {
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
        // The target column of each output column.
        let tnames: Vec<&str> = q
            .cols
            .iter()
            .enumerate()
            .map(|(i, col)| match names.get(i) {
                _ if col.name == "*" => "*",
                Some(n) => n.as_str(),
                None => col.name.as_str(),
            })
            .collect();
        // Sorting edges compares column references field by field, so every source
        // reference is ranked once and the candidate edges sort on one packed integer
        // (source rank, target rank, kind, subtype; the expression only breaks ties);
        // only the distinct edges are cloned. The order is `ColumnEdge`'s own (the target
        // table is the same for all, so targets order by column name).
        let mut sources: Vec<&'q ColumnRef> = q.indirect.iter().map(|s| &*s.col).collect();
        for col in &q.cols {
            sources.extend(col.direct.iter().chain(&col.indirect).map(|s| &*s.col));
        }
        let source_rank = shared_ranks(&sources);
        let target_rank = ranks(&tnames);
        let key = |source: usize, column: usize, sub: Sub| {
            u64::from(source_rank[source]) << 40
                | u64::from(target_rank[column]) << 16
                | (sub.kind() as u64) << 8
                | sub as u64
        };
        // (key, expression, source, output column, subtype); sources are numbered in
        // the order collected above.
        let mut found: Vec<(u64, Option<&'q String>, usize, usize, Sub)> = Vec::new();
        let mut next = q.indirect.len();
        for (i, col) in q.cols.iter().enumerate() {
            for (k, s) in q.indirect.iter().enumerate() {
                found.push((key(k, i, s.sub), None, k, i, s.sub));
            }
            for s in &col.direct {
                found.push((key(next, i, s.sub), col.expr.as_ref(), next, i, s.sub));
                next += 1;
            }
            for s in &col.indirect {
                found.push((key(next, i, s.sub), None, next, i, s.sub));
                next += 1;
            }
        }
        found.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        found.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        found
            .into_iter()
            .map(|(_, expression, source, i, sub)| ColumnEdge {
                source: sources[source].clone(),
                target: ColumnRef {
                    table: target.clone(),
                    column: tnames[i].to_string(),
                },
                kind: sub.kind(),
                subtype: sub,
                expression: expression.cloned(),
            })
            .collect()
    }
}

/// [`ranks`] of references of which many are to the same value (a query's filter and
/// join columns feed every output column): the distinct addresses are found first,
/// comparing pointers, and only they are compared by value.
fn shared_ranks<T: Ord>(items: &[&T]) -> Vec<u32> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_unstable_by_key(|&i| std::ptr::from_ref(items[i]));
    let mut distinct: Vec<&T> = Vec::new();
    let mut which = vec![0u32; items.len()];
    for (k, &i) in order.iter().enumerate() {
        if k == 0 || !std::ptr::eq(items[order[k - 1]], items[i]) {
            distinct.push(items[i]);
        }
        which[i] = (distinct.len() - 1) as u32;
    }
    let rank = ranks(&distinct);
    which.iter().map(|&d| rank[d as usize]).collect()
}

/// Each item's rank in sorted order (equal items share a rank).
fn ranks<T: Ord>(items: &[T]) -> Vec<u32> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_unstable_by(|&a, &b| items[a].cmp(&items[b]));
    let mut rank = vec![0; items.len()];
    let mut r = 0;
    for (k, &at) in order.iter().enumerate() {
        if k > 0 && items[order[k - 1]] != items[at] {
            r += 1;
        }
        rank[at] = r;
    }
    rank
}

fn out_with(mut out: StatementLineage, kind: StatementKind) -> StatementLineage {
    out.kind = kind;
    out
}

/// `SELECT SWAP_PARTITIONS_BETWEEN_TABLES('a', ..., ..., 'b')`: the two table names.
fn swap_partitions(q: &Query) -> Option<(String, String)> {
    let SetExpr::Select(sel) = q.body.as_ref() else {
        return None;
    };
    let [SelectItem::UnnamedExpr(Expr::Function(f))] = sel.projection.as_slice() else {
        return None;
    };
    if !f
        .name
        .to_string()
        .eq_ignore_ascii_case("swap_partitions_between_tables")
    {
        return None;
    }
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    let text = |i: usize| match list.args.get(i)? {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v))) => match &v.value {
            ast::Value::SingleQuotedString(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    };
    Some((text(0)?, text(3)?))
}

/// The statements directly inside `stmt` (a body, a block, the branches of `IF`),
/// not those nested in them, nor `stmt` itself.
fn child_statements(stmt: &Statement) -> Vec<Statement> {
    struct Children {
        depth: usize,
        found: Vec<Statement>,
    }
    impl Visitor for Children {
        type Break = ();
        fn pre_visit_statement(&mut self, s: &Statement) -> ControlFlow<()> {
            if self.depth == 1 {
                self.found.push(s.clone());
            }
            self.depth += 1;
            ControlFlow::Continue(())
        }
        fn post_visit_statement(&mut self, _: &Statement) -> ControlFlow<()> {
            self.depth -= 1;
            ControlFlow::Continue(())
        }
    }
    let mut v = Children {
        depth: 0,
        found: Vec::new(),
    };
    let _ = stmt.visit(&mut v);
    v.found
}

/// The table an UPDATE's bare target names when it is an alias of its FROM list
/// (`UPDATE tt SET ... FROM dbo.counters AS tt`), if it is one.
fn update_alias_target(table: &TableWithJoins, from: &[TableWithJoins]) -> Option<ObjectName> {
    let TableFactor::Table {
        name, alias: None, ..
    } = &table.relation
    else {
        return None;
    };
    let parts = name_parts(name);
    let [target] = parts.as_slice() else {
        return None;
    };
    if !table.joins.is_empty() {
        return None;
    }
    from.iter()
        .flat_map(|twj| std::iter::once(&twj.relation).chain(twj.joins.iter().map(|j| &j.relation)))
        .find_map(|relation| match relation {
            TableFactor::Table {
                name,
                alias: Some(a),
                ..
            } if norm(&a.name) == *target => Some(name.clone()),
            _ => None,
        })
}

/// The parameter names of a procedure or function definition (none for other
/// statements).
fn routine_params(stmt: &Statement) -> Vec<String> {
    match stmt {
        Statement::CreateProcedure {
            params: Some(params),
            ..
        } => params.iter().map(|p| norm(&p.name)).collect(),
        Statement::CreateFunction(f) => f
            .args
            .iter()
            .flatten()
            .filter_map(|a| a.name.as_ref().map(norm))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Equal values at different addresses and the same address more than once rank as
    /// their values do.
    #[test]
    fn shared_ranks_are_the_ranks_of_the_values() {
        let values = ["b", "a", "c", "a"].map(String::from);
        let items: Vec<&String> = vec![
            &values[0], &values[1], &values[2], &values[3], &values[1], &values[0],
        ];
        assert_eq!(ranks(&items), vec![1, 0, 2, 0, 0, 1]);
        assert_eq!(shared_ranks(&items), ranks(&items));
    }
}

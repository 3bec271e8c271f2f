//! Queries: WITH, set operations by position, SELECT lists with their FROM scope,
//! `*` expansion, joins and table factors.

use super::*;

impl<'a> Cx<'a> {
    pub(super) fn query(&mut self, q: &Query, parent: Option<&Scope<'_>>) -> QueryOut {
        if !self.enter() {
            return QueryOut::default();
        }
        let mut pushed = false;
        if let Some(with) = &q.with {
            self.ctes.push(rustc_hash::FxHashMap::default());
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

    pub(super) fn set_expr(&mut self, body: &SetExpr, parent: Option<&Scope<'_>>) -> QueryOut {
        match body {
            SetExpr::Select(s) => self.select(s, parent),
            SetExpr::Query(q) => self.query(q, parent),
            SetExpr::SetOperation {
                left,
                right,
                set_quantifier,
                ..
            } => {
                if !self.enter() {
                    return QueryOut::default();
                }
                let mut l = self.set_expr(left, parent);
                let r = self.set_expr(right, parent);
                // `UNION [ALL] BY NAME` (DuckDB, BigQuery, Spark, Snowflake) pairs columns by
                // name, not by position; a column only one side has is its own.
                let by_name = matches!(
                    set_quantifier,
                    SetQuantifier::ByName
                        | SetQuantifier::AllByName
                        | SetQuantifier::DistinctByName
                );
                for (i, rc) in r.cols.into_iter().enumerate() {
                    let at = if by_name {
                        l.cols.iter().position(|lc| lc.name == rc.name)
                    } else {
                        (i < l.cols.len()).then_some(i)
                    };
                    match at.and_then(|i| l.cols.get_mut(i)) {
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
                    let n = ObjectName::from(vec![name.clone()]);
                    let table = self.table(&n);
                    self.reads.insert(table.clone());
                    out.cols.push(star(&table));
                }
                out
            }
            // T-SQL's `INSERT ... EXEC proc`: the procedure's result set; what it reads is
            // in its own definition, not here.
            SetExpr::Execute(_) => QueryOut::default(),
            SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) | SetExpr::Merge(s) => {
                // `WITH ... INSERT ...`: the statement's writes and edges belong to the
                // enclosing statement.
                let inner = self.statement(s);
                self.nested.push(inner);
                QueryOut::default()
            }
        }
    }

    pub(super) fn select(&mut self, s: &Select, parent: Option<&Scope<'_>>) -> QueryOut {
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
        out.cols = self.projection(&s.projection, &mut scope);
        out.indirect = indirect;
        dedup(&mut out.indirect);
        if let Some(into) = &s.into {
            // SELECT ... INTO t: t is written with the selected columns.
            for target in &into.targets {
                let Some(name) = into_table_name(target) else {
                    // MySQL's `INTO OUTFILE 'path'`: the file is written.
                    if let Expr::Value(v) = target
                        && let ast::Value::SingleQuotedString(path) = &v.value
                    {
                        self.nested.push(StatementLineage {
                            kind: StatementKind::SelectInto,
                            writes: vec![TableName::bare(path.clone())],
                            ..StatementLineage::default()
                        });
                    }
                    continue;
                };
                let t = self.table(&name);
                let columns = self.edges(&t, &out, &[]);
                let cols = out.cols.iter().map(|c| c.name.clone()).collect();
                self.created.push((t.clone(), Some(cols)));
                self.nested.push(StatementLineage {
                    kind: StatementKind::SelectInto,
                    writes: vec![t],
                    columns,
                    ..StatementLineage::default()
                });
            }
        }
        out
    }

    /// The output columns of a list of select items over `scope`.
    pub(super) fn projection(
        &mut self,
        items: &[SelectItem],
        scope: &mut Scope<'_>,
    ) -> Vec<OutCol> {
        let mut cols = Vec::new();
        for item in items {
            match item {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                    let name = match item {
                        SelectItem::ExprWithAlias { alias, .. } => norm(alias),
                        _ => expr_name(e),
                    };
                    let (mut direct, mut col_ind) = (Vec::new(), Vec::new());
                    self.expr(e, scope, Sub::Identity, &mut direct, &mut col_ind);
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
                    cols.push(col);
                }
                SelectItem::ExprWithAliases { expr, aliases } => {
                    let (mut direct, mut col_ind) = (Vec::new(), Vec::new());
                    self.expr(expr, scope, Sub::Identity, &mut direct, &mut col_ind);
                    for a in aliases {
                        cols.push(OutCol {
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
                        cols.extend(self.expand(&r));
                    }
                }
                SelectItem::QualifiedWildcard(kind, _) => {
                    if let SelectItemQualifiedWildcardKind::ObjectName(n) = kind {
                        let parts = name_parts(n);
                        match find_rel(scope, &parts) {
                            Some(r) => {
                                let r = r.clone();
                                cols.extend(self.expand(&r));
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
        cols
    }

    /// The columns of `*` over one relation.
    pub(super) fn expand(&mut self, r: &Rel) -> Vec<OutCol> {
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
                            col: Rc::new(ColumnRef {
                                table: t.clone(),
                                column: c.clone(),
                            }),
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
    pub(super) fn add_from(&mut self, twj: &TableWithJoins, scope: &mut Scope<'_>) -> Vec<Src> {
        let mut indirect = self.relation_in_from(&twj.relation, scope);
        for j in &twj.joins {
            indirect.extend(self.relation_in_from(&j.relation, scope));
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
                J::AsOf { constraint, .. } => Some(constraint),
                _ => None,
            };
            let mut conditions: Vec<&Expr> = Vec::new();
            if let Some(ast::JoinConstraint::On(e)) = constraint {
                conditions.push(e);
            }
            if let J::AsOf {
                match_condition, ..
            } = &j.join_operator
            {
                conditions.push(match_condition);
            }
            for e in conditions {
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

    /// A relation of a FROM list: a join nested without an alias (`a JOIN (b JOIN c ON
    /// ...) ON ...`, or T-SQL's form without parentheses) puts its tables in this scope
    /// and gives its join conditions' influence; anything else is one relation.
    fn relation_in_from(&mut self, tf: &TableFactor, scope: &mut Scope<'_>) -> Vec<Src> {
        match tf {
            TableFactor::NestedJoin {
                table_with_joins,
                alias: None,
            } => self.add_from(table_with_joins, scope),
            _ => {
                self.table_factor(tf, scope);
                Vec::new()
            }
        }
    }

    pub(super) fn table_factor(&mut self, tf: &TableFactor, scope: &mut Scope<'_>) {
        match tf {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                let parts = name_parts(name);
                let alias_name = alias.as_ref().map(|a| norm(&a.name));
                if args.is_some() && !self.is_table_hint(args.as_ref()) {
                    // A table-valued function: the tables its arguments read (subqueries,
                    // `TABLE t`), no column lineage through it.
                    let mut v = RelationCollector::default();
                    let _ = args.visit(&mut v);
                    for n in v.names {
                        let t = self.table(&n);
                        self.reads.insert(t);
                    }
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
                if parts.len() >= 2 && scope.rels.iter().any(|(k, _, _)| *k == parts[0]) {
                    // `FROM t, t.items` / `CROSS JOIN t.items` (BigQuery's implicit
                    // UNNEST of an array column): a path into a relation of this FROM,
                    // not a table.
                    let path = Expr::CompoundIdentifier(
                        name.0
                            .iter()
                            .filter_map(|p| match p {
                                ObjectNamePart::Identifier(i) => Some(i.clone()),
                                _ => None,
                            })
                            .collect(),
                    );
                    let (mut direct, mut ind) = (Vec::new(), Vec::new());
                    self.expr(&path, scope, Sub::Transformation, &mut direct, &mut ind);
                    let key =
                        alias_name.unwrap_or_else(|| parts.last().cloned().unwrap_or_default());
                    scope.rels.push((key, None, Rel::Unnest(direct)));
                    return;
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
}

/// The table an `INTO` target names (`SELECT ... INTO t`, T-SQL's `OUTPUT ... INTO t`),
/// if it names one.
pub(super) fn into_table_name(target: &Expr) -> Option<ObjectName> {
    match target {
        Expr::Identifier(i) => Some(ObjectName::from(vec![i.clone()])),
        Expr::CompoundIdentifier(ids) => Some(ObjectName::from(ids.clone())),
        _ => None,
    }
}

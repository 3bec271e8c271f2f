//! Expressions: which source columns flow into a value, with the transformation
//! subtype (identity, transformation, aggregation, conditional, window).

use super::*;

impl<'a> Cx<'a> {
    /// Collects the source columns of `e`: value-carrying ones into `direct` with role
    /// `role` (combined with what is found inside), the rest into `indirect`.
    pub(super) fn expr(
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
                                // count(*) counts rows: no column feeds it (the table
                                // read is the table-level influence), so no `*` edge.
                                FunctionArgExpr::Wildcard
                                | FunctionArgExpr::WildcardWithOptions(_)
                                | FunctionArgExpr::QualifiedWildcard(_)
                                    if fname == "count" => {}
                                // f(*) of another function: every column of every relation in
                                // scope feeds it.
                                FunctionArgExpr::Wildcard
                                | FunctionArgExpr::WildcardWithOptions(_) => {
                                    for (_, t, _) in &scope.rels {
                                        if let Some(t) = t {
                                            direct.push(Src {
                                                col: Rc::new(ColumnRef {
                                                    table: t.clone(),
                                                    column: "*".into(),
                                                }),
                                                sub: inner,
                                            });
                                        }
                                    }
                                }
                                FunctionArgExpr::QualifiedWildcard(n) => {
                                    if let Some(Rel::Table(t)) = find_rel(scope, &name_parts(n)) {
                                        direct.push(Src {
                                            col: Rc::new(ColumnRef {
                                                table: t.clone(),
                                                column: "*".into(),
                                            }),
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
            Expr::In {
                expr,
                target: InTarget::Subquery(subquery),
                ..
            } => {
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
    pub(super) fn column(
        &mut self,
        parts: &[String],
        scope: &Scope<'_>,
        role: Sub,
        out: &mut Vec<Src>,
        indirect: &mut Vec<Src>,
    ) {
        if let [name] = parts
            && self.routine_params.contains(name)
        {
            return;
        }
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
pub(super) struct RelationCollector {
    pub(super) names: Vec<ObjectName>,
}

impl Visitor for RelationCollector {
    type Break = ();

    fn pre_visit_relation(&mut self, r: &ObjectName) -> ControlFlow<()> {
        self.names.push(r.clone());
        ControlFlow::Continue(())
    }
}

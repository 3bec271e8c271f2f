//! Scope and name resolution: table names (defaults, case rules, renames), the
//! catalog and the script's own tables, CTEs, and columns resolved through the FROM
//! scope and its enclosing scopes.

use super::*;

impl<'a> Cx<'a> {
    /// A table name qualified with the defaults.
    pub(super) fn table(&self, n: &ObjectName) -> TableName {
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
        let mut name = parts.pop().unwrap_or_default();
        if self.opts.normalize_sharded_tables {
            name = TableName::unsharded(&name).into_owned();
        }
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
    pub(super) fn known_columns(&self, t: &TableName) -> Option<Arc<Vec<String>>> {
        if let Some(hit) = self.columns_seen.borrow().get(t) {
            return hit.clone();
        }
        let dialect = self.opts.dialect;
        let found = match self.script.tables.get(t) {
            Some(c) => Some(Arc::new(c.clone())),
            None => self.opts.catalog.as_ref().and_then(|c| {
                c.shared_columns(t).or_else(|| {
                    // A catalog read from Snowflake or Oracle spells unquoted names
                    // upper-case: `PUBLIC.ORDERS`.
                    let upper = TableName {
                        database: t.database.as_ref().map(|d| d.to_uppercase()),
                        schema: t.schema.as_ref().map(|s| s.to_uppercase()),
                        name: t.name.to_uppercase(),
                    };
                    (dialect.folds_to_upper() && upper != *t)
                        .then(|| c.shared_columns(&upper))
                        .flatten()
                })
            }),
        }
        .map(|cols| {
            // Catalog names as the SQL's names normalize: where unquoted names fold to
            // upper case, `AMOUNT` is `amount` and a mixed-case name (only quoting
            // makes one) keeps its case; elsewhere names match without regard to case.
            let normal = |c: &String| {
                if !dialect.folds_to_upper() || dialect.is_folded_spelling(c) {
                    c.to_lowercase()
                } else {
                    c.clone()
                }
            };
            // Kept as they are when normalizing changes none (no copy of the list); an
            // ASCII name without upper case is its own normal form.
            let unchanged = |c: &String| {
                (c.is_ascii() && !c.bytes().any(|b| b.is_ascii_uppercase())) || normal(c) == *c
            };
            if cols.iter().all(unchanged) {
                cols
            } else {
                Arc::new(cols.iter().map(normal).collect())
            }
        });
        self.columns_seen
            .borrow_mut()
            .insert(t.clone(), found.clone());
        found
    }

    /// T-SQL's `t(NOLOCK)`: table hints that parse like table-function arguments.
    pub(super) fn is_table_hint(&self, args: Option<&ast::TableFunctionArgs>) -> bool {
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

    pub(super) fn cte(&self, name: &str) -> Option<QueryOut> {
        self.ctes.iter().rev().find_map(|m| m.get(name).cloned())
    }

    pub(super) fn resolve(&self, parts: &[String], scope: &Scope<'_>) -> Resolved {
        // A qualifier names a relation of this query or of an enclosing one (correlated
        // subquery) before `a.b` may be read as field `b` of column `a`.
        if parts.len() >= 2 {
            let mut s = Some(scope);
            while let Some(sc) = s {
                for split in (1..parts.len()).rev() {
                    if let Some(rel) = find_rel(sc, &parts[..split]) {
                        return self.field_path(rel, &parts[split..]);
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

    pub(super) fn resolve_in(&self, parts: &[String], scope: &Scope<'_>) -> Resolved {
        let col = &parts[0];
        // An UNNEST's alias used as a value (`CROSS JOIN UNNEST(o.tags) AS tag`, then
        // `SELECT tag`): the array's element.
        if parts.len() == 1
            && let Some((_, _, rel)) = scope
                .rels
                .iter()
                .find(|(k, _, r)| k == col && matches!(r, Rel::Unnest(_)))
        {
            return self.column_of(rel, col);
        }
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
            return self.field_path(known[0], parts);
        }
        if known.is_empty()
            && let Some(l) = scope.lateral.iter().rev().find(|c| &c.name == col)
        {
            return Resolved::Sources(l.direct.clone(), l.indirect.clone());
        }
        match (known.len(), maybe.len()) {
            (0, 1) => self.field_path(maybe[0], parts),
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

    /// Sources of a column or a field inside one (`widget.asset.id`) of a relation. A
    /// base table's field keeps its whole path unless the catalog lists the table's
    /// columns without nested ones, in which case the top column stands for it.
    pub(super) fn field_path(&self, rel: &Rel, path: &[String]) -> Resolved {
        let top = &path[0];
        if path.len() == 1 {
            return self.column_of(rel, top);
        }
        let Rel::Table(t) = rel else {
            return self.column_of(rel, top);
        };
        let full = path.join(".");
        let nested = |cols: &[String]| {
            cols.iter().any(|c| {
                c.len() > top.len()
                    && c.starts_with(top.as_str())
                    && c.as_bytes()[top.len()] == b'.'
            })
        };
        match self.known_columns(t) {
            Some(cols) if !cols.contains(&full) && !nested(&cols) => self.column_of(rel, top),
            _ => self.column_of(rel, &full),
        }
    }

    /// Sources of column `col` of a relation.
    pub(super) fn column_of(&self, rel: &Rel, col: &str) -> Resolved {
        match rel {
            Rel::Unnest(srcs) => Resolved::Sources(srcs.clone(), Vec::new()),
            Rel::Table(t) => Resolved::Sources(
                vec![Src {
                    col: Rc::new(ColumnRef {
                        table: t.clone(),
                        column: col.to_string(),
                    }),
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
                        col: Rc::new(ColumnRef {
                            table: s.col.table.clone(),
                            column: col.to_string(),
                        }),
                        sub: s.sub,
                    })
                    .collect();
                Resolved::Sources(direct, Vec::new())
            }
        }
    }
}

pub(super) enum Resolved {
    /// Direct sources, and columns that influence the value indirectly.
    Sources(Vec<Src>, Vec<Src>),
    Ambiguous(Vec<String>),
    Unknown,
}

pub(super) fn rel_label(r: &Rel) -> String {
    match r {
        Rel::Unnest(_) => "an UNNEST".into(),
        Rel::Table(t) => t.to_string(),
        Rel::Derived(_) => "a subquery".into(),
    }
}

/// The relation a qualifier names: an alias, a table name, or a qualified table name.
pub(super) fn find_rel<'s>(scope: &'s Scope<'_>, qualifier: &[String]) -> Option<&'s Rel> {
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

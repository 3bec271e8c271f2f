//! An in-process search index over entity names, FQNs and descriptions.
//!
//! ```text
//!   dictionary (BTreeMap, sorted)        postings (roaring bitmaps of node ids)
//!   "customer"    -> 17            17 -> {4, 90, 1203, ...}
//!   "customers"   -> 18            18 -> {90}
//!   "fact_orders" -> 31   ...
//! ```
//! A query term matches every token that starts with it (a range of the sorted
//! dictionary), terms are intersected, and hits are ranked by how well the entity's
//! own name matches. So a query costs the bitmaps it touches, never a scan of the
//! entities. An FQN pattern with `*` wildcards (`svc.*.sales.orders`, what the Python
//! SDK sends) intersects the postings of its literal parts, then checks each
//! candidate's FQN against the pattern.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

use headwaters_engine::{EntityType, NodeId, ReadView};
use roaring::RoaringBitmap;
use serde_json::Value;

use crate::domain::error::Result;

/// The index. Updated on every entity write; rebuilt at start.
#[derive(Default)]
pub struct SearchIndex {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    dictionary: BTreeMap<String, u32>,
    postings: Vec<RoaringBitmap>,
    by_type: HashMap<EntityType, RoaringBitmap>,
    /// Per node: its tokens (for removal) and lower-cased name (for ranking).
    nodes: HashMap<u32, (Vec<u32>, Box<str>)>,
}

/// A search request.
#[derive(Clone, Debug, Default)]
pub struct SearchQuery {
    /// Free text; empty or `*` matches everything.
    pub text: String,
    /// Only these types (empty: all).
    pub types: Vec<EntityType>,
    /// Skip this many hits.
    pub from: usize,
    /// Return at most this many.
    pub size: usize,
    /// Deleted entities instead of live ones.
    pub deleted: bool,
    /// An Elasticsearch-DSL filter the documents must match (`query_filter`, `q`'s
    /// `field:value` terms).
    pub filter: Option<super::search_dsl::Filter>,
    /// Sort by this document field (dotted path, `.keyword` dropped), descending when
    /// the flag is set; `None` ranks by relevance.
    pub sort: Option<(String, bool)>,
}

/// Hits of one page, and how many matched in all.
#[derive(Clone, Debug, Default)]
pub struct SearchHits {
    /// The page, best first.
    pub nodes: Vec<NodeId>,
    /// All matches.
    pub total: usize,
}

/// How many column names of one entity are indexed (wide tables would bloat postings).
const MAX_COLUMN_WORDS: usize = 512;

/// The names of `cols` and their children, at most `budget` of them.
fn column_words(cols: &[Value], out: &mut Vec<String>, budget: &mut usize) {
    for c in cols {
        if *budget == 0 {
            return;
        }
        if let Some(Value::String(n)) = c.get("name") {
            *budget -= 1;
            tokenize(n, out);
        }
        if let Some(Value::Array(children)) = c.get("children") {
            column_words(children, out, budget);
        }
    }
}

/// Splits text into lower-case tokens: runs of letters, digits and `_`, plus the parts
/// of snake_case tokens.
pub fn tokenize(text: &str, out: &mut Vec<String>) {
    for raw in text.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
        if raw.is_empty() {
            continue;
        }
        let t = raw.to_lowercase();
        if t.contains('_') {
            for part in t.split('_').filter(|p| !p.is_empty()) {
                out.push(part.to_string());
            }
        }
        out.push(t);
    }
}

impl Inner {
    fn token_id(&mut self, t: &str) -> u32 {
        if let Some(id) = self.dictionary.get(t) {
            return *id;
        }
        let id = self.postings.len() as u32;
        self.postings.push(RoaringBitmap::new());
        self.dictionary.insert(t.to_string(), id);
        id
    }

    fn remove(&mut self, node: u32) {
        if let Some((tokens, _)) = self.nodes.remove(&node) {
            for t in tokens {
                self.postings[t as usize].remove(node);
            }
            for b in self.by_type.values_mut() {
                b.remove(node);
            }
        }
    }

    fn insert(&mut self, node: u32, ty: EntityType, name: &str, fqn: &str, doc: &Value) {
        self.remove(node);
        let mut words = Vec::new();
        tokenize(name, &mut words);
        tokenize(fqn, &mut words);
        if let Some(Value::String(d)) = doc.get("displayName") {
            tokenize(d, &mut words);
        }
        if let Some(Value::String(d)) = doc.get("description") {
            // The first words carry the meaning; long descriptions would bloat postings.
            let mut dw = Vec::new();
            tokenize(d, &mut dw);
            dw.truncate(64);
            words.extend(dw);
        }
        // Column names (nested ones too), so a column's name finds its table.
        if let Some(Value::Array(cols)) = doc.get("columns") {
            let mut budget = MAX_COLUMN_WORDS;
            column_words(cols, &mut words, &mut budget);
        }
        words.sort();
        words.dedup();
        let ids: Vec<u32> = words.iter().map(|w| self.token_id(w)).collect();
        for t in &ids {
            self.postings[*t as usize].insert(node);
        }
        self.by_type.entry(ty).or_default().insert(node);
        self.nodes.insert(node, (ids, name.to_lowercase().into()));
    }

    /// Union of the postings of every token starting with `prefix`.
    fn prefix(&self, prefix: &str) -> RoaringBitmap {
        let mut acc = RoaringBitmap::new();
        for (t, id) in self.dictionary.range(prefix.to_string()..) {
            if !t.starts_with(prefix) {
                break;
            }
            acc |= &self.postings[*id as usize];
        }
        acc
    }

    fn exact(&self, token: &str) -> RoaringBitmap {
        self.dictionary
            .get(token)
            .map(|id| self.postings[*id as usize].clone())
            .unwrap_or_default()
    }

    fn of_types(&self, types: &[EntityType]) -> Option<RoaringBitmap> {
        if types.is_empty() {
            return None;
        }
        let mut acc = RoaringBitmap::new();
        for t in types {
            if let Some(b) = self.by_type.get(t) {
                acc |= b;
            }
        }
        Some(acc)
    }

    fn all(&self) -> RoaringBitmap {
        let mut acc = RoaringBitmap::new();
        for b in self.by_type.values() {
            acc |= b;
        }
        acc
    }
}

impl SearchIndex {
    /// Indexes every entity of the view (at start).
    pub fn rebuild(&self, view: &ReadView<'_>) -> Result<()> {
        let nodes: Vec<NodeId> = view.nodes().collect();
        let mut inner = Inner::default();
        for chunk in nodes.chunks(4096) {
            for e in view.entities(chunk)? {
                let doc = view.document(e.node)?;
                inner.insert(e.node.0, e.entity_type, &e.name, &e.fqn, &doc);
            }
        }
        *self.inner.write().unwrap_or_else(|p| p.into_inner()) = inner;
        Ok(())
    }

    /// Adds or re-indexes one entity from its document.
    pub fn upsert(&self, node: NodeId, ty: EntityType, doc: &Value) {
        let name = doc.get("name").and_then(Value::as_str).unwrap_or_default();
        let fqn = doc
            .get("fullyQualifiedName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        self.inner
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(node.0, ty, name, fqn, doc);
    }

    /// Forgets an entity (hard delete).
    pub fn remove(&self, node: NodeId) {
        self.inner
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(node.0);
    }

    fn finish(
        &self,
        inner: &Inner,
        view: &ReadView<'_>,
        mut hits: RoaringBitmap,
        types: &[EntityType],
        deleted: bool,
    ) -> RoaringBitmap {
        if let Some(t) = inner.of_types(types) {
            hits &= t;
        }
        hits.retain(|n| view.is_deleted(NodeId(n)) == deleted);
        hits
    }

    /// The live (or deleted) entities of `types` whose words include every word of
    /// `text` (as prefixes) and every one of `words` (exactly).
    pub fn candidates(
        &self,
        view: &ReadView<'_>,
        text: &str,
        words: &[String],
        types: &[EntityType],
        deleted: bool,
    ) -> RoaringBitmap {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        let text = text.trim().trim_matches('*').to_lowercase();
        let mut terms = Vec::new();
        tokenize(&text, &mut terms);
        terms.retain(|t| !t.contains('_') || text.contains(t.as_str()));
        let mut hits: Option<RoaringBitmap> = None;
        for b in terms
            .iter()
            .map(|t| inner.prefix(t))
            .chain(words.iter().map(|w| inner.exact(w)))
        {
            hits = Some(match hits {
                None => b,
                Some(h) => h & b,
            });
        }
        let hits = hits.unwrap_or_else(|| inner.all());
        self.finish(&inner, view, hits, types, deleted)
    }

    /// Free-text search, ranked: exact name, then name prefix, then the rest; ties by
    /// shorter name and then id.
    pub fn search(&self, view: &ReadView<'_>, q: &SearchQuery) -> SearchHits {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        let text = q.text.trim().trim_matches('*').to_lowercase();
        let mut terms = Vec::new();
        tokenize(&text, &mut terms);
        terms.retain(|t| !t.contains('_') || text.contains(t.as_str()));
        let mut hits: Option<RoaringBitmap> = None;
        for t in &terms {
            let b = inner.prefix(t);
            hits = Some(match hits {
                None => b,
                Some(h) => h & b,
            });
        }
        let hits = hits.unwrap_or_else(|| inner.all());
        let hits = self.finish(&inner, view, hits, &q.types, q.deleted);
        let total = hits.len() as usize;
        if text.is_empty() {
            // Nothing to rank by: id order, and only the page is touched.
            return SearchHits {
                nodes: hits.iter().skip(q.from).take(q.size).map(NodeId).collect(),
                total,
            };
        }
        let rank = |n: u32| -> (u8, usize, u32) {
            let name = inner.nodes.get(&n).map(|(_, nm)| &**nm).unwrap_or("");
            let r = if name == text {
                0
            } else if name.starts_with(&text) {
                1
            } else {
                2
            };
            (r, name.len(), n)
        };
        let mut ranked: Vec<(u8, usize, u32)> = hits.iter().map(rank).collect();
        let end = (q.from + q.size).min(ranked.len());
        if q.from < end {
            ranked.select_nth_unstable(end - 1);
            ranked.truncate(end);
            ranked.sort_unstable();
        }
        SearchHits {
            nodes: ranked
                .get(q.from..end)
                .unwrap_or(&[])
                .iter()
                .map(|r| NodeId(r.2))
                .collect(),
            total,
        }
    }

    /// Entities whose FQN matches `pattern` (`*` matches any run of characters,
    /// case-insensitive), in FQN order.
    pub fn fqn_pattern(
        &self,
        view: &ReadView<'_>,
        pattern: &str,
        types: &[EntityType],
        deleted: bool,
        from: usize,
        size: usize,
    ) -> Result<SearchHits> {
        let candidates = {
            let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
            let mut acc: Option<RoaringBitmap> = None;
            let is_word = |c: char| c.is_alphanumeric() || c == '_';
            let segments: Vec<&str> = pattern.split('*').collect();
            let last = segments.len() - 1;
            for (si, seg) in segments.iter().enumerate() {
                let words: Vec<&str> = seg
                    .split(|c: char| !is_word(c))
                    .filter(|w| !w.is_empty())
                    .collect();
                let n = words.len();
                for (i, w) in words.iter().enumerate() {
                    // A word touching a `*` may be part of a longer token: not a filter.
                    let cut_left = i == 0 && si > 0 && seg.starts_with(is_word);
                    let cut_right = i + 1 == n && si < last && seg.ends_with(is_word);
                    if cut_left || cut_right {
                        continue;
                    }
                    let b = inner.exact(&w.to_lowercase());
                    acc = Some(match acc {
                        None => b,
                        Some(a) => a & b,
                    });
                }
            }
            let all = acc.unwrap_or_else(|| inner.all());
            self.finish(&inner, view, all, types, deleted)
        };
        let re = glob_matcher(pattern);
        let ids: Vec<NodeId> = candidates.iter().map(NodeId).collect();
        let mut matched = Vec::new();
        for chunk in ids.chunks(4096) {
            for e in view.entities(chunk)? {
                if re(&e.fqn) {
                    matched.push((e.fqn, e.node));
                }
            }
        }
        matched.sort();
        let total = matched.len();
        Ok(SearchHits {
            nodes: matched
                .into_iter()
                .skip(from)
                .take(size)
                .map(|m| m.1)
                .collect(),
            total,
        })
    }
}

/// A case-insensitive matcher for a pattern where `*` matches any run of characters.
fn glob_matcher(pattern: &str) -> impl Fn(&str) -> bool {
    let parts: Vec<String> = pattern.split('*').map(str::to_lowercase).collect();
    move |s: &str| {
        let s = s.to_lowercase();
        let (first, rest) = parts.split_first().expect("split yields one part at least");
        let Some(mut pos) = s.strip_prefix(first.as_str()).map(|_| first.len()) else {
            return false;
        };
        if rest.is_empty() {
            return pos == s.len();
        }
        let (last, middle) = rest.split_last().expect("rest is not empty");
        for m in middle {
            match s[pos..].find(m.as_str()) {
                Some(i) => pos += i + m.len(),
                None => return false,
            }
        }
        s.len() >= pos + last.len() && s.ends_with(last.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let m = glob_matcher("svc.*.sales.orders");
        assert!(m("svc.db.sales.orders"));
        assert!(m("SVC.db.Sales.Orders"));
        assert!(!m("svc.db.sales.orders_v2"));
        assert!(!m("other.db.sales.orders"));
        let m = glob_matcher("*orders*");
        assert!(m("svc.db.sales.fact_orders_daily"));
        let m = glob_matcher("svc.db.sales.orders");
        assert!(m("svc.db.sales.orders") && !m("svc.db.sales.orders2"));
    }

    #[test]
    fn column_names_are_indexed_nested_and_bounded() {
        let mut inner = Inner::default();
        let doc = serde_json::json!({"columns": [
            {"name": "amount"},
            {"name": "widget", "children": [{"name": "asset_id"}]},
        ]});
        inner.insert(7, EntityType::Table, "orders", "svc.db.s.orders", &doc);
        assert!(inner.prefix("amount").contains(7));
        assert!(inner.prefix("asset").contains(7), "nested column names");
        assert!(inner.prefix("widget").contains(7));
        let wide: Vec<Value> = (0..MAX_COLUMN_WORDS + 10)
            .map(|i| serde_json::json!({"name": format!("c{i}")}))
            .collect();
        inner.insert(
            8,
            EntityType::Table,
            "wide",
            "svc.db.s.wide",
            &serde_json::json!({"columns": wide}),
        );
        assert!(
            inner
                .exact(&format!("c{}", MAX_COLUMN_WORDS - 1))
                .contains(8)
        );
        assert!(
            !inner.exact(&format!("c{MAX_COLUMN_WORDS}")).contains(8),
            "past the budget"
        );
    }

    #[test]
    fn tokens() {
        let mut t = Vec::new();
        tokenize("svc.db.\"my.table\".fact_Orders", &mut t);
        assert!(t.contains(&"fact_orders".to_string()));
        assert!(t.contains(&"orders".to_string()));
        assert!(t.contains(&"my".to_string()));
    }
}

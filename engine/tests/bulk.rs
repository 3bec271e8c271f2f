//! Bulk load: input formats, errors that name the line, all-or-nothing on bad input,
//! merging into an existing graph.

use headwaters_engine::{
    ColumnMapping, EdgeInput, EntityInput, EntityType, Error, LineageSource, Query, Store,
    read_csv, read_jsonl,
};

const JSONL: &str = r#"
{"kind":"node","key":"o","type":"table","fqn":"pg.shop.public.orders","columns":["id","amount"]}
{"kind":"node","type":"table","fqn":"dwh.marts.revenue","columns":["total"]}
{"kind":"node","key":"d","type":"dashboard","fqn":"bi.revenue"}
{"kind":"edge","from":"o","to":"dwh.marts.revenue","columns":[{"from":["amount","nope"],"to":"total","function":"sum"}],"source":"QueryLineage","sqlQuery":"select sum(amount) from orders"}
{"kind":"edge","from":"dwh.marts.revenue","to":"d"}
"#;

fn load_str(store: &Store, text: &str) -> Result<headwaters_engine::BulkReport, Error> {
    store.bulk_load(read_jsonl(text.as_bytes()), &mut |_, _| {})
}

#[test]
fn jsonl_loads_nodes_edges_and_column_lineage() {
    let store = Store::in_memory();
    let r = load_str(&store, JSONL).unwrap();
    assert_eq!((r.nodes_created, r.edges, r.column_edges), (3, 2, 1));
    assert_eq!(r.rejected_total, 1);
    assert!(
        r.rejected_columns[0].reason.contains("line 5"),
        "{:?}",
        r.rejected_columns
    );
    assert_eq!(r.rejected_columns[0].column, "nope");
    let view = store.read();
    let orders = view
        .node_by_fqn(EntityType::Table, "pg.shop.public.orders")
        .unwrap()
        .unwrap();
    let revenue = view
        .node_by_fqn(EntityType::Table, "dwh.marts.revenue")
        .unwrap()
        .unwrap();
    let e = view.edge(orders, revenue).unwrap().unwrap();
    assert_eq!(e.source, LineageSource::QueryLineage);
    assert_eq!(
        e.sql_query.as_deref(),
        Some("select sum(amount) from orders")
    );
    assert_eq!(
        e.columns_lineage[0].from_columns,
        ["pg.shop.public.orders.amount"]
    );
    assert_eq!(e.columns_lineage[0].function.as_deref(), Some("sum"));
    let down = view.traverse(orders, &Query::depths(0, 5)).unwrap();
    assert_eq!(down.downstream.visits.len(), 2);
    assert_eq!(view.entity(revenue).unwrap().name, "revenue");
    drop(view);
    store.verify().unwrap();
}

#[test]
fn bad_input_names_the_line_and_writes_nothing() {
    let store = Store::in_memory();
    let cases = [
        (
            "{\"kind\":\"node\",\"type\":\"table\",\"fqn\":\"a\"}\n{\"kind\":\"edge\",\"from\":\"a\",\"to\":\"zz\"}",
            "line 2",
            "zz",
        ),
        (
            "{\"kind\":\"node\",\"type\":\"tabel\",\"fqn\":\"a\"}",
            "line 1",
            "tabel",
        ),
        (
            "{\"kind\":\"node\",\"type\":\"table\",\"fqn\":\"a\"}\nnot json",
            "line 2",
            "",
        ),
        (
            "{\"kind\":\"node\",\"type\":\"table\",\"fqn\":\"a\",\"colums\":[]}",
            "line 1",
            "colums",
        ),
        (
            "{\"kind\":\"node\",\"key\":\"1\",\"type\":\"table\",\"fqn\":\"a\"}\n{\"kind\":\"node\",\"key\":\"2\",\"type\":\"table\",\"fqn\":\"a\"}",
            "lines 1 and 2",
            "appears twice",
        ),
        (
            "{\"kind\":\"node\",\"type\":\"table\",\"fqn\":\"a\",\"columns\":[\"x\",\"x\"]}",
            "line 1",
            "repeated column",
        ),
    ];
    for (text, place, what) in cases {
        let err = load_str(&store, text).unwrap_err();
        assert!(err.is_user_error(), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains(place) && msg.contains(what),
            "{text:?} gave {msg:?}"
        );
    }
    assert_eq!(
        store.read().stats(),
        Default::default(),
        "nothing was written"
    );
    store.verify().unwrap();
}

#[test]
fn csv_pair_loads() {
    let nodes = "key,type,fqn,columns\n1,table,raw.a,x;y\n2,table,stg.b,x\n3,dashboard,bi.c,\n";
    let edges = "from,to,columns\n1,2,x:x;y:x\n2,3,\n";
    let store = Store::in_memory();
    let r = store
        .bulk_load(read_csv(nodes.as_bytes(), edges.as_bytes()), &mut |_, _| {})
        .unwrap();
    assert_eq!((r.nodes_created, r.edges, r.column_edges), (3, 2, 2));
    let bad = store
        .bulk_load(
            read_csv(nodes.as_bytes(), "from,to,columns\n1,2,x-x\n".as_bytes()),
            &mut |_, _| {},
        )
        .unwrap_err();
    assert!(bad.to_string().contains("edges CSV record 2"), "{bad}");
}

#[test]
fn loads_into_an_existing_graph_reusing_entities_and_replacing_edges() {
    let store = Store::in_memory();
    let table = |n: u128, fqn: &str| EntityInput {
        id: uuid::Uuid::from_u128(n),
        entity_type: EntityType::Table,
        fqn: fqn.into(),
        name: fqn.into(),
        columns: vec!["a".into(), "b".into()],
        doc: serde_json::Value::Null,
    };
    let (x, _) = store.upsert_entity(table(1, "x")).unwrap();
    let (y, _) = store.upsert_entity(table(2, "y")).unwrap();
    let mapping = |f: &str, t: &str| ColumnMapping {
        from_columns: vec![f.into()],
        to_column: t.into(),
        function: None,
        transformation: None,
    };
    store
        .put_edge(
            x,
            y,
            EdgeInput {
                columns_lineage: vec![mapping("x.a", "y.a")],
                ..EdgeInput::default()
            },
        )
        .unwrap();
    let text = r#"{"kind":"node","type":"table","fqn":"x","columns":["ignored"]}
{"kind":"node","type":"table","fqn":"y"}
{"kind":"node","type":"table","fqn":"z","columns":["a"]}
{"kind":"edge","from":"x","to":"y","columns":[{"from":["b"],"to":"b"}]}
{"kind":"edge","from":"y","to":"z","columns":[{"from":["a"],"to":"a"}]}"#;
    let r = load_str(&store, text).unwrap();
    assert_eq!((r.nodes_created, r.nodes_existing, r.edges), (1, 2, 2));
    let view = store.read();
    assert_eq!(
        view.entity(x).unwrap().columns.len(),
        2,
        "existing entities are kept as they are"
    );
    let e = view.edge(x, y).unwrap().unwrap();
    assert_eq!(
        e.columns_lineage,
        vec![mapping("x.b", "y.b")],
        "the loaded details replace the old ones"
    );
    let xa = view.column_by_fqn("x.a").unwrap().unwrap();
    let from_xa = view.column_traverse(xa, &Query::depths(0, 5)).unwrap();
    assert!(
        from_xa.downstream.visits.is_empty(),
        "the replaced column edge is gone"
    );
    let xb = view.column_by_fqn("x.b").unwrap().unwrap();
    assert_eq!(
        view.column_traverse(xb, &Query::depths(0, 5))
            .unwrap()
            .downstream
            .visits
            .len(),
        1
    );
    drop(view);
    let stats = store.verify().unwrap();
    assert_eq!((stats.nodes, stats.edges, stats.column_edges), (3, 2, 2));
}

#[test]
fn jsonl_line_numbers_hold_across_parallel_blocks() {
    let n = headwaters_engine::JSONL_BLOCK + 500;
    let mut text = String::new();
    for i in 0..n {
        text += &format!("{{\"kind\":\"node\",\"type\":\"table\",\"fqn\":\"t{i}\"}}\n");
        if i == 10 {
            text.push('\n'); // a blank line counts as a line
        }
    }
    let recs: Vec<_> = read_jsonl(text.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(recs.len(), n);
    assert_eq!(recs[11].0, 13, "line numbers skip the blank line");
    assert_eq!(recs[n - 1].0, n + 1);
    text += "{\"kind\":\"edge\",\"from\":\"t0\"}\n";
    let err = read_jsonl(text.as_bytes()).find_map(Result::err).unwrap();
    assert!(
        err.to_string().contains(&format!("line {}", n + 2)),
        "{err}"
    );
}

#[test]
fn the_last_record_of_a_pair_wins_with_its_column_edges() {
    let store = Store::in_memory();
    let text = r#"{"kind":"node","type":"table","fqn":"x","columns":["a","b"]}
{"kind":"node","type":"table","fqn":"y","columns":["a","b"]}
{"kind":"node","type":"table","fqn":"z","columns":["a"]}
{"kind":"edge","from":"x","to":"y","columns":[{"from":["a"],"to":"a"}],"sqlQuery":"first"}
{"kind":"node","type":"table","fqn":"w","columns":["a"]}
{"kind":"edge","from":"y","to":"z","columns":[{"from":["a"],"to":"a"}]}
{"kind":"edge","from":"z","to":"w","columns":[{"from":["a"],"to":"a"}],"sqlQuery":"details first"}
{"kind":"edge","from":"x","to":"y","columns":[{"from":["b"],"to":"b"}],"sqlQuery":"second"}
{"kind":"edge","from":"x","to":"z"}
{"kind":"edge","from":"z","to":"w"}
{"kind":"edge","from":"x","to":"z","sqlQuery":"plain first, details last"}"#;
    let r = load_str(&store, text).unwrap();
    assert_eq!((r.edges, r.column_edges), (4, 2));
    let view = store.read();
    let node = |fqn: &str| view.node_by_fqn(EntityType::Table, fqn).unwrap().unwrap();
    let (x, y, z) = (node("x"), node("y"), node("z"));
    let e = view.edge(x, y).unwrap().unwrap();
    assert_eq!(e.sql_query.as_deref(), Some("second"));
    assert_eq!(e.columns_lineage.len(), 1);
    assert_eq!(e.columns_lineage[0].from_columns, ["x.b"]);
    let reach = |c: &str| {
        let c = view.column_by_fqn(c).unwrap().unwrap();
        view.column_traverse(c, &Query::depths(0, 5))
            .unwrap()
            .downstream
            .visits
            .len()
    };
    assert_eq!(reach("x.a"), 0, "the first record's column edge is gone");
    assert_eq!(reach("x.b"), 1);
    assert_eq!(reach("y.a"), 1, "other edges' details are theirs");
    assert_eq!(
        view.edge(x, z).unwrap().unwrap().sql_query.as_deref(),
        Some("plain first, details last")
    );
    let w = node("w");
    let e = view.edge(z, w).unwrap().unwrap();
    assert_eq!(
        e.sql_query, None,
        "details first, plain last: the plain record wins"
    );
    assert!(e.columns_lineage.is_empty());
    assert_eq!(reach("z.a"), 0, "and the details' column edge is gone");
    drop(view);
    store.verify().unwrap();
}

#[test]
fn names_and_columns_come_back_as_loaded() {
    let store = Store::in_memory();
    let text = r#"{"kind":"node","type":"table","fqn":"db.s.orders","name":"Orders (raw)","columns":["zeta","alpha","mid"]}
{"kind":"node","type":"table","fqn":"db.s.derived","columns":[]}
{"kind":"node","type":"dashboard","fqn":"bi.d","name":"","columns":["only"]}
{"kind":"edge","from":"db.s.orders","to":"bi.d","columns":[{"from":["mid"],"to":"only"}]}"#;
    load_str(&store, text).unwrap();
    let view = store.read();
    let orders = view
        .node_by_fqn(EntityType::Table, "db.s.orders")
        .unwrap()
        .unwrap();
    let e = view.entity(orders).unwrap();
    assert_eq!(e.name, "Orders (raw)");
    let names: Vec<&str> = e.columns.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(names, ["zeta", "alpha", "mid"], "column order as given");
    assert_eq!(
        view.column_by_fqn("db.s.orders.alpha").unwrap(),
        Some(e.columns[1].1)
    );
    let derived = view
        .node_by_fqn(EntityType::Table, "db.s.derived")
        .unwrap()
        .unwrap();
    assert_eq!(view.entity(derived).unwrap().name, "derived");
    let d = view
        .node_by_fqn(EntityType::Dashboard, "bi.d")
        .unwrap()
        .unwrap();
    let d = view.entity(d).unwrap();
    assert_eq!(d.name, "", "an explicit empty name stays empty");
    let mid = view.column_by_fqn("db.s.orders.mid").unwrap().unwrap();
    let down = view.column_traverse(mid, &Query::depths(0, 1)).unwrap();
    assert_eq!(down.downstream.visits.len(), 1);
    assert_eq!(down.downstream.visits[0].node, d.columns[0].1);
    drop(view);
    store.verify().unwrap();
}

#[test]
fn numeric_keys_are_keys_like_any_other() {
    let store = Store::in_memory();
    let text = r#"{"kind":"node","key":"7","type":"table","fqn":"a.seven"}
{"kind":"node","key":"07","type":"table","fqn":"a.zero_seven"}
{"kind":"node","key":"0","type":"table","fqn":"a.zero"}
{"kind":"node","key":"18446744073709551616","type":"table","fqn":"a.huge"}
{"kind":"node","key":"4000000000","type":"table","fqn":"a.big"}
{"kind":"edge","from":"0","to":"7"}
{"kind":"edge","from":"4000000000","to":"0"}
{"kind":"edge","from":"07","to":"18446744073709551616"}"#;
    let r = load_str(&store, text).unwrap();
    assert_eq!((r.nodes_created, r.edges), (5, 3));
    let view = store.read();
    let node = |fqn: &str| view.node_by_fqn(EntityType::Table, fqn).unwrap().unwrap();
    assert!(
        view.edge(node("a.zero"), node("a.seven"))
            .unwrap()
            .is_some()
    );
    assert!(
        view.edge(node("a.zero_seven"), node("a.huge"))
            .unwrap()
            .is_some()
    );
    assert!(
        view.edge(node("a.seven"), node("a.huge"))
            .unwrap()
            .is_none()
    );
    drop(view);

    let dup = r#"{"kind":"node","key":"12","type":"table","fqn":"b.x"}
{"kind":"node","key":"12","type":"table","fqn":"b.y"}"#;
    let e = load_str(&Store::in_memory(), dup).unwrap_err().to_string();
    assert!(
        e.contains("line 2") && e.contains("\"12\" appears twice"),
        "{e}"
    );
    let unknown = r#"{"kind":"node","key":"1","type":"table","fqn":"c.x"}
{"kind":"edge","from":"1","to":"01"}"#;
    let e = load_str(&Store::in_memory(), unknown)
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 2") && e.contains("\"01\""), "{e}");
}

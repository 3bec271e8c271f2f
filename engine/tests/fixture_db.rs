//! Opens the database checked in under `fixtures/db-v1` (written by the first storage
//! version with `examples/make_fixture_db.rs`): every later build must read it.

use headwaters_engine::{Direction, EntityType, LineageSource, Query, Store};

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn storage_version_1_database_still_opens_and_reads() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/db-v1");
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&src, tmp.path());
    let store = Store::open(tmp.path()).expect("a version-1 database opens");
    let stats = store.verify().expect("consistent");
    assert_eq!(
        (stats.nodes, stats.edges, stats.columns, stats.column_edges),
        (6, 5, 8, 2)
    );

    let view = store.read();
    let revenue = view
        .node_by_fqn(EntityType::Table, "dwh.analytics.marts.revenue")
        .unwrap()
        .unwrap();
    let orders = view
        .node_by_fqn(EntityType::Table, "pg.shop.public.orders")
        .unwrap()
        .unwrap();
    let e = view.entity(revenue).unwrap();
    assert_eq!(e.id, uuid::Uuid::from_u128(3));
    assert_eq!(
        e.columns.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
        ["customer_name", "total"]
    );
    assert_eq!(
        view.document(revenue).unwrap()["description"],
        "fixture dwh.analytics.marts.revenue"
    );

    let edge = view
        .edge(orders, revenue)
        .unwrap()
        .expect("orders -> revenue");
    assert_eq!(edge.source, LineageSource::QueryLineage);
    assert_eq!(edge.pipeline, Some(uuid::Uuid::from_u128(5)));
    assert_eq!(edge.created_at, 1_763_000_000_000);
    assert_eq!(
        edge.columns_lineage[0].from_columns,
        ["pg.shop.public.orders.amount"]
    );
    assert_eq!(
        edge.columns_lineage[0].function.as_deref(),
        Some("sum(o.amount)")
    );

    // The soft-deleted orders_old is hidden unless asked for.
    let up = view.traverse(revenue, &Query::depths(3, 0)).unwrap();
    let names: Vec<String> = view
        .entities(
            &up.upstream
                .visits
                .iter()
                .map(|v| v.node)
                .collect::<Vec<_>>(),
        )
        .unwrap()
        .into_iter()
        .map(|e| e.fqn)
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(!names.iter().any(|n| n.ends_with("orders_old")));
    let with_deleted = view
        .traverse(
            revenue,
            &Query {
                include_deleted: true,
                ..Query::depths(3, 0)
            },
        )
        .unwrap();
    assert_eq!(with_deleted.upstream.visits.len(), 4);
    let down = view.neighbors(revenue, Direction::Downstream).unwrap();
    assert_eq!(
        view.entity(down[0]).unwrap().entity_type,
        EntityType::Dashboard
    );

    let total = view
        .column_by_fqn("dwh.analytics.marts.revenue.total")
        .unwrap()
        .unwrap();
    let cols = view.column_traverse(total, &Query::depths(5, 0)).unwrap();
    assert_eq!(
        view.column_fqn(cols.upstream.visits[0].node).unwrap(),
        "pg.shop.public.orders.amount"
    );
}

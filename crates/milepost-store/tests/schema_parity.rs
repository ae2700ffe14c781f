//! Both engines end with the same schema: after every migration, SQLite and PostgreSQL have the
//! same tables, the same columns with compatible types and nullability, and the same unique
//! constraints and indexes (by table, columns and uniqueness, with the same names for the indexes
//! a migration names). A migration that reaches one engine and not the other fails here.

mod backends;

use std::collections::BTreeSet;

/// A column as both engines can be compared on it: table, name, type family, nullable.
type Column = (String, String, &'static str, bool);
/// An index or unique constraint: table, its name when a migration named it, columns in order,
/// unique.
type Index = (String, Option<String>, Vec<String>, bool);

/// SQLite's declared types and PostgreSQL's data types in the families they store.
fn family(declared: &str) -> &'static str {
    match declared.to_ascii_lowercase().as_str() {
        "integer" | "bigint" => "integer",
        "text" => "text",
        "real" | "double precision" => "real",
        "blob" | "bytea" => "blob",
        other => panic!("a column type neither engine's family is known for: {other}"),
    }
}

fn sqlite_schema() -> (BTreeSet<String>, BTreeSet<Column>, BTreeSet<Index>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parity.db");
    milepost_store::sqlite::SqliteStore::migrate(&path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let tables: BTreeSet<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut columns = BTreeSet::new();
    let mut indexes = BTreeSet::new();
    for table in &tables {
        let mut info = conn.prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1)").unwrap();
        let rows = info
            .query_map([table], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, bool>(2)?, r.get::<_, i64>(3)?))
            })
            .unwrap();
        for row in rows {
            let (name, declared, not_null, pk) = row.unwrap();
            // A primary key column is never NULL on PostgreSQL, whatever SQLite declares.
            columns.insert((table.clone(), name, family(&declared), !not_null && pk == 0));
        }
        let mut list = conn.prepare("SELECT name, \"unique\", origin FROM pragma_index_list(?1)").unwrap();
        let found: Vec<(String, bool, String)> = list
            .query_map([table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for (name, unique, origin) in found {
            let cols: Vec<String> = conn
                .prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")
                .unwrap()
                .query_map([&name], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            // Indexes a migration created keep their names; constraints' names are each engine's own.
            let named = (origin == "c").then_some(name);
            indexes.insert((table.clone(), named, cols, unique));
        }
        // A rowid primary key has no index of its own on SQLite; PostgreSQL indexes it.
        let pk: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk")
            .unwrap()
            .query_map([table], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        if !pk.is_empty() && !indexes.iter().any(|(t, n, c, u)| t == table && n.is_none() && *c == pk && *u) {
            indexes.insert((table.clone(), None, pk, true));
        }
    }
    (tables, columns, indexes)
}

fn postgres_schema(url: &str) -> (BTreeSet<String>, BTreeSet<Column>, BTreeSet<Index>) {
    let schema = milepost_store::postgres::ScratchSchema::create(url, "mp_parity").expect("PostgreSQL reachable");
    milepost_store::postgres::PgStore::migrate(schema.url()).unwrap();
    let url = schema.url().to_string();
    // The synchronous client runs a runtime of its own: it runs on a thread of its own too.
    let found = std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let tables: BTreeSet<String> = client
            .query(
                "SELECT table_name::text FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let columns: BTreeSet<Column> = client
            .query(
                "SELECT table_name::text, column_name::text, data_type::text, is_nullable = 'YES'
                 FROM information_schema.columns WHERE table_schema = current_schema()",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), family(r.get::<_, &str>(2)), r.get(3)))
            .collect();
        let indexes: BTreeSet<Index> = client
            .query(
                "SELECT t.relname::text, i.relname::text, x.indisunique, x.indisprimary,
                        EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid),
                        ARRAY(SELECT a.attname::text FROM unnest(x.indkey) WITH ORDINALITY k(attnum, n)
                              JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n)
                 FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
                 JOIN pg_namespace s ON s.oid = t.relnamespace WHERE s.nspname = current_schema()",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| {
                let (table, name, unique, primary, constraint): (String, String, bool, bool, bool) =
                    (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
                let named = (!primary && !constraint).then_some(name);
                (table, named, r.get::<_, Vec<String>>(5), unique)
            })
            .collect();
        (tables, columns, indexes)
    })
    .join()
    .unwrap();
    drop(schema);
    found
}

#[test]
fn both_engines_have_the_same_tables_columns_unique_constraints_and_indexes() {
    let (tables, columns, indexes) = sqlite_schema();
    assert!(tables.contains("events") && tables.contains("schema_migrations"), "{tables:?}");
    assert!(indexes.iter().any(|(t, n, _, _)| t == "orders" && n.as_deref() == Some("orders_by_account")));
    let Some(url) = backends::postgres_url() else { return };
    let (pg_tables, pg_columns, pg_indexes) = postgres_schema(&url);
    assert_eq!(tables, pg_tables, "tables");
    let only = |a: &BTreeSet<Column>, b: &BTreeSet<Column>| a.difference(b).cloned().collect::<Vec<_>>();
    assert!(
        columns == pg_columns,
        "columns only on SQLite: {:?}\ncolumns only on PostgreSQL: {:?}",
        only(&columns, &pg_columns),
        only(&pg_columns, &columns)
    );
    let only = |a: &BTreeSet<Index>, b: &BTreeSet<Index>| a.difference(b).cloned().collect::<Vec<_>>();
    assert!(
        indexes == pg_indexes,
        "indexes only on SQLite: {:?}\nindexes only on PostgreSQL: {:?}",
        only(&indexes, &pg_indexes),
        only(&pg_indexes, &indexes)
    );
}

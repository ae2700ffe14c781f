//! The backends every store story runs on. Each story is an `async fn(Backend)`; the
//! `on_both_backends!` macro turns it into two tests, `story::on_sqlite` and
//! `story::on_postgres`. The PostgreSQL half runs on a fresh schema of the server named by
//! `MILEPOST_TEST_DATABASE_URL` (dropped afterwards); without it the test says plainly that it
//! did not run, and with `MILEPOST_REQUIRE_POSTGRES=1` (as in CI) it fails instead.

#![allow(dead_code)]

use milepost_store::Store;
use milepost_store::postgres::{PgStore, ScratchSchema};
use milepost_store::sqlite::SqliteStore;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

enum Place {
    Sqlite(tempfile::TempDir),
    Postgres(ScratchSchema),
}

/// A store on a fresh database of one backend, and the place it lives, kept until the test ends.
pub struct TestStore {
    pub store: Arc<dyn Store>,
    place: Place,
}

impl std::ops::Deref for TestStore {
    type Target = dyn Store;
    fn deref(&self) -> &Self::Target {
        self.store.as_ref()
    }
}

/// The PostgreSQL server to test on, or `None` (after saying so) when none is configured.
pub fn postgres_url() -> Option<String> {
    match std::env::var("MILEPOST_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("MILEPOST_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "MILEPOST_REQUIRE_POSTGRES=1 but MILEPOST_TEST_DATABASE_URL is not set"
            );
            // Written past the test harness's output capture, so a passing run still says it.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!("{}\n", "PostgreSQL half NOT RUN: set MILEPOST_TEST_DATABASE_URL=postgres://… to run it")
                    .as_bytes(),
            );
            None
        }
    }
}

impl TestStore {
    /// A fresh store, or `None` when the backend is PostgreSQL and no server is configured.
    pub fn open(backend: Backend) -> Option<TestStore> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let store = SqliteStore::open(dir.path().join("m.db")).unwrap();
                Some(TestStore { store: Arc::new(store), place: Place::Sqlite(dir) })
            }
            Backend::Postgres => {
                let url = postgres_url()?;
                let schema = ScratchSchema::create(&url, "mp_store_test").expect("PostgreSQL reachable");
                let store = PgStore::open(schema.url()).unwrap();
                Some(TestStore { store: Arc::new(store), place: Place::Postgres(schema) })
            }
        }
    }

    /// The same database opened again, as after a restart.
    pub fn reopen(&self) -> Arc<dyn Store> {
        match &self.place {
            Place::Sqlite(dir) => Arc::new(SqliteStore::open(dir.path().join("m.db")).unwrap()),
            Place::Postgres(schema) => Arc::new(PgStore::open(schema.url()).unwrap()),
        }
    }
}

/// Two tests per story: `name::on_sqlite` and `name::on_postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($story:ident),* $(,)?) => {$(
        mod $story {
            #[tokio::test]
            async fn on_sqlite() {
                super::$story($crate::backends::Backend::Sqlite).await
            }
            #[tokio::test]
            async fn on_postgres() {
                if $crate::backends::postgres_url().is_some() {
                    super::$story($crate::backends::Backend::Postgres).await
                }
            }
        }
    )*};
}

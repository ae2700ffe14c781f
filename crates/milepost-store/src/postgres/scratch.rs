//! A throwaway schema: created with a random name, named in the URL it hands out, and dropped
//! with everything in it when it goes out of scope. Tests get a fresh database this way (and
//! tools a sandbox) without creating databases, which needs more rights than creating schemas.

use crate::{StoreError, StoreResult};

/// A fresh schema on a PostgreSQL server, dropped on `Drop`.
pub struct ScratchSchema {
    base_url: String,
    name: String,
    url: String,
}

/// Runs blocking client work on a thread of its own: the synchronous client runs a small
/// runtime, which may neither start nor be dropped inside async code.
fn on_own_thread<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|s| s.spawn(work).join().expect("scratch schema thread"))
}

fn run(base_url: &str, sql: &str) -> StoreResult<()> {
    on_own_thread(|| {
        let mut client = postgres::Client::connect(base_url, postgres::NoTls)
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))?;
        client.batch_execute(sql).map_err(|e| StoreError::Unexpected(e.to_string()))
    })
}

impl ScratchSchema {
    /// Creates a schema named `{prefix}_{random}` on the server of `base_url` (a URL without
    /// `options`).
    pub fn create(base_url: &str, prefix: &str) -> StoreResult<Self> {
        let name = format!("{prefix}_{}", uuid::Uuid::now_v7().simple());
        run(base_url, &format!("CREATE SCHEMA {name}"))?;
        let separator = if base_url.contains('?') { '&' } else { '?' };
        let url = format!("{base_url}{separator}options=-c%20search_path%3D{name}");
        Ok(ScratchSchema { base_url: base_url.to_string(), name, url })
    }

    /// The URL of the server with this schema as the search path.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for ScratchSchema {
    fn drop(&mut self) {
        if let Err(error) = run(&self.base_url, &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name)) {
            tracing::warn!(%error, schema = %self.name, "could not drop a scratch schema");
        }
    }
}

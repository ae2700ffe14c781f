//! `milepost simulate` as the ground truth of the ETA model: a fixed seed, lanes with known
//! transit distributions, the real ingest use cases on a fresh SQLite database, and the figures
//! the issue asks of the model (coverage of the window published at shipment creation, and a
//! median error below the carrier-estimate-only baseline).

use chrono::{TimeZone, Utc};
use milepost_app::{FixedClock, Milepost};
use milepost_store::sqlite::SqliteStore;
use std::sync::Arc;

/// A directory on a RAM disk when the machine has one: the simulation commits thousands of
/// small transactions, and the fsync of each is not what this test is about.
fn scratch_dir() -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().expect("a temporary directory")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_eta_window_covers_most_deliveries_and_beats_the_carrier_estimate() {
    let dir = scratch_dir();
    let store = Arc::new(SqliteStore::open(dir.path().join("simulation.db")).expect("open the store"));
    let clock = Arc::new(FixedClock::at(Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap()));
    let app = Milepost::new(store, clock.clone());

    let report = milepost::simulate::run(&app, &clock, 7, 800).await.expect("the simulation runs");

    // The stream had the mess real streams have.
    assert!(report.duplicates_sent > 0 && report.late_events > 0 && report.missed_scans > 0);
    assert!(report.failed_attempts > 0 && report.return_shipments > 0);
    assert!(report.scored_shipments > 500, "scored {}", report.scored_shipments);
    assert!(report.coverage_at_creation_pct >= 80.0, "coverage {}", report.coverage_at_creation_pct);
    assert!(
        report.model_median_abs_error_hours < report.carrier_median_abs_error_hours,
        "model {} h, carrier {} h",
        report.model_median_abs_error_hours,
        report.carrier_median_abs_error_hours
    );
    // Stable: on average well under two published changes per parcel after the first.
    assert!(report.churn_per_shipment < 2.0, "churn {}", report.churn_per_shipment);

    // Everything went through the store: the simulated orders are there to read.
    let caller = app.operator(&milepost_domain::AccountName::parse("simulation").unwrap()).await.unwrap();
    let order = app.order(&caller, &milepost_domain::OrderNumber::parse("SIM-7-100500").unwrap()).await.unwrap();
    assert!(!order.shipments.is_empty());
}

#[tokio::test]
async fn a_simulation_refuses_an_account_that_already_has_orders() {
    let dir = scratch_dir();
    let store = Arc::new(SqliteStore::open(dir.path().join("simulation.db")).expect("open the store"));
    let clock = Arc::new(FixedClock::at(Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap()));
    let app = Milepost::new(store, clock.clone());
    milepost::simulate::run(&app, &clock, 3, 5).await.expect("a first small run");
    let again = milepost::simulate::run(&app, &clock, 3, 5).await;
    assert!(again.unwrap_err().to_string().contains("fresh database"));
}

//! Webhook signature windows are judged by the injected clock, never the system time: a
//! `Milepost-Signature` is good for five minutes either side of the application's `now`.

use chrono::{TimeZone, Utc};
use milepost_app::ingest::{IntegrationKind, SignatureHeaders};
use milepost_app::{AppError, FixedClock, Milepost};
use milepost_domain::{AccountName, Role};
use milepost_ingest::SenderKind;
use milepost_ingest::signature::sign_milepost;
use milepost_store::sqlite::SqliteStore;
use std::sync::Arc;

const SECRET: &str = "a-shared-secret-of-some-length";

fn body() -> Vec<u8> {
    br#"{"events":[{"tracking_number":"LF-20261102-0042","carrier":"lakeside","milestone":"delivered","occurred_at":"2026-11-02T11:02:00-07:00"}]}"#.to_vec()
}

#[tokio::test]
async fn the_signature_window_is_five_minutes_around_the_injected_clock() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("clock.db")).unwrap());
    let now = Utc.with_ymd_and_hms(2026, 11, 2, 18, 30, 0).unwrap();
    let app = Milepost::new(store, Arc::new(FixedClock::at(now)));
    let admin = app.account_principal(&AccountName::parse("acme").unwrap(), Role::Admin).await.unwrap();
    let id = app.create_integration(&admin, IntegrationKind::Tracking(SenderKind::Generic), SECRET).await.unwrap();
    let signed_at = |t: i64| SignatureHeaders {
        milepost: Some(sign_milepost(SECRET.as_bytes(), t, &body())),
        ..SignatureHeaders::default()
    };

    let inside = app.receive_carrier_webhook(&id, &signed_at(now.timestamp() - 299), &body()).await.unwrap();
    assert_eq!(inside.accepted, 1);

    let outside = app.receive_carrier_webhook(&id, &signed_at(now.timestamp() - 301), &body()).await;
    assert!(matches!(outside, Err(AppError::BadSignature(_))), "{outside:?}");

    let by_the_wall_clock = app.receive_carrier_webhook(&id, &signed_at(Utc::now().timestamp()), &body()).await;
    assert!(matches!(by_the_wall_clock, Err(AppError::BadSignature(_))), "{by_the_wall_clock:?}");
}

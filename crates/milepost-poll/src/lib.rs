//! Carrier pollers: for carriers that only answer queries (UPS, FedEx, USPS, DHL), ask each
//! carrier's tracking API about every active parcel on a schedule that fits its stage
//! (`milepost_domain::polling`), with OAuth client credentials where the carrier uses them, a
//! per-carrier request rate, and a configurable base URL (so tests and sandboxes point it at their
//! own server). Answers go through the same adapter and ingest path as webhooks.

mod client;

pub use client::{CarrierApi, CarrierAuth, PollError};

use chrono::{DateTime, Duration, Utc};
use milepost_app::Milepost;
use milepost_app::records::Principal;
use milepost_domain::Role;
use milepost_domain::polling::next_poll_delay;
use std::sync::Arc;

/// How long to wait before asking again after a failed request.
const RETRY_AFTER_FAILURE: i64 = 60;

/// What one polling round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PollReport {
    pub polled: u32,
    pub accepted: u32,
    pub duplicates: u32,
    pub failures: u32,
}

/// The pollers of every configured carrier.
pub struct Poller {
    app: Milepost,
    carriers: Vec<Arc<client::CarrierClient>>,
}

impl Poller {
    pub fn new(app: Milepost, apis: Vec<CarrierApi>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        let carriers = apis.into_iter().map(|api| Arc::new(client::CarrierClient::new(api, http.clone()))).collect();
        Poller { app, carriers }
    }

    /// Whether any carrier is configured (otherwise there is nothing to run).
    pub fn is_configured(&self) -> bool {
        !self.carriers.is_empty()
    }

    /// One round: for each carrier, ask about up to `limit` parcels that are due, ingest the
    /// answers and schedule each parcel's next poll. Tests drive this step by step.
    pub async fn poll_due(&self, limit: u32) -> Result<PollReport, milepost_app::AppError> {
        let mut report = PollReport::default();
        for carrier in &self.carriers {
            let now = self.app.clock().now();
            let due = self.app.store().due_polls(carrier.carrier(), now, limit).await?;
            for target in due {
                report.polled += 1;
                let next = match carrier.track(&target.tracking_number).await {
                    Ok(Some(body)) => {
                        let caller = Principal {
                            account_id: target.account_id,
                            account_name: target.account_name.clone(),
                            role: Role::Ingest,
                            actor: format!("poller:{}", carrier.carrier()),
                        };
                        match self.app.ingest_sender_payload(&caller, carrier.sender_kind(), &body).await {
                            Ok(counts) => {
                                report.accepted += counts.accepted;
                                report.duplicates += counts.duplicate;
                                self.schedule_after_news(&target, now).await?
                            }
                            Err(error) => {
                                tracing::warn!(carrier = carrier.carrier(), %error, "carrier answer could not be read");
                                report.failures += 1;
                                Some(now + Duration::minutes(RETRY_AFTER_FAILURE))
                            }
                        }
                    }
                    // The carrier does not know the number (yet): ask again on the usual schedule.
                    Ok(None) => next_poll_delay(target.status, target.last_carrier_event_at, target.registered_at, now)
                        .map(|d| now + d),
                    Err(error) => {
                        tracing::warn!(carrier = carrier.carrier(), %error, "carrier poll failed");
                        report.failures += 1;
                        Some(now + Duration::minutes(RETRY_AFTER_FAILURE))
                    }
                };
                self.app.store().set_next_poll(target.shipment_id, next).await?;
            }
        }
        Ok(report)
    }

    /// The next poll after new events: from the parcel's status as the store now has it.
    async fn schedule_after_news(
        &self,
        target: &milepost_app::records::PollTarget,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, milepost_app::AppError> {
        let fresh = self.app.store().poll_target(target.shipment_id).await?;
        let (status, last) =
            fresh.map(|t| (t.status, t.last_carrier_event_at)).unwrap_or((target.status, target.last_carrier_event_at));
        Ok(next_poll_delay(status, last, target.registered_at, now).map(|d| now + d))
    }

    /// Runs rounds every `every` until `stop` turns true.
    pub async fn run(self, every: std::time::Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = stop.changed() => return,
                _ = tick.tick() => match self.poll_due(200).await {
                    Ok(report) if report.polled > 0 => tracing::info!(?report, "polled carriers"),
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "carrier polling round failed"),
                },
            }
        }
    }
}

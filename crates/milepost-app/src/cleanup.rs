//! The reads behind the dashboard's data cleanup page that no other use case needs: parcels that
//! went quiet and facts that senders keep resending. What counts as quiet is a number of days
//! chosen by the person looking, bounded so one request cannot ask for everything.

use crate::{AppResult, Milepost};
use chrono::Duration;
use milepost_store::{DuplicateScans, Principal, StaleShipment};

/// Stale parcels listed at most.
const STALE_LIMIT: u32 = 100;

impl Milepost {
    /// Parcels of the caller's account on their way with no event for `days` days (1 to 365).
    pub async fn stale_shipments(&self, caller: &Principal, days: u32) -> AppResult<Vec<StaleShipment>> {
        let days = i64::from(days.clamp(1, 365));
        let before = self.clock.now() - Duration::days(days);
        Ok(self.store.stale_shipments(caller.account_id, before, STALE_LIMIT).await?)
    }

    /// Resent facts of the caller's account by source and station.
    pub async fn duplicate_scans(&self, caller: &Principal) -> AppResult<Vec<DuplicateScans>> {
        Ok(self.store.duplicate_scans(caller.account_id).await?)
    }
}

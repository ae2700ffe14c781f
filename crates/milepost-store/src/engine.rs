//! The one implementation of `Store`, for every engine. Each method is one transaction of
//! the shared code (`shared/`) run by its engine, which says only how a transaction runs: a
//! write on SQLite's writer thread inside the next group commit, or as one serializable
//! PostgreSQL transaction run again after a lost race; a read in one read snapshot, on the
//! blocking pool or, for SQLite's point reads, at once on the caller's thread.

use crate::db::{Connection, params};
use crate::shared::{
    cleanup, decisions, export, ingest, kpi, outbox, policy, polling, reads, returns, rows, rules, staff,
    storage_error, tracking, writes,
};
use crate::{
    AccountId, ClaimedNotification, CodeOverride, DeliveryOutcome, EventOutcome, ExceptionAction, ExceptionPage,
    ExceptionQuery, ExceptionRecord, IntegrationRecord, LaneRhythmRecord, NewEvent, NewReturn, NewShipment,
    NotificationRecord, NotificationSettings, OrderPage, OrderProof, OrderQuery, OrderRecord, OrderView, PollTarget,
    Principal, Reference, Renormalized, ReturnMove, ReturnOfOrder, ReturnRecord, ShipmentRecord, StaffUpsert,
    StaffUserRecord, Store, StoreResult, SweepReport, UnmappedCode, UpsertOutcome,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use milepost_domain::exceptions::RuleSettings;
use milepost_domain::notify::NotificationPolicy;
use milepost_domain::{AccountName, Branding, Order, OrderNumber, Role, SourceOfTruth};
use std::sync::Arc;

/// What a store's transactions follow besides the database, shared by every call.
#[derive(Default)]
pub struct Settings {
    /// Which source is the truth for which milestone.
    pub truth: Arc<SourceOfTruth>,
    /// The exception rules' settings.
    pub rules: Arc<RuleSettings>,
    /// The built-in notification policy (an account's own document overrides it).
    pub policy: Arc<NotificationPolicy>,
}

/// How one engine runs a transaction; everything else about a store call is shared.
#[async_trait]
pub trait Engine: Send + Sync + 'static {
    fn settings(&self) -> &Settings;

    /// Runs `work` as one write transaction and returns its result once the commit is durable.
    /// `work` may run more than once (a lost race on PostgreSQL); only the last run commits.
    async fn write<R, F>(&self, work: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: Fn(&Connection<'_>) -> StoreResult<R> + Send + 'static;

    /// Runs `work` in one read snapshot.
    async fn read<R, F>(&self, work: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection<'_>, &SourceOfTruth) -> StoreResult<R> + Send + 'static;

    /// A point read (one order, one key, one row by its index): where the engine can, at once
    /// on the caller's thread; otherwise as `read`.
    async fn read_now<R, F>(&self, work: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection<'_>, &SourceOfTruth) -> StoreResult<R> + Send + 'static;
}

#[async_trait]
impl<E: Engine> Store for E {
    async fn ensure_account(&self, name: &AccountName) -> StoreResult<AccountId> {
        let name = name.clone();
        self.write(move |conn| writes::ensure_account(conn, &name)).await
    }

    async fn insert_api_key(
        &self,
        account: AccountId,
        role: Role,
        key_hash: &str,
        key_prefix: &str,
    ) -> StoreResult<()> {
        let (hash, prefix) = (key_hash.to_string(), key_prefix.to_string());
        self.write(move |conn| writes::insert_api_key(conn, account, role, &hash, &prefix)).await
    }

    async fn principal_for_key(&self, key_hash: &str) -> StoreResult<Option<Principal>> {
        let hash = key_hash.to_string();
        self.read_now(move |conn, _| reads::principal_for_key(conn, &hash)).await
    }

    async fn upsert_order(&self, account: AccountId, order: Order) -> StoreResult<UpsertOutcome> {
        let truth = self.settings().truth.clone();
        self.write(move |conn| writes::upsert_order(conn, &truth, account, &order)).await
    }

    async fn add_shipment(
        &self,
        account: AccountId,
        order_number: &OrderNumber,
        shipment: NewShipment,
    ) -> StoreResult<ShipmentRecord> {
        let (truth, policy) = (self.settings().truth.clone(), self.settings().policy.clone());
        let order_number = order_number.clone();
        self.write(move |conn| writes::add_shipment(conn, &truth, &policy, account, &order_number, &shipment.shipment))
            .await
    }

    async fn append_events(&self, account: AccountId, events: Vec<NewEvent>) -> StoreResult<Vec<EventOutcome>> {
        let (truth, rules, policy) =
            (self.settings().truth.clone(), self.settings().rules.clone(), self.settings().policy.clone());
        self.write(move |conn| writes::append_events(conn, &truth, &rules, &policy, account, &events)).await
    }

    async fn order(&self, account: AccountId, order_number: &OrderNumber) -> StoreResult<Option<OrderRecord>> {
        let order_number = order_number.clone();
        self.read_now(move |conn, truth| reads::order(conn, truth, account, &order_number)).await
    }

    async fn order_view(&self, account: AccountId, order_number: &OrderNumber) -> StoreResult<Option<OrderView>> {
        let order_number = order_number.clone();
        self.read_now(move |conn, truth| {
            let Some(record) = reads::order(conn, truth, account, &order_number)? else { return Ok(None) };
            let notifications = outbox::of_order(conn, account, order_number.as_str())?;
            let claims = returns::claims_of_order(conn, account, &order_number)?;
            Ok(Some(OrderView { record, notifications, claims }))
        })
        .await
    }

    async fn search_orders(&self, account: AccountId, query: OrderQuery) -> StoreResult<OrderPage> {
        self.read(move |conn, _| reads::search_orders(conn, account, &query)).await
    }

    async fn health(&self) -> StoreResult<()> {
        self.read(|conn, _| conn.query_row("SELECT 1", params![], |_| Ok(())).map_err(storage_error)).await
    }

    async fn sweep_due(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<SweepReport> {
        let (truth, rules, policy) =
            (self.settings().truth.clone(), self.settings().rules.clone(), self.settings().policy.clone());
        self.write(move |conn| rules::sweep_due(conn, &truth, &rules, &policy, now, limit)).await
    }

    async fn mark_all_due(&self) -> StoreResult<u64> {
        self.write(|conn| {
            rows::exec(conn, "UPDATE shipments SET next_check_us = 0", params![])
                .map(|n| n as u64)
                .map_err(storage_error)
        })
        .await
    }

    async fn learn_lane_rhythm(&self, now: DateTime<Utc>, days: i64) -> StoreResult<u32> {
        // The history is read outside the writers; only the replacement of the rhythms writes.
        let gaps = self.read(move |conn, truth| rules::lane_gaps(conn, truth, now, days)).await?;
        self.write(move |conn| rules::save_lane_rhythms(conn, &gaps, now)).await
    }

    async fn lane_rhythms(&self, account: AccountId) -> StoreResult<Vec<LaneRhythmRecord>> {
        self.read(move |conn, _| rules::lane_rhythms(conn, account)).await
    }

    async fn exceptions(&self, account: AccountId, query: ExceptionQuery) -> StoreResult<ExceptionPage> {
        self.read(move |conn, _| rules::exceptions(conn, account, &query)).await
    }

    async fn act_on_exception(
        &self,
        account: AccountId,
        id: i64,
        action: ExceptionAction,
        actor: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<ExceptionRecord> {
        let actor = actor.to_string();
        self.write(move |conn| rules::act_on_exception(conn, account, id, &action, &actor, now)).await
    }

    async fn kpi_facts(
        &self,
        account: AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<milepost_domain::kpi::OrderKpiFacts>> {
        self.read(move |conn, _| kpi::kpi_facts(conn, account, from, to)).await
    }

    async fn insert_integration(&self, account: AccountId, id: &str, kind: &str, secret: &str) -> StoreResult<()> {
        let (id, kind, secret) = (id.to_string(), kind.to_string(), secret.to_string());
        self.write(move |conn| ingest::insert_integration(conn, account, &id, &kind, &secret)).await
    }

    async fn integration(&self, id: &str) -> StoreResult<Option<IntegrationRecord>> {
        let id = id.to_string();
        self.read(move |conn, _| ingest::integration(conn, &id)).await
    }

    async fn unmapped_codes(&self, account: AccountId) -> StoreResult<Vec<UnmappedCode>> {
        self.read(move |conn, _| ingest::unmapped_codes(conn, account)).await
    }

    async fn code_overrides(&self, account: AccountId) -> StoreResult<Vec<CodeOverride>> {
        self.read(move |conn, _| ingest::code_overrides(conn, account)).await
    }

    async fn set_code_override(&self, account: AccountId, mapping: CodeOverride) -> StoreResult<Renormalized> {
        let truth = self.settings().truth.clone();
        self.write(move |conn| ingest::set_code_override(conn, &truth, account, &mapping)).await
    }

    async fn resolve_references(&self, account: AccountId, keys: Vec<String>) -> StoreResult<Vec<Option<Reference>>> {
        self.read(move |conn, _| ingest::resolve_references(conn, account, &keys)).await
    }

    async fn import_orders(
        &self,
        account: AccountId,
        orders: Vec<Order>,
        events: Vec<NewEvent>,
    ) -> StoreResult<Vec<UpsertOutcome>> {
        let (truth, rules, policy) =
            (self.settings().truth.clone(), self.settings().rules.clone(), self.settings().policy.clone());
        self.write(move |conn| ingest::import_orders(conn, &truth, &rules, &policy, account, &orders, &events)).await
    }

    async fn link_channel_order(
        &self,
        account: AccountId,
        channel: &str,
        external_id: &str,
        order_number: &OrderNumber,
    ) -> StoreResult<()> {
        let (channel, external_id, order_number) = (channel.to_string(), external_id.to_string(), order_number.clone());
        self.write(move |conn| ingest::link_channel_order(conn, account, &channel, &external_id, &order_number)).await
    }

    async fn channel_order(
        &self,
        account: AccountId,
        channel: &str,
        external_id: &str,
    ) -> StoreResult<Option<OrderNumber>> {
        let (channel, external_id) = (channel.to_string(), external_id.to_string());
        self.read(move |conn, _| ingest::channel_order(conn, account, &channel, &external_id)).await
    }

    async fn account_by_name(&self, name: &AccountName) -> StoreResult<Option<AccountId>> {
        let name = name.clone();
        self.read_now(move |conn, _| tracking::account_by_name(conn, &name)).await
    }

    async fn sole_account(&self) -> StoreResult<Option<AccountId>> {
        self.read_now(|conn, _| tracking::sole_account(conn)).await
    }

    async fn branding(&self, account: AccountId) -> StoreResult<Branding> {
        self.read_now(move |conn, _| tracking::branding(conn, account)).await
    }

    async fn put_branding(&self, account: AccountId, branding: Branding) -> StoreResult<()> {
        self.write(move |conn| tracking::put_branding(conn, account, &branding)).await
    }

    async fn server_secret(&self, name: &str, candidate: &str) -> StoreResult<String> {
        let (name, candidate) = (name.to_string(), candidate.to_string());
        self.write(move |conn| tracking::server_secret(conn, &name, &candidate)).await
    }

    async fn create_return(
        &self,
        account: AccountId,
        order_number: &OrderNumber,
        request: NewReturn,
    ) -> StoreResult<ReturnRecord> {
        let truth = self.settings().truth.clone();
        let order_number = order_number.clone();
        self.write(move |conn| tracking::create_return(conn, &truth, account, &order_number, &request)).await
    }

    async fn return_policy(&self, account: AccountId) -> StoreResult<milepost_domain::ReturnPolicy> {
        self.read(move |conn, _| returns::return_policy(conn, account)).await
    }

    async fn put_return_policy(
        &self,
        account: AccountId,
        policy: milepost_domain::ReturnPolicy,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.write(move |conn| returns::put_return_policy(conn, account, &policy, now)).await
    }

    async fn return_by_id(&self, account: AccountId, id: i64) -> StoreResult<Option<ReturnOfOrder>> {
        self.read(move |conn, _| returns::return_by_id(conn, account, id)).await
    }

    async fn decide_returned_parcel(
        &self,
        account: AccountId,
        decision: crate::ParcelDecision,
    ) -> StoreResult<Option<ShipmentRecord>> {
        let (truth, rules, policy) =
            (self.settings().truth.clone(), self.settings().rules.clone(), self.settings().policy.clone());
        self.write(move |conn| decisions::decide_returned_parcel(conn, &truth, &rules, &policy, account, &decision))
            .await
    }

    async fn move_return(&self, account: AccountId, step: ReturnMove) -> StoreResult<ReturnOfOrder> {
        let (truth, policy) = (self.settings().truth.clone(), self.settings().policy.clone());
        self.write(move |conn| returns::move_return(conn, &truth, &policy, account, &step)).await
    }

    async fn record_inspection(
        &self,
        account: AccountId,
        step: ReturnMove,
        items: Vec<milepost_domain::InspectedItem>,
    ) -> StoreResult<ReturnOfOrder> {
        let (truth, policy) = (self.settings().truth.clone(), self.settings().policy.clone());
        self.write(move |conn| returns::record_inspection(conn, &truth, &policy, account, &step, &items)).await
    }

    async fn return_kpi_facts(
        &self,
        account: AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<milepost_domain::returns::OrderReturnFacts>> {
        self.read(move |conn, _| returns::return_kpi_facts(conn, account, from, to)).await
    }

    async fn open_claim(&self, account: AccountId, claim: crate::NewClaim) -> StoreResult<crate::ClaimRecord> {
        self.write(move |conn| returns::open_claim(conn, account, &claim)).await
    }

    async fn claim_by_id(&self, account: AccountId, id: i64) -> StoreResult<Option<crate::ClaimRecord>> {
        self.read(move |conn, _| returns::claim_by_id(conn, account, id)).await
    }

    async fn move_claim(
        &self,
        account: AccountId,
        id: i64,
        from: milepost_domain::claims::ClaimState,
        to: milepost_domain::claims::ClaimState,
        at: DateTime<Utc>,
    ) -> StoreResult<crate::ClaimRecord> {
        self.write(move |conn| returns::move_claim(conn, account, id, from, to, at)).await
    }

    async fn claims_of_order(
        &self,
        account: AccountId,
        order_number: &OrderNumber,
    ) -> StoreResult<Vec<crate::ClaimRecord>> {
        let order_number = order_number.clone();
        self.read(move |conn, _| returns::claims_of_order(conn, account, &order_number)).await
    }

    async fn returns_queue(
        &self,
        account: AccountId,
        state: Option<milepost_domain::ReturnState>,
        limit: u32,
    ) -> StoreResult<Vec<ReturnOfOrder>> {
        self.read(move |conn, _| returns::returns_queue(conn, account, state, limit)).await
    }

    async fn order_proof(&self, account: AccountId, order_number: &OrderNumber) -> StoreResult<Option<OrderProof>> {
        let order_number = order_number.clone();
        self.read_now(move |conn, _| tracking::order_proof(conn, account, &order_number)).await
    }

    async fn due_polls(&self, carrier: &str, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<PollTarget>> {
        let carrier = carrier.to_string();
        self.read(move |conn, _| polling::due_polls(conn, &carrier, now, limit)).await
    }

    async fn poll_target(&self, shipment_id: i64) -> StoreResult<Option<PollTarget>> {
        self.read(move |conn, _| polling::poll_target(conn, shipment_id)).await
    }

    async fn set_next_poll(&self, shipment_id: i64, at: Option<DateTime<Utc>>) -> StoreResult<()> {
        self.write(move |conn| polling::set_next_poll(conn, shipment_id, at)).await
    }

    async fn claim_notifications(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedNotification>> {
        self.write(move |conn| outbox::claim(conn, now, lease, limit)).await
    }

    async fn finish_notification(
        &self,
        id: i64,
        claim: &str,
        outcome: DeliveryOutcome,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let claim = claim.to_string();
        self.write(move |conn| outbox::finish(conn, id, &claim, &outcome, now)).await
    }

    async fn order_notifications(
        &self,
        account: AccountId,
        order_number: &OrderNumber,
    ) -> StoreResult<Vec<NotificationRecord>> {
        let order_number = order_number.as_str().to_string();
        self.read(move |conn, _| outbox::of_order(conn, account, &order_number)).await
    }

    async fn dead_notifications(&self, account: AccountId, limit: u32) -> StoreResult<Vec<NotificationRecord>> {
        self.read(move |conn, _| outbox::dead(conn, account, limit)).await
    }

    async fn resend_notification(
        &self,
        account: AccountId,
        id: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<NotificationRecord> {
        self.write(move |conn| outbox::resend(conn, account, id, now)).await
    }

    async fn notification_settings(&self, account: AccountId) -> StoreResult<NotificationSettings> {
        self.read(move |conn, _| outbox::settings(conn, account)).await
    }

    async fn set_notification_settings(
        &self,
        account: AccountId,
        settings: NotificationSettings,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.write(move |conn| outbox::set_settings(conn, account, &settings, now)).await
    }

    async fn notification_policy(&self, account: AccountId) -> StoreResult<Option<String>> {
        self.read(move |conn, _| policy::document(conn, account)).await
    }

    async fn set_notification_policy(
        &self,
        account: AccountId,
        document: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.write(move |conn| policy::set_document(conn, account, document.as_deref(), now)).await
    }
    async fn upsert_staff_user(
        &self,
        account: AccountId,
        email: &str,
        role: Role,
        password_hash: &str,
    ) -> StoreResult<StaffUpsert> {
        let (email, hash) = (email.to_string(), password_hash.to_string());
        self.write(move |conn| staff::upsert_staff_user(conn, account, &email, role, &hash)).await
    }

    async fn staff_user_by_email(&self, email: &str) -> StoreResult<Option<StaffUserRecord>> {
        let email = email.to_string();
        self.read(move |conn, _| staff::staff_user_by_email(conn, &email)).await
    }

    async fn create_staff_session(
        &self,
        id_hash: &str,
        staff_id: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let id_hash = id_hash.to_string();
        self.write(move |conn| staff::create_staff_session(conn, &id_hash, staff_id, now, expires_at)).await
    }

    async fn staff_session(&self, id_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<StaffUserRecord>> {
        let id_hash = id_hash.to_string();
        self.read(move |conn, _| staff::staff_session(conn, &id_hash, now)).await
    }

    async fn delete_staff_session(&self, id_hash: &str) -> StoreResult<()> {
        let id_hash = id_hash.to_string();
        self.write(move |conn| staff::delete_staff_session(conn, &id_hash)).await
    }
    async fn stale_shipments(
        &self,
        account: AccountId,
        stale_before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<crate::StaleShipment>> {
        self.read(move |conn, _| cleanup::stale_shipments(conn, account, stale_before, limit)).await
    }

    async fn duplicate_scans(&self, account: AccountId) -> StoreResult<Vec<crate::DuplicateScans>> {
        self.read(move |conn, _| cleanup::duplicate_scans(conn, account)).await
    }

    async fn export_account(&self, account: AccountId) -> StoreResult<crate::export::AccountExport> {
        self.read(move |conn, _| export::export_account(conn, account)).await
    }

    async fn import_account(
        &self,
        name: &AccountName,
        history: crate::export::AccountExport,
    ) -> StoreResult<AccountId> {
        let name = name.clone();
        self.write(move |conn| {
            let account = writes::ensure_account(conn, &name)?;
            export::import_account(conn, account, &name, &history)
        })
        .await
    }
}

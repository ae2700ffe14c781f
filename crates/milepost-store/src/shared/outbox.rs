//! The notification outbox, for both engines. The `on_*` hooks run inside the write
//! transaction that records a change (an event batch, a rule sweep), ask the domain policy what
//! the change means for customers and staff, and insert one row per message and channel under
//! its dedupe key, so a message exists exactly when its cause was committed and never twice.
//! The rest serves the delivery worker: claim due rows with a lease, record each result (sent,
//! retry at a time, dead, suppressed), and the reads and resend of the API.

use super::rows::{exec, from_micros, parse_utc, row};
use super::storage_error;
use crate::db::{Connection, OptionalExtension, params};
use crate::{
    AccountId, ClaimedNotification, DeliveryOutcome, NotificationRecord, NotificationSettings, StoreError, StoreResult,
    Subject,
};
use chrono::{DateTime, Duration, Utc};
use milepost_domain::Milestone;
use milepost_domain::exceptions::ExceptionKind;
use milepost_domain::notify::{
    Audience, Notice, NotificationPolicy, NotifyChannel, OrderClass, OrderFacts, ParcelView, classify, customer_notice,
    customer_notice_for_exception, dedupe_key, order_notice, scoped_subject,
};
use milepost_domain::{Money, shipment::shipment_status_name};

/// The parcel facts the policy compares before and after a change, as stored.
pub fn parcel_view(conn: &Connection, shipment_id: i64) -> StoreResult<ParcelView> {
    let (status, possession): (String, Option<i64>) =
        row(conn, "SELECT status, first_possession_us FROM shipments WHERE id = ?1", [shipment_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(storage_error)?;
    Ok(ParcelView {
        status: Milestone::ALL.into_iter().find(|m| shipment_status_name(Some(*m)) == status),
        had_carrier_possession: possession.is_some(),
    })
}

/// What every row about one order needs: who, where, and which class.
pub(super) struct OrderContext {
    pub(super) account_id: i64,
    pub(super) order_number: String,
    customer_email: Option<String>,
    customer_phone: Option<String>,
    ship_to_country: Option<String>,
    class: OrderClass,
    settings: NotificationSettings,
    /// The account's own policy (or the built-in one), read in the transaction of the change.
    policy: NotificationPolicy,
}

/// The order's context under its account's policy; `fallback` is the policy of accounts that
/// have not written their own.
pub(super) fn order_context(
    conn: &Connection,
    fallback: &NotificationPolicy,
    order_id: i64,
    service: Option<&str>,
) -> StoreResult<OrderContext> {
    type OrderRow = (i64, String, i64, Option<String>, Option<String>, Option<String>);
    let (account_id, order_number, value, email, phone, country): OrderRow = row(
        conn,
        "SELECT account_id, order_number, value_e4, customer_email, customer_phone, ship_to_country
         FROM orders WHERE id = ?1",
        [order_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
    )
    .map_err(storage_error)?;
    let policy = super::policy::account_policy(conn, AccountId(account_id), fallback)?;
    let units: i64 = row(
        conn,
        "SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM order_items WHERE order_id = ?1",
        [order_id],
        |r| r.get(0),
    )
    .map_err(storage_error)?;
    let facts = OrderFacts {
        value: Money::from_ten_thousandths(value),
        units: units.clamp(0, u32::MAX as i64) as u32,
        service,
    };
    Ok(OrderContext {
        account_id,
        order_number,
        customer_email: email.filter(|e| !e.trim().is_empty()),
        customer_phone: phone.filter(|p| !p.trim().is_empty()),
        ship_to_country: country,
        class: classify(&facts, &policy.classes),
        settings: settings(conn, AccountId(account_id))?,
        policy,
    })
}

#[allow(clippy::too_many_arguments)]
fn enqueue(
    conn: &Connection,
    context: &OrderContext,
    order_id: i64,
    shipments: &[&str],
    audience: Audience,
    channel: NotifyChannel,
    subject: Subject,
    team: Option<&str>,
    now: DateTime<Utc>,
    due: DateTime<Utc>,
    key_scope: Option<&str>,
) -> StoreResult<()> {
    let (milestone, kind, name) = match subject {
        Subject::Notice(n) => (Some(n.as_str()), None, n.as_str()),
        Subject::Exception(k) => (None, Some(k.as_str()), k.as_str()),
    };
    let key = dedupe_key(&context.order_number, shipments, &scoped_subject(name, key_scope), audience, channel);
    let due = match audience {
        Audience::Customer => context.policy.customer_release_at(due, context.ship_to_country.as_deref()),
        Audience::Internal => due,
    };
    let mut set: Vec<&str> = shipments.to_vec();
    set.sort_unstable();
    exec(
        conn,
        "INSERT INTO notifications (account_id, order_id, shipments, audience, channel, milestone, kind, order_class,
            team, dedupe_key, state, attempts, next_attempt_us, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'pending', 0, ?11, ?12)
         ON CONFLICT(account_id, dedupe_key) DO NOTHING",
        params![
            context.account_id,
            order_id,
            set.join(" "),
            audience.as_str(),
            channel.as_str(),
            milestone,
            kind,
            context.class.as_str(),
            team,
            key,
            due.timestamp_micros(),
            now.to_rfc3339()
        ],
    )
    .map_err(storage_error)?;
    Ok(())
}

/// Queues a customer notice on every channel the order can take, and the merchant's webhook.
pub(super) fn queue_notice(
    conn: &Connection,
    context: &OrderContext,
    order_id: i64,
    shipments: &[&str],
    notice: Notice,
    now: DateTime<Utc>,
    key_scope: Option<&str>,
) -> StoreResult<()> {
    let subject = Subject::Notice(notice);
    let reachable = [
        (Audience::Customer, NotifyChannel::Email, context.customer_email.is_some()),
        (Audience::Customer, NotifyChannel::Sms, context.customer_phone.is_some()),
        (Audience::Internal, NotifyChannel::Webhook, context.settings.webhook_url.is_some()),
    ];
    for (audience, channel, _) in reachable.into_iter().filter(|(_, _, reachable)| *reachable) {
        enqueue(conn, context, order_id, shipments, audience, channel, subject, None, now, now, key_scope)?;
    }
    Ok(())
}

fn shipment_facts(conn: &Connection, shipment_id: i64) -> StoreResult<(i64, String, Option<String>)> {
    row(conn, "SELECT order_id, tracking_number, service FROM shipments WHERE id = ?1", [shipment_id], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
    .map_err(storage_error)
}

/// An exception just opened on a shipment: alert the team (staff e-mail and the merchant's
/// webhook). This runs inside the rule evaluation, before any customer notice of the same
/// change is queued, and rows are claimed in id order, so the alert goes first.
pub fn on_exception_opened(
    conn: &Connection,
    policy: &NotificationPolicy,
    shipment_id: i64,
    kind: ExceptionKind,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let (order_id, tracking, service) = shipment_facts(conn, shipment_id)?;
    let context = order_context(conn, policy, order_id, service.as_deref())?;
    let shipments = [tracking.as_str()];
    let route = context.policy.alert_route(kind);
    let (subject, team) = (Subject::Exception(kind), Some(route.team.as_str()));
    for channel in route.channels {
        let configured = match channel {
            NotifyChannel::Email => context.settings.alert_email.is_some(),
            NotifyChannel::Chat => context.settings.chat_webhook_url.is_some(),
            NotifyChannel::Webhook => context.settings.webhook_url.is_some(),
            NotifyChannel::Sms => false,
        };
        if configured {
            enqueue(conn, &context, order_id, &shipments, Audience::Internal, channel, subject, team, now, now, None)?;
        }
    }
    Ok(())
}

/// A parcel's status moved from `before` to what is stored now: queue the customer notice the
/// policy picks for the change, if any.
pub fn on_parcel_change(
    conn: &Connection,
    policy: &NotificationPolicy,
    shipment_id: i64,
    before: ParcelView,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let after = parcel_view(conn, shipment_id)?;
    if before == after {
        return Ok(());
    }
    let (order_id, tracking, service) = shipment_facts(conn, shipment_id)?;
    let direction: String = row(conn, "SELECT direction FROM shipments WHERE id = ?1", [shipment_id], |r| r.get(0))
        .map_err(storage_error)?;
    if direction != "outbound" {
        return Ok(());
    }
    let context = order_context(conn, policy, order_id, service.as_deref())?;
    if let Some(notice) = customer_notice(&context.policy, context.class, before, after) {
        queue_parcel_notice(conn, &context, order_id, shipment_id, &tracking, notice, now)?;
    }
    Ok(())
}

/// After the rules ran for a parcel (on ingest or on a sweep): the open exceptions the
/// customer should hear about (a promise that will not be kept) become notices, queued after
/// the parcel's own notice of the same change and once per cause (the dedupe key). A parcel
/// that has already arrived is not announced as late.
pub fn after_rules(
    conn: &Connection,
    policy: &NotificationPolicy,
    shipment_id: i64,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let view = parcel_view(conn, shipment_id)?;
    if view.status.is_some_and(Milestone::is_terminal) {
        return Ok(());
    }
    let kinds: Vec<String> = {
        // Made distinct here: `DISTINCT` built a temporary b-tree on every touched parcel.
        let mut stmt = conn
            .prepare_cached("SELECT kind FROM exceptions WHERE shipment_id = ?1 AND state <> 'resolved'")
            .map_err(storage_error)?;
        let rows = stmt.query_map([shipment_id], |r| r.get(0)).map_err(storage_error)?;
        let mut kinds: Vec<String> = rows.collect::<Result<_, _>>().map_err(storage_error)?;
        kinds.sort_unstable();
        kinds.dedup();
        kinds
    };
    let mut context = None;
    for kind in kinds.iter().filter_map(|k| ExceptionKind::parse(k)) {
        let (order_id, tracking, service) = shipment_facts(conn, shipment_id)?;
        if context.is_none() {
            context = Some(order_context(conn, policy, order_id, service.as_deref())?);
        }
        let context = context.as_ref().expect("set above");
        if let Some(notice) = customer_notice_for_exception(&context.policy, context.class, kind) {
            queue_notice(conn, context, order_id, &[tracking.as_str()], notice, now, None)?;
        }
    }
    Ok(())
}

/// The audiences and channels a notice goes to for this order.
fn notice_targets(context: &OrderContext) -> Vec<(Audience, NotifyChannel)> {
    let mut targets = Vec::with_capacity(3);
    if context.customer_email.is_some() {
        targets.push((Audience::Customer, NotifyChannel::Email));
    }
    if context.customer_phone.is_some() {
        targets.push((Audience::Customer, NotifyChannel::Sms));
    }
    if context.settings.webhook_url.is_some() {
        targets.push((Audience::Internal, NotifyChannel::Webhook));
    }
    targets
}

/// Queues a parcel's notice, merging split shipments (DESIGN §5): a parcel already named in a
/// message about this notice is not named again; a message still waiting (never tried, not
/// claimed) takes the parcel into its set; and while another parcel of the order has not yet
/// reached this notice, the message waits up to the merge window for it. The last parcel to
/// arrive releases it at once.
#[allow(clippy::too_many_arguments)]
fn queue_parcel_notice(
    conn: &Connection,
    context: &OrderContext,
    order_id: i64,
    shipment_id: i64,
    tracking: &str,
    notice: Notice,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let position = conn.position_fn();
    let still_coming: bool = row(
        conn,
        &format!(
            "SELECT EXISTS(SELECT 1 FROM shipments s WHERE s.order_id = ?1 AND s.id <> ?2 AND s.direction = 'outbound'
            AND s.status NOT IN ('delivered', 'returned_to_sender', 'cancelled')
            AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.order_id = s.order_id AND n.milestone = ?3
                AND {position}(' ' || n.shipments || ' ', ' ' || s.tracking_number || ' ') > 0))"
        ),
        params![order_id, shipment_id, notice.as_str()],
        |r| r.get(0),
    )
    .map_err(storage_error)?;
    let subject = Subject::Notice(notice);
    for (audience, channel) in notice_targets(context) {
        let filter = "order_id = ?1 AND milestone = ?2 AND audience = ?3 AND channel = ?4";
        let args = params![order_id, notice.as_str(), audience.as_str(), channel.as_str(), tracking];
        let covered: bool = row(
            conn,
            &format!(
                "SELECT EXISTS(SELECT 1 FROM notifications WHERE {filter}
                    AND {position}(' ' || shipments || ' ', ' ' || ?5 || ' ') > 0)"
            ),
            args,
            |r| r.get(0),
        )
        .map_err(storage_error)?;
        if covered {
            continue;
        }
        let open: Option<(i64, String)> = row(
            conn,
            &format!(
                "SELECT id, shipments FROM notifications WHERE {filter} AND ?5 = ?5 AND state = 'pending'
                    AND attempts = 0 AND claim IS NULL ORDER BY id DESC LIMIT 1"
            ),
            args,
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(storage_error)?;
        match open {
            Some((id, shipments)) => {
                let mut set: Vec<&str> = shipments.split_whitespace().collect();
                set.push(tracking);
                set.sort_unstable();
                let key = dedupe_key(&context.order_number, &set, notice.as_str(), audience, channel);
                let released = context.policy.customer_release_at(now, context.ship_to_country.as_deref());
                let due = match audience {
                    _ if still_coming => None,
                    Audience::Customer => Some(released.timestamp_micros()),
                    Audience::Internal => Some(now.timestamp_micros()),
                };
                let least = conn.least_fn();
                exec(
                    conn,
                    &format!(
                        "UPDATE notifications SET shipments = ?2, dedupe_key = ?3,
                        next_attempt_us = {least}(next_attempt_us, COALESCE(?4, next_attempt_us))
                     WHERE id = ?1"
                    ),
                    params![id, set.join(" "), key, due],
                )
                .map_err(storage_error)?;
            }
            None => {
                let due = if still_coming { now + context.policy.merge_window } else { now };
                enqueue(conn, context, order_id, &[tracking], audience, channel, subject, None, now, due, None)?;
            }
        }
    }
    Ok(())
}

/// The order's own events were touched: if they now say the channel confirmed it and no parcel
/// has reached the carrier yet, queue the confirmation (once: its dedupe key has no parcels). A
/// confirmation that arrives after the parcel shipped says nothing new.
pub fn on_order_change(
    conn: &Connection,
    policy: &NotificationPolicy,
    order_id: i64,
    own_status: Option<Milestone>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let shipped: bool = row(
        conn,
        "SELECT EXISTS(SELECT 1 FROM shipments WHERE order_id = ?1 AND first_possession_us IS NOT NULL)",
        [order_id],
        |r| r.get(0),
    )
    .map_err(storage_error)?;
    if shipped {
        return Ok(());
    }
    let context = order_context(conn, policy, order_id, None)?;
    if let Some(notice) = order_notice(&context.policy, context.class, None, own_status) {
        queue_notice(conn, &context, order_id, &[], notice, now, None)?;
    }
    Ok(())
}

pub fn settings(conn: &Connection, account: AccountId) -> StoreResult<NotificationSettings> {
    Ok(row(
        conn,
        "SELECT webhook_url, webhook_secret, alert_email, chat_webhook_url FROM notification_settings
         WHERE account_id = ?1",
        [account.0],
        |r| {
            Ok(NotificationSettings {
                webhook_url: r.get(0)?,
                webhook_secret: r.get(1)?,
                alert_email: r.get(2)?,
                chat_webhook_url: r.get(3)?,
            })
        },
    )
    .optional()
    .map_err(storage_error)?
    .unwrap_or_default())
}

pub fn set_settings(
    conn: &Connection,
    account: AccountId,
    settings: &NotificationSettings,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    exec(
        conn,
        "INSERT INTO notification_settings (account_id, webhook_url, webhook_secret, alert_email, chat_webhook_url,
            updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(account_id) DO UPDATE SET webhook_url = ?2, webhook_secret = ?3, alert_email = ?4,
            chat_webhook_url = ?5, updated_at = ?6",
        params![
            account.0,
            settings.webhook_url,
            settings.webhook_secret,
            settings.alert_email,
            settings.chat_webhook_url,
            now.to_rfc3339()
        ],
    )
    .map_err(storage_error)?;
    Ok(())
}

/// Claims up to `limit` due rows, oldest first, for `lease`: each gets a fresh claim token and
/// one more attempt. A row whose lease ran out (its worker died) is due again. A customer
/// message waits while a staff alert queued before it about the same order is still pending, so
/// the team hears first even when the customer's channel is up and the staff's mail is not.
pub fn claim(
    conn: &Connection,
    now: DateTime<Utc>,
    lease: Duration,
    limit: u32,
) -> StoreResult<Vec<ClaimedNotification>> {
    let now_us = now.timestamp_micros();
    let ids: Vec<i64> = {
        let mut stmt = conn
            // `INDEXED BY` the due index on SQLite: to give `ORDER BY n.id LIMIT` in order, it
            // chose to walk the whole table by id, every message ever sent included, on every
            // poll. The due index holds only pending messages; the few due are sorted. On
            // PostgreSQL the rows are locked with `SKIP LOCKED`, so other workers take others.
            .prepare_cached(&format!(
                "SELECT n.id FROM notifications n {indexed}
                 WHERE n.state = 'pending' AND n.next_attempt_us <= ?1
                   AND (n.claimed_until_us IS NULL OR n.claimed_until_us <= ?1)
                   AND NOT (n.audience = 'customer' AND EXISTS (SELECT 1 FROM notifications a
                        WHERE a.order_id = n.order_id AND a.id < n.id AND a.audience = 'internal'
                          AND a.channel = 'email' AND a.state = 'pending'))
                 ORDER BY n.id LIMIT ?2 {locked}",
                indexed = conn.indexed_by("notifications_due"),
                locked = conn.skip_locked("n"),
            ))
            .map_err(storage_error)?;
        let rows = stmt.query_map(params![now_us, limit], |r| r.get(0)).map_err(storage_error)?;
        rows.collect::<Result<_, _>>().map_err(storage_error)?
    };
    let until = (now + lease).timestamp_micros();
    let mut claimed = Vec::with_capacity(ids.len());
    for id in ids {
        let token = uuid::Uuid::now_v7().to_string();
        exec(
            conn,
            "UPDATE notifications SET claimed_until_us = ?2, claim = ?3, attempts = attempts + 1 WHERE id = ?1",
            params![id, until, token],
        )
        .map_err(storage_error)?;
        claimed.push(claimed_row(conn, id)?);
    }
    Ok(claimed)
}

fn claimed_row(conn: &Connection, id: i64) -> StoreResult<ClaimedNotification> {
    let bad = |what: &str, value: &str| StoreError::Unexpected(format!("bad stored notification {what} {value:?}"));
    let position = conn.position_fn();
    let r = row(
        conn,
        &format!(
            "SELECT n.claim, n.attempts, a.name, o.order_number, n.order_class, n.shipments, n.audience, n.channel,
                n.milestone, n.kind, n.team, n.dedupe_key, o.customer_name, o.customer_email, o.customer_phone,
                o.customer_postal_code, n.created_at, n.account_id, n.detail,
                (SELECT s.carrier FROM shipments s WHERE s.order_id = n.order_id
                    AND {position}(' ' || n.shipments || ' ', ' ' || s.tracking_number || ' ') > 0 LIMIT 1)
         FROM notifications n JOIN orders o ON o.id = n.order_id JOIN accounts a ON a.id = n.account_id
         WHERE n.id = ?1"
        ),
        [id],
        |r| {
            Ok((
                (r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?),
                (r.get::<_, String>(4)?, r.get::<_, String>(5)?, r.get::<_, String>(6)?, r.get::<_, String>(7)?),
                (r.get::<_, Option<String>>(8)?, r.get::<_, Option<String>>(9)?, r.get::<_, Option<String>>(10)?),
                (r.get::<_, String>(11)?, r.get::<_, Option<String>>(12)?, r.get::<_, Option<String>>(13)?),
                (r.get::<_, Option<String>>(14)?, r.get::<_, Option<String>>(15)?, r.get::<_, String>(16)?),
                (r.get::<_, i64>(17)?, r.get::<_, Option<String>>(19)?, r.get::<_, Option<String>>(18)?),
            ))
        },
    )
    .map_err(storage_error)?;
    let ((claim, attempts, account_name, order_number), (class, shipments, audience, channel)) = (r.0, r.1);
    let (milestone, kind, team) = r.2;
    let (dedupe_key, customer_name, customer_email) = r.3;
    let (customer_phone, customer_postal_code, created_at) = r.4;
    let (account_id, carrier, detail) = r.5;
    let subject = match (milestone, kind) {
        (Some(m), _) => Subject::Notice(Notice::parse(&m).ok_or_else(|| bad("milestone", &m))?),
        (None, Some(k)) => Subject::Exception(ExceptionKind::parse(&k).ok_or_else(|| bad("kind", &k))?),
        (None, None) => return Err(bad("subject", "")),
    };
    Ok(ClaimedNotification {
        id,
        claim,
        attempts: attempts.max(0) as u32,
        account_name,
        order_number,
        order_class: OrderClass::parse(&class).ok_or_else(|| bad("class", &class))?,
        shipments: shipments.split_whitespace().map(str::to_string).collect(),
        carrier,
        audience: Audience::parse(&audience).ok_or_else(|| bad("audience", &audience))?,
        channel: NotifyChannel::parse(&channel).ok_or_else(|| bad("channel", &channel))?,
        subject,
        team,
        dedupe_key,
        customer_name,
        customer_email,
        customer_phone,
        customer_postal_code,
        settings: settings(conn, AccountId(account_id))?,
        created_at: parse_utc(&created_at)?,
        detail,
    })
}

/// Records how a claimed attempt ended, if the claim still holds. Returns false when it does
/// not (the lease ran out and the row was claimed again, or it was already finished).
pub fn finish(
    conn: &Connection,
    id: i64,
    claim: &str,
    outcome: &DeliveryOutcome,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let now_text = now.to_rfc3339();
    let changed = match outcome {
        DeliveryOutcome::Sent => exec(
            conn,
            "UPDATE notifications SET state = 'sent', sent_at = ?3, claim = NULL, claimed_until_us = NULL
             WHERE id = ?1 AND claim = ?2 AND state = 'pending'",
            params![id, claim, now_text],
        ),
        DeliveryOutcome::Retry { at, error } => exec(
            conn,
            "UPDATE notifications SET next_attempt_us = ?3, last_error = ?4, claim = NULL, claimed_until_us = NULL
             WHERE id = ?1 AND claim = ?2 AND state = 'pending'",
            params![id, claim, at.timestamp_micros(), error],
        ),
        DeliveryOutcome::Dead { error } => exec(
            conn,
            "UPDATE notifications SET state = 'failed', last_error = ?3, claim = NULL, claimed_until_us = NULL
             WHERE id = ?1 AND claim = ?2 AND state = 'pending'",
            params![id, claim, error],
        ),
        DeliveryOutcome::Suppressed { reason } => exec(
            conn,
            "UPDATE notifications SET state = 'suppressed', last_error = ?3, claim = NULL, claimed_until_us = NULL
             WHERE id = ?1 AND claim = ?2 AND state = 'pending'",
            params![id, claim, reason],
        ),
    }
    .map_err(storage_error)?;
    Ok(changed == 1)
}

const RECORD_SELECT: &str = "SELECT n.id, o.order_number, n.shipments, n.audience, n.channel, n.milestone, n.kind,
        n.team, n.state, n.attempts, n.dedupe_key, n.created_at, n.sent_at, n.next_attempt_us, n.last_error
     FROM notifications n JOIN orders o ON o.id = n.order_id WHERE ";

fn records(conn: &Connection, filter: &str, params: impl crate::db::Params) -> StoreResult<Vec<NotificationRecord>> {
    let mut stmt = conn.prepare_cached(&format!("{RECORD_SELECT}{filter}")).map_err(storage_error)?;
    let rows = stmt
        .query_map(params, |r| {
            let shipments: String = r.get(2)?;
            let state: String = r.get(8)?;
            let next: i64 = r.get(13)?;
            Ok(NotificationRecord {
                id: r.get(0)?,
                order_number: r.get(1)?,
                shipments: shipments.split_whitespace().map(str::to_string).collect(),
                audience: r.get(3)?,
                channel: r.get(4)?,
                milestone: r.get(5)?,
                kind: r.get(6)?,
                team: r.get(7)?,
                next_attempt_at: (state == "pending").then(|| from_micros(next)),
                state,
                attempts: r.get::<_, i64>(9)?.max(0) as u32,
                dedupe_key: r.get(10)?,
                created_at: r.get(11)?,
                sent_at: r.get(12)?,
                last_error: r.get(14)?,
            })
        })
        .map_err(storage_error)?;
    rows.collect::<Result<_, _>>().map_err(storage_error)
}

pub fn of_order(conn: &Connection, account: AccountId, order_number: &str) -> StoreResult<Vec<NotificationRecord>> {
    // Find the order first, then its notifications by the order index: matching on the
    // order number through the join would walk the account's whole outbox.
    records(
        conn,
        "n.order_id = (SELECT id FROM orders WHERE account_id = ?1 AND order_number = ?2) AND n.account_id = ?1
         ORDER BY n.id",
        params![account.0, order_number],
    )
}

pub fn dead(conn: &Connection, account: AccountId, limit: u32) -> StoreResult<Vec<NotificationRecord>> {
    records(conn, "n.account_id = ?1 AND n.state = 'failed' ORDER BY n.id DESC LIMIT ?2", params![account.0, limit])
}

/// Puts a dead-lettered (or suppressed) notification back in the queue with fresh attempts.
pub fn resend(conn: &Connection, account: AccountId, id: i64, now: DateTime<Utc>) -> StoreResult<NotificationRecord> {
    let state: Option<String> =
        row(conn, "SELECT state FROM notifications WHERE id = ?1 AND account_id = ?2", params![id, account.0], |r| {
            r.get(0)
        })
        .optional()
        .map_err(storage_error)?;
    match state.as_deref() {
        None => return Err(StoreError::NotFound(format!("notification {id}"))),
        Some("failed") | Some("suppressed") => {}
        Some(other) => {
            return Err(StoreError::Conflict(format!(
                "the notification is {other}; only failed or suppressed ones can be resent"
            )));
        }
    }
    exec(
        conn,
        "UPDATE notifications SET state = 'pending', attempts = 0, next_attempt_us = ?2, claim = NULL,
            claimed_until_us = NULL
         WHERE id = ?1",
        params![id, now.timestamp_micros()],
    )
    .map_err(storage_error)?;
    records(conn, "n.id = ?1", params![id])?.pop().ok_or_else(|| StoreError::NotFound(format!("notification {id}")))
}

/// Queues a customer notice about the order's `shipments` under the account's policy (a staff
/// decision's message, outside the parcel hooks).
pub fn queue_customer_notice(
    conn: &Connection,
    policy: &NotificationPolicy,
    order_id: i64,
    shipments: &[&str],
    notice: Notice,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let context = order_context(conn, policy, order_id, None)?;
    queue_notice(conn, &context, order_id, shipments, notice, now, None)
}

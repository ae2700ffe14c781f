//! Exception rules against the stored record: evaluates `milepost_domain::exceptions` for one
//! shipment, opens an exception once per cause (the unique `cause_key`), closes open ones whose
//! cause has cleared, and stores when the shipment is next due so the sweeper reads an index of
//! due shipments instead of scanning them all. Also the exception queue, staff actions on it,
//! and learning each lane's rhythm from delivered history.

use super::outbox;
use super::rows::{exec, parse_time, row};
use super::storage_error;
use crate::db::{Connection, OptionalExtension, Params, params, params_from_iter};
use crate::{
    AccountId, ExceptionAction, ExceptionPage, ExceptionQuery, ExceptionRecord, LaneRhythmRecord, StoreError,
    StoreResult, SweepReport,
};
use chrono::{DateTime, Duration, Utc};
use milepost_domain::exceptions::{
    ExceptionState, RuleSettings, ShipmentFacts, StaffAction, StageRhythm, evaluate_shipment, lane_key, learn_rhythm,
    stage_gaps,
};
use milepost_domain::notify::NotificationPolicy;
use milepost_domain::timeline::{ProjectionScope, TimelineProjection, project_timeline};
use milepost_domain::{Direction, Milestone, SourceOfTruth, TrackingEvent};
use std::collections::{HashMap, HashSet};

const EXCEPTION_SELECT: &str = "SELECT e.id, e.kind, e.severity, e.state, o.order_number, s.tracking_number, s.carrier,
        e.detail, e.opened_at, e.due_at, e.closed_at, e.owner, e.note, e.acknowledged_by, e.acknowledged_at,
        e.assigned_by, e.resolved_by
     FROM exceptions e JOIN orders o ON o.id = e.order_id LEFT JOIN shipments s ON s.id = e.shipment_id WHERE ";

/// Exceptions matching `filter` (an SQL condition over `e`, `o`, `s`, with its parameters).
pub fn exception_rows(conn: &Connection, filter: &str, params: impl Params) -> StoreResult<Vec<ExceptionRecord>> {
    let mut stmt = conn.prepare_cached(&format!("{EXCEPTION_SELECT}{filter}")).map_err(storage_error)?;
    let rows = stmt
        .query_map(params, |r| {
            Ok(ExceptionRecord {
                id: r.get(0)?,
                kind: r.get(1)?,
                severity: r.get(2)?,
                state: r.get(3)?,
                order_number: r.get(4)?,
                tracking_number: r.get(5)?,
                carrier: r.get(6)?,
                detail: r.get(7)?,
                opened_at: r.get(8)?,
                due_at: r.get(9)?,
                closed_at: r.get(10)?,
                owner: r.get(11)?,
                note: r.get(12)?,
                acknowledged_by: r.get(13)?,
                acknowledged_at: r.get(14)?,
                assigned_by: r.get(15)?,
                resolved_by: r.get(16)?,
            })
        })
        .map_err(storage_error)?;
    rows.collect::<Result<_, _>>().map_err(storage_error)
}

/// The stored facts of one shipment the rules need beyond its events.
struct ShipmentRow {
    account_id: i64,
    order_id: i64,
    tracking_number: String,
    direction: String,
    created_at: String,
    lane: String,
    promised_by: Option<String>,
    ship_to_postal_code: Option<String>,
}

fn shipment_row(conn: &Connection, shipment_id: i64) -> StoreResult<ShipmentRow> {
    row(
        conn,
        "SELECT s.account_id, s.order_id, s.tracking_number, s.direction, s.created_at, s.carrier, s.service,
                s.origin_country, s.origin_postal_code, o.ship_to_country, o.ship_to_postal_code, o.promised_by
         FROM shipments s JOIN orders o ON o.id = s.order_id WHERE s.id = ?1",
        [shipment_id],
        |r| {
            let (carrier, service): (Option<String>, Option<String>) = (r.get(5)?, r.get(6)?);
            let (oc, op, dc, dp): (Option<String>, Option<String>, Option<String>, Option<String>) =
                (r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?);
            Ok(ShipmentRow {
                account_id: r.get(0)?,
                order_id: r.get(1)?,
                tracking_number: r.get(2)?,
                direction: r.get(3)?,
                created_at: r.get(4)?,
                lane: lane_key(
                    carrier.as_deref(),
                    service.as_deref(),
                    (oc.as_deref(), op.as_deref()),
                    (dc.as_deref(), dp.as_deref()),
                ),
                promised_by: r.get(11)?,
                ship_to_postal_code: dp,
            })
        },
    )
    .map_err(storage_error)
}

fn lane_rhythm(conn: &Connection, account_id: i64, lane: &str) -> StoreResult<HashMap<String, StageRhythm>> {
    let mut stmt = conn
        .prepare_cached("SELECT stage, median_s, p90_s, samples FROM lane_rhythm WHERE account_id = ?1 AND lane = ?2")
        .map_err(storage_error)?;
    let rows = stmt
        .query_map(params![account_id, lane], |r| {
            Ok((
                r.get::<_, String>(0)?,
                StageRhythm {
                    median: Duration::seconds(r.get(1)?),
                    p90: Duration::seconds(r.get(2)?),
                    samples: r.get(3)?,
                },
            ))
        })
        .map_err(storage_error)?;
    rows.collect::<Result<_, _>>().map_err(storage_error)
}

/// Evaluates the rules for one shipment whose projection the caller has just computed, and
/// brings its exceptions and next check up to date. Returns (opened, closed).
pub fn evaluate(
    conn: &Connection,
    settings: &RuleSettings,
    policy: &NotificationPolicy,
    shipment_id: i64,
    projection: &TimelineProjection,
    now: DateTime<Utc>,
) -> StoreResult<(u32, u32)> {
    let row = shipment_row(conn, shipment_id)?;
    let rhythm = lane_rhythm(conn, row.account_id, &row.lane)?;
    let facts = ShipmentFacts {
        tracking_number: &row.tracking_number,
        direction: if row.direction == "return" { Direction::Return } else { Direction::Outbound },
        registered_at: parse_time(&row.created_at)?.with_timezone(&Utc),
        timeline: &projection.entries,
        status: projection.status,
        promised_by: row.promised_by.as_deref().map(parse_time).transpose()?.map(|t| t.with_timezone(&Utc)),
        ship_to_postal_code: row.ship_to_postal_code.as_deref(),
    };
    let evaluation = evaluate_shipment(&facts, &|m: Milestone| rhythm.get(m.as_str()).copied(), settings, now);

    let now_text = now.to_rfc3339();
    let mut opened = 0;
    let mut current = HashSet::new();
    for cause in &evaluation.causes {
        current.insert(cause.cause_key.clone());
        let inserted = exec(
            conn,
            "INSERT INTO exceptions (account_id, order_id, shipment_id, kind, cause_key, severity, state, opened_at,
                    due_at, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'open', ?7, ?8, ?9)
                 ON CONFLICT(account_id, cause_key) DO NOTHING",
            params![
                row.account_id,
                row.order_id,
                shipment_id,
                cause.kind.as_str(),
                cause.cause_key,
                cause.severity.as_str(),
                now_text,
                (now + cause.kind.time_to_act()).to_rfc3339(),
                cause.detail
            ],
        )
        .map_err(storage_error)? as u32;
        if inserted > 0 {
            // The team hears first: the alert is queued before any customer notice of this change.
            outbox::on_exception_opened(conn, policy, shipment_id, cause.kind, now)?;
        }
        opened += inserted;
    }
    let open: Vec<(i64, String)> = {
        let mut stmt = conn
            .prepare_cached("SELECT id, cause_key FROM exceptions WHERE shipment_id = ?1 AND state <> 'resolved'")
            .map_err(storage_error)?;
        let rows = stmt.query_map([shipment_id], |r| Ok((r.get(0)?, r.get(1)?))).map_err(storage_error)?;
        rows.collect::<Result<_, _>>().map_err(storage_error)?
    };
    let mut closed = 0;
    for (id, key) in open {
        if !current.contains(&key) {
            closed += exec(
                conn,
                "UPDATE exceptions SET state = 'resolved', closed_at = ?2, resolved_by = 'system',
                        note = COALESCE(note, 'closed by itself: the cause cleared')
                     WHERE id = ?1",
                params![id, now_text],
            )
            .map_err(storage_error)? as u32;
        }
    }
    exec(
        conn,
        "UPDATE shipments SET next_check_us = ?2 WHERE id = ?1",
        params![shipment_id, evaluation.next_check_at.map(|t| t.timestamp_micros())],
    )
    .map_err(storage_error)?;
    Ok((opened, closed))
}

pub fn load_projection(conn: &Connection, truth: &SourceOfTruth, shipment_id: i64) -> StoreResult<TimelineProjection> {
    let events: Vec<TrackingEvent> =
        super::writes::shipment_events(conn, shipment_id)?.into_iter().map(|e| e.0).collect();
    Ok(project_timeline(&events, truth, ProjectionScope::Shipment))
}

/// Evaluates up to `limit` shipments that are due at `now`, oldest due first.
pub fn sweep_due(
    conn: &Connection,
    truth: &SourceOfTruth,
    settings: &RuleSettings,
    policy: &NotificationPolicy,
    now: DateTime<Utc>,
    limit: u32,
) -> StoreResult<SweepReport> {
    let due: Vec<i64> = {
        let mut stmt = conn
            // Locked with `SKIP LOCKED` on PostgreSQL, so sweepers in other processes take
            // other shipments; a sweeper that dies releases its locks with its transaction.
            .prepare_cached(&format!(
                "SELECT id FROM shipments WHERE next_check_us IS NOT NULL AND next_check_us <= ?1
                 ORDER BY next_check_us LIMIT ?2 {}",
                conn.skip_locked("shipments")
            ))
            .map_err(storage_error)?;
        let rows = stmt.query_map(params![now.timestamp_micros(), limit], |r| r.get(0)).map_err(storage_error)?;
        rows.collect::<Result<_, _>>().map_err(storage_error)?
    };
    let mut report = SweepReport::default();
    for id in due {
        let projection = load_projection(conn, truth, id)?;
        let (opened, closed) = evaluate(conn, settings, policy, id, &projection, now)?;
        if opened > 0 {
            outbox::after_rules(conn, policy, id, now)?;
        }
        // A window that ran out without a delivery is replaced now (the parcel was made due for it).
        crate::shared::eta::on_parcel_change(conn, id, &projection, now)?;
        report.evaluated += 1;
        report.opened += opened;
        report.closed += closed;
    }
    Ok(report)
}

/// Each lane stage's gaps (seconds) per account, lane and stage.
pub type LaneGaps = HashMap<(i64, String, String), Vec<i64>>;

/// Gathers each lane's stage gaps from the shipments delivered in the last `days` days. It reads
/// only, so it runs on a read connection and ingest does not wait for it.
pub fn lane_gaps(conn: &Connection, truth: &SourceOfTruth, now: DateTime<Utc>, days: i64) -> StoreResult<LaneGaps> {
    let since = (now - Duration::days(days)).timestamp_micros();
    let delivered: Vec<(i64, i64)> = {
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, account_id FROM shipments
                 WHERE status = 'delivered' AND direction = 'outbound' AND status_since_us >= ?1",
            )
            .map_err(storage_error)?;
        let rows = stmt.query_map([since], |r| Ok((r.get(0)?, r.get(1)?))).map_err(storage_error)?;
        rows.collect::<Result<_, _>>().map_err(storage_error)?
    };
    let mut gaps = LaneGaps::new();
    for (id, account_id) in delivered {
        let lane = shipment_row(conn, id)?.lane;
        let projection = load_projection(conn, truth, id)?;
        for (stage, gap) in stage_gaps(&projection.entries) {
            gaps.entry((account_id, lane.clone(), stage.as_str().to_string())).or_default().push(gap);
        }
    }
    Ok(gaps)
}

/// Replaces the learned lane rhythms with those of `gaps`; answers how many were learned.
pub fn save_lane_rhythms(conn: &Connection, gaps: &LaneGaps, now: DateTime<Utc>) -> StoreResult<u32> {
    exec(conn, "DELETE FROM lane_rhythm", params![]).map_err(storage_error)?;
    let now_text = now.to_rfc3339();
    let mut learned = 0;
    for ((account_id, lane, stage), samples) in gaps {
        if let Some(r) = learn_rhythm(samples.clone()) {
            exec(
                conn,
                "INSERT INTO lane_rhythm (account_id, lane, stage, median_s, p90_s, samples, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![account_id, lane, stage, r.median.num_seconds(), r.p90.num_seconds(), r.samples, now_text],
            )
            .map_err(storage_error)?;
            learned += 1;
        }
    }
    Ok(learned)
}

pub fn lane_rhythms(conn: &Connection, account: AccountId) -> StoreResult<Vec<LaneRhythmRecord>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT lane, stage, median_s, p90_s, samples FROM lane_rhythm WHERE account_id = ?1 ORDER BY lane, stage",
        )
        .map_err(storage_error)?;
    let rows = stmt
        .query_map([account.0], |r| {
            Ok(LaneRhythmRecord {
                lane: r.get(0)?,
                stage: r.get(1)?,
                median_seconds: r.get(2)?,
                p90_seconds: r.get(3)?,
                samples: r.get(4)?,
            })
        })
        .map_err(storage_error)?;
    rows.collect::<Result<_, _>>().map_err(storage_error)
}

pub fn exceptions(conn: &Connection, account: AccountId, query: &ExceptionQuery) -> StoreResult<ExceptionPage> {
    let limit = query.limit.clamp(1, 200);
    let mut filter = String::from("e.account_id = ?1");
    let mut values: Vec<crate::sql::Value> = vec![account.0.into()];
    // Each clause's `?` becomes the number of its parameter, as PostgreSQL needs them numbered.
    let mut add = |clause: &str, value: crate::sql::Value| {
        values.push(value);
        filter.push_str(&clause.replace('?', &format!("?{}", values.len())));
    };
    if let Some(state) = query.state {
        add(" AND e.state = ?", state.as_str().to_string().into());
    }
    if let Some(kind) = query.kind {
        add(" AND e.kind = ?", kind.as_str().to_string().into());
    }
    if let Some(n) = &query.order_number {
        add(" AND o.order_number = ?", n.as_str().to_string().into());
    }
    if let Some(owner) = &query.owner {
        add(" AND e.owner = ?", owner.clone().into());
    }
    if let Some(carrier) = &query.carrier {
        add(" AND s.carrier = ?", carrier.to_ascii_lowercase().into());
    }
    if let Some(before) = query.opened_before {
        add(" AND e.opened_at <= ?", before.to_rfc3339().into());
    }
    if let Some(cursor) = query.cursor {
        add(" AND e.id < ?", cursor.into());
    }
    values.push(i64::from(limit + 1).into());
    filter.push_str(&format!(" ORDER BY e.id DESC LIMIT ?{}", values.len()));
    let mut rows = exception_rows(conn, &filter, params_from_iter(values))?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.id)
    } else {
        None
    };
    Ok(ExceptionPage { exceptions: rows, next_cursor })
}

pub fn act_on_exception(
    conn: &Connection,
    account: AccountId,
    id: i64,
    action: &ExceptionAction,
    actor: &str,
    now: DateTime<Utc>,
) -> StoreResult<ExceptionRecord> {
    let state: Option<String> =
        row(conn, "SELECT state FROM exceptions WHERE id = ?1 AND account_id = ?2", params![id, account.0], |r| {
            r.get(0)
        })
        .optional()
        .map_err(storage_error)?;
    let state = state.ok_or_else(|| StoreError::NotFound(format!("exception {id}")))?;
    let state = ExceptionState::parse(&state).ok_or_else(|| StoreError::Unexpected(format!("bad state {state}")))?;
    let staff_action = match action {
        ExceptionAction::Acknowledge => StaffAction::Acknowledge,
        ExceptionAction::Assign { .. } => StaffAction::Assign,
        ExceptionAction::Resolve { .. } => StaffAction::Resolve,
    };
    let next = state.after(staff_action).ok_or_else(|| {
        StoreError::Conflict(
            format!("the exception is {}; it cannot be {:?}d", state.as_str(), staff_action).to_lowercase(),
        )
    })?;
    let (now, next) = (now.to_rfc3339(), next.as_str());
    match action {
        ExceptionAction::Acknowledge => exec(
            conn,
            "UPDATE exceptions SET state = ?2, acknowledged_by = ?3, acknowledged_at = ?4 WHERE id = ?1",
            params![id, next, actor, now],
        ),
        ExceptionAction::Assign { owner } => exec(
            conn,
            "UPDATE exceptions SET state = ?2, assigned_by = ?3, owner = ?4 WHERE id = ?1",
            params![id, next, actor, owner],
        ),
        ExceptionAction::Resolve { note } => exec(
            conn,
            "UPDATE exceptions SET state = ?2, resolved_by = ?3, closed_at = ?4, note = ?5 WHERE id = ?1",
            params![id, next, actor, now, note],
        ),
    }
    .map_err(storage_error)?;
    exception_rows(conn, "e.id = ?1", params![id])?.pop().ok_or_else(|| StoreError::NotFound(format!("exception {id}")))
}

/// Marks shipments as due now (after a change the time-based rules depend on).
pub fn mark_due(conn: &Connection, filter: &str, id: i64) -> StoreResult<()> {
    exec(conn, &format!("UPDATE shipments SET next_check_us = 0 WHERE {filter} = ?1"), [id]).map_err(storage_error)?;
    Ok(())
}

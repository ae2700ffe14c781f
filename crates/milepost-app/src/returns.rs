//! Returns (RMA) use cases: a return request from the customer's tracking page or from staff over
//! the API goes through the same eligibility rules (the account's policy at the clock's time, then
//! the store's quantity rule in the write transaction); a state change is checked against the
//! domain's state machine with the state just read and stored only if nobody moved it meanwhile.
//! An outbound parcel that came back to the sender gets staff's decision (reship, refund, cancel),
//! checked and carried out by the store in one transaction.

use crate::{AppError, AppResult, Milepost};
use chrono::{DateTime, Utc};
use milepost_domain::return_to_sender::SenderDecision;
use milepost_domain::returns::check_inspection;
use milepost_domain::{
    Direction, InspectedItem, InvalidTransition, Milestone, OrderNumber, ReturnItem, ReturnPolicy, ReturnState,
    Shipment,
};
use milepost_store::{
    AccountId, NewReturn, OrderRecord, ParcelDecision, Principal, ReturnMove, ReturnOfOrder, ReturnRecord,
    ShipmentRecord,
};

/// Who asks for a return; recorded on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnRequester {
    Customer,
    Staff,
}

impl ReturnRequester {
    fn as_str(self) -> &'static str {
        match self {
            ReturnRequester::Customer => "customer",
            ReturnRequester::Staff => "staff",
        }
    }
}

/// Why a state change was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReturnMoveError {
    #[error(transparent)]
    Invalid(InvalidTransition),
    #[error(transparent)]
    Other(#[from] AppError),
}

/// The latest delivery of the order's outbound parcels (the start of the return window).
pub fn delivered_at(order: &OrderRecord) -> Option<DateTime<Utc>> {
    order
        .shipments
        .iter()
        .filter(|s| s.shipment.direction == Direction::Outbound)
        .flat_map(|s| s.timeline.iter())
        .filter(|entry| !entry.advisory && entry.event.milestone == Some(Milestone::Delivered))
        .map(|entry| entry.event.occurred_at.with_timezone(&Utc))
        .max()
}

impl Milepost {
    /// Checks a request against the account's rules and stores it in state `requested`.
    pub async fn request_return(
        &self,
        account: AccountId,
        order_number: &OrderNumber,
        items: Vec<ReturnItem>,
        note: Option<String>,
        requester: ReturnRequester,
    ) -> AppResult<ReturnRecord> {
        let order = self
            .store
            .order(account, order_number)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("order {order_number}")))?;
        let policy = self.store.return_policy(account).await?;
        let now = self.clock.now();
        policy
            .check(&items, delivered_at(&order), now)
            .map_err(|refused| AppError::Invalid { field: refused.field, message: refused.message })?;
        let request = NewReturn { items, note, source: requester.as_str().into(), requested_at: now };
        Ok(self.store.create_return(account, order_number, request).await?)
    }

    /// A return of the caller's account with its order number.
    pub async fn return_of(&self, caller: &Principal, id: i64) -> AppResult<ReturnOfOrder> {
        self.store.return_by_id(caller.account_id, id).await?.ok_or_else(|| AppError::NotFound(format!("return {id}")))
    }

    /// Moves a return to `to` if the state machine allows it from where it stands now. A move to
    /// `replacement_released` sends the replacement parcel (`replacement`: outbound, its tracking
    /// number required, carrying the return's items) on the same order in the same transaction;
    /// no other move takes a parcel.
    pub async fn move_return(
        &self,
        caller: &Principal,
        id: i64,
        to: ReturnState,
        note: Option<String>,
        mut replacement: Option<Shipment>,
    ) -> Result<ReturnOfOrder, ReturnMoveError> {
        let current = self.return_of(caller, id).await?;
        let from = current.record.state;
        from.transition(to).map_err(ReturnMoveError::Invalid)?;
        match (to, &mut replacement) {
            (ReturnState::ReplacementReleased, None) => {
                return Err(AppError::Invalid {
                    field: "shipment".into(),
                    message: "a replacement is a parcel: give its tracking_number (and carrier, service)".into(),
                }
                .into());
            }
            (ReturnState::ReplacementReleased, Some(parcel)) => {
                parcel.direction = Direction::Outbound;
                if parcel.carrier.is_none() {
                    parcel.carrier =
                        milepost_ingest::detect_carrier(parcel.tracking_number.as_str()).map(str::to_string);
                }
            }
            (_, Some(_)) => {
                return Err(AppError::Invalid {
                    field: "shipment".into(),
                    message: format!("only a move to `replacement_released` sends a parcel, not `{to}`"),
                }
                .into());
            }
            (_, None) => {}
        }
        if to == ReturnState::DispositionDecided {
            return Err(AppError::Invalid {
                field: "to".into(),
                message: format!("record the inspection with POST /api/v1/returns/{id}/inspection"),
            }
            .into());
        }
        let step = ReturnMove {
            return_id: id,
            from,
            to,
            actor: caller.actor.clone(),
            note,
            at: self.clock.now(),
            replacement,
        };
        Ok(self.store.move_return(caller.account_id, step).await.map_err(AppError::from)?)
    }

    /// Records what the warehouse found per item and what becomes of it; the return moves from
    /// `inspection_pending` to `disposition_decided`.
    pub async fn record_inspection(
        &self,
        caller: &Principal,
        id: i64,
        items: Vec<InspectedItem>,
        note: Option<String>,
    ) -> Result<ReturnOfOrder, ReturnMoveError> {
        let current = self.return_of(caller, id).await?;
        let from = current.record.state;
        let to = from.transition(ReturnState::DispositionDecided).map_err(ReturnMoveError::Invalid)?;
        check_inspection(&current.record.items, &items)
            .map_err(|refused| AppError::Invalid { field: refused.field, message: refused.message })?;
        let step = ReturnMove {
            return_id: id,
            from,
            to,
            actor: caller.actor.clone(),
            note,
            at: self.clock.now(),
            replacement: None,
        };
        Ok(self.store.record_inspection(caller.account_id, step, items).await.map_err(AppError::from)?)
    }

    /// The caller's returns in a state (all open ones when `None`), oldest first.
    pub async fn returns_queue(
        &self,
        caller: &Principal,
        state: Option<ReturnState>,
        limit: u32,
    ) -> AppResult<Vec<ReturnOfOrder>> {
        Ok(self.store.returns_queue(caller.account_id, state, limit).await?)
    }

    /// Return figures over the orders placed in `[from, to)`.
    pub async fn return_kpis(
        &self,
        caller: &Principal,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> AppResult<milepost_domain::returns::ReturnKpis> {
        if to <= from {
            return Err(AppError::Invalid { field: "to".into(), message: "must be after from".into() });
        }
        let facts = self.store.return_kpi_facts(caller.account_id, from, to).await?;
        Ok(milepost_domain::returns::return_kpis(&facts))
    }

    /// The caller's return eligibility rules.
    pub async fn return_policy(&self, caller: &Principal) -> AppResult<ReturnPolicy> {
        Ok(self.store.return_policy(caller.account_id).await?)
    }

    /// Replaces the caller's return eligibility rules.
    pub async fn put_return_policy(&self, caller: &Principal, policy: ReturnPolicy) -> AppResult<()> {
        Ok(self.store.put_return_policy(caller.account_id, policy, self.clock.now()).await?)
    }
}

impl Milepost {
    /// Records staff's decision on an outbound parcel that came back to the sender (reship with
    /// `reship` as the new parcel, refund, or cancel); answers the reshipped parcel, if any.
    pub async fn decide_returned_parcel(
        &self,
        caller: &Principal,
        order_number: &OrderNumber,
        tracking_number: &str,
        decision: SenderDecision,
        note: Option<String>,
        reship: Option<Shipment>,
    ) -> AppResult<Option<ShipmentRecord>> {
        let decision = ParcelDecision {
            order_number: order_number.clone(),
            tracking_number: tracking_number.trim().to_string(),
            decision,
            note,
            actor: caller.actor.clone(),
            at: self.clock.now(),
            reship,
        };
        Ok(self.store.decide_returned_parcel(caller.account_id, decision).await?)
    }
}

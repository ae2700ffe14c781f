//! Claims against a carrier for a lost or damaged parcel: opened by staff from an exception that
//! says so (the store checks the kind with `milepost_domain::claims`), moved through the claim
//! state machine with the state just read, and listed per order.

use crate::{AppError, AppResult, Milepost};
use milepost_domain::claims::ClaimState;
use milepost_domain::{Money, OrderNumber};
use milepost_store::{ClaimRecord, NewClaim, Principal};

/// Why a claim's state change was refused.
#[derive(Debug, thiserror::Error)]
pub enum ClaimMoveError {
    #[error("a claim in state `{from}` cannot move to `{to}`")]
    Invalid { from: ClaimState, to: ClaimState, allowed: Vec<ClaimState> },
    #[error(transparent)]
    Other(#[from] AppError),
}

impl Milepost {
    /// Opens a claim from one of the caller's exceptions.
    pub async fn open_claim(
        &self,
        caller: &Principal,
        exception_id: i64,
        carrier: Option<String>,
        amount: Money,
        evidence: Option<String>,
    ) -> AppResult<ClaimRecord> {
        if amount.ten_thousandths() <= 0 {
            return Err(AppError::Invalid { field: "amount".into(), message: "must be more than zero".into() });
        }
        let claim =
            NewClaim { exception_id, carrier, amount, evidence, actor: caller.actor.clone(), at: self.clock.now() };
        Ok(self.store.open_claim(caller.account_id, claim).await?)
    }

    /// One claim of the caller's account.
    pub async fn claim_of(&self, caller: &Principal, id: i64) -> AppResult<ClaimRecord> {
        self.store.claim_by_id(caller.account_id, id).await?.ok_or_else(|| AppError::NotFound(format!("claim {id}")))
    }

    /// Moves a claim if its state machine allows it from where it stands now.
    pub async fn move_claim(&self, caller: &Principal, id: i64, to: ClaimState) -> Result<ClaimRecord, ClaimMoveError> {
        let current = self.claim_of(caller, id).await?;
        let from = current.state;
        from.transition(to).map_err(|allowed| ClaimMoveError::Invalid { from, to, allowed })?;
        Ok(self.store.move_claim(caller.account_id, id, from, to, self.clock.now()).await.map_err(AppError::from)?)
    }

    /// The claims of one of the caller's orders.
    pub async fn claims_of_order(&self, caller: &Principal, number: &OrderNumber) -> AppResult<Vec<ClaimRecord>> {
        // Another account's order, like an unknown one, is not found (not an empty list).
        if self.store.order_proof(caller.account_id, number).await?.is_none() {
            return Err(AppError::NotFound(format!("order {number}")));
        }
        Ok(self.store.claims_of_order(caller.account_id, number).await?)
    }
}

//! Claims against a carrier for a lost or damaged parcel (issue 7): opened from an exception
//! that says so, with the carrier, the amount claimed and evidence notes, and moved through a
//! small state machine, refused with the allowed moves like a return's.

use crate::exceptions::ExceptionKind;
use std::fmt;

/// Where a claim stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClaimState {
    Open,
    Submitted,
    Approved,
    Denied,
    Paid,
    Closed,
}

impl ClaimState {
    pub const ALL: [ClaimState; 6] = [
        ClaimState::Open,
        ClaimState::Submitted,
        ClaimState::Approved,
        ClaimState::Denied,
        ClaimState::Paid,
        ClaimState::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ClaimState::Open => "open",
            ClaimState::Submitted => "submitted",
            ClaimState::Approved => "approved",
            ClaimState::Denied => "denied",
            ClaimState::Paid => "paid",
            ClaimState::Closed => "closed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        ClaimState::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// The states a claim may move to: filed with the carrier (or dropped), decided, paid, closed.
    pub fn allowed_next(self) -> &'static [ClaimState] {
        use ClaimState::*;
        match self {
            Open => &[Submitted, Closed],
            Submitted => &[Approved, Denied],
            Approved => &[Paid],
            Denied => &[Closed],
            Paid => &[Closed],
            Closed => &[],
        }
    }

    /// Checks one move; the error lists the allowed ones.
    pub fn transition(self, to: ClaimState) -> Result<ClaimState, Vec<ClaimState>> {
        if self.allowed_next().contains(&to) { Ok(to) } else { Err(self.allowed_next().to_vec()) }
    }
}

impl fmt::Display for ClaimState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A claim is for a parcel the carrier lost or damaged: the exceptions that can say so are a
/// carrier exception (damage, lost), a stalled parcel and one the carrier never reported on.
pub fn exception_allows_claim(kind: ExceptionKind) -> bool {
    matches!(kind, ExceptionKind::CarrierException | ExceptionKind::Stalled | ExceptionKind::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claim_state_machine_allows_exactly_its_table() {
        use ClaimState::*;
        let allowed = [
            (Open, Submitted),
            (Open, Closed),
            (Submitted, Approved),
            (Submitted, Denied),
            (Approved, Paid),
            (Denied, Closed),
            (Paid, Closed),
        ];
        for from in ClaimState::ALL {
            assert_eq!(ClaimState::parse(from.as_str()), Some(from));
            for to in ClaimState::ALL {
                assert_eq!(from.transition(to).is_ok(), allowed.contains(&(from, to)), "{from} -> {to}");
            }
        }
        assert_eq!(Open.transition(Paid), Err(vec![Submitted, Closed]));
    }

    #[test]
    fn only_lost_or_damaged_parcel_exceptions_open_a_claim() {
        assert!(exception_allows_claim(ExceptionKind::CarrierException));
        assert!(exception_allows_claim(ExceptionKind::NotFound));
        assert!(!exception_allows_claim(ExceptionKind::MissingScan));
        assert!(!exception_allows_claim(ExceptionKind::Late));
    }
}

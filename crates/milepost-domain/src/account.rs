//! Accounts (tenants) and the roles an API key or staff member can hold. Every row Milepost
//! stores belongs to exactly one account; roles decide what a caller may do inside it.

use crate::text::{TextError, parse_identifier};
use std::fmt;
use std::str::FromStr;

/// The unique, human-chosen name of an account (for example the merchant's brand).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountName(String);

impl AccountName {
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        parse_identifier(raw, 100).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a key may do. `Admin` can do everything, `Ingest` writes orders, shipments and events
/// (and reads what it wrote), `Support` only reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Support,
    Ingest,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Ingest, Role::Support];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Ingest => "ingest",
            Role::Support => "support",
        }
    }

    /// Whether a caller holding `self` may use an endpoint that requires `needed`.
    /// Roles are ordered: admin includes ingest, ingest includes support (read).
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "ingest" => Ok(Role::Ingest),
            "support" => Ok(Role::Support),
            other => Err(format!("unknown role `{other}`; expected admin, ingest or support")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_may_do_everything_and_support_only_reads() {
        assert!(Role::Admin.allows(Role::Ingest));
        assert!(Role::Admin.allows(Role::Support));
        assert!(Role::Ingest.allows(Role::Support));
        assert!(!Role::Ingest.allows(Role::Admin));
        assert!(!Role::Support.allows(Role::Ingest));
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("root".parse::<Role>().is_err());
    }
}

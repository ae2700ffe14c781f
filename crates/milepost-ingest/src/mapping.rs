//! Raw carrier codes to milestones (rule 6). The seed table is compiled in from
//! `data/carrier_codes.tsv` (copied from the shared reference data); an account's own mappings
//! are layered on top by the caller. A code the table maps to `unknown` is a known code that must
//! not move status; a code absent from the table is *unmapped* and queued for a person.

use milepost_domain::Milestone;
use std::collections::HashMap;

const SEED_TSV: &str = include_str!("../data/carrier_codes.tsv");

/// The answer for one raw code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeLookup {
    /// The code means this milestone.
    Mapped(Milestone),
    /// A known code that carries no status (e.g. "Not Available"); kept, never moves status.
    Informational,
    /// Nobody has mapped this code yet.
    Unmapped,
}

impl CodeLookup {
    pub fn milestone(self) -> Option<Milestone> {
        match self {
            CodeLookup::Mapped(m) => Some(m),
            _ => None,
        }
    }
}

/// The rows for one (carrier, code): each row's `code_field` and its milestone (`None` for an
/// informational code), in table order.
type Rows = Vec<(String, Option<Milestone>)>;

/// A mapping table keyed by carrier (lower case), code field and raw code.
#[derive(Debug, Clone, Default)]
pub struct CodeMap {
    /// (carrier, code) → entries in table order, each with the field it came from.
    entries: HashMap<(String, String), Rows>,
}

/// Canonical lower-case carrier key ("UPS" → "ups", "GS1 EPCIS/CBV" → "epcis").
pub fn carrier_key(carrier: &str) -> String {
    let lower = carrier.trim().to_ascii_lowercase();
    if lower.starts_with("gs1") { "epcis".into() } else { lower }
}

impl CodeMap {
    /// The compiled-in seed table.
    pub fn seeded() -> Self {
        let mut map = CodeMap::default();
        for line in SEED_TSV.lines().skip(1) {
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() < 5 {
                continue;
            }
            let milestone = cols[4].trim().parse::<Milestone>().ok();
            map.entries
                .entry((carrier_key(cols[0]), cols[2].trim().to_string()))
                .or_default()
                .push((cols[1].trim().to_string(), milestone));
        }
        map
    }

    /// Adds or replaces the mapping of one code for a carrier (an account's override); `None`
    /// marks the code as informational.
    pub fn set(&mut self, carrier: &str, code: &str, milestone: Option<Milestone>) {
        self.entries.insert((carrier_key(carrier), code.trim().to_string()), vec![("override".into(), milestone)]);
    }

    /// Looks a code up for a carrier, whatever field it came from. When the table lists the code
    /// under several fields, `field_hint` (a substring of the field name such as `status.code`)
    /// picks one; otherwise the first row wins.
    pub fn lookup_in(&self, carrier: &str, field_hint: Option<&str>, code: &str) -> CodeLookup {
        let Some(rows) = self.entries.get(&(carrier_key(carrier), code.trim().to_string())) else {
            return CodeLookup::Unmapped;
        };
        let row = field_hint
            .and_then(|hint| rows.iter().find(|(field, _)| field.contains(hint) || field == "override"))
            .or_else(|| rows.first());
        match row {
            Some((_, Some(m))) => CodeLookup::Mapped(*m),
            Some((_, None)) => CodeLookup::Informational,
            None => CodeLookup::Unmapped,
        }
    }

    /// Like [`CodeMap::lookup_in`], but strict about the field: only rows whose `code_field`
    /// contains `field` (or an account override) count, and `None` means the table has no row
    /// for this code under that field. Adapters use it to walk a sender's code layers in order
    /// without one layer borrowing another's meaning (UPS `DP` is a departure scan, but the
    /// 3-digit `statusCode` table and the type letters are different vocabularies).
    pub fn lookup_field(&self, carrier: &str, field: &str, code: &str) -> Option<CodeLookup> {
        let rows = self.entries.get(&(carrier_key(carrier), code.trim().to_string()))?;
        let (_, milestone) = rows.iter().find(|(f, _)| f.contains(field) || f == "override")?;
        Some(match milestone {
            Some(m) => CodeLookup::Mapped(*m),
            None => CodeLookup::Informational,
        })
    }

    pub fn lookup(&self, carrier: &str, code: &str) -> CodeLookup {
        self.lookup_in(carrier, None, code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_table_maps_common_carrier_codes() {
        let map = CodeMap::seeded();
        assert_eq!(map.lookup("UPS", "OR"), CodeLookup::Mapped(Milestone::HandedToCarrier));
        assert_eq!(map.lookup("ups", "MP"), CodeLookup::Mapped(Milestone::LabelCreated));
        assert_eq!(map.lookup("ups", "NA"), CodeLookup::Informational);
        assert_eq!(map.lookup("ups", "ZZZ"), CodeLookup::Unmapped);
        assert_eq!(map.lookup("fedex", "DL"), CodeLookup::Mapped(Milestone::Delivered));
    }

    #[test]
    fn a_strict_field_lookup_does_not_borrow_another_fields_meaning() {
        let map = CodeMap::seeded();
        // DHL `PO` is "departing origin" as an Express checkpoint but "in delivery" as a TTpro code.
        assert_eq!(map.lookup_field("dhl", "express", "PO"), Some(CodeLookup::Mapped(Milestone::InTransit)));
        assert_eq!(map.lookup_field("dhl", "TTpro", "PO"), Some(CodeLookup::Mapped(Milestone::OutForDelivery)));
        // UPS `DD` is a type letter, not a status code.
        assert_eq!(map.lookup_field("ups", "status.code", "DD"), None);
        assert_eq!(map.lookup_field("ups", "status.type", "NA"), Some(CodeLookup::Informational));
    }

    #[test]
    fn an_account_override_wins_over_the_seed() {
        let mut map = CodeMap::seeded();
        map.set("ups", "ZZZ", Some(Milestone::InTransit));
        assert_eq!(map.lookup("UPS", "ZZZ"), CodeLookup::Mapped(Milestone::InTransit));
    }
}

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

/// A mapping table keyed by carrier (lower case), code field and raw code.
#[derive(Debug, Clone, Default)]
pub struct CodeMap {
    /// (carrier, code) → entries in table order, each with the field it came from.
    entries: HashMap<(String, String), Vec<(String, Option<Milestone>)>>,
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
    fn an_account_override_wins_over_the_seed() {
        let mut map = CodeMap::seeded();
        map.set("ups", "ZZZ", Some(Milestone::InTransit));
        assert_eq!(map.lookup("UPS", "ZZZ"), CodeLookup::Mapped(Milestone::InTransit));
    }
}

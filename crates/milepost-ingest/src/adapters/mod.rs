//! Adapters turn what a sender really sends (a carrier's tracking JSON, an aggregator's webhook,
//! a local fleet's generic JSON) into one shape, [`NormalizedEvent`], so nothing downstream has to
//! know a sender's quirks. They are pure: bytes and a [`CodeMap`] in, events or a precise
//! [`AdapterError`] out; no I/O, no clock. Each sender has its own module; this one holds the
//! shared output type, the error, the dispatcher [`parse`] and the small JSON-walking and
//! time-parsing helpers every adapter uses, so that every error names the exact path that is wrong.

pub mod aftership;
pub mod dhl;
pub mod easypost;
pub mod fedex;
pub mod generic;
pub mod shippo;
pub mod ups;
pub mod usps;

use crate::mapping::{CodeLookup, CodeMap};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use milepost_domain::{EventSource, Location, Milestone};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// One event as an adapter read it from a sender's payload.
#[derive(Debug, Clone, PartialEq)]
pub struct NormalizedEvent {
    /// As the sender gave it (trimmed).
    pub tracking_number: String,
    /// Lower-case carrier key: `ups`, `fedex`, `usps`, `dhl`, or the aggregator's carrier slug
    /// lower-cased; `generic` senders give their own.
    pub carrier: String,
    /// `Carrier` for carriers and aggregators; a generic sender may say `driver` etc.
    pub source: EventSource,
    /// The sender's id when it has one; otherwise a stable id derived from (carrier, tracking
    /// number, raw codes, occurred_at, location) so that a resent payload dedupes. Derived ids
    /// start with `derived:`.
    pub source_event_id: Option<String>,
    /// `None` when the code is unmapped or informational.
    pub milestone: Option<Milestone>,
    /// How the raw code resolved against the mapping table.
    pub mapping: CodeLookup,
    /// The raw code as sent: the one that decided the mapping, or, when none is known, the most
    /// specific code the event carried.
    pub code: Option<String>,
    /// The description as sent, with surrounding whitespace trimmed (UPS pads them; `raw` keeps
    /// the padding).
    pub description: Option<String>,
    /// With the offset the sender meant (see each adapter for how local times are resolved).
    pub occurred_at: DateTime<FixedOffset>,
    pub location: Option<Location>,
    /// Who signed, photo or signature links, where it was left, when the format has them.
    pub proof_of_delivery: Option<ProofOfDelivery>,
    pub carrier_estimated_delivery: Option<DateTime<FixedOffset>>,
    /// The raw activity/checkpoint object this event came from.
    pub raw: Value,
}

/// Proof of delivery as far as a sender gives it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProofOfDelivery {
    pub signed_by: Option<String>,
    pub signature_url: Option<String>,
    pub photo_url: Option<String>,
    pub left_at: Option<String>,
}

impl ProofOfDelivery {
    fn into_option(self) -> Option<Self> {
        let empty = self.signed_by.is_none()
            && self.signature_url.is_none()
            && self.photo_url.is_none()
            && self.left_at.is_none();
        (!empty).then_some(self)
    }
}

/// Why a payload could not be read. Every variant that concerns one value names its JSON path,
/// e.g. `trackResponse.shipment[0].package[1].activity[3].date: expected YYYYMMDD`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdapterError {
    #[error("body is not UTF-8 (first invalid byte at offset {valid_up_to})")]
    InvalidUtf8 { valid_up_to: usize },
    #[error("body is not valid JSON: {message}")]
    InvalidJson { message: String },
    #[error("{path}: missing")]
    Missing { path: String },
    #[error("{path}: expected {expected}")]
    Invalid { path: String, expected: String },
    #[error("{path}: unknown field")]
    UnknownField { path: String },
    #[error("{path}: the sender reported an error: {message}")]
    SenderError { path: String, message: String },
}

/// Which adapter reads a body. Parsed from the integration kind (`"ups"`, `"fedex"`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SenderKind {
    Ups,
    Fedex,
    Usps,
    Dhl,
    Easypost,
    Aftership,
    Shippo,
    Generic,
}

impl SenderKind {
    pub const ALL: [SenderKind; 8] = [
        SenderKind::Ups,
        SenderKind::Fedex,
        SenderKind::Usps,
        SenderKind::Dhl,
        SenderKind::Easypost,
        SenderKind::Aftership,
        SenderKind::Shippo,
        SenderKind::Generic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SenderKind::Ups => "ups",
            SenderKind::Fedex => "fedex",
            SenderKind::Usps => "usps",
            SenderKind::Dhl => "dhl",
            SenderKind::Easypost => "easypost",
            SenderKind::Aftership => "aftership",
            SenderKind::Shippo => "shippo",
            SenderKind::Generic => "generic",
        }
    }
}

impl fmt::Display for SenderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The sender kind named was not one Milepost reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown sender kind `{0}`; expected one of ups, fedex, usps, dhl, easypost, aftership, shippo, generic")]
pub struct UnknownSenderKind(pub String);

impl FromStr for SenderKind {
    type Err = UnknownSenderKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        SenderKind::ALL.into_iter().find(|k| k.as_str() == wanted).ok_or_else(|| UnknownSenderKind(s.to_string()))
    }
}

/// Reads one sender's raw body into normalized events, in the order the payload lists them
/// (senders list newest first; callers sort by `occurred_at`, never by position). A payload that
/// is valid but says "not found" yields no events.
pub fn parse(kind: SenderKind, body: &[u8], codes: &CodeMap) -> Result<Vec<NormalizedEvent>, AdapterError> {
    let root = parse_json(body)?;
    let node = Node::root(&root);
    match kind {
        SenderKind::Ups => ups::parse(node, codes),
        SenderKind::Fedex => fedex::parse(node, codes),
        SenderKind::Usps => usps::parse(node, codes),
        SenderKind::Dhl => dhl::parse(node, codes),
        SenderKind::Easypost => easypost::parse(node, codes),
        SenderKind::Aftership => aftership::parse(node, codes),
        SenderKind::Shippo => shippo::parse(node, codes),
        SenderKind::Generic => generic::parse(node, codes),
    }
}

/// Bytes to JSON, refusing invalid UTF-8 first so the error says so. serde_json's own recursion
/// limit turns hostile nesting into an error rather than a stack overflow.
pub(crate) fn parse_json(body: &[u8]) -> Result<Value, AdapterError> {
    let text = std::str::from_utf8(body).map_err(|e| AdapterError::InvalidUtf8 { valid_up_to: e.valid_up_to() })?;
    serde_json::from_str(text).map_err(|e| AdapterError::InvalidJson { message: e.to_string() })
}

/// A JSON value together with the path that led to it, so errors can say where they are.
#[derive(Debug, Clone)]
pub(crate) struct Node<'a> {
    pub v: &'a Value,
    pub path: String,
}

impl<'a> Node<'a> {
    pub fn root(v: &'a Value) -> Self {
        Node { v, path: String::new() }
    }

    fn display_path(&self) -> String {
        if self.path.is_empty() { "(root)".into() } else { self.path.clone() }
    }

    fn child_path(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_string() } else { format!("{}.{key}", self.path) }
    }

    pub fn invalid(&self, expected: impl Into<String>) -> AdapterError {
        AdapterError::Invalid { path: self.display_path(), expected: expected.into() }
    }

    pub fn object(&self) -> Result<&'a Map<String, Value>, AdapterError> {
        self.v.as_object().ok_or_else(|| self.invalid("an object"))
    }

    /// A field, or `None` when it is absent or `null`. Errs when `self` is not an object.
    pub fn get(&self, key: &str) -> Result<Option<Node<'a>>, AdapterError> {
        Ok(match self.object()?.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => Some(Node { v, path: self.child_path(key) }),
        })
    }

    pub fn req(&self, key: &str) -> Result<Node<'a>, AdapterError> {
        self.get(key)?.ok_or_else(|| AdapterError::Missing { path: self.child_path(key) })
    }

    pub fn as_str(&self) -> Result<&'a str, AdapterError> {
        self.v.as_str().ok_or_else(|| self.invalid("a string"))
    }

    /// A string field, trimmed; absent, `null` and blank all read as `None`.
    pub fn opt_str(&self, key: &str) -> Result<Option<&'a str>, AdapterError> {
        match self.get(key)? {
            None => Ok(None),
            Some(n) => {
                let s = n.as_str()?.trim();
                Ok((!s.is_empty()).then_some(s))
            }
        }
    }

    pub fn opt_string(&self, key: &str) -> Result<Option<String>, AdapterError> {
        Ok(self.opt_str(key)?.map(str::to_string))
    }

    pub fn req_str(&self, key: &str) -> Result<&'a str, AdapterError> {
        let n = self.req(key)?;
        let s = n.as_str()?.trim();
        if s.is_empty() {
            return Err(n.invalid("a non-empty string"));
        }
        Ok(s)
    }

    /// An identifier that some senders send as a number and others as a string (DHL shipment
    /// ids). Only integers are accepted as numbers: a float would have lost digits already.
    pub fn opt_id(&self, key: &str) -> Result<Option<String>, AdapterError> {
        match self.get(key)? {
            None => Ok(None),
            Some(n) => match n.v {
                Value::String(s) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
                Value::Number(num) if num.is_u64() || num.is_i64() => Ok(Some(num.to_string())),
                _ => Err(n.invalid("a string or an integer")),
            },
        }
    }

    /// The elements of an array field; absent or `null` reads as empty.
    pub fn arr(&self, key: &str) -> Result<Vec<Node<'a>>, AdapterError> {
        match self.get(key)? {
            None => Ok(Vec::new()),
            Some(n) => n.elements(),
        }
    }

    pub fn req_arr(&self, key: &str) -> Result<Vec<Node<'a>>, AdapterError> {
        self.req(key)?.elements()
    }

    pub fn elements(&self) -> Result<Vec<Node<'a>>, AdapterError> {
        let items = self.v.as_array().ok_or_else(|| self.invalid("an array"))?;
        Ok(items.iter().enumerate().map(|(i, v)| Node { v, path: format!("{}[{i}]", self.display_path()) }).collect())
    }

    pub fn is_empty_object(&self) -> bool {
        self.v.as_object().is_some_and(Map::is_empty)
    }
}

/// A location from its parts, or `None` when the sender gave none of them.
pub(crate) fn location(
    city: Option<&str>,
    region: Option<&str>,
    postal_code: Option<&str>,
    country: Option<&str>,
) -> Option<Location> {
    let own = |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let loc = Location { city: own(city), region: own(region), postal_code: own(postal_code), country: own(country) };
    (!loc.is_empty()).then_some(loc)
}

/// One raw code a sender gave, with the mapping-table field it belongs to (a substring of the
/// TSV's `code_field`, as [`CodeMap::lookup_in`] takes it).
pub(crate) struct Candidate<'s> {
    pub field: &'static str,
    pub code: Option<&'s str>,
}

/// Resolves codes in precedence order: the first candidate whose code the table knows *under
/// that field* decides (mapped or informational, because a fine code the table marks `unknown`
/// deliberately does not move status). When none is known the event is `Unmapped` and keeps the
/// first code it carried, so a person can map it.
pub(crate) fn resolve(codes: &CodeMap, carrier: &str, candidates: &[Candidate<'_>]) -> (CodeLookup, Option<String>) {
    for c in candidates {
        if let Some(code) = c.code
            && let Some(found) = codes.lookup_field(carrier, c.field, code)
        {
            return (found, Some(code.to_string()));
        }
    }
    let first = candidates.iter().find_map(|c| c.code).map(str::to_string);
    (CodeLookup::Unmapped, first)
}

/// Fills in a derived `source_event_id` when the sender gave none: a hash of (carrier, tracking
/// number, codes, instant, location), so the same event sent twice gets the same id. The codes
/// are *all* the raw codes the event carried, not just the one that decided the mapping, so an
/// account mapping added later (which can change the deciding layer) does not change the id of
/// a resend. The instant is taken in UTC so that a resend spelling the offset differently still
/// matches.
pub(crate) fn with_derived_id(mut ev: NormalizedEvent, raw_codes: &[Option<&str>]) -> NormalizedEvent {
    if ev.source_event_id.is_none() {
        let instant = ev.occurred_at.with_timezone(&chrono::Utc).to_rfc3339();
        let loc = ev.location.as_ref().map(Location::key).unwrap_or_default();
        let codes = raw_codes.iter().map(|c| c.unwrap_or("")).collect::<Vec<_>>().join("/");
        let material =
            [ev.carrier.as_str(), ev.tracking_number.as_str(), codes.as_str(), instant.as_str(), loc.as_str()]
                .join("\u{1f}");
        let digest = Sha256::digest(material.as_bytes());
        ev.source_event_id = Some(format!("derived:{}", hex::encode(&digest[..16])));
    }
    ev
}

/// An offset in every spelling real senders use: `Z`, `-07:00`, `-0700`, `-7:00` (USPS's schema
/// example), `+05:30` and the hours-only `-07`. This is the one offset reader of every adapter
/// (and of timestamps with an offset, through [`parse_timestamp`]), so a spelling learnt from one
/// sender is understood from all. A lone digit (`-6`) is refused: nothing says it means hours.
pub(crate) fn parse_offset(s: &str) -> Option<FixedOffset> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("z") {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    if !rest.is_ascii() {
        return None;
    }
    let (hours, minutes) = match rest.split_once(':') {
        Some((h, m)) if (1..=2).contains(&h.len()) && m.len() == 2 => (h, m),
        Some(_) => return None,
        None if rest.len() == 4 => (&rest[..2], &rest[2..]),
        None if rest.len() == 2 => (rest, "00"),
        None => return None,
    };
    if !hours.bytes().chain(minutes.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = hours.parse().ok()?;
    let minutes: i32 = minutes.parse().ok()?;
    if hours > 18 || minutes > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

/// A timestamp split into its wall time and the offset written after it, for the spellings
/// RFC 3339 refuses (`2025-03-14T07:10:00-0700`, `…-7:00`, `…-07`, `… -07:00`).
fn split_offset(s: &str) -> Option<(NaiveDateTime, FixedOffset)> {
    // The offset starts after the time of day: the last sign (or `Z`) past the `T` or space.
    let time_starts = s.find(['T', 't', ' '])?;
    let (wall, offset) = if s.ends_with(['Z', 'z']) {
        s.split_at(s.len() - 1)
    } else {
        let at = s[time_starts..].rfind(['+', '-'])? + time_starts;
        s.split_at(at)
    };
    Some((parse_naive(wall.trim())?, parse_offset(offset)?))
}

/// An ISO-8601 timestamp, with or without an offset. Times with an offset keep it, in any spelling
/// [`parse_offset`] reads; naive times (`2025-03-14T08:12:00`, which DHL, FedEx and AfterShip
/// sometimes send) take `fallback`, which each adapter chooses from the best evidence it has, and
/// UTC when it has none.
pub(crate) fn parse_timestamp(s: &str, fallback: Option<FixedOffset>) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    if let Some(t) = parse_instant(s) {
        return Some(t);
    }
    let naive = parse_naive(s)?;
    let offset = fallback.or_else(|| FixedOffset::east_opt(0))?;
    offset.from_local_datetime(&naive).single()
}

/// A timestamp that must carry its offset (RFC 3339, or one of the other spellings
/// [`parse_offset`] reads); `None` for a time without one.
pub(crate) fn parse_instant(s: &str) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t);
    }
    let (wall, offset) = split_offset(s)?;
    offset.from_local_datetime(&wall).single()
}

/// The offset a timestamp string carries, if any, in any spelling [`parse_offset`] reads.
pub(crate) fn offset_of(s: &str) -> Option<FixedOffset> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s).ok().map(|t| *t.offset()).or_else(|| split_offset(s).map(|(_, o)| o))
}

pub(crate) fn parse_naive(s: &str) -> Option<NaiveDateTime> {
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
}

/// A date-only value (`2025-03-14`) or a full timestamp, for carriers' delivery estimates. A bare
/// date means "by the end of that day" in the offset given.
pub(crate) fn parse_estimate(s: &str, offset: Option<FixedOffset>) -> Option<DateTime<FixedOffset>> {
    if let Some(t) = parse_timestamp(s, offset) {
        return Some(t);
    }
    let date = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    end_of_day(date, offset)
}

pub(crate) fn end_of_day(date: NaiveDate, offset: Option<FixedOffset>) -> Option<DateTime<FixedOffset>> {
    let offset = offset.or_else(|| FixedOffset::east_opt(0))?;
    let t = NaiveTime::from_hms_opt(23, 59, 59)?;
    offset.from_local_datetime(&date.and_time(t)).single()
}

/// Builds the event's proof of delivery only for delivery events: the package-level POD fields
/// a sender repeats on every scan belong to the delivery, not to the earlier scans.
pub(crate) fn pod_for(milestone: Option<Milestone>, pod: &ProofOfDelivery) -> Option<ProofOfDelivery> {
    match milestone {
        Some(Milestone::Delivered) => pod.clone().into_option(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_parse_in_their_common_spellings() {
        assert_eq!(parse_offset("-06:00"), FixedOffset::west_opt(6 * 3600));
        assert_eq!(parse_offset("+0530"), FixedOffset::east_opt(5 * 3600 + 30 * 60));
        assert_eq!(parse_offset("Z"), FixedOffset::east_opt(0));
        assert_eq!(parse_offset("-6"), None);
        assert_eq!(parse_offset("+99:00"), None);
        assert_eq!(parse_offset(""), None);
    }

    #[test]
    fn offsets_parse_in_every_spelling_real_senders_write() {
        let minus7 = FixedOffset::west_opt(7 * 3600);
        for spelling in ["-07:00", "-0700", "-7:00", "-07", " -07:00 "] {
            assert_eq!(parse_offset(spelling), minus7, "{spelling:?}");
        }
        assert_eq!(parse_offset("+05:30"), FixedOffset::east_opt(5 * 3600 + 30 * 60));
        assert_eq!(parse_offset("+5:30"), FixedOffset::east_opt(5 * 3600 + 30 * 60));
        assert_eq!(parse_offset("z"), FixedOffset::east_opt(0));
        assert_eq!(parse_offset("+00"), FixedOffset::east_opt(0));
        for refused in ["-7", "-070", "-07:0", "-07:000", "-007:00", "07:00", "-ab:cd", "-0é:00", "-07:60", "+", "-:"]
        {
            assert_eq!(parse_offset(refused), None, "{refused:?}");
        }
    }

    #[test]
    fn timestamps_carry_their_offset_in_every_spelling_and_keep_the_same_instant() {
        let instant = DateTime::parse_from_rfc3339("2025-03-14T14:10:00Z").unwrap();
        for s in [
            "2025-03-14T07:10:00-07:00",
            "2025-03-14T07:10:00-0700",
            "2025-03-14T07:10:00-7:00",
            "2025-03-14T07:10:00-07",
            "2025-03-14T07:10:00 -07:00",
            "2025-03-14 07:10:00-0700",
            "2025-03-14T14:10:00Z",
            "2025-03-14T19:40:00+05:30",
            "2025-03-14T19:40:00+0530",
        ] {
            let fallback = FixedOffset::east_opt(3600);
            assert_eq!(parse_timestamp(s, fallback), Some(instant), "{s}");
            assert_eq!(parse_instant(s), Some(instant), "{s}");
            assert!(offset_of(s).is_some(), "{s}");
        }
        assert_eq!(
            parse_timestamp("2025-03-14T07:10:00-0700", None).unwrap().to_rfc3339(),
            "2025-03-14T07:10:00-07:00"
        );
        // A time without offset has none: the adapter's fallback decides, and `parse_instant` refuses it.
        assert_eq!(parse_instant("2025-03-14T07:10:00"), None);
        assert_eq!(offset_of("2025-03-14T07:10:00"), None);
        assert_eq!(offset_of("2025-03-14 07:10:00"), None);
        assert_eq!(parse_instant("2025-03-14T07:10:00-7"), None);
    }

    #[test]
    fn naive_timestamps_take_the_fallback_offset_and_offset_timestamps_keep_their_own() {
        let minus7 = FixedOffset::west_opt(7 * 3600);
        let t = parse_timestamp("2024-08-15T00:00:00", minus7).unwrap();
        assert_eq!(t.to_rfc3339(), "2024-08-15T00:00:00-07:00");
        let t = parse_timestamp("2024-04-26T09:26:00-04:00", minus7).unwrap();
        assert_eq!(t.to_rfc3339(), "2024-04-26T09:26:00-04:00");
        assert!(parse_timestamp("yesterday", None).is_none());
    }

    #[test]
    fn sender_kinds_parse_from_their_integration_names() {
        for kind in SenderKind::ALL {
            assert_eq!(kind.as_str().parse::<SenderKind>().unwrap(), kind);
        }
        assert_eq!("UPS".parse::<SenderKind>().unwrap(), SenderKind::Ups);
        assert!("ontrac".parse::<SenderKind>().is_err());
    }
}

//! An account's own notification policy, as a TOML document a merchant writes (or sends to the
//! API), parsed into the `NotificationPolicy` the outbox hooks obey: which notices each order
//! class hears and the rules that pick the class, which team each exception alerts and over which
//! channels, quiet hours in the customer's time zone (off unless written), and the merge window
//! for split shipments. Sections left out keep the built-in default of DESIGN §5, so an empty
//! document is the default policy. Pure: parsing, checking and the quiet-hours arithmetic take
//! the time as a parameter.

use crate::Money;
use crate::exceptions::ExceptionKind;
use crate::notify::{Notice, NotificationPolicy, NotifyChannel, OrderClass, alert_team};
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The language customer messages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MessageLanguage {
    #[default]
    En,
    Es,
}

impl MessageLanguage {
    pub const ALL: [MessageLanguage; 2] = [MessageLanguage::En, MessageLanguage::Es];

    pub fn code(self) -> &'static str {
        match self {
            MessageLanguage::En => "en",
            MessageLanguage::Es => "es",
        }
    }

    /// `es`, `es-MX` and `ES` are all Spanish.
    pub fn parse(raw: &str) -> Option<Self> {
        let primary = raw.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        MessageLanguage::ALL.into_iter().find(|l| l.code() == primary)
    }
}

/// Who an exception alerts and how: a team name and the internal channels (`email` to the
/// account's alert address, `chat`, `webhook`). No channels means the exception alerts nobody.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRoute {
    pub team: String,
    pub channels: Vec<NotifyChannel>,
}

impl AlertRoute {
    /// The built-in route: the kind's team, on every internal channel the account configured.
    pub fn default_for(kind: ExceptionKind) -> Self {
        AlertRoute {
            team: alert_team(kind).to_string(),
            channels: vec![NotifyChannel::Email, NotifyChannel::Chat, NotifyChannel::Webhook],
        }
    }
}

/// Hours in which customers are not messaged, in the customer's local time. A message that
/// falls due inside them is held until they end. `start` after `end` spans midnight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
    /// The zone of customers whose country is not listed in `zones_by_country`.
    pub time_zone: Tz,
    /// ISO country code (upper case) of the ship-to address → its zone.
    pub zones_by_country: Vec<(String, Tz)>,
}

impl QuietHours {
    /// The customer's zone, from the ship-to country.
    pub fn zone_for(&self, country: Option<&str>) -> Tz {
        let country = country.map(|c| c.trim().to_ascii_uppercase());
        self.zones_by_country
            .iter()
            .find(|(c, _)| Some(c) == country.as_ref())
            .map(|(_, zone)| *zone)
            .unwrap_or(self.time_zone)
    }

    fn is_quiet(&self, local: NaiveTime) -> bool {
        if self.start <= self.end {
            local >= self.start && local < self.end
        } else {
            local >= self.start || local < self.end
        }
    }

    /// When a customer message due at `due` may go out: `due` itself outside quiet hours,
    /// otherwise the moment they end in the customer's zone.
    pub fn release_at(&self, due: DateTime<Utc>, country: Option<&str>) -> DateTime<Utc> {
        let zone = self.zone_for(country);
        let local = due.with_timezone(&zone);
        if self.start == self.end || !self.is_quiet(local.time()) {
            return due;
        }
        let mut day = local.date_naive();
        if local.time() >= self.end {
            day = day.succ_opt().unwrap_or(day);
        }
        // A local time skipped by a daylight-saving change is read an hour later.
        let end = day.and_time(self.end);
        let released = zone
            .from_local_datetime(&end)
            .earliest()
            .or_else(|| zone.from_local_datetime(&(end + Duration::hours(1))).earliest())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(due);
        released.max(due)
    }
}

/// Why a policy document was refused, naming the field (`customer.standard[2]`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PolicyError {
    pub field: String,
    pub message: String,
}

fn refuse(field: impl Into<String>, message: impl Into<String>) -> PolicyError {
    PolicyError { field: field.into(), message: message.into() }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyDocument {
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    merge_window_minutes: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    classes: Option<ClassesDocument>,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer: Option<BTreeMap<String, Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alerts: Option<BTreeMap<String, AlertDocument>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quiet_hours: Option<QuietHoursDocument>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassesDocument {
    #[serde(skip_serializing_if = "Option::is_none")]
    high_value_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bulky_from_units: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_sensitive_services: Option<Vec<String>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertDocument {
    #[serde(skip_serializing_if = "Option::is_none")]
    team: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    channels: Option<Vec<String>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuietHoursDocument {
    start: String,
    end: String,
    time_zone: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    by_country: BTreeMap<String, String>,
}

fn parse_time(field: &str, raw: &str) -> Result<NaiveTime, PolicyError> {
    NaiveTime::parse_from_str(raw.trim(), "%H:%M").map_err(|_| refuse(field, "must be a time such as \"21:00\""))
}

fn parse_zone(field: &str, raw: &str) -> Result<Tz, PolicyError> {
    raw.trim().parse::<Tz>().map_err(|_| refuse(field, "must be an IANA time zone such as \"Europe/Madrid\""))
}

/// Parses a policy document. Every section is optional; what is left out keeps the default.
pub fn parse_policy(text: &str) -> Result<NotificationPolicy, PolicyError> {
    let doc: PolicyDocument = toml::from_str(text).map_err(|e| {
        let message = e.message().to_string();
        let field =
            message.split('`').nth(1).filter(|_| message.starts_with("unknown field")).unwrap_or("policy").to_string();
        refuse(field, message)
    })?;
    let mut policy = NotificationPolicy::default();
    if let Some(raw) = doc.language {
        policy.language = MessageLanguage::parse(&raw).ok_or_else(|| refuse("language", "must be en or es"))?;
    }
    if let Some(minutes) = doc.merge_window_minutes {
        if !(0..=7 * 24 * 60).contains(&minutes) {
            return Err(refuse("merge_window_minutes", "must be between 0 and 10080 (a week)"));
        }
        policy.merge_window = Duration::minutes(minutes);
    }
    if let Some(classes) = doc.classes {
        if let Some(raw) = classes.high_value_from {
            policy.classes.high_value_from =
                Money::parse(&raw).map_err(|e| refuse("classes.high_value_from", e.to_string()))?;
        }
        if let Some(units) = classes.bulky_from_units {
            if units == 0 {
                return Err(refuse("classes.bulky_from_units", "must be at least 1"));
            }
            policy.classes.bulky_from_units = units;
        }
        if let Some(services) = classes.time_sensitive_services {
            policy.classes.time_sensitive_services =
                services.iter().map(|s| s.trim().to_ascii_lowercase().replace([' ', '-'], "_")).collect();
        }
    }
    if let Some(customer) = doc.customer {
        for (class_name, notices) in customer {
            let field = format!("customer.{class_name}");
            let class = OrderClass::parse(&class_name)
                .ok_or_else(|| refuse(&field, "is not an order class (standard, high_value, bulky, time_sensitive)"))?;
            let mut parsed = Vec::with_capacity(notices.len());
            for (i, raw) in notices.iter().enumerate() {
                let notice = Notice::parse(raw.trim())
                    .ok_or_else(|| refuse(format!("{field}[{i}]"), format!("`{raw}` is not a customer notice")))?;
                if !parsed.contains(&notice) {
                    parsed.push(notice);
                }
            }
            policy.customer_notices.retain(|(c, _)| *c != class);
            policy.customer_notices.push((class, parsed));
        }
        policy.customer_notices.sort_by_key(|(c, _)| *c);
    }
    if let Some(alerts) = doc.alerts {
        for (kind_name, route) in alerts {
            let field = format!("alerts.{kind_name}");
            let kind = ExceptionKind::parse(&kind_name).ok_or_else(|| refuse(&field, "is not an exception kind"))?;
            let mut parsed = AlertRoute::default_for(kind);
            if let Some(team) = route.team {
                let team = team.trim().to_string();
                let ok = !team.is_empty()
                    && team.len() <= 64
                    && team.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if !ok {
                    return Err(refuse(format!("{field}.team"), "must be a short name of letters, digits, _ or -"));
                }
                parsed.team = team;
            }
            if let Some(channels) = route.channels {
                parsed.channels = Vec::with_capacity(channels.len());
                for (i, raw) in channels.iter().enumerate() {
                    let channel = NotifyChannel::parse(raw.trim())
                        .filter(|c| *c != NotifyChannel::Sms)
                        .ok_or_else(|| refuse(format!("{field}.channels[{i}]"), "must be email, chat or webhook"))?;
                    if !parsed.channels.contains(&channel) {
                        parsed.channels.push(channel);
                    }
                }
            }
            // Only routes that differ from the built-in one are kept, so a document that spells
            // the defaults out is the same policy as one that leaves them out.
            policy.alerts.retain(|(k, _)| *k != kind);
            if parsed != AlertRoute::default_for(kind) {
                policy.alerts.push((kind, parsed));
            }
        }
    }
    if let Some(quiet) = doc.quiet_hours {
        let start = parse_time("quiet_hours.start", &quiet.start)?;
        let end = parse_time("quiet_hours.end", &quiet.end)?;
        if start == end {
            return Err(refuse("quiet_hours.end", "must differ from start"));
        }
        let time_zone = parse_zone("quiet_hours.time_zone", &quiet.time_zone)?;
        let mut zones_by_country = Vec::with_capacity(quiet.by_country.len());
        for (country, zone) in &quiet.by_country {
            let field = format!("quiet_hours.by_country.{country}");
            if country.len() != 2 || !country.chars().all(|c| c.is_ascii_alphabetic()) {
                return Err(refuse(field, "must be a two-letter country code"));
            }
            zones_by_country.push((country.to_ascii_uppercase(), parse_zone(&field, zone)?));
        }
        policy.quiet_hours = Some(QuietHours { start, end, time_zone, zones_by_country });
    }
    Ok(policy)
}

/// Writes a policy as a complete document (every section spelled out), the form `GET` answers
/// and `milepost policy show` prints, and which `parse_policy` reads back to the same policy.
pub fn policy_document(policy: &NotificationPolicy) -> String {
    let money = policy.classes.high_value_from.ten_thousandths();
    let high_value_from = format!("{}.{:02}", money / 10_000, (money % 10_000) / 100);
    let doc = PolicyDocument {
        language: Some(policy.language.code().to_string()),
        merge_window_minutes: Some(policy.merge_window.num_minutes()),
        classes: Some(ClassesDocument {
            high_value_from: Some(high_value_from),
            bulky_from_units: Some(policy.classes.bulky_from_units),
            time_sensitive_services: Some(policy.classes.time_sensitive_services.clone()),
        }),
        customer: Some(
            policy
                .customer_notices
                .iter()
                .map(|(c, notices)| (c.as_str().to_string(), notices.iter().map(|n| n.as_str().to_string()).collect()))
                .collect(),
        ),
        alerts: Some(
            ExceptionKind::ALL
                .into_iter()
                .map(|kind| {
                    let route = policy.alert_route(kind);
                    let channels = route.channels.iter().map(|c| c.as_str().to_string()).collect();
                    (kind.as_str().to_string(), AlertDocument { team: Some(route.team), channels: Some(channels) })
                })
                .collect(),
        ),
        quiet_hours: policy.quiet_hours.as_ref().map(|q| QuietHoursDocument {
            start: q.start.format("%H:%M").to_string(),
            end: q.end.format("%H:%M").to_string(),
            time_zone: q.time_zone.name().to_string(),
            by_country: q.zones_by_country.iter().map(|(c, z)| (c.clone(), z.name().to_string())).collect(),
        }),
    };
    toml::to_string(&doc).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn an_empty_document_is_the_default_policy() {
        assert_eq!(parse_policy("").unwrap(), NotificationPolicy::default());
        let written = policy_document(&NotificationPolicy::default());
        assert_eq!(parse_policy(&written).unwrap(), NotificationPolicy::default(), "{written}");
    }

    #[test]
    fn a_document_changes_only_what_it_names() {
        let policy = parse_policy(
            r#"
            language = "es-MX"
            merge_window_minutes = 120
            [classes]
            high_value_from = "250.00"
            [customer]
            standard = ["shipped", "delivered"]
            [alerts.delivery_failed]
            team = "escalations"
            channels = ["chat"]
            [quiet_hours]
            start = "21:00"
            end = "08:00"
            time_zone = "America/New_York"
            by_country = { es = "Europe/Madrid" }
            "#,
        )
        .unwrap();
        assert_eq!(policy.merge_window, Duration::hours(2));
        assert_eq!(policy.language, MessageLanguage::Es);
        assert_eq!(policy.classes.high_value_from, Money::parse("250").unwrap());
        assert_eq!(policy.classes.bulky_from_units, 10, "unnamed rules keep the default");
        assert!(!policy.customer_hears(OrderClass::Standard, Notice::OutForDelivery));
        assert!(policy.customer_hears(OrderClass::Standard, Notice::Delivered));
        assert!(policy.customer_hears(OrderClass::Bulky, Notice::OutForDelivery), "other classes keep theirs");
        let route = policy.alert_route(ExceptionKind::DeliveryFailed);
        assert_eq!((route.team.as_str(), route.channels.as_slice()), ("escalations", &[NotifyChannel::Chat][..]));
        assert_eq!(policy.alert_route(ExceptionKind::Stalled), AlertRoute::default_for(ExceptionKind::Stalled));
        let quiet = policy.quiet_hours.as_ref().unwrap();
        assert_eq!(quiet.zone_for(Some("es")), chrono_tz::Europe::Madrid);
        assert_eq!(quiet.zone_for(Some("US")), chrono_tz::America::New_York);
        assert_eq!(parse_policy(&policy_document(&policy)).unwrap(), policy);
    }

    #[test]
    fn bad_documents_name_the_field() {
        let table = [
            ("[customer]\nstandard = [\"shipped\", \"teleported\"]", "customer.standard[1]"),
            ("[customer]\npremium = [\"shipped\"]", "customer.premium"),
            ("[alerts.gremlins]\nteam = \"x\"", "alerts.gremlins"),
            ("[alerts.late]\nchannels = [\"sms\"]", "alerts.late.channels[0]"),
            ("[alerts.late]\nteam = \"two words\"", "alerts.late.team"),
            ("[classes]\nhigh_value_from = \"lots\"", "classes.high_value_from"),
            ("[quiet_hours]\nstart = \"9pm\"\nend = \"08:00\"\ntime_zone = \"UTC\"", "quiet_hours.start"),
            (
                "[quiet_hours]\nstart = \"21:00\"\nend = \"08:00\"\ntime_zone = \"Mars/Olympus\"",
                "quiet_hours.time_zone",
            ),
            ("merge_window_minutes = -5", "merge_window_minutes"),
            ("language = \"klingon\"", "language"),
            ("colour = \"red\"", "colour"),
        ];
        for (text, field) in table {
            assert_eq!(parse_policy(text).unwrap_err().field, field, "{text}");
        }
    }

    #[test]
    fn quiet_hours_hold_a_message_until_they_end_in_the_customers_zone() {
        let quiet = QuietHours {
            start: NaiveTime::from_hms_opt(21, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            time_zone: chrono_tz::America::New_York,
            zones_by_country: vec![("ES".into(), chrono_tz::Europe::Madrid)],
        };
        let table = [
            // 15:00 in New York (EST, UTC-5): not quiet.
            ("2026-01-15T20:00:00Z", None, "2026-01-15T20:00:00Z"),
            // 23:00 in New York: held until 08:00 the next morning.
            ("2026-01-16T04:00:00Z", None, "2026-01-16T13:00:00Z"),
            // 03:00 in New York: held until 08:00 the same morning.
            ("2026-01-16T08:00:00Z", None, "2026-01-16T13:00:00Z"),
            // The same instant is 09:00 in Madrid (CET, UTC+1): a Spanish customer hears at once.
            ("2026-01-16T08:00:00Z", Some("es"), "2026-01-16T08:00:00Z"),
            // 22:30 in Madrid in summer (CEST, UTC+2): held until 08:00 Madrid time.
            ("2026-07-01T20:30:00Z", Some("ES"), "2026-07-02T06:00:00Z"),
            // Exactly 08:00 is no longer quiet; exactly 21:00 is.
            ("2026-01-16T13:00:00Z", None, "2026-01-16T13:00:00Z"),
            ("2026-01-16T02:00:00Z", None, "2026-01-16T13:00:00Z"),
        ];
        for (due, country, expected) in table {
            assert_eq!(quiet.release_at(utc(due), country), utc(expected), "{due} {country:?}");
        }
        let daytime = QuietHours {
            start: NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(14, 0, 0).unwrap(),
            time_zone: chrono_tz::UTC,
            zones_by_country: vec![],
        };
        assert_eq!(daytime.release_at(utc("2026-01-16T13:00:00Z"), None), utc("2026-01-16T14:00:00Z"));
        assert_eq!(daytime.release_at(utc("2026-01-16T14:30:00Z"), None), utc("2026-01-16T14:30:00Z"));
    }
}

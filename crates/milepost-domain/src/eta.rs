//! Milepost's own delivery estimate (DESIGN §2 "Milepost's own ETA", issue 8): a window of
//! dates learned per lane from delivered history, counted in business days, updated on each
//! milestone and held steady unless new evidence moves it materially.
//!
//! * **Lane**: carrier, service level, origin region, destination region and ship weekday
//!   ([`LaneKey`]). A region is the country plus the first character class of the postal code
//!   ([`region_of`]): the first digit for numeric codes (US ZIP national areas 0–9, German
//!   Leitregionen 0–9), the leading letters for UK postcodes (the postcode *area*: `SW`, `M`,
//!   `EH`) and the first letter for Canadian ones; the country alone when no postal code is known.
//! * **Business days**: weekends and the destination country's carrier holidays do not count
//!   ([`HolidayCalendar`]). Transit is the number of business days after the day of first carrier
//!   possession up to and including the day of delivery (handed over Friday, delivered Monday: 1).
//! * **Learning**: one histogram of transit business days per lane and per coarser scope
//!   ([`LaneScope`]). A prediction uses the most specific scope that holds at least
//!   [`MIN_SAMPLES`] deliveries: the full lane, then the lane without the weekday, then carrier and
//!   service, and otherwise no history at all.
//! * **Window**: the [`WINDOW_LOW`]–[`WINDOW_HIGH`] quantiles of the histogram (p20–p80), added
//!   to the ship day in business days. Once the parcel is moving, the histogram is conditioned on
//!   what has already elapsed (a parcel still travelling after 3 business days will take at least
//!   3). `out_for_delivery` pins the window to that day, `delivery_attempted` to the next business
//!   day, `available_for_pickup` to that day and the next business day.
//! * **The carrier's estimate** is one input: it is the window when the lane has no history, and
//!   when it disagrees strongly with history (later than the learned window's end by more than
//!   [`CARRIER_DISAGREEMENT_DAYS`] business days) the window is stretched to include it, because
//!   a carrier that announces a much later day usually knows of a delay we have not seen yet. An
//!   earlier carrier estimate never narrows the window: carriers' estimates are optimistic.
//! * **Stability** ([`stabilize`]): a published window moves only when the new one differs by at
//!   least [`MATERIAL_CHANGE_DAYS`] days counted over both edges together, when the new one does
//!   not overlap it at all, or when reality has left it (today is past its last day and the
//!   parcel is not delivered). Every move is a [`EtaChange`] the caller records, so churn (changes
//!   per shipment) is measurable.
//!
//! Nothing here reads a clock: `today` is a parameter.

use crate::milestone::Milestone;
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

/// Years whose holidays are kept in a table once worked out (outside them, worked out per call).
const REMEMBERED_YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// Lower quantile of the published window.
pub const WINDOW_LOW: f64 = 0.20;
/// Upper quantile of the published window.
pub const WINDOW_HIGH: f64 = 0.80;
/// Deliveries a scope needs before its histogram is trusted.
pub const MIN_SAMPLES: u32 = 8;
/// Transit times of this many business days or more share the last bucket.
pub const MAX_TRANSIT_DAYS: usize = 30;
/// A carrier estimate later than the learned window's end by more than this many business days
/// stretches the window.
pub const CARRIER_DISAGREEMENT_DAYS: u32 = 2;
/// A published window moves when its two edges together move by at least this many days.
pub const MATERIAL_CHANGE_DAYS: i64 = 2;
/// The window when there is neither history nor a carrier estimate: 1 to 5 business days.
pub const DEFAULT_TRANSIT: (u32, u32) = (1, 5);

/// A region: country plus postal-code prefix, see the module documentation.
pub fn region_of(country: Option<&str>, postal_code: Option<&str>) -> String {
    let country = country.map(|c| c.trim().to_ascii_uppercase()).filter(|c| !c.is_empty());
    let country = country.unwrap_or_else(|| "??".to_string());
    let postal: String = postal_code
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_uppercase();
    let Some(first) = postal.chars().next() else {
        return country;
    };
    let prefix: String = match country.as_str() {
        "GB" | "UK" => postal.chars().take_while(|c| c.is_ascii_alphabetic()).take(2).collect(),
        _ => first.to_string(),
    };
    if prefix.is_empty() { country } else { format!("{country}-{prefix}") }
}

/// The days carriers do not deliver in a country, besides weekends. The rules are computed (fixed
/// dates with their observed weekday, nth weekdays, Easter), so any year gets an answer; they were
/// checked against the official lists for 2025–2028. One-off holidays (a coronation, a state
/// funeral) are not included.
///
/// * `US`: the eleven federal holidays (New Year's Day, Martin Luther King Jr. Day, Washington's
///   Birthday, Memorial Day, Juneteenth, Independence Day, Labor Day, Columbus Day, Veterans Day,
///   Thanksgiving, Christmas), a Saturday holiday observed on the Friday before and a Sunday one
///   on the Monday after, as USPS does.
/// * `DE`: the nationwide holidays (Neujahr, Karfreitag, Ostermontag, Tag der Arbeit, Christi
///   Himmelfahrt, Pfingstmontag, Tag der Deutschen Einheit, 1. and 2. Weihnachtstag).
/// * `GB`: the bank holidays of England and Wales (New Year's Day, Good Friday, Easter Monday, the
///   early May and spring bank holidays, the summer bank holiday, Christmas Day, Boxing Day), a
///   weekend holiday substituted by the next weekday that is not already one.
/// * Any other country: weekends only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolidayCalendar {
    UnitedStates,
    Germany,
    GreatBritain,
    WeekendsOnly,
}

impl HolidayCalendar {
    /// The calendar of a country code (`US`, `DE`, `GB` or `UK`; anything else has weekends only).
    pub fn for_country(country: Option<&str>) -> Self {
        match country.map(|c| c.trim().to_ascii_uppercase()).as_deref() {
            Some("US") => HolidayCalendar::UnitedStates,
            Some("DE") => HolidayCalendar::Germany,
            Some("GB") | Some("UK") => HolidayCalendar::GreatBritain,
            _ => HolidayCalendar::WeekendsOnly,
        }
    }

    /// Whether carriers take the day off (not counting weekends).
    pub fn is_holiday(self, date: NaiveDate) -> bool {
        match self.remembered(date.year()) {
            Some(days) => days.binary_search(&date).is_ok(),
            None => self.holidays(date.year()).contains(&date),
        }
    }

    /// The holidays of a year from a table computed once per calendar for the years parcels
    /// travel in (`REMEMBERED_YEARS`): every prediction asks about dozens of days, and working a
    /// year's movable feasts out again for each of them cost more than the rest of the prediction.
    fn remembered(self, year: i32) -> Option<&'static [NaiveDate]> {
        static TABLES: [OnceLock<Vec<Vec<NaiveDate>>>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        let index = match self {
            HolidayCalendar::UnitedStates => 0,
            HolidayCalendar::Germany => 1,
            HolidayCalendar::GreatBritain => 2,
            HolidayCalendar::WeekendsOnly => return Some(&[]),
        };
        if !REMEMBERED_YEARS.contains(&year) {
            return None;
        }
        let table = TABLES[index].get_or_init(|| REMEMBERED_YEARS.map(|y| self.holidays(y)).collect());
        table.get((year - REMEMBERED_YEARS.start()) as usize).map(Vec::as_slice)
    }

    /// Whether parcels move and arrive on this day.
    pub fn is_business_day(self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.is_holiday(date)
    }

    /// The holidays of a year, in date order.
    pub fn holidays(self, year: i32) -> Vec<NaiveDate> {
        let mut days = match self {
            HolidayCalendar::UnitedStates => us_federal_holidays(year),
            HolidayCalendar::Germany => german_holidays(year),
            HolidayCalendar::GreatBritain => british_holidays(year),
            HolidayCalendar::WeekendsOnly => Vec::new(),
        };
        days.sort();
        days.dedup();
        days
    }

    /// The business day `days` business days after `from` (`from` itself when `days` is 0, even
    /// if it is not a business day).
    pub fn add_business_days(self, from: NaiveDate, days: u32) -> NaiveDate {
        let mut date = from;
        let mut left = days;
        while left > 0 {
            date += Duration::days(1);
            if self.is_business_day(date) {
                left -= 1;
            }
        }
        date
    }

    /// Business days after `from` up to and including `to` (0 when `to` is not after `from`).
    pub fn business_days_between(self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut count = 0;
        let mut date = from;
        while date < to {
            date += Duration::days(1);
            if self.is_business_day(date) {
                count += 1;
            }
        }
        count
    }

    /// `date` itself when it is a business day, otherwise the next one.
    pub fn this_or_next_business_day(self, date: NaiveDate) -> NaiveDate {
        let mut day = date;
        while !self.is_business_day(day) {
            day += Duration::days(1);
        }
        day
    }
}

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a valid calendar date")
}

fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n).expect("every month has four of each weekday")
}

fn last_weekday(year: i32, month: u32, weekday: Weekday) -> NaiveDate {
    let next_month = if month == 12 { ymd(year + 1, 1, 1) } else { ymd(year, month + 1, 1) };
    let mut day = next_month - Duration::days(1);
    while day.weekday() != weekday {
        day -= Duration::days(1);
    }
    day
}

/// A fixed-date US holiday as observed: Saturday on the Friday before, Sunday on the Monday after.
fn us_observed(date: NaiveDate) -> NaiveDate {
    match date.weekday() {
        Weekday::Sat => date - Duration::days(1),
        Weekday::Sun => date + Duration::days(1),
        _ => date,
    }
}

fn us_federal_holidays(year: i32) -> Vec<NaiveDate> {
    vec![
        us_observed(ymd(year, 1, 1)),
        nth_weekday(year, 1, Weekday::Mon, 3),
        nth_weekday(year, 2, Weekday::Mon, 3),
        last_weekday(year, 5, Weekday::Mon),
        us_observed(ymd(year, 6, 19)),
        us_observed(ymd(year, 7, 4)),
        nth_weekday(year, 9, Weekday::Mon, 1),
        nth_weekday(year, 10, Weekday::Mon, 2),
        us_observed(ymd(year, 11, 11)),
        nth_weekday(year, 11, Weekday::Thu, 4),
        us_observed(ymd(year, 12, 25)),
        // New Year's Day of the next year falls on Friday 31 December when 1 January is a Saturday.
        us_observed(ymd(year + 1, 1, 1)),
    ]
    .into_iter()
    .filter(|d| d.year() == year)
    .collect()
}

/// Easter Sunday in the Gregorian calendar (the anonymous Gregorian algorithm).
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    ymd(year, month as u32, day as u32)
}

fn german_holidays(year: i32) -> Vec<NaiveDate> {
    let easter = easter_sunday(year);
    vec![
        ymd(year, 1, 1),
        easter - Duration::days(2),
        easter + Duration::days(1),
        ymd(year, 5, 1),
        easter + Duration::days(39),
        easter + Duration::days(50),
        ymd(year, 10, 3),
        ymd(year, 12, 25),
        ymd(year, 12, 26),
    ]
}

fn british_holidays(year: i32) -> Vec<NaiveDate> {
    let easter = easter_sunday(year);
    let mut days = vec![
        easter - Duration::days(2),
        easter + Duration::days(1),
        nth_weekday(year, 5, Weekday::Mon, 1),
        last_weekday(year, 5, Weekday::Mon),
        last_weekday(year, 8, Weekday::Mon),
    ];
    // Fixed-date holidays that fall on a weekend move to the next weekday not already taken.
    for fixed in [ymd(year, 1, 1), ymd(year, 12, 25), ymd(year, 12, 26)] {
        let mut day = fixed;
        while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) || days.contains(&day) {
            day += Duration::days(1);
        }
        days.push(day);
    }
    days
}

/// A lane: where a parcel goes, with whom, and on which weekday it left.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LaneKey {
    pub carrier: String,
    pub service: String,
    pub origin_region: String,
    pub destination_region: String,
    pub ship_weekday: Weekday,
}

/// How specific the history behind a prediction is, most specific first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LaneScope {
    /// Carrier, service, regions and ship weekday.
    Lane,
    /// Carrier, service and regions, any weekday.
    Regions,
    /// Carrier and service, anywhere.
    Service,
}

impl LaneScope {
    pub const ALL: [LaneScope; 3] = [LaneScope::Lane, LaneScope::Regions, LaneScope::Service];

    pub fn as_str(self) -> &'static str {
        match self {
            LaneScope::Lane => "lane",
            LaneScope::Regions => "regions",
            LaneScope::Service => "service",
        }
    }
}

impl LaneKey {
    /// The lane of a shipment: lower-cased carrier and service (`unknown` when absent).
    pub fn new(
        carrier: Option<&str>,
        service: Option<&str>,
        origin_region: String,
        destination_region: String,
        ship_weekday: Weekday,
    ) -> Self {
        let norm = |s: Option<&str>| {
            s.map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()).unwrap_or_else(|| "unknown".into())
        };
        LaneKey { carrier: norm(carrier), service: norm(service), origin_region, destination_region, ship_weekday }
    }

    /// The key under which this lane's history is kept at a scope; stable text, stored by the
    /// store as a row key.
    pub fn scope_key(&self, scope: LaneScope) -> String {
        let LaneKey { carrier, service, origin_region, destination_region, ship_weekday } = self;
        match scope {
            LaneScope::Lane => format!("{carrier}|{service}|{origin_region}|{destination_region}|{ship_weekday}"),
            LaneScope::Regions => format!("{carrier}|{service}|{origin_region}|{destination_region}|*"),
            LaneScope::Service => format!("{carrier}|{service}|*|*|*"),
        }
    }

    /// Every key this lane's deliveries are counted under, most specific first.
    pub fn scope_keys(&self) -> [(LaneScope, String); 3] {
        LaneScope::ALL.map(|scope| (scope, self.scope_key(scope)))
    }
}

impl fmt::Display for LaneKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.scope_key(LaneScope::Lane))
    }
}

/// Counts of deliveries by transit time in business days (the last bucket holds
/// [`MAX_TRANSIT_DAYS`] and more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitHistogram {
    counts: Vec<u32>,
}

impl Default for TransitHistogram {
    fn default() -> Self {
        TransitHistogram { counts: vec![0; MAX_TRANSIT_DAYS + 1] }
    }
}

impl TransitHistogram {
    /// A histogram from stored counts (index = business days); longer input is folded into the
    /// last bucket.
    pub fn from_counts(counts: &[u32]) -> Self {
        let mut histogram = TransitHistogram::default();
        for (days, count) in counts.iter().enumerate() {
            histogram.counts[days.min(MAX_TRANSIT_DAYS)] += count;
        }
        histogram
    }

    pub fn counts(&self) -> &[u32] {
        &self.counts
    }

    pub fn record(&mut self, business_days: u32) {
        self.counts[(business_days as usize).min(MAX_TRANSIT_DAYS)] += 1;
    }

    pub fn total(&self) -> u32 {
        self.counts.iter().sum()
    }

    /// The smallest transit time whose cumulative share reaches `q`, among transit times of at
    /// least `at_least` days (the distribution conditioned on what has already elapsed). `None`
    /// when no delivery took that long.
    pub fn quantile_from(&self, q: f64, at_least: u32) -> Option<u32> {
        let start = (at_least as usize).min(MAX_TRANSIT_DAYS);
        let total: u32 = self.counts[start..].iter().sum();
        if total == 0 {
            return None;
        }
        let mut cumulative = 0u32;
        for (days, count) in self.counts.iter().enumerate().skip(start) {
            cumulative += count;
            if f64::from(cumulative) >= q * f64::from(total) && *count > 0 {
                return Some(days as u32);
            }
        }
        Some(MAX_TRANSIT_DAYS as u32)
    }
}

/// Learned histories in memory, keyed by [`LaneKey::scope_key`]; the store keeps the same counts
/// in a table and hands a prediction only the three rows it needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaneHistory {
    histograms: BTreeMap<String, TransitHistogram>,
}

impl LaneHistory {
    /// Counts one delivery under each scope of its lane.
    pub fn record(&mut self, lane: &LaneKey, business_days: u32) {
        for (_, key) in lane.scope_keys() {
            self.histograms.entry(key).or_default().record(business_days);
        }
    }

    /// The histograms of a lane's scopes, most specific first, for [`predict`].
    pub fn for_lane(&self, lane: &LaneKey) -> LaneHistograms {
        LaneHistograms {
            scopes: lane
                .scope_keys()
                .map(|(scope, key)| (scope, self.histograms.get(&key).cloned().unwrap_or_default())),
        }
    }
}

/// The histograms of one lane at each scope, as read from memory or the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneHistograms {
    pub scopes: [(LaneScope, TransitHistogram); 3],
}

impl LaneHistograms {
    /// The most specific scope with at least [`MIN_SAMPLES`] deliveries.
    pub fn best(&self) -> Option<(LaneScope, &TransitHistogram)> {
        self.scopes.iter().find(|(_, h)| h.total() >= MIN_SAMPLES).map(|(s, h)| (*s, h))
    }
}

/// A delivery window in whole days (both ends included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct EtaWindow {
    pub earliest: NaiveDate,
    pub latest: NaiveDate,
}

impl EtaWindow {
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.earliest <= date && date <= self.latest
    }

    fn single(day: NaiveDate) -> Self {
        EtaWindow { earliest: day, latest: day }
    }
}

/// What a prediction rests on, for the record of each change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EtaBasis {
    /// Learned history at this scope.
    History(LaneScope),
    /// Learned history, stretched to the carrier's much later estimate.
    HistoryAndCarrier(LaneScope),
    /// The carrier's estimate, for want of history.
    Carrier,
    /// Neither: [`DEFAULT_TRANSIT`].
    Default,
    /// A milestone that names the day (`out_for_delivery`, `delivery_attempted`…).
    Milestone,
}

impl EtaBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            EtaBasis::History(LaneScope::Lane) => "history:lane",
            EtaBasis::History(LaneScope::Regions) => "history:regions",
            EtaBasis::History(LaneScope::Service) => "history:service",
            EtaBasis::HistoryAndCarrier(LaneScope::Lane) => "history+carrier:lane",
            EtaBasis::HistoryAndCarrier(LaneScope::Regions) => "history+carrier:regions",
            EtaBasis::HistoryAndCarrier(LaneScope::Service) => "history+carrier:service",
            EtaBasis::Carrier => "carrier",
            EtaBasis::Default => "default",
            EtaBasis::Milestone => "milestone",
        }
    }
}

/// What is known of a shipment when predicting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtaEvidence {
    /// The calendar of the destination country.
    pub calendar: HolidayCalendar,
    /// The day of first carrier possession, or, before it, the day the shipment was registered
    /// (parcels are usually handed over the day their label is made).
    pub ship_day: NaiveDate,
    /// Whether the carrier has the parcel (`ship_day` is then a fact).
    pub in_carrier_hands: bool,
    /// The newest status-bearing milestone and the day it happened.
    pub latest_milestone: Option<(Milestone, NaiveDate)>,
    /// The carrier's own estimated delivery day, when it gave one.
    pub carrier_estimate: Option<NaiveDate>,
    /// The day of the prediction (the caller's clock, in the destination's terms).
    pub today: NaiveDate,
}

/// A predicted window and what it rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EtaPrediction {
    pub window: EtaWindow,
    pub basis: EtaBasis,
}

/// Predicts the delivery window of a shipment not yet delivered.
pub fn predict(histograms: &LaneHistograms, evidence: &EtaEvidence) -> EtaPrediction {
    let calendar = evidence.calendar;
    if let Some((milestone, day)) = evidence.latest_milestone {
        match milestone {
            Milestone::OutForDelivery => {
                return EtaPrediction { window: EtaWindow::single(day), basis: EtaBasis::Milestone };
            }
            Milestone::DeliveryAttempted => {
                let next = calendar.add_business_days(day, 1);
                return EtaPrediction { window: EtaWindow::single(next), basis: EtaBasis::Milestone };
            }
            Milestone::AvailableForPickup => {
                let window = EtaWindow { earliest: day, latest: calendar.add_business_days(day, 1) };
                return EtaPrediction { window, basis: EtaBasis::Milestone };
            }
            Milestone::Delivered => {
                return EtaPrediction { window: EtaWindow::single(day), basis: EtaBasis::Milestone };
            }
            _ => {}
        }
    }
    // Business days already behind the parcel: it will take at least that long (it was not
    // delivered on those days), and it cannot arrive before today.
    let elapsed =
        if evidence.in_carrier_hands { calendar.business_days_between(evidence.ship_day, evidence.today) } else { 0 };
    let earliest_possible = evidence.today.max(evidence.ship_day);
    let clamp = |window: EtaWindow| -> EtaWindow {
        let earliest = window.earliest.max(earliest_possible);
        EtaWindow { earliest, latest: window.latest.max(earliest) }
    };
    let ship_day = evidence.ship_day;
    if let Some((scope, histogram)) = histograms.best() {
        let (low, high) =
            match (histogram.quantile_from(WINDOW_LOW, elapsed), histogram.quantile_from(WINDOW_HIGH, elapsed)) {
                (Some(low), Some(high)) => (low, high),
                // Slower than anything seen on this lane: the next business day or two.
                _ => (elapsed.max(1), elapsed.max(1) + 1),
            };
        let learned = EtaWindow {
            earliest: calendar.add_business_days(ship_day, low),
            latest: calendar.add_business_days(ship_day, high),
        };
        if let Some(estimate) = evidence.carrier_estimate
            && calendar.business_days_between(learned.latest, estimate) > CARRIER_DISAGREEMENT_DAYS
        {
            let stretched = EtaWindow { earliest: learned.earliest, latest: estimate };
            return EtaPrediction { window: clamp(stretched), basis: EtaBasis::HistoryAndCarrier(scope) };
        }
        return EtaPrediction { window: clamp(learned), basis: EtaBasis::History(scope) };
    }
    if let Some(estimate) = evidence.carrier_estimate {
        // Carriers are optimistic: their day, and the business day after it.
        let window = EtaWindow { earliest: estimate, latest: calendar.add_business_days(estimate, 1) };
        return EtaPrediction { window: clamp(window), basis: EtaBasis::Carrier };
    }
    let window = EtaWindow {
        earliest: calendar.add_business_days(ship_day, DEFAULT_TRANSIT.0),
        latest: calendar.add_business_days(ship_day, DEFAULT_TRANSIT.1.max(elapsed + 1)),
    };
    EtaPrediction { window: clamp(window), basis: EtaBasis::Default }
}

/// A change of the published window, to be recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EtaChange {
    pub previous: Option<EtaWindow>,
    pub window: EtaWindow,
    pub basis: EtaBasis,
    pub reason: EtaChangeReason,
}

/// Why a published window moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EtaChangeReason {
    /// Nothing was published yet.
    First,
    /// The new evidence moves the edges by at least [`MATERIAL_CHANGE_DAYS`] together, or the new
    /// window does not overlap the old one.
    Material,
    /// The published window ended before today and the parcel is not delivered.
    RealityLeft,
}

impl EtaChangeReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EtaChangeReason::First => "first",
            EtaChangeReason::Material => "material",
            EtaChangeReason::RealityLeft => "reality_left",
        }
    }
}

/// Decides whether a new prediction replaces the published window (see the module
/// documentation); `None` keeps the published one.
pub fn stabilize(published: Option<EtaWindow>, candidate: EtaPrediction, today: NaiveDate) -> Option<EtaChange> {
    let change = |reason| EtaChange { previous: published, window: candidate.window, basis: candidate.basis, reason };
    let Some(current) = published else {
        return Some(change(EtaChangeReason::First));
    };
    if current == candidate.window {
        return None;
    }
    if current.latest < today {
        return Some(change(EtaChangeReason::RealityLeft));
    }
    let moved = (candidate.window.earliest - current.earliest).num_days().abs()
        + (candidate.window.latest - current.latest).num_days().abs();
    let disjoint = candidate.window.latest < current.earliest || candidate.window.earliest > current.latest;
    if moved >= MATERIAL_CHANGE_DAYS || disjoint {
        return Some(change(EtaChangeReason::Material));
    }
    None
}

/// Transit of a delivered parcel in business days on the destination's calendar.
pub fn transit_business_days(calendar: HolidayCalendar, shipped_on: NaiveDate, delivered_on: NaiveDate) -> u32 {
    calendar.business_days_between(shipped_on, delivered_on)
}

/// What to do with a parcel's ETA after its events changed, decided from its projected timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParcelEtaStep {
    /// Delivered: count its transit on its lane (once) and publish nothing more.
    Learn { shipped_on: NaiveDate, business_days: u32 },
    /// Still on its way: predict from this evidence (the caller adds the carrier's estimate).
    Predict(EtaEvidence),
    /// Returned, cancelled or otherwise off the delivery path: nothing to estimate.
    Nothing,
}

/// Reads a parcel's projected timeline into an ETA step. Days are taken in the offset of the
/// parcel's newest event (carriers report local time at the scan), `now` in the same offset;
/// before first carrier possession the ship day is `now`'s day or the next business day.
pub fn parcel_eta_step(
    projection: &crate::timeline::TimelineProjection,
    calendar: HolidayCalendar,
    now: chrono::DateTime<chrono::Utc>,
) -> ParcelEtaStep {
    let offset = projection
        .entries
        .iter()
        .rev()
        .find(|e| !e.advisory)
        .map(|e| *e.event.occurred_at.offset())
        .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("UTC is a valid offset"));
    let local_day = |at: chrono::DateTime<chrono::Utc>| at.with_timezone(&offset).date_naive();
    let possession = projection.first_carrier_possession_at.map(local_day);
    match projection.status {
        Some(Milestone::Delivered) => {
            let delivered = projection.status_since.map(local_day);
            match (possession, delivered) {
                (Some(shipped_on), Some(delivered_on)) => ParcelEtaStep::Learn {
                    shipped_on,
                    business_days: transit_business_days(calendar, shipped_on, delivered_on),
                },
                _ => ParcelEtaStep::Nothing,
            }
        }
        Some(m) if m.is_terminal() || m.starts_return_flow() => ParcelEtaStep::Nothing,
        status => {
            let today = local_day(now);
            ParcelEtaStep::Predict(EtaEvidence {
                calendar,
                ship_day: possession.unwrap_or_else(|| calendar.this_or_next_business_day(today)),
                in_carrier_hands: possession.is_some(),
                latest_milestone: status.zip(projection.status_since.map(local_day)),
                carrier_estimate: None,
                today,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn lane(weekday: Weekday) -> LaneKey {
        LaneKey::new(Some("UPS"), Some("Ground"), "US-8".into(), "US-7".into(), weekday)
    }

    fn evidence(ship: &str, today: &str) -> EtaEvidence {
        EtaEvidence {
            calendar: HolidayCalendar::UnitedStates,
            ship_day: d(ship),
            in_carrier_hands: true,
            latest_milestone: Some((Milestone::InTransit, d(ship))),
            carrier_estimate: None,
            today: d(today),
        }
    }

    #[test]
    fn the_remembered_holiday_tables_answer_as_the_rules_do() {
        for calendar in [HolidayCalendar::UnitedStates, HolidayCalendar::Germany, HolidayCalendar::GreatBritain] {
            for year in [1999, 2000, 2026, 2027, 2100, 2101] {
                let computed = calendar.holidays(year);
                let mut day = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
                while day.year() == year {
                    assert_eq!(calendar.is_holiday(day), computed.contains(&day), "{calendar:?} {day}");
                    day = day.succ_opt().unwrap();
                }
            }
        }
    }

    #[test]
    fn us_federal_holidays_of_2025_to_2028_match_the_opm_lists() {
        let us = HolidayCalendar::UnitedStates;
        let expected_2026 = [
            "2026-01-01",
            "2026-01-19",
            "2026-02-16",
            "2026-05-25",
            "2026-06-19",
            "2026-07-03",
            "2026-09-07",
            "2026-10-12",
            "2026-11-11",
            "2026-11-26",
            "2026-12-25",
        ];
        assert_eq!(us.holidays(2026), expected_2026.map(d).to_vec());
        // 2027: Juneteenth and Independence Day on weekends, Christmas on a Saturday, and New
        // Year's Day 2028 on a Saturday observed on Friday 31 December 2027.
        for day in ["2027-06-18", "2027-07-05", "2027-12-24", "2027-12-31", "2027-11-25"] {
            assert!(us.is_holiday(d(day)), "{day}");
        }
        assert!(!us.is_holiday(d("2028-01-01")));
        for day in ["2025-01-20", "2025-05-26", "2025-11-27", "2028-11-23", "2028-09-04", "2028-01-17"] {
            assert!(us.is_holiday(d(day)), "{day}");
        }
        assert_eq!(us.holidays(2025).len(), 11);
        // New Year's Day 2028 is observed in 2027, which therefore has twelve.
        assert_eq!(us.holidays(2027).len(), 12);
        assert_eq!(us.holidays(2028).len(), 10);
    }

    #[test]
    fn easter_dependent_holidays_follow_easter() {
        assert_eq!(easter_sunday(2025), d("2025-04-20"));
        assert_eq!(easter_sunday(2026), d("2026-04-05"));
        assert_eq!(easter_sunday(2027), d("2027-03-28"));
        assert_eq!(easter_sunday(2028), d("2028-04-16"));
        let de = HolidayCalendar::Germany;
        for day in ["2026-04-03", "2026-04-06", "2026-05-14", "2026-05-25", "2026-10-03", "2026-12-26"] {
            assert!(de.is_holiday(d(day)), "{day}");
        }
        assert_eq!(de.holidays(2027).len(), 9);
    }

    #[test]
    fn british_weekend_holidays_move_to_the_next_free_weekday() {
        let gb = HolidayCalendar::GreatBritain;
        // 2026: Boxing Day is a Saturday, observed Monday 28 December.
        assert!(gb.is_holiday(d("2026-12-28")));
        // 2027: Christmas Saturday and Boxing Day Sunday become Monday 27 and Tuesday 28.
        assert!(gb.is_holiday(d("2027-12-27")) && gb.is_holiday(d("2027-12-28")));
        // 2028: New Year's Day is a Saturday, observed Monday 3 January.
        assert!(gb.is_holiday(d("2028-01-03")));
        assert_eq!(gb.holidays(2025).len(), 8);
        assert_eq!(gb.holidays(2028).len(), 8);
    }

    #[test]
    fn business_days_skip_weekends_and_holidays() {
        let us = HolidayCalendar::UnitedStates;
        // Friday to Monday is one business day.
        assert_eq!(us.business_days_between(d("2026-11-20"), d("2026-11-23")), 1);
        // Wednesday before Thanksgiving to Monday after: Friday and Monday.
        assert_eq!(us.business_days_between(d("2026-11-25"), d("2026-11-30")), 2);
        assert_eq!(us.add_business_days(d("2026-11-25"), 1), d("2026-11-27"));
        assert_eq!(us.add_business_days(d("2026-12-24"), 1), d("2026-12-28"));
        assert_eq!(us.business_days_between(d("2026-11-25"), d("2026-11-25")), 0);
        assert_eq!(us.this_or_next_business_day(d("2026-11-26")), d("2026-11-27"));
    }

    #[test]
    fn regions_come_from_country_and_postal_prefix() {
        assert_eq!(region_of(Some("us"), Some("98101")), "US-9");
        assert_eq!(region_of(Some("DE"), Some("10115")), "DE-1");
        assert_eq!(region_of(Some("GB"), Some("SW1A 1AA")), "GB-SW");
        assert_eq!(region_of(Some("GB"), Some("M1 1AE")), "GB-M");
        assert_eq!(region_of(Some("CA"), Some("K1A 0B1")), "CA-K");
        assert_eq!(region_of(Some("FR"), None), "FR");
        assert_eq!(region_of(None, None), "??");
    }

    #[test]
    fn quantiles_read_the_histogram_and_condition_on_elapsed_days() {
        // 10 × 2 days, 20 × 3 days, 10 × 5 days.
        let histogram = TransitHistogram::from_counts(&[0, 0, 10, 20, 0, 10]);
        assert_eq!(histogram.quantile_from(0.10, 0), Some(2));
        assert_eq!(histogram.quantile_from(0.50, 0), Some(3));
        assert_eq!(histogram.quantile_from(0.90, 0), Some(5));
        // Still travelling after 4 business days: only the 5-day deliveries remain.
        assert_eq!(histogram.quantile_from(0.10, 4), Some(5));
        assert_eq!(histogram.quantile_from(0.10, 6), None);
    }

    #[test]
    fn a_thin_lane_falls_back_to_coarser_scopes() {
        let mut history = LaneHistory::default();
        for _ in 0..MIN_SAMPLES {
            history.record(&lane(Weekday::Mon), 3);
        }
        assert_eq!(history.for_lane(&lane(Weekday::Mon)).best().unwrap().0, LaneScope::Lane);
        assert_eq!(history.for_lane(&lane(Weekday::Tue)).best().unwrap().0, LaneScope::Regions);
        let other_regions = LaneKey::new(Some("ups"), Some("ground"), "US-0".into(), "US-7".into(), Weekday::Tue);
        assert_eq!(history.for_lane(&other_regions).best().unwrap().0, LaneScope::Service);
        let other_service = LaneKey::new(Some("ups"), Some("next_day_air"), "US-0".into(), "US-7".into(), Weekday::Tue);
        assert_eq!(history.for_lane(&other_service).best(), None);
    }

    #[test]
    fn history_gives_the_window_in_business_days_from_the_ship_day() {
        let mut history = LaneHistory::default();
        for days in [2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 5] {
            history.record(&lane(Weekday::Wed), days);
        }
        // Shipped Wednesday 25 November 2026, the day before Thanksgiving.
        let prediction = predict(&history.for_lane(&lane(Weekday::Wed)), &evidence("2026-11-25", "2026-11-25"));
        assert_eq!(prediction.basis, EtaBasis::History(LaneScope::Lane));
        // p20 is 3 business days (Friday 27, Monday 30, Tuesday 1), p80 is 4 (Wednesday 2).
        assert_eq!(prediction.window, EtaWindow { earliest: d("2026-12-01"), latest: d("2026-12-02") });
    }

    #[test]
    fn elapsed_time_moves_the_window_and_milestones_pin_it() {
        let mut history = LaneHistory::default();
        for days in [2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 5] {
            history.record(&lane(Weekday::Mon), days);
        }
        let histograms = history.for_lane(&lane(Weekday::Mon));
        // Shipped Monday 2 November; on Friday the 6th (4 business days later) still travelling.
        let late = predict(&histograms, &evidence("2026-11-02", "2026-11-06"));
        assert_eq!(late.window, EtaWindow { earliest: d("2026-11-06"), latest: d("2026-11-09") });
        // Slower than anything seen: the next business days.
        let later = predict(&histograms, &evidence("2026-11-02", "2026-11-13"));
        assert_eq!(later.window.earliest, d("2026-11-13"));
        assert!(later.window.latest >= later.window.earliest);
        let mut out = evidence("2026-11-02", "2026-11-04");
        out.latest_milestone = Some((Milestone::OutForDelivery, d("2026-11-04")));
        assert_eq!(predict(&histograms, &out).window, EtaWindow::single(d("2026-11-04")));
        // A failed attempt on Friday: next business day is Monday.
        let mut attempted = evidence("2026-11-02", "2026-11-06");
        attempted.latest_milestone = Some((Milestone::DeliveryAttempted, d("2026-11-06")));
        assert_eq!(predict(&histograms, &attempted).window, EtaWindow::single(d("2026-11-09")));
    }

    #[test]
    fn the_carrier_estimate_is_used_without_history_and_stretches_only_when_much_later() {
        let empty = LaneHistory::default().for_lane(&lane(Weekday::Mon));
        let mut with_estimate = evidence("2026-11-02", "2026-11-02");
        with_estimate.carrier_estimate = Some(d("2026-11-04"));
        let carrier = predict(&empty, &with_estimate);
        assert_eq!(carrier.basis, EtaBasis::Carrier);
        assert_eq!(carrier.window, EtaWindow { earliest: d("2026-11-04"), latest: d("2026-11-05") });
        let nothing = predict(&empty, &evidence("2026-11-02", "2026-11-02"));
        assert_eq!(nothing.basis, EtaBasis::Default);
        assert_eq!(nothing.window, EtaWindow { earliest: d("2026-11-03"), latest: d("2026-11-09") });

        let mut history = LaneHistory::default();
        for _ in 0..MIN_SAMPLES {
            history.record(&lane(Weekday::Mon), 2);
        }
        let histograms = history.for_lane(&lane(Weekday::Mon));
        // An optimistic (earlier) estimate does not narrow the learned window.
        with_estimate.carrier_estimate = Some(d("2026-11-03"));
        assert_eq!(predict(&histograms, &with_estimate).window, EtaWindow::single(d("2026-11-04")));
        // Three business days later than history: stretched to the carrier's day.
        with_estimate.carrier_estimate = Some(d("2026-11-09"));
        let stretched = predict(&histograms, &with_estimate);
        assert_eq!(stretched.basis, EtaBasis::HistoryAndCarrier(LaneScope::Lane));
        assert_eq!(stretched.window, EtaWindow { earliest: d("2026-11-04"), latest: d("2026-11-09") });
    }

    #[test]
    fn a_published_window_moves_only_for_material_evidence_or_when_reality_leaves_it() {
        let published = EtaWindow { earliest: d("2026-11-04"), latest: d("2026-11-06") };
        let candidate = |e: &str, l: &str| EtaPrediction {
            window: EtaWindow { earliest: d(e), latest: d(l) },
            basis: EtaBasis::Default,
        };
        assert_eq!(
            stabilize(None, candidate("2026-11-04", "2026-11-06"), d("2026-11-02")).unwrap().reason,
            EtaChangeReason::First
        );
        // One day at one edge: kept.
        assert_eq!(stabilize(Some(published), candidate("2026-11-05", "2026-11-06"), d("2026-11-02")), None);
        assert_eq!(stabilize(Some(published), candidate("2026-11-04", "2026-11-06"), d("2026-11-02")), None);
        // Two days together: moved.
        let moved = stabilize(Some(published), candidate("2026-11-05", "2026-11-05"), d("2026-11-02")).unwrap();
        assert_eq!((moved.reason, moved.previous), (EtaChangeReason::Material, Some(published)));
        // Past its end and not delivered: moved even by one day.
        let left = stabilize(Some(published), candidate("2026-11-09", "2026-11-09"), d("2026-11-07"));
        assert_eq!(left.unwrap().reason, EtaChangeReason::RealityLeft);
    }
}

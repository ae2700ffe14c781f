//! The time zone of a scan's location, for carriers that give only the local date and time of a
//! scan (UPS activities without `gmtOffset`/`gmtDate`, USPS events without `GMTOffset`): the wall
//! time is read in the IANA zone of the place the scan happened, so the instant is the one the
//! scan really had, summer time included (`chrono-tz` knows each zone's history).
//!
//! Where the data comes from: the zone names and boundaries are the IANA time zone database's
//! (`zone1970.tab`, `zone.tab` and their comments, as `chrono-tz` compiles them in). The US and
//! Canada are read per state or province, with the zone of most of its people; the states and
//! provinces that are split are decided by postal prefix where a prefix lies wholly or almost
//! wholly on one side of the line (USPS three-digit ZIP prefixes, Canada Post's forward sortation
//! areas), as listed in [`US_SPLITS`] and [`CA_SPLITS`]; a place whose prefix straddles the line
//! (Michigan's four Central counties, western Kansas, eastern Oregon outside Malheur, Nunavut)
//! takes its region's main zone. Other countries come from [`COUNTRY_ZONES`], one zone per
//! country; the countries spanning several zones (AU, BR, MX, RU) are read by region, and
//! without a region, or for a country not in the table, the zone is unknown (`None`), never
//! guessed. Regions are the two- or three-letter codes carriers send (ISO 3166-2 subdivisions
//! without the country prefix), compared without regard to case.

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDateTime, Offset, TimeZone};
use chrono_tz::Tz;
use milepost_domain::Location;

/// The zone of a location, or `None` when it cannot be known from what the location says.
/// `default_country` is the country a domestic-only sender leaves out (USPS never names the US).
pub fn zone_of(location: &Location, default_country: Option<&str>) -> Option<Tz> {
    let country = location.country.as_deref().or(default_country)?;
    zone_for(country, location.region.as_deref(), location.postal_code.as_deref())
}

/// The zone of a country, region (state or province code) and postal code.
pub fn zone_for(country: &str, region: Option<&str>, postal_code: Option<&str>) -> Option<Tz> {
    let country = country.trim().to_ascii_uppercase();
    let country = match country.as_str() {
        "USA" | "UNITED STATES" => "US",
        "CAN" | "CANADA" => "CA",
        other => other,
    };
    let region = region.map(|r| r.trim().to_ascii_uppercase()).filter(|r| !r.is_empty());
    let postal = postal_code.map(|p| p.trim().to_ascii_uppercase().replace(' ', "")).filter(|p| !p.is_empty());
    let name = match country {
        "US" => by_region(US_SPLITS, US_STATES, region.as_deref(), postal.as_deref()),
        "CA" => by_region(CA_SPLITS, CA_PROVINCES, region.as_deref(), postal.as_deref()),
        "AU" => by_region(AU_SPLITS, AU_STATES, region.as_deref(), postal.as_deref()),
        "BR" => lookup(BR_STATES, region.as_deref()?),
        "MX" => lookup(MX_STATES, region.as_deref()?).or(Some("America/Mexico_City")),
        "RU" => lookup(RU_REGIONS, region.as_deref()?),
        "ES" => Some(spain(region.as_deref(), postal.as_deref())),
        "PT" => Some(portugal(region.as_deref(), postal.as_deref())),
        // Magallanes (CL-MA, Punta Arenas) keeps summer time all year; the rest of Chile is Santiago.
        "CL" if region.as_deref() == Some("MA") => Some("America/Punta_Arenas"),
        other => lookup(COUNTRY_ZONES, other),
    }?;
    name.parse().ok()
}

/// A local wall time read in a zone. In the hour repeated when summer time ends the earlier
/// reading is taken; a wall time in the hour skipped when it begins is read with the offset in
/// force just before the gap (a scanner whose clock had not yet jumped).
pub fn local_instant(zone: Tz, wall: NaiveDateTime) -> DateTime<FixedOffset> {
    match zone.from_local_datetime(&wall) {
        LocalResult::Single(t) => t.fixed_offset(),
        LocalResult::Ambiguous(earlier, _) => earlier.fixed_offset(),
        LocalResult::None => {
            let before = zone.offset_from_utc_datetime(&(wall - chrono::Duration::hours(3))).fix();
            before.from_utc_datetime(&(wall - chrono::Duration::seconds(i64::from(before.local_minus_utc()))))
        }
    }
}

fn lookup(table: &[(&str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, zone)| *zone)
}

/// The split table decides first (region and postal prefix), then the region's main zone.
fn by_region(
    splits: &[(&str, &str, &'static str)],
    regions: &[(&str, &'static str)],
    region: Option<&str>,
    postal: Option<&str>,
) -> Option<&'static str> {
    if let Some(postal) = postal {
        let split =
            splits.iter().find(|(r, prefix, _)| region.is_none_or(|given| given == *r) && postal.starts_with(prefix));
        if let Some((_, _, zone)) = split {
            return Some(zone);
        }
    }
    lookup(regions, region?)
}

/// Mainland and the Balearics are Madrid; the Canary Islands (provinces Las Palmas `GC`/`35…`
/// and Santa Cruz de Tenerife `TF`/`38…`) are an hour behind.
fn spain(region: Option<&str>, postal: Option<&str>) -> &'static str {
    let canary = matches!(region, Some("CN" | "GC" | "TF"))
        || postal.is_some_and(|p| p.starts_with("35") || p.starts_with("38"));
    if canary { "Atlantic/Canary" } else { "Europe/Madrid" }
}

/// The mainland is Lisbon; Madeira (`30`, postal `90`–`93…`) and the Azores (`20`, postal
/// `95`–`99…`) have their own zones.
fn portugal(region: Option<&str>, postal: Option<&str>) -> &'static str {
    let prefix = postal.and_then(|p| p.get(..2)).and_then(|p| p.parse::<u8>().ok());
    match (region, prefix) {
        (Some("20"), _) | (_, Some(95..=99)) => "Atlantic/Azores",
        (Some("30"), _) | (_, Some(90..=93)) => "Atlantic/Madeira",
        _ => "Europe/Lisbon",
    }
}

/// US states, districts and territories (USPS codes) with the zone of most of their people.
pub const US_STATES: &[(&str, &str)] = &[
    ("AL", "America/Chicago"),
    ("AK", "America/Anchorage"),
    ("AZ", "America/Phoenix"),
    ("AR", "America/Chicago"),
    ("CA", "America/Los_Angeles"),
    ("CO", "America/Denver"),
    ("CT", "America/New_York"),
    ("DE", "America/New_York"),
    ("DC", "America/New_York"),
    ("FL", "America/New_York"),
    ("GA", "America/New_York"),
    ("HI", "Pacific/Honolulu"),
    ("ID", "America/Boise"),
    ("IL", "America/Chicago"),
    ("IN", "America/Indiana/Indianapolis"),
    ("IA", "America/Chicago"),
    ("KS", "America/Chicago"),
    ("KY", "America/New_York"),
    ("LA", "America/Chicago"),
    ("ME", "America/New_York"),
    ("MD", "America/New_York"),
    ("MA", "America/New_York"),
    ("MI", "America/Detroit"),
    ("MN", "America/Chicago"),
    ("MS", "America/Chicago"),
    ("MO", "America/Chicago"),
    ("MT", "America/Denver"),
    ("NE", "America/Chicago"),
    ("NV", "America/Los_Angeles"),
    ("NH", "America/New_York"),
    ("NJ", "America/New_York"),
    ("NM", "America/Denver"),
    ("NY", "America/New_York"),
    ("NC", "America/New_York"),
    ("ND", "America/Chicago"),
    ("OH", "America/New_York"),
    ("OK", "America/Chicago"),
    ("OR", "America/Los_Angeles"),
    ("PA", "America/New_York"),
    ("RI", "America/New_York"),
    ("SC", "America/New_York"),
    ("SD", "America/Chicago"),
    ("TN", "America/Chicago"),
    ("TX", "America/Chicago"),
    ("UT", "America/Denver"),
    ("VT", "America/New_York"),
    ("VA", "America/New_York"),
    ("WA", "America/Los_Angeles"),
    ("WV", "America/New_York"),
    ("WI", "America/Chicago"),
    ("WY", "America/Denver"),
    ("PR", "America/Puerto_Rico"),
    ("VI", "America/St_Thomas"),
    ("GU", "Pacific/Guam"),
    ("MP", "Pacific/Saipan"),
    ("AS", "Pacific/Pago_Pago"),
];

/// Split states by three-digit ZIP prefix: (state, prefix, zone). Each prefix here lies in the
/// other zone than its state's main one for most of its people; where a listed prefix has a part
/// on the other side, the comment names it. Arizona is `America/Phoenix` (no summer time) even on
/// the Navajo Nation, which keeps Mountain summer time: its ZIPs share prefixes with the rest.
pub const US_SPLITS: &[(&str, &str, &str)] = &[
    // Florida west of the Apalachicola: Panama City and Pensacola.
    ("FL", "324", "America/Chicago"),
    ("FL", "325", "America/Chicago"),
    // Idaho's panhandle and the Lewiston–Moscow area are Pacific.
    ("ID", "835", "America/Los_Angeles"),
    ("ID", "838", "America/Los_Angeles"),
    // Indiana's northwest (Gary) and southwest (Evansville) corners are Central.
    ("IN", "463", "America/Chicago"),
    ("IN", "464", "America/Chicago"),
    ("IN", "476", "America/Chicago"),
    ("IN", "477", "America/Chicago"),
    // Western Kentucky (Paducah, Bowling Green, Owensboro, Madisonville) is Central.
    ("KY", "420", "America/Chicago"),
    ("KY", "421", "America/Chicago"),
    ("KY", "422", "America/Chicago"),
    ("KY", "423", "America/Chicago"),
    ("KY", "424", "America/Chicago"),
    // The Nebraska panhandle (Scottsbluff, Alliance) is Mountain.
    ("NE", "693", "America/Denver"),
    // Southwestern North Dakota (Dickinson) is Mountain.
    ("ND", "586", "America/Denver"),
    // Malheur County, Oregon (Ontario) keeps Idaho's Mountain time.
    ("OR", "979", "America/Boise"),
    // Western South Dakota (Rapid City) is Mountain.
    ("SD", "577", "America/Denver"),
    // East Tennessee (Chattanooga, Knoxville, the Tri-Cities) is Eastern. 373 is mostly Eastern
    // (Cleveland, Athens, Dayton) but also holds Central counties (Coffee, Franklin, Marion,
    // Grundy, Sequatchie, Bledsoe), which this table reads as Eastern.
    ("TN", "373", "America/New_York"),
    ("TN", "374", "America/New_York"),
    ("TN", "376", "America/New_York"),
    ("TN", "377", "America/New_York"),
    ("TN", "378", "America/New_York"),
    ("TN", "379", "America/New_York"),
    // Far west Texas (El Paso and Hudspeth counties) is Mountain; 798 also holds Alpine, Marfa and
    // Presidio, which are Central and which this table reads as Mountain.
    ("TX", "798", "America/Denver"),
    ("TX", "799", "America/Denver"),
    ("TX", "885", "America/Denver"),
];

/// Canadian provinces and territories (Canada Post codes) with the zone of most of their people.
pub const CA_PROVINCES: &[(&str, &str)] = &[
    ("AB", "America/Edmonton"),
    ("BC", "America/Vancouver"),
    ("MB", "America/Winnipeg"),
    ("NB", "America/Moncton"),
    ("NL", "America/St_Johns"),
    ("NS", "America/Halifax"),
    ("NT", "America/Yellowknife"),
    ("NU", "America/Iqaluit"),
    ("ON", "America/Toronto"),
    ("PE", "America/Halifax"),
    ("QC", "America/Toronto"),
    ("SK", "America/Regina"),
    ("YT", "America/Whitehorse"),
];

/// Split provinces by forward sortation area prefix: (province, prefix, zone).
pub const CA_SPLITS: &[(&str, &str, &str)] = &[
    // Northwestern Ontario west of Thunder Bay (Kenora, Dryden, Fort Frances, Sioux Lookout).
    ("ON", "P8", "America/Winnipeg"),
    ("ON", "P9", "America/Winnipeg"),
    // Lloydminster, Saskatchewan keeps Alberta's time.
    ("SK", "S9V", "America/Edmonton"),
    // Labrador outside its southeast corner is on Atlantic time.
    ("NL", "A0P", "America/Goose_Bay"),
    ("NL", "A2V", "America/Goose_Bay"),
];

/// Australian states and territories.
pub const AU_STATES: &[(&str, &str)] = &[
    ("NSW", "Australia/Sydney"),
    ("ACT", "Australia/Sydney"),
    ("VIC", "Australia/Melbourne"),
    ("QLD", "Australia/Brisbane"),
    ("SA", "Australia/Adelaide"),
    ("WA", "Australia/Perth"),
    ("TAS", "Australia/Hobart"),
    ("NT", "Australia/Darwin"),
];

/// Broken Hill (postcode 2880) is in New South Wales on South Australia's time.
pub const AU_SPLITS: &[(&str, &str, &str)] = &[("NSW", "2880", "Australia/Broken_Hill")];

/// Brazilian states.
pub const BR_STATES: &[(&str, &str)] = &[
    ("AC", "America/Rio_Branco"),
    ("AL", "America/Maceio"),
    ("AP", "America/Belem"),
    ("AM", "America/Manaus"),
    ("BA", "America/Bahia"),
    ("CE", "America/Fortaleza"),
    ("DF", "America/Sao_Paulo"),
    ("ES", "America/Sao_Paulo"),
    ("GO", "America/Sao_Paulo"),
    ("MA", "America/Fortaleza"),
    ("MT", "America/Cuiaba"),
    ("MS", "America/Campo_Grande"),
    ("MG", "America/Sao_Paulo"),
    ("PA", "America/Belem"),
    ("PB", "America/Fortaleza"),
    ("PR", "America/Sao_Paulo"),
    ("PE", "America/Recife"),
    ("PI", "America/Fortaleza"),
    ("RJ", "America/Sao_Paulo"),
    ("RN", "America/Fortaleza"),
    ("RS", "America/Sao_Paulo"),
    ("RO", "America/Porto_Velho"),
    ("RR", "America/Boa_Vista"),
    ("SC", "America/Sao_Paulo"),
    ("SP", "America/Sao_Paulo"),
    ("SE", "America/Maceio"),
    ("TO", "America/Araguaina"),
];

/// Mexican states that are not on central time; any other state is `America/Mexico_City`. A
/// Mexico without region is unknown, like the other countries of several zones.
pub const MX_STATES: &[(&str, &str)] = &[
    ("BC", "America/Tijuana"),
    ("BCN", "America/Tijuana"),
    ("BCS", "America/Mazatlan"),
    ("SON", "America/Hermosillo"),
    ("SIN", "America/Mazatlan"),
    ("NAY", "America/Mazatlan"),
    ("CHH", "America/Chihuahua"),
    ("ROO", "America/Cancun"),
];

/// Russian federal subjects (ISO 3166-2:RU codes) of the larger cities outside Moscow time, and
/// Moscow's own; a region not listed is unknown.
pub const RU_REGIONS: &[(&str, &str)] = &[
    ("MOW", "Europe/Moscow"),
    ("MOS", "Europe/Moscow"),
    ("SPE", "Europe/Moscow"),
    ("LEN", "Europe/Moscow"),
    ("KGD", "Europe/Kaliningrad"),
    ("SAM", "Europe/Samara"),
    ("UD", "Europe/Samara"),
    ("SVE", "Asia/Yekaterinburg"),
    ("CHE", "Asia/Yekaterinburg"),
    ("BA", "Asia/Yekaterinburg"),
    ("PER", "Asia/Yekaterinburg"),
    ("TYU", "Asia/Yekaterinburg"),
    ("OMS", "Asia/Omsk"),
    ("NVS", "Asia/Novosibirsk"),
    ("KYA", "Asia/Krasnoyarsk"),
    ("IRK", "Asia/Irkutsk"),
    ("SA", "Asia/Yakutsk"),
    ("PRI", "Asia/Vladivostok"),
    ("KHA", "Asia/Vladivostok"),
    ("MAG", "Asia/Magadan"),
    ("KAM", "Asia/Kamchatka"),
];

/// Countries on one zone (ISO 3166-1 alpha-2), their zone as the IANA database names it. A
/// country with several zones is left out unless one holds nearly everyone and the others are
/// small islands (New Zealand's Chatham Islands, Chile's Easter Island, Ecuador's Galápagos are
/// then read as the mainland; Chile's Magallanes is read by region). Overseas territories have
/// their own ISO codes (GP, RE, GL, …) and are not in the table.
pub const COUNTRY_ZONES: &[(&str, &str)] = &[
    ("AD", "Europe/Andorra"),
    ("AE", "Asia/Dubai"),
    ("AF", "Asia/Kabul"),
    ("AL", "Europe/Tirane"),
    ("AM", "Asia/Yerevan"),
    ("AO", "Africa/Luanda"),
    ("AR", "America/Argentina/Buenos_Aires"),
    ("AT", "Europe/Vienna"),
    ("AZ", "Asia/Baku"),
    ("BA", "Europe/Sarajevo"),
    ("BB", "America/Barbados"),
    ("BD", "Asia/Dhaka"),
    ("BE", "Europe/Brussels"),
    ("BG", "Europe/Sofia"),
    ("BH", "Asia/Bahrain"),
    ("BO", "America/La_Paz"),
    ("BS", "America/Nassau"),
    ("BY", "Europe/Minsk"),
    ("BZ", "America/Belize"),
    ("CH", "Europe/Zurich"),
    ("CI", "Africa/Abidjan"),
    ("CL", "America/Santiago"),
    ("CM", "Africa/Douala"),
    ("CN", "Asia/Shanghai"),
    ("CO", "America/Bogota"),
    ("CR", "America/Costa_Rica"),
    ("CU", "America/Havana"),
    ("CY", "Asia/Nicosia"),
    ("CZ", "Europe/Prague"),
    ("DE", "Europe/Berlin"),
    ("DK", "Europe/Copenhagen"),
    ("DO", "America/Santo_Domingo"),
    ("DZ", "Africa/Algiers"),
    ("EC", "America/Guayaquil"),
    ("EE", "Europe/Tallinn"),
    ("EG", "Africa/Cairo"),
    ("ET", "Africa/Addis_Ababa"),
    ("FI", "Europe/Helsinki"),
    ("FR", "Europe/Paris"),
    ("GB", "Europe/London"),
    ("GE", "Asia/Tbilisi"),
    ("GH", "Africa/Accra"),
    ("GR", "Europe/Athens"),
    ("GT", "America/Guatemala"),
    ("HK", "Asia/Hong_Kong"),
    ("HN", "America/Tegucigalpa"),
    ("HR", "Europe/Zagreb"),
    ("HU", "Europe/Budapest"),
    ("IE", "Europe/Dublin"),
    ("IL", "Asia/Jerusalem"),
    ("IN", "Asia/Kolkata"),
    ("IQ", "Asia/Baghdad"),
    ("IR", "Asia/Tehran"),
    ("IS", "Atlantic/Reykjavik"),
    ("IT", "Europe/Rome"),
    ("JM", "America/Jamaica"),
    ("JO", "Asia/Amman"),
    ("JP", "Asia/Tokyo"),
    ("KE", "Africa/Nairobi"),
    ("KH", "Asia/Phnom_Penh"),
    ("KR", "Asia/Seoul"),
    ("KW", "Asia/Kuwait"),
    ("LA", "Asia/Vientiane"),
    ("LB", "Asia/Beirut"),
    ("LI", "Europe/Vaduz"),
    ("LK", "Asia/Colombo"),
    ("LT", "Europe/Vilnius"),
    ("LU", "Europe/Luxembourg"),
    ("LV", "Europe/Riga"),
    ("MA", "Africa/Casablanca"),
    ("MC", "Europe/Monaco"),
    ("MD", "Europe/Chisinau"),
    ("ME", "Europe/Podgorica"),
    ("MK", "Europe/Skopje"),
    ("MM", "Asia/Yangon"),
    ("MO", "Asia/Macau"),
    ("MT", "Europe/Malta"),
    ("MU", "Indian/Mauritius"),
    ("MV", "Indian/Maldives"),
    ("MY", "Asia/Kuala_Lumpur"),
    ("NG", "Africa/Lagos"),
    ("NI", "America/Managua"),
    ("NL", "Europe/Amsterdam"),
    ("NO", "Europe/Oslo"),
    ("NP", "Asia/Kathmandu"),
    ("NZ", "Pacific/Auckland"),
    ("OM", "Asia/Muscat"),
    ("PA", "America/Panama"),
    ("PE", "America/Lima"),
    ("PH", "Asia/Manila"),
    ("PK", "Asia/Karachi"),
    ("PL", "Europe/Warsaw"),
    ("PY", "America/Asuncion"),
    ("QA", "Asia/Qatar"),
    ("RO", "Europe/Bucharest"),
    ("RS", "Europe/Belgrade"),
    ("RW", "Africa/Kigali"),
    ("SA", "Asia/Riyadh"),
    ("SE", "Europe/Stockholm"),
    ("SG", "Asia/Singapore"),
    ("SI", "Europe/Ljubljana"),
    ("SK", "Europe/Bratislava"),
    ("SM", "Europe/San_Marino"),
    ("SN", "Africa/Dakar"),
    ("SV", "America/El_Salvador"),
    ("TH", "Asia/Bangkok"),
    ("TN", "Africa/Tunis"),
    ("TR", "Europe/Istanbul"),
    ("TT", "America/Port_of_Spain"),
    ("TW", "Asia/Taipei"),
    ("TZ", "Africa/Dar_es_Salaam"),
    ("UA", "Europe/Kyiv"),
    ("UG", "Africa/Kampala"),
    ("UY", "America/Montevideo"),
    ("UZ", "Asia/Tashkent"),
    ("VA", "Europe/Vatican"),
    ("VE", "America/Caracas"),
    ("VN", "Asia/Ho_Chi_Minh"),
    ("ZA", "Africa/Johannesburg"),
    ("ZM", "Africa/Lusaka"),
    ("ZW", "Africa/Harare"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn zone(country: &str, region: Option<&str>, postal: Option<&str>) -> Option<String> {
        zone_for(country, region, postal).map(|z| z.name().to_string())
    }

    fn wall(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap()
    }

    #[test]
    fn every_zone_named_in_the_tables_is_one_the_database_knows() {
        let mut names: Vec<&str> = Vec::new();
        for table in [US_STATES, CA_PROVINCES, AU_STATES, BR_STATES, MX_STATES, RU_REGIONS, COUNTRY_ZONES] {
            names.extend(table.iter().map(|(_, z)| *z));
        }
        for table in [US_SPLITS, CA_SPLITS, AU_SPLITS] {
            names.extend(table.iter().map(|(_, _, z)| *z));
        }
        names.extend(["Atlantic/Canary", "Europe/Madrid", "Atlantic/Azores", "Atlantic/Madeira", "Europe/Lisbon"]);
        names.extend(["America/Mexico_City", "America/Punta_Arenas"]);
        for name in names {
            assert!(name.parse::<Tz>().is_ok(), "{name} is not an IANA zone chrono-tz knows");
        }
    }

    #[test]
    fn every_split_prefix_belongs_to_a_region_of_its_table() {
        for (region, _, _) in US_SPLITS {
            assert!(lookup(US_STATES, region).is_some(), "{region}");
        }
        for (region, _, _) in CA_SPLITS {
            assert!(lookup(CA_PROVINCES, region).is_some(), "{region}");
        }
    }

    #[test]
    fn us_states_read_in_their_main_zone_and_split_states_by_zip_prefix() {
        assert_eq!(zone("US", Some("MI"), None).as_deref(), Some("America/Detroit"));
        assert_eq!(zone("US", Some("tn"), None).as_deref(), Some("America/Chicago"), "Nashville and Memphis");
        assert_eq!(zone("US", Some("TN"), Some("37902")).as_deref(), Some("America/New_York"), "Knoxville");
        assert_eq!(zone("US", Some("TN"), Some("37203")).as_deref(), Some("America/Chicago"), "Nashville");
        assert_eq!(zone("US", Some("FL"), Some("32501")).as_deref(), Some("America/Chicago"), "Pensacola");
        assert_eq!(zone("US", Some("FL"), Some("34442")).as_deref(), Some("America/New_York"), "Hernando");
        assert_eq!(zone("US", Some("TX"), Some("79901")).as_deref(), Some("America/Denver"), "El Paso");
        assert_eq!(zone("US", Some("IN"), Some("46204")).as_deref(), Some("America/Indiana/Indianapolis"));
        assert_eq!(zone("US", Some("IN"), Some("47708")).as_deref(), Some("America/Chicago"), "Evansville");
        assert_eq!(zone("US", Some("ID"), Some("83814")).as_deref(), Some("America/Los_Angeles"), "Coeur d'Alene");
        assert_eq!(zone("US", Some("AZ"), None).as_deref(), Some("America/Phoenix"));
        assert_eq!(zone("USA", Some("WI"), Some("53207")).as_deref(), Some("America/Chicago"));
        // A ZIP without its state still decides when it is a split prefix; otherwise the state is needed.
        assert_eq!(zone("US", None, Some("79901")).as_deref(), Some("America/Denver"));
        assert_eq!(zone("US", None, Some("10001")), None);
        assert_eq!(zone("US", None, None), None);
        assert_eq!(zone("US", Some("AE"), None), None, "military mail has no zone");
    }

    #[test]
    fn canada_reads_by_province_and_northwestern_ontario_by_postal_prefix() {
        assert_eq!(zone("CA", Some("ON"), Some("M5V 2T6")).as_deref(), Some("America/Toronto"));
        assert_eq!(zone("CA", Some("ON"), Some("P9N 1A1")).as_deref(), Some("America/Winnipeg"), "Kenora");
        assert_eq!(zone("CA", Some("SK"), Some("S9V 0A1")).as_deref(), Some("America/Edmonton"), "Lloydminster");
        assert_eq!(zone("CA", Some("SK"), None).as_deref(), Some("America/Regina"));
        assert_eq!(zone("CA", None, None), None);
    }

    #[test]
    fn multi_zone_countries_need_their_region_and_others_have_one_zone() {
        assert_eq!(zone("AU", Some("WA"), None).as_deref(), Some("Australia/Perth"));
        assert_eq!(zone("AU", Some("NSW"), Some("2880")).as_deref(), Some("Australia/Broken_Hill"));
        assert_eq!(zone("AU", None, None), None);
        assert_eq!(zone("BR", Some("AM"), None).as_deref(), Some("America/Manaus"));
        assert_eq!(zone("BR", None, None), None);
        assert_eq!(zone("MX", Some("BC"), None).as_deref(), Some("America/Tijuana"));
        assert_eq!(zone("MX", Some("JAL"), None).as_deref(), Some("America/Mexico_City"));
        assert_eq!(zone("RU", Some("KGD"), None).as_deref(), Some("Europe/Kaliningrad"));
        assert_eq!(zone("RU", None, None), None);
        assert_eq!(zone("ES", None, Some("38001")).as_deref(), Some("Atlantic/Canary"));
        assert_eq!(zone("ES", None, Some("28001")).as_deref(), Some("Europe/Madrid"));
        assert_eq!(zone("PT", None, Some("9500-100")).as_deref(), Some("Atlantic/Azores"));
        assert_eq!(zone("be", None, None).as_deref(), Some("Europe/Brussels"));
        assert_eq!(zone("SG", None, None).as_deref(), Some("Asia/Singapore"));
        assert_eq!(zone("CL", Some("MA"), None).as_deref(), Some("America/Punta_Arenas"));
        assert_eq!(zone("CL", Some("RM"), None).as_deref(), Some("America/Santiago"));
        assert_eq!(zone("XX", None, None), None);
        assert_eq!(zone("ID", None, None), None, "Indonesia spans three zones");
    }

    #[test]
    fn a_wall_time_takes_the_offset_in_force_that_day_including_summer_time() {
        let detroit: Tz = "America/Detroit".parse().unwrap();
        assert_eq!(local_instant(detroit, wall("2021-10-21T14:33:16")).to_rfc3339(), "2021-10-21T14:33:16-04:00");
        assert_eq!(local_instant(detroit, wall("2021-12-21T14:33:16")).to_rfc3339(), "2021-12-21T14:33:16-05:00");
    }

    #[test]
    fn the_repeated_hour_reads_as_the_earlier_and_the_skipped_hour_with_the_offset_before_it() {
        let chicago: Tz = "America/Chicago".parse().unwrap();
        // 2025-11-02 01:30 happened twice in Chicago: first at -05:00.
        assert_eq!(local_instant(chicago, wall("2025-11-02T01:30:00")).to_rfc3339(), "2025-11-02T01:30:00-05:00");
        // 2025-03-09 02:30 never happened in Chicago; a clock still on -06:00 showed it at 08:30 UTC.
        let skipped = local_instant(chicago, wall("2025-03-09T02:30:00"));
        assert_eq!(skipped.naive_utc(), NaiveDate::from_ymd_opt(2025, 3, 9).unwrap().and_hms_opt(8, 30, 0).unwrap());
    }
}

//! Carrier detection from a tracking number's shape, with check digits where the format has
//! them, from the host of a carrier's public tracking page, and that page for a number. Used when
//! a shipment is registered without a carrier and to link customers to the carrier's own page.

/// The likely carrier (lower-case key: `ups`, `usps`, `fedex`, `dhl`) of a normalized tracking
/// number, or `None` when the shape is not distinctive.
pub fn detect_carrier(tracking_number: &str) -> Option<&'static str> {
    let t = tracking_number.trim().to_ascii_uppercase();
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if t.len() == 18 && t.starts_with("1Z") && t.chars().all(|c| c.is_ascii_alphanumeric()) {
        return ups_check_digit_ok(&t).then_some("ups");
    }
    if digits(&t) && (20..=22).contains(&t.len()) {
        if t.len() == 22 && (t.starts_with("92") || t.starts_with("93") || t.starts_with("94") || t.starts_with("95"))
            || usps_mod10_ok(&t)
        {
            return Some("usps");
        }
        return None;
    }
    if digits(&t) && (t.len() == 12 || t.len() == 15) {
        return Some("fedex");
    }
    if digits(&t) && t.len() == 10 {
        return dhl_express_check_ok(&t).then_some("dhl");
    }
    if t.len() == 13 && t[..2].chars().all(|c| c.is_ascii_alphabetic()) && digits(&t[2..11]) && t.ends_with("US") {
        return Some("usps");
    }
    None
}

/// The carrier (lower-case key) whose public tracking site a URL points at, by its host:
/// `https://www.ups.com/track?tracknum=…` is `ups`. Only the host decides, and only whole domain
/// labels match (`ups.com` or `*.ups.com`, never `groups.com`), so a store's own tracking page
/// that merely mentions a carrier in its path is not taken for the carrier.
pub fn carrier_from_tracking_url(url: &str) -> Option<&'static str> {
    let rest = url.trim();
    let rest = rest.split_once("://").map_or(rest, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host_port.split(':').next()?.trim_end_matches('.').to_ascii_lowercase();
    const SITES: [(&str, &str); 7] = [
        ("ups.com", "ups"),
        ("fedex.com", "fedex"),
        ("usps.com", "usps"),
        ("dhl.com", "dhl"),
        ("dhl.de", "dhl"),
        ("dhl.co.uk", "dhl"),
        ("dhlparcel.nl", "dhl"),
    ];
    SITES.iter().find(|(domain, _)| host == *domain || host.ends_with(&format!(".{domain}"))).map(|(_, key)| *key)
}

/// The carrier's public tracking page for a number, for links on the tracking page and in
/// messages.
pub fn tracking_url(carrier: &str, tracking_number: &str) -> Option<String> {
    let number: String = tracking_number.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let url = match carrier.trim().to_ascii_lowercase().as_str() {
        "ups" => format!("https://www.ups.com/track?tracknum={number}"),
        "usps" => format!("https://tools.usps.com/go/TrackConfirmAction?tLabels={number}"),
        "fedex" => format!("https://www.fedex.com/fedextrack/?trknbr={number}"),
        "dhl" => format!("https://www.dhl.com/global-en/home/tracking/tracking-express.html?tracking-id={number}"),
        _ => return None,
    };
    Some(url)
}

/// UPS 1Z numbers: the last character checks the 15 characters after "1Z" (letters count as
/// digits by the UPS table: (ord - 63) mod 10), odd positions once, even positions doubled.
fn ups_check_digit_ok(t: &str) -> bool {
    let body: Vec<u32> = t[2..17]
        .chars()
        .map(|c| if c.is_ascii_digit() { c as u32 - '0' as u32 } else { (c as u32 - 63) % 10 })
        .collect();
    let sum: u32 = body.iter().enumerate().map(|(i, d)| if i % 2 == 1 { d * 2 } else { *d }).sum();
    let check = (10 - sum % 10) % 10;
    t.chars().last().and_then(|c| c.to_digit(10)) == Some(check)
}

/// USPS IMpb and older 20-digit numbers: mod 10 with weights 3 and 1 from the right.
fn usps_mod10_ok(t: &str) -> bool {
    let digits: Vec<u32> = t.chars().filter_map(|c| c.to_digit(10)).collect();
    let (body, check) = digits.split_at(digits.len() - 1);
    let sum: u32 = body.iter().rev().enumerate().map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d }).sum();
    (10 - sum % 10) % 10 == check[0]
}

/// DHL Express waybills: the last digit is the first nine mod 7.
fn dhl_express_check_ok(t: &str) -> bool {
    let body: u64 = t[..9].parse().unwrap_or(0);
    t[9..].parse::<u64>().ok() == Some(body % 7)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ups_numbers_are_recognized_by_prefix_and_check_digit() {
        assert_eq!(detect_carrier("1Z999AA10123456784"), Some("ups"));
        assert_eq!(detect_carrier("1Z999AA10123456785"), None);
    }

    #[test]
    fn usps_fedex_and_dhl_shapes_are_recognized() {
        assert_eq!(detect_carrier("9400111899223197428490"), Some("usps"));
        assert_eq!(detect_carrier("EC123456789US"), Some("usps"));
        assert_eq!(detect_carrier("123456789012"), Some("fedex"));
        assert_eq!(detect_carrier("1234567891"), Some("dhl"), "123456789 mod 7 = 1");
        assert_eq!(detect_carrier("1234567890"), None);
        assert_eq!(detect_carrier("ABC"), None);
    }

    #[test]
    fn a_tracking_url_names_its_carrier_by_host_only() {
        assert_eq!(carrier_from_tracking_url("https://www.ups.com/track?tracknum=1Z999AA10123456784"), Some("ups"));
        assert_eq!(
            carrier_from_tracking_url("https://tools.usps.com/go/TrackConfirmAction?tLabels=9400"),
            Some("usps")
        );
        assert_eq!(carrier_from_tracking_url("HTTPS://WWW.FEDEX.COM/fedextrack/?trknbr=1"), Some("fedex"));
        assert_eq!(carrier_from_tracking_url("https://www.dhl.de:443/de/privatkunden.html?piececode=1"), Some("dhl"));
        assert_eq!(carrier_from_tracking_url("www.ups.com/track"), Some("ups"), "no scheme");
        assert_eq!(carrier_from_tracking_url("https://groups.com/track"), None, "whole labels only");
        assert_eq!(carrier_from_tracking_url("https://shop.example/track/ups.com/1Z"), None, "the path does not count");
        assert_eq!(carrier_from_tracking_url("https://ups.com.evil.example/"), None);
        assert_eq!(carrier_from_tracking_url(""), None);
    }

    #[test]
    fn tracking_urls_point_at_the_carrier() {
        assert!(tracking_url("UPS", "1Z999AA10123456784").unwrap().contains("ups.com"));
        assert_eq!(tracking_url("local-fleet", "X1"), None);
    }
}

//! GS1 keys of the identifiers an EPCIS document names objects and places by, in both spellings
//! GS1 gives them: EPC URNs (`urn:epc:id:sscc:0861234.1000004217`) and GS1 Digital Link URIs
//! (`https://id.gs1.org/00/108612340000042177`, on any host). An object is known by its key (an
//! SSCC, a GTIN with its serial, a GRAI or GIAI), never by a trailing serial on its own: the serial
//! `40017` of one GTIN says nothing about the parcel or order numbered 40017. The keys are given
//! back as the GS1 element strings a label's barcode carries (`00` + SSCC, `01` + GTIN + `21` +
//! serial, …), which is what a warehouse registers as a parcel's tracking number.

/// One GS1 key, read from a URN or a Digital Link URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gs1Key {
    /// Serial Shipping Container Code: 18 digits with its check digit.
    Sscc(String),
    /// Serialized GTIN: a GTIN-14 (with check digit) and the serial.
    Sgtin { gtin: String, serial: String },
    /// Global Returnable Asset Identifier: the 14 digits of AI (8003) and the serial.
    Grai { grai: String, serial: String },
    /// Global Individual Asset Identifier: AI (8004).
    Giai(String),
    /// Global Location Number with its extension (`None` for the GLN itself).
    Sgln { gln: String, extension: Option<String> },
}

impl Gs1Key {
    /// Reads an EPC URN or a Digital Link URI; `None` for anything that is not a GS1 key of an
    /// instance (a class such as an LGTIN, a company's own URI, a malformed key).
    pub fn parse(uri: &str) -> Option<Gs1Key> {
        let uri = uri.trim();
        if let Some(rest) = uri.strip_prefix("urn:epc:id:") {
            return from_urn(rest);
        }
        let lower = uri.get(..8).map(str::to_ascii_lowercase);
        if matches!(lower.as_deref(), Some("https://")) || uri.to_ascii_lowercase().starts_with("http://") {
            return from_digital_link(uri);
        }
        None
    }

    /// The GS1 element strings the key is printed as (the forms a tracking number may take).
    /// Locations give none: they are where things happen, not what is tracked.
    pub fn element_strings(&self) -> Vec<String> {
        match self {
            Gs1Key::Sscc(sscc) => vec![format!("00{sscc}"), sscc.clone()],
            Gs1Key::Sgtin { gtin, serial } => vec![format!("01{gtin}21{serial}")],
            Gs1Key::Grai { grai, serial } => vec![format!("8003{grai}{serial}")],
            Gs1Key::Giai(giai) => vec![format!("8004{giai}")],
            Gs1Key::Sgln { .. } => Vec::new(),
        }
    }

    /// A comparable form of a location key (GLN and extension), for matching places given in
    /// different spellings.
    pub fn location_key(&self) -> Option<String> {
        match self {
            Gs1Key::Sgln { gln, extension } => Some(match extension {
                Some(ext) => format!("414{gln}254{ext}"),
                None => format!("414{gln}"),
            }),
            _ => None,
        }
    }
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The GS1 check digit of `body` (modulo 10, weights 3 and 1 from the right).
pub fn check_digit(body: &str) -> char {
    let n = body.len();
    let sum: u32 = body
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if (n - 1 - i).is_multiple_of(2) { 3 } else { 1 })
        .sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

fn with_check_digit_valid(key: &str) -> bool {
    digits(key) && key.len() >= 2 && check_digit(&key[..key.len() - 1]) == key.chars().last().unwrap_or('x')
}

/// Percent-decodes an EPC or Digital Link component; `None` when an escape is broken or the
/// result is not text.
fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let text = String::from_utf8(out).ok()?;
    (!text.is_empty() && !text.chars().any(char::is_control)).then_some(text)
}

fn from_urn(rest: &str) -> Option<Gs1Key> {
    let (scheme, body) = rest.split_once(':')?;
    let parts: Vec<&str> = body.split('.').collect();
    match (scheme, parts.as_slice()) {
        ("sscc", [company, serial_ref]) if digits(company) && digits(serial_ref) => {
            if company.len() + serial_ref.len() != 17 {
                return None;
            }
            let body = format!("{}{}{}", &serial_ref[..1], company, &serial_ref[1..]);
            Some(Gs1Key::Sscc(format!("{body}{}", check_digit(&body))))
        }
        ("sgtin", [company, item_ref, serial]) if digits(company) && digits(item_ref) => {
            if company.len() + item_ref.len() != 13 {
                return None;
            }
            let body = format!("{}{}{}", &item_ref[..1], company, &item_ref[1..]);
            Some(Gs1Key::Sgtin { gtin: format!("{body}{}", check_digit(&body)), serial: decode(serial)? })
        }
        ("grai", [company, asset_type, serial]) if digits(company) && digits(asset_type) => {
            if company.len() + asset_type.len() != 12 {
                return None;
            }
            let body = format!("{company}{asset_type}");
            Some(Gs1Key::Grai { grai: format!("0{body}{}", check_digit(&body)), serial: decode(serial)? })
        }
        ("giai", [company, asset]) if digits(company) => Some(Gs1Key::Giai(format!("{company}{}", decode(asset)?))),
        ("sgln", [company, location_ref, extension]) if digits(company) && digits(location_ref) => {
            if company.len() + location_ref.len() != 12 {
                return None;
            }
            let body = format!("{company}{location_ref}");
            let extension = decode(extension)?;
            Some(Gs1Key::Sgln {
                gln: format!("{body}{}", check_digit(&body)),
                extension: (extension != "0").then_some(extension),
            })
        }
        _ => None,
    }
}

fn from_digital_link(uri: &str) -> Option<Gs1Key> {
    // Scheme and host, then the path; a query string or fragment carries no key.
    let after_scheme = uri.split_once("://")?.1;
    let path = after_scheme.split_once('/').map(|(_, p)| p).unwrap_or("");
    let path = path.split(['?', '#']).next().unwrap_or("");
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // The primary key is the first AI of the path that is one; a path prefix may come before.
    let at = segments.iter().position(|s| matches!(*s, "00" | "01" | "8003" | "8004" | "414"))?;
    let value = decode(segments.get(at + 1)?)?;
    let qualifier = |ai: &str| {
        segments[at + 2..].chunks(2).find(|pair| pair[0] == ai).and_then(|pair| pair.get(1)).and_then(|v| decode(v))
    };
    match segments[at] {
        "00" if value.len() == 18 && with_check_digit_valid(&value) => Some(Gs1Key::Sscc(value)),
        "01" if matches!(value.len(), 8 | 12 | 13 | 14) && with_check_digit_valid(&value) => {
            Some(Gs1Key::Sgtin { gtin: format!("{value:0>14}"), serial: qualifier("21")? })
        }
        "8003"
            if value.len() > 14
                && value.is_char_boundary(14)
                && with_check_digit_valid(&value[..14])
                && value.starts_with('0') =>
        {
            Some(Gs1Key::Grai { grai: value[..14].to_string(), serial: value[14..].to_string() })
        }
        "8004" if value.len() > 4 => Some(Gs1Key::Giai(value)),
        "414" if value.len() == 13 && with_check_digit_valid(&value) => {
            Some(Gs1Key::Sgln { gln: value, extension: qualifier("254").filter(|e| e != "0") })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_sscc_reads_the_same_from_its_urn_and_its_digital_link() {
        // GS1's own example: urn:epc:id:sscc:0614141.1234567890 is SSCC 106141412345678908.
        let urn = Gs1Key::parse("urn:epc:id:sscc:0614141.1234567890").unwrap();
        assert_eq!(urn, Gs1Key::Sscc("106141412345678908".into()));
        assert_eq!(Gs1Key::parse("https://id.gs1.org/00/106141412345678908"), Some(urn.clone()));
        assert_eq!(Gs1Key::parse("https://brand.example.com/dl/00/106141412345678908?linkType=all"), Some(urn.clone()));
        assert_eq!(urn.element_strings(), vec!["00106141412345678908", "106141412345678908"]);
        assert_eq!(Gs1Key::parse("https://id.gs1.org/00/106141412345678907"), None, "wrong check digit");
    }

    #[test]
    fn an_sgtin_is_a_gtin_with_its_serial_in_either_spelling() {
        let urn = Gs1Key::parse("urn:epc:id:sgtin:0614141.112345.400").unwrap();
        assert_eq!(urn, Gs1Key::Sgtin { gtin: "10614141123459".into(), serial: "400".into() });
        assert_eq!(Gs1Key::parse("https://id.gs1.org/01/10614141123459/21/400"), Some(urn.clone()));
        assert_eq!(urn.element_strings(), vec!["011061414112345921400"]);
        // A GTIN with a batch but no serial is a class of objects, not one of them.
        assert_eq!(Gs1Key::parse("https://id.gs1.org/01/10614141123459/10/L42"), None);
        assert_eq!(Gs1Key::parse("urn:epc:class:lgtin:0614141.112345.L42"), None);
    }

    #[test]
    fn a_grai_and_a_location_read_from_both_spellings() {
        let urn = Gs1Key::parse("urn:epc:id:grai:0614141.12345.400").unwrap();
        assert_eq!(urn, Gs1Key::Grai { grai: "00614141123452".into(), serial: "400".into() });
        assert_eq!(Gs1Key::parse("https://id.gs1.org/8003/00614141123452400"), Some(urn));
        let sgln = Gs1Key::parse("urn:epc:id:sgln:0614141.12345.400").unwrap();
        let dl = Gs1Key::parse("https://id.gs1.org/414/0614141123452/254/400").unwrap();
        assert_eq!(sgln.location_key(), dl.location_key());
        assert_eq!(
            Gs1Key::parse("urn:epc:id:sgln:0614141.12345.0").unwrap().location_key(),
            Some("4140614141123452".into())
        );
    }

    #[test]
    fn identifiers_that_are_not_gs1_keys_give_none() {
        for s in [
            "urn:example:order:SO-1042",
            "40017",
            "urn:epc:id:sgtin:.",
            "urn:epc:id:sscc:0614141.12345678901",
            "https://id.gs1.org/01/10614141123459/21/%zz",
            "https://",
            // Not digits where the GRAI's 14 digits end: never sliced inside a character.
            "https://id.gs1.org/8003/0000000000000%C3%A91",
            "https://id.gs1.org/8003/0000000000000\u{e9}1",
            "",
        ] {
            assert_eq!(Gs1Key::parse(s), None, "{s}");
        }
    }
}

//! An account's look on its customer pages: name, logo, colours, support contacts and footer.
//! Colours are parsed once into `HexColor` and checked for WCAG contrast here, as pure
//! arithmetic, so a brand colour that would make text unreadable falls back to a safe default
//! instead of reaching a customer.

use std::fmt;

/// A colour written as `#rrggbb` (or the short `#rgb`), stored in the long lower-case form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HexColor {
    r: u8,
    g: u8,
    b: u8,
}

impl HexColor {
    pub const WHITE: HexColor = HexColor { r: 0xff, g: 0xff, b: 0xff };
    /// The default brand colour: 8.6:1 against white.
    pub const DEFAULT_PRIMARY: HexColor = HexColor { r: 0x1d, g: 0x3f, b: 0x8c };
    /// The default accent: 7.6:1 against white.
    pub const DEFAULT_ACCENT: HexColor = HexColor { r: 0x0b, g: 0x5c, b: 0x45 };

    pub fn parse(raw: &str) -> Result<HexColor, String> {
        let hex = raw.trim().strip_prefix('#').ok_or_else(|| "must be a hex colour such as #1d3f8c".to_string())?;
        let digits: Vec<u8> = hex
            .chars()
            .map(|c| c.to_digit(16).map(|d| d as u8))
            .collect::<Option<_>>()
            .ok_or_else(|| "must be a hex colour such as #1d3f8c".to_string())?;
        match digits.as_slice() {
            [r, g, b] => Ok(HexColor { r: r * 17, g: g * 17, b: b * 17 }),
            [r1, r2, g1, g2, b1, b2] => Ok(HexColor { r: r1 * 16 + r2, g: g1 * 16 + g2, b: b1 * 16 + b2 }),
            _ => Err("must be a hex colour such as #1d3f8c".to_string()),
        }
    }

    /// WCAG 2 relative luminance.
    pub fn luminance(self) -> f64 {
        let channel = |c: u8| {
            let s = f64::from(c) / 255.0;
            if s <= 0.04045 { s / 12.92 } else { ((s + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * channel(self.r) + 0.7152 * channel(self.g) + 0.0722 * channel(self.b)
    }

    /// WCAG 2 contrast ratio between two colours, from 1 to 21.
    pub fn contrast(self, other: HexColor) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        let (hi, lo) = if a > b { (a, b) } else { (b, a) };
        (hi + 0.05) / (lo + 0.05)
    }

    /// This colour when white text on it (and it as text on white) meets WCAG AA for normal
    /// text (4.5:1); otherwise `fallback`.
    pub fn readable_with_white_or(self, fallback: HexColor) -> HexColor {
        if self.contrast(HexColor::WHITE) >= 4.5 { self } else { fallback }
    }
}

impl fmt::Display for HexColor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }
}

/// What an account shows customers. Every field is optional; the page has defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Branding {
    pub name: Option<String>,
    pub logo_url: Option<String>,
    pub primary_color: Option<HexColor>,
    pub accent_color: Option<HexColor>,
    pub support_url: Option<String>,
    pub support_email: Option<String>,
    pub footer_text: Option<String>,
}

impl Branding {
    /// The primary colour to use on pages: the brand's when readable, else the default.
    pub fn page_primary(&self) -> HexColor {
        self.primary_color.unwrap_or(HexColor::DEFAULT_PRIMARY).readable_with_white_or(HexColor::DEFAULT_PRIMARY)
    }

    /// The accent colour to use on pages: the brand's when readable, else the default.
    pub fn page_accent(&self) -> HexColor {
        self.accent_color.unwrap_or(HexColor::DEFAULT_ACCENT).readable_with_white_or(HexColor::DEFAULT_ACCENT)
    }
}

/// Checks a URL shown to customers: absolute `https://` or `http://`, no spaces or quotes.
pub fn parse_public_url(raw: &str) -> Result<String, String> {
    let value = raw.trim();
    let ok = (value.starts_with("https://") || value.starts_with("http://"))
        && value.len() > "https://".len()
        && value.len() <= 2000
        && !value.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>'));
    if ok { Ok(value.to_string()) } else { Err("must be an absolute http(s) URL".to_string()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_parse_in_long_and_short_form_and_junk_is_refused() {
        assert_eq!(HexColor::parse("#1D3F8C").unwrap().to_string(), "#1d3f8c");
        assert_eq!(HexColor::parse("#fff").unwrap(), HexColor::WHITE);
        for bad in ["1d3f8c", "#12345", "#ggg", "red", "#1d3f8c00", ""] {
            assert!(HexColor::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn contrast_follows_wcag_and_unreadable_brand_colours_fall_back() {
        let black = HexColor::parse("#000").unwrap();
        assert!((black.contrast(HexColor::WHITE) - 21.0).abs() < 1e-9);
        assert!(HexColor::DEFAULT_PRIMARY.contrast(HexColor::WHITE) >= 4.5);
        assert!(HexColor::DEFAULT_ACCENT.contrast(HexColor::WHITE) >= 4.5);
        let yellow = HexColor::parse("#ffdd00").unwrap();
        let branding = Branding { primary_color: Some(yellow), ..Default::default() };
        assert_eq!(branding.page_primary(), HexColor::DEFAULT_PRIMARY);
        let navy = HexColor::parse("#102a43").unwrap();
        assert_eq!(Branding { primary_color: Some(navy), ..Default::default() }.page_primary(), navy);
    }

    #[test]
    fn public_urls_must_be_absolute_http() {
        assert!(parse_public_url("https://shop.example/help").is_ok());
        assert!(parse_public_url("javascript:alert(1)").is_err());
        assert!(parse_public_url("https://x.example/\"><script>").is_err());
    }
}

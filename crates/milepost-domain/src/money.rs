//! Money as the wire carries it: a decimal string (never a float), kept exactly. Parsed once into
//! ten-thousandths so sums (order value, cost per order) are exact integer arithmetic.

use std::fmt;

/// An exact decimal amount with up to four fractional digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money {
    ten_thousandths: i64,
}

/// Why a money string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a decimal string such as \"12.50\" (at most 4 decimals, no exponent)")]
pub struct InvalidMoney;

impl Money {
    pub const ZERO: Money = Money { ten_thousandths: 0 };

    pub fn parse(raw: &str) -> Result<Self, InvalidMoney> {
        let s = raw.trim();
        let (negative, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |p: &str| p.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() || whole.len() > 13 || frac.len() > 4 || !all_digits(whole) || !all_digits(frac) {
            return Err(InvalidMoney);
        }
        if digits.contains('.') && frac.is_empty() {
            return Err(InvalidMoney);
        }
        let whole: i64 = whole.parse().map_err(|_| InvalidMoney)?;
        let mut frac_value: i64 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| InvalidMoney)? };
        for _ in frac.len()..4 {
            frac_value *= 10;
        }
        let magnitude = whole * 10_000 + frac_value;
        Ok(Money { ten_thousandths: if negative { -magnitude } else { magnitude } })
    }

    pub fn from_ten_thousandths(ten_thousandths: i64) -> Self {
        Money { ten_thousandths }
    }

    pub fn ten_thousandths(self) -> i64 {
        self.ten_thousandths
    }

    pub fn times(self, quantity: u32) -> Money {
        Money { ten_thousandths: self.ten_thousandths.saturating_mul(i64::from(quantity)) }
    }

    pub fn plus(self, other: Money) -> Money {
        Money { ten_thousandths: self.ten_thousandths.saturating_add(other.ten_thousandths) }
    }
}

impl fmt::Display for Money {
    /// Formats with two decimals, or more when the amount needs them ("12.50", "0.1234").
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.ten_thousandths < 0 { "-" } else { "" };
        let abs = self.ten_thousandths.unsigned_abs();
        let whole = abs / 10_000;
        let frac = abs % 10_000;
        if frac.is_multiple_of(100) {
            write!(f, "{sign}{whole}.{:02}", frac / 100)
        } else {
            let digits = format!("{frac:04}");
            write!(f, "{sign}{whole}.{}", digits.trim_end_matches('0'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_strings_parse_exactly() {
        assert_eq!(Money::parse("12.5").unwrap().to_string(), "12.50");
        assert_eq!(Money::parse("0.1234").unwrap().to_string(), "0.1234");
        assert_eq!(Money::parse("-3").unwrap().to_string(), "-3.00");
        assert_eq!(Money::parse("19.99").unwrap().times(3).to_string(), "59.97");
    }

    #[test]
    fn floats_exponents_and_junk_are_refused() {
        for bad in ["", "1e3", "1.23456", "abc", "1.", ".5", "12,50", "99999999999999"] {
            assert_eq!(Money::parse(bad), Err(InvalidMoney), "{bad}");
        }
    }
}

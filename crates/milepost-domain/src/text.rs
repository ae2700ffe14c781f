//! Small validated text values shared by the model. Every string that enters the domain passes
//! through one of these parsers once, at the edge, so that nothing downstream holds an unchecked
//! string: identifiers are trimmed, non-empty, bounded and free of control characters.

use thiserror::Error;

/// Why a piece of text was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TextError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("must not contain control characters")]
    ControlCharacter,
    #[error("{0}")]
    Invalid(String),
}

/// Trims `raw` and checks it is a usable identifier of at most `max` characters.
pub fn parse_identifier(raw: &str, max: usize) -> Result<String, TextError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(TextError::Empty);
    }
    if trimmed.chars().count() > max {
        return Err(TextError::TooLong { max });
    }
    if trimmed.chars().any(char::is_control) {
        return Err(TextError::ControlCharacter);
    }
    Ok(trimmed.to_string())
}

/// Checks free text (descriptions, names) for length; control characters other than line breaks
/// and tabs are refused because they end up on pages and in messages.
pub fn parse_free_text(raw: &str, max: usize) -> Result<String, TextError> {
    if raw.chars().count() > max {
        return Err(TextError::TooLong { max });
    }
    if raw.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err(TextError::ControlCharacter);
    }
    Ok(raw.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_trimmed_and_bounded() {
        assert_eq!(parse_identifier("  A-1 ", 10).unwrap(), "A-1");
        assert_eq!(parse_identifier("   ", 10), Err(TextError::Empty));
        assert_eq!(parse_identifier("abcdef", 3), Err(TextError::TooLong { max: 3 }));
        assert_eq!(parse_identifier("a\u{0}b", 10), Err(TextError::ControlCharacter));
    }

    #[test]
    fn free_text_keeps_line_breaks_but_refuses_other_controls() {
        assert_eq!(parse_free_text("two\nlines", 20).unwrap(), "two\nlines");
        assert!(parse_free_text("bell\u{7}", 20).is_err());
    }
}

//! Text from a credential or a trust source is hostile: the one policy for
//! what of it may reach a screen.
//!
//! A *hostile character* is one that changes how the text around it is
//! shown rather than being shown itself: the C0 controls (U+0000–U+001F,
//! among them ESC, which starts terminal escape sequences, and line
//! breaks, which start a new "line" of a verdict), DEL (U+007F), the C1
//! controls (U+0080–U+009F, among them CSI U+009B, which some terminals
//! read as ESC `[`), the Unicode line and paragraph separators
//! (U+2028, U+2029), and the characters with the Unicode property
//! `Bidi_Control` (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069),
//! which reorder what a person reads.
//!
//! The policy, applied in wallet-core so that every shell inherits it:
//!
//! - a credential's text fields (of every format: native, EU DCC, SMART
//!   Health Card) and the header fields a verdict names (`kid`, `iss`) that
//!   hold a hostile character are **refused as malformed** ([`check`]);
//! - text that must still be named (the reason a code was refused, an
//!   unsigned header, an error message quoting its input) is **escaped
//!   visibly** ([`escape`]): each hostile character becomes `\u{XXXX}`, so
//!   it is seen and does nothing;
//! - JSON written for a terminal or a pipe goes through [`json_safe`], which
//!   writes every hostile character inside it as a `\uXXXX` escape: the
//!   same JSON value, with no raw control byte.

use std::borrow::Cow;
use std::fmt;

/// Whether `c` is a hostile character (see the module docs).
pub fn is_hostile(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// The first hostile character of `s`, if any.
pub fn first_hostile(s: &str) -> Option<char> {
    s.chars().find(|c| is_hostile(*c))
}

/// Why a text field was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("holds the control character U+{:04X}, which a screen would act on rather than show", u32::from(*.0))]
pub struct HostileText(pub char);

/// Refuses text holding a hostile character.
pub fn check(s: &str) -> Result<(), HostileText> {
    match first_hostile(s) {
        Some(c) => Err(HostileText(c)),
        None => Ok(()),
    }
}

/// `s` with each hostile character written as `\u{XXXX}`: safe to show,
/// and the reader sees that something was there. Borrowed when clean.
pub fn escape(s: &str) -> Cow<'_, str> {
    rewrite(s, is_hostile, |c| format!("\\u{{{:04x}}}", u32::from(c)))
}

/// `s` with each character `pick` chooses replaced by `with` it; borrowed
/// when none is.
fn rewrite(s: &str, pick: impl Fn(char) -> bool, with: impl Fn(char) -> String) -> Cow<'_, str> {
    if !s.chars().any(&pick) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if pick(c) {
            out.push_str(&with(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Shows text through [`escape`]: `format!("{}", Shown(s))`.
pub struct Shown<'a>(pub &'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape(self.0))
    }
}

/// A serde `serialize_with` for text fields: the escaped text.
pub fn serialize_escaped<S: serde::Serializer>(s: &str, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(&escape(s))
}

/// A serde `serialize_with` for a typed field written as its words: the
/// escaped [`Display`](std::fmt::Display) text.
pub fn serialize_display<T: std::fmt::Display, S: serde::Serializer>(
    t: &T,
    ser: S,
) -> Result<S::Ok, S::Error> {
    ser.serialize_str(&escape(&t.to_string()))
}

/// JSON text with every hostile character inside its strings written as a
/// `\uXXXX` escape.
///
/// A conforming writer (serde_json) already escapes the C0 controls inside
/// strings, so a C0 control in its output is the layout's own whitespace
/// (a pretty form's line breaks) and is kept. Any other hostile character
/// (DEL, C1, the separators, the bidi controls) can only stand inside a
/// string, where `\uXXXX` means the same character: the value is
/// unchanged, and no raw control or bidi character reaches the terminal.
pub fn json_safe(json: String) -> String {
    // Every hostile character is in the Basic Multilingual Plane.
    match rewrite(
        &json,
        |c| is_hostile(c) && c > '\u{1f}',
        |c| format!("\\u{:04x}", u32::from(c)),
    ) {
        Cow::Borrowed(_) => json,
        Cow::Owned(safe) => safe,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_characters_are_the_controls_and_bidi_controls() {
        for c in [
            '\u{1b}', '\n', '\r', '\t', '\0', '\u{7f}', '\u{9b}', '\u{85}',
        ] {
            assert!(is_hostile(c), "{c:?}");
        }
        for c in [
            '\u{61c}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}',
            '\u{2028}', '\u{2029}',
        ] {
            assert!(is_hostile(c), "{c:?}");
        }
        for c in [
            'a', ' ', '李', 'é', '\u{a0}', '\u{200d}', '\u{2070}', '\u{202f}',
        ] {
            assert!(!is_hostile(c), "{c:?}");
        }
    }

    #[test]
    fn check_names_the_character() {
        assert!(check("Li Hua").is_ok());
        assert!(check("李华").is_ok());
        let e = check("a\u{1b}[2J").unwrap_err();
        assert_eq!(e, HostileText('\u{1b}'));
        assert!(e.to_string().contains("U+001B"), "{e}");
        assert!(check("abc\u{202e}fed")
            .unwrap_err()
            .to_string()
            .contains("U+202E"));
    }

    #[test]
    fn escape_shows_every_hostile_character_and_nothing_raw() {
        let s = "\u{1b}[2J\u{1b}[H==== VALID ====\nname: Li Hua\u{202e}";
        let e = escape(s);
        assert_eq!(
            e,
            "\\u{001b}[2J\\u{001b}[H==== VALID ====\\u{000a}name: Li Hua\\u{202e}"
        );
        assert!(first_hostile(&e).is_none());
        assert!(matches!(escape("plain 李华"), Cow::Borrowed(_)));
        assert_eq!(Shown("a\tb").to_string(), "a\\u{0009}b");
        // Escaping escaped text changes nothing.
        assert_eq!(escape(&e), e);
    }

    #[test]
    fn json_safe_keeps_the_value() {
        let value = serde_json::json!({"iss": "x\u{9b}2J\u{202e}y\u{1b}", "n": 1});
        let raw = serde_json::to_string(&value).unwrap();
        assert!(
            first_hostile(&raw).is_some(),
            "serde_json leaves C1 and bidi raw"
        );
        let safe = json_safe(raw);
        assert!(first_hostile(&safe).is_none(), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, value);
        // A pretty form keeps its line breaks and still reads back.
        let pretty = json_safe(serde_json::to_string_pretty(&value).unwrap());
        assert!(pretty.contains('\n'));
        assert!(!pretty.contains('\u{9b}') && !pretty.contains('\u{202e}'));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&pretty).unwrap(),
            value
        );
    }
}

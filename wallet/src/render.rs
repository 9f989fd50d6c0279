//! How the wallet reads to a person at a terminal.

use std::fmt::Write as _;
use wallet_core::citizen::sheet::Caption;
use wallet_core::citizen::visits::{Found, Visit};
use wallet_core::citizen::wallet::{Held, Status};
pub use wallet_core::credential::instant::minutes;

/// A status in a few words: "valid until …", "expires in 6 h", "expired on …".
pub fn status_text(status: &Status, now: i64) -> String {
    match status {
        Status::NotChecked => {
            "? not checked yet: set up the wallet (wallet init, wallet sync)".into()
        }
        Status::Valid { until } => format!("valid until {}", minutes(*until)),
        Status::ExpiresSoon { until } => {
            let hours = ((until - now).max(0) + 3599) / 3600;
            format!("expires in {hours} h ({})", minutes(*until))
        }
        Status::Expired { on } => format!("expired on {}", minutes(*on)),
        Status::NotYetValid { from } => format!("not valid before {}", minutes(*from)),
        Status::Invalid { reasons } => format!("INVALID: {}", reasons_text(reasons)),
    }
}

/// Reasons in a line (each escaped by its own words).
pub fn reasons_text(reasons: &[wallet_core::Reason]) -> String {
    let words: Vec<String> = reasons.iter().map(ToString::to_string).collect();
    words.join("; ")
}

/// Terminal columns a character takes: 2 for East Asian wide characters.
fn columns(c: char) -> usize {
    let wide = matches!(u32::from(c),
        0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD);
    if wide {
        2
    } else {
        1
    }
}

/// `s` padded with spaces to `width` terminal columns.
fn pad(s: &str, width: usize) -> String {
    let used: usize = s.chars().map(columns).sum();
    format!("{s}{}", " ".repeat(width.saturating_sub(used)))
}

/// One line per credential, every member's.
pub fn table(held: &[Held], now: i64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} {} {} STATUS",
        pad("MEMBER", 12),
        pad("ID", 14),
        pad("KIND", 12),
        pad("HOLDER", 30)
    );
    for h in held {
        let id: String = h.id.chars().take(14).collect();
        let _ = writeln!(
            out,
            "{} {} {} {} {}",
            pad(&h.member, 12),
            pad(&id, 14),
            pad(&h.kind.to_string(), 12),
            pad(h.holder.as_deref().unwrap_or("-"), 30),
            status_text(&h.status, now)
        );
    }
    out
}

/// What is printed beside a code: the holder (or venue), the member, the
/// kind and details, and the status now.
pub fn caption(held: &Held, now: i64) -> Vec<String> {
    let c = Caption::for_credential(&held.credential, None);
    let mut lines = vec![c.name, format!("member: {}", held.member)];
    // The caption's own validity line is replaced by the status now.
    lines.extend(
        c.lines
            .into_iter()
            .filter(|l| !l.starts_with("Valid until") && !l.starts_with("Issuer ")),
    );
    lines.push(status_text(&held.status, now));
    lines.push(format!("id {}", held.id));
    lines
}

/// Text lines to the right of a terminal QR code, from its second row.
pub fn beside(qr: &str, lines: &[String]) -> String {
    let mut out = String::new();
    let mut extra = lines.iter();
    for (i, row) in qr.lines().enumerate() {
        out.push_str(row);
        if i >= 1 {
            if let Some(l) = extra.next() {
                out.push_str("   ");
                out.push_str(l);
            }
        }
        out.push('\n');
    }
    for l in extra {
        out.push_str(l);
        out.push('\n');
    }
    out
}

pub fn visit_line(v: &Visit) -> String {
    format!(
        "{}  {} ({}), venue {}",
        minutes(v.at),
        v.name,
        v.area,
        v.venue
    )
}

pub fn found_line(f: &Found) -> String {
    let mut s = format!(
        "EXPOSED: you were at {} ({}) on {}, in the exposure window {} to {}",
        f.visit.name,
        f.visit.area,
        minutes(f.visit.at),
        minutes(f.exposure.from),
        minutes(f.exposure.until)
    );
    if let Some(a) = &f.exposure.advice {
        let _ = write!(s, ". {a}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_as_words() {
        let now = 1_772_352_000; // 2026-03-01T08:00:00Z
        assert_eq!(
            status_text(
                &Status::ExpiresSoon {
                    until: now + 5 * 3600 + 1
                },
                now
            ),
            "expires in 6 h (2026-03-01 13:00 UTC)"
        );
        assert_eq!(
            status_text(&Status::Expired { on: now }, now),
            "expired on 2026-03-01 08:00 UTC"
        );
        assert_eq!(
            status_text(
                &Status::Invalid {
                    reasons: vec![wallet_core::Reason::TestPositive]
                },
                now
            ),
            "INVALID: test result is positive"
        );
    }

    #[test]
    fn wide_characters_take_two_columns() {
        assert_eq!(pad("王小明", 8), "王小明  ");
        assert_eq!(pad("Li", 4), "Li  ");
        assert_eq!(pad("toolong", 3), "toolong");
    }

    #[test]
    fn lines_go_beside_the_code_then_below() {
        let qr = "aaa\nbbb\nccc\n";
        let lines = vec!["one".to_string(), "two".into(), "three".into()];
        assert_eq!(beside(qr, &lines), "aaa\nbbb   one\nccc   two\nthree\n");
    }
}

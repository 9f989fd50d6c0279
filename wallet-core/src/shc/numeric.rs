//! The `shc:/` QR text: each character of the JWS as two decimal digits
//! (its code − 45), so the QR can use numeric mode. A card too long for one
//! QR was once split into `shc:/<index>/<total>/<digits>` chunks
//! (deprecated, but still in the wild); [`assemble`] joins them in index
//! order, whatever order they were scanned in.

use super::{ShcError, MAX_JWS};

/// The prefix of every SHC QR text.
pub const PREFIX: &str = "shc:/";
/// Most chunks a chunked card may have.
pub const MAX_CHUNKS: usize = 32;

/// Whether `text` is SHC QR text (the prefix is matched in any case: a
/// scanner may upper-case it).
pub fn is_shc(text: &str) -> bool {
    text.trim_start()
        .get(..PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(PREFIX))
}

/// One chunk of a chunked card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// 1-based.
    pub index: usize,
    pub total: usize,
    /// This chunk's part of the JWS.
    pub part: String,
}

/// One QR's text: a whole card, or one chunk of one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scanned {
    Whole(String),
    Chunk(Chunk),
}

/// Reads one QR's `shc:/` text.
pub fn parse(text: &str) -> Result<Scanned, ShcError> {
    let text = text.trim();
    if !is_shc(text) {
        let shown: String = text.chars().take(8).collect();
        return Err(ShcError::Numeric(format!(
            "expected text starting \"{PREFIX}\", found {shown:?}"
        )));
    }
    let body = &text[PREFIX.len()..];
    if body.len() > 2 * MAX_JWS {
        return Err(ShcError::Numeric(format!(
            "{} digits, more than the {} allowed",
            body.len(),
            2 * MAX_JWS
        )));
    }
    let mut parts = body.splitn(3, '/');
    let first = parts.next().unwrap_or("");
    match (parts.next(), parts.next()) {
        (None, _) => Ok(Scanned::Whole(digits_to_jws(first)?)),
        (Some(total), Some(digits)) => {
            let num = |s: &str, what: &str| -> Result<usize, ShcError> {
                if s.is_empty() || s.len() > 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(ShcError::Chunks(format!("{what} {s:?} is not a number")));
                }
                s.parse()
                    .map_err(|_| ShcError::Chunks(format!("{what} {s:?} is not a number")))
            };
            let index = num(first, "chunk index")?;
            let total = num(total, "chunk count")?;
            if !(1..=MAX_CHUNKS).contains(&total) {
                return Err(ShcError::Chunks(format!(
                    "a card of {total} chunks (1 to {MAX_CHUNKS} allowed)"
                )));
            }
            if index < 1 || index > total {
                return Err(ShcError::Chunks(format!(
                    "chunk {index} of {total} (chunks are numbered from 1)"
                )));
            }
            Ok(Scanned::Chunk(Chunk {
                index,
                total,
                part: digits_to_jws(digits)?,
            }))
        }
        (Some(_), None) => Err(ShcError::Numeric(
            "expected shc:/<digits> or shc:/<index>/<total>/<digits>".into(),
        )),
    }
}

/// The JWS characters the digit pairs stand for.
fn digits_to_jws(digits: &str) -> Result<String, ShcError> {
    if digits.is_empty() {
        return Err(ShcError::Numeric("no digits after the prefix".into()));
    }
    let bytes = digits.as_bytes();
    if let Some(at) = bytes.iter().position(|b| !b.is_ascii_digit()) {
        return Err(ShcError::Numeric(format!(
            "character {:?} at digit {} is not a digit",
            char::from(bytes[at]),
            at + 1
        )));
    }
    if bytes.len() % 2 != 0 {
        return Err(ShcError::Numeric(format!(
            "{} digits: the digits come in pairs",
            bytes.len()
        )));
    }
    let mut out = String::with_capacity(bytes.len() / 2);
    for (i, pair) in bytes.chunks(2).enumerate() {
        let value = (pair[0] - b'0') * 10 + (pair[1] - b'0');
        // '-' (45) to 'z' (122): the base64url alphabet and '.'.
        let c = char::from(value + 45);
        if value > 77 || !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.') {
            return Err(ShcError::Numeric(format!(
                "digit pair {} ({value:02}) is not a JWS character",
                i + 1
            )));
        }
        out.push(c);
    }
    Ok(out)
}

/// The `shc:/` text of a JWS (one QR).
pub fn encode(jws: &str) -> String {
    let mut out = String::with_capacity(PREFIX.len() + 2 * jws.len());
    out.push_str(PREFIX);
    for b in jws.bytes() {
        let v = b.saturating_sub(45);
        out.push(char::from(b'0' + v / 10));
        out.push(char::from(b'0' + v % 10));
    }
    out
}

/// Joins the chunks of one card in index order. Every chunk from 1 to the
/// total must be there once (the same chunk scanned twice is fine), and
/// all must agree on the total.
pub fn assemble(chunks: &[Chunk]) -> Result<String, ShcError> {
    let Some(first) = chunks.first() else {
        return Err(ShcError::Chunks("no chunks".into()));
    };
    let total = first.total;
    let mut slots: Vec<Option<&str>> = vec![None; total];
    for c in chunks {
        if c.total != total {
            return Err(ShcError::Chunks(format!(
                "chunks of different cards: one of {total}, one of {}",
                c.total
            )));
        }
        let Some(slot) = c.index.checked_sub(1).and_then(|i| slots.get_mut(i)) else {
            return Err(ShcError::Chunks(format!(
                "chunk {} of {total} (chunks are numbered from 1)",
                c.index
            )));
        };
        match slot {
            Some(held) if *held != c.part => {
                return Err(ShcError::Chunks(format!(
                    "two different chunks {} of {total}",
                    c.index
                )))
            }
            _ => *slot = Some(&c.part),
        }
    }
    let missing: Vec<String> = slots
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| (i + 1).to_string())
        .collect();
    if !missing.is_empty() {
        return Err(ShcError::Chunks(format!(
            "chunk {} of {total} missing: scan every part of the card",
            missing.join(", ")
        )));
    }
    let jws: String = slots.into_iter().flatten().collect();
    if jws.len() > MAX_JWS {
        return Err(ShcError::Chunks(format!(
            "the chunks join to {} characters, more than the {MAX_JWS} allowed",
            jws.len()
        )));
    }
    Ok(jws)
}

/// The JWS in a text holding one whole `shc:/` code, or every chunk of
/// one separated by white space (in any order).
pub fn read(text: &str) -> Result<String, ShcError> {
    let mut chunks = Vec::new();
    let mut whole = None;
    for word in text.split_whitespace() {
        match parse(word)? {
            Scanned::Whole(jws) if whole.is_none() && chunks.is_empty() => whole = Some(jws),
            Scanned::Chunk(c) if whole.is_none() => {
                if chunks.len() >= MAX_CHUNKS * 2 {
                    return Err(ShcError::Chunks("too many chunks".into()));
                }
                chunks.push(c)
            }
            _ => {
                return Err(ShcError::Numeric(
                    "more than one card in the text: give one card (or the chunks of one)".into(),
                ))
            }
        }
    }
    match whole {
        Some(jws) => Ok(jws),
        None if chunks.is_empty() => Err(ShcError::Numeric("the text is empty".into())),
        None => assemble(&chunks),
    }
}

/// Groups a stream of scanned texts (one QR each, as a gate's scanner
/// types them) into codes: the chunks of one card come out as one text,
/// joined by new lines, once every chunk is in; anything else comes out as
/// it went in. An incomplete card is let out, to be refused as such, when
/// something else arrives, a chunk of a card of another size comes, or
/// the stream ends.
#[derive(Debug, Default)]
pub struct Collector {
    pending: Vec<(Chunk, String)>,
}

impl Collector {
    pub fn new() -> Collector {
        Collector::default()
    }

    /// The texts ready after `text` (none while a card is incomplete).
    pub fn push(&mut self, text: String) -> Vec<String> {
        let mut out = Vec::new();
        let chunk = match parse(&text) {
            Ok(Scanned::Chunk(c)) => Some(c),
            _ => None,
        };
        let Some(chunk) = chunk else {
            out.extend(self.finish());
            out.push(text);
            return out;
        };
        let other_card = self
            .pending
            .first()
            .is_some_and(|(c, _)| c.total != chunk.total)
            || self
                .pending
                .iter()
                .any(|(c, _)| c.index == chunk.index && c.part != chunk.part)
            || self.pending.len() >= MAX_CHUNKS;
        if other_card {
            out.extend(self.finish());
        }
        if !self.pending.iter().any(|(c, _)| c.index == chunk.index) {
            self.pending.push((chunk, text));
        }
        let total = self.pending[0].0.total;
        if self.pending.len() == total {
            out.extend(self.finish());
        }
        out
    }

    /// How many chunks of how many the incomplete card held has.
    pub fn pending(&self) -> Option<(usize, usize)> {
        self.pending
            .first()
            .map(|(c, _)| (self.pending.len(), c.total))
    }

    /// The incomplete card held, if any (at the end of the stream).
    pub fn finish(&mut self) -> Option<String> {
        if self.pending.is_empty() {
            return None;
        }
        let texts: Vec<String> = self.pending.drain(..).map(|(_, t)| t).collect();
        Some(texts.join("\n"))
    }
}

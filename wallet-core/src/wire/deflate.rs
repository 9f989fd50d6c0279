//! A small zlib (RFC 1950) / deflate (RFC 1951) encoder for payloads of a
//! few hundred bytes: greedy LZ77 over a small hash table, then one block
//! with the fixed Huffman codes (or stored, when that is shorter).
//!
//! A general-purpose compressor prepares tables for a 32 KiB window and
//! builds Huffman tables for every input, which costs far more than the
//! compression of a 300-byte credential saves: issuing a million
//! credentials spent a quarter of its time there. Any inflater reads what
//! this writes; decoding stays with `flate2`.

/// Hash table size (entries); inputs are small, so collisions are rare.
const HASH_BITS: u32 = 12;
/// The deflate window.
const WINDOW: usize = 32 * 1024;
const MIN_MATCH: usize = 3;
const MAX_MATCH: usize = 258;

/// Length code bases and extra bits, codes 257..=285.
const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Distance code bases and extra bits, codes 0..=29.
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// Bits written least significant first, as deflate packs them.
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u32, bits: u32) {
        self.acc |= u64::from(value) << self.n;
        self.n += bits;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code: written most significant bit first.
    fn code(&mut self, code: u32, bits: u32) {
        self.put(code.reverse_bits() >> (32 - bits), bits);
    }

    fn flush(&mut self) {
        if self.n > 0 {
            self.out.push(self.acc as u8);
            self.acc = 0;
            self.n = 0;
        }
    }
}

/// The fixed literal/length code for `symbol` (0..=287): (code, bits).
fn fixed_literal(symbol: u16) -> (u32, u32) {
    let s = u32::from(symbol);
    match s {
        0..=143 => (0x30 + s, 8),
        144..=255 => (0x190 + s - 144, 9),
        256..=279 => (s - 256, 7),
        _ => (0xc0 + s - 280, 8),
    }
}

enum Token {
    Literal(u8),
    Match { len: u16, dist: u16 },
}

fn hash(data: &[u8], i: usize) -> usize {
    let v = u32::from(data[i]) << 16 | u32::from(data[i + 1]) << 8 | u32::from(data[i + 2]);
    (v.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize
}

/// The last position seen for each hash, kept per thread between calls:
/// clearing a fresh table cost more than compressing a credential. An
/// entry is `(call << 32) | position` and counts only for its own call.
struct Heads {
    slots: Vec<u64>,
    call: u64,
}

impl Heads {
    fn new() -> Heads {
        Heads {
            slots: vec![0; 1 << HASH_BITS],
            call: 0,
        }
    }

    /// Starts a call: every entry of earlier calls stops counting.
    fn start(&mut self) {
        self.call = (self.call + 1) & 0xffff_ffff;
        if self.call == 0 {
            self.slots.fill(0);
            self.call = 1;
        }
    }

    fn get(&self, h: usize) -> Option<usize> {
        let e = self.slots[h];
        (e >> 32 == self.call).then_some((e & 0xffff_ffff) as usize)
    }

    /// Records position `i` for hash `h`; positions past 32 bits are not
    /// recorded (inputs are credentials, a few KiB at most; a longer one is
    /// still encoded, with matches only in its first 4 GiB).
    fn set(&mut self, h: usize, i: usize) {
        if let Ok(i) = u32::try_from(i) {
            self.slots[h] = self.call << 32 | u64::from(i);
        }
    }
}

std::thread_local! {
    static HEADS: std::cell::RefCell<Heads> = std::cell::RefCell::new(Heads::new());
}

/// Greedy LZ77: at each position, the longest match at the one earlier
/// position with the same 3-byte hash.
fn tokens(data: &[u8]) -> Vec<Token> {
    HEADS.with(|h| match h.try_borrow_mut() {
        Ok(mut heads) => tokens_with(data, &mut heads),
        Err(_) => tokens_with(data, &mut Heads::new()),
    })
}

fn tokens_with(data: &[u8], head: &mut Heads) -> Vec<Token> {
    head.start();
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if i + MIN_MATCH > data.len() {
            out.push(Token::Literal(data[i]));
            i += 1;
            continue;
        }
        let h = hash(data, i);
        let candidate = head.get(h);
        head.set(h, i);
        let (mut len, mut dist) = (0, 0);
        if let Some(c) = candidate.filter(|&c| i - c <= WINDOW) {
            let max = MAX_MATCH.min(data.len() - i);
            while len < max && data[c + len] == data[i + len] {
                len += 1;
            }
            dist = i - c;
        }
        if len >= MIN_MATCH {
            out.push(Token::Match {
                len: len as u16,
                dist: dist as u16,
            });
            // Index the positions the match covers, so later text can refer to them.
            for j in i + 1..(i + len).min(data.len().saturating_sub(MIN_MATCH - 1)) {
                head.set(hash(data, j), j);
            }
            i += len;
        } else {
            out.push(Token::Literal(data[i]));
            i += 1;
        }
    }
    out
}

/// Index of the last base not above `value`.
fn code_for(bases: &[u16], value: u16) -> usize {
    bases.partition_point(|&b| b <= value) - 1
}

/// One final block with the fixed Huffman codes.
fn fixed_block(tokens: &[Token], capacity: usize) -> Vec<u8> {
    let mut bits = Bits {
        out: Vec::with_capacity(capacity),
        acc: 0,
        n: 0,
    };
    bits.put(1, 1); // BFINAL
    bits.put(1, 2); // BTYPE = 01, fixed Huffman
    for t in tokens {
        match *t {
            Token::Literal(b) => {
                let (c, n) = fixed_literal(u16::from(b));
                bits.code(c, n);
            }
            Token::Match { len, dist } => {
                let l = code_for(&LENGTH_BASE, len);
                let (c, n) = fixed_literal(257 + l as u16);
                bits.code(c, n);
                bits.put(u32::from(len - LENGTH_BASE[l]), u32::from(LENGTH_EXTRA[l]));
                let d = code_for(&DIST_BASE, dist);
                bits.code(d as u32, 5);
                bits.put(u32::from(dist - DIST_BASE[d]), u32::from(DIST_EXTRA[d]));
            }
        }
    }
    let (c, n) = fixed_literal(256); // end of block
    bits.code(c, n);
    bits.flush();
    bits.out
}

/// The length of `stored_blocks` for `n` bytes: a 5-byte header per block.
fn stored_len(n: usize) -> usize {
    n + 5 * (n / 65_535 + 1)
}

/// Stored blocks of at most 65,535 bytes.
fn stored_blocks(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(stored_len(data.len()));
    let mut chunks = data.chunks(65_535).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        out.push(u8::from(last)); // BFINAL, BTYPE = 00, padded to the byte
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out
}

fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 bytes is the most that can be summed before b overflows.
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    b << 16 | a
}

/// `data` as a zlib stream.
pub fn zlib(data: &[u8]) -> Vec<u8> {
    let tokens = tokens(data);
    let mut body = fixed_block(&tokens, data.len() + 16);
    if body.len() > stored_len(data.len()) {
        body = stored_blocks(data);
    }
    // CMF 0x78: deflate with a 32 KiB window; FLG 0xda: maximum compression,
    // no dictionary, check bits making the pair a multiple of 31.
    let mut out = Vec::with_capacity(body.len() + 6);
    out.extend_from_slice(&[0x78, 0xda]);
    out.extend_from_slice(&body);
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

#[cfg(test)]
mod tests;

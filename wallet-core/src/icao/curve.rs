//! ECDSA verification on NIST P-384 and P-521 (FIPS 186-4, SEC 1 §4.1.4),
//! for CSCAs and barcode signers on those curves, and the named curves'
//! parameters, to recognise explicit ones (Japan's CSCA).
//!
//! Why not the `p384` and `p521` crates: their fiat-crypto field arithmetic
//! added about 190 KB to the browser's module for curves a checkpoint meets
//! rarely, and pushed a first visit over its 700 KB budget. Verification
//! handles no secret and needs no constant time, so this is the textbook
//! algorithm over the big integers the `rsa` crate already brings
//! (`num-bigint-dig`): the key checked on the curve, r and s in [1, n−1],
//! Jacobian coordinates for a = −3, Shamir's trick for u1·G + u2·Q. Its
//! verdicts are checked against the `p384` and `p521` crates on random
//! keys, signatures and mutations (`tests/ecdsa_curves.rs`), and every
//! seal test signed on those curves goes through it. P-256, the curve of
//! nearly every seal, keeps the `p256` crate.

use rsa::BigUint;
use std::sync::OnceLock;

/// A short Weierstrass curve with a = −3 (the NIST prime curves).
pub struct Curve {
    pub name: &'static str,
    pub oid: &'static str,
    /// Field size in bytes.
    pub bytes: usize,
    p: BigUint,
    b: BigUint,
    n: BigUint,
    gx: BigUint,
    gy: BigUint,
}

fn hex(s: &str) -> BigUint {
    BigUint::parse_bytes(s.as_bytes(), 16).unwrap_or_default()
}

impl Curve {
    /// NIST P-256 (parameters only: its signatures are the `p256` crate's).
    pub fn p256() -> &'static Curve {
        static C: OnceLock<Curve> = OnceLock::new();
        C.get_or_init(|| Curve {
            name: "P-256",
            oid: "1.2.840.10045.3.1.7",
            bytes: 32,
            p: hex("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff"),
            b: hex("5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b"),
            n: hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"),
            gx: hex("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"),
            gy: hex("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"),
        })
    }

    /// NIST P-384.
    pub fn p384() -> &'static Curve {
        static C: OnceLock<Curve> = OnceLock::new();
        C.get_or_init(|| Curve {
            name: "P-384",
            oid: "1.3.132.0.34",
            bytes: 48,
            p: hex("fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff"),
            b: hex("b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef"),
            n: hex("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973"),
            gx: hex("aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7"),
            gy: hex("3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f"),
        })
    }

    /// NIST P-521.
    pub fn p521() -> &'static Curve {
        static C: OnceLock<Curve> = OnceLock::new();
        C.get_or_init(|| Curve {
            name: "P-521",
            oid: "1.3.132.0.35",
            bytes: 66,
            p: hex(&format!("1{}", "ff".repeat(65))),
            b: hex("51953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00"),
            n: hex("1fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409"),
            gx: hex("c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66"),
            gy: hex("11839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650"),
        })
    }

    /// The curves whose parameters are known here.
    pub fn all() -> [&'static Curve; 3] {
        [Curve::p256(), Curve::p384(), Curve::p521()]
    }

    /// Whether explicit parameters (big-endian, any leading zeros) are this
    /// curve's: prime, a, b, order, and the base point (uncompressed or
    /// compressed).
    pub fn matches(&self, prime: &[u8], a: &[u8], b: &[u8], order: &[u8], base: &[u8]) -> bool {
        let a_want = &self.p - BigUint::from(3u8);
        let base_ok = match base.first() {
            Some(4) => {
                base.len() == 1 + 2 * self.bytes
                    && BigUint::from_bytes_be(&base[1..1 + self.bytes]) == self.gx
                    && BigUint::from_bytes_be(&base[1 + self.bytes..]) == self.gy
            }
            Some(&tag @ (2 | 3)) => {
                base.len() == 1 + self.bytes
                    && BigUint::from_bytes_be(&base[1..]) == self.gx
                    && (tag == 3) == is_odd(&self.gy)
            }
            _ => false,
        };
        base_ok
            && BigUint::from_bytes_be(prime) == self.p
            && BigUint::from_bytes_be(a) == a_want
            && BigUint::from_bytes_be(b) == self.b
            && BigUint::from_bytes_be(order) == self.n
    }

    fn add_mod(&self, x: &BigUint, y: &BigUint) -> BigUint {
        (x + y) % &self.p
    }

    fn sub_mod(&self, x: &BigUint, y: &BigUint) -> BigUint {
        ((x + &self.p) - y) % &self.p
    }

    fn mul_mod(&self, x: &BigUint, y: &BigUint) -> BigUint {
        (x * y) % &self.p
    }

    /// Whether (x, y) is on the curve: y² = x³ − 3x + b.
    fn on_curve(&self, x: &BigUint, y: &BigUint) -> bool {
        if x >= &self.p || y >= &self.p {
            return false;
        }
        let x3 = self.mul_mod(&self.mul_mod(x, x), x);
        let rhs = self.add_mod(
            &self.sub_mod(&x3, &self.mul_mod(&BigUint::from(3u8), x)),
            &self.b,
        );
        self.mul_mod(y, y) == rhs
    }
}

fn is_odd(x: &BigUint) -> bool {
    x.to_bytes_be().last().is_some_and(|b| b & 1 == 1)
}

/// A public key: a point on `curve`, checked on reading.
#[derive(Clone)]
pub struct PublicPoint {
    pub curve: &'static Curve,
    x: BigUint,
    y: BigUint,
}

impl PartialEq for PublicPoint {
    fn eq(&self, o: &PublicPoint) -> bool {
        self.curve.oid == o.curve.oid && self.x == o.x && self.y == o.y
    }
}

impl Eq for PublicPoint {}

impl std::fmt::Debug for PublicPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PublicPoint({}, {})",
            self.curve.name,
            hex::encode(self.to_sec1())
        )
    }
}

impl PublicPoint {
    /// Reads a SEC 1 point (uncompressed `04‖x‖y`, or compressed `02`/`03‖x`),
    /// refused unless it is on the curve (the point at infinity is not a key).
    pub fn from_sec1(curve: &'static Curve, bytes: &[u8]) -> Result<PublicPoint, String> {
        let n = curve.bytes;
        let bad = || format!("not a {} point on the curve", curve.name);
        let (x, y) = match bytes.first() {
            Some(4) if bytes.len() == 1 + 2 * n => (
                BigUint::from_bytes_be(&bytes[1..1 + n]),
                BigUint::from_bytes_be(&bytes[1 + n..]),
            ),
            Some(&tag @ (2 | 3)) if bytes.len() == 1 + n => {
                let x = BigUint::from_bytes_be(&bytes[1..]);
                if x >= curve.p {
                    return Err(bad());
                }
                // p ≡ 3 (mod 4) for every curve here: √v = v^((p+1)/4).
                let x3 = curve.mul_mod(&curve.mul_mod(&x, &x), &x);
                let rhs = curve.add_mod(
                    &curve.sub_mod(&x3, &curve.mul_mod(&BigUint::from(3u8), &x)),
                    &curve.b,
                );
                let exp = (&curve.p + BigUint::from(1u8)) >> 2;
                let mut y = rhs.modpow(&exp, &curve.p);
                if is_odd(&y) != (tag == 3) {
                    y = curve.sub_mod(&BigUint::from(0u8), &y);
                }
                (x, y)
            }
            _ => return Err(bad()),
        };
        if !curve.on_curve(&x, &y) {
            return Err(bad());
        }
        Ok(PublicPoint { curve, x, y })
    }

    /// The uncompressed SEC 1 form.
    pub fn to_sec1(&self) -> Vec<u8> {
        let n = self.curve.bytes;
        let mut out = vec![4u8];
        for c in [&self.x, &self.y] {
            let b = c.to_bytes_be();
            out.extend(std::iter::repeat_n(0u8, n.saturating_sub(b.len())));
            out.extend(b);
        }
        out
    }

    /// Checks an ECDSA signature (`r`, `s`) over the digest `prehash`.
    pub fn verify_prehash(&self, prehash: &[u8], r: &[u8], s: &[u8]) -> bool {
        let c = self.curve;
        let (r, s) = (BigUint::from_bytes_be(r), BigUint::from_bytes_be(s));
        let zero = BigUint::from(0u8);
        if r == zero || s == zero || r >= c.n || s >= c.n {
            return false;
        }
        // The leftmost bits of the digest, as many as the order has.
        let n_bits = c.n.bits();
        let mut e = BigUint::from_bytes_be(prehash);
        let h_bits = prehash.len() * 8;
        if h_bits > n_bits {
            e >>= h_bits - n_bits;
        }
        let w = s.modpow(&(&c.n - BigUint::from(2u8)), &c.n);
        let u1 = (e * &w) % &c.n;
        let u2 = (&r * &w) % &c.n;
        let g = Jacobian::affine(&c.gx, &c.gy);
        let q = Jacobian::affine(&self.x, &self.y);
        let gq = g.add(&q, c);
        let mut acc = Jacobian::infinity();
        for i in (0..u1.bits().max(u2.bits())).rev() {
            acc = acc.double(c);
            match (bit(&u1, i), bit(&u2, i)) {
                (true, true) => acc = acc.add(&gq, c),
                (true, false) => acc = acc.add(&g, c),
                (false, true) => acc = acc.add(&q, c),
                (false, false) => {}
            }
        }
        match acc.x_affine(c) {
            Some(x) => x % &c.n == r,
            None => false,
        }
    }
}

fn bit(x: &BigUint, i: usize) -> bool {
    let bytes = x.to_bytes_le();
    bytes.get(i / 8).is_some_and(|b| (b >> (i % 8)) & 1 == 1)
}

/// A point in Jacobian coordinates (X/Z², Y/Z³); Z = 0 is the point at
/// infinity.
#[derive(Clone)]
struct Jacobian {
    x: BigUint,
    y: BigUint,
    z: BigUint,
}

impl Jacobian {
    fn infinity() -> Jacobian {
        Jacobian {
            x: BigUint::from(1u8),
            y: BigUint::from(1u8),
            z: BigUint::from(0u8),
        }
    }

    fn affine(x: &BigUint, y: &BigUint) -> Jacobian {
        Jacobian {
            x: x.clone(),
            y: y.clone(),
            z: BigUint::from(1u8),
        }
    }

    fn is_infinity(&self) -> bool {
        self.z == BigUint::from(0u8)
    }

    /// 2P, for a = −3 ("dbl-2001-b").
    fn double(&self, c: &Curve) -> Jacobian {
        if self.is_infinity() || self.y == BigUint::from(0u8) {
            return Jacobian::infinity();
        }
        let delta = c.mul_mod(&self.z, &self.z);
        let gamma = c.mul_mod(&self.y, &self.y);
        let beta = c.mul_mod(&self.x, &gamma);
        let alpha = c.mul_mod(
            &BigUint::from(3u8),
            &c.mul_mod(&c.sub_mod(&self.x, &delta), &c.add_mod(&self.x, &delta)),
        );
        let eight_beta = c.mul_mod(&BigUint::from(8u8), &beta);
        let x3 = c.sub_mod(&c.mul_mod(&alpha, &alpha), &eight_beta);
        let yz = c.add_mod(&self.y, &self.z);
        let z3 = c.sub_mod(&c.sub_mod(&c.mul_mod(&yz, &yz), &gamma), &delta);
        let four_beta = c.mul_mod(&BigUint::from(4u8), &beta);
        let gamma2 = c.mul_mod(&gamma, &gamma);
        let y3 = c.sub_mod(
            &c.mul_mod(&alpha, &c.sub_mod(&four_beta, &x3)),
            &c.mul_mod(&BigUint::from(8u8), &gamma2),
        );
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// P + Q ("add-2007-bl"), doubling when P = Q.
    fn add(&self, o: &Jacobian, c: &Curve) -> Jacobian {
        if self.is_infinity() {
            return o.clone();
        }
        if o.is_infinity() {
            return self.clone();
        }
        let z1z1 = c.mul_mod(&self.z, &self.z);
        let z2z2 = c.mul_mod(&o.z, &o.z);
        let u1 = c.mul_mod(&self.x, &z2z2);
        let u2 = c.mul_mod(&o.x, &z1z1);
        let s1 = c.mul_mod(&c.mul_mod(&self.y, &o.z), &z2z2);
        let s2 = c.mul_mod(&c.mul_mod(&o.y, &self.z), &z1z1);
        let h = c.sub_mod(&u2, &u1);
        let rr = c.mul_mod(&BigUint::from(2u8), &c.sub_mod(&s2, &s1));
        if h == BigUint::from(0u8) {
            return if rr == BigUint::from(0u8) {
                self.double(c)
            } else {
                Jacobian::infinity()
            };
        }
        let h2 = c.mul_mod(&BigUint::from(2u8), &h);
        let i = c.mul_mod(&h2, &h2);
        let j = c.mul_mod(&h, &i);
        let v = c.mul_mod(&u1, &i);
        let x3 = c.sub_mod(
            &c.sub_mod(&c.mul_mod(&rr, &rr), &j),
            &c.mul_mod(&BigUint::from(2u8), &v),
        );
        let y3 = c.sub_mod(
            &c.mul_mod(&rr, &c.sub_mod(&v, &x3)),
            &c.mul_mod(&BigUint::from(2u8), &c.mul_mod(&s1, &j)),
        );
        let zz = c.add_mod(&self.z, &o.z);
        let z3 = c.mul_mod(
            &c.sub_mod(&c.sub_mod(&c.mul_mod(&zz, &zz), &z1z1), &z2z2),
            &h,
        );
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// The affine x (X / Z²), or none at infinity.
    fn x_affine(&self, c: &Curve) -> Option<BigUint> {
        if self.is_infinity() {
            return None;
        }
        let z2 = c.mul_mod(&self.z, &self.z);
        let inv = z2.modpow(&(&c.p - BigUint::from(2u8)), &c.p);
        Some(c.mul_mod(&self.x, &inv))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_points_are_on_their_curves_and_of_their_order() {
        for c in Curve::all() {
            assert!(c.on_curve(&c.gx, &c.gy), "{}", c.name);
            // n·G is the point at infinity; (n−1)·G is −G.
            let g = Jacobian::affine(&c.gx, &c.gy);
            let mut acc = Jacobian::infinity();
            let n1 = &c.n - BigUint::from(1u8);
            for i in (0..n1.bits()).rev() {
                acc = acc.double(c);
                if bit(&n1, i) {
                    acc = acc.add(&g, c);
                }
            }
            assert!(acc.add(&g, c).is_infinity(), "{}", c.name);
            assert_eq!(acc.x_affine(c), Some(c.gx.clone()), "{}", c.name);
        }
    }

    #[test]
    fn points_off_the_curve_and_of_the_wrong_size_are_refused() {
        let c = Curve::p384();
        let good = PublicPoint::from_sec1(c, &g_sec1(c)).unwrap();
        assert_eq!(good.to_sec1(), g_sec1(c));
        let mut off = g_sec1(c);
        off[10] ^= 1;
        assert!(PublicPoint::from_sec1(c, &off).is_err());
        assert!(PublicPoint::from_sec1(c, &off[..50]).is_err());
        assert!(PublicPoint::from_sec1(c, &[0]).is_err());
        // Compressed, both parities.
        let mut comp = vec![if is_odd(&c.gy) { 3 } else { 2 }];
        comp.extend(c.gx.to_bytes_be());
        assert_eq!(PublicPoint::from_sec1(c, &comp).unwrap(), good);
        comp[0] ^= 1;
        assert!(PublicPoint::from_sec1(c, &comp).unwrap() != good);
    }

    fn g_sec1(c: &Curve) -> Vec<u8> {
        PublicPoint {
            curve: Curve::all().into_iter().find(|k| k.oid == c.oid).unwrap(),
            x: c.gx.clone(),
            y: c.gy.clone(),
        }
        .to_sec1()
    }
}

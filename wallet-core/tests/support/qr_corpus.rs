//! A corpus of QR images as a checkpoint camera meets them, generated from
//! our own codes and the EU test vectors' texts, one class per difficulty.
//! Shared by the `qr_corpus` test (every class read, nothing misread) and
//! the `qr_read` bench (read rate and time per class for each engine).
//!
//! Every image is made from a fixed seed, so a run is repeatable.

#![allow(dead_code)]

use image::codecs::jpeg::JpegEncoder;
use image::{GrayImage, ImageEncoder, Luma, RgbaImage};
use std::path::Path;
use wallet_core::wire::qr::{Level, Symbol};
use wallet_core::{issue, samples, Profile};

/// One test image: a file (PNG or JPEG, read as a user's file is) or a luma
/// plane (as a camera frame arrives).
pub enum Input {
    File(Vec<u8>),
    Luma(GrayImage),
}

pub struct Case {
    pub class: &'static str,
    pub text: String,
    pub input: Input,
}

/// How a read compares with the text the image was made from.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Read,
    /// A published EU image that holds another well-formed payload than its
    /// vector's `PREFIX` (a few vectors ship another case's image). Two
    /// independent readers agree on such texts, and a misread would not
    /// survive base45, zlib and COSE parsing.
    AnotherCode,
    Misread,
}

impl Case {
    pub fn outcome(&self, text: &str) -> Outcome {
        if text == self.text {
            Outcome::Read
        } else if self.class == "eu-published" && wallet_core::decode(text).is_ok() {
            Outcome::AnotherCode
        } else {
            Outcome::Misread
        }
    }
}

/// The classes, in the order the bench prints them.
pub const CLASSES: &[&str] = &[
    "eu-published",
    "2px-module",
    "3px-module",
    "4px-module",
    "quiet-0",
    "quiet-1",
    "scale-2.7",
    "rgba-transparent",
    "palette-png",
    "jpeg-q30",
    "blur",
    "rotate-15",
    "rotate-30",
    "rotate-45",
    "perspective",
    "low-contrast",
    "inverted",
    "camera-frame",
];

/// Payload texts: our four kinds in both profiles, then every `step`-th EU
/// vector's `HC1:` text that has a published image.
pub fn texts(eu_dir: &Path, step: usize) -> (Vec<String>, Vec<(String, Vec<u8>)>) {
    let mut ours = Vec::new();
    for c in samples::all() {
        let native = issue(&c, Profile::Native, &samples::ed25519_test_key()).expect("issues");
        ours.push(native);
        if c.body.holder().is_some() {
            ours.push(issue(&c, Profile::EuDcc, &samples::p256_test_key()).expect("issues"));
        }
    }
    let mut eu = Vec::new();
    for (i, (_, json)) in samples::eu_test_cases(eu_dir).iter().enumerate() {
        if i % step.max(1) != 0 {
            continue;
        }
        let (Some(prefix), Some(png)) = (json["PREFIX"].as_str(), json["2DCODE"].as_str()) else {
            continue;
        };
        if !prefix.starts_with("HC1:") || json["EXPECTEDRESULTS"]["EXPECTEDPICTUREDECODE"] == false
        {
            continue;
        }
        use base64::Engine as _;
        let Ok(png) = base64::engine::general_purpose::STANDARD.decode(png) else {
            continue;
        };
        eu.push((prefix.to_string(), png));
    }
    (ours, eu)
}

/// Every class for every text: the published EU images as they are, and
/// each text re-rendered and degraded.
pub fn cases(eu_dir: &Path, step: usize) -> Vec<Case> {
    let (ours, eu) = texts(eu_dir, step);
    let mut out = Vec::new();
    for (text, png) in &eu {
        out.push(Case {
            class: "eu-published",
            text: text.clone(),
            input: Input::File(png.clone()),
        });
    }
    let all: Vec<&String> = ours.iter().chain(eu.iter().map(|(t, _)| t)).collect();
    for (i, text) in all.into_iter().enumerate() {
        let seed = i as u64 + 1;
        for class in &CLASSES[1..] {
            out.push(Case {
                class,
                text: text.clone(),
                input: make(class, text, seed),
            });
        }
    }
    out
}

/// Modules of a text's symbol, `true` dark, without a quiet zone.
struct Modules {
    side: u32,
    dark: Vec<bool>,
}

impl Modules {
    fn new(text: &str) -> Modules {
        let sym = Symbol::new(text, Level::M).expect("fits");
        let q = wallet_core::wire::qr::QUIET_ZONE;
        let side = sym.width();
        let dark = (0..side * side)
            .map(|i| sym.dark(i % side + q, i / side + q))
            .collect();
        Modules { side, dark }
    }

    fn at(&self, x: i64, y: i64) -> bool {
        let s = i64::from(self.side);
        (0..s).contains(&x) && (0..s).contains(&y) && self.dark[(y * s + x) as usize]
    }

    /// Whole pixels a module, `quiet` modules of margin.
    fn render(&self, px: u32, quiet: u32, dark: u8, light: u8) -> GrayImage {
        let side = (self.side + 2 * quiet) * px;
        GrayImage::from_fn(side, side, |x, y| {
            let (mx, my) = (
                i64::from(x / px) - i64::from(quiet),
                i64::from(y / px) - i64::from(quiet),
            );
            Luma([if self.at(mx, my) { dark } else { light }])
        })
    }
}

fn make(class: &str, text: &str, seed: u64) -> Input {
    let m = Modules::new(text);
    let plain = |px| m.render(px, 2, 0, 255);
    match class {
        "2px-module" => Input::Luma(plain(2)),
        "3px-module" => Input::Luma(plain(3)),
        "4px-module" => Input::Luma(plain(4)),
        "quiet-0" => Input::Luma(m.render(3, 0, 0, 255)),
        "quiet-1" => Input::Luma(m.render(3, 1, 0, 255)),
        "scale-2.7" => {
            // Drawn at 10 px a module, then resized to 2.7 px a module, as
            // an image scaled for a web page is.
            let big = m.render(10, 2, 0, 255);
            let side = ((m.side + 4) as f32 * 2.7).round() as u32;
            Input::Luma(image::imageops::resize(
                &big,
                side,
                side - 1,
                image::imageops::FilterType::Triangle,
            ))
        }
        "rgba-transparent" => {
            // Dark modules opaque, the rest fully transparent black, as
            // many web renders are.
            let g = plain(3);
            let rgba = RgbaImage::from_fn(g.width(), g.height(), |x, y| {
                if g.get_pixel(x, y)[0] == 0 {
                    image::Rgba([0, 0, 0, 255])
                } else {
                    image::Rgba([0, 0, 0, 0])
                }
            });
            let mut png = Vec::new();
            image::codecs::png::PngEncoder::new(&mut png)
                .write_image(
                    &rgba,
                    rgba.width(),
                    rgba.height(),
                    image::ExtendedColorType::Rgba8,
                )
                .expect("encodes");
            Input::File(png)
        }
        "palette-png" => Input::File(palette_png(&plain(3))),
        "jpeg-q30" => {
            let g = plain(3);
            let mut jpeg = Vec::new();
            JpegEncoder::new_with_quality(&mut jpeg, 30)
                .write_image(&g, g.width(), g.height(), image::ExtendedColorType::L8)
                .expect("encodes");
            Input::File(jpeg)
        }
        "blur" => Input::Luma(image::imageops::blur(&plain(4), 1.2)),
        "rotate-15" => Input::Luma(rotate(&plain(4), 15.0)),
        "rotate-30" => Input::Luma(rotate(&plain(4), 30.0)),
        "rotate-45" => Input::Luma(rotate(&plain(4), 45.0)),
        "perspective" => {
            let src = plain(4);
            let (w, h) = (src.width() as f64, src.height() as f64);
            // The top edge 30 % narrower than the bottom: held tilted back.
            let to = [
                (0.15 * w, 0.0),
                (0.85 * w, 0.05 * h),
                (w, h),
                (0.0, 0.95 * h),
            ];
            Input::Luma(warp(
                &src,
                src.width(),
                src.height(),
                [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)],
                to,
                255,
            ))
        }
        "low-contrast" => Input::Luma(m.render(4, 2, 110, 150)),
        "inverted" => Input::Luma(m.render(4, 2, 255, 0)),
        "camera-frame" => Input::Luma(camera_frame(&m, seed)),
        other => panic!("unknown class {other}"),
    }
}

/// A 1-bit palette PNG: a dark blue and an off-white entry.
fn palette_png(g: &GrayImage) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, g.width(), g.height());
        enc.set_color(png::ColorType::Indexed);
        enc.set_depth(png::BitDepth::One);
        enc.set_palette(vec![20, 30, 90, 250, 250, 235]);
        let mut writer = enc.write_header().expect("header");
        let row = g.width().div_ceil(8) as usize;
        let mut data = vec![0u8; row * g.height() as usize];
        for (x, y, p) in g.enumerate_pixels() {
            if p[0] != 0 {
                data[y as usize * row + x as usize / 8] |= 0x80 >> (x % 8);
            }
        }
        writer.write_image_data(&data).expect("data");
    }
    out
}

/// Rotated about its centre, on a canvas large enough to hold it.
fn rotate(src: &GrayImage, degrees: f64) -> GrayImage {
    let (w, h) = (src.width() as f64, src.height() as f64);
    let (s, c) = degrees.to_radians().sin_cos();
    let side = ((w * c.abs() + h * s.abs()).ceil() as u32) + 8;
    let (cx, cy) = (side as f64 / 2.0, side as f64 / 2.0);
    let corner = |x: f64, y: f64| {
        let (dx, dy) = (x - w / 2.0, y - h / 2.0);
        (cx + dx * c - dy * s, cy + dx * s + dy * c)
    };
    let to = [
        corner(0.0, 0.0),
        corner(w, 0.0),
        corner(w, h),
        corner(0.0, h),
    ];
    warp(
        src,
        side,
        side,
        [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)],
        to,
        255,
    )
}

/// A 1280×720 grey frame: uneven light, sensor noise, and the code held at
/// a slight angle and tilt, its side 30 % of the frame's width, slightly out
/// of focus.
fn camera_frame(m: &Modules, seed: u64) -> GrayImage {
    let (fw, fh) = (1280u32, 720u32);
    let code = m.render(8, 2, 30, 225);
    let (w, h) = (code.width() as f64, code.height() as f64);
    let side = 0.30 * fw as f64;
    let (x0, y0) = (
        380.0 + (seed % 7) as f64 * 20.0,
        140.0 + (seed % 5) as f64 * 20.0,
    );
    let to = [
        (x0 + 12.0, y0),
        (x0 + side, y0 + 18.0),
        (x0 + side - 10.0, y0 + side + 8.0),
        (x0 - 6.0, y0 + side - 4.0),
    ];
    let placed = warp(
        &code,
        fw,
        fh,
        [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)],
        to,
        0,
    );
    let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut frame = GrayImage::from_fn(fw, fh, |x, y| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let noise = (rng % 25) as f64 - 12.0;
        let light = 0.75 + 0.25 * (x as f64 / fw as f64);
        let p = placed.get_pixel(x, y)[0];
        // A desk-grey background where the code is not.
        let base = if p == 0 {
            120.0 + 40.0 * (y as f64 / fh as f64)
        } else {
            p as f64
        };
        Luma([(base * light + noise).clamp(0.0, 255.0) as u8])
    });
    frame = image::imageops::blur(&frame, 0.8);
    frame
}

/// Maps `src` so that its points `from` land on `to` (a homography), sampled
/// bilinearly; pixels outside the source get `background`.
fn warp(
    src: &GrayImage,
    w: u32,
    h: u32,
    from: [(f64, f64); 4],
    to: [(f64, f64); 4],
    background: u8,
) -> GrayImage {
    // Output → source, so every output pixel is sampled once.
    let hm = homography(to, from);
    GrayImage::from_fn(w, h, |x, y| {
        let (px, py) = (x as f64 + 0.5, y as f64 + 0.5);
        let d = hm[6] * px + hm[7] * py + 1.0;
        let sx = (hm[0] * px + hm[1] * py + hm[2]) / d - 0.5;
        let sy = (hm[3] * px + hm[4] * py + hm[5]) / d - 0.5;
        Luma([sample(src, sx, sy, background)])
    })
}

fn sample(src: &GrayImage, x: f64, y: f64, background: u8) -> u8 {
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let at = |xi: f64, yi: f64| -> f64 {
        if xi < 0.0 || yi < 0.0 || xi >= src.width() as f64 || yi >= src.height() as f64 {
            background as f64
        } else {
            src.get_pixel(xi as u32, yi as u32)[0] as f64
        }
    };
    let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1.0, y0) * fx;
    let bottom = at(x0, y0 + 1.0) * (1.0 - fx) + at(x0 + 1.0, y0 + 1.0) * fx;
    (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8
}

/// The 3×3 projective map (h22 = 1) taking each `a[i]` to `b[i]`.
#[allow(clippy::needless_range_loop)] // row operations read best indexed
fn homography(a: [(f64, f64); 4], b: [(f64, f64); 4]) -> [f64; 8] {
    let mut m = [[0.0f64; 9]; 8];
    for i in 0..4 {
        let ((x, y), (u, v)) = (a[i], b[i]);
        m[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        m[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    // Gauss-Jordan with partial pivoting.
    for col in 0..8 {
        let pivot = (col..8)
            .max_by(|&p, &q| m[p][col].abs().total_cmp(&m[q][col].abs()))
            .expect("rows");
        m.swap(col, pivot);
        let d = m[col][col];
        for k in col..9 {
            m[col][k] /= d;
        }
        for r in 0..8 {
            if r != col {
                let f = m[r][col];
                for k in col..9 {
                    m[r][k] -= f * m[col][k];
                }
            }
        }
    }
    let mut h = [0.0; 8];
    for i in 0..8 {
        h[i] = m[i][8];
    }
    h
}

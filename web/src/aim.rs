//! When to tell the person at the camera to hold steady: a code has been in
//! view for a while, but no frame could be read (blur, too far, too dark).
//! The reader says per frame whether a code was seen ([`crate::scan`]); this
//! decides, in one place, when that becomes a hint and when the hint goes.

use wasm_bindgen::prelude::*;

/// How long a code must be seen and not read before the hint shows.
pub const HINT_AFTER_MS: f64 = 2000.0;
/// How long with no code in view before the count starts again.
pub const FORGET_AFTER_MS: f64 = 1000.0;

/// The frames' story so far.
#[wasm_bindgen]
#[derive(Debug, Default)]
pub struct Aim {
    /// When the current run of unreadable sightings began.
    since: Option<f64>,
    /// When a code was last seen.
    last_seen: f64,
}

#[wasm_bindgen]
impl Aim {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Aim {
        Aim::default()
    }

    /// One frame at `now_ms`: `read` (its code was read), else `seen` (a
    /// code was there). Returns whether the hint should be on screen.
    pub fn frame(&mut self, read: bool, seen: bool, now_ms: f64) -> bool {
        if read {
            self.since = None;
            return false;
        }
        if seen {
            self.last_seen = now_ms;
            let since = *self.since.get_or_insert(now_ms);
            return now_ms - since >= HINT_AFTER_MS;
        }
        match self.since {
            Some(_) if now_ms - self.last_seen > FORGET_AFTER_MS => {
                self.since = None;
                false
            }
            // A frame or two without the code (a hand moving) keeps the hint.
            Some(since) => self.last_seen - since >= HINT_AFTER_MS,
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hint_comes_after_two_seconds_of_unreadable_frames_and_goes_with_a_read() {
        let mut aim = Aim::new();
        let mut t = 0.0;
        let mut shown = Vec::new();
        for _ in 0..30 {
            shown.push(aim.frame(false, true, t));
            t += 80.0;
        }
        // 80 ms a frame: 2 s is the 26th frame.
        assert_eq!(shown.iter().position(|s| *s), Some(25));
        // A frame without the code keeps it; a read ends it.
        assert!(aim.frame(false, false, t));
        assert!(!aim.frame(true, true, t + 80.0));
        assert!(!aim.frame(false, true, t + 160.0));
    }

    #[test]
    fn nothing_in_view_for_a_second_starts_the_count_again() {
        let mut aim = Aim::new();
        assert!(!aim.frame(false, true, 0.0));
        assert!(!aim.frame(false, false, 1500.0));
        assert!(!aim.frame(false, true, 2100.0));
        assert!(aim.frame(false, true, 4100.0));
        // Never a hint from empty frames alone.
        let mut empty = Aim::new();
        assert!((0..100).all(|i| !empty.frame(false, false, f64::from(i) * 80.0)));
    }
}

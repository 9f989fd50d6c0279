//! Third-party parsers of untrusted input (QR images, ZIP archives) run
//! here, where a panic inside one is an input error, not a crash.

/// Runs `f`, catching a panic, without the panic's message and backtrace on
/// stderr: a crafted image or archive is an input error, reported as one, not a crash
/// report. Panics elsewhere, on any thread, print as before.
pub fn guarded<T>(f: impl FnOnce() -> T) -> Option<T> {
    use std::cell::Cell;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::Once;
    thread_local! {
        static QUIET: Cell<bool> = const { Cell::new(false) };
    }
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
    // Where a panic aborts (WebAssembly in a browser) it cannot be caught:
    // its message goes through to the hook, the last word before the trap.
    QUIET.with(|q| q.set(cfg!(panic = "unwind")));
    let out = catch_unwind(AssertUnwindSafe(f)).ok();
    QUIET.with(|q| q.set(false));
    out
}

//! How a shell speaks: an error and its causes as one line for a person,
//! each cause once, and a command line's data written to standard output.
//!
//! Errors here and in the crates below often carry their cause twice: in
//! their own message (`cannot read image: not a PNG`) and as their
//! `source()`, so printing the chain repeats it. [`error_chain`] walks the
//! chain and leaves out a cause whose text the line already holds. Every
//! shell prints errors through it: the command lines at their edge, and a
//! browser's glue when it shows an error.

use std::error::Error;
use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// `error: cause: cause…`, each cause's text once, with any control or bidi
/// character an input put in it escaped ([`crate::text::escape`]).
pub fn error_chain(error: &(dyn Error + 'static)) -> String {
    crate::text::escape(&chain(error)).into_owned()
}

fn chain(error: &(dyn Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !text.is_empty() && !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        next = cause.source();
    }
    line
}

/// Standard output could not take what a command printed, for another reason
/// than its reader having gone (a full disk, say): the data is lost, so the
/// command must fail.
#[derive(Debug, thiserror::Error)]
#[error("cannot write to standard output: {0}")]
pub struct OutputError(#[source] io::Error);

/// Set once standard output's reader has gone.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes a command line's data to standard output, and flushes it.
///
/// `println!` panics when the reader has gone (`issuer stats | head -1`: a
/// broken pipe). Here that is the end of the output, not an error: nothing
/// more is written and the command goes on to its own exit code, as the
/// verdict of a `verifier verify` whose reader stopped early still counts.
/// Any other failure is an [`OutputError`]. Use it through [`out!`](crate::out) and
/// [`outln!`](crate::outln).
pub fn print(args: fmt::Arguments<'_>) -> Result<(), OutputError> {
    write_unless_closed(&mut io::stdout().lock(), &STDOUT_CLOSED, args)
}

/// Whether standard output's reader has gone: a command that would only go
/// on printing (a watcher) stops.
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

fn write_unless_closed(
    out: &mut impl Write,
    closed: &AtomicBool,
    args: fmt::Arguments<'_>,
) -> Result<(), OutputError> {
    if closed.load(Ordering::Relaxed) {
        return Ok(());
    }
    match out.write_fmt(args).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
            closed.store(true, Ordering::Relaxed);
            Ok(())
        }
        result => result.map_err(OutputError),
    }
}

/// `print!` for a command's data, through [`print()`]: a gone reader ends the
/// output, another failure is an [`OutputError`] to return with `?`.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::message::print(::std::format_args!($($arg)*))
    };
}

/// `println!` for a command's data, through [`message::print`](crate::message::print).
#[macro_export]
macro_rules! outln {
    () => {
        $crate::message::print(::std::format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::message::print(::std::format_args!("{}\n", ::std::format_args!($($arg)*)))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Inner {
        #[error("not a PNG or JPEG image")]
        NotImage,
    }

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        // The cause in the message and as the source: printed once.
        #[error("cannot read image: {0}")]
        Image(#[from] Inner),
        // The cause only as the source: still printed.
        #[error("reading the file")]
        Read(#[source] std::io::Error),
    }

    #[test]
    fn each_cause_is_printed_once() {
        assert_eq!(
            error_chain(&Outer::Image(Inner::NotImage)),
            "cannot read image: not a PNG or JPEG image"
        );
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        assert_eq!(
            error_chain(&Outer::Read(io)),
            "reading the file: no such file"
        );
    }

    /// A writer that takes `room` bytes, then fails with `kind`.
    struct Failing {
        room: usize,
        kind: io::ErrorKind,
        written: Vec<u8>,
    }

    impl Write for Failing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::from(self.kind));
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            self.written.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_gone_reader_ends_the_output_without_an_error() {
        let closed = AtomicBool::new(false);
        let mut out = Failing {
            room: 4,
            kind: io::ErrorKind::BrokenPipe,
            written: Vec::new(),
        };
        write_unless_closed(&mut out, &closed, format_args!("one\n")).unwrap();
        assert!(!closed.load(Ordering::Relaxed));
        write_unless_closed(&mut out, &closed, format_args!("two\n")).unwrap();
        assert!(closed.load(Ordering::Relaxed));
        // Nothing more is tried once the reader has gone.
        out.room = 100;
        write_unless_closed(&mut out, &closed, format_args!("three\n")).unwrap();
        assert_eq!(out.written, b"one\n");
    }

    #[test]
    fn another_write_failure_is_an_error() {
        let closed = AtomicBool::new(false);
        let mut out = Failing {
            room: 0,
            kind: io::ErrorKind::StorageFull,
            written: Vec::new(),
        };
        let error = write_unless_closed(&mut out, &closed, format_args!("data\n")).unwrap_err();
        assert!(error_chain(&error).starts_with("cannot write to standard output"));
        assert!(!closed.load(Ordering::Relaxed));
    }
}

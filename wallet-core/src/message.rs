//! An error and its causes as one line for a person, each cause once.
//!
//! Errors here and in the crates below often carry their cause twice: in
//! their own message (`cannot read image: not a PNG`) and as their
//! `source()`, so printing the chain repeats it. [`error_chain`] walks the
//! chain and leaves out a cause whose text the line already holds. Every
//! shell prints errors through it: the command lines at their edge, and a
//! browser's glue when it shows an error.

use std::error::Error;

/// `error: cause: cause…`, each cause's text once.
pub fn error_chain(error: &(dyn Error + 'static)) -> String {
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
}

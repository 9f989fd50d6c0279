//! The drill's own HTTP/1.1 client: one keep-alive connection, requests
//! written by hand, answers read only as far as the drill needs them (the
//! status, whether there is a Retry-After, the body). A request costs the
//! load generator a few microseconds, so that what the drill measures is
//! the service and not its own client: with a general-purpose client on a
//! thread per connection, the generator could not send twice what one
//! core of the service answers.
//!
//! Bounded: a head over 16 KiB or a body over 1 MiB is an error, and so is
//! anything that is not HTTP/1.1 as hyper writes it (Content-Length or
//! chunked bodies).

use std::io;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 1024 * 1024;

/// What the drill reads of an answer.
pub struct Answer {
    pub status: u16,
    pub retry_after: bool,
    pub body: Vec<u8>,
}

/// A keep-alive connection to one address, opened when first needed and
/// again after the service closed it.
pub struct Connection {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    /// Bytes read and not yet used.
    buf: Vec<u8>,
}

fn bad(why: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.into())
}

impl Connection {
    pub fn new(addr: SocketAddr) -> Self {
        Connection {
            addr,
            stream: None,
            buf: Vec::with_capacity(4096),
        }
    }

    /// Sends `request` (a whole HTTP/1.1 request) and reads the answer. A
    /// connection the service had already closed is opened again and the
    /// request sent once more, as any HTTP client does with a kept-alive
    /// connection; any other failure is the caller's to count.
    pub async fn exchange(&mut self, request: &[u8]) -> io::Result<Answer> {
        let reused = self.stream.is_some();
        match self.try_exchange(request).await {
            Ok(a) => Ok(a),
            Err(e) if reused && self.buf.is_empty() && closed_early(&e) => {
                self.stream = None;
                self.try_exchange(request).await
            }
            Err(e) => Err(e),
        }
    }

    async fn try_exchange(&mut self, request: &[u8]) -> io::Result<Answer> {
        self.buf.clear();
        if self.stream.is_none() {
            let s = TcpStream::connect(self.addr).await?;
            s.set_nodelay(true)?;
            self.stream = Some(s);
        }
        let result = self.send_and_read(request).await;
        if result.is_err() {
            // Whatever state the connection is in, it is not reused.
            self.stream = None;
        }
        result
    }

    async fn send_and_read(&mut self, request: &[u8]) -> io::Result<Answer> {
        let stream = self.stream.as_mut().ok_or_else(|| bad("no connection"))?;
        stream.write_all(request).await?;
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            if self.buf.len() > MAX_HEAD {
                return Err(bad("an answer's head over 16 KiB"));
            }
            fill(stream, &mut self.buf).await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end])
            .map_err(|_| bad("an answer's head is not text"))?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status = status_line
            .strip_prefix("HTTP/1.1 ")
            .and_then(|r| r.get(..3))
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| bad(format!("not an HTTP/1.1 status line: {status_line:?}")))?;
        let (mut length, mut chunked, mut retry_after, mut close) = (None, false, false, false);
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => {
                    length = Some(
                        value
                            .parse::<usize>()
                            .map_err(|_| bad("a bad Content-Length"))?,
                    )
                }
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "retry-after" => retry_after = true,
                "connection" => close = value.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
        self.buf.drain(..head_end);
        let body = match (length, chunked) {
            (_, true) => read_chunked(stream, &mut self.buf).await?,
            (Some(n), false) => read_exact(stream, &mut self.buf, n).await?,
            (None, false) if status == 204 || status == 304 => Vec::new(),
            (None, false) => return Err(bad("an answer with no length")),
        };
        if close {
            self.stream = None;
        }
        Ok(Answer {
            status,
            retry_after,
            body,
        })
    }
}

/// Whether an error means the service closed the connection before it
/// answered (an idle keep-alive connection it had let go).
fn closed_early(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionAborted
    )
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads more into `buf`; the end of the stream is an error (an answer
/// was still due).
async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<()> {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk).await?;
    if n == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

async fn read_exact(stream: &mut TcpStream, buf: &mut Vec<u8>, n: usize) -> io::Result<Vec<u8>> {
    if n > MAX_BODY {
        return Err(bad("a body over 1 MiB"));
    }
    while buf.len() < n {
        fill(stream, buf).await?;
    }
    Ok(buf.drain(..n).collect())
}

async fn read_chunked(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(i) = find(buf, b"\r\n") {
                break i;
            }
            if buf.len() > 64 {
                return Err(bad("a chunk size line over 64 bytes"));
            }
            fill(stream, buf).await?;
        };
        let size_text = std::str::from_utf8(&buf[..line_end]).unwrap_or_default();
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size =
            usize::from_str_radix(size_text, 16).map_err(|_| bad("a bad chunk size line"))?;
        buf.drain(..line_end + 2);
        if size == 0 {
            // Trailers (hyper sends none) end with an empty line.
            loop {
                if buf.starts_with(b"\r\n") {
                    buf.drain(..2);
                    return Ok(body);
                }
                if let Some(i) = find(buf, b"\r\n\r\n") {
                    buf.drain(..i + 4);
                    return Ok(body);
                }
                if buf.len() > MAX_HEAD {
                    return Err(bad("trailers over 16 KiB"));
                }
                fill(stream, buf).await?;
            }
        }
        if body.len() + size > MAX_BODY {
            return Err(bad("a body over 1 MiB"));
        }
        let chunk = read_exact(stream, buf, size + 2).await?;
        body.extend_from_slice(&chunk[..size]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// Serves `answers` in turn on one accepted connection, each after a
    /// request's head has arrived, then closes it.
    async fn serve(answers: Vec<&'static [u8]>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            for answer in answers {
                while find(&seen, b"\r\n\r\n").is_none() {
                    let mut b = [0u8; 1024];
                    let n = s.read(&mut b).await.unwrap();
                    seen.extend_from_slice(&b[..n]);
                }
                let end = find(&seen, b"\r\n\r\n").unwrap() + 4;
                seen.drain(..end);
                s.write_all(answer).await.unwrap();
            }
        });
        addr
    }

    #[tokio::test]
    async fn reads_lengths_chunks_and_retry_after_on_one_connection() {
        let addr = serve(vec![
            b"HTTP/1.1 201 Created\r\ncontent-length: 5\r\n\r\nhello",
            b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\ncontent-length: 2\r\n\r\n{}",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
        ])
        .await;
        let mut c = Connection::new(addr);
        let a = c.exchange(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        assert_eq!(
            (a.status, a.retry_after, a.body.as_slice()),
            (201, false, &b"hello"[..])
        );
        let a = c.exchange(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        assert_eq!((a.status, a.retry_after), (503, true));
        let a = c.exchange(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        assert_eq!((a.status, a.body.as_slice()), (200, &b"abcde"[..]));
    }

    #[tokio::test]
    async fn what_is_not_an_answer_is_an_error() {
        for answer in [
            &b"SMTP ready\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\n\r\nno length",
            b"HTTP/1.1 200 OK\r\ncontent-length: 99999999\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort",
        ] {
            let addr = serve(vec![answer]).await;
            let mut c = Connection::new(addr);
            assert!(
                c.exchange(b"GET / HTTP/1.1\r\n\r\n").await.is_err(),
                "{:?}",
                String::from_utf8_lossy(answer)
            );
        }
    }

    #[tokio::test]
    async fn a_connection_the_service_closed_is_opened_again() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            // The first connection answers once and is closed; the second
            // answers the retried request.
            for _ in 0..2 {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut b = [0u8; 1024];
                let _ = s.read(&mut b).await.unwrap();
                s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    .await
                    .unwrap();
            }
        });
        let mut c = Connection::new(addr);
        for _ in 0..2 {
            let a = c.exchange(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
            assert_eq!(a.body, b"ok");
        }
    }
}

//! Moving bytes between a switch's stream and the connection's buffers: one turn writes what the
//! [`Outbox`] holds (as far as the switch takes it), then reads into the read buffer unless more
//! than [`READ_PAUSE`] bytes still wait to be written (back-pressure).

use super::outbox::Outbox;
use bytes::BytesMut;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite};

/// Reading pauses while more than this waits to be written.
pub const READ_PAUSE: usize = 256 * 1024;

/// How the writing side of the stream stands.
#[derive(Debug, Default)]
pub struct WriteState {
    /// Since when the oldest unsent bytes have waited with the switch taking none (`None` while
    /// the outbox is empty).
    pub waiting_since: Option<Instant>,
    /// Bytes were written and the stream not yet flushed (a no-op for TCP; matters for TLS).
    pub needs_flush: bool,
}

/// One turn of the stream: writes what the outbox holds (as far as the switch takes it), then
/// reads into `buf` unless too much is still queued. Ready with the read's result; `Err` when
/// writing failed. Pending (wakers registered for both directions) when neither can go on.
pub fn poll_io<S: AsyncRead + AsyncWrite + Unpin>(
    cx: &mut Context<'_>,
    stream: &mut S,
    buf: &mut BytesMut,
    outbox: &mut Outbox,
    write: &mut WriteState,
) -> Poll<std::io::Result<std::io::Result<usize>>> {
    if let Poll::Ready(Err(e)) = poll_write_out(cx, stream, outbox, write) {
        return Poll::Ready(Err(e));
    }
    if outbox.len() > READ_PAUSE {
        return Poll::Pending;
    }
    tokio_util::io::poll_read_buf(Pin::new(stream), cx, buf).map(Ok)
}

/// Writes the outbox until it is empty (then flushes) or the stream would block. Ready(Ok) once
/// everything is written and flushed.
pub fn poll_write_out<S: AsyncWrite + Unpin>(
    cx: &mut Context<'_>,
    stream: &mut S,
    outbox: &mut Outbox,
    write: &mut WriteState,
) -> Poll<std::io::Result<()>> {
    while !outbox.is_empty() {
        match Pin::new(&mut *stream).poll_write(cx, outbox.chunk()) {
            Poll::Ready(Ok(0)) => return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into())),
            Poll::Ready(Ok(n)) => {
                outbox.consume(n);
                write.needs_flush = true;
                write.waiting_since = (!outbox.is_empty()).then(Instant::now);
            }
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
    }
    if write.needs_flush {
        std::task::ready!(Pin::new(&mut *stream).poll_flush(cx))?;
        write.needs_flush = false;
    }
    Poll::Ready(Ok(()))
}

/// Writes everything queued, then shuts our half of the stream down.
pub fn poll_drain_and_close<S: AsyncWrite + Unpin>(
    cx: &mut Context<'_>,
    stream: &mut S,
    outbox: &mut Outbox,
    write: &mut WriteState,
) -> Poll<std::io::Result<()>> {
    std::task::ready!(poll_write_out(cx, stream, outbox, write))?;
    Pin::new(stream).poll_shutdown(cx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BufMut;
    use std::future::poll_fn;
    use tokio::io::AsyncReadExt;

    /// A stream that takes at most `per_write` bytes per call and records what it got.
    struct Trickle {
        per_write: usize,
        got: Vec<u8>,
    }

    impl AsyncWrite for Trickle {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            b: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            let n = b.len().min(self.per_write);
            self.got.extend_from_slice(&b[..n]);
            Poll::Ready(Ok(n))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    fn echo_reply(xid: u8) -> [u8; 8] {
        [4, 3, 0, 8, 0, 0, 0, xid]
    }

    #[tokio::test]
    async fn draining_writes_urgent_ahead_of_bulk_and_everything_once() {
        let mut outbox = Outbox::default();
        for i in 0..100u8 {
            outbox.bulk().put_slice(&[4, 14, 0, 9, 0, 0, 0, i, 0xbb]);
        }
        outbox.urgent().put_slice(&echo_reply(7));
        let mut stream = Trickle {
            per_write: 5,
            got: Vec::new(),
        };
        let mut write = WriteState::default();
        poll_fn(|cx| poll_drain_and_close(cx, &mut stream, &mut outbox, &mut write))
            .await
            .unwrap();
        assert_eq!(
            &stream.got[..8],
            &echo_reply(7),
            "the echo reply goes first"
        );
        assert_eq!(stream.got.len(), 8 + 900);
        assert_eq!(
            &stream.got[8..17],
            &[4, 14, 0, 9, 0, 0, 0, 0, 0xbb],
            "bulk order kept"
        );
        assert!(write.waiting_since.is_none() && !write.needs_flush);
    }

    #[tokio::test]
    async fn poll_io_stops_reading_while_too_much_waits_and_resumes_once_written() {
        let (mut ours, mut theirs) = tokio::io::duplex(64 * 1024);
        let mut outbox = Outbox::default();
        let msg = [[4u8, 14, 0x04, 0x00].as_slice(), &[0; 1020]].concat(); // 1 KiB messages
        for _ in 0..(READ_PAUSE / 1024 + 100) {
            outbox.bulk().put_slice(&msg);
        }
        let queued = outbox.len();
        tokio::io::AsyncWriteExt::write_all(&mut theirs, &echo_reply(1))
            .await
            .unwrap();
        let mut buf = BytesMut::with_capacity(64);
        let mut write = WriteState::default();
        // The duplex takes 64 KiB, then blocks: too much stays queued, so nothing is read.
        let first =
            poll_fn(|cx| Poll::Ready(poll_io(cx, &mut ours, &mut buf, &mut outbox, &mut write)))
                .await;
        assert!(
            first.is_pending(),
            "must not read with {} bytes queued",
            outbox.len()
        );
        assert!(buf.is_empty());
        assert_eq!(outbox.len(), queued - 64 * 1024);
        assert!(write.waiting_since.is_some());
        // The switch reads everything: once the outbox is below the mark, the echo is read.
        let reader = tokio::spawn(async move {
            let mut got = vec![0u8; queued];
            theirs.read_exact(&mut got).await.map(|_| got.len())
        });
        let read = poll_fn(|cx| poll_io(cx, &mut ours, &mut buf, &mut outbox, &mut write))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read, 8);
        assert_eq!(&buf[..], &echo_reply(1));
        assert!(outbox.len() <= READ_PAUSE);
        poll_fn(|cx| poll_write_out(cx, &mut ours, &mut outbox, &mut write))
            .await
            .unwrap();
        assert!(outbox.is_empty() && write.waiting_since.is_none());
        assert_eq!(reader.await.unwrap().unwrap(), queued);
    }
}

//! The TCP (or TLS) side of one connection: the tokio task that sends the switch's HELLO, reads
//! and frames the controller's bytes, hands each frame to [`Connection`], writes the replies in
//! order, drains what the handle queued (raw bytes, PACKET_INs), sends periodic ECHO_REQUESTs,
//! and records why the connection ended; then it shuts its side down (a TCP FIN, after TLS
//! `close_notify` on a TLS stream). Buffers are shrunk back after large frames.

use std::future::pending;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use op25b_proto::framer::next_frame;
use op25b_proto::{Hello, Message, OfpMessage};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::Interval;
use tokio_rustls::client::TlsStream;

use crate::connection::Connection;
use crate::faults::HandshakeBehaviour;
use crate::observe::SwitchEvent;
use crate::switch_state::Inner;

/// Initial read buffer; it grows to the largest frame (at most 64 KiB) and is shrunk back.
const READ_CHUNK: usize = 1024;
/// Buffers above this capacity are released once empty.
const SHRINK_ABOVE: usize = 64 * 1024;
/// xids of the switch's own ECHO_REQUESTs start here (the controller's are usually small).
const ECHO_XID_BASE: u32 = 0xec40_0000;
/// How long closing may take (sending `close_notify` to a peer that stopped reading).
const SHUTDOWN_LIMIT: Duration = Duration::from_secs(1);

/// A connected stream: plain TCP, or TLS after the handshake.
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// Runs one connection to its end and records why it ended. Every write is flushed: a TLS
/// stream may hold encrypted bytes back until then (on TCP flushing does nothing).
pub(crate) async fn serve(
    inner: Arc<Inner>,
    stream: Stream,
    wake: Arc<Notify>,
    id: u64,
    silent: bool,
) {
    let driven = match stream {
        Stream::Plain(tcp) => {
            let (rd, wr) = tcp.into_split();
            drive(&inner, rd, wr, &wake, id, silent).await
        }
        Stream::Tls(tls) => {
            let (rd, wr) = tokio::io::split(*tls);
            drive(&inner, rd, wr, &wake, id, silent).await
        }
    };
    let reason = match driven {
        Ok(reason) => reason,
        Err(e) => format!("I/O error: {e}"),
    };
    {
        let mut st = inner.state.lock();
        if st.connection.as_ref().is_some_and(|c| c.id == id) {
            st.connection = None;
            st.version = None;
        }
        st.events.push(SwitchEvent::Disconnected { reason });
    }
    inner.bump();
}

async fn tick(echo: &mut Option<Interval>) {
    match echo {
        Some(i) => {
            i.tick().await;
        }
        None => pending().await,
    }
}

/// The connection loop, then the orderly close of the switch's side; returns why it ended.
async fn drive<R, W>(
    inner: &Inner,
    mut rd: R,
    mut wr: W,
    wake: &Notify,
    id: u64,
    silent: bool,
) -> std::io::Result<String>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let ended = exchange(inner, &mut rd, &mut wr, wake, id, silent).await;
    // TLS: close_notify, then FIN. Best effort: the reason above is what counts.
    let _ = tokio::time::timeout(SHUTDOWN_LIMIT, wr.shutdown()).await;
    ended
}

/// Reads, answers and writes until the connection ends; returns why.
async fn exchange<R, W>(
    inner: &Inner,
    rd: &mut R,
    wr: &mut W,
    wake: &Notify,
    id: u64,
    mut silent: bool,
) -> std::io::Result<String>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let hello_version = inner
        .versions
        .iter()
        .copied()
        .max()
        .unwrap_or(op25b_proto::consts::OFP_VERSION);
    if inner.handshake != HandshakeBehaviour::NoHello {
        let hello = OfpMessage {
            version: hello_version,
            xid: 0,
            body: Message::Hello(Hello::with_versions(&inner.versions)),
        };
        wr.write_all(&hello.to_bytes()).await?;
        wr.flush().await?;
    }
    let mut conn = Connection {
        negotiated: None,
        out: BytesMut::new(),
    };
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut echo = inner.echo_interval.map(|d| {
        let start = tokio::time::Instant::now() + d;
        tokio::time::interval_at(start, d)
    });
    let mut echo_xid = ECHO_XID_BASE;
    loop {
        tokio::select! {
            () = wake.notified() => {
                let outbox = {
                    let mut st = inner.state.lock();
                    silent = st.silent;
                    match st.connection.as_mut() {
                        Some(slot) if slot.id == id => std::mem::take(&mut slot.outbox),
                        _ => return Ok("disconnected by the test".into()),
                    }
                };
                for bytes in outbox {
                    wr.write_all(&bytes).await?;
                }
                wr.flush().await?;
            },
            n = async {
                // Read in chunks, not in the 64-byte steps a full BytesMut would grow by.
                if buf.capacity() - buf.len() < READ_CHUNK / 4 {
                    buf.reserve(READ_CHUNK);
                }
                rd.read_buf(&mut buf).await
            }, if !silent => {
                if n? == 0 {
                    return Ok("controller closed the connection".into());
                }
                let end = loop {
                    match next_frame(&mut buf) {
                        Ok(Some(frame)) => {
                            if let Some(reason) = conn.on_frame(inner, &frame) {
                                break Some(reason);
                            }
                        }
                        Ok(None) => break None,
                        Err(e) => break Some(format!("unframeable stream: {e}")),
                    }
                };
                flush(wr, &mut conn.out).await?;
                if let Some(reason) = end {
                    return Ok(reason);
                }
                if buf.is_empty() && buf.capacity() > SHRINK_ABOVE {
                    buf = BytesMut::with_capacity(READ_CHUNK);
                }
            }
            () = tick(&mut echo), if !silent && conn.negotiated.is_some() => {
                echo_xid = echo_xid.wrapping_add(1);
                let req = OfpMessage {
                    version: conn.negotiated.unwrap_or(hello_version),
                    xid: echo_xid,
                    body: Message::EchoRequest(Bytes::new()),
                };
                wr.write_all(&req.to_bytes()).await?;
                wr.flush().await?;
            }
        }
    }
}

async fn flush<W: AsyncWrite + Unpin>(wr: &mut W, out: &mut BytesMut) -> std::io::Result<()> {
    if !out.is_empty() {
        wr.write_all(out).await?;
        wr.flush().await?;
        out.clear();
        if out.capacity() > SHRINK_ABOVE {
            *out = BytesMut::new();
        }
    }
    Ok(())
}

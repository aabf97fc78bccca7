//! The TCP side of one connection: the tokio task that sends the switch's HELLO, reads and
//! frames the controller's bytes, hands each frame to [`Connection`], writes the replies in
//! order, drains what the handle queued (raw bytes, PACKET_INs), sends periodic ECHO_REQUESTs,
//! and records why the connection ended. Buffers are shrunk back after large frames.

use std::future::pending;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use op25b_proto::framer::next_frame;
use op25b_proto::{Hello, Message, OfpMessage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::Interval;

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

/// Runs one connection to its end and records why it ended.
pub(crate) async fn serve(
    inner: Arc<Inner>,
    stream: TcpStream,
    wake: Arc<Notify>,
    id: u64,
    silent: bool,
) {
    let reason = match drive(&inner, stream, &wake, id, silent).await {
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

/// The connection loop; returns why it ended.
async fn drive(
    inner: &Inner,
    stream: TcpStream,
    wake: &Notify,
    id: u64,
    mut silent: bool,
) -> std::io::Result<String> {
    let (mut rd, mut wr) = stream.into_split();
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
                flush(&mut wr, &mut conn.out).await?;
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
            }
        }
    }
}

async fn flush(wr: &mut OwnedWriteHalf, out: &mut BytesMut) -> std::io::Result<()> {
    if !out.is_empty() {
        wr.write_all(out).await?;
        out.clear();
        if out.capacity() > SHRINK_ABOVE {
            *out = BytesMut::new();
        }
    }
    Ok(())
}

//! A tiny scripted OpenFlow controller for the simulator's tests: listen on loopback, accept
//! one switch, send and expect messages with the codec. Not the real controller.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use op25b_proto::consts::OFP_VERSION;
use op25b_proto::framer::next_frame;
use op25b_proto::{FeaturesReply, Hello, Message, OfpMessage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How long any single expectation may take before the test fails.
pub const STEP: Duration = Duration::from_secs(5);

/// A listening controller.
pub struct Listener {
    listener: TcpListener,
}

impl Listener {
    /// Listens on 127.0.0.1, a free port.
    pub async fn bind() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        Self { listener }
    }

    /// Where switches should connect.
    pub fn addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("local addr")
    }

    /// Accepts the next switch connection.
    pub async fn accept(&self) -> Conn {
        let (stream, peer) = tokio::time::timeout(STEP, self.listener.accept())
            .await
            .expect("a switch connects in time")
            .expect("accept");
        Conn {
            stream,
            peer,
            buf: BytesMut::new(),
            next_xid: 1,
            step: STEP,
        }
    }
}

/// One accepted switch connection.
pub struct Conn {
    stream: TcpStream,
    /// The switch's address.
    pub peer: SocketAddr,
    buf: BytesMut,
    next_xid: u32,
    step: Duration,
}

impl Conn {
    /// Allows each expectation `step` (a real switch on a loaded machine can stall for
    /// seconds).
    pub fn set_step(&mut self, step: Duration) {
        self.step = step;
    }

    /// A fresh xid.
    pub fn xid(&mut self) -> u32 {
        self.next_xid += 1;
        self.next_xid
    }

    /// Sends one message.
    pub async fn send(&mut self, msg: &OfpMessage) {
        self.stream
            .write_all(&msg.to_bytes())
            .await
            .expect("write to switch");
    }

    /// Sends `body` with a fresh xid; returns the xid.
    pub async fn send_body(&mut self, body: Message) -> u32 {
        let xid = self.xid();
        self.send(&OfpMessage {
            version: OFP_VERSION,
            xid,
            body,
        })
        .await;
        xid
    }

    /// Writes raw bytes.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write to switch");
    }

    /// The next whole frame, or `None` when the switch closed the connection.
    pub async fn recv_frame(&mut self) -> Option<bytes::Bytes> {
        loop {
            if let Some(frame) = next_frame(&mut self.buf).expect("switch sends frameable bytes") {
                return Some(frame);
            }
            let n = tokio::time::timeout(self.step, self.stream.read_buf(&mut self.buf))
                .await
                .expect("the switch answers in time")
                .expect("read from switch");
            if n == 0 {
                return None;
            }
        }
    }

    /// Exactly `n` raw bytes (whatever they are).
    pub async fn recv_exact(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            let read = tokio::time::timeout(self.step, self.stream.read_buf(&mut self.buf))
                .await
                .expect("the switch sends in time")
                .expect("read from switch");
            assert!(read > 0, "switch closed before sending {n} bytes");
        }
        self.buf.split_to(n).to_vec()
    }

    /// The next message (panics on EOF or a frame that does not decode).
    pub async fn recv(&mut self) -> OfpMessage {
        let frame = self.recv_frame().await.expect("switch still connected");
        OfpMessage::decode(&frame).expect("switch sends decodable messages")
    }

    /// Whether nothing arrives within `wait` (and the connection stays open).
    pub async fn silent_for(&mut self, wait: Duration) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        // Timing out means nothing came; any read result (data or EOF) means something did.
        tokio::time::timeout(wait, self.stream.read_buf(&mut self.buf))
            .await
            .is_err()
    }

    /// Whether the switch closes the connection (EOF) within [`STEP`], skipping any messages
    /// it sends first (returned).
    pub async fn expect_close(&mut self) -> Vec<OfpMessage> {
        let mut before = Vec::new();
        while let Some(frame) = self.recv_frame().await {
            before.push(OfpMessage::decode(&frame).expect("decodable"));
        }
        before
    }

    /// HELLO both ways; returns the switch's HELLO.
    pub async fn hello(&mut self) -> OfpMessage {
        self.send(&OfpMessage {
            version: OFP_VERSION,
            xid: 1,
            body: Message::Hello(Hello::with_versions(&[OFP_VERSION])),
        })
        .await;
        let h = self.recv().await;
        assert!(
            matches!(h.body, Message::Hello(_)),
            "first message is HELLO, got {h:?}"
        );
        h
    }

    /// HELLO and FEATURES; returns the FEATURES_REPLY.
    pub async fn handshake(&mut self) -> FeaturesReply {
        self.hello().await;
        let xid = self.send_body(Message::FeaturesRequest).await;
        let r = self.recv().await;
        assert_eq!(r.xid, xid);
        match r.body {
            Message::FeaturesReply(f) => f,
            other => panic!("expected FEATURES_REPLY, got {other:?}"),
        }
    }

    /// Sends a BARRIER_REQUEST and collects every message up to and including its reply.
    pub async fn barrier(&mut self) -> Vec<OfpMessage> {
        let xid = self.send_body(Message::BarrierRequest).await;
        let mut got = Vec::new();
        loop {
            let m = self.recv().await;
            let done = m.xid == xid && matches!(m.body, Message::BarrierReply);
            got.push(m);
            if done {
                return got;
            }
        }
    }
}

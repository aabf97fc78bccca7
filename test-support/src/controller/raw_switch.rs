//! A bare OpenFlow client, for cases below what a switch would do: raw bytes, hand-made
//! handshakes, and reads with timeouts.

use bytes::BytesMut;
use op25b_proto::{Message, OfpMessage};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// A bare OpenFlow client, for cases below what a switch would do; over plain TCP by default,
/// or over any stream (e.g. a TLS client stream) with [`RawSwitch::over`].
pub struct RawSwitch<S = TcpStream> {
    pub stream: S,
    buf: BytesMut,
}

pub enum Received {
    Msg(OfpMessage),
    Closed,
}

impl RawSwitch<TcpStream> {
    pub async fn connect(addr: SocketAddr) -> RawSwitch {
        let stream = TcpStream::connect(addr)
            .await
            .expect("connect to the controller");
        RawSwitch {
            stream,
            buf: BytesMut::new(),
        }
    }

    /// Connects from the local address `from` (any 127.0.0.0/8 address works on Linux
    /// loopback): a peer at another address, e.g. an impostor next to the real switch.
    pub async fn connect_from(addr: SocketAddr, from: std::net::IpAddr) -> RawSwitch {
        let socket = match from {
            std::net::IpAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
            std::net::IpAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
        }
        .expect("socket");
        socket
            .bind(SocketAddr::new(from, 0))
            .expect("bind the source address");
        let stream = socket
            .connect(addr)
            .await
            .expect("connect to the controller");
        RawSwitch {
            stream,
            buf: BytesMut::new(),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> RawSwitch<S> {
    /// A bare client over an already connected stream.
    pub fn over(stream: S) -> RawSwitch<S> {
        RawSwitch {
            stream,
            buf: BytesMut::new(),
        }
    }

    pub async fn send(&mut self, m: OfpMessage) {
        self.stream.write_all(&m.to_bytes()).await.expect("send");
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("send raw");
    }

    /// The next message, `Closed` on EOF or reset; panics after `timeout`.
    pub async fn recv(&mut self, timeout: Duration) -> Received {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(frame) =
                op25b_proto::framer::next_frame(&mut self.buf).expect("controller frames are valid")
            {
                return Received::Msg(
                    OfpMessage::decode(&frame).expect("controller messages decode"),
                );
            }
            match tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buf)).await {
                Err(_) => panic!("nothing from the controller within {timeout:?}"),
                Ok(Ok(0) | Err(_)) => return Received::Closed,
                Ok(Ok(_)) => {}
            }
        }
    }

    /// The next message that `pick` accepts (others skipped); panics on close or timeout.
    pub async fn recv_until<T>(
        &mut self,
        timeout: Duration,
        mut pick: impl FnMut(&OfpMessage) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.recv(left).await {
                Received::Msg(m) => {
                    if let Some(t) = pick(&m) {
                        return t;
                    }
                }
                Received::Closed => panic!("controller closed the connection"),
            }
        }
    }

    /// Reads until the controller closes; returns what came before and how long it took.
    pub async fn until_closed(&mut self, timeout: Duration) -> (Vec<OfpMessage>, Duration) {
        let start = Instant::now();
        let mut got = Vec::new();
        loop {
            let left = timeout.saturating_sub(start.elapsed());
            match self.recv(left).await {
                Received::Msg(m) => got.push(m),
                Received::Closed => return (got, start.elapsed()),
            }
        }
    }

    /// HELLO, FEATURES, PORT_DESC (ports 1..=3) as a switch with `dpid` would answer them.
    /// Returns the xid of the FLOW stats request that follows.
    pub async fn handshake(&mut self, dpid: u64) -> u32 {
        self.hello_and_features(dpid).await;
        self.finish_handshake().await
    }

    /// HELLO and FEATURES_REPLY only.
    pub async fn hello_and_features(&mut self, dpid: u64) {
        let t = Duration::from_secs(5);
        self.recv_until(t, |m| matches!(m.body, Message::Hello(_)).then_some(()))
            .await;
        self.send(OfpMessage::new(
            1,
            Message::Hello(op25b_proto::Hello::with_versions(&[4])),
        ))
        .await;
        let fx = self
            .recv_until(t, |m| {
                matches!(m.body, Message::FeaturesRequest).then_some(m.xid)
            })
            .await;
        let features = op25b_proto::FeaturesReply {
            datapath_id: dpid,
            n_buffers: 0,
            n_tables: 254,
            auxiliary_id: 0,
            capabilities: 0,
            reserved: 0,
        };
        self.send(OfpMessage::new(fx, Message::FeaturesReply(features)))
            .await;
    }

    /// PORT_DESC; returns the xid of the FLOW stats request that follows.
    pub async fn finish_handshake(&mut self) -> u32 {
        let t = Duration::from_secs(5);
        let px = self
            .recv_until(t, |m| match &m.body {
                Message::MultipartRequest(r)
                    if matches!(r.body, op25b_proto::MultipartRequestBody::PortDesc) =>
                {
                    Some(m.xid)
                }
                _ => None,
            })
            .await;
        let ports = (1..=3).map(port).collect();
        self.send(OfpMessage::new(
            px,
            Message::MultipartReply(op25b_proto::MultipartReply {
                flags: 0,
                body: op25b_proto::MultipartReplyBody::PortDesc(ports),
            }),
        ))
        .await;
        self.recv_until(t, |m| match &m.body {
            Message::MultipartRequest(r)
                if matches!(r.body, op25b_proto::MultipartRequestBody::Flow(_)) =>
            {
                Some(m.xid)
            }
            _ => None,
        })
        .await
    }
}

pub fn port(n: u32) -> op25b_proto::Port {
    op25b_proto::Port {
        port_no: n,
        hw_addr: op25b_proto::MacAddr([2, 0, 0, 0, 0, n.to_be_bytes()[3]]),
        name: format!("p{n}"),
        config: 0,
        state: 0,
        curr: 0,
        advertised: 0,
        supported: 0,
        peer: 0,
        curr_speed: 0,
        max_speed: 0,
    }
}

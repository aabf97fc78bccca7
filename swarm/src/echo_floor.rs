//! The floor under the steady-state CPU: what answering N switches' ECHO_REQUESTs costs a
//! server that does nothing else. `op25b-swarm echo-floor` starts this crate's own do-nothing
//! responder (a child process: same runtime as the controller with `--workers 1`, it answers
//! each ECHO_REQUEST with an ECHO_REPLY and drops everything else), opens N connections from
//! the same loopback source addresses as the swarm, sends each one's ECHO_REQUEST every
//! interval (spread evenly), and reads the responder's CPU from /proc over a window. Whatever
//! that costs per exchange is the kernel's and tokio's share, which no controller on this
//! machine can go below at that message rate.
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{BufMut, BytesMut};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinSet;

use crate::controller_process::free_loopback_port;
use crate::error::SwarmError;
use crate::fleet::source_ip;
use crate::proc_stats;
use crate::storm_result::load_now;

const OFPT_ECHO_REQUEST: u8 = 2;
const OFPT_ECHO_REPLY: u8 = 3;

/// Answers every ECHO_REQUEST on every connection accepted from `listener`; drops the rest.
pub async fn respond(listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(answer(stream));
    }
}

/// One connection of the responder, until the peer closes it or sends a malformed frame.
async fn answer(mut stream: TcpStream) {
    let mut buf = BytesMut::with_capacity(256);
    let mut out = Vec::with_capacity(64);
    loop {
        match stream.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        out.clear();
        loop {
            match op25b_proto::framer::next_frame(&mut buf) {
                Ok(Some(frame)) if frame[1] == OFPT_ECHO_REQUEST => {
                    out.extend_from_slice(&frame);
                    let at = out.len() - frame.len() + 1;
                    out[at] = OFPT_ECHO_REPLY;
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => return,
            }
        }
        if !out.is_empty() && stream.write_all(&out).await.is_err() {
            return;
        }
    }
}

/// The same responder without tokio: one thread, level-triggered epoll, up to 1,024 events per
/// wait, `read`/`write` on non-blocking sockets. What is left of its CPU is the kernel's.
pub fn respond_epoll(listen: SocketAddr) -> std::io::Result<()> {
    use std::collections::HashMap;
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    let listener = std::net::TcpListener::bind(listen)?;
    listener.set_nonblocking(true)?;
    // SAFETY: a plain syscall; the descriptor is closed when the process exits.
    #[allow(unsafe_code, reason = "epoll has no safe wrapper in std")]
    let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if ep < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let add = |fd: i32| -> std::io::Result<()> {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            // The token is the descriptor; a negative one is what epoll_ctl calls EBADF.
            u64: u64::try_from(fd).map_err(|_| std::io::Error::from_raw_os_error(libc::EBADF))?,
        };
        // SAFETY: `ev` is a valid epoll_event for the duration of the call.
        #[allow(unsafe_code, reason = "epoll has no safe wrapper in std")]
        let rc = unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd, &mut ev) };
        if rc < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    };
    let lfd = listener.as_raw_fd();
    add(lfd)?;
    let mut conns: HashMap<i32, (std::net::TcpStream, Vec<u8>)> = HashMap::new();
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 1024];
    // Never more than `events` has room for.
    let max_events = i32::try_from(events.len()).unwrap_or(i32::MAX);
    let mut buf = [0u8; 4096];
    let mut out = Vec::with_capacity(4096);
    loop {
        // SAFETY: `events` has room for `max_events` entries.
        #[allow(unsafe_code, reason = "epoll has no safe wrapper in std")]
        let n = unsafe { libc::epoll_wait(ep, events.as_mut_ptr(), max_events, -1) };
        // Negative: failed (-1 and errno).
        let Ok(n) = usize::try_from(n) else {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        };
        for ev in &events[..n] {
            #[allow(
                clippy::cast_possible_truncation,
                reason = "the token is a descriptor `add` registered, so it fits in i32"
            )]
            let fd = ev.u64 as i32;
            if fd == lfd {
                while let Ok((s, _)) = listener.accept() {
                    s.set_nonblocking(true)?;
                    let _ = s.set_nodelay(true);
                    let sfd = s.as_raw_fd();
                    add(sfd)?;
                    conns.insert(sfd, (s, Vec::new()));
                }
                continue;
            }
            let Some((stream, pending)) = conns.get_mut(&fd) else {
                continue;
            };
            let closed = match stream.read(&mut buf) {
                Ok(0) => true,
                Ok(k) => {
                    pending.extend_from_slice(&buf[..k]);
                    out.clear();
                    let mut at = 0;
                    let mut malformed = false;
                    while pending.len() - at >= 8 {
                        let len =
                            usize::from(u16::from_be_bytes([pending[at + 2], pending[at + 3]]));
                        if len < 8 {
                            malformed = true;
                            break;
                        }
                        if pending.len() - at < len {
                            break;
                        }
                        if pending[at + 1] == OFPT_ECHO_REQUEST {
                            out.extend_from_slice(&pending[at..at + len]);
                            let t = out.len() - len + 1;
                            out[t] = OFPT_ECHO_REPLY;
                        }
                        at += len;
                    }
                    pending.drain(..at);
                    malformed || (!out.is_empty() && stream.write_all(&out).is_err())
                }
                Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
            };
            if closed {
                conns.remove(&fd);
            }
        }
    }
}

/// What one echo-floor run measured.
#[derive(Debug, Clone, Serialize)]
pub struct FloorResult {
    /// "tokio, 1 worker" or "epoll, no runtime".
    pub responder: &'static str,
    pub switches: usize,
    pub connected: usize,
    pub echo_secs: f64,
    pub window_secs: f64,
    /// Echo replies the clients received in the window.
    pub exchanges: u64,
    pub exchanges_per_sec: f64,
    /// The responder's user+system CPU over the window, percent of one core.
    pub responder_cpu_pct: f64,
    /// Responder CPU per exchange, microseconds.
    pub us_per_exchange: f64,
    /// The responder's resident set after the window, MiB.
    pub responder_rss_mib: f64,
    pub load: Option<f64>,
}

/// The responder as a child process, killed when dropped.
struct Responder(Child);

impl Drop for Responder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the measurement: `n` connections, one ECHO_REQUEST each per `echo`, CPU over `window`
/// (after every connection is up and one interval has passed).
pub async fn run_floor(
    n: usize,
    echo: Duration,
    window: Duration,
    raw_epoll: bool,
) -> Result<FloorResult, SwarmError> {
    let addr = free_loopback_port()?;
    let me = std::env::current_exe().map_err(|source| SwarmError::SpawnController {
        bin: "op25b-swarm".into(),
        source,
    })?;
    let mut command = Command::new(&me);
    command
        .arg("echo-responder")
        .arg("--listen")
        .arg(addr.to_string());
    if raw_epoll {
        command.arg("--raw-epoll");
    }
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|source| SwarmError::SpawnController {
            bin: me.clone(),
            source,
        })?;
    let responder = Responder(child);
    let pid = responder.0.id();
    wait_listening(addr).await?;

    let replies = Arc::new(AtomicU64::new(0));
    let mut clients = JoinSet::new();
    let mut connects = JoinSet::new();
    for i in 0..n {
        connects.spawn(connect(i, addr));
    }
    let mut connected = 0;
    let mut first_error = None;
    while let Some(r) = connects.join_next().await {
        match r {
            Ok(Ok((i, stream))) => {
                connected += 1;
                let offset = echo.mul_f64(i as f64 / n as f64);
                // The xid only tags this connection's own echoes: saturating is harmless.
                let xid = u32::try_from(i).unwrap_or(u32::MAX);
                clients.spawn(probe(stream, xid, offset, echo, replies.clone()));
            }
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(e) => {
                first_error.get_or_insert(e.to_string());
            }
        }
    }
    if let Some(e) = first_error {
        eprintln!(
            "op25b-swarm echo-floor: {} of {n} connections failed, e.g. {e}",
            n - connected
        );
    }
    tokio::time::sleep(echo).await;
    let before = proc_stats::sample(pid)?;
    let replies_before = replies.load(Ordering::Relaxed);
    let start = Instant::now();
    tokio::time::sleep(window).await;
    let after = proc_stats::sample(pid)?;
    let elapsed = start.elapsed().as_secs_f64();
    let exchanges = replies.load(Ordering::Relaxed) - replies_before;
    clients.abort_all();
    let cpu = after.cpu_secs - before.cpu_secs;
    Ok(FloorResult {
        responder: if raw_epoll {
            "epoll, no runtime"
        } else {
            "tokio, 1 worker"
        },
        switches: n,
        connected,
        echo_secs: echo.as_secs_f64(),
        window_secs: elapsed,
        exchanges,
        exchanges_per_sec: exchanges as f64 / elapsed,
        responder_cpu_pct: 100.0 * cpu / elapsed,
        us_per_exchange: if exchanges == 0 {
            0.0
        } else {
            1e6 * cpu / exchanges as f64
        },
        responder_rss_mib: after.rss_kib as f64 / 1024.0,
        load: load_now(),
    })
}

async fn wait_listening(addr: SocketAddr) -> Result<(), SwarmError> {
    let start = Instant::now();
    while TcpStream::connect(addr).await.is_err() {
        if start.elapsed() > Duration::from_secs(10) {
            return Err(SwarmError::ControllerNotListening {
                addr,
                waited_ms: start.elapsed().as_millis(),
                log: "(echo responder: no log)".into(),
            });
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

async fn connect(i: usize, addr: SocketAddr) -> Result<(usize, TcpStream), String> {
    let socket = TcpSocket::new_v4().map_err(|e| e.to_string())?;
    socket
        .bind(SocketAddr::new(source_ip(i), 0))
        .map_err(|e| format!("bind {}: {e}", source_ip(i)))?;
    let stream = socket.connect(addr).await.map_err(|e| e.to_string())?;
    let _ = stream.set_nodelay(true);
    Ok((i, stream))
}

/// Sends an ECHO_REQUEST every `every` (first after `offset`) and counts the replies.
async fn probe(
    mut stream: TcpStream,
    xid: u32,
    offset: Duration,
    every: Duration,
    replies: Arc<AtomicU64>,
) {
    let mut request = BytesMut::with_capacity(8);
    request.put_u8(4);
    request.put_u8(OFPT_ECHO_REQUEST);
    request.put_u16(8);
    request.put_u32(xid);
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + offset, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut reply = [0u8; 8];
    loop {
        ticks.tick().await;
        if stream.write_all(&request).await.is_err() || stream.read_exact(&mut reply).await.is_err()
        {
            return;
        }
        if reply[1] == OFPT_ECHO_REPLY && reply[4..8] == xid.to_be_bytes() {
            replies.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_responder_answers_echo_requests_with_their_xid_and_ignores_the_rest() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(respond(listener));
        exchange(addr).await;
    }

    #[tokio::test]
    async fn the_epoll_responder_answers_the_same() {
        let addr = free_loopback_port().unwrap();
        std::thread::spawn(move || respond_epoll(addr));
        wait_listening(addr).await.unwrap();
        exchange(addr).await;
    }

    async fn exchange(addr: SocketAddr) {
        let mut s = TcpStream::connect(addr).await.unwrap();
        // A HELLO (ignored), then two echo requests in one write, the second with data.
        let mut bytes = vec![4, 0, 0, 8, 0, 0, 0, 1];
        bytes.extend_from_slice(&[4, 2, 0, 8, 0, 0, 0, 7]);
        bytes.extend_from_slice(&[4, 2, 0, 10, 0, 0, 0, 9, 0xab, 0xcd]);
        s.write_all(&bytes).await.unwrap();
        let mut got = [0u8; 18];
        s.read_exact(&mut got).await.unwrap();
        assert_eq!(&got[..8], &[4, 3, 0, 8, 0, 0, 0, 7]);
        assert_eq!(&got[8..], &[4, 3, 0, 10, 0, 0, 0, 9, 0xab, 0xcd]);
    }
}

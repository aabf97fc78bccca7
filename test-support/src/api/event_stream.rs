//! A client of `GET /api/events` for tests: a thread reads the server-sent event stream over a
//! plain TCP connection (HTTP/1.1, chunked) and hands over each event and each comment line.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// One thing read from the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `event: NAME` with its `data:` lines joined.
    Event { name: String, data: String },
    /// A `: text` comment line (the heartbeat).
    Comment(String),
    /// The stream ended (the chunked body's last chunk, or the connection closed).
    End,
}

/// The status line and the stream's items.
pub struct EventStream {
    pub status: u16,
    /// The response head, lower-cased.
    pub head: String,
    items: mpsc::Receiver<Item>,
    /// Everything seen so far (for failure messages).
    pub seen: Vec<Item>,
    /// Shut down on drop, so the server sees the client leave.
    tcp: TcpStream,
}

impl Drop for EventStream {
    fn drop(&mut self) {
        let _ = self.tcp.shutdown(std::net::Shutdown::Both);
    }
}

/// Opens `GET /api/events` on `addr` with these extra header lines (e.g.
/// `"Authorization: Bearer x"`).
pub fn open(addr: SocketAddr, headers: &[&str]) -> EventStream {
    let mut tcp = TcpStream::connect(addr).expect("connect to the API");
    let extra: String = headers.iter().map(|h| format!("{h}\r\n")).collect();
    write!(
        tcp,
        "GET /api/events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n{extra}\r\n"
    )
    .expect("send the request");
    let keep = tcp.try_clone().expect("clone the TCP stream");
    let mut reader = BufReader::new(tcp);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).expect("read the response head") == 0 {
            break;
        }
        if line == "\r\n" {
            break;
        }
        head.push_str(&line.to_ascii_lowercase());
    }
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"));
    let (tx, items) = mpsc::channel();
    if status == 200 {
        std::thread::spawn(move || read_items(reader, &tx));
    }
    EventStream {
        status,
        head,
        items,
        seen: Vec::new(),
        tcp: keep,
    }
}

/// De-chunks the body and splits it into events and comments.
fn read_items(mut reader: BufReader<TcpStream>, tx: &mpsc::Sender<Item>) {
    let mut text = String::new();
    loop {
        let mut size_line = String::new();
        match reader.read_line(&mut size_line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let Ok(size) = usize::from_str_radix(size_line.trim(), 16) else {
            break;
        };
        if size == 0 {
            break;
        }
        let mut chunk = vec![0; size + 2];
        if reader.read_exact(&mut chunk).is_err() {
            break;
        }
        chunk.truncate(size);
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let (mut name, mut data) = (String::from("message"), Vec::new());
            for line in block.lines() {
                if let Some(c) = line.strip_prefix(':') {
                    let _ = tx.send(Item::Comment(c.trim().to_owned()));
                } else if let Some(n) = line.strip_prefix("event:") {
                    name = n.trim().to_owned();
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push(d.strip_prefix(' ').unwrap_or(d).to_owned());
                }
            }
            if !data.is_empty() {
                let _ = tx.send(Item::Event {
                    name,
                    data: data.join("\n"),
                });
            }
        }
    }
    let _ = tx.send(Item::End);
}

impl EventStream {
    /// The next item within `timeout`, or `None`.
    pub fn next(&mut self, timeout: Duration) -> Option<Item> {
        let item = self.items.recv_timeout(timeout).ok()?;
        self.seen.push(item.clone());
        Some(item)
    }

    /// Reads until an event named `name` whose JSON data satisfies `pred` (returned); fails
    /// the test after `timeout`.
    pub fn wait_event(
        &mut self,
        name: &str,
        timeout: Duration,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left) {
                Some(Item::Event { name: n, data }) if n == name => {
                    let v: serde_json::Value = serde_json::from_str(&data)
                        .unwrap_or_else(|e| panic!("{name} event is not JSON ({e}): {data}"));
                    if pred(&v) {
                        return v;
                    }
                }
                Some(Item::End) | None => panic!(
                    "no matching {name} event within {timeout:?}; seen: {:?}",
                    self.seen
                ),
                Some(_) => {}
            }
        }
    }

    /// Everything that arrives within `window`.
    pub fn collect_for(&mut self, window: Duration) -> Vec<Item> {
        let deadline = Instant::now() + window;
        let mut got = Vec::new();
        while let Some(item) = self.next(deadline.saturating_duration_since(Instant::now())) {
            let end = item == Item::End;
            got.push(item);
            if end {
                break;
            }
        }
        got
    }
}

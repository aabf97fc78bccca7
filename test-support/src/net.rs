//! Loopback addresses for tests: a port to listen on that nobody uses right now.

/// A 127.0.0.1 port nobody listens on right now (bound and released).
pub fn free_port() -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr")
}

//! The mutual-TLS listener in process: a switch with a certificate from the configured CA gets
//! the OpenFlow session (TLS 1.3 and 1.2); one without a certificate, with one from another CA,
//! sending garbage or nothing is refused at the handshake, and the controller keeps serving.
//! A switch that reconnects resumes its session (TLS 1.3 ticket, TLS 1.2 ticket or session id);
//! a session from another controller process does not resume. Also measures the cost of a handshake for a P-256 and an RSA-2048 controller key.
mod tls_support;

use op25b::controller::policy_store::PolicyStore;
use op25b::controller::runtime::{Controller, ControllerOptions};
use op25b::fleet::registry::Registry;
use op25b::policy::Config;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tls_support::{ca, client_config, leaf, temp_dir, tls_keys, KeyType, Pair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

struct Pki {
    switch_ca: Pair,
    controller_ca: Pair,
    controller: Pair,
    switch: Pair,
    stranger: Pair,
}

fn pki(controller_key: KeyType) -> Pki {
    let dir = temp_dir("tls-pki");
    let switch_ca = ca(&dir, "switchca");
    let controller_ca = ca(&dir, "controllerca");
    let other_ca = ca(&dir, "otherca");
    Pki {
        controller: leaf(&dir, "controller", &controller_ca, controller_key),
        switch: leaf(&dir, "sw1", &switch_ca, KeyType::P256),
        stranger: leaf(&dir, "stranger", &other_ca, KeyType::P256),
        switch_ca,
        controller_ca,
    }
}

fn start(pki: &Pki) -> Controller {
    let text = format!(
        "[controller]\n{}handshake_timeout_secs = 1\n[policy]\nrelays = [\"192.0.2.25\"]\n[reporting]\nenabled = false\n",
        tls_keys("127.0.0.1:0", &pki.controller, &pki.switch_ca.cert)
    );
    let config = Config::parse(&text, "tls.toml")
        .expect("valid policy")
        .config;
    assert!(config.controller().listen.is_none(), "TLS only");
    Controller::start(
        Arc::new(PolicyStore::new(config, None)),
        Arc::new(Registry::new()),
        ControllerOptions::default(),
    )
    .expect("controller starts")
}

/// Connects over TLS and reads the first 8 bytes: the controller's HELLO if the session runs.
async fn first_bytes(
    addr: SocketAddr,
    server_ca: &Path,
    client: Option<&Pair>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Result<[u8; 8], String> {
    let connector = TlsConnector::from(client_config(server_ca, client, versions));
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let name = rustls::pki_types::ServerName::try_from("controller").expect("name");
    let mut tls = connector
        .connect(name, tcp)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let mut head = [0u8; 8];
    tokio::time::timeout(Duration::from_secs(5), tls.read_exact(&mut head))
        .await
        .map_err(|_| "no bytes within 5 s".to_string())?
        .map_err(|e| format!("read: {e}"))?;
    Ok(head)
}

fn is_hello(head: &[u8; 8]) -> bool {
    head[0] == 0x04 && head[1] == 0
}

const TLS13: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];
const TLS12: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS12];

#[tokio::test]
async fn a_switch_with_a_certificate_from_the_ca_gets_the_session_over_tls_1_3_and_1_2() {
    let pki = pki(KeyType::P256);
    let controller = start(&pki);
    let addr = controller.tls_addr().expect("TLS listener");
    for versions in [TLS13, TLS12] {
        let head = first_bytes(addr, &pki.controller_ca.cert, Some(&pki.switch), versions)
            .await
            .expect("session");
        assert!(is_hello(&head), "{head:02x?}");
    }
    controller.shutdown().await;
}

#[tokio::test]
async fn closing_a_session_sends_close_notify() {
    let pki = pki(KeyType::P256);
    let controller = start(&pki);
    let addr = controller.tls_addr().expect("TLS listener");
    let connector = TlsConnector::from(client_config(
        &pki.controller_ca.cert,
        Some(&pki.switch),
        TLS13,
    ));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("controller").unwrap();
    let mut tls = connector.connect(name, tcp).await.expect("session");
    let mut head = [0u8; 8];
    tls.read_exact(&mut head).await.expect("HELLO");
    controller.shutdown().await;
    // rustls reports a close without close_notify as an UnexpectedEof error.
    let mut rest = Vec::new();
    let end = tokio::time::timeout(Duration::from_secs(5), tls.read_to_end(&mut rest))
        .await
        .expect("closed within 5 s");
    assert!(end.is_ok(), "no close_notify: {end:?}");
}

#[tokio::test]
async fn bad_peers_are_refused_at_the_handshake_and_others_keep_being_served() {
    let pki = pki(KeyType::P256);
    let controller = start(&pki);
    let addr = controller.tls_addr().expect("TLS listener");
    // A switch already in session before the bad peers arrive.
    let connector = TlsConnector::from(client_config(
        &pki.controller_ca.cert,
        Some(&pki.switch),
        TLS13,
    ));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("controller").unwrap();
    let mut early = connector.connect(name, tcp).await.expect("early switch");
    let mut head = [0u8; 8];
    early.read_exact(&mut head).await.expect("early HELLO");
    assert!(is_hello(&head));

    for versions in [TLS13, TLS12] {
        let none = first_bytes(addr, &pki.controller_ca.cert, None, versions).await;
        assert!(none.is_err(), "no client certificate: {none:?}");
        let stranger =
            first_bytes(addr, &pki.controller_ca.cert, Some(&pki.stranger), versions).await;
        assert!(
            stranger.is_err(),
            "certificate from another CA: {stranger:?}"
        );
    }
    // Garbage instead of a ClientHello: the connection is closed without an OpenFlow byte.
    let mut garbage = TcpStream::connect(addr).await.unwrap();
    garbage
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), garbage.read(&mut buf))
        .await
        .expect("closed within 5 s")
        .unwrap_or(0);
    assert!(
        n == 0 || buf[0] == 0x15,
        "not a TLS alert or EOF: {:02x?}",
        &buf[..n]
    );
    // Silence: closed after the 1 s handshake timeout.
    let started = Instant::now();
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let n = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buf))
        .await
        .expect("closed within 5 s")
        .unwrap_or(0);
    assert_eq!(n, 0);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );

    // The controller still serves: a new switch gets its session, and the early one's
    // connection is still open (its handshake timeout ends it, not the bad peers).
    let head = first_bytes(addr, &pki.controller_ca.cert, Some(&pki.switch), TLS13)
        .await
        .expect("session after the bad peers");
    assert!(is_hello(&head));
    controller.shutdown().await;
}

/// One session with `config` up to the controller's HELLO; whether the handshake resumed.
async fn session_resumed(addr: SocketAddr, config: &Arc<rustls::ClientConfig>) -> bool {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let name = rustls::pki_types::ServerName::try_from("controller").expect("name");
    let mut tls = TlsConnector::from(config.clone())
        .connect(name, tcp)
        .await
        .expect("handshake");
    let mut head = [0u8; 8];
    // Reading past the handshake also takes in the session ticket sent before the HELLO.
    tokio::time::timeout(Duration::from_secs(5), tls.read_exact(&mut head))
        .await
        .expect("HELLO within 5 s")
        .expect("HELLO");
    assert!(is_hello(&head), "{head:02x?}");
    tls.get_ref().1.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
}

#[tokio::test]
async fn a_reconnecting_switch_resumes_its_session_but_not_with_another_controller() {
    let pki = pki(KeyType::P256);
    let controller = start(&pki);
    let addr = controller.tls_addr().expect("TLS listener");
    for versions in [TLS13, TLS12] {
        let config = client_config(&pki.controller_ca.cert, Some(&pki.switch), versions);
        assert!(!session_resumed(addr, &config).await, "first is full");
        assert!(
            session_resumed(addr, &config).await,
            "{versions:?}: resumed"
        );
        assert!(session_resumed(addr, &config).await, "{versions:?}: again");
    }
    // A new controller process (new ticket key, empty session cache): full handshakes again.
    let config = client_config(&pki.controller_ca.cert, Some(&pki.switch), TLS13);
    assert!(!session_resumed(addr, &config).await);
    controller.shutdown().await;
    let other = start(&pki);
    let addr = other.tls_addr().expect("TLS listener");
    assert!(
        !session_resumed(addr, &config).await,
        "a ticket of another controller process must not resume"
    );
    other.shutdown().await;
}

/// The key-exchange group and cipher suite a session with `config` negotiated.
async fn negotiated(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
) -> (Option<rustls::NamedGroup>, Option<rustls::CipherSuite>) {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let name = rustls::pki_types::ServerName::try_from("controller").expect("name");
    let tls = TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .expect("handshake");
    let session = tls.get_ref().1;
    (
        session
            .negotiated_key_exchange_group()
            .map(rustls::crypto::SupportedKxGroup::name),
        session.negotiated_cipher_suite().map(|suite| suite.suite()),
    )
}

/// The key-exchange group a session with `config` negotiated.
async fn kx_group(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
) -> Option<rustls::NamedGroup> {
    negotiated(addr, config).await.0
}

#[tokio::test]
async fn x25519_and_aes_128_gcm_sha256_whatever_rustls_ring_defaults_prefer() {
    let pki = pki(KeyType::P256);
    let controller = start(&pki);
    let addr = controller.tls_addr().expect("TLS listener");
    // Clients on op25b's provider (the swarm's switches) offer X25519 first.
    for versions in [TLS13, TLS12] {
        let config = client_config(&pki.controller_ca.cert, Some(&pki.switch), versions);
        assert_eq!(
            kx_group(addr, config).await,
            Some(rustls::NamedGroup::X25519),
            "{versions:?}"
        );
    }
    // A client on rustls's ring defaults (P-384 first, its only TLS 1.3 key share): the
    // controller offers no P-384, so it gets X25519 all the same.
    #[allow(
        deprecated,
        reason = "rustls's ring defaults are what is being contrasted"
    )]
    let defaults = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in tls_support::pem_certs(&pki.controller_ca.cert) {
        roots.add(c).expect("CA");
    }
    let key =
        <rustls::pki_types::PrivateKeyDer as rustls::pki_types::pem::PemObject>::from_pem_file(
            &pki.switch.key,
        )
        .expect("key");
    let roots = Arc::new(roots);
    // Those defaults also list the AES-256-GCM suites first (SHA-384, no x86-64 instructions):
    // the controller's order wins, AES-128-GCM with SHA-256.
    for (versions, suite) in [
        (TLS13, rustls::CipherSuite::TLS13_AES_128_GCM_SHA256),
        (
            TLS12,
            rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        ),
    ] {
        let config = rustls::ClientConfig::builder_with_provider(defaults.clone())
            .with_protocol_versions(versions)
            .expect("versions")
            .with_root_certificates(roots.clone())
            .with_client_auth_cert(tls_support::pem_certs(&pki.switch.cert), key.clone_key())
            .expect("client cert");
        assert_eq!(
            negotiated(addr, Arc::new(config)).await,
            (Some(rustls::NamedGroup::X25519), Some(suite)),
            "{versions:?}"
        );
    }
    controller.shutdown().await;
}

/// Time for `n` full handshakes (TLS 1.3 and 1.2 alternately) with the controller's key type.
async fn handshakes(key: KeyType, n: u32) -> Duration {
    let pki = pki(key);
    let controller = start(&pki);
    let addr = controller.tls_addr().expect("TLS listener");
    let started = Instant::now();
    for i in 0..n {
        let versions = if i % 2 == 0 { TLS13 } else { TLS12 };
        let head = first_bytes(addr, &pki.controller_ca.cert, Some(&pki.switch), versions)
            .await
            .expect("session");
        assert!(is_hello(&head));
    }
    let took = started.elapsed();
    controller.shutdown().await;
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_cost_per_switch_p256_versus_rsa2048() {
    const N: u32 = 200;
    let p256 = handshakes(KeyType::P256, N).await;
    let rsa = handshakes(KeyType::Rsa2048, N).await;
    // Both sides in this process: client and server work together, sequential handshakes.
    eprintln!(
        "{N} mutual-TLS handshakes on loopback (client+server in one process): controller key P-256 {:.3} s ({:.2} ms each), RSA-2048 {:.3} s ({:.2} ms each)",
        p256.as_secs_f64(),
        p256.as_secs_f64() * 1000.0 / f64::from(N),
        rsa.as_secs_f64(),
        rsa.as_secs_f64() * 1000.0 / f64::from(N)
    );
}

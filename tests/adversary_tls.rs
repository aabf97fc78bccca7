//! Adversary over mutual TLS: a dpid pinned to the real switch's certificate (`[[switch]]
//! cert_sha256`) is claimed by a peer holding another certificate from the same CA, so the TLS
//! handshake succeeds and only the pin can stop it. The real switch's session must survive
//! untouched and the impostor must learn nothing of our flows (docs/operating.md, "Who speaks
//! for a dpid").
mod tls_support;

use op25b::controller::policy_store::PolicyStore;
use op25b::controller::runtime::{Controller, ControllerOptions};
use op25b::controller::tls_config::fingerprint;
use op25b::fleet::registry::Registry;
use op25b::policy::Config;
use op25b_proto::{Message, MultipartRequestBody, OfpMessage};
use op25b_test_support::controller::RawSwitch;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tls_support::{ca, client_config, leaf, pem_certs, temp_dir, tls_keys, KeyType, Pair};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

const DPID: u64 = 0xa5;

/// A raw OpenFlow switch over mutual TLS, presenting `cert`.
async fn tls_switch(
    addr: SocketAddr,
    server_ca: &Path,
    cert: &Pair,
) -> RawSwitch<TlsStream<TcpStream>> {
    let config = client_config(server_ca, Some(cert), &[&rustls::version::TLS13]);
    let tcp = TcpStream::connect(addr).await.expect("TCP connect");
    let name = rustls::pki_types::ServerName::try_from("controller").expect("name");
    let tls = TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .expect("the TLS handshake succeeds: the certificate chains to the CA");
    RawSwitch::over(tls)
}

fn reveals_flows(m: &OfpMessage) -> bool {
    match &m.body {
        Message::FlowMod(_) => true,
        Message::MultipartRequest(r) => matches!(r.body, MultipartRequestBody::Flow(_)),
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_impostor_with_another_valid_certificate_cannot_take_a_pinned_dpid() {
    let dir = temp_dir("tls-impostor");
    let switch_ca = ca(&dir, "switchca");
    let controller_ca = ca(&dir, "controllerca");
    let controller = leaf(&dir, "controller", &controller_ca, KeyType::P256);
    let real_cert = leaf(&dir, "sw1", &switch_ca, KeyType::P256);
    let impostor_cert = leaf(&dir, "impostor", &switch_ca, KeyType::P256);
    let pin = fingerprint(pem_certs(&real_cert.cert)[0].as_ref());
    let text = format!(
        "[controller]\n{}handshake_timeout_secs = 2\n[policy]\nrelays = [\"192.0.2.25\"]\n[reporting]\nenabled = false\n[[switch]]\ndpid = {DPID}\ncert_sha256 = \"{pin}\"\n",
        tls_keys("127.0.0.1:0", &controller, &switch_ca.cert)
    );
    let config = Config::parse(&text, "pinned.toml")
        .expect("valid policy")
        .config;
    let registry = Arc::new(Registry::new());
    let ctl = Controller::start(
        Arc::new(PolicyStore::new(config, None)),
        registry.clone(),
        ControllerOptions::default(),
    )
    .expect("controller starts");
    let addr = ctl.local_addr();

    let mut real = tls_switch(addr, &controller_ca.cert, &real_cert).await;
    real.handshake(DPID).await;
    let before = registry
        .switch(DPID)
        .expect("the real switch holds its dpid");
    assert!(before.connected, "{before:?}");

    let mut impostor = tls_switch(addr, &controller_ca.cert, &impostor_cert).await;
    impostor.hello_and_features(DPID).await;
    let (got, took) = impostor.until_closed(Duration::from_secs(5)).await;
    println!("impostor with another valid certificate closed after {took:?}");
    assert!(
        took < Duration::from_secs(2),
        "impostor closed at once: {took:?}"
    );
    assert!(
        !got.iter().any(reveals_flows),
        "the impostor learnt nothing of our flows: {got:?}"
    );

    // Give a wrongly closed session time to show, then prove the real one still answers.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = registry.switch(DPID).expect("known");
    assert!(after.connected, "{after:?}");
    assert_eq!(after.connection, before.connection, "same session");
    assert_eq!(after.counters.reconnects, before.counters.reconnects);
    real.send(OfpMessage::new(
        0x5eed,
        Message::EchoRequest(bytes::Bytes::from_static(b"alive?")),
    ))
    .await;
    let start = Instant::now();
    real.recv_until(Duration::from_secs(5), |m| {
        (m.xid == 0x5eed && matches!(m.body, Message::EchoReply(_))).then_some(())
    })
    .await;
    println!(
        "the real switch's session answered an echo in {:?}",
        start.elapsed()
    );
    ctl.shutdown().await;
}

//! The API for the tests/api_*.rs files: an API server on 127.0.0.1:0 over a hand-filled
//! registry, a policy file in a fresh temporary directory, and a blocking HTTP client.

pub mod event_stream;
pub mod prometheus_text;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use op25b::api::{self, ApiLimits, ApiState, ApiToken, EventLimits, Readiness};
use op25b::controller::offender_service::{OffenderService, OffenderServiceConfig, ReportOutputs};
use op25b::controller::policy_store::PolicyStore;
use op25b::fleet::registry::Registry;
use op25b::fleet::SwitchObservations;
use op25b::policy::Config;
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

use crate::temp::temp_dir;

pub const POLICY: &str = r#"
[controller]
api_listen = "127.0.0.1:9325"

[policy]
blocked_ports = [25]
relays = ["192.0.2.25/32", "2001:db8::25/128"]
exempt_sources = ["203.0.113.0/29"]

[[switch]]
dpid = "00:00:00:00:00:00:00:01"
name = "edge-1"
uplink_ports = [4]

[reporting]
threshold_attempts = 30
threshold_destinations = 5
"#;

pub struct TestApi {
    pub rt: Runtime,
    pub base: String,
    pub addr: SocketAddr,
    pub state: ApiState,
    pub registry: Arc<Registry>,
    pub store: Arc<PolicyStore>,
    pub readiness: Arc<Readiness>,
    pub observations: Arc<SwitchObservations>,
    pub samples: Option<tokio::sync::mpsc::Sender<op25b::session::codec_bridge::PacketInSample>>,
    pub policy_path: PathBuf,
    pub shutdown: CancellationToken,
    /// The API token (also written, mode 0600, to `token_file`).
    pub token: String,
    pub token_file: PathBuf,
    agent: ureq::Agent,
}

/// `Bearer <token>` from a token file a controller wrote (`api-token` next to its policy),
/// waiting up to 10 s for the file to appear.
pub fn bearer_from(token_file: &std::path::Path) -> String {
    for _ in 0..1000 {
        if let Ok(t) = std::fs::read_to_string(token_file) {
            if !t.trim().is_empty() {
                return format!("Bearer {}", t.trim());
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("no API token in {} within 10 s", token_file.display());
}

/// The token every [`TestApi`] uses.
pub const TEST_TOKEN: &str = "test-token-0123456789abcdef";

impl TestApi {
    /// Starts the API with `POLICY` loaded from a file, and the offender service when
    /// `with_offenders`.
    pub fn start(with_offenders: bool) -> Self {
        Self::start_with_limits(with_offenders, ApiLimits::default())
    }

    /// [`TestApi::start`] with the accept loop's limits given.
    pub fn start_with_limits(with_offenders: bool, limits: ApiLimits) -> Self {
        Self::start_full(with_offenders, limits, EventLimits::default())
    }

    /// [`TestApi::start`] with `GET /api/events`' limits given.
    pub fn start_with_events(with_offenders: bool, events: EventLimits) -> Self {
        Self::start_full(with_offenders, ApiLimits::default(), events)
    }

    fn start_full(with_offenders: bool, limits: ApiLimits, events: EventLimits) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let dir = temp_dir("api");
        let policy_path = dir.join("policy.toml");
        std::fs::write(&policy_path, POLICY).expect("write policy");
        let token_file = dir.join("api-token");
        {
            use std::io::Write as _;
            use std::os::unix::fs::OpenOptionsExt as _;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&token_file)
                .expect("create token file");
            writeln!(f, "{TEST_TOKEN}").expect("write token");
        }
        let loaded = Config::load(&policy_path).expect("test policy is valid");
        let registry = Arc::new(Registry::new());
        let store = Arc::new(
            PolicyStore::new(loaded.config, Some(policy_path.clone()))
                .with_source_sha256(loaded.source_sha256),
        );
        let readiness = Arc::new(Readiness::new());
        let observations = Arc::new(SwitchObservations::new());
        let shutdown = CancellationToken::new();
        let (handle, samples) = if with_offenders {
            let service = rt
                .block_on(async {
                    OffenderService::spawn(
                        OffenderServiceConfig::default(),
                        ReportOutputs::none(),
                        shutdown.clone(),
                    )
                })
                .expect("offender service starts");
            (Some(service.handle), Some(service.samples))
        } else {
            (None, None)
        };
        let state = ApiState::new(
            registry.clone(),
            store.clone(),
            observations.clone(),
            handle,
            readiness.clone(),
            ApiToken::new(TEST_TOKEN),
        )
        .with_event_limits(events);
        let listener = rt
            .block_on(api::bind("127.0.0.1:0".parse().expect("addr")))
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        rt.spawn(api::serve_with(
            listener,
            state.clone(),
            limits,
            None,
            shutdown.clone(),
        ));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        Self {
            rt,
            base: format!("http://{addr}"),
            addr,
            state,
            registry,
            store,
            readiness,
            observations,
            samples,
            policy_path,
            shutdown,
            token: TEST_TOKEN.to_owned(),
            token_file,
            agent,
        }
    }

    /// Status, content type and body of `method path`, sent with the API token.
    pub fn request(&self, method: &str, path: &str) -> (u16, String, String) {
        self.request_with(
            method,
            path,
            &[("Authorization", &format!("Bearer {}", self.token))],
        )
    }

    /// Status, content type and body of `method path` with exactly these extra `headers`.
    pub fn request_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, String, String) {
        let url = format!("{}{path}", self.base);
        let response = match method {
            "GET" | "DELETE" => {
                let mut r = if method == "GET" {
                    self.agent.get(&url)
                } else {
                    self.agent.delete(&url)
                };
                for (k, v) in headers {
                    r = r.header(*k, *v);
                }
                r.call()
            }
            "POST" | "PUT" => {
                let mut r = if method == "POST" {
                    self.agent.post(&url)
                } else {
                    self.agent.put(&url)
                };
                for (k, v) in headers {
                    r = r.header(*k, *v);
                }
                r.send_empty()
            }
            other => panic!("test asked for method {other}"),
        };
        let mut response = response.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = response
            .body_mut()
            .read_to_string()
            .unwrap_or_else(|e| panic!("{method} {url}: body: {e}"));
        (status, content_type, body)
    }

    /// Status and parsed JSON of `method path`; fails the test if the body is not JSON.
    pub fn json(&self, method: &str, path: &str) -> (u16, serde_json::Value) {
        let (status, content_type, body) = self.request(method, path);
        assert!(
            content_type.starts_with("application/json"),
            "{method} {path}: content-type {content_type:?}, body {body:?}"
        );
        let value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {body:?}"));
        (status, value)
    }

    /// Puts two switches in the registry as a session would: 1 connected and in sync,
    /// 0xabc disconnected after a failed sync.
    pub fn fill_registry(&self) {
        let peer: SocketAddr = "10.1.1.1:40001".parse().expect("addr");
        let edge = self.registry.connect(1, 1, peer, SystemTime::now());
        edge.update(|s| {
            s.name = Some("edge-1".to_owned());
            s.sync_state = op25b::fleet::registry::SyncState::InSync;
            s.synced_generation = Some(1);
            s.flow_count = 9;
            s.desired_flows = 9;
            s.meters_in_use = true;
            s.counters.syncs_ok = 2;
            s.counters.flow_mods_sent = 9;
            s.counters.packet_ins = 40;
            *s.counters
                .errors
                .entry("OFPET_BAD_MATCH/OFPBMC_BAD_PREREQ".to_owned())
                .or_default() += 1;
        });
        let other = self.registry.connect(
            0xabc,
            2,
            "10.1.1.2:40002".parse().expect("addr"),
            SystemTime::now(),
        );
        other.update(|s| {
            s.connected = false;
            s.sync_state = op25b::fleet::registry::SyncState::Disconnected;
            s.counters.syncs_failed = 1;
            s.last_error = Some("FLOW_MOD_FAILED/TABLE_FULL".to_owned());
        });
    }
}

impl Drop for TestApi {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A PACKET_IN sample as a session sends it: a TCP SYN from `source` (MAC `02:..:source[3]`) to
/// `198.51.100.<host>:25` with source port `source_port`, cut to 128 bytes, seen at `in_port`.
pub fn syn_sample(
    dpid: u64,
    in_port: u32,
    source: [u8; 4],
    host: u8,
    source_port: u16,
    at: SystemTime,
) -> op25b::session::codec_bridge::PacketInSample {
    use etherparse::PacketBuilder;
    let builder = PacketBuilder::ethernet2([2, 0, 0, 0, 0, source[3]], [2, 0, 0, 0, 0, 0xfe])
        .ipv4(source, [198, 51, 100, host], 64)
        .tcp(source_port, 25, 1, 64240)
        .syn();
    let mut frame = Vec::with_capacity(builder.size(0));
    builder.write(&mut frame, &[]).expect("write to a Vec");
    frame.truncate(128);
    op25b::session::codec_bridge::PacketInSample {
        dpid,
        received: at,
        packet_in: op25b_proto::packet_in::PacketIn {
            buffer_id: u32::MAX,
            total_len: 74,
            reason: 1,
            table_id: 0,
            cookie: 0x4f50_3235_4200_0000,
            match_: op25b_proto::match_::Match {
                fields: vec![op25b_proto::oxm::Oxm::InPort(in_port)],
            },
            data: bytes::Bytes::from(frame),
        },
    }
}

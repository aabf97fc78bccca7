//! Who sends the outbreak's samples: per switch, one subscriber per port; a few percent of them
//! spray port 25 at many hosts (a third of those are IPv6 hosts taking a new privacy address
//! every few attempts), the rest try one outside server now and then. Pure and seeded: the
//! caller asks each switch for its next samples and commits the ones that went out, and the
//! mix knows when each sprayer crossed the controller's threshold (its `threshold`-th sample
//! sent) -- the moment detection latency is measured from.
//!
//! Sample budget: each switch sends `per_switch_pps` samples a second in all (what the policy's
//! meter lets through); on a switch with sprayers, half of them are the sprayers' (they try far
//! more often than anyone else), the other half spread over the other subscribers.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use op25b_sim::PacketHeaders;

/// What the mix varies.
#[derive(Debug, Clone, Copy)]
pub struct MixConfig {
    /// Ports per switch; one subscriber each (at most 254).
    pub ports: u32,
    /// Samples a second per switch.
    pub per_switch_pps: f64,
    /// Percent of subscribers spraying.
    pub spray_percent: u32,
    /// A rotating IPv6 sprayer takes a new address every this many attempts.
    pub rotate_every: u32,
    /// Attempts that flag a subscriber (the policy's `threshold_attempts`).
    pub threshold: u32,
    pub seed: u64,
}

/// One spraying subscriber.
#[derive(Debug, Clone)]
pub struct Sprayer {
    pub port: u32,
    /// An IPv6 host rotating its address inside its /64.
    pub rotating_v6: bool,
    /// Samples of it sent.
    pub sent: u32,
    /// When its `threshold`-th sample was sent.
    pub crossed_at: Option<Instant>,
}

/// One picked sample: the packet, and which sprayer (index) it belongs to, if any.
#[derive(Debug, Clone)]
pub struct Pick {
    pub packet: PacketHeaders,
    pub sprayer: Option<usize>,
}

/// A port as one byte (the mix has at most 254 ports).
fn port8(port: u32) -> u8 {
    u8::try_from(port).unwrap_or(u8::MAX)
}

/// SplitMix64: a deterministic hash of the inputs (which ports spray, interface ids).
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One switch's subscribers and its sample budget.
#[derive(Debug)]
pub struct SwitchMix {
    index: u16,
    config: MixConfig,
    pub sprayers: Vec<Sprayer>,
    others: Vec<u32>,
    due: f64,
    rng: fastrand::Rng,
}

/// The fraction of a spraying switch's samples that are its sprayers'.
const SPRAY_SHARE: f64 = 0.5;

impl SwitchMix {
    /// Switch number `index` (its subscribers' addresses derive from it).
    pub fn new(index: usize, config: MixConfig) -> Self {
        let index16 = u16::try_from(index % 65_536).unwrap_or(0);
        let mut sprayers = Vec::new();
        let mut others = Vec::new();
        for port in 1..=config.ports.min(254) {
            let h = mix64(config.seed ^ ((index as u64) << 16) ^ u64::from(port));
            if h % 100 < u64::from(config.spray_percent) {
                sprayers.push(Sprayer {
                    port,
                    rotating_v6: (h >> 8).is_multiple_of(3),
                    sent: 0,
                    crossed_at: None,
                });
            } else {
                others.push(port);
            }
        }
        Self {
            index: index16,
            config,
            sprayers,
            others,
            // Switches start spread over the first second, not all at once.
            due: (mix64(config.seed ^ index as u64) % 1000) as f64 / 1000.0,
            rng: fastrand::Rng::with_seed(mix64(config.seed.wrapping_add(index as u64))),
        }
    }

    /// The samples due after `elapsed_secs` more seconds.
    pub fn due(&mut self, elapsed_secs: f64) -> usize {
        self.due += self.config.per_switch_pps * elapsed_secs;
        let whole = self.due.floor();
        self.due -= whole;
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a non-negative count of samples in one tick"
        )]
        let n = whole as usize;
        n
    }

    /// The next sample (not counted until [`SwitchMix::commit`]).
    pub fn pick(&mut self) -> Pick {
        let spray =
            !self.sprayers.is_empty() && (self.others.is_empty() || self.rng.f64() < SPRAY_SHARE);
        if spray {
            let i = self.rng.usize(..self.sprayers.len());
            let s = &self.sprayers[i];
            let attempt = s.sent;
            let source = if s.rotating_v6 {
                self.v6_source(
                    s.port,
                    u64::from(attempt / self.config.rotate_every.max(1)) + 1,
                )
            } else {
                self.v4_source(s.port)
            };
            let destination = match source {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::new(198, 51, 100, self.rng.u8(1..=250))),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::new(
                    0x2001,
                    0xdb8,
                    0xff,
                    0,
                    0,
                    0,
                    0,
                    self.rng.u16(1..=250),
                )),
            };
            let packet = PacketHeaders::tcp(s.port, source, self.rng.u16(1024..), destination, 25);
            return Pick {
                packet,
                sprayer: Some(i),
            };
        }
        let port = self.others[self.rng.usize(..self.others.len())];
        // A third of the others are IPv6 with one stable address; each tries its own server.
        let (source, destination) = if port.is_multiple_of(3) {
            (
                self.v6_source(port, 0),
                IpAddr::V6(Ipv6Addr::new(
                    0x2001,
                    0xdb8,
                    0xee,
                    0,
                    0,
                    0,
                    0,
                    1 + u16::from(port8(port)),
                )),
            )
        } else {
            (
                self.v4_source(port),
                IpAddr::V4(Ipv4Addr::new(203, 0, 113, 100 + port8(port) % 100)),
            )
        };
        Pick {
            packet: PacketHeaders::tcp(port, source, self.rng.u16(1024..), destination, 25),
            sprayer: None,
        }
    }

    /// Counts `picked`, sent at `now`: sprayers crossing the threshold get `now`.
    pub fn commit(&mut self, picked: &[Pick], now: Instant) {
        for p in picked {
            if let Some(i) = p.sprayer {
                let s = &mut self.sprayers[i];
                s.sent += 1;
                if s.sent == self.config.threshold {
                    s.crossed_at = Some(now);
                }
            }
        }
    }

    /// 10.H.L.port, H.L the switch number.
    fn v4_source(&self, port: u32) -> IpAddr {
        let [h, l] = self.index.to_be_bytes();
        IpAddr::V4(Ipv4Addr::new(10, h, l, port8(port)))
    }

    /// 2001:db8:SWITCH:PORT::/64 with an interface id from `generation` (0: a stable one).
    fn v6_source(&self, port: u32, generation: u64) -> IpAddr {
        let iid = mix64(
            self.config.seed ^ (u64::from(self.index) << 40) ^ (u64::from(port) << 32) ^ generation,
        );
        let w = |shift: u32| ((iid >> shift) & 0xffff) as u16;
        IpAddr::V6(Ipv6Addr::new(
            0x2001,
            0xdb8,
            self.index,
            u16::from(port8(port)),
            w(48),
            w(32),
            w(16),
            w(0),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> MixConfig {
        MixConfig {
            ports: 48,
            per_switch_pps: 20.0,
            spray_percent: 3,
            rotate_every: 3,
            threshold: 30,
            seed: 7,
        }
    }

    #[test]
    fn the_budget_is_kept_over_time() {
        let mut m = SwitchMix::new(0, config());
        let n: usize = (0..100).map(|_| m.due(0.1)).sum();
        assert!((199..=201).contains(&n), "{n} samples in 10 s at 20/s");
    }

    #[test]
    fn a_few_percent_spray_some_rotate_v6_and_cross_at_the_threshold() {
        let mixes: Vec<SwitchMix> = (0..1000).map(|i| SwitchMix::new(i, config())).collect();
        let sprayers: usize = mixes.iter().map(|m| m.sprayers.len()).sum();
        let rotating = mixes
            .iter()
            .flat_map(|m| &m.sprayers)
            .filter(|s| s.rotating_v6)
            .count();
        assert!((1000..=1900).contains(&sprayers), "{sprayers} of 48000");
        assert!(
            rotating > sprayers / 5 && rotating < sprayers / 2,
            "{rotating}"
        );
        let mut m = mixes
            .into_iter()
            .find(|m| m.sprayers.iter().any(|s| s.rotating_v6))
            .expect("one switch with a rotating sprayer");
        let t = Instant::now();
        let mut v6_sources = std::collections::HashSet::new();
        for _ in 0..2000 {
            let p = m.pick();
            if let Some(i) = p.sprayer {
                if m.sprayers[i].rotating_v6 {
                    v6_sources.insert(p.packet.ip.map(|(s, _)| s));
                }
            }
            m.commit(&[p], t);
        }
        assert!(m.sprayers.iter().all(|s| s.crossed_at == Some(t)));
        assert!(
            v6_sources.len() > 10,
            "rotating: {} addresses",
            v6_sources.len()
        );
    }
}

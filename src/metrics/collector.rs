//! The scrape-time collector: on every `GET /metrics` it takes one snapshot of the status
//! registry, the policy store, the switch observations and the offender service, and encodes them with
//! `prometheus-client`'s const metrics. Nothing is copied into metric objects in between, so
//! the numbers can never drift from what `/api/switches` shows.

use std::fmt::Error as FmtError;
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;

use super::encode::{as_gauge, counter, counters, gauge, gauges, Labels};

use crate::controller::offender_service::OffenderHandle;
use crate::controller::policy_store::PolicyStore;
use crate::fleet::guard_counters::{ConnectionRejection, SampleRejection};
use crate::fleet::registry::{Registry, SyncState};
use crate::policy::Dpid;

use crate::fleet::SwitchObservations;

/// Reads the controller's state at scrape time. See the module docs and docs/operating.md ("Metrics")
/// for the metric names.
#[derive(Debug)]
pub struct FabricCollector {
    pub registry: Arc<Registry>,
    pub store: Arc<PolicyStore>,
    pub observations: Arc<SwitchObservations>,
    pub offenders: Option<OffenderHandle>,
}

/// Splits the registry's `"TYPE/CODE"` error key into its two halves; the one key of errors the
/// spec does not name (`other`) gives `type="other",code="other"`.
fn error_labels(dpid: &str, key: &str) -> Labels {
    let (ty, code) = key.split_once('/').unwrap_or((key, key));
    vec![
        ("dpid", dpid.to_owned()),
        ("type", ty.to_owned()),
        ("code", code.to_owned()),
    ]
}

impl Collector for FabricCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), FmtError> {
        let snap = self.registry.snapshot();
        let per_switch = |f: &dyn Fn(&crate::fleet::registry::SwitchStatus) -> u64| {
            snap.switches
                .iter()
                .map(|s| (vec![("dpid", s.dpid_str.clone())], f(s)))
                .collect::<Vec<_>>()
        };

        let connected = snap.switches.iter().filter(|s| s.connected).count();
        let in_sync = snap
            .switches
            .iter()
            .filter(|s| s.connected && s.sync_state == SyncState::InSync)
            .count();
        gauge(
            &mut enc,
            "op25b_switches_known",
            "Switches listed: connected, or disconnected and not forgotten yet",
            as_gauge(snap.switches.len() as u64),
        )?;
        let forgotten = self.registry.forgotten();
        counters(
            &mut enc,
            "op25b_switches_forgotten",
            "Disconnected switches forgotten (with their dpid-labelled series), by reason: retention (disconnected too long) or cap (too many disconnected switches)",
            &[
                (vec![("reason", "retention".to_owned())], forgotten.retention),
                (vec![("reason", "cap".to_owned())], forgotten.cap),
            ],
        )?;
        gauge(
            &mut enc,
            "op25b_switches_connected",
            "Switches connected now",
            as_gauge(connected as u64),
        )?;
        gauge(
            &mut enc,
            "op25b_switches_in_sync",
            "Connected switches whose last sync was confirmed by a barrier with no error",
            as_gauge(in_sync as u64),
        )?;
        gauge(
            &mut enc,
            "op25b_connections_handshaking",
            "Connections that have not told their datapath id yet",
            as_gauge(snap.handshaking),
        )?;
        let guards = self.registry.guards();
        let refused: Vec<(Labels, u64)> = ConnectionRejection::ALL
            .iter()
            .map(|w| {
                (
                    vec![("reason", w.name().to_owned())],
                    guards.connections_rejected(*w),
                )
            })
            .collect();
        counters(
            &mut enc,
            "op25b_connections_rejected",
            "OpenFlow connections closed at accept, before any OpenFlow was read, by reason: peer_not_allowed (outside allowed_peers), max_connections, max_connections_per_peer",
            &refused,
        )?;
        let untrusted: Vec<(Labels, u64)> = SampleRejection::ALL
            .iter()
            .map(|w| {
                (
                    vec![("reason", w.name().to_owned())],
                    guards.samples_rejected(*w),
                )
            })
            .collect();
        counters(
            &mut enc,
            "op25b_samples_rejected",
            "PACKET_INs not trusted as samples of op25b's drop flows (never reach the offender table), by reason",
            &untrusted,
        )?;
        counter(
            &mut enc,
            "op25b_samples_shed",
            "PACKET_INs from claimed switches shed, unjudged or trusted, because the offender service was behind (its bounded queue full), all switches",
            guards.samples_shed(),
        )?;

        // The Prometheus state-set pattern: every state, 1 for the one the switch is in, 0 for
        // the others, so `== 1` queries and state changes both work without absent series.
        let states: Vec<(Labels, i64)> = snap
            .switches
            .iter()
            .flat_map(|s| {
                SyncState::ALL.into_iter().map(move |state| {
                    (
                        vec![
                            ("dpid", s.dpid_str.clone()),
                            ("state", state.name().to_owned()),
                        ],
                        i64::from(s.sync_state == state),
                    )
                })
            })
            .collect();
        gauges(
            &mut enc,
            "op25b_switch_sync_state",
            "Sync state of each switch: one series per state, 1 for the state it is in, 0 for the others",
            &states,
        )?;
        let flows: Vec<(Labels, i64)> = snap
            .switches
            .iter()
            .map(|s| {
                (
                    vec![("dpid", s.dpid_str.clone())],
                    as_gauge(s.flow_count as u64),
                )
            })
            .collect();
        gauges(
            &mut enc,
            "op25b_switch_flows",
            "op25b's flows on the switch as of the last read",
            &flows,
        )?;

        let failed_open: Vec<(Labels, i64)> = snap
            .switches
            .iter()
            .map(|s| {
                (
                    vec![("dpid", s.dpid_str.clone())],
                    i64::from(s.failed_open.is_some()),
                )
            })
            .collect();
        gauges(
            &mut enc,
            "op25b_switch_failed_open",
            "1 when op25b saw the switch fail open (fail_mode standalone without a controller: port 25 open for everyone), until op25b restarts; 0 when it never did",
            &failed_open,
        )?;

        let syncs: Vec<(Labels, u64)> = snap
            .switches
            .iter()
            .flat_map(|s| {
                [
                    (
                        vec![("dpid", s.dpid_str.clone()), ("result", "ok".to_owned())],
                        s.counters.syncs_ok,
                    ),
                    (
                        vec![
                            ("dpid", s.dpid_str.clone()),
                            ("result", "failed".to_owned()),
                        ],
                        s.counters.syncs_failed,
                    ),
                ]
            })
            .collect();
        counters(&mut enc, "op25b_syncs", "Syncs finished, by result", &syncs)?;

        let observed = self.observations.all_counts();
        let by_reason: Vec<(Labels, u64)> = observed
            .iter()
            .flat_map(|(dpid, o)| {
                let dpid = Dpid(*dpid).to_string();
                o.syncs.iter().map(move |((reason, ok), n)| {
                    (
                        vec![
                            ("dpid", dpid.clone()),
                            ("reason", reason.clone()),
                            ("result", if *ok { "ok" } else { "failed" }.to_owned()),
                        ],
                        *n,
                    )
                })
            })
            .collect();
        counters(&mut enc, "op25b_sync_runs", "Syncs finished, by trigger (connect is the first sync of a connection; every other reason is a re-sync) and result", &by_reason)?;

        counters(
            &mut enc,
            "op25b_flow_mods_sent",
            "FLOW_MOD messages sent",
            &per_switch(&|s| s.counters.flow_mods_sent),
        )?;
        counters(
            &mut enc,
            "op25b_meter_mods_sent",
            "METER_MOD messages sent",
            &per_switch(&|s| s.counters.meter_mods_sent),
        )?;
        let errors: Vec<(Labels, u64)> = snap
            .switches
            .iter()
            .flat_map(|s| {
                s.counters
                    .errors
                    .iter()
                    .map(|(key, n)| (error_labels(&s.dpid_str, key), *n))
            })
            .collect();
        counters(
            &mut enc,
            "op25b_openflow_errors",
            "OpenFlow ERROR messages received, by type and code as the spec names them; every pair it does not name under type and code \"other\"",
            &errors,
        )?;
        counters(
            &mut enc,
            "op25b_reconnects",
            "Connections of a switch after its first one",
            &per_switch(&|s| s.counters.reconnects),
        )?;
        counters(
            &mut enc,
            "op25b_audit_repairs",
            "Audits that found drift and repaired it",
            &per_switch(&|s| s.counters.audit_repairs),
        )?;

        gauge(
            &mut enc,
            "op25b_policy_generation",
            "Generation of the policy in force (1 at start, +1 per accepted change)",
            as_gauge(self.store.current().generation()),
        )?;
        let reloads = self.store.reload_status();
        if let Some(rev) = reloads.etcd_revision {
            gauge(
                &mut enc,
                "op25b_policy_etcd_revision",
                "etcd revision of the cluster policy in force ([cluster] only)",
                rev,
            )?;
        }
        counters(
            &mut enc,
            "op25b_policy_reloads",
            "Policy reloads, by result (failed: rejected, the policy in force stays)",
            &[
                (vec![("result", "ok".to_owned())], reloads.reloads_ok),
                (
                    vec![("result", "failed".to_owned())],
                    reloads.reloads_failed,
                ),
            ],
        )?;

        let blocked_packets: Vec<(Labels, u64)> = observed
            .iter()
            .map(|(d, o)| (vec![("dpid", Dpid(*d).to_string())], o.blocked_packets))
            .collect();
        let blocked_bytes: Vec<(Labels, u64)> = observed
            .iter()
            .map(|(d, o)| (vec![("dpid", Dpid(*d).to_string())], o.blocked_bytes))
            .collect();
        counters(
            &mut enc,
            "op25b_blocked_packets",
            "Packets dropped by the blocking flows, from the flows' counters at the last read",
            &blocked_packets,
        )?;
        counters(
            &mut enc,
            "op25b_blocked_bytes",
            "Bytes dropped by the blocking flows, from the flows' counters at the last read",
            &blocked_bytes,
        )?;

        counters(
            &mut enc,
            "op25b_sampled_packets",
            "Sampled blocked packets (PACKET_IN) received from the switch",
            &per_switch(&|s| s.counters.packet_ins),
        )?;
        counters(
            &mut enc,
            "op25b_sampled_packets_dropped",
            "Sampled packets dropped because the offender service's queue was full",
            &per_switch(&|s| s.counters.packet_ins_dropped),
        )?;

        if let Some(offenders) = &self.offenders {
            let sum = offenders.summary();
            let attempts: Vec<(Labels, u64)> = sum
                .switches
                .iter()
                .map(|(d, c)| (vec![("dpid", Dpid(*d).to_string())], c.connection_attempts))
                .collect();
            let malformed: Vec<(Labels, u64)> = sum
                .switches
                .iter()
                .map(|(d, c)| (vec![("dpid", Dpid(*d).to_string())], c.malformed))
                .collect();
            counters(
                &mut enc,
                "op25b_sampled_attempts",
                "Sampled blocked connection attempts (TCP SYN) parsed by the offender service",
                &attempts,
            )?;
            counters(
                &mut enc,
                "op25b_sample_parse_errors",
                "Sampled packets the offender service could not parse",
                &malformed,
            )?;
            gauge(
                &mut enc,
                "op25b_offenders_tracked",
                "Subscribers in the offender table",
                as_gauge(sum.tracked as u64),
            )?;
            gauge(
                &mut enc,
                "op25b_offenders_flagged",
                "Subscribers flagged as likely infected now",
                as_gauge(sum.flagged as u64),
            )?;
            counter(
                &mut enc,
                "op25b_offender_flag_events",
                "Subscribers flagged as likely infected (one per event)",
                sum.table.flagged_events,
            )?;
            counter(
                &mut enc,
                "op25b_offenders_evicted",
                "Offender entries evicted to stay within max_offenders",
                sum.table.evicted,
            )?;
            counter(
                &mut enc,
                "op25b_offenders_expired",
                "Offender entries removed after a window without samples",
                sum.table.expired,
            )?;
            counters(
                &mut enc,
                "op25b_abuse_reports",
                "X-ARF v4 abuse reports written to the report file, by result",
                &[
                    (vec![("result", "written".to_owned())], sum.reports_written),
                    (vec![("result", "failed".to_owned())], sum.report_errors),
                    (vec![("result", "dropped".to_owned())], sum.reports_dropped),
                ],
            )?;
            let command = sum.report_command;
            counter(
                &mut enc,
                "op25b_report_command_delivered",
                "Reports [reporting] report_command took (exit status 0)",
                command.delivered,
            )?;
            counter(
                &mut enc,
                "op25b_report_command_dropped",
                "Reports not handed to report_command because its queue was full (the report file still has them)",
                command.dropped,
            )?;
            counters(
                &mut enc,
                "op25b_report_command_failures",
                "report_command runs that failed: not started or not fed (spawn), non-zero exit or signal (exit), killed at the timeout (timeout)",
                &[
                    (vec![("reason", "spawn".to_owned())], command.failed_spawn),
                    (vec![("reason", "exit".to_owned())], command.failed_exit),
                    (vec![("reason", "timeout".to_owned())], command.failed_timeout),
                ],
            )?;
        }
        Ok(())
    }
}

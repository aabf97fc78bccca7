//! `op25b ofp-print`: decode OpenFlow 1.3 bytes with op25b's own codec and print them the way
//! `ovs-ofctl ofp-print` does, one message after another; `--check-roundtrip` also re-encodes
//! each message and reports any byte that differs.
//!
//! Exit codes: 0 every message decoded (and re-encoded identically when checked); 1 a message
//! failed to decode, the bytes end inside a message, a re-encoding differs, or stdout could not
//! be written; 2 the input could
//! not be read (unreadable file, not hex).
use std::path::PathBuf;

use bytes::BytesMut;
use clap::Args;
use op25b_proto::framer::next_frame;
use op25b_proto::text::message_text;
use op25b_proto::{error_codes, OfpMessage};

mod input;

#[derive(Debug, Args)]
pub struct OfpPrintArgs {
    /// Hex bytes of one or more concatenated messages; spaces, colons and 0x prefixes are
    /// allowed, and several arguments are joined.
    #[arg(
        value_name = "HEX",
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    pub hex: Vec<String>,
    /// Read the messages from FILE: raw bytes, or hex text.
    #[arg(long, short = 'f', value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Re-encode every decoded message and fail (exit 1) if its bytes differ from the input.
    #[arg(long)]
    pub check_roundtrip: bool,
}

/// What decoding a byte string gave: the text to print and how many messages failed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub text: String,
    pub messages: usize,
    pub failures: usize,
}

/// Index and value of the first byte where `a` and `b` differ (a length difference counts).
fn first_difference(a: &[u8], b: &[u8]) -> Option<(usize, Option<u8>, Option<u8>)> {
    let n = a.len().max(b.len());
    (0..n)
        .find(|&i| a.get(i) != b.get(i))
        .map(|i| (i, a.get(i).copied(), b.get(i).copied()))
}

fn byte_text(b: Option<u8>) -> String {
    b.map_or_else(|| "end of message".to_string(), |b| format!("{b:#04x}"))
}

/// Decodes every message in `bytes` and renders it; pure, so it is tested without a process.
pub fn render(bytes: &[u8], check_roundtrip: bool) -> Report {
    let mut report = Report::default();
    let mut buf = BytesMut::from(bytes);
    let mut offset = 0usize;
    loop {
        match next_frame(&mut buf) {
            Ok(Some(frame)) => {
                report.messages += 1;
                render_frame(&frame, offset, check_roundtrip, &mut report);
                offset += frame.len();
            }
            Ok(None) => {
                if !buf.is_empty() {
                    report.failures += 1;
                    let declared = if buf.len() >= 4 {
                        format!(
                            ", its header says {} bytes",
                            u16::from_be_bytes([buf[2], buf[3]])
                        )
                    } else {
                        String::new()
                    };
                    report.text.push_str(&format!(
                        "*** byte {offset}: incomplete message: {} bytes left{declared} ***\n",
                        buf.len()
                    ));
                    report.text.push_str(&message_text::hexdump(&buf));
                }
                break;
            }
            Err(e) => {
                report.failures += 1;
                report.text.push_str(&format!(
                    "*** byte {offset}: cannot frame the rest: {e} ***\n"
                ));
                report.text.push_str(&message_text::hexdump(&buf));
                break;
            }
        }
    }
    if check_roundtrip {
        let ok = report.messages.saturating_sub(report.failures);
        report.text.push_str(&format!(
            "round-trip: {ok} of {} messages decoded and re-encoded byte-identical{}\n",
            report.messages,
            if report.failures == 0 {
                ""
            } else {
                " (FAILED)"
            }
        ));
    }
    report
}

fn render_frame(frame: &[u8], offset: usize, check_roundtrip: bool, report: &mut Report) {
    let msg = match OfpMessage::decode(frame) {
        Ok(m) => m,
        Err(e) => {
            report.failures += 1;
            let (t, c) = e.to_ofp_error();
            report.text.push_str(&format!(
                "*** byte {offset}: decode error: {e}; a switch would answer {} ***\n",
                error_codes::describe(t, c)
            ));
            report.text.push_str(&message_text::hexdump(frame));
            return;
        }
    };
    report.text.push_str(&message_text::message_text(&msg));
    if check_roundtrip {
        let again = msg.to_bytes();
        if let Some((at, input, encoded)) = first_difference(frame, &again) {
            report.failures += 1;
            report.text.push_str(&format!(
                "*** byte {offset}: re-encoding differs at byte {at} of the message: input {}, re-encoded {} \
                 (input {} bytes, re-encoded {} bytes) ***\n",
                byte_text(input),
                byte_text(encoded),
                frame.len(),
                again.len()
            ));
        }
    }
}

/// Runs the subcommand; returns the process exit code.
pub fn main(args: &OfpPrintArgs) -> i32 {
    let bytes = match &args.file {
        Some(path) => input::read_file(path),
        None => input::parse_hex(&args.hex.join(" "), "HEX argument"),
    };
    let bytes = match bytes {
        Ok(b) => b,
        Err(e) => {
            eprintln!("op25b ofp-print: {e}");
            return 2;
        }
    };
    let report = render(&bytes, args.check_roundtrip);
    let written = super::check::write_stdout(&report.text);
    if report.failures > 0 {
        eprintln!(
            "op25b ofp-print: {} of {} messages failed",
            report.failures,
            report.messages.max(1)
        );
        1
    } else {
        written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_concatenated_messages() {
        let r = render(
            &hex::decode("04000008000000010414000800000002").unwrap(),
            true,
        );
        assert_eq!(r.messages, 2);
        assert_eq!(r.failures, 0);
        assert_eq!(
            r.text,
            "OFPT_HELLO (OF1.3) (xid=0x1):\nOFPT_BARRIER_REQUEST (OF1.3) (xid=0x2):\n\
             round-trip: 2 of 2 messages decoded and re-encoded byte-identical\n"
        );
    }

    #[test]
    fn incomplete_tail_and_bad_length_are_failures() {
        let r = render(&hex::decode("0400000800000001041400100000").unwrap(), false);
        assert_eq!((r.messages, r.failures), (1, 1));
        assert!(
            r.text.contains(
                "*** byte 8: incomplete message: 6 bytes left, its header says 16 bytes ***"
            ),
            "{}",
            r.text
        );
        let r = render(&hex::decode("0400000000000001").unwrap(), false);
        assert_eq!((r.messages, r.failures), (0, 1));
        assert!(
            r.text.starts_with("*** byte 0: cannot frame the rest:"),
            "{}",
            r.text
        );
    }

    #[test]
    fn a_body_that_does_not_decode_names_the_error_to_answer_with() {
        // FEATURES_REQUEST must have an empty body; this one has 4 extra bytes.
        let r = render(&hex::decode("0405000c0000000700000000").unwrap(), true);
        assert_eq!((r.messages, r.failures), (1, 1));
        assert!(
            r.text.starts_with("*** byte 0: decode error:"),
            "{}",
            r.text
        );
        assert!(
            r.text.contains("OFPET_BAD_REQUEST/OFPBRC_BAD_LEN"),
            "{}",
            r.text
        );
        assert!(r.text.contains("round-trip: 0 of 1 messages"), "{}", r.text);
    }

    #[test]
    fn first_difference_finds_value_and_length_changes() {
        assert_eq!(first_difference(b"abc", b"abc"), None);
        assert_eq!(
            first_difference(b"abc", b"abd"),
            Some((2, Some(b'c'), Some(b'd')))
        );
        assert_eq!(first_difference(b"ab", b"abc"), Some((2, None, Some(b'c'))));
    }
}

//! `op25b ofp_print`.
use clap::Args;

#[derive(Debug, Args)]
pub struct OfpPrintArgs {}

/// Runs the subcommand; returns the process exit code.
pub fn main(_args: OfpPrintArgs) -> i32 {
    eprintln!("op25b ofp_print: not implemented yet");
    2
}

//! `op25b check`.
use clap::Args;

#[derive(Debug, Args)]
pub struct CheckArgs {}

/// Runs the subcommand; returns the process exit code.
pub fn main(_args: CheckArgs) -> i32 {
    eprintln!("op25b check: not implemented yet");
    2
}

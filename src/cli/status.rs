//! `op25b status`.
use clap::Args;

#[derive(Debug, Args)]
pub struct StatusArgs {}

/// Runs the subcommand; returns the process exit code.
pub fn main(_args: StatusArgs) -> i32 {
    eprintln!("op25b status: not implemented yet");
    2
}

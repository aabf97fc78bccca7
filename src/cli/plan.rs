//! `op25b plan`.
use clap::Args;

#[derive(Debug, Args)]
pub struct PlanArgs {}

/// Runs the subcommand; returns the process exit code.
pub fn main(_args: PlanArgs) -> i32 {
    eprintln!("op25b plan: not implemented yet");
    2
}

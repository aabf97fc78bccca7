//! `op25b run`.
use clap::Args;

#[derive(Debug, Args)]
pub struct RunArgs {}

/// Runs the subcommand; returns the process exit code.
pub fn main(_args: RunArgs) -> i32 {
    eprintln!("op25b run: not implemented yet");
    2
}

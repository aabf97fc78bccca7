//! The `op25b` command.
use clap::{Parser, Subcommand};
use op25b::cli;

#[derive(Debug, Parser)]
#[command(name = "op25b", version, about = "OpenFlow 1.3 controller for Outbound Port 25 Blocking")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the controller.
    Run(cli::run::RunArgs),
    /// Validate a policy file; exits non-zero on error.
    Check(cli::check::CheckArgs),
    /// Print the flows each switch will get, in ovs-ofctl syntax.
    Plan(cli::plan::PlanArgs),
    /// Decode OpenFlow bytes with op25b's codec, like `ovs-ofctl ofp-print`.
    OfpPrint(cli::ofp_print::OfpPrintArgs),
    /// Show a running controller's switches and top offenders.
    Status(cli::status::StatusArgs),
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Run(a) => cli::run::main(a),
        Command::Check(a) => cli::check::main(a),
        Command::Plan(a) => cli::plan::main(a),
        Command::OfpPrint(a) => cli::ofp_print::main(a),
        Command::Status(a) => cli::status::main(a),
    };
    std::process::exit(code);
}

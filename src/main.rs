//! The `op25b` command.
use clap::{CommandFactory, Parser, Subcommand};
use op25b::cli;

#[derive(Debug, Parser)]
#[command(
    name = "op25b",
    version,
    about = "OpenFlow 1.3 controller for Outbound Port 25 Blocking"
)]
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
    /// Check Open vSwitch's bridge settings (fail_mode, protocols, dpid, controllers).
    Doctor(cli::doctor::DoctorArgs),
    /// Ask a running controller to reload its policy file (exit 0 accepted, 1 rejected, 2 unreachable/unauthorized).
    Reload(cli::reload::ReloadArgs),
    /// Write the man pages and shell completions (used by scripts/package).
    #[command(hide = true)]
    GenerateAssets(cli::generate::GenerateArgs),
    /// The cluster's shared policy in etcd: push (validated, compare-and-swap), show, history.
    #[command(subcommand)]
    Policy(cli::policy_cmd::PolicyCommand),
}

/// Printing commands (`plan | head`, `ofp-print | less`) end quietly when the reader goes away,
/// like other Unix tools, instead of panicking in `println!` on EPIPE. The daemon (`run`) keeps
/// Rust's default (SIGPIPE ignored), so a switch that closes its socket is an error on that
/// connection, never a signal to the process.
fn restore_default_sigpipe() {
    // SAFETY: called once at start-up before any thread exists; SIG_DFL is a valid disposition.
    #[allow(unsafe_code, reason = "signal(2) has no safe wrapper in libc")]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Run(_)) {
        restore_default_sigpipe();
    }
    let code = match cli.command {
        Command::Run(a) => cli::run::main(a),
        Command::Check(a) => cli::check::main(&a),
        Command::Plan(a) => cli::plan::main(&a),
        Command::OfpPrint(a) => cli::ofp_print::main(&a),
        Command::Status(a) => cli::status::main(&a),
        Command::Doctor(a) => cli::doctor::main(&a),
        Command::Reload(a) => cli::reload::main(&a),
        Command::GenerateAssets(a) => cli::generate::main(&a, &Cli::command()),
        Command::Policy(c) => cli::policy_cmd::main(c),
    };
    std::process::exit(code);
}

//! Command-line subcommands. Each lives in its own file and owns its arguments.
pub mod api_client;
pub mod check;
pub mod config_problems;
pub mod doctor;
pub mod generate;
pub mod launch;
pub mod ofp_print;
pub mod plan;
pub mod policy_cmd;
pub mod reload;
pub mod run;
pub mod service_manager;
pub mod status;

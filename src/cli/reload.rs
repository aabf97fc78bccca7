//! `op25b reload [--config FILE | --api HOST:PORT --token-file F]`: asks a running controller
//! to reload its policy file (`POST /api/reload`, like SIGHUP but with an answer).
//!
//! Exit codes: 0 the file was accepted (installed, or unchanged); 1 it was rejected by
//! validation (the errors are printed, the policy in force stays); 2 the controller could not
//! be reached, refused the token (401) or failed otherwise.

use clap::Args;
use serde::Deserialize;

use super::api_client::ApiTarget;

#[derive(Debug, Args)]
pub struct ReloadArgs {
    #[command(flatten)]
    pub target: ApiTarget,
}

#[derive(Debug, Deserialize)]
struct Accepted {
    outcome: String,
    generation: u64,
}

#[derive(Debug, Deserialize)]
struct Refused {
    error: String,
}

/// Runs the subcommand; returns the process exit code.
pub fn main(args: &ReloadArgs) -> i32 {
    let api = match args.target.resolve() {
        Ok(api) => api,
        Err(e) => {
            eprintln!("op25b reload: {e}");
            return 2;
        }
    };
    let url = format!("{}/api/reload", api.base);
    let (status, body) = match api.post("/api/reload") {
        Ok(answer) => answer,
        Err(e) => {
            eprintln!("op25b reload: cannot reach the op25b API at {url}: {e}");
            return 2;
        }
    };
    let error_text = || {
        serde_json::from_str::<Refused>(&body)
            .map(|r| r.error)
            .unwrap_or_else(|_| body.clone())
    };
    match status {
        200 => match serde_json::from_str::<Accepted>(&body) {
            Ok(a) => {
                println!("policy {} (generation {})", a.outcome, a.generation);
                0
            }
            Err(e) => {
                eprintln!("op25b reload: {url} answered 200 but not the API's JSON: {e}");
                2
            }
        },
        422 => {
            eprintln!("op25b reload: the policy file was rejected; the policy in force stays");
            eprintln!("{}", error_text());
            1
        }
        401 => {
            let hint = if api.token.is_none() {
                " (no token given: use --config with the controller's policy file, or --token-file)"
            } else {
                " (the token does not match the controller's [api] token_file)"
            };
            eprintln!("op25b reload: {url} refused the request: 401 unauthorized{hint}");
            2
        }
        other => {
            eprintln!(
                "op25b reload: {url} answered HTTP {other}: {}",
                error_text()
            );
            2
        }
    }
}

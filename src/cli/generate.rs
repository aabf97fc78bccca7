//! `op25b generate-assets --out-dir DIR` (hidden): the man pages and shell completions, made
//! from the same clap definitions the binary parses with, so they cannot drift from the CLI.
//! `scripts/package` runs it before building the Debian package; nothing it writes is
//! committed.
//!
//! Writes `DIR/man/op25b.1` and one `op25b-SUBCOMMAND.1` per visible subcommand
//! (`clap_mangen`), and `DIR/completions/op25b.bash`, `_op25b` (zsh) and `op25b.fish`
//! (`clap_complete`).

use std::path::{Path, PathBuf};

use clap::Args;
use clap_complete::Shell;

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Directory to write `man/` and `completions/` into (created if missing).
    #[arg(long)]
    pub out_dir: PathBuf,
}

/// Why the files could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
pub struct GenerateError {
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

/// Writes every man page and completion script for `cmd`; returns the files written.
pub fn write_all(cmd: &clap::Command, out_dir: &Path) -> Result<Vec<PathBuf>, GenerateError> {
    let err = |path: &Path| {
        let path = path.to_owned();
        move |source| GenerateError { path, source }
    };
    let man_dir = out_dir.join("man");
    let completions_dir = out_dir.join("completions");
    for dir in [&man_dir, &completions_dir] {
        std::fs::create_dir_all(dir).map_err(err(dir))?;
    }
    let mut written = Vec::new();
    let mut cmd = cmd.clone().disable_help_subcommand(true);
    cmd.build();
    write_man_pages(&cmd, &man_dir, &mut written).map_err(err(&man_dir))?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let path = clap_complete::generate_to(shell, &mut cmd, "op25b", &completions_dir)
            .map_err(err(&completions_dir))?;
        written.push(path);
    }
    Ok(written)
}

/// One page for `cmd`, one per visible subcommand, named `op25b-run.1` etc.
fn write_man_pages(
    cmd: &clap::Command,
    dir: &Path,
    written: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_man_pages(sub, dir, written)?;
    }
    let version = cmd.get_version().unwrap_or(env!("CARGO_PKG_VERSION"));
    let man = clap_mangen::Man::new(cmd.clone())
        .manual("op25b manual")
        .source(format!("op25b {version}"));
    written.push(man.generate_to(dir)?);
    Ok(())
}

/// Runs the subcommand; returns the process exit code.
pub fn main(args: &GenerateArgs, cmd: &clap::Command) -> i32 {
    match write_all(cmd, &args.out_dir) {
        Ok(files) => {
            for f in files {
                println!("{}", f.display());
            }
            0
        }
        Err(e) => {
            eprintln!("op25b generate-assets: {e}");
            1
        }
    }
}

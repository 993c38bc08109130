use std::path::PathBuf;
use std::process::ExitCode;

/// Write the man pages and shell completions of every lakepipe tool under DIR.
#[derive(clap::Parser)]
#[command(name = "lakepipe-gen", version)]
struct Args {
    /// Output folder, e.g. PREFIX/share (man/man1, bash-completion/completions,
    /// zsh/site-functions and fish/vendor_completions.d are created below it)
    dir: PathBuf,
}

fn main() -> ExitCode {
    lakepipe::cli::run_main("lakepipe-gen", |a: Args| {
        lakepipe_gen::generate(&a.dir).map(drop)
    })
}

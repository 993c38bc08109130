//! lakepipe-gen: the man pages and shell completions of every lakepipe tool, generated
//! from the same clap definitions that parse their command lines, so they never drift.
//!
//! `lakepipe-gen DIR` writes, under DIR (`make install` passes `PREFIX/share`):
//! `man/man1/TOOL.1`, `bash-completion/completions/TOOL`, `zsh/site-functions/_TOOL`
//! and `fish/vendor_completions.d/TOOL.fish`.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Command;
use clap_complete::Shell;

/// Every tool's command line, by binary name.
pub fn tools() -> Vec<Command> {
    vec![
        kcat_lite::command(),
        jq_lite::command(),
        pq_write::command(),
        pq_compact::command(),
        pq_cat::command(),
        hdfs_ls::command(),
        hive_ddl::command(),
        presto_q::command(),
    ]
}

/// Write every page and completion file under `dir`; returns the files written.
pub fn generate(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for cmd in tools() {
        written.push(man_page(dir, cmd.clone())?);
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            written.push(completion(dir, cmd.clone(), shell)?);
        }
    }
    Ok(written)
}

/// `man/man1/TOOL.1`.
fn man_page(dir: &Path, cmd: Command) -> Result<PathBuf> {
    let path = dir.join("man/man1").join(format!("{}.1", cmd.get_name()));
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut page)?;
    write(&path, &page)?;
    Ok(path)
}

/// The completion file where each shell looks for it (the names bash-completion, zsh's
/// fpath and fish's vendor folder expect).
fn completion(dir: &Path, mut cmd: Command, shell: Shell) -> Result<PathBuf> {
    let name = cmd.get_name().to_string();
    let path = match shell {
        Shell::Bash => dir.join("bash-completion/completions").join(&name),
        Shell::Zsh => dir.join("zsh/site-functions").join(format!("_{name}")),
        Shell::Fish => dir
            .join("fish/vendor_completions.d")
            .join(format!("{name}.fish")),
        other => anyhow::bail!("no install folder for {other}"),
    };
    let mut text = Vec::new();
    clap_complete::generate(shell, &mut cmd, &name, &mut text);
    write(&path, &text)?;
    Ok(path)
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

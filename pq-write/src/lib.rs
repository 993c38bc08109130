//! (in progress)
use clap::Parser;

#[derive(Parser, Debug)]
#[command(version)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}

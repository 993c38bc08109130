fn main() -> std::process::ExitCode {
    lakepipe::cli::run_main("presto-q", presto_q::run)
}

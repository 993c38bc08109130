fn main() -> std::process::ExitCode {
    lakepipe::cli::run_main("pq-compact", pq_compact::run)
}

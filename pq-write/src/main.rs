fn main() -> std::process::ExitCode {
    lakepipe::cli::run_main("pq-write", pq_write::run)
}

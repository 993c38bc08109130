fn main() -> std::process::ExitCode {
    lakepipe::cli::run_main("pq-cat", pq_cat::run)
}

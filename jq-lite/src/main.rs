fn main() -> std::process::ExitCode {
    lakepipe::cli::run_main("jq-lite", jq_lite::run)
}

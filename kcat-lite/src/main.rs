fn main() -> std::process::ExitCode {
    lakepipe::cli::run_main("kcat-lite", kcat_lite::run)
}

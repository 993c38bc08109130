fn main() -> std::process::ExitCode {
    lakepipe::cli::run_main("hive-ddl", hive_ddl::run)
}

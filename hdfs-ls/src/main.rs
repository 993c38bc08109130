fn main() -> std::process::ExitCode {
    lakepipe::cli::run_main("hdfs-ls", hdfs_ls::run)
}

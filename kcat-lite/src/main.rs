/// mimalloc for Rust and, through `override`, for librdkafka's C allocations too: its
/// broker thread allocates every message and this thread frees it, which under glibc
/// took the arena lock from the other side (issue 17).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    lakepipe::cli::run_main("kcat-lite", kcat_lite::run)
}

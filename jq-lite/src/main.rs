// Parsing makes many small values; mimalloc halves the time spent allocating them. Declared
// in the binary, not the library, so crates linking jq_lite keep their own allocator.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    lakepipe::cli::run_main("jq-lite", jq_lite::run)
}

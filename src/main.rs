//! `alam`: headless training, evaluation, sweeps and benchmarks (native only; the browser
//! build has its own entry).

/// burn's CPU device allocates a fresh buffer for every op; glibc hands large ones back to the
/// OS each time (a page fault per touch), mimalloc keeps and reuses them (measured: BENCHMARKS.md).
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(not(target_arch = "wasm32"))]
mod cli;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}

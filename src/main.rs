//! The `clearance` binary: argument parsing and exit codes live in `cli`; the pipeline in the
//! library.

fn main() -> std::process::ExitCode {
    clearance::cli::main()
}

// typst allocates and frees small objects at a high rate from several threads; mimalloc is
// measurably faster than the system allocator for that (see the render benchmark).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

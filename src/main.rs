//! The `clearance` binary: argument parsing and exit codes live in `cli`; the pipeline in the
//! library.

fn main() -> std::process::ExitCode {
    clearance::cli::main()
}

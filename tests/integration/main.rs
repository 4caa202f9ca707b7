//! The integration test binary: the real `clearance` binary on synthetic DOJ files.

mod check_cli;
mod gogen_compat;
mod ingest_errors;
mod sample_cli;
mod statutory_cases;
mod support;

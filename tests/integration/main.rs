//! The integration test binary: the real `clearance` binary on synthetic DOJ files.

mod browser;
mod check_cli;
mod documents;
mod faults;
mod gogen_compat;
mod http;
mod ingest_errors;
mod letters;
mod office_files;
mod parallel;
mod pdf;
mod policies;
mod sample_cli;
mod server;
mod statutory_cases;
mod support;

//! clearance turns the California DOJ bulk criminal-history file into Prop 64 relief.
//!
//! The pipeline, one stage per module:
//! 1. [`ingest`] streams the DOJ file(s) into people, convictions and court cases, collecting a
//!    diagnostic for every bad row;
//! 2. [`eligibility`] decides each conviction under HS 11361.8 and the county's policy (or
//!    reproduces gogen), naming the rule and authority of every decision — pure, with the as-of
//!    date as an argument;
//! 3. [`output`] writes the results atomically: determinations, gogen-compatible CSVs, summary.
//!
//! Later stages (`plan`, `render`, `assemble`) turn determinations into court documents. The
//! binary in `main.rs` only parses arguments and calls [`cli::run`].

pub mod assemble;
pub mod cli;
pub mod config;
pub mod eligibility;
pub mod ingest;
pub mod model;
pub mod output;
mod parallel;
pub mod pipeline;
pub mod plan;
pub mod render;
pub mod sample;
pub mod server;

/// The tool's version, written into every PDF's metadata and the manifest.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub use pipeline::*;

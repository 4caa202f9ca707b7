//! `manifest.json`: every output file with its SHA-256, size, pages and template, and what the
//! run was made from (inputs, policy, office profile, contacts, templates, as-of date, version).
//! With it a clerk can show that a filing is the one the tool produced from those inputs.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{OutputDir, OutputError};

fn read_error(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::ReadBack {
        path: path.display().to_string(),
        source,
    }
}

/// An input of the run and its hash.
#[derive(Clone, Debug, Serialize)]
pub struct ManifestInput {
    /// The path as the user gave it.
    pub path: String,
    pub sha256: String,
    pub size: u64,
}

/// A template and its hash, and whether the office overrode the built-in version.
#[derive(Clone, Debug, Serialize)]
pub struct ManifestTemplate {
    pub name: String,
    pub sha256: String,
    pub overridden: bool,
}

/// What the manifest says about an output PDF besides its bytes.
#[derive(Clone, Debug)]
pub struct OutputDocument {
    pub pages: usize,
    pub template: &'static str,
}

/// Everything but the outputs, which are read back from the staging folder.
#[derive(Clone, Debug, Serialize)]
pub struct ManifestHeader {
    pub tool: &'static str,
    pub version: &'static str,
    pub as_of: String,
    pub county: String,
    pub inputs: Vec<ManifestInput>,
    /// `statutory`, `policy` or `gogen`, its name and hash.
    pub rules: serde_json::Value,
    pub office_sha256: String,
    pub contacts_sha256: Option<String>,
    /// Whether letters were written, and in which mode (notice, or post-order with its date).
    pub letters: serde_json::Value,
    pub templates: Vec<ManifestTemplate>,
}

#[derive(Serialize)]
struct ManifestOutput<'a> {
    path: String,
    sha256: String,
    size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pages: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<&'a str>,
}

#[derive(Serialize)]
struct Manifest<'a> {
    #[serde(flatten)]
    header: &'a ManifestHeader,
    outputs: Vec<ManifestOutput<'a>>,
}

/// SHA-256 and size of a file, streamed.
pub fn hash_file(path: &Path) -> Result<(String, u64), OutputError> {
    let mut file = fs::File::open(path).map_err(read_error(path))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let read = file.read(&mut buffer).map_err(read_error(path))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        size += read as u64;
    }
    Ok((crate::config::hex(&hasher.finalize()), size))
}

/// Every file under `root`, as sorted relative paths with `/` separators.
fn files_under(root: &Path) -> Result<Vec<String>, OutputError> {
    let mut found = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(&folder).map_err(read_error(&folder))? {
            let entry = entry.map_err(read_error(&folder))?;
            let path = entry.path();
            if entry.file_type().map_err(read_error(&path))?.is_dir() {
                folders.push(path);
            } else if let Ok(relative) = path.strip_prefix(root) {
                let parts: Vec<String> = relative
                    .components()
                    .map(|part| part.as_os_str().to_string_lossy().into_owned())
                    .collect();
                found.push(parts.join("/"));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Writes `manifest.json` listing every file written so far. Call it last. Files in `known`
/// (hashed as they were written) are not read back; the others are hashed on `jobs` threads.
pub fn write_manifest(
    output: &OutputDir,
    header: &ManifestHeader,
    documents: &BTreeMap<String, OutputDocument>,
    known: &super::KnownHashes,
    jobs: usize,
) -> Result<(), OutputError> {
    let paths = files_under(output.staging())?;
    let hashed = crate::parallel::map(jobs, paths.len(), |index| {
        let full = output.staging().join(&paths[index]);
        match known.get(&full) {
            Some(hash) => Ok(hash.clone()),
            None => hash_file(&full),
        }
    });
    let hashes = hashed.into_iter().collect::<Result<Vec<_>, _>>()?;
    let mut outputs = Vec::with_capacity(paths.len());
    for (path, (sha256, size)) in paths.into_iter().zip(hashes) {
        let document = documents.get(&path);
        outputs.push(ManifestOutput {
            sha256,
            size,
            pages: document.map(|document| document.pages),
            template: document.map(|document| document.template),
            path,
        });
    }
    super::write_json(output, "manifest.json", &Manifest { header, outputs })
}

//! A batch's whole output as one zip file (`GET /v1/batches/{id}/archive.zip`), built as it is
//! sent. Entries are stored, not compressed (the PDFs are compressed already), in path order
//! and dated 1980-01-01, so the same output always gives the same archive. Where a count, size
//! or offset does not fit the classic fields (65,535 entries, 4 GiB), the archive carries ZIP64
//! records for it: a large county's output has more files than that, and its bundles can pass
//! 4 GiB in all. Files are read in pieces, never whole, so memory stays flat whatever their size.

use std::io::Read;
use std::path::{Path, PathBuf};

/// MS-DOS date 1980-01-01 (time 00:00).
const DOS_DATE: u16 = 0x21;
/// Bytes of a file read and sent at a time.
const PIECE_BYTES: usize = 1 << 20;
/// "Version needed to extract": 2.0 for classic entries, 4.5 for ZIP64.
const VERSION_CLASSIC: u16 = 20;
const VERSION_ZIP64: u16 = 45;

/// Where the classic fields end: a count or size at or above these is written as ZIP64. The
/// real ones are the fields' maxima; tests pass smaller ones to reach the ZIP64 records with
/// small files.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ClassicLimits {
    pub entries: u64,
    pub bytes: u64,
}

impl ClassicLimits {
    /// A size or offset as its classic 32-bit field: itself, or the "see ZIP64" mark.
    fn field(self, value: u64) -> u32 {
        if value >= self.bytes {
            u32::MAX
        } else {
            value as u32
        }
    }
}

pub(crate) const CLASSIC_LIMITS: ClassicLimits = ClassicLimits {
    entries: 0xFFFF,
    bytes: 0xFFFF_FFFF,
};

/// Writes the files under `root` as a zip archive through `send`, which returns false when the
/// client has gone (then writing stops). Regular files only, never following a symbolic link.
pub(crate) fn write_zip(root: &Path, send: &dyn Fn(Vec<u8>) -> bool) -> std::io::Result<()> {
    write_zip_within(root, send, CLASSIC_LIMITS)
}

pub(crate) fn write_zip_within(
    root: &Path,
    send: &dyn Fn(Vec<u8>) -> bool,
    limits: ClassicLimits,
) -> std::io::Result<()> {
    let mut central = Vec::new();
    let mut offset: u64 = 0;
    let paths = regular_files(root)?;
    // One buffer for every file's checksum (thousands of small files, each read once before
    // it is sent).
    let mut piece = vec![0; PIECE_BYTES];
    for path in &paths {
        let name = path
            .strip_prefix(root)
            .map_err(std::io::Error::other)?
            .to_string_lossy()
            .replace('\\', "/");
        let name_length = u16::try_from(name.len())
            .map_err(|_| std::io::Error::other(format!("{name}: name too long for a zip entry")))?;
        let (crc, size) = checksum(path, &mut piece)?;
        let large_file = size >= limits.bytes;
        let far_offset = offset >= limits.bytes;

        let mut local = Vec::with_capacity(30 + name.len() + 20);
        local.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        let version = if large_file || far_offset {
            VERSION_ZIP64
        } else {
            VERSION_CLASSIC
        };
        local.extend_from_slice(&version.to_le_bytes());
        local.extend_from_slice(&0x0800u16.to_le_bytes()); // UTF-8 names
        local.extend_from_slice(&0u16.to_le_bytes()); // stored
        local.extend_from_slice(&0u16.to_le_bytes()); // time
        local.extend_from_slice(&DOS_DATE.to_le_bytes());
        local.extend_from_slice(&crc.to_le_bytes());
        let size_field = limits.field(size);
        local.extend_from_slice(&size_field.to_le_bytes()); // compressed
        local.extend_from_slice(&size_field.to_le_bytes()); // uncompressed
        local.extend_from_slice(&name_length.to_le_bytes());
        // Sizes past the classic fields, as the ZIP64 extra gives them (both sizes: stored).
        let large_sizes = if large_file {
            vec![size, size]
        } else {
            Vec::new()
        };
        let local_extra = zip64_extra(&large_sizes);
        local.extend_from_slice(&(local_extra.len() as u16).to_le_bytes());
        local.extend_from_slice(name.as_bytes());
        local.extend_from_slice(&local_extra);

        // The central record repeats the local one from "version needed" to the name length;
        // its ZIP64 extra holds, in the order the format fixes, only the fields marked full.
        let mut central_extra_fields = large_sizes;
        if far_offset {
            central_extra_fields.push(offset);
        }
        let central_extra = zip64_extra(&central_extra_fields);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&version.to_le_bytes()); // made by
        central.extend_from_slice(&local[4..28]);
        central.extend_from_slice(&(central_extra.len() as u16).to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes()); // comment
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&limits.field(offset).to_le_bytes());
        central.extend_from_slice(name.as_bytes());
        central.extend_from_slice(&central_extra);

        offset += local.len() as u64 + size;
        if !send(local) || !send_file(path, size, send)? {
            return Ok(());
        }
    }
    let entries = paths.len() as u64;
    let central_size = central.len() as u64;
    let central_offset = offset;
    let mut end = Vec::with_capacity(98);
    let zip64 =
        entries >= limits.entries || central_size >= limits.bytes || central_offset >= limits.bytes;
    if zip64 {
        // The ZIP64 end of central directory record, then its locator.
        end.extend_from_slice(&0x0606_4b50u32.to_le_bytes());
        end.extend_from_slice(&44u64.to_le_bytes()); // size of the rest of the record
        end.extend_from_slice(&VERSION_ZIP64.to_le_bytes()); // made by
        end.extend_from_slice(&VERSION_ZIP64.to_le_bytes()); // needed
        end.extend_from_slice(&0u32.to_le_bytes()); // this disk
        end.extend_from_slice(&0u32.to_le_bytes()); // disk of the central directory
        end.extend_from_slice(&entries.to_le_bytes()); // on this disk
        end.extend_from_slice(&entries.to_le_bytes()); // in all
        end.extend_from_slice(&central_size.to_le_bytes());
        end.extend_from_slice(&central_offset.to_le_bytes());
        end.extend_from_slice(&0x0706_4b50u32.to_le_bytes());
        end.extend_from_slice(&0u32.to_le_bytes()); // disk of the ZIP64 record
        end.extend_from_slice(&(central_offset + central_size).to_le_bytes());
        end.extend_from_slice(&1u32.to_le_bytes()); // disks
    }
    let entries_field = if entries >= limits.entries {
        u16::MAX
    } else {
        entries as u16
    };
    end.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    end.extend_from_slice(&0u16.to_le_bytes()); // this disk
    end.extend_from_slice(&0u16.to_le_bytes()); // disk of the central directory
    end.extend_from_slice(&entries_field.to_le_bytes());
    end.extend_from_slice(&entries_field.to_le_bytes());
    end.extend_from_slice(&limits.field(central_size).to_le_bytes());
    end.extend_from_slice(&limits.field(central_offset).to_le_bytes());
    end.extend_from_slice(&0u16.to_le_bytes()); // comment
    if send(central) {
        send(end);
    }
    Ok(())
}

/// The regular files under `root`, in path order; symbolic links are neither followed nor
/// listed.
fn regular_files(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                folders.push(entry.path());
            } else if kind.is_file() {
                paths.push(entry.path());
            }
        }
    }
    paths.sort();
    Ok(paths)
}

/// A ZIP64 extended information extra field holding `values`; none when there are none.
fn zip64_extra(values: &[u64]) -> Vec<u8> {
    if values.is_empty() {
        return Vec::new();
    }
    let mut extra = Vec::with_capacity(4 + 8 * values.len());
    extra.extend_from_slice(&0x0001u16.to_le_bytes());
    extra.extend_from_slice(&((8 * values.len()) as u16).to_le_bytes());
    for value in values {
        extra.extend_from_slice(&value.to_le_bytes());
    }
    extra
}

/// The CRC-32 and length of a file, read in pieces into `piece`.
fn checksum(path: &Path, piece: &mut [u8]) -> std::io::Result<(u32, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = crc32fast::Hasher::new();
    let mut size = 0u64;
    loop {
        let read = file.read(piece)?;
        if read == 0 {
            return Ok((hasher.finalize(), size));
        }
        hasher.update(&piece[..read]);
        size += read as u64;
    }
}

/// Sends a file's `size` bytes in pieces; false when the client has gone. A file that is no
/// longer `size` bytes long (a finished batch's output never changes) is an error, never a
/// corrupt entry.
fn send_file(path: &Path, size: u64, send: &dyn Fn(Vec<u8>) -> bool) -> std::io::Result<bool> {
    let mut file = std::fs::File::open(path)?;
    let mut left = size;
    while left > 0 {
        let mut piece = vec![0; PIECE_BYTES.min(usize::try_from(left).unwrap_or(PIECE_BYTES))];
        file.read_exact(&mut piece)?;
        left -= piece.len() as u64;
        if !send(piece) {
            return Ok(false);
        }
    }
    let mut probe = [0u8; 1];
    if file.read(&mut probe)? != 0 {
        return Err(std::io::Error::other(format!(
            "{}: changed while being archived",
            path.display()
        )));
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::{CLASSIC_LIMITS, ClassicLimits, write_zip_within};

    /// A folder of files of the given sizes (bytes that differ from file to file).
    fn folder_of(files: &[(&str, usize)]) -> tempfile::TempDir {
        let folder = tempfile::tempdir().expect("temp folder");
        for (index, (name, size)) in files.iter().enumerate() {
            let path = folder.path().join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("folders");
            let bytes: Vec<u8> = (0..*size).map(|at| (at * 7 + index) as u8).collect();
            std::fs::write(path, bytes).expect("file");
        }
        folder
    }

    fn archive(root: &std::path::Path, limits: ClassicLimits) -> Vec<u8> {
        let bytes = std::cell::RefCell::new(Vec::new());
        write_zip_within(
            root,
            &|piece| {
                bytes.borrow_mut().extend_from_slice(&piece);
                true
            },
            limits,
        )
        .expect("archive");
        bytes.into_inner()
    }

    /// Every entry as another zip reader (the `zip` crate) reads it.
    fn read_back(bytes: Vec<u8>) -> Vec<(String, Vec<u8>)> {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
        (0..archive.len())
            .map(|index| {
                let mut entry = archive.by_index(index).expect("entry");
                let mut data = Vec::new();
                entry.read_to_end(&mut data).expect("entry data");
                (entry.name().to_string(), data)
            })
            .collect()
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack
            .windows(needle.len())
            .any(|window| window == needle)
    }

    const FILES: [(&str, usize); 4] = [
        ("summary.json", 40),
        ("cases/SCSF1.pdf", 300),
        ("cases/SCSF2.pdf", 90),
        ("bundles/filing.pdf", 2_500_000),
    ];

    #[test]
    fn a_small_output_is_a_classic_zip_in_path_order() {
        let folder = folder_of(&FILES);
        let bytes = archive(folder.path(), CLASSIC_LIMITS);
        assert!(
            !contains(&bytes, &0x0606_4b50u32.to_le_bytes()),
            "no ZIP64 record"
        );
        let entries = read_back(bytes.clone());
        let names: Vec<&str> = entries.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "bundles/filing.pdf",
                "cases/SCSF1.pdf",
                "cases/SCSF2.pdf",
                "summary.json"
            ]
        );
        for (name, data) in &entries {
            assert_eq!(
                data,
                &std::fs::read(folder.path().join(name)).expect("file"),
                "{name}"
            );
        }
        assert_eq!(bytes, archive(folder.path(), CLASSIC_LIMITS), "same bytes");
    }

    /// Counts, sizes and offsets past the classic fields (here made small) are written as ZIP64,
    /// and another reader finds every entry whole.
    #[test]
    fn counts_sizes_and_offsets_past_the_classic_fields_are_zip64() {
        let folder = folder_of(&FILES);
        let limits = ClassicLimits {
            entries: 3,
            bytes: 200,
        };
        let bytes = archive(folder.path(), limits);
        assert!(
            contains(&bytes, &0x0606_4b50u32.to_le_bytes()),
            "ZIP64 end record"
        );
        assert!(
            contains(&bytes, &0x0706_4b50u32.to_le_bytes()),
            "ZIP64 locator"
        );
        let entries = read_back(bytes);
        assert_eq!(entries.len(), FILES.len());
        for (name, data) in &entries {
            assert_eq!(
                data,
                &std::fs::read(folder.path().join(name)).expect("file"),
                "{name}"
            );
        }
    }

    #[test]
    fn a_client_that_goes_stops_the_archive() {
        let folder = folder_of(&FILES);
        let pieces = std::cell::Cell::new(0);
        write_zip_within(
            folder.path(),
            &|_| {
                pieces.set(pieces.get() + 1);
                pieces.get() < 2
            },
            CLASSIC_LIMITS,
        )
        .expect("stops quietly");
        assert_eq!(pieces.get(), 2, "nothing sent after the refusal");
    }
}

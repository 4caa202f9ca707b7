//! Text encodings of the files offices have: UTF-8 (with or without the byte order mark that
//! spreadsheets write), or Windows-1252, what "CSV" means in a Windows spreadsheet. A name is
//! never garbled silently: bytes that are not UTF-8 are decoded as Windows-1252 with a located
//! warning, or refused when the user said the file is UTF-8.

/// How to read the text of CSV inputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 where the bytes are UTF-8; anything else is Windows-1252, with a warning.
    #[default]
    Auto,
    /// UTF-8 only: bytes that are not are an error naming the line.
    Utf8,
    /// Windows-1252 throughout (every byte is a character).
    Windows1252,
}

impl Encoding {
    pub fn parse(text: &str) -> Option<Encoding> {
        match text.to_ascii_lowercase().as_str() {
            "auto" => Some(Encoding::Auto),
            "utf-8" | "utf8" => Some(Encoding::Utf8),
            "windows-1252" | "cp1252" | "windows1252" => Some(Encoding::Windows1252),
            _ => None,
        }
    }

    /// Whether bytes must be decoded as Windows-1252 rather than taken as UTF-8.
    pub fn needs_windows_1252(self, bytes: &[u8]) -> bool {
        match self {
            Encoding::Auto => std::str::from_utf8(bytes).is_err(),
            Encoding::Utf8 => false,
            Encoding::Windows1252 => !bytes.is_ascii(),
        }
    }
}

/// Why bytes that are not UTF-8 are refused under `--encoding utf-8`, and what to pass instead.
pub const NOT_UTF8_AS_TOLD: &str = "not valid UTF-8, and --encoding utf-8 was given (a spreadsheet's \"CSV\" export is Windows-1252: pass --encoding windows-1252 or auto)";

/// The UTF-8 byte order mark.
pub const BOM: &[u8] = b"\xef\xbb\xbf";

/// Characters of Windows-1252's bytes 0x80–0x9F (the rest is Latin-1); five bytes are unassigned
/// and decode to the replacement character's neighbour in Latin-1 C1 controls, as browsers do.
const HIGH: [char; 32] = [
    '\u{20AC}', '\u{0081}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{008D}', '\u{017D}', '\u{008F}',
    '\u{0090}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{009D}', '\u{017E}', '\u{0178}',
];

/// Decodes Windows-1252 bytes.
pub fn decode_windows_1252(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&byte| match byte {
            0x80..=0x9F => HIGH[usize::from(byte - 0x80)],
            _ => char::from(byte),
        })
        .collect()
}

/// The 1-based line of the first byte that is not UTF-8, if any.
pub fn first_non_utf8_line(bytes: &[u8]) -> Option<u64> {
    let error = std::str::from_utf8(bytes).err()?;
    let before = &bytes[..error.valid_up_to()];
    Some(1 + memchr::memchr_iter(b'\n', before).count() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1252_names_decode_to_what_was_typed() {
        assert_eq!(decode_windows_1252(b"PE\xd1A,JOS\xc9"), "PEÑA,JOSÉ");
        assert_eq!(decode_windows_1252(b"O\x92BRIEN \x80"), "O’BRIEN €");
        assert!(Encoding::Auto.needs_windows_1252(b"PE\xd1A"));
        assert!(!Encoding::Auto.needs_windows_1252("PEÑA".as_bytes()));
        assert!(Encoding::Windows1252.needs_windows_1252("PEÑA".as_bytes()));
        assert!(!Encoding::Windows1252.needs_windows_1252(b"PENA"));
        assert_eq!(first_non_utf8_line(b"a\nb\nPE\xd1A"), Some(3));
        assert_eq!(first_non_utf8_line("a\nPEÑA".as_bytes()), None);
        assert_eq!(Encoding::parse("Windows-1252"), Some(Encoding::Windows1252));
        assert_eq!(Encoding::parse("latin9"), None);
    }
}

//! Assemble: rendered PDFs → the files people use, with lopdf.
//!
//! Documents are rendered in chunks (many papers per typst compile, which is several times
//! faster than one compile per paper and shares font subsets). Assembly then
//! - cuts each document of a chunk out into its own file ([`split`]): the pages and everything
//!   they use, page labels equal to the printed page numbers, bookmarks, and the PDF/A-2b
//!   identification (XMP metadata, output intent) carried over with the document's own title;
//! - streams chunks into one bundle ([`BundleWriter`]) with a bookmark per document and page
//!   labels, holding one chunk in memory at a time; front matter (an index whose page numbers
//!   are only known at the end) can be put before pages written earlier;
//! - stamps text onto pages ([`Stamp`]): page numbers, and "page x of y" lines, which depend on
//!   where a page ends up and so are drawn after rendering, in an embedded font.
//!
//! Assembled files are untagged PDF/A-2b: every font stays embedded and the metadata and output
//! intent are kept; structure trees are not merged.

mod pdf;

use std::io::{self, Write};
use std::ops::Range;

use lopdf::{Document, Object, ObjectId};
pub(crate) use pdf::Bookmark;
use pdf::{
    Copier, LabelNumbering, LabelRange, PdfWriter, PdfaIdentity, StampFontUse, identifier,
    label_ranges, page_labels, write_outline,
};
pub use pdf::{Stamp, StampAlign, StampFont, pleading_page_number};

/// Assembly failed: a rendered PDF could not be read, or a file not written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AssembleError {
    #[error("cannot read rendered PDF {name}: {message}")]
    Read { name: String, message: String },
    #[error("cannot assemble {name}")]
    Write {
        name: String,
        #[source]
        source: io::Error,
    },
}

/// A rendered chunk: the PDF, the printed page number of each page, and what to stamp on each
/// page (empty: nothing on any page).
pub struct RenderedChunk {
    pub name: String,
    pub pdf: Vec<u8>,
    pub page_numbers: Vec<u64>,
    pub stamps: Vec<Vec<Stamp>>,
}

impl RenderedChunk {
    /// Pleading paper whose footers leave the page number to the assembler: each page gets its
    /// printed number.
    #[must_use]
    pub fn with_pleading_page_numbers(mut self) -> RenderedChunk {
        self.stamps = self
            .page_numbers
            .iter()
            .map(|&number| vec![pleading_page_number(number)])
            .collect();
        self
    }

    fn stamps_of(&self, page: usize) -> &[Stamp] {
        self.stamps.get(page).map_or(&[], Vec::as_slice)
    }
}

/// A rendered chunk parsed once, for cutting into files and appending to bundles.
pub struct ParsedChunk {
    pub chunk: RenderedChunk,
    document: Document,
    pages: Vec<ObjectId>,
    identity: PdfaIdentity,
}

impl ParsedChunk {
    pub fn parse(chunk: RenderedChunk) -> Result<ParsedChunk, AssembleError> {
        let read_error = |message: String| AssembleError::Read {
            name: chunk.name.clone(),
            message,
        };
        let document =
            Document::load_mem(&chunk.pdf).map_err(|error| read_error(error.to_string()))?;
        let pages: Vec<ObjectId> = document.get_pages().into_values().collect();
        if pages.len() != chunk.page_numbers.len() {
            return Err(read_error(format!(
                "{} pages, expected {}",
                pages.len(),
                chunk.page_numbers.len()
            )));
        }
        let identity =
            PdfaIdentity::of(&document).map_err(|error| read_error(error.to_string()))?;
        Ok(ParsedChunk {
            chunk,
            document,
            pages,
            identity,
        })
    }

    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// The PDF bytes are not needed once parsed; drop them to save memory.
    pub fn release_bytes(&mut self) {
        self.chunk.pdf = Vec::new();
    }
}

/// One document to cut out of a chunk.
pub struct Piece {
    /// Title (metadata) of the file.
    pub title: String,
    /// 0-based first page in the chunk, and one past the last.
    pub pages: Range<usize>,
    /// Bookmarks: (title, 0-based page within the piece).
    pub bookmarks: Vec<(String, usize)>,
}

/// Cuts documents out of a chunk, each a standalone PDF/A-2b file.
pub fn split(parsed: &ParsedChunk, pieces: &[Piece]) -> Result<Vec<Vec<u8>>, AssembleError> {
    pieces
        .iter()
        .map(|piece| {
            write_piece(parsed, piece).map_err(|source| AssembleError::Write {
                name: piece.title.clone(),
                source,
            })
        })
        .collect()
}

fn write_piece(parsed: &ParsedChunk, piece: &Piece) -> io::Result<Vec<u8>> {
    let mut writer = PdfWriter::new(Vec::with_capacity(64 * 1024))?;
    let mut copier = Copier::new(&parsed.document);
    let pages_root = writer.reserve();
    let mut kids = Vec::new();
    for index in piece.pages.clone() {
        kids.push(copier.copy_page(
            parsed.pages[index],
            pages_root,
            parsed.chunk.stamps_of(index),
            None,
            &mut writer,
        )?);
    }
    let labels = label_ranges(&parsed.chunk.page_numbers[piece.pages.clone()], 0);
    let bookmarks: Vec<Bookmark> = piece
        .bookmarks
        .iter()
        .filter(|(_, page)| *page < kids.len())
        .map(|(title, page)| Bookmark {
            title: title.clone(),
            page: kids[*page],
            children: Vec::new(),
        })
        .collect();
    let intents = copier.rewrite(&parsed.identity.output_intents, &mut writer);
    copier.flush(&mut writer)?;
    let document_id = identifier(format!("{}/{}", piece.title, piece.pages.len()).as_bytes());
    finish(
        writer,
        &parsed.identity,
        FinishParts {
            pages_root,
            kids,
            labels,
            bookmarks,
            output_intents: intents,
            title: &piece.title,
            document_id,
        },
    )
}

struct FinishParts<'a> {
    pages_root: ObjectId,
    kids: Vec<ObjectId>,
    labels: Vec<LabelRange>,
    bookmarks: Vec<Bookmark>,
    /// Already copied into the output.
    output_intents: Object,
    title: &'a str,
    document_id: String,
}

/// Writes the page tree, outline, metadata, catalog and trailer.
fn finish<W: Write>(
    mut writer: PdfWriter<W>,
    identity: &PdfaIdentity,
    parts: FinishParts<'_>,
) -> io::Result<W> {
    let mut tree = lopdf::Dictionary::new();
    tree.set("Type", Object::Name(b"Pages".to_vec()));
    tree.set("Count", Object::Integer(parts.kids.len() as i64));
    tree.set(
        "Kids",
        Object::Array(
            parts
                .kids
                .iter()
                .map(|&kid| Object::Reference(kid))
                .collect(),
        ),
    );
    writer.write(parts.pages_root, &Object::Dictionary(tree))?;

    let metadata_id = writer.reserve();
    let xmp = identity.xmp_for(parts.title, parts.kids.len(), &parts.document_id);
    let mut metadata = lopdf::Stream::new(lopdf::Dictionary::new(), xmp.into_bytes());
    metadata
        .dict
        .set("Type", Object::Name(b"Metadata".to_vec()));
    metadata.dict.set("Subtype", Object::Name(b"XML".to_vec()));
    metadata.allows_compression = false;
    writer.write(metadata_id, &Object::Stream(metadata))?;
    let info_id = writer.reserve();
    writer.write(info_id, &Object::Dictionary(identity.info_for(parts.title)))?;

    let mut catalog = lopdf::Dictionary::new();
    catalog.set("Type", Object::Name(b"Catalog".to_vec()));
    catalog.set("Pages", Object::Reference(parts.pages_root));
    catalog.set("Metadata", Object::Reference(metadata_id));
    catalog.set("OutputIntents", parts.output_intents);
    catalog.set(
        "Lang",
        Object::String(b"en".to_vec(), lopdf::StringFormat::Literal),
    );
    if !parts.labels.is_empty() {
        catalog.set("PageLabels", page_labels(&parts.labels));
    }
    if !parts.bookmarks.is_empty() {
        let outline = write_outline(&mut writer, &parts.bookmarks)?;
        catalog.set("Outlines", Object::Reference(outline));
        catalog.set("PageMode", Object::Name(b"UseOutlines".to_vec()));
    }
    let mut preferences = lopdf::Dictionary::new();
    preferences.set("DisplayDocTitle", Object::Boolean(true));
    catalog.set("ViewerPreferences", Object::Dictionary(preferences));
    let root = writer.reserve();
    writer.write(root, &Object::Dictionary(catalog))?;
    let document_id = parts.document_id.into_bytes();
    writer.finish(root, info_id, [document_id.clone(), document_id])
}

/// One document in a bundle: its bookmark (with children) and page range within its chunk.
#[derive(Clone, Debug)]
pub struct BundleEntry {
    pub bookmark: String,
    /// (title, 0-based page within the entry) for nested bookmarks.
    pub children: Vec<(String, usize)>,
    pub pages: Range<usize>,
}

/// How the pages appended to a bundle are labelled in a viewer's page box.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageLabelStyle {
    /// The numbers printed on the pages (a new range wherever they restart).
    Printed,
    /// i, ii, iii: front matter such as an index.
    Roman,
    /// One name for every page, such as "Cover".
    Named(String),
    /// Carry on from the pages before (1, 2, 3 from the start of the file when nothing is
    /// labelled): for pages that print no number, such as letters.
    Sequential,
    /// The page's number in the bundle's body (1 for its first appended page), stamped on the
    /// page as "Packet page N" and used as its label: what the bundle's index cites.
    BundlePages,
}

/// Streams chunks into one bundle file.
pub struct BundleWriter<'f, W: Write> {
    name: String,
    writer: PdfWriter<W>,
    pages_root: ObjectId,
    kids: Vec<ObjectId>,
    labels: Vec<LabelRange>,
    bookmarks: Vec<Bookmark>,
    identity: Option<(PdfaIdentity, Object)>,
    stamp_font: Option<StampFontUse<'f>>,
}

impl<'f, W: Write> BundleWriter<'f, W> {
    /// A bundle; `stamp_font` is used for stamps the pages' own fonts cannot show.
    pub fn new(
        name: &str,
        out: W,
        stamp_font: Option<&'f StampFont>,
    ) -> Result<BundleWriter<'f, W>, AssembleError> {
        let mut writer = PdfWriter::new(out).map_err(|source| AssembleError::Write {
            name: name.to_string(),
            source,
        })?;
        let pages_root = writer.reserve();
        Ok(BundleWriter {
            name: name.to_string(),
            writer,
            pages_root,
            kids: Vec::new(),
            labels: Vec::new(),
            bookmarks: Vec::new(),
            identity: None,
            stamp_font: stamp_font.map(|font| StampFontUse { font, copied: None }),
        })
    }

    /// Pages written so far.
    pub fn page_count(&self) -> usize {
        self.kids.len()
    }

    /// Appends all pages of a chunk. `entries` bookmark documents within it.
    pub fn append(
        &mut self,
        parsed: &ParsedChunk,
        entries: &[BundleEntry],
        labels: PageLabelStyle,
    ) -> Result<(), AssembleError> {
        self.append_pages(parsed, 0..parsed.page_count(), entries, labels)
    }

    /// Appends pages `range` of a chunk; `entries` are relative to the start of the range.
    pub fn append_pages(
        &mut self,
        parsed: &ParsedChunk,
        range: Range<usize>,
        entries: &[BundleEntry],
        labels: PageLabelStyle,
    ) -> Result<(), AssembleError> {
        let offset = self.kids.len();
        self.write_pages(parsed, range.clone(), labels == PageLabelStyle::BundlePages)?;
        self.label_and_bookmark(parsed, range, offset, entries, labels);
        Ok(())
    }

    /// Puts all pages of `parts` before every page written so far (an index whose page
    /// numbers were known only at the end), under one bookmark. Labels and bookmarks of the
    /// earlier pages move up.
    pub fn prepend(
        &mut self,
        parts: &[ParsedChunk],
        bookmark: &str,
        labels: PageLabelStyle,
    ) -> Result<(), AssembleError> {
        let before = self.kids.len();
        let earlier_labels = std::mem::take(&mut self.labels);
        let earlier_bookmarks = std::mem::take(&mut self.bookmarks);
        for part in parts {
            self.write_pages(part, 0..part.page_count(), false)?;
        }
        let added = self.kids.len() - before;
        self.kids.rotate_right(added);
        let first = parts
            .first()
            .map(ParsedChunk::page_count)
            .unwrap_or_default();
        if let Some(part) = parts.first() {
            let entry = BundleEntry {
                bookmark: bookmark.to_string(),
                children: Vec::new(),
                pages: 0..first,
            };
            self.label_and_bookmark(part, 0..first, 0, &[entry], labels);
        }
        self.labels
            .extend(earlier_labels.into_iter().map(|mut range| {
                range.start += added;
                range
            }));
        self.bookmarks.extend(earlier_bookmarks);
        Ok(())
    }

    fn write_pages(
        &mut self,
        parsed: &ParsedChunk,
        range: Range<usize>,
        stamp_bundle_pages: bool,
    ) -> Result<(), AssembleError> {
        let write_error = |source| AssembleError::Write {
            name: self.name.clone(),
            source,
        };
        if range.end > parsed.pages.len() {
            return Err(AssembleError::Read {
                name: parsed.chunk.name.clone(),
                message: format!("pages {range:?} asked of {} pages", parsed.pages.len()),
            });
        }
        let mut copier = Copier::new(&parsed.document);
        if self.identity.is_none() {
            // The output intent is copied once, from the first chunk.
            let intents = copier.rewrite(&parsed.identity.output_intents, &mut self.writer);
            copier.flush(&mut self.writer).map_err(write_error)?;
            self.identity = Some((parsed.identity.clone(), intents));
        }
        for index in range {
            let own = parsed.chunk.stamps_of(index);
            // Copied only when the bundle numbers its pages: most pages take their own stamps.
            let with_bundle_number;
            let stamps = if stamp_bundle_pages {
                with_bundle_number =
                    [own, &[pdf::bundle_page_number(self.kids.len() as u64 + 1)]].concat();
                &with_bundle_number[..]
            } else {
                own
            };
            let kid = copier
                .copy_page(
                    parsed.pages[index],
                    self.pages_root,
                    stamps,
                    self.stamp_font.as_mut(),
                    &mut self.writer,
                )
                .map_err(|source| AssembleError::Write {
                    name: self.name.clone(),
                    source,
                })?;
            self.kids.push(kid);
        }
        Ok(())
    }

    /// Adds a label range, unless it only continues the decimal range before (it adds nothing).
    fn push_label(&mut self, label: LabelRange) {
        let continues = self.labels.last().is_some_and(|last| {
            last.numbering == LabelNumbering::Decimal
                && last.prefix.is_none()
                && last.first + (label.start - last.start) as u64 == label.first
        });
        if !continues {
            self.labels.push(label);
        }
    }

    /// Labels and bookmarks for pages `range` of a chunk, written at `offset` in the bundle.
    fn label_and_bookmark(
        &mut self,
        parsed: &ParsedChunk,
        range: Range<usize>,
        offset: usize,
        entries: &[BundleEntry],
        labels: PageLabelStyle,
    ) {
        match labels {
            PageLabelStyle::Printed => {
                for label in label_ranges(&parsed.chunk.page_numbers[range.clone()], offset) {
                    self.push_label(label);
                }
            }
            PageLabelStyle::Roman => self.labels.push(LabelRange {
                start: offset,
                first: 1,
                numbering: LabelNumbering::Roman,
                prefix: None,
            }),
            PageLabelStyle::Named(name) => self.labels.push(LabelRange {
                start: offset,
                first: 1,
                numbering: LabelNumbering::None,
                prefix: Some(name),
            }),
            PageLabelStyle::Sequential => {}
            PageLabelStyle::BundlePages => self.push_label(LabelRange {
                start: offset,
                first: offset as u64 + 1,
                numbering: LabelNumbering::Decimal,
                prefix: None,
            }),
        }
        let appended = range.len();
        for entry in entries {
            if entry.pages.start >= appended {
                continue;
            }
            let page_at = |index: usize| self.kids[offset + entry.pages.start + index];
            self.bookmarks.push(Bookmark {
                title: entry.bookmark.clone(),
                page: page_at(0),
                children: entry
                    .children
                    .iter()
                    .filter(|(_, page)| entry.pages.start + page < appended)
                    .map(|(title, page)| Bookmark {
                        title: title.clone(),
                        page: page_at(*page),
                        children: Vec::new(),
                    })
                    .collect(),
            });
        }
    }

    /// Writes the page tree, outline and metadata; returns the sink.
    pub fn finish(self, title: &str) -> Result<W, AssembleError> {
        let name = self.name.clone();
        let Some((identity, output_intents)) = self.identity else {
            return Err(AssembleError::Read {
                name,
                message: "a bundle needs at least one part".into(),
            });
        };
        let document_id = identifier(format!("{title}/{}", self.kids.len()).as_bytes());
        finish(
            self.writer,
            &identity,
            FinishParts {
                pages_root: self.pages_root,
                kids: self.kids,
                labels: self.labels,
                bookmarks: self.bookmarks,
                output_intents,
                title,
                document_id,
            },
        )
        .map_err(|source| AssembleError::Write { name, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Date;
    use crate::render::{PdfSettings, Renderer, Templates};

    /// A chunk of `entries` packets-index rows (36 to a page), rendered for real.
    fn chunk(renderer: &Renderer, name: &str, entries: usize) -> ParsedChunk {
        let rows: Vec<serde_json::Value> = (0..entries)
            .map(|index| {
                serde_json::json!({"case_numbers": format!("SCN{index}"), "defendant": "A B",
                    "counts": 1, "page": index + 1})
            })
            .collect();
        let pages: Vec<&[serde_json::Value]> = rows.chunks(36).collect();
        let data = serde_json::json!({"title": "t", "subtitle": "s", "agency": "a",
            "columns": ["Case", "Defendant", "Counts", "Page"], "first": true, "pages": pages});
        let (pdf, count) = renderer
            .render(
                "packets-index.typ",
                &serde_json::to_vec(&data).unwrap(),
                &PdfSettings::untagged(name.to_string()),
            )
            .expect("render");
        ParsedChunk::parse(RenderedChunk {
            name: name.into(),
            pdf,
            page_numbers: (1..=count as u64).collect(),
            stamps: Vec::new(),
        })
        .expect("parse")
    }

    fn labels(pdf: &[u8]) -> Vec<(i64, Vec<u8>, i64)> {
        let document = Document::load_mem(pdf).unwrap();
        let catalog = document.catalog().unwrap();
        let labels = catalog.get(b"PageLabels").unwrap();
        let labels = match labels {
            Object::Reference(id) => document.get_dictionary(*id).unwrap(),
            Object::Dictionary(dictionary) => dictionary,
            _ => panic!("page labels"),
        };
        labels
            .get(b"Nums")
            .unwrap()
            .as_array()
            .unwrap()
            .chunks(2)
            .map(|pair| {
                let label = match &pair[1] {
                    Object::Reference(id) => document.get_dictionary(*id).unwrap(),
                    Object::Dictionary(dictionary) => dictionary,
                    _ => panic!("label"),
                };
                (
                    pair[0].as_i64().unwrap(),
                    label.get(b"S").unwrap().as_name().unwrap().to_vec(),
                    label.get(b"St").map_or(1, |first| first.as_i64().unwrap()),
                )
            })
            .collect()
    }

    /// Bundle pages: labelled 1, 2, 3 through every appended chunk, after a roman front matter
    /// that is prepended at the end; bookmarks follow the pages they point at.
    #[test]
    fn bundle_pages_run_on_through_chunks_after_a_prepended_index() {
        let renderer = Renderer::new(&Templates::built_in(), Date::from_ymd_const(2020, 7, 1))
            .expect("renderer");
        let stamp_font = renderer.stamp_font().expect("stamp font");
        let first = chunk(&renderer, "first", 1);
        let second = chunk(&renderer, "second", 40);
        let front = chunk(&renderer, "front", 1);
        let mut out = Vec::new();
        let mut writer = BundleWriter::new("test", &mut out, Some(&stamp_font)).unwrap();
        let entry = |bookmark: &str, pages: Range<usize>| BundleEntry {
            bookmark: bookmark.into(),
            children: Vec::new(),
            pages,
        };
        writer
            .append(&first, &[entry("first", 0..1)], PageLabelStyle::BundlePages)
            .unwrap();
        writer
            .append(
                &second,
                &[entry("second", 0..2)],
                PageLabelStyle::BundlePages,
            )
            .unwrap();
        assert_eq!(writer.page_count(), 3);
        writer
            .prepend(&[front], "Index", PageLabelStyle::Roman)
            .unwrap();
        writer.finish("bundle").unwrap();
        assert_eq!(
            labels(&out),
            [(0, b"r".to_vec(), 1), (1, b"D".to_vec(), 1)],
            "roman front matter, then 1, 2, 3 with no restart at the second chunk"
        );
        let document = Document::load_mem(&out).unwrap();
        assert_eq!(document.get_pages().len(), 4);
    }

    /// Printed numbers: a new label range wherever the numbers restart, none where they run on.
    #[test]
    fn printed_labels_restart_with_each_paper_and_run_on_otherwise() {
        let renderer = Renderer::new(&Templates::built_in(), Date::from_ymd_const(2020, 7, 1))
            .expect("renderer");
        let paper = chunk(&renderer, "paper", 40);
        let mut out = Vec::new();
        let mut writer = BundleWriter::new("test", &mut out, None).unwrap();
        writer.append(&paper, &[], PageLabelStyle::Printed).unwrap();
        writer.append(&paper, &[], PageLabelStyle::Printed).unwrap();
        writer.finish("bundle").unwrap();
        assert_eq!(
            labels(&out),
            [(0, b"D".to_vec(), 1), (2, b"D".to_vec(), 1)],
            "pages 1-2, then 1-2 again"
        );
    }
}

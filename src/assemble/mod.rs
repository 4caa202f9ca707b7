//! Assemble: rendered PDFs → the files people use, with lopdf.
//!
//! Documents are rendered in chunks (many papers per typst compile, which is several times
//! faster than one compile per paper and shares font subsets). Assembly then
//! - cuts each document of a chunk out into its own file ([`split`]): the pages and everything
//!   they use, page labels equal to the printed page numbers, bookmarks, and the PDF/A-2b
//!   identification (XMP metadata, output intent) carried over with the document's own title;
//! - streams chunks into one bundle ([`BundleWriter`]) with a bookmark per document and page
//!   labels, holding one chunk in memory at a time.
//!
//! Assembled files are untagged PDF/A-2b: every font stays embedded and the metadata and output
//! intent are kept; structure trees are not merged.

mod pdf;

use std::io::{self, Write};

use lopdf::{Dictionary, Document, Object, ObjectId};
pub(crate) use pdf::Bookmark;
use pdf::{
    Copier, LabelNumbering, LabelRange, PLEADING_PAGE_NUMBER, PdfWriter, PdfaIdentity, identifier,
    label_ranges, page_labels, write_outline,
};

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

/// A rendered chunk: the PDF and the printed page number of each of its pages.
pub struct RenderedChunk {
    pub name: String,
    pub pdf: Vec<u8>,
    pub page_numbers: Vec<u64>,
    /// The pages are pleading paper whose footers leave the page number to the assembler.
    pub pleading_page_numbers: bool,
}

/// One document to cut out of a chunk.
pub struct Piece {
    /// Title (metadata) of the file.
    pub title: String,
    /// 0-based first page in the chunk, and one past the last.
    pub pages: std::ops::Range<usize>,
    /// Bookmarks: (title, 0-based page within the piece).
    pub bookmarks: Vec<(String, usize)>,
}

fn load(chunk: &RenderedChunk) -> Result<(Document, Vec<ObjectId>), AssembleError> {
    let document = Document::load_mem(&chunk.pdf).map_err(|error| AssembleError::Read {
        name: chunk.name.clone(),
        message: error.to_string(),
    })?;
    let pages: Vec<ObjectId> = document.get_pages().into_values().collect();
    if pages.len() != chunk.page_numbers.len() {
        return Err(AssembleError::Read {
            name: chunk.name.clone(),
            message: format!(
                "{} pages, expected {}",
                pages.len(),
                chunk.page_numbers.len()
            ),
        });
    }
    Ok((document, pages))
}

/// Cuts documents out of a chunk, each a standalone PDF/A-2b file.
pub fn split(chunk: &RenderedChunk, pieces: &[Piece]) -> Result<Vec<Vec<u8>>, AssembleError> {
    let (document, pages) = load(chunk)?;
    let identity = PdfaIdentity::of(&document).map_err(|error| AssembleError::Read {
        name: chunk.name.clone(),
        message: error.to_string(),
    })?;
    pieces
        .iter()
        .map(|piece| {
            write_piece(&document, &identity, &pages, chunk, piece).map_err(|source| {
                AssembleError::Write {
                    name: piece.title.clone(),
                    source,
                }
            })
        })
        .collect()
}

fn write_piece(
    document: &Document,
    identity: &PdfaIdentity,
    pages: &[ObjectId],
    chunk: &RenderedChunk,
    piece: &Piece,
) -> io::Result<Vec<u8>> {
    let mut writer = PdfWriter::new(Vec::with_capacity(64 * 1024))?;
    let mut copier = Copier::new(document);
    let pages_root = writer.reserve();
    let mut kids = Vec::new();
    for index in piece.pages.clone() {
        let number = chunk
            .pleading_page_numbers
            .then(|| (chunk.page_numbers[index], &PLEADING_PAGE_NUMBER));
        kids.push(copier.copy_page(pages[index], pages_root, number, &mut writer)?);
    }
    let labels = label_ranges(&chunk.page_numbers[piece.pages.clone()], 0);
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
    let document_id = identifier(format!("{}/{}", piece.title, piece.pages.len()).as_bytes());
    finish(
        writer,
        &mut copier,
        identity,
        FinishParts {
            pages_root,
            kids,
            labels,
            bookmarks,
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
    title: &'a str,
    document_id: String,
}

/// Writes the page tree, outline, metadata, catalog and trailer.
fn finish<W: Write>(
    mut writer: PdfWriter<W>,
    copier: &mut Copier<'_>,
    identity: &PdfaIdentity,
    parts: FinishParts<'_>,
) -> io::Result<W> {
    let mut tree = Dictionary::new();
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

    let intents = copier.rewrite(&identity.output_intents, &mut writer);
    copier.flush(&mut writer)?;
    let metadata_id = writer.reserve();
    let xmp = identity.xmp_for(parts.title, parts.kids.len(), &parts.document_id);
    let mut metadata = lopdf::Stream::new(Dictionary::new(), xmp.into_bytes());
    metadata
        .dict
        .set("Type", Object::Name(b"Metadata".to_vec()));
    metadata.dict.set("Subtype", Object::Name(b"XML".to_vec()));
    metadata.allows_compression = false;
    writer.write(metadata_id, &Object::Stream(metadata))?;
    let info_id = writer.reserve();
    writer.write(info_id, &Object::Dictionary(identity.info_for(parts.title)))?;

    let mut catalog = Dictionary::new();
    catalog.set("Type", Object::Name(b"Catalog".to_vec()));
    catalog.set("Pages", Object::Reference(parts.pages_root));
    catalog.set("Metadata", Object::Reference(metadata_id));
    catalog.set("OutputIntents", intents);
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
    let mut preferences = Dictionary::new();
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
    pub pages: std::ops::Range<usize>,
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
}

/// Streams chunks into one bundle file.
pub struct BundleWriter<W: Write> {
    name: String,
    writer: PdfWriter<W>,
    pages_root: ObjectId,
    kids: Vec<ObjectId>,
    labels: Vec<LabelRange>,
    bookmarks: Vec<Bookmark>,
    identity: Option<(PdfaIdentity, Vec<u8>)>,
}

impl<W: Write> BundleWriter<W> {
    pub fn new(name: &str, out: W) -> Result<BundleWriter<W>, AssembleError> {
        let write_error = |source| AssembleError::Write {
            name: name.to_string(),
            source,
        };
        let mut writer = PdfWriter::new(out).map_err(write_error)?;
        let pages_root = writer.reserve();
        Ok(BundleWriter {
            name: name.to_string(),
            writer,
            pages_root,
            kids: Vec::new(),
            labels: Vec::new(),
            bookmarks: Vec::new(),
            identity: None,
        })
    }

    /// Pages written so far.
    pub fn page_count(&self) -> usize {
        self.kids.len()
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.writer.position()
    }

    /// Appends a chunk's pages. `entries` bookmark documents within it.
    pub fn append(
        &mut self,
        chunk: &RenderedChunk,
        entries: &[BundleEntry],
        labels: PageLabelStyle,
    ) -> Result<(), AssembleError> {
        self.append_pages(chunk, 0..chunk.page_numbers.len(), entries, labels)
    }

    /// Appends pages `range` of a chunk; `entries` are relative to the start of the range.
    pub fn append_pages(
        &mut self,
        chunk: &RenderedChunk,
        range: std::ops::Range<usize>,
        entries: &[BundleEntry],
        labels: PageLabelStyle,
    ) -> Result<(), AssembleError> {
        let (document, pages) = load(chunk)?;
        let write_error = |source| AssembleError::Write {
            name: self.name.clone(),
            source,
        };
        if range.end > pages.len() {
            return Err(AssembleError::Read {
                name: chunk.name.clone(),
                message: format!("pages {range:?} asked of {} pages", pages.len()),
            });
        }
        if self.identity.is_none() {
            let identity = PdfaIdentity::of(&document).map_err(|error| AssembleError::Read {
                name: chunk.name.clone(),
                message: error.to_string(),
            })?;
            self.identity = Some((identity, chunk.pdf.clone()));
        }
        let offset = self.kids.len();
        let mut copier = Copier::new(&document);
        for index in range.clone() {
            let number = chunk
                .pleading_page_numbers
                .then(|| (chunk.page_numbers[index], &PLEADING_PAGE_NUMBER));
            let kid = copier
                .copy_page(pages[index], self.pages_root, number, &mut self.writer)
                .map_err(write_error)?;
            self.kids.push(kid);
        }
        match labels {
            PageLabelStyle::Printed => self
                .labels
                .extend(label_ranges(&chunk.page_numbers[range.clone()], offset)),
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
        Ok(())
    }

    /// Writes the page tree, outline and metadata; returns the sink.
    pub fn finish(self, title: &str) -> Result<W, AssembleError> {
        let name = self.name.clone();
        let write_error = |source| AssembleError::Write {
            name: name.clone(),
            source,
        };
        let Some((identity, first_chunk)) = self.identity else {
            return Err(AssembleError::Read {
                name,
                message: "a bundle needs at least one part".into(),
            });
        };
        // The output intent's objects are copied from the first chunk once more.
        let source = Document::load_mem(&first_chunk).map_err(|error| AssembleError::Read {
            name: name.clone(),
            message: error.to_string(),
        })?;
        let mut copier = Copier::new(&source);
        let document_id = identifier(format!("{title}/{}", self.kids.len()).as_bytes());
        finish(
            self.writer,
            &mut copier,
            &identity,
            FinishParts {
                pages_root: self.pages_root,
                kids: self.kids,
                labels: self.labels,
                bookmarks: self.bookmarks,
                title,
                document_id,
            },
        )
        .map_err(write_error)
    }
}

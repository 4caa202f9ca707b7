//! The typst `World` clearance compiles in: in-memory template sources, fonts loaded once and
//! shared by every thread, no packages, no file system, no network, a pinned date.
//!
//! Each document is compiled by a cheap [`DocumentWorld`] view: the constant layout template is
//! the main file and the document's data is the virtual file `/data.json`, read by the template
//! with `json("/data.json")`. Data is never parsed as Typst code, so no value can inject markup.
//! The same few virtual paths are reused for every document: typst interns file ids forever.

use std::collections::HashMap;

use typst::diag::{FileError, FileResult, PackageError};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

/// The virtual path of a document's data.
pub(super) const DATA_PATH: &str = "/data.json";

/// Interns a virtual path of the project root.
pub(super) fn virtual_file(path: &str) -> FileId {
    let virtual_path = VirtualPath::new(path).expect("template paths are valid virtual paths");
    RootedPath::new(VirtualRoot::Project, virtual_path).intern()
}

/// State shared by every document: built once, read by all threads.
pub(super) struct SharedWorld {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
    sources: HashMap<FileId, Source>,
    today: Datetime,
}

impl SharedWorld {
    /// `sources`: (virtual path, text) of every Typst template; `fonts`: font file bytes.
    pub(super) fn new(
        sources: &[(String, String)],
        font_files: Vec<Vec<u8>>,
        today: Datetime,
    ) -> SharedWorld {
        let mut fonts = Vec::new();
        for data in font_files {
            fonts.extend(Font::iter(Bytes::new(data)));
        }
        let book = LazyHash::new(FontBook::from_fonts(&fonts));
        let sources = sources
            .iter()
            .map(|(path, text)| {
                let id = virtual_file(path);
                (id, Source::new(id, text.clone()))
            })
            .collect();
        SharedWorld {
            library: LazyHash::new(Library::default()),
            book,
            fonts,
            sources,
            today,
        }
    }

    pub(super) fn source(&self, id: FileId) -> Option<&Source> {
        self.sources.get(&id)
    }
}

/// One document: a template and its data, over the shared state.
pub(super) struct DocumentWorld<'a> {
    shared: &'a SharedWorld,
    main: FileId,
    data_id: FileId,
    data: Bytes,
}

impl<'a> DocumentWorld<'a> {
    pub(super) fn new(shared: &'a SharedWorld, main: FileId, data: Vec<u8>) -> DocumentWorld<'a> {
        DocumentWorld {
            shared,
            main,
            data_id: virtual_file(DATA_PATH),
            data: Bytes::new(data),
        }
    }
}

fn packages_disabled(id: FileId) -> FileError {
    match id.root() {
        VirtualRoot::Package(spec) => FileError::Package(PackageError::Other(Some(
            format!("packages are disabled in clearance ({spec})").into(),
        ))),
        VirtualRoot::Project => FileError::NotFound(id.vpath().get_with_slash().into()),
    }
}

impl World for DocumentWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &self.shared.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.shared.book
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        self.shared
            .sources
            .get(&id)
            .cloned()
            .ok_or_else(|| packages_disabled(id))
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.data_id {
            return Ok(self.data.clone());
        }
        match self.shared.sources.get(&id) {
            Some(source) => Ok(Bytes::from_string(source.clone())),
            None => Err(packages_disabled(id)),
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.shared.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        Some(self.shared.today)
    }
}

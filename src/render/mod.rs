//! Render: document data → PDF, in process, with typst. The only module that touches typst.
//!
//! Layout templates (`templates/*.typ`, `templates/lib/*.typ`) are constant Typst files that read
//! the document's data from the virtual file `/data.json`; values are data, never code, so a name
//! like `#set page(width: 1pt)` prints as itself. Wording an office edits (`templates/wording/
//! *.hbs`) is handlebars in strict mode rendered to plain strings that go into that JSON, never
//! into Typst markup. Templates are built into the binary and can be overridden file by file from
//! a folder (`--templates DIR`). Fonts are the ones shipped in `fonts/`, built in.
//!
//! Every PDF is PDF/A-2b (a glyph missing from the fonts is an error, not a blank), with a fixed
//! identifier and timestamp, so the same data gives the same bytes. typst's memo cache is evicted
//! once after every document so memory stays flat over thousands of documents. typst
//! parallelises inside a compile with rayon: compile on a rayon pool's threads, one document per
//! thread at a time (`parallel::map`, the service's paper threads), never under an outer
//! `par_iter`, which can nest whole compiles on one stack.

pub mod documents;
pub mod hinting;
mod world;

use std::path::{Path, PathBuf};

use typst::WorldExt;
use typst::diag::{Severity, SourceDiagnostic};
use typst::foundations::{Datetime, Smart};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};
use world::{DocumentWorld, SharedWorld, virtual_file};

use crate::model::Date;

/// How many evictions a memo cache entry survives unused. typst's memo cache is global, so with
/// several rendering threads every document ages every other thread's entries too. Evicting once
/// per document, after its export, with age 2 keeps peak memory well under 500 MB on a 10,000-case
/// run; evicting after compile as well made the same run ~20% slower (entries the next
/// document would reuse were thrown away), and larger ages cost memory without a measurable gain.
const MEMO_CACHE_MAX_AGE: usize = 2;

/// Whether the next word of a paragraph goes on the same line as the text so far: a citation
/// never breaks between a section sign or "subd." and what follows ("§ 11361.9", "(§§ 11361.8",
/// "subd. (f)", "(subds. (b)").
fn joins_next_word(text: &str) -> bool {
    let last_word = text
        .rsplit([' ', '\u{a0}'])
        .next()
        .unwrap_or_default()
        .trim_start_matches(['(', '[']);
    last_word.ends_with('§')
        || ["subd.", "subds."]
            .iter()
            .any(|abbreviation| last_word.eq_ignore_ascii_case(abbreviation))
}

/// Appends `word` to `text`: after a space, or after a no-break space where a citation must
/// not break ([`joins_next_word`]).
fn push_word(text: &mut String, word: &str) {
    if joins_next_word(text) {
        text.push('\u{a0}');
    } else if !text.is_empty() {
        text.push(' ');
    }
    text.push_str(word);
}

/// `text` with a no-break space wherever a citation must not break ("§ 11361.9", "subd. (f)"),
/// for text made in code rather than by a wording template (captions, the deadline notes).
pub fn keep_citations_together(text: &str) -> String {
    let mut kept = String::with_capacity(text.len());
    for word in text.split(' ') {
        push_word(&mut kept, word);
    }
    kept
}

/// A rendering problem, located in the template (file and line) where possible.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    #[error("{template}:{line}:{column}: {message}")]
    Template {
        template: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{template}: {message}")]
    Document { template: String, message: String },
    #[error("wording template {template}: {message}")]
    Wording { template: String, message: String },
    #[error("cannot read template {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("unknown template {name}")]
    UnknownTemplate { name: String },
}

/// The built-in templates, in `templates/`.
const BUILT_IN_TEMPLATES: &[(&str, &str)] = &[
    (
        "lib/pleading.typ",
        include_str!("../../templates/lib/pleading.typ"),
    ),
    ("case.typ", include_str!("../../templates/case.typ")),
    (
        "packets-index.typ",
        include_str!("../../templates/packets-index.typ"),
    ),
    ("omnibus.typ", include_str!("../../templates/omnibus.typ")),
    ("letter.typ", include_str!("../../templates/letter.typ")),
    ("summary.typ", include_str!("../../templates/summary.typ")),
    ("cover.typ", include_str!("../../templates/cover.typ")),
    (
        "review-list.typ",
        include_str!("../../templates/review-list.typ"),
    ),
    (
        "challenge.typ",
        include_str!("../../templates/challenge.typ"),
    ),
    ("sealing.typ", include_str!("../../templates/sealing.typ")),
    (
        "challenge-case.typ",
        include_str!("../../templates/challenge-case.typ"),
    ),
    (
        "wording/case-intro.hbs",
        include_str!("../../templates/wording/case-intro.hbs"),
    ),
    (
        "wording/case-request.hbs",
        include_str!("../../templates/wording/case-request.hbs"),
    ),
    (
        "wording/case-findings.hbs",
        include_str!("../../templates/wording/case-findings.hbs"),
    ),
    (
        "wording/case-decrees.hbs",
        include_str!("../../templates/wording/case-decrees.hbs"),
    ),
    (
        "wording/omnibus-motion.hbs",
        include_str!("../../templates/wording/omnibus-motion.hbs"),
    ),
    (
        "wording/omnibus-request.hbs",
        include_str!("../../templates/wording/omnibus-request.hbs"),
    ),
    (
        "wording/omnibus-findings.hbs",
        include_str!("../../templates/wording/omnibus-findings.hbs"),
    ),
    (
        "wording/omnibus-decrees.hbs",
        include_str!("../../templates/wording/omnibus-decrees.hbs"),
    ),
    (
        "wording/letter-headline.hbs",
        include_str!("../../templates/wording/letter-headline.hbs"),
    ),
    (
        "wording/letter-en.hbs",
        include_str!("../../templates/wording/letter-en.hbs"),
    ),
    (
        "wording/letter-es.hbs",
        include_str!("../../templates/wording/letter-es.hbs"),
    ),
    (
        "wording/challenge.hbs",
        include_str!("../../templates/wording/challenge.hbs"),
    ),
    (
        "wording/challenge-case.hbs",
        include_str!("../../templates/wording/challenge-case.hbs"),
    ),
    (
        "wording/sealing-application.hbs",
        include_str!("../../templates/wording/sealing-application.hbs"),
    ),
    (
        "wording/sealing-declaration.hbs",
        include_str!("../../templates/wording/sealing-declaration.hbs"),
    ),
    (
        "wording/sealing-order.hbs",
        include_str!("../../templates/wording/sealing-order.hbs"),
    ),
    (
        "wording/proof-of-service.hbs",
        include_str!("../../templates/wording/proof-of-service.hbs"),
    ),
];

/// The built-in fonts, in `fonts/`.
const BUILT_IN_FONTS: &[&[u8]] = &[
    include_bytes!("../../fonts/LiberationSerif-Regular.ttf"),
    include_bytes!("../../fonts/LiberationSerif-Bold.ttf"),
    include_bytes!("../../fonts/LiberationSerif-Italic.ttf"),
    include_bytes!("../../fonts/LiberationSerif-BoldItalic.ttf"),
];

/// The built-in fonts as they are embedded: without their hinting (`hinting`), made once. A
/// font that cannot be read that way is kept whole.
fn embedded_fonts() -> &'static [Vec<u8>] {
    static FONTS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    FONTS.get_or_init(|| {
        BUILT_IN_FONTS
            .iter()
            .map(|font| hinting::without_hinting(font).unwrap_or_else(|_| font.to_vec()))
            .collect()
    })
}

/// The characters of `text` that some shipped font cannot draw (whitespace and control
/// characters aside), each once, in order. Data is checked with this at load, so a name no font
/// can show is reported before any rendering starts instead of failing a document at the end.
pub fn characters_no_font_can_draw(text: &str) -> Vec<char> {
    use std::sync::OnceLock;
    static COVERAGES: OnceLock<Vec<typst::text::Coverage>> = OnceLock::new();
    let coverages = COVERAGES.get_or_init(|| {
        embedded_fonts()
            .iter()
            .flat_map(|data| {
                typst::text::Font::iter(typst::foundations::Bytes::new(data.as_slice()))
            })
            .map(|font| font.info().coverage.clone())
            .collect()
    });
    let mut missing: Vec<char> = Vec::new();
    for character in text.chars() {
        if character.is_whitespace() || character.is_control() || missing.contains(&character) {
            continue;
        }
        if !coverages
            .iter()
            .all(|coverage| coverage.contains(u32::from(character)))
        {
            missing.push(character);
        }
    }
    missing
}

/// One template file and where it came from.
#[derive(Clone, Debug)]
pub struct TemplateFile {
    /// Relative path, e.g. `case.typ`, `wording/letter-en.hbs`.
    pub name: String,
    pub text: String,
    /// `None` for the built-in version.
    pub overridden_from: Option<PathBuf>,
}

/// What a template file is, by its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TemplateKind {
    /// A Typst layout (`.typ`), compiled with the data as JSON.
    Layout,
    /// Handlebars wording (`.hbs`), rendered into paragraphs of plain text.
    Wording,
    Other,
}

impl TemplateFile {
    pub fn kind(&self) -> TemplateKind {
        let extension = std::path::Path::new(&self.name)
            .extension()
            .and_then(|extension| extension.to_str());
        match extension.map(str::to_ascii_lowercase).as_deref() {
            Some("typ") => TemplateKind::Layout,
            Some("hbs") => TemplateKind::Wording,
            _ => TemplateKind::Other,
        }
    }
}

/// The templates a run uses: built in, each overridable from a folder.
#[derive(Clone, Debug)]
pub struct Templates {
    pub files: Vec<TemplateFile>,
}

impl Templates {
    /// The wording templates, registered (strict, no escaping): a syntax error is an error
    /// naming the template, line and column.
    fn wording(&self) -> Result<handlebars::Handlebars<'static>, RenderError> {
        let mut wording = handlebars::Handlebars::new();
        wording.set_strict_mode(true);
        // Wording becomes data in JSON, not HTML: no escaping, and no way to reach Typst markup.
        wording.register_escape_fn(handlebars::no_escape);
        for file in self
            .files
            .iter()
            .filter(|file| file.kind() == TemplateKind::Wording)
        {
            let name = file.name.trim_end_matches(".hbs");
            wording
                .register_template_string(name, &file.text)
                .map_err(|error| RenderError::Wording {
                    template: file.name.clone(),
                    message: error.to_string(),
                })?;
        }
        Ok(wording)
    }

    /// Checks every template's syntax before anything is read or rendered: the wording's
    /// handlebars and the layouts' Typst, each first error with its file, line and column.
    pub fn check_syntax(&self) -> Result<(), RenderError> {
        self.wording()?;
        for file in self
            .files
            .iter()
            .filter(|file| file.kind() == TemplateKind::Layout)
        {
            let source = typst::syntax::Source::detached(file.text.clone());
            let (errors, _) = source.root().errors_and_warnings();
            if let Some(error) = errors.into_iter().next() {
                let range = match error.span.get() {
                    typst::syntax::DiagSpanKind::Number { num, sub_range, .. } => {
                        source.range(num, sub_range)
                    }
                    typst::syntax::DiagSpanKind::Range { range, .. } => Some(range),
                    typst::syntax::DiagSpanKind::Detached => None,
                }
                .unwrap_or(0..0);
                let (line, column) = source
                    .lines()
                    .byte_to_line_column(range.start)
                    .unwrap_or((0, 0));
                return Err(RenderError::Template {
                    template: file.name.clone(),
                    line: line + 1,
                    column: column + 1,
                    message: error.message.to_string(),
                });
            }
        }
        Ok(())
    }

    pub fn built_in() -> Templates {
        Templates {
            files: BUILT_IN_TEMPLATES
                .iter()
                .map(|(name, text)| TemplateFile {
                    name: (*name).to_string(),
                    text: (*text).to_string(),
                    overridden_from: None,
                })
                .collect(),
        }
    }

    /// Built-in templates, with every file that exists under `directory` used instead.
    pub fn with_overrides(directory: &Path) -> Result<Templates, RenderError> {
        let mut templates = Templates::built_in();
        let read_error = |path: &Path, source| RenderError::Read {
            path: path.display().to_string(),
            source,
        };
        if !directory.is_dir() {
            return Err(read_error(
                directory,
                std::io::Error::new(std::io::ErrorKind::NotFound, "not a folder"),
            ));
        }
        // Every .typ and .hbs file under the folder, by relative path with `/` separators.
        let mut found = Vec::new();
        let mut folders = vec![directory.to_path_buf()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).map_err(|source| read_error(&folder, source))? {
                let path = entry.map_err(|source| read_error(&folder, source))?.path();
                if path.is_dir() {
                    folders.push(path);
                } else if let Ok(relative) = path.strip_prefix(directory) {
                    let name = relative
                        .components()
                        .map(|part| part.as_os_str().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join("/");
                    found.push((name, path));
                }
            }
        }
        found.sort();
        for (name, path) in found {
            let file = TemplateFile {
                name: name.clone(),
                text: String::new(),
                overridden_from: Some(path.clone()),
            };
            if file.kind() == TemplateKind::Other {
                continue;
            }
            let text =
                std::fs::read_to_string(&path).map_err(|source| read_error(&path, source))?;
            match templates.files.iter_mut().find(|known| known.name == name) {
                Some(known) => {
                    known.text = text;
                    known.overridden_from = Some(path);
                }
                // An office's own partial: a Typst file templates can import, or handlebars
                // wording usable as `{{> name}}`.
                None => templates.files.push(TemplateFile { text, ..file }),
            }
        }
        Ok(templates)
    }
}

/// PDF settings of one document.
#[derive(Clone, Debug)]
pub struct PdfSettings {
    /// Stable document identifier (hashed into the PDF's ID).
    pub ident: String,
    /// Tagged (accessible) PDF; bundles are merged untagged.
    pub tagged: bool,
}

impl PdfSettings {
    /// Settings of a document that will be assembled (bundles are merged untagged).
    pub fn untagged(ident: impl Into<String>) -> PdfSettings {
        PdfSettings {
            ident: ident.into(),
            tagged: false,
        }
    }
}

/// A compiled document, ready to export.
pub struct Compiled {
    document: PagedDocument,
}

impl Compiled {
    pub fn page_count(&self) -> usize {
        self.document.pages().len()
    }

    /// The printed (logical) page number of every page, in order.
    pub fn page_numbers(&self) -> Vec<u64> {
        self.document
            .pages()
            .iter()
            .map(|page| page.number)
            .collect()
    }

    /// The 0-based page index of every element labelled `<name>`, in document order, with the
    /// string value of its `metadata`. Templates mark where each paper starts this way.
    pub fn labelled_pages(&self, name: &str) -> Vec<(usize, String)> {
        use typst::foundations::{Label, Selector};
        use typst::introspection::Introspector;
        let Some(label) = Label::new(typst::utils::PicoStr::intern(name)) else {
            return Vec::new();
        };
        let introspector = self.document.introspector();
        introspector
            .query(&Selector::Label(label))
            .iter()
            .filter_map(|content| {
                let page = introspector.page(content.location()?)?;
                let value = content
                    .to_packed::<typst::introspection::MetadataElem>()
                    .and_then(|metadata| {
                        metadata
                            .value
                            .clone()
                            .cast::<typst::foundations::Str>()
                            .ok()
                    })
                    .map(|text| text.to_string())
                    .unwrap_or_default();
                Some((page.get() - 1, value))
            })
            .collect()
    }
}

/// The internal document whose font the assembler stamps page numbers and "page x of y" lines
/// with, when a page's own fonts lack a character. Not a template: offices cannot change it.
const STAMP_FONT_SOURCE: &str = "clearance-internal/stamp-font.typ";

fn stamp_font_source() -> String {
    let printable: String = (' '..='~').collect();
    // Every printable ASCII character, and the dashes, in the footer face.
    format!(
        "#set page(paper: \"us-letter\")\n#set text(font: \"Liberation Serif\", size: 10pt)\n#{printable:?}\n#\"\u{2014}\u{2013}\"\n"
    )
}

/// Templates, fonts and wording loaded once; shared by all rendering threads.
pub struct Renderer {
    world: SharedWorld,
    wording: handlebars::Handlebars<'static>,
    timestamp: Timestamp,
}

impl Renderer {
    /// Loads templates and fonts. `as_of` is the date documents are dated and stamped with.
    pub fn new(templates: &Templates, as_of: Date) -> Result<Renderer, RenderError> {
        let (year, month, day) = as_of.ymd();
        let today = Datetime::from_ymd(year, month as u8, day as u8).expect("valid date");
        let mut sources: Vec<(String, String)> = templates
            .files
            .iter()
            .filter(|file| file.kind() == TemplateKind::Layout)
            .map(|file| (format!("/{}", file.name), file.text.clone()))
            .collect();
        sources.push((format!("/{STAMP_FONT_SOURCE}"), stamp_font_source()));
        let fonts = embedded_fonts().to_vec();
        let world = SharedWorld::new(&sources, fonts, today);

        let wording = templates.wording()?;
        let timestamp = Timestamp::new_utc(
            Datetime::from_ymd_hms(year, month as u8, day as u8, 9, 0, 0).expect("valid time"),
        );
        Ok(Renderer {
            world,
            wording,
            timestamp,
        })
    }

    /// Renders an office-editable wording template (`wording/<name>.hbs`) to plain-text
    /// paragraphs: blank lines separate paragraphs, other line breaks and runs of spaces become
    /// single spaces (a no-break space after a section sign, "subd." and "subds.": see
    /// [`joins_next_word`]).
    pub fn paragraphs(
        &self,
        name: &str,
        context: &serde_json::Value,
    ) -> Result<Vec<String>, RenderError> {
        let text = self
            .wording
            .render(&format!("wording/{name}"), context)
            .map_err(|error| RenderError::Wording {
                template: format!("wording/{name}.hbs"),
                message: error.to_string(),
            })?;
        let mut paragraphs = Vec::new();
        let mut current = String::new();
        for line in text.lines() {
            if line.trim().is_empty() {
                if !current.is_empty() {
                    paragraphs.push(std::mem::take(&mut current));
                }
                continue;
            }
            for word in line.split_whitespace() {
                push_word(&mut current, word);
            }
        }
        if !current.is_empty() {
            paragraphs.push(current);
        }
        Ok(paragraphs)
    }

    /// Compiles a layout template (`case.typ`) with `data` as `/data.json`.
    pub fn compile(&self, template: &str, data: &[u8]) -> Result<Compiled, RenderError> {
        let main = virtual_file(&format!("/{template}"));
        if self.world.source(main).is_none() {
            return Err(RenderError::UnknownTemplate {
                name: template.to_string(),
            });
        }
        let world = DocumentWorld::new(&self.world, main, data.to_vec());
        let result = typst::compile::<PagedDocument>(&world).output;
        match result {
            Ok(document) => Ok(Compiled { document }),
            Err(diagnostics) => {
                // A failed document is never exported, so its memo entries are evicted here.
                let error = self.error(&world, template, diagnostics.as_slice());
                typst::comemo::evict(MEMO_CACHE_MAX_AGE);
                Err(error)
            }
        }
    }

    /// Exports a compiled document as PDF/A-2b.
    pub fn export(
        &self,
        compiled: &Compiled,
        template: &str,
        settings: &PdfSettings,
    ) -> Result<Vec<u8>, RenderError> {
        let options = PdfOptions {
            ident: Smart::Custom(settings.ident.clone()),
            creator: Smart::Custom(Some(format!("clearance {}", crate::VERSION))),
            timestamp: Some(self.timestamp),
            page_ranges: None,
            standards: PdfStandards::new(&[PdfStandard::A_2b])
                .expect("PDF/A-2b is a valid standard"),
            tagged: settings.tagged,
            pretty: false,
        };
        let world = DocumentWorld::new(
            &self.world,
            virtual_file(&format!("/{template}")),
            Vec::new(),
        );
        let result = typst_pdf::pdf(&compiled.document, &options)
            // Only a tagged PDF has a `/MarkInfo` (typst writes it with the structure tree).
            .map(|pdf| {
                if settings.tagged {
                    without_false_suspects(pdf)
                } else {
                    pdf
                }
            })
            .map_err(|diagnostics| self.error(&world, template, &diagnostics));
        typst::comemo::evict(MEMO_CACHE_MAX_AGE);
        result
    }

    /// Compiles and exports in one step, keeping the compiled document (for its labels).
    pub fn compile_and_export(
        &self,
        template: &str,
        data: &[u8],
        settings: &PdfSettings,
    ) -> Result<(Compiled, Vec<u8>), RenderError> {
        let compiled = self.compile(template, data)?;
        let pdf = self.export(&compiled, template, settings)?;
        Ok((compiled, pdf))
    }

    /// Compiles and exports in one step.
    pub fn render(
        &self,
        template: &str,
        data: &[u8],
        settings: &PdfSettings,
    ) -> Result<(Vec<u8>, usize), RenderError> {
        let compiled = self.compile(template, data)?;
        let pdf = self.export(&compiled, template, settings)?;
        Ok((pdf, compiled.page_count()))
    }

    /// The first error as a located message.
    fn error(
        &self,
        world: &DocumentWorld<'_>,
        template: &str,
        diagnostics: &[SourceDiagnostic],
    ) -> RenderError {
        let Some(diagnostic) = diagnostics
            .iter()
            .find(|diagnostic| diagnostic.severity == Severity::Error)
            .or_else(|| diagnostics.first())
        else {
            return RenderError::Document {
                template: template.to_string(),
                message: "unknown error".into(),
            };
        };
        // A character no shipped font has is a problem of the data, not of the template line
        // that shows it: say which character, and what to do.
        if let Some(characters) = missing_glyphs(&diagnostic.message) {
            return RenderError::Document {
                template: template.to_string(),
                message: format!(
                    "{characters} cannot be shown in the fonts clearance embeds (fonts/); a court PDF may not show a blank or a box, so add a font that has it"
                ),
            };
        }
        let mut message = diagnostic.message.to_string();
        for hint in &diagnostic.hints {
            message.push_str("; hint: ");
            message.push_str(&hint.v);
        }
        let location = diagnostic.span.id().and_then(|id| {
            let range = world.range(diagnostic.span)?;
            let file = id.vpath().get_without_slash().to_string();
            let (line, column) = match self.world.source(id) {
                Some(source) => source.lines().byte_to_line_column(range.start)?,
                // An error inside the data file: report the byte offset as a column.
                None => (0, range.start),
            };
            Some((file, line + 1, column + 1))
        });
        match location {
            Some((file, line, column)) => RenderError::Template {
                template: file,
                line,
                column,
                message,
            },
            None => RenderError::Document {
                template: template.to_string(),
                message,
            },
        }
    }

    /// The font the assembler stamps text with when a page's own fonts lack a character.
    pub fn stamp_font(&self) -> Result<crate::assemble::StampFont, RenderError> {
        let (pdf, _) = self.render(
            STAMP_FONT_SOURCE,
            b"{}",
            &PdfSettings {
                ident: "stamp-font".into(),
                tagged: false,
            },
        )?;
        crate::assemble::StampFont::from_pdf(&pdf).map_err(|error| RenderError::Document {
            template: STAMP_FONT_SOURCE.into(),
            message: error.to_string(),
        })
    }
}

/// A tagged PDF's catalog says `/MarkInfo<</Marked true/Suspects false>>`, which is valid but
/// which poppler (`pdfinfo`, `pdftotext`) reports as a syntax error. `/Suspects false` is the
/// default, so it is blanked out with spaces of the same length: no offset moves.
fn without_false_suspects(mut pdf: Vec<u8>) -> Vec<u8> {
    const ENTRY: &[u8] = b"/Suspects false";
    const MARK_INFO: &[u8] = b"/MarkInfo<</Marked true/Suspects false>>";
    if let Some(start) = pdf
        .windows(MARK_INFO.len())
        .rposition(|window| window == MARK_INFO)
    {
        let entry = start + MARK_INFO.len() - 2 - ENTRY.len();
        pdf[entry..entry + ENTRY.len()].fill(b' ');
    }
    pdf
}

/// The characters of typst's PDF/A "the text `\"…\"` could not be displayed with font" error,
/// named with their code points: `张 (U+5F20)`.
fn missing_glyphs(message: &str) -> Option<String> {
    if !message.contains("could not be displayed with font") {
        return None;
    }
    let quoted = message.split('`').nth(1)?.trim_matches('"');
    let characters: Vec<char> = quoted.chars().collect();
    Some(format!("the text {}", with_code_points(&characters)))
}

/// Characters named for a clerk who must find them: `张 (U+5F20), 伟 (U+4F1F)`.
pub fn with_code_points(characters: &[char]) -> String {
    characters
        .iter()
        .map(|character| format!("{character} (U+{:04X})", u32::from(*character)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Citations keep their parts together; other words break where they may.
    #[test]
    fn a_citation_never_breaks_after_its_section_sign_or_subdivision() {
        for joined in [
            "under §",
            "(§",
            "(Health & Saf. Code, §§",
            "11361.9, subd.",
            "(subd.",
            "Subds.",
        ] {
            assert!(joins_next_word(joined), "{joined}");
        }
        for free in ["", "the People", "subdivision", "subdued.", "§ 11361.9,"] {
            assert!(!joins_next_word(free), "{free}");
        }
        assert_eq!(
            keep_citations_together("(HS § 11361.9, subd. (b)) and (§§ 11361.8, 11361.9)"),
            "(HS §\u{a0}11361.9, subd.\u{a0}(b)) and (§§\u{a0}11361.8, 11361.9)"
        );
    }

    #[test]
    fn false_suspects_are_blanked_without_moving_offsets() {
        let pdf = b"1 0 obj<</MarkInfo<</Marked true/Suspects false>>>>endobj".to_vec();
        let fixed = without_false_suspects(pdf.clone());
        assert_eq!(fixed.len(), pdf.len());
        assert_eq!(
            fixed,
            b"1 0 obj<</MarkInfo<</Marked true               >>>>endobj".to_vec()
        );
    }

    #[test]
    fn characters_no_shipped_font_has_are_found_before_rendering() {
        assert!(characters_no_font_can_draw("NÚÑEZ, JOSÉ MARÍA · O’Brien ZOË").is_empty());
        assert_eq!(characters_no_font_can_draw("张 三 张\t"), ['张', '三']);
    }

    #[test]
    fn missing_glyphs_are_named_with_their_code_points() {
        let message = "PDF/A-2b error: the text `\"张伟\"` could not be displayed with font `\"Liberation Serif\"`";
        assert_eq!(
            missing_glyphs(message).as_deref(),
            Some("the text 张 (U+5F20), 伟 (U+4F1F)")
        );
        assert_eq!(missing_glyphs("unknown variable: x"), None);
    }

    #[test]
    fn overrides_replace_templates_and_add_partials() {
        let folder = tempfile::tempdir().expect("temporary folder");
        std::fs::create_dir_all(folder.path().join("wording")).unwrap();
        std::fs::write(
            folder.path().join("wording/letter-en.hbs"),
            "Hello {{name}}.",
        )
        .unwrap();
        std::fs::write(folder.path().join("extra.typ"), "#let x = 1").unwrap();
        std::fs::write(folder.path().join("notes.txt"), "ignored").unwrap();
        let templates = Templates::with_overrides(folder.path()).expect("overrides");
        let letter = templates
            .files
            .iter()
            .find(|file| file.name == "wording/letter-en.hbs")
            .unwrap();
        assert_eq!(letter.text, "Hello {{name}}.");
        assert!(letter.overridden_from.is_some());
        assert!(templates.files.iter().all(|file| file.name != "notes.txt"));
        assert!(templates.files.iter().any(|file| file.name == "extra.typ"));
        assert!(Templates::with_overrides(&folder.path().join("missing")).is_err());
    }
}

//! The document half of the pipeline: plans → rendered chunks → files and bundles.
//!
//! Documents are rendered in chunks (many papers per typst compile) by one loop per thread of
//! a rayon pool (`parallel::map`: typst parallelises inside a compile on the same pool). Each
//! worker renders a chunk, parses it once, cuts it into per-document files (queued for the
//! writer thread) and hands it to the bundle it belongs to, which appends chunks in order as
//! they arrive: no chunk is kept once it is in its bundle, so memory stays flat however many
//! documents there are. A document that fails to render (a glyph no shipped font has, say) is
//! reported with its file name and left out; everything else is still written, and the run
//! ends with exit code 3.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::ops::Range;
use std::sync::Mutex;

use serde_json::json;

use super::{PipelineError, StageCounter};
use crate::assemble::{
    self, BundleEntry, BundleWriter, PageLabelStyle, ParsedChunk, Piece, RenderedChunk, Stamp,
    StampAlign, StampFont, pleading_page_number,
};
use crate::output::{DocumentFailure, OutputDir, OutputDocument, write_error_for};
use crate::plan::{
    CasePlan, ChallengeCase, LetterLanguage, LetterPlan, MailingStatus, OmnibusFiling, OmnibusPlan,
};
use crate::render::documents::{
    Letterhead, OmnibusData, case_chunk, challenge_case_chunk, cover, letter_chunk, omnibus,
};
use crate::render::{Compiled, PdfSettings, RenderError, Renderer};

/// Documents per typst compile: large enough to share the per-compile cost and font subsets,
/// small enough that typst's introspection (which grows faster than linearly) stays cheap.
pub(crate) const DOCUMENTS_PER_CHUNK: usize = 40;

/// Exhibit rows per typst compile of the omnibus filing: bounds the memory of a compile.
pub(crate) const EXHIBIT_ROWS_PER_PART: usize = 600;

/// Lines of the case-packets index per page, and per typst compile.
const INDEX_ENTRIES_PER_PAGE: usize = 36;
const INDEX_ENTRIES_PER_PART: usize = 10 * INDEX_ENTRIES_PER_PAGE;

/// Lower-case roman numerals, for front-matter page numbers.
fn roman(mut number: u64) -> String {
    const NUMERALS: [(u64, &str); 13] = [
        (1000, "m"),
        (900, "cm"),
        (500, "d"),
        (400, "cd"),
        (100, "c"),
        (90, "xc"),
        (50, "l"),
        (40, "xl"),
        (10, "x"),
        (9, "ix"),
        (5, "v"),
        (4, "iv"),
        (1, "i"),
    ];
    let mut text = String::new();
    for (value, numeral) in NUMERALS {
        while number >= value {
            text.push_str(numeral);
            number -= value;
        }
    }
    text
}

/// The e-filing size limit of one court bundle file; larger filings are split into volumes.
pub const VOLUME_LIMIT_BYTES: u64 = 25_000_000;

/// Shared state of a document run.
pub(crate) struct DocumentRun<'a> {
    pub(crate) output: &'a OutputDir,
    pub(crate) files: &'a crate::output::BackgroundWriter,
    pub(crate) renderer: &'a Renderer,
    pub(crate) stamp_font: &'a StampFont,
    pub(crate) letterhead: Letterhead<'a>,
    pub(crate) jobs: usize,
    pub(crate) failures: Mutex<Vec<DocumentFailure>>,
    /// Output path → what it is.
    pub(crate) written: Mutex<BTreeMap<String, OutputDocument>>,
}

/// A rendered, parsed chunk of documents on its way into a bundle.
pub(crate) struct BundlePart {
    parsed: ParsedChunk,
    entries: Vec<BundleEntry>,
    /// (index into the items, first page within the chunk) of each document in the chunk.
    documents: Vec<(usize, usize)>,
}

/// A bundle written as chunks arrive from the workers, in sequence order whatever order they
/// finish in; at most the chunks finished out of order wait in memory.
pub(crate) struct StreamingBundle<'f> {
    path: String,
    writer: BundleWriter<'f, BufWriter<File>>,
    next: usize,
    waiting: BTreeMap<usize, Vec<BundlePart>>,
    /// (item index, 0-based page in the bundle before any front matter) of every document.
    placed: Vec<(usize, usize)>,
}

impl<'f> StreamingBundle<'f> {
    fn create(
        output: &OutputDir,
        path: &str,
        stamp_font: &'f StampFont,
    ) -> Result<StreamingBundle<'f>, PipelineError> {
        let file = output.create_file(path)?;
        let writer = BundleWriter::new(
            path,
            BufWriter::with_capacity(1 << 20, file),
            Some(stamp_font),
        )?;
        Ok(StreamingBundle {
            path: path.to_string(),
            writer,
            next: 0,
            waiting: BTreeMap::new(),
            placed: Vec::new(),
        })
    }

    /// Takes the parts of chunk `sequence` (none when all its documents failed) and appends
    /// every part whose turn has come.
    fn deliver(
        &mut self,
        sequence: usize,
        parts: Vec<BundlePart>,
        labels: &PageLabelStyle,
    ) -> Result<(), PipelineError> {
        self.waiting.insert(sequence, parts);
        while let Some(parts) = self.waiting.remove(&self.next) {
            for part in parts {
                let offset = self.writer.page_count();
                self.writer
                    .append(&part.parsed, &part.entries, labels.clone())?;
                self.placed.extend(
                    part.documents
                        .iter()
                        .map(|&(index, first)| (index, offset + first)),
                );
            }
            self.next += 1;
        }
        Ok(())
    }

    /// Writes the file's end; returns its page count.
    fn finish(self, title: &str) -> Result<usize, PipelineError> {
        let pages = self.writer.page_count();
        let mut sink = self.writer.finish(title)?;
        std::io::Write::flush(&mut sink).map_err(write_error_for(&self.path))?;
        Ok(pages)
    }
}

/// How a chunk of per-document papers is laid out.
struct DocumentLayout {
    template: &'static str,
    /// The label each document's first page carries.
    start_label: &'static str,
    /// Names the chunk (PDF id and messages).
    ident: String,
    /// Pleading paper: the assembler stamps each page's number.
    pleading_page_numbers: bool,
}

/// One document cut out of a chunk: the file, its bookmark in the bundle, its path.
struct Described {
    piece: Piece,
    entry: BundleEntry,
    path: String,
}

/// Where each paper of a chunk starts, from the template's labels, checked against the number
/// of documents the chunk should hold.
fn paper_starts(
    compiled: &Compiled,
    template: &str,
    label: &str,
    expected: usize,
) -> Result<Vec<usize>, PipelineError> {
    let starts: Vec<usize> = compiled
        .labelled_pages(label)
        .into_iter()
        .map(|(page, _)| page)
        .collect();
    if starts.len() != expected {
        return Err(PipelineError::Render(RenderError::Document {
            template: template.into(),
            message: format!(
                "expected {expected} <{label}> labels, found {}",
                starts.len()
            ),
        }));
    }
    Ok(starts)
}

/// The page range of document `position` given where every document starts.
fn pages_of(starts: &[usize], position: usize, total: usize) -> Range<usize> {
    starts[position]..starts.get(position + 1).copied().unwrap_or(total)
}

/// Chunks of at most [`DOCUMENTS_PER_CHUNK`] consecutive items, never mixing groups.
fn chunk_ranges<T, K: PartialEq>(items: &[T], group: impl Fn(&T) -> K) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    while start < items.len() {
        let mut end = start + 1;
        while end < items.len()
            && end - start < DOCUMENTS_PER_CHUNK
            && group(&items[end]) == group(&items[start])
        {
            end += 1;
        }
        ranges.push(start..end);
        start = end;
    }
    ranges
}

/// What the exhibit pages of the filing get stamped with: "Exhibit A-1 — page x of y" centred
/// under the footer rule, and the filing's page number at the right margin (the margins of the
/// exhibit part of `templates/omnibus.typ`: 0.75 in left, 0.6 in right, 0.75 in bottom).
fn exhibit_stamps(exhibit: &str, page: usize, pages: usize, filing_page: u64) -> Vec<Stamp> {
    let left = 54.0;
    let right = 612.0 - 43.2;
    vec![
        Stamp {
            text: format!("Exhibit {exhibit} \u{2014} page {page} of {pages}"),
            x: f64::midpoint(left, right),
            baseline: 30.0,
            size: 10.0,
            align: StampAlign::Center,
        },
        Stamp {
            text: filing_page.to_string(),
            x: right,
            baseline: 30.0,
            size: 11.0,
            align: StampAlign::Right,
        },
    ]
}

impl DocumentRun<'_> {
    fn fail(&self, file: String, message: String) {
        self.failures
            .lock()
            .expect("no panics while holding the lock")
            .push(DocumentFailure { file, message });
    }

    fn wrote(&self, path: String, pages: usize, template: &'static str) {
        self.written
            .lock()
            .expect("no panics while holding the lock")
            .insert(path, OutputDocument { pages, template });
    }

    /// Runs `work` on every index in `0..count` on the run's threads; results in index order.
    pub(crate) fn parallel<T: Send>(
        &self,
        count: usize,
        work: impl Fn(usize) -> T + Sync,
    ) -> Vec<T> {
        crate::parallel::map(self.jobs, count, work)
    }

    /// Renders `ranges` of items as chunks, in parallel, and hands each chunk's parts to
    /// `deliver` with its sequence number. When a chunk fails to render, renders its items one
    /// by one to find and report the failing ones (by `file_of`); the others are delivered as
    /// single-item parts.
    fn render_chunks(
        &self,
        counter: &StageCounter<'_, '_>,
        ranges: &[Range<usize>],
        file_of: impl Fn(usize) -> String + Sync,
        render: impl Fn(Range<usize>, &str) -> Result<BundlePart, PipelineError> + Sync,
        deliver: impl Fn(usize, Vec<BundlePart>) -> Result<(), PipelineError> + Sync,
    ) -> Result<(), PipelineError> {
        let results = self.parallel(ranges.len(), |chunk_index| {
            // Cancelled: stop at the next chunk (nothing is committed).
            counter.check()?;
            let range = ranges[chunk_index].clone();
            let parts = match render(range.clone(), &format!("{chunk_index}")) {
                Ok(part) => vec![part],
                Err(PipelineError::Render(_)) => {
                    let mut parts = Vec::new();
                    for index in range {
                        match render(index..index + 1, &format!("{chunk_index}-{index}")) {
                            Ok(part) => parts.push(part),
                            Err(PipelineError::Render(error)) => {
                                self.fail(file_of(index), error.to_string());
                            }
                            Err(other) => return Err(other),
                        }
                    }
                    parts
                }
                Err(other) => return Err(other),
            };
            let delivered = deliver(chunk_index, parts);
            counter.advance(ranges[chunk_index].len() as u64);
            delivered
        });
        results.into_iter().collect()
    }

    /// Queues the documents cut out of a chunk as files, and hands on the chunk for its bundle.
    fn write_cut(
        &self,
        cut: CutChunk,
        template: &'static str,
    ) -> Result<BundlePart, PipelineError> {
        for (path, file, pages) in cut.files {
            self.files.write(self.output.staging().join(&path), file)?;
            self.wrote(path, pages, template);
        }
        Ok(cut.part)
    }

    /// Renders every case into `cases/<stem>.pdf` and `bundles/case-packets.pdf`: an index,
    /// then every case in case-number order, one bookmark per case. Each page after the index
    /// is stamped "Packet page N" and labelled N, the number the index cites; the papers keep
    /// their own pleading page numbers in the footer.
    pub(crate) fn write_cases(
        &self,
        cases: &[CasePlan],
        counter: &StageCounter<'_, '_>,
    ) -> Result<(), PipelineError> {
        const PATH: &str = "bundles/case-packets.pdf";
        if cases.is_empty() {
            return Ok(());
        }
        let ranges = chunk_ranges(cases, |_| ());
        let bundle = Mutex::new(StreamingBundle::create(self.output, PATH, self.stamp_font)?);
        self.render_chunks(
            counter,
            &ranges,
            |index| format!("cases/{}.pdf", cases[index].file_stem),
            |range, ident| self.render_cases(cases, range, ident),
            |sequence, parts| {
                bundle
                    .lock()
                    .expect("no panics while holding the lock")
                    .deliver(sequence, parts, &PageLabelStyle::BundlePages)
            },
        )?;
        let mut bundle = bundle
            .into_inner()
            .expect("no panics while holding the lock");
        if bundle.placed.is_empty() {
            // Every case failed; the failures say which.
            drop(bundle);
            self.output.remove(PATH)?;
            return Ok(());
        }
        let index = self.render_packets_index(cases, &bundle.placed)?;
        bundle
            .writer
            .prepend(&index, "Index", PageLabelStyle::Roman)?;
        let pages = bundle.finish("Case packets: motions and proposed orders")?;
        self.wrote(PATH.into(), pages, "case.typ");
        Ok(())
    }

    /// The packets bundle's index, in parts of [`INDEX_ENTRIES_PER_PART`] entries rendered in
    /// parallel (one long table would take time and memory growing faster than its length). It
    /// cites packet page numbers, which do not depend on its own length.
    fn render_packets_index(
        &self,
        cases: &[CasePlan],
        placed: &[(usize, usize)],
    ) -> Result<Vec<ParsedChunk>, PipelineError> {
        const TEMPLATE: &str = "packets-index.typ";
        let entries: Vec<_> = placed
            .iter()
            .map(|&(case_index, page)| {
                let case = &cases[case_index];
                json!({
                    "case_numbers": case.case_numbers_text(),
                    "defendant": case.defendant,
                    "counts": case.counts.len(),
                    // The packet page number stamped on the case's first page.
                    "page": page + 1,
                })
            })
            .collect();
        let parts: Vec<&[serde_json::Value]> = entries.chunks(INDEX_ENTRIES_PER_PART).collect();
        let rendered = self.parallel(parts.len(), |part| {
            let data = json!({
                "title": "Case packets: motions and proposed orders",
                "subtitle": format!("{} cases, in case-number order; \"Page\" is the packet page number stamped at the top of each page after this index", entries.len()),
                "agency": self.letterhead.office.agency.name,
                "columns": ["Case No.", "Defendant", "Counts", "Page"],
                "first": part == 0,
                "pages": parts[part].chunks(INDEX_ENTRIES_PER_PAGE).collect::<Vec<_>>(),
            });
            let bytes = serde_json::to_vec(&data).expect("JSON values serialize");
            let (compiled, pdf) = self.renderer.compile_and_export(
                TEMPLATE,
                &bytes,
                &PdfSettings::untagged(format!("packets-index-{part}")),
            )?;
            Ok::<_, PipelineError>((pdf, compiled.page_count()))
        });
        let rendered: Vec<(Vec<u8>, usize)> = rendered.into_iter().collect::<Result<_, _>>()?;
        // Roman page numbers through the index, stamped under each page.
        let mut page = 0u64;
        rendered
            .into_iter()
            .enumerate()
            .map(|(part, (pdf, pages))| {
                let numbers: Vec<u64> = (0..pages as u64).map(|offset| page + offset + 1).collect();
                page += pages as u64;
                let stamps = numbers
                    .iter()
                    .map(|&number| {
                        vec![Stamp {
                            text: roman(number),
                            x: 306.0,
                            baseline: 36.0,
                            size: 10.0,
                            align: StampAlign::Center,
                        }]
                    })
                    .collect();
                let mut parsed = ParsedChunk::parse(RenderedChunk {
                    name: format!("packets index part {part}"),
                    pdf,
                    page_numbers: numbers,
                    stamps,
                })?;
                parsed.release_bytes();
                Ok(parsed)
            })
            .collect()
    }

    fn render_cases(
        &self,
        cases: &[CasePlan],
        range: Range<usize>,
        ident: &str,
    ) -> Result<BundlePart, PipelineError> {
        let cut = cut_cases(self.renderer, &self.letterhead, cases, range, ident)?;
        self.write_cut(cut, CASE_TEMPLATE)
    }

    /// [`render_and_cut`], the documents written.
    fn render_document_chunk<Extra>(
        &self,
        layout: &DocumentLayout,
        data: &[u8],
        range: Range<usize>,
        inspect: impl FnOnce(&Compiled, usize) -> Result<Extra, PipelineError>,
        describe: impl Fn(&Extra, usize, usize, Range<usize>) -> Described,
    ) -> Result<BundlePart, PipelineError> {
        let cut = render_and_cut(self.renderer, layout, data, range, inspect, describe)?;
        self.write_cut(cut, layout.template)
    }

    /// Writes an omnibus filing, `bundles/filing.pdf` or `petition.pdf` (or their `-redacted`
    /// public versions): the motion or petition,
    /// Exhibit A in parts, the order, numbered through; split into volumes of at most
    /// `volume_limit` bytes, each behind a cover, when larger.
    pub(crate) fn write_filing(
        &self,
        plan: &OmnibusPlan,
        redacted: bool,
        volume_limit: u64,
    ) -> Result<(), PipelineError> {
        let stem = if redacted {
            format!("bundles/{}-redacted", plan.filing.stem())
        } else {
            format!("bundles/{}", plan.filing.stem())
        };
        let stem = stem.as_str();
        let parts = match self.render_filing_parts(plan, redacted, stem) {
            Ok(parts) => parts,
            Err(PipelineError::Render(error)) => {
                self.fail(format!("{stem}.pdf"), error.to_string());
                return Ok(());
            }
            Err(other) => return Err(other),
        };
        let (parts, entries) = parts;
        let total: usize = parts.iter().map(ParsedChunk::page_count).sum();
        let title = match (plan.filing, redacted) {
            (OmnibusFiling::Application, false) => {
                "People's omnibus motion for relief from cannabis convictions"
            }
            (OmnibusFiling::Application, true) => {
                "People's omnibus motion for relief from cannabis convictions (public version)"
            }
            (OmnibusFiling::Petition, false) => {
                "People's omnibus petition for recall or dismissal of sentences"
            }
            (OmnibusFiling::Petition, true) => {
                "People's omnibus petition for recall or dismissal of sentences (public version)"
            }
        };
        let whole = assemble_volume(&parts, 0..total, &entries, None, title, self.stamp_font)?;
        if whole.len() as u64 <= volume_limit {
            let path = format!("{stem}.pdf");
            self.files.write(self.output.staging().join(&path), whole)?;
            self.wrote(path, total, "omnibus.typ");
            return Ok(());
        }
        let whole_size = whole.len() as u64;
        drop(whole);
        self.write_volumes(&parts, &entries, title, stem, (whole_size, volume_limit))
    }

    /// Renders the filing's parts in parallel and numbers their pages through: the motion,
    /// each exhibit's runs of rows, the order. Returns the parsed parts and the bookmarks
    /// (pages counted through the filing).
    fn render_filing_parts(
        &self,
        plan: &OmnibusPlan,
        redacted: bool,
        stem: &str,
    ) -> Result<(Vec<ParsedChunk>, Vec<BundleEntry>), PipelineError> {
        const TEMPLATE: &str = "omnibus.typ";
        let data: OmnibusData = omnibus(self.renderer, &self.letterhead, plan, redacted)?;
        let runs = data.exhibit_runs(EXHIBIT_ROWS_PER_PART);
        // Part 0 is the motion, the last the order, the exhibit runs between.
        let count = runs.len() + 2;
        let rendered = self.parallel(count, |index| {
            let bytes = match index {
                0 => data.motion(),
                _ if index == count - 1 => data.order(),
                _ => data.exhibit(&runs[index - 1]),
            };
            let (compiled, pdf) = self.renderer.compile_and_export(
                TEMPLATE,
                &bytes,
                &PdfSettings::untagged(format!("{stem}-{index}")),
            )?;
            Ok::<_, PipelineError>((pdf, compiled.page_count()))
        });
        let rendered: Vec<(Vec<u8>, usize)> = rendered.into_iter().collect::<Result<_, _>>()?;
        let exhibits = data.exhibits();
        let mut exhibit_pages = vec![0usize; exhibits.len()];
        for (run, (_, pages)) in runs.iter().zip(&rendered[1..]) {
            exhibit_pages[run.section] += pages;
        }
        let mut parts = Vec::with_capacity(count);
        let mut entries = Vec::new();
        let mut filing_page = 0u64;
        let mut page_in_exhibit = vec![0usize; exhibits.len()];
        for (index, (pdf, pages)) in rendered.into_iter().enumerate() {
            let first_page = filing_page as usize;
            let mut page_numbers = Vec::with_capacity(pages);
            let mut stamps = Vec::with_capacity(pages);
            let run = (index > 0 && index < count - 1).then(|| &runs[index - 1]);
            for _ in 0..pages {
                filing_page += 1;
                page_numbers.push(filing_page);
                stamps.push(match run {
                    Some(run) => {
                        page_in_exhibit[run.section] += 1;
                        exhibit_stamps(
                            &exhibits[run.section].0,
                            page_in_exhibit[run.section],
                            exhibit_pages[run.section],
                            filing_page,
                        )
                    }
                    None => vec![pleading_page_number(filing_page)],
                });
            }
            let bookmark = match run {
                None if index == 0 => Some("Notice of non-challenge and motion".to_string()),
                None => Some("[Proposed] order".to_string()),
                Some(run) if run.rows.start == 0 => {
                    let (id, title) = &exhibits[run.section];
                    Some(format!("Exhibit {id}: {title}"))
                }
                Some(_) => None,
            };
            if let Some(bookmark) = bookmark {
                entries.push(BundleEntry {
                    bookmark,
                    children: Vec::new(),
                    pages: first_page..first_page + pages,
                });
            }
            let mut parsed = ParsedChunk::parse(RenderedChunk {
                name: format!("{stem} part {index}"),
                pdf,
                page_numbers,
                stamps,
            })?;
            parsed.release_bytes();
            parts.push(parsed);
        }
        // A bookmark covers its exhibit's every run.
        for window in 0..entries.len() {
            let end = entries
                .get(window + 1)
                .map_or(filing_page as usize, |next| next.pages.start);
            entries[window].pages.end = end;
        }
        Ok((parts, entries))
    }

    /// Splits the filing into volumes of equal page runs, one more until each fits.
    fn write_volumes(
        &self,
        parts: &[ParsedChunk],
        entries: &[BundleEntry],
        title: &str,
        stem: &str,
        (whole_size, volume_limit): (u64, u64),
    ) -> Result<(), PipelineError> {
        let total: usize = parts.iter().map(ParsedChunk::page_count).sum();
        let page_number = |page: usize| {
            let mut page = page;
            for part in parts {
                if page < part.page_count() {
                    return part.chunk.page_numbers[page];
                }
                page -= part.page_count();
            }
            0
        };
        let mut volume_count = whole_size.div_ceil(volume_limit).max(2) as usize;
        loop {
            if volume_count > total {
                self.fail(
                    format!("{stem}.pdf"),
                    format!(
                        "cannot be split into volumes of at most {volume_limit} bytes: a single page with its fonts is larger"
                    ),
                );
                return Ok(());
            }
            let ranges: Vec<Range<usize>> = (0..volume_count)
                .map(|volume| volume * total / volume_count..(volume + 1) * total / volume_count)
                .collect();
            let contents: Vec<(String, String, String)> = entries
                .iter()
                .map(|entry| {
                    let volume = ranges
                        .iter()
                        .position(|range| range.contains(&entry.pages.start))
                        .unwrap_or(0);
                    (
                        entry.bookmark.clone(),
                        format!("Volume {}", volume + 1),
                        format!(
                            "pages {}–{}",
                            page_number(entry.pages.start),
                            page_number(entry.pages.end - 1)
                        ),
                    )
                })
                .collect();
            let mut volumes = Vec::with_capacity(volume_count);
            for (volume, range) in ranges.iter().enumerate() {
                let pages = (
                    page_number(range.start) as usize,
                    page_number(range.end - 1) as usize,
                );
                let cover_data = cover(
                    &self.letterhead,
                    title,
                    volume + 1,
                    volume_count,
                    pages,
                    if volume == 0 { &contents } else { &[] },
                );
                let cover =
                    self.render_cover(&cover_data, &format!("{stem}-vol-{}", volume + 1))?;
                let volume_title = format!("{title}, volume {} of {volume_count}", volume + 1);
                volumes.push(assemble_volume(
                    parts,
                    range.clone(),
                    entries,
                    Some(&cover),
                    &volume_title,
                    self.stamp_font,
                )?);
            }
            if volumes
                .iter()
                .all(|bytes| bytes.len() as u64 <= volume_limit)
            {
                for (volume, (bytes, range)) in volumes.into_iter().zip(&ranges).enumerate() {
                    let path = format!("{stem}-vol-{}.pdf", volume + 1);
                    self.files.write(self.output.staging().join(&path), bytes)?;
                    self.wrote(path, range.len() + 1, "omnibus.typ");
                }
                return Ok(());
            }
            volume_count += 1;
        }
    }

    fn render_cover(&self, data: &[u8], ident: &str) -> Result<ParsedChunk, PipelineError> {
        const TEMPLATE: &str = "cover.typ";
        let (compiled, pdf) =
            self.renderer
                .compile_and_export(TEMPLATE, data, &PdfSettings::untagged(ident))?;
        Ok(ParsedChunk::parse(RenderedChunk {
            name: format!("cover of {ident}"),
            pdf,
            page_numbers: compiled.page_numbers(),
            stamps: Vec::new(),
        })?)
    }

    /// Renders the letters (not to the deceased) into `letters/<SUBJECT_ID>.<lang>.pdf` and
    /// the mailable ones of each language into `bundles/letters.<lang>.pdf`, by ZIP code; then
    /// writes `bundles/mailing-list.csv` (every letter, mailable or not, and where it is).
    pub(crate) fn write_letters(
        &self,
        letters: &[LetterPlan],
        counter: &StageCounter<'_, '_>,
    ) -> Result<(), PipelineError> {
        // Chunks never mix languages or mailable and unmailable letters, so each letters
        // bundle is made of whole chunks.
        let ranges: Vec<Range<usize>> =
            chunk_ranges(letters, |letter| (letter.status, letter.language))
                .into_iter()
                .filter(|range| letters[range.start].status != MailingStatus::Deceased)
                .collect();
        let mut bundles: Vec<(LetterLanguage, Mutex<StreamingBundle<'_>>)> = Vec::new();
        // Each chunk's bundle (by index into `bundles`) and sequence number within it.
        let mut destinations: Vec<Option<(usize, usize)>> = Vec::with_capacity(ranges.len());
        for range in &ranges {
            let letter = &letters[range.start];
            if letter.status != MailingStatus::Ready {
                destinations.push(None);
                continue;
            }
            let position = if let Some(position) = bundles
                .iter()
                .position(|(language, _)| *language == letter.language)
            {
                position
            } else {
                let path = format!("bundles/letters.{}.pdf", letter.language.code());
                bundles.push((
                    letter.language,
                    Mutex::new(StreamingBundle::create(
                        self.output,
                        &path,
                        self.stamp_font,
                    )?),
                ));
                bundles.len() - 1
            };
            let sequence = destinations
                .iter()
                .filter(|destination| destination.is_some_and(|(bundle, _)| bundle == position))
                .count();
            destinations.push(Some((position, sequence)));
        }
        self.render_chunks(
            counter,
            &ranges,
            |index| format!("letters/{}.pdf", letters[index].file_stem()),
            |range, ident| self.render_letters(letters, range, ident),
            |chunk, parts| match destinations[chunk] {
                Some((bundle, sequence)) => bundles[bundle]
                    .1
                    .lock()
                    .expect("no panics while holding the lock")
                    .deliver(sequence, parts, &PageLabelStyle::Sequential),
                None => Ok(()),
            },
        )?;
        // (bundle path, 1-based page) of each letter in a bundle.
        let mut placed: BTreeMap<usize, (String, usize)> = BTreeMap::new();
        for (language, bundle) in bundles {
            let bundle = bundle
                .into_inner()
                .expect("no panics while holding the lock");
            let path = bundle.path.clone();
            if bundle.placed.is_empty() {
                drop(bundle);
                self.output.remove(&path)?;
                continue;
            }
            for &(index, page) in &bundle.placed {
                placed.insert(index, (path.clone(), page + 1));
            }
            let title = match language {
                LetterLanguage::English => "Notification letters (English), by ZIP code",
                LetterLanguage::Spanish => "Cartas de notificación (español), por código postal",
                LetterLanguage::EnglishThenSpanish => {
                    "Notification letters in English and Spanish, by ZIP code / Cartas en inglés y español, por código postal"
                }
            };
            let pages = bundle.finish(title)?;
            self.wrote(path, pages, "letter.typ");
        }
        self.write_mailing_list(letters, &placed)
    }

    fn write_mailing_list(
        &self,
        letters: &[LetterPlan],
        placed: &BTreeMap<usize, (String, usize)>,
    ) -> Result<(), PipelineError> {
        let written = self
            .written
            .lock()
            .expect("no panics while holding the lock")
            .clone();
        let mut rows = Vec::with_capacity(letters.len());
        for (index, letter) in letters.iter().enumerate() {
            let file = format!("letters/{}.pdf", letter.file_stem());
            let rendered = written.contains_key(&file);
            let status = match letter.status {
                MailingStatus::Deceased => "deceased",
                _ if !rendered => "render_failed",
                MailingStatus::Ready => "ready",
                MailingStatus::NoAddress => "no_address",
            };
            let contact = letter.contact.as_ref();
            let address_line = |line: usize| {
                contact
                    .and_then(|contact| contact.address_lines.get(line).cloned())
                    .unwrap_or_default()
            };
            let (bundle, page) = placed
                .get(&index)
                .map_or((String::new(), String::new()), |(bundle, page)| {
                    (bundle.clone(), page.to_string())
                });
            rows.push([
                letter.subject_id.clone(),
                letter.cii.clone(),
                letter.name.clone(),
                letter.language.code().to_string(),
                status.to_string(),
                address_line(0),
                address_line(1),
                contact
                    .map(|contact| contact.city.clone())
                    .unwrap_or_default(),
                contact
                    .map(|contact| contact.state.clone())
                    .unwrap_or_default(),
                letter.zip().to_string(),
                if rendered { file } else { String::new() },
                bundle,
                page,
            ]);
        }
        let csv = crate::output::spreadsheet_csv(
            &[
                "subject_id",
                "cii",
                "name",
                "language",
                "status",
                "address_1",
                "address_2",
                "city",
                "state",
                "zip",
                "letter_file",
                "bundle",
                "bundle_page",
            ],
            rows,
        );
        self.output.write("bundles/mailing-list.csv", &csv)?;
        Ok(())
    }

    fn render_letters(
        &self,
        letters: &[LetterPlan],
        range: Range<usize>,
        ident: &str,
    ) -> Result<BundlePart, PipelineError> {
        let cut = cut_letters(self.renderer, &self.letterhead, letters, range, ident)?;
        self.write_cut(cut, LETTER_TEMPLATE)
    }

    /// Renders a single document (the summary report) to `path`.
    /// Renders the per-case notices of challenge into `challenges/<file_stem>.pdf`, in chunks
    /// (the county-wide list is `bundles/notice-of-challenge.pdf`).
    pub(crate) fn write_challenge_cases(
        &self,
        cases: &[ChallengeCase],
        counter: &StageCounter<'_, '_>,
    ) -> Result<(), PipelineError> {
        const TEMPLATE: &str = "challenge-case.typ";
        let ranges = chunk_ranges(cases, |_| ());
        self.render_chunks(
            counter,
            &ranges,
            |index| format!("challenges/{}.pdf", cases[index].file_stem),
            |range, ident| {
                let data =
                    challenge_case_chunk(self.renderer, &self.letterhead, &cases[range.clone()])?;
                self.render_document_chunk(
                    &DocumentLayout {
                        template: TEMPLATE,
                        start_label: "clearance-challenge",
                        ident: format!("challenges-{ident}"),
                        pleading_page_numbers: true,
                    },
                    &data,
                    range,
                    |_, _| Ok(()),
                    |(), index, _, pages| {
                        let case = &cases[index];
                        let first = &case.items[0];
                        Described {
                            piece: Piece {
                                title: format!(
                                    "People's notice of challenge, case {}",
                                    first.case_numbers
                                ),
                                pages: pages.clone(),
                                bookmarks: Vec::new(),
                            },
                            entry: BundleEntry {
                                bookmark: format!("{} — {}", first.case_numbers, first.defendant),
                                children: Vec::new(),
                                pages,
                            },
                            path: format!("challenges/{}.pdf", case.file_stem),
                        }
                    },
                )
            },
            // Filed case by case: no bundle.
            |_, _| Ok(()),
        )
    }

    pub(crate) fn write_single(
        &self,
        path: &str,
        template: &'static str,
        data: &[u8],
    ) -> Result<(), PipelineError> {
        let rendered = self.renderer.compile(template, data).and_then(|compiled| {
            let pdf = self.renderer.export(
                &compiled,
                template,
                &PdfSettings {
                    ident: path.into(),
                    tagged: true,
                },
            )?;
            Ok((pdf, compiled.page_count()))
        });
        match rendered {
            Ok((pdf, pages)) => {
                self.output.write(path, &pdf)?;
                self.wrote(path.into(), pages, template);
            }
            Err(error) => self.fail(path.into(), error.to_string()),
        }
        Ok(())
    }
}

const CASE_TEMPLATE: &str = "case.typ";
const LETTER_TEMPLATE: &str = "letter.typ";

/// A chunk rendered and cut into its documents, in memory.
pub(crate) struct CutChunk {
    part: BundlePart,
    /// (output path, file, pages) of each document.
    files: Vec<(String, Vec<u8>, usize)>,
}

/// Compiles a chunk of documents (items `range`), finds where each starts by the layout's
/// label, cuts each out as a file (`describe` names it and its bookmarks) and returns them
/// with the chunk for its bundle. `inspect` reads more of the compiled chunk for `describe`.
fn render_and_cut<Extra>(
    renderer: &Renderer,
    layout: &DocumentLayout,
    data: &[u8],
    range: Range<usize>,
    inspect: impl FnOnce(&Compiled, usize) -> Result<Extra, PipelineError>,
    describe: impl Fn(&Extra, usize, usize, Range<usize>) -> Described,
) -> Result<CutChunk, PipelineError> {
    let (compiled, pdf) = renderer.compile_and_export(
        layout.template,
        data,
        &PdfSettings::untagged(layout.ident.clone()),
    )?;
    let starts = paper_starts(&compiled, layout.template, layout.start_label, range.len())?;
    let extra = inspect(&compiled, range.len())?;
    let total = compiled.page_count();
    let mut pieces = Vec::with_capacity(range.len());
    let mut entries = Vec::with_capacity(range.len());
    let mut documents = Vec::with_capacity(range.len());
    let mut paths = Vec::with_capacity(range.len());
    for (position, index) in range.enumerate() {
        let pages = pages_of(&starts, position, total);
        documents.push((index, pages.start));
        let described = describe(&extra, index, position, pages);
        pieces.push(described.piece);
        entries.push(described.entry);
        paths.push(described.path);
    }
    let rendered = RenderedChunk {
        name: layout.ident.clone(),
        pdf,
        page_numbers: compiled.page_numbers(),
        stamps: Vec::new(),
    };
    let rendered = if layout.pleading_page_numbers {
        rendered.with_pleading_page_numbers()
    } else {
        rendered
    };
    let mut parsed = ParsedChunk::parse(rendered)?;
    parsed.release_bytes();
    let files = assemble::split(&parsed, &pieces)?
        .into_iter()
        .zip(paths)
        .zip(&pieces)
        .map(|((file, path), piece)| (path, file, piece.pages.len()))
        .collect();
    Ok(CutChunk {
        part: BundlePart {
            parsed,
            entries,
            documents,
        },
        files,
    })
}

/// Renders court cases `range` as one chunk and cuts each case's motion and order out of it.
fn cut_cases(
    renderer: &Renderer,
    letterhead: &Letterhead<'_>,
    cases: &[CasePlan],
    range: Range<usize>,
    ident: &str,
) -> Result<CutChunk, PipelineError> {
    const TEMPLATE: &str = CASE_TEMPLATE;
    let title = "Motions and proposed orders for relief from cannabis convictions";
    let data = case_chunk(renderer, letterhead, &cases[range.clone()], title)?;
    render_and_cut(
        renderer,
        &DocumentLayout {
            template: TEMPLATE,
            start_label: "clearance-case",
            ident: format!("cases-{ident}"),
            pleading_page_numbers: true,
        },
        &data,
        range,
        |compiled, count| paper_starts(compiled, TEMPLATE, "clearance-order", count),
        |order_starts, index, position, pages| {
            let case = &cases[index];
            let children = vec![
                ("Motion".to_string(), 0),
                (
                    "[Proposed] order".to_string(),
                    order_starts[position] - pages.start,
                ),
            ];
            Described {
                piece: Piece {
                    title: format!(
                        "People's motion and proposed order, case {}",
                        case.case_numbers_text()
                    ),
                    pages: pages.clone(),
                    bookmarks: children.clone(),
                },
                entry: BundleEntry {
                    bookmark: format!("{} — {}", case.case_numbers_text(), case.defendant),
                    children,
                    pages,
                },
                path: format!("cases/{}.pdf", case.file_stem),
            }
        },
    )
}

/// Renders letters `range` as one chunk and cuts each letter out of it.
fn cut_letters(
    renderer: &Renderer,
    letterhead: &Letterhead<'_>,
    letters: &[LetterPlan],
    range: Range<usize>,
    ident: &str,
) -> Result<CutChunk, PipelineError> {
    let data = letter_chunk(renderer, letterhead, &letters[range.clone()])?;
    render_and_cut(
        renderer,
        &DocumentLayout {
            template: LETTER_TEMPLATE,
            start_label: "clearance-letter",
            ident: format!("letters-{ident}"),
            pleading_page_numbers: false,
        },
        &data,
        range,
        |_, _| Ok(()),
        |(), index, _, pages| {
            let letter = &letters[index];
            Described {
                piece: Piece {
                    title: "Notification of relief from cannabis convictions".into(),
                    pages: pages.clone(),
                    bookmarks: Vec::new(),
                },
                entry: BundleEntry {
                    bookmark: format!("{} {}", letter.zip(), letter.name),
                    children: Vec::new(),
                    pages,
                },
                path: format!("letters/{}.pdf", letter.file_stem()),
            }
        },
    )
}

/// One volume of a filing in memory: an optional cover, then pages `range` of the parts (pages
/// counted through all parts), with the bookmarks of the entries that start in it.
fn assemble_volume(
    parts: &[ParsedChunk],
    range: Range<usize>,
    entries: &[BundleEntry],
    cover: Option<&ParsedChunk>,
    title: &str,
    stamp_font: &StampFont,
) -> Result<Vec<u8>, PipelineError> {
    let mut bundle = BundleWriter::new(title, Vec::with_capacity(1 << 20), Some(stamp_font))?;
    if let Some(cover) = cover {
        let entry = BundleEntry {
            bookmark: "Cover".into(),
            children: Vec::new(),
            pages: 0..cover.page_count(),
        };
        bundle.append(cover, &[entry], PageLabelStyle::Named("Cover".into()))?;
    }
    let mut part_start = 0;
    for part in parts {
        let part_range = part_start..part_start + part.page_count();
        part_start = part_range.end;
        let start = range.start.max(part_range.start);
        let end = range.end.min(part_range.end);
        if start >= end {
            continue;
        }
        let local: Vec<BundleEntry> = entries
            .iter()
            .filter(|entry| (start..end).contains(&entry.pages.start))
            .map(|entry| BundleEntry {
                bookmark: entry.bookmark.clone(),
                children: Vec::new(),
                pages: entry.pages.start - start..entry.pages.end.min(end) - start,
            })
            .collect();
        bundle.append_pages(
            part,
            start - part_range.start..end - part_range.start,
            &local,
            PageLabelStyle::Printed,
        )?;
    }
    Ok(bundle.finish(title)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roman_numerals_for_front_matter() {
        let numerals: Vec<String> = [1, 2, 4, 9, 14, 40, 90, 400, 1994].map(roman).to_vec();
        assert_eq!(
            numerals,
            ["i", "ii", "iv", "ix", "xiv", "xl", "xc", "cd", "mcmxciv"]
        );
    }

    #[test]
    fn chunks_never_mix_groups_and_stay_under_the_size() {
        let items: Vec<u8> = [vec![0; 45], vec![1; 3], vec![0; 2]].concat();
        let ranges = chunk_ranges(&items, |item| *item);
        assert_eq!(ranges, vec![0..40, 40..45, 45..48, 48..50]);
        assert!(chunk_ranges::<u8, u8>(&[], |item| *item).is_empty());
    }

    #[test]
    fn exhibit_pages_say_which_page_of_which_exhibit() {
        let stamps = exhibit_stamps("A-2", 3, 17, 41);
        assert_eq!(stamps[0].text, "Exhibit A-2 \u{2014} page 3 of 17");
        assert_eq!(stamps[1].text, "41");
        assert_eq!(stamps[1].align, StampAlign::Right);
    }
}

/// Which paper `single_paper` renders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SinglePaper {
    /// A court case's motion and proposed order (`cases/<CASE>.pdf` in a batch).
    Case,
    /// The person's notification letter (`letters/<ID>.<language>.pdf` in a batch).
    Letter,
}

/// Why no single paper could be made from the determinations given.
#[derive(Debug, thiserror::Error)]
pub enum SinglePaperError {
    #[error("no determinations")]
    Empty,
    #[error("these determinations give no relief, so no paper")]
    NoPaper,
    #[error("these determinations make {0} papers: send one court case at a time")]
    Several(usize),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
}

/// One court case's motion and order, or one person's letter, in memory: the same plan, the
/// same template and the same cutting as a batch's `cases/` and `letters/` files, without the
/// bundles (the service's single-document requests). `renderer` is made once for the records'
/// as-of date and reused.
pub fn single_paper(
    renderer: &Renderer,
    office: &crate::config::OfficeProfile,
    records: &[crate::output::DeterminationRecord],
    kind: SinglePaper,
) -> Result<Vec<u8>, SinglePaperError> {
    let as_of = records.first().ok_or(SinglePaperError::Empty)?.as_of;
    let letters = kind == SinglePaper::Letter;
    let plans = crate::plan::plan(records, &crate::config::Contacts::default(), letters);
    let letter_mode = crate::plan::LetterMode::Notice;
    let letterhead = Letterhead {
        office,
        as_of,
        letter_mode: &letter_mode,
    };
    let cut = match kind {
        SinglePaper::Case => match plans.cases.len() {
            0 => return Err(SinglePaperError::NoPaper),
            1 => cut_cases(renderer, &letterhead, &plans.cases, 0..1, "single")?,
            several => return Err(SinglePaperError::Several(several)),
        },
        SinglePaper::Letter => {
            let letters: Vec<LetterPlan> = plans
                .letters
                .into_iter()
                .filter(|letter| letter.status != MailingStatus::Deceased)
                .collect();
            match letters.len() {
                0 => return Err(SinglePaperError::NoPaper),
                1 => cut_letters(renderer, &letterhead, &letters, 0..1, "single")?,
                several => return Err(SinglePaperError::Several(several)),
            }
        }
    };
    let (_, file, _) = cut
        .files
        .into_iter()
        .next()
        .expect("a chunk of one paper cuts one file");
    Ok(file)
}

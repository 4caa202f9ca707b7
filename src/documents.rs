//! The document half of the pipeline: plans → rendered chunks → files and bundles.
//!
//! Documents are rendered in chunks (many papers per typst compile) on plain threads (typst
//! parallelises inside a compile too; an outer rayon pool could overflow the stack). Each
//! worker renders a chunk, cuts it into per-document files and queues them for writing; the
//! chunks are then streamed into bundles. A document that fails to render (a glyph no shipped
//! font has, say) is reported with its file name and left out; everything else is still
//! written, and the run ends with exit code 3.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;

use crate::PipelineError;
use crate::assemble::{self, BundleEntry, BundleWriter, PageLabelStyle, Piece, RenderedChunk};
use crate::config::Language;
use crate::output::{DocumentFailure, OutputDir, OutputDocument, write_error_for};
use crate::plan::{CasePlan, LetterPlan, MailingStatus, OmnibusPlan};
use crate::render::documents::{Letterhead, case_chunk, cover, letter_chunk, omnibus};
use crate::render::{Compiled, PdfSettings, RenderError, Renderer};

/// Documents per typst compile: large enough to share the per-compile cost and font subsets,
/// small enough that typst's introspection (which grows faster than linearly) stays cheap.
pub(crate) const DOCUMENTS_PER_CHUNK: usize = 40;

/// The e-filing size limit of one court bundle file; larger filings are split into volumes.
pub const VOLUME_LIMIT_BYTES: u64 = 25_000_000;

/// Shared state of a document run.
pub(crate) struct DocumentRun<'a> {
    pub(crate) output: &'a OutputDir,
    pub(crate) files: &'a crate::output::BackgroundWriter,
    pub(crate) renderer: &'a Renderer,
    pub(crate) letterhead: Letterhead<'a>,
    pub(crate) jobs: usize,
    pub(crate) failures: Mutex<Vec<DocumentFailure>>,
    /// Output path → what it is.
    pub(crate) written: Mutex<BTreeMap<String, OutputDocument>>,
}

/// One rendered chunk of documents, ready for a bundle.
pub(crate) struct DocumentChunk {
    rendered: RenderedChunk,
    entries: Vec<BundleEntry>,
    /// (index into the items, first page within the chunk) of each document in the chunk.
    documents: Vec<(usize, usize)>,
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

    /// Runs `work` on every index in `0..count` on `jobs` plain threads, in any order; results
    /// come back in index order.
    pub(crate) fn parallel<T: Send>(
        &self,
        count: usize,
        work: impl Fn(usize) -> T + Sync,
    ) -> Vec<T> {
        let next = AtomicUsize::new(0);
        let mut results: Vec<(usize, T)> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..self.jobs.clamp(1, count.max(1)))
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let index = next.fetch_add(1, Ordering::Relaxed);
                            if index >= count {
                                return done;
                            }
                            done.push((index, work(index)));
                        }
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|worker| {
                    worker
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        results.sort_by_key(|(index, _)| *index);
        results.into_iter().map(|(_, result)| result).collect()
    }

    /// Renders `ranges` of items as chunks, in parallel. When a chunk fails to render, renders
    /// its items one by one to find and report the failing ones (by `file_of`); the others
    /// come back as single-item chunks.
    fn render_chunks(
        &self,
        ranges: &[Range<usize>],
        file_of: impl Fn(usize) -> String + Sync,
        render: impl Fn(Range<usize>, &str) -> Result<DocumentChunk, PipelineError> + Sync,
    ) -> Result<Vec<DocumentChunk>, PipelineError> {
        let results = self.parallel(ranges.len(), |chunk_index| {
            let range = ranges[chunk_index].clone();
            match render(range.clone(), &format!("{chunk_index}")) {
                Ok(chunk) => Ok(vec![chunk]),
                Err(PipelineError::Render(_)) => {
                    let mut chunks = Vec::new();
                    for index in range {
                        match render(index..index + 1, &format!("{chunk_index}-{index}")) {
                            Ok(chunk) => chunks.push(chunk),
                            Err(PipelineError::Render(error)) => {
                                self.fail(file_of(index), error.to_string());
                            }
                            Err(other) => return Err(other),
                        }
                    }
                    Ok(chunks)
                }
                Err(other) => Err(other),
            }
        });
        let mut chunks = Vec::with_capacity(ranges.len());
        for result in results {
            chunks.extend(result?);
        }
        Ok(chunks)
    }

    /// Cuts the pieces out of a rendered chunk and queues them as files at `paths`.
    fn write_pieces(
        &self,
        rendered: &RenderedChunk,
        pieces: &[Piece],
        paths: Vec<String>,
        template: &'static str,
    ) -> Result<(), PipelineError> {
        let files = assemble::split(rendered, pieces)?;
        for ((path, file), piece) in paths.into_iter().zip(files).zip(pieces) {
            self.files.write(self.output.staging().join(&path), file)?;
            self.wrote(path, piece.pages.len(), template);
        }
        Ok(())
    }

    /// Renders every case, writes `cases/<stem>.pdf`, and returns the chunks for the bundle.
    pub(crate) fn write_cases(
        &self,
        cases: &[CasePlan],
    ) -> Result<Vec<DocumentChunk>, PipelineError> {
        let ranges: Vec<Range<usize>> = (0..cases.len())
            .step_by(DOCUMENTS_PER_CHUNK)
            .map(|start| start..(start + DOCUMENTS_PER_CHUNK).min(cases.len()))
            .collect();
        self.render_chunks(
            &ranges,
            |index| format!("cases/{}.pdf", cases[index].file_stem),
            |range, ident| self.render_cases(cases, range, ident),
        )
    }

    fn render_cases(
        &self,
        cases: &[CasePlan],
        range: Range<usize>,
        ident: &str,
    ) -> Result<DocumentChunk, PipelineError> {
        const TEMPLATE: &str = "case.typ";
        let plans = &cases[range.clone()];
        let title = "Motions and proposed orders for relief from cannabis convictions";
        let data = case_chunk(self.renderer, &self.letterhead, plans, title)?;
        let compiled = self.renderer.compile(TEMPLATE, &data)?;
        let pdf = self.renderer.export(
            &compiled,
            TEMPLATE,
            &PdfSettings {
                ident: format!("cases-{ident}"),
                tagged: false,
            },
        )?;
        let case_starts = paper_starts(&compiled, TEMPLATE, "clearance-case", plans.len())?;
        let order_starts = paper_starts(&compiled, TEMPLATE, "clearance-order", plans.len())?;
        let total = compiled.page_count();
        let mut pieces = Vec::with_capacity(plans.len());
        let mut entries = Vec::with_capacity(plans.len());
        let mut documents = Vec::with_capacity(plans.len());
        for (position, case) in plans.iter().enumerate() {
            let pages = pages_of(&case_starts, position, total);
            let children = vec![
                ("Motion".to_string(), 0),
                (
                    "[Proposed] order".to_string(),
                    order_starts[position] - pages.start,
                ),
            ];
            pieces.push(Piece {
                title: format!(
                    "People's motion and proposed order, case {}",
                    case.case_numbers_text()
                ),
                pages: pages.clone(),
                bookmarks: children.clone(),
            });
            entries.push(BundleEntry {
                bookmark: format!("{} — {}", case.case_numbers_text(), case.defendant),
                children,
                pages: pages.clone(),
            });
            documents.push((range.start + position, pages.start));
        }
        let rendered = RenderedChunk {
            name: format!("case chunk {ident}"),
            pdf,
            page_numbers: compiled.page_numbers(),
            pleading_page_numbers: true,
        };
        let paths = plans
            .iter()
            .map(|case| format!("cases/{}.pdf", case.file_stem))
            .collect();
        self.write_pieces(&rendered, &pieces, paths, TEMPLATE)?;
        Ok(DocumentChunk {
            rendered,
            entries,
            documents,
        })
    }

    /// Writes `bundles/case-packets.pdf`: an index, then every case in case-number order, one
    /// bookmark per case, page labels equal to the printed page numbers.
    pub(crate) fn write_packets_bundle(
        &self,
        cases: &[CasePlan],
        chunks: &[DocumentChunk],
    ) -> Result<(), PipelineError> {
        const TEMPLATE: &str = "packets-index.typ";
        if chunks.is_empty() {
            return Ok(());
        }
        // Bundle page of each case, once the index's own length is known: render the index,
        // and again if its length changed the page numbers it prints.
        let mut index_pages = 1usize;
        let index = loop {
            let mut entries = Vec::new();
            let mut page = index_pages;
            for chunk in chunks {
                for &(case_index, first) in &chunk.documents {
                    let case = &cases[case_index];
                    entries.push(json!({
                        "case_numbers": case.case_numbers_text(),
                        "defendant": case.defendant,
                        "counts": case.counts.len(),
                        "page": page + first + 1,
                    }));
                }
                page += chunk.rendered.page_numbers.len();
            }
            let data = json!({
                "title": "Case packets: motions and proposed orders",
                "subtitle": format!("{} cases, in case-number order; page numbers are pages of this bundle", entries.len()),
                "agency": self.letterhead.office.agency.name,
                "columns": ["Case No.", "Defendant", "Counts", "Page"],
                "pages": entries.chunks(36).collect::<Vec<_>>(),
            });
            let bytes = serde_json::to_vec(&data).expect("JSON values serialize");
            let compiled = self.renderer.compile(TEMPLATE, &bytes)?;
            if compiled.page_count() == index_pages {
                let pdf = self.renderer.export(
                    &compiled,
                    TEMPLATE,
                    &PdfSettings {
                        ident: "packets-index".into(),
                        tagged: false,
                    },
                )?;
                break RenderedChunk {
                    name: "packets index".into(),
                    pdf,
                    page_numbers: compiled.page_numbers(),
                    pleading_page_numbers: false,
                };
            }
            index_pages = compiled.page_count();
        };
        let index_entry = BundleEntry {
            bookmark: "Index".into(),
            children: Vec::new(),
            pages: 0..index.page_numbers.len(),
        };
        let parts = std::iter::once((&index, vec![index_entry], PageLabelStyle::Roman)).chain(
            chunks.iter().map(|chunk| {
                (
                    &chunk.rendered,
                    chunk.entries.clone(),
                    PageLabelStyle::Printed,
                )
            }),
        );
        self.write_bundle(
            "bundles/case-packets.pdf",
            "Case packets: motions and proposed orders",
            TEMPLATE,
            parts,
        )
    }

    /// Streams parts into a bundle file.
    fn write_bundle<'c>(
        &self,
        path: &str,
        title: &str,
        template: &'static str,
        parts: impl IntoIterator<Item = (&'c RenderedChunk, Vec<BundleEntry>, PageLabelStyle)>,
    ) -> Result<(), PipelineError> {
        let file = std::fs::File::create(self.output.path(path)?).map_err(write_error_for(path))?;
        let mut bundle = BundleWriter::new(path, std::io::BufWriter::with_capacity(1 << 20, file))?;
        for (chunk, entries, labels) in parts {
            bundle.append(chunk, &entries, labels)?;
        }
        let pages = bundle.page_count();
        let mut sink = bundle.finish(title)?;
        std::io::Write::flush(&mut sink).map_err(write_error_for(path))?;
        self.wrote(path.into(), pages, template);
        Ok(())
    }

    /// Writes the omnibus filing, `bundles/filing.pdf` (or `filing-redacted.pdf`), split into
    /// volumes of at most `volume_limit` bytes, each behind a cover, when it is larger.
    pub(crate) fn write_filing(
        &self,
        plan: &OmnibusPlan,
        redacted: bool,
        volume_limit: u64,
    ) -> Result<(), PipelineError> {
        const TEMPLATE: &str = "omnibus.typ";
        let stem = if redacted {
            "bundles/filing-redacted"
        } else {
            "bundles/filing"
        };
        let rendered = (|| {
            let data = omnibus(self.renderer, &self.letterhead, plan, redacted)?;
            let compiled = self.renderer.compile(TEMPLATE, &data)?;
            let pdf = self.renderer.export(
                &compiled,
                TEMPLATE,
                &PdfSettings {
                    ident: stem.into(),
                    tagged: false,
                },
            )?;
            Ok::<_, PipelineError>((compiled, pdf))
        })();
        let (compiled, pdf) = match rendered {
            Ok(rendered) => rendered,
            Err(PipelineError::Render(error)) => {
                self.fail(format!("{stem}.pdf"), error.to_string());
                return Ok(());
            }
            Err(other) => return Err(other),
        };
        let parts = compiled.labelled_pages("clearance-part");
        let total = compiled.page_count();
        let starts: Vec<usize> = parts.iter().map(|(page, _)| *page).collect();
        let entries: Vec<BundleEntry> = parts
            .iter()
            .enumerate()
            .map(|(position, (_, title))| BundleEntry {
                bookmark: title.clone(),
                children: Vec::new(),
                pages: pages_of(&starts, position, total),
            })
            .collect();
        let chunk = RenderedChunk {
            name: stem.into(),
            pdf,
            page_numbers: compiled.page_numbers(),
            pleading_page_numbers: false,
        };
        let title = if redacted {
            "People's omnibus motion for relief from cannabis convictions (public version)"
        } else {
            "People's omnibus motion for relief from cannabis convictions"
        };
        let whole = assemble_volume(&chunk, 0..total, &entries, None, title)?;
        if whole.len() as u64 <= volume_limit {
            let path = format!("{stem}.pdf");
            self.files.write(self.output.staging().join(&path), whole)?;
            self.wrote(path, total, TEMPLATE);
            return Ok(());
        }
        // Too large for one e-filing: equal page runs, one more volume until each fits.
        let mut volume_count = (whole.len() as u64).div_ceil(volume_limit) as usize;
        loop {
            if volume_count > total {
                return Err(PipelineError::Render(RenderError::Document {
                    template: TEMPLATE.into(),
                    message: format!(
                        "{stem}.pdf cannot be split into volumes under {volume_limit} bytes"
                    ),
                }));
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
                    let first = chunk.page_numbers[entry.pages.start];
                    let last = chunk.page_numbers[entry.pages.end - 1];
                    (
                        entry.bookmark.clone(),
                        format!("Volume {}", volume + 1),
                        format!("pages {first}–{last}"),
                    )
                })
                .collect();
            let mut volumes = Vec::with_capacity(volume_count);
            for (volume, range) in ranges.iter().enumerate() {
                let pages = (
                    chunk.page_numbers[range.start] as usize,
                    chunk.page_numbers[range.end - 1] as usize,
                );
                let cover_data = cover(
                    &self.letterhead,
                    title,
                    volume + 1,
                    volume_count,
                    pages,
                    if volume == 0 { &contents } else { &[] },
                );
                let cover_chunk =
                    self.render_cover(&cover_data, &format!("{stem}-vol-{}", volume + 1))?;
                let volume_title = format!("{title}, volume {} of {volume_count}", volume + 1);
                let bytes = assemble_volume(
                    &chunk,
                    range.clone(),
                    &entries,
                    Some(&cover_chunk),
                    &volume_title,
                )?;
                volumes.push(bytes);
            }
            if volumes
                .iter()
                .all(|bytes| bytes.len() as u64 <= volume_limit)
            {
                for (volume, (bytes, range)) in volumes.into_iter().zip(&ranges).enumerate() {
                    let path = format!("{stem}-vol-{}.pdf", volume + 1);
                    self.files.write(self.output.staging().join(&path), bytes)?;
                    self.wrote(path, range.len() + 1, TEMPLATE);
                }
                return Ok(());
            }
            volume_count += 1;
        }
    }

    fn render_cover(&self, data: &[u8], ident: &str) -> Result<RenderedChunk, PipelineError> {
        const TEMPLATE: &str = "cover.typ";
        let compiled = self.renderer.compile(TEMPLATE, data)?;
        let pdf = self.renderer.export(
            &compiled,
            TEMPLATE,
            &PdfSettings {
                ident: ident.into(),
                tagged: false,
            },
        )?;
        Ok(RenderedChunk {
            name: format!("cover of {ident}"),
            pdf,
            page_numbers: compiled.page_numbers(),
            pleading_page_numbers: false,
        })
    }

    /// Renders the letters (not to the deceased), writes `letters/<SUBJECT_ID>.<lang>.pdf`,
    /// and returns the chunks with the index of each letter in `letters`.
    pub(crate) fn write_letters(
        &self,
        letters: &[LetterPlan],
    ) -> Result<Vec<DocumentChunk>, PipelineError> {
        // Chunks never mix languages or mailable and unmailable letters, so each letters bundle
        // is made of whole chunks.
        let mut ranges: Vec<Range<usize>> = Vec::new();
        let mut start = 0;
        while start < letters.len() {
            let group = |letter: &LetterPlan| (letter.status, letter.language);
            let mut end = start + 1;
            while end < letters.len()
                && end - start < DOCUMENTS_PER_CHUNK
                && group(&letters[end]) == group(&letters[start])
            {
                end += 1;
            }
            if letters[start].status != MailingStatus::Deceased {
                ranges.push(start..end);
            }
            start = end;
        }
        self.render_chunks(
            &ranges,
            |index| format!("letters/{}.pdf", letters[index].file_stem()),
            |range, ident| self.render_letters(letters, range, ident),
        )
    }

    fn render_letters(
        &self,
        letters: &[LetterPlan],
        range: Range<usize>,
        ident: &str,
    ) -> Result<DocumentChunk, PipelineError> {
        const TEMPLATE: &str = "letter.typ";
        let plans = &letters[range.clone()];
        let data = letter_chunk(self.renderer, &self.letterhead, plans)?;
        let compiled = self.renderer.compile(TEMPLATE, &data)?;
        let pdf = self.renderer.export(
            &compiled,
            TEMPLATE,
            &PdfSettings {
                ident: format!("letters-{ident}"),
                tagged: false,
            },
        )?;
        let starts = paper_starts(&compiled, TEMPLATE, "clearance-letter", plans.len())?;
        let total = compiled.page_count();
        let mut pieces = Vec::with_capacity(plans.len());
        let mut entries = Vec::with_capacity(plans.len());
        let mut documents = Vec::with_capacity(plans.len());
        for (position, letter) in plans.iter().enumerate() {
            let pages = pages_of(&starts, position, total);
            pieces.push(Piece {
                title: "Notification of relief from cannabis convictions".into(),
                pages: pages.clone(),
                bookmarks: Vec::new(),
            });
            entries.push(BundleEntry {
                bookmark: format!("{} {}", letter.zip(), letter.name),
                children: Vec::new(),
                pages: pages.clone(),
            });
            documents.push((range.start + position, pages.start));
        }
        let rendered = RenderedChunk {
            name: format!("letter chunk {ident}"),
            pdf,
            page_numbers: compiled.page_numbers(),
            pleading_page_numbers: false,
        };
        let paths = plans
            .iter()
            .map(|letter| format!("letters/{}.pdf", letter.file_stem()))
            .collect();
        self.write_pieces(&rendered, &pieces, paths, TEMPLATE)?;
        Ok(DocumentChunk {
            rendered,
            entries,
            documents,
        })
    }

    /// Writes `bundles/letters.<lang>.pdf` (mailable letters of each language, by ZIP code) and
    /// `bundles/mailing-list.csv` (every letter, mailable or not, and where to find it).
    pub(crate) fn write_letter_bundles(
        &self,
        letters: &[LetterPlan],
        chunks: &[DocumentChunk],
    ) -> Result<(), PipelineError> {
        // (bundle, first page) of each letter in a bundle.
        let mut placed: BTreeMap<usize, (String, usize)> = BTreeMap::new();
        for language in [Language::En, Language::Es] {
            let bundle_chunks: Vec<&DocumentChunk> = chunks
                .iter()
                .filter(|chunk| {
                    chunk.documents.first().is_some_and(|&(index, _)| {
                        letters[index].status == MailingStatus::Ready
                            && letters[index].language == language
                    })
                })
                .collect();
            if bundle_chunks.is_empty() {
                continue;
            }
            let path = format!("bundles/letters.{}.pdf", language.code());
            let mut page = 0;
            for chunk in &bundle_chunks {
                for &(index, first) in &chunk.documents {
                    placed.insert(index, (path.clone(), page + first + 1));
                }
                page += chunk.rendered.page_numbers.len();
            }
            let title = match language {
                Language::En => "Notification letters (English), by ZIP code",
                Language::Es => "Cartas de notificación (español), por código postal",
            };
            self.write_bundle(
                &path,
                title,
                "letter.typ",
                bundle_chunks.iter().map(|chunk| {
                    (
                        &chunk.rendered,
                        chunk.entries.clone(),
                        PageLabelStyle::Sequential,
                    )
                }),
            )?;
        }
        let written = self
            .written
            .lock()
            .expect("no panics while holding the lock")
            .clone();
        let mut csv = Vec::new();
        crate::ingest::csv::write_go_record(
            &mut csv,
            [
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
            ]
            .iter()
            .map(|field| field.as_bytes()),
        );
        for (index, letter) in letters.iter().enumerate() {
            let file = format!("letters/{}.pdf", letter.file_stem());
            let status = match letter.status {
                MailingStatus::Ready => "ready",
                MailingStatus::NoAddress => "no_address",
                MailingStatus::Deceased => "deceased",
            };
            let status = if letter.status != MailingStatus::Deceased && !written.contains_key(&file)
            {
                "render_failed"
            } else {
                status
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
            let fields = [
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
                if written.contains_key(&file) {
                    file
                } else {
                    String::new()
                },
                bundle,
                page,
            ];
            crate::ingest::csv::write_go_record(&mut csv, fields.iter().map(String::as_bytes));
        }
        self.output.write("bundles/mailing-list.csv", &csv)?;
        Ok(())
    }

    /// Renders a single document (the summary report) to `path`.
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

/// One volume of a filing in memory: an optional cover, then pages `range`, with the
/// bookmarks of the parts that start in it.
fn assemble_volume(
    chunk: &RenderedChunk,
    range: Range<usize>,
    entries: &[BundleEntry],
    cover: Option<&RenderedChunk>,
    title: &str,
) -> Result<Vec<u8>, PipelineError> {
    let mut bundle = BundleWriter::new(&chunk.name, Vec::with_capacity(1 << 20))?;
    if let Some(cover) = cover {
        let entry = BundleEntry {
            bookmark: "Cover".into(),
            children: Vec::new(),
            pages: 0..cover.page_numbers.len(),
        };
        bundle.append(cover, &[entry], PageLabelStyle::Named("Cover".into()))?;
    }
    let local: Vec<BundleEntry> = entries
        .iter()
        .filter(|entry| range.contains(&entry.pages.start))
        .map(|entry| BundleEntry {
            bookmark: entry.bookmark.clone(),
            children: Vec::new(),
            pages: entry.pages.start - range.start..entry.pages.end.min(range.end) - range.start,
        })
        .collect();
    bundle.append_pages(chunk, range, &local, PageLabelStyle::Printed)?;
    Ok(bundle.finish(title)?)
}

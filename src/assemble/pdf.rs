//! A streaming PDF writer and an object copier over lopdf.
//!
//! Objects are written as soon as they are copied, so a bundle of any size is assembled with the
//! memory of one source document at a time. Files are PDF 1.7 with a classic cross-reference
//! table; source documents' object and cross-reference streams are rewritten as plain objects.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use lopdf::{Dictionary, Document, Object, ObjectId, Stream, StringFormat};

/// Writes indirect objects one at a time and the cross-reference table at the end.
pub(crate) struct PdfWriter<W: Write> {
    out: W,
    position: u64,
    /// Byte offset of object `n` at index `n - 1`; `None` until written.
    offsets: Vec<Option<u64>>,
}

impl<W: Write> PdfWriter<W> {
    pub(crate) fn new(mut out: W) -> io::Result<PdfWriter<W>> {
        // The binary comment marks the file as binary (PDF/A requires it).
        let header = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";
        out.write_all(header)?;
        Ok(PdfWriter {
            out,
            position: header.len() as u64,
            offsets: Vec::new(),
        })
    }

    /// Reserves the next object number.
    pub(crate) fn reserve(&mut self) -> ObjectId {
        self.offsets.push(None);
        (self.offsets.len() as u32, 0)
    }

    /// Writes object `id` (reserved earlier).
    pub(crate) fn write(&mut self, id: ObjectId, object: &Object) -> io::Result<()> {
        let mut bytes = Vec::with_capacity(256);
        writeln!(bytes, "{} 0 obj", id.0)?;
        match object {
            Object::Stream(stream) => {
                let mut stream = stream.clone();
                stream
                    .dict
                    .set("Length", Object::Integer(stream.content.len() as i64));
                lopdf::Writer::write_object(&mut bytes, &Object::Stream(stream))
                    .map_err(io::Error::other)?;
            }
            _ => lopdf::Writer::write_object(&mut bytes, object).map_err(io::Error::other)?,
        }
        bytes.extend_from_slice(b"\nendobj\n");
        self.offsets[id.0 as usize - 1] = Some(self.position);
        self.out.write_all(&bytes)?;
        self.position += bytes.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub(crate) fn position(&self) -> u64 {
        self.position
    }

    /// Writes the cross-reference table and trailer; returns the sink.
    pub(crate) fn finish(
        mut self,
        root: ObjectId,
        info: ObjectId,
        file_id: [Vec<u8>; 2],
    ) -> io::Result<W> {
        let xref_start = self.position;
        let mut table = Vec::with_capacity(self.offsets.len() * 20 + 128);
        write!(
            table,
            "xref\n0 {}\n0000000000 65535 f \n",
            self.offsets.len() + 1
        )?;
        for offset in &self.offsets {
            match offset {
                Some(offset) => writeln!(table, "{offset:010} 00000 n ")?,
                None => table.extend_from_slice(b"0000000000 65535 f \n"),
            }
        }
        let mut trailer = Dictionary::new();
        trailer.set("Size", Object::Integer(self.offsets.len() as i64 + 1));
        trailer.set("Root", Object::Reference(root));
        trailer.set("Info", Object::Reference(info));
        trailer.set(
            "ID",
            Object::Array(
                file_id
                    .into_iter()
                    .map(|id| Object::String(id, StringFormat::Hexadecimal))
                    .collect(),
            ),
        );
        table.extend_from_slice(b"trailer\n");
        lopdf::Writer::write_object(&mut table, &Object::Dictionary(trailer))
            .map_err(io::Error::other)?;
        write!(table, "\nstartxref\n{xref_start}\n%%EOF\n")?;
        self.out.write_all(&table)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Copies objects from one source document into a [`PdfWriter`], renumbering them and writing
/// each as soon as it is reached. References are followed, so copying a page copies its content,
/// fonts and images; objects reached twice are written once.
pub(crate) struct Copier<'a> {
    source: &'a Document,
    map: HashMap<ObjectId, ObjectId>,
    pending: Vec<ObjectId>,
    /// Character codes of the digits 0-9 in each font (by source object), when it has them all.
    digit_codes: HashMap<ObjectId, Option<[u16; 10]>>,
}

/// Where the page number goes on pleading paper: centred in the text column, on the first line
/// of the footer that `templates/lib/pleading.typ` leaves empty for it.
pub(crate) struct PageNumberSlot {
    /// Centre of the text column, points from the left edge.
    pub(crate) center_x: f64,
    /// Baseline, points from the bottom edge.
    pub(crate) baseline_y: f64,
    pub(crate) font_size: f64,
}

/// The slot of `lib/pleading.typ`: text column 1.4 in to 8.5 - 0.65 in; bottom margin 57 pt,
/// first footer line with an 8 pt top edge.
pub(crate) const PLEADING_PAGE_NUMBER: PageNumberSlot = PageNumberSlot {
    center_x: f64::midpoint(100.8, 612.0 - 46.8),
    baseline_y: 57.0 - 8.0,
    font_size: 11.0,
};

impl<'a> Copier<'a> {
    pub(crate) fn new(source: &'a Document) -> Copier<'a> {
        Copier {
            source,
            map: HashMap::new(),
            pending: Vec::new(),
            digit_codes: HashMap::new(),
        }
    }

    fn target<W: Write>(&mut self, id: ObjectId, writer: &mut PdfWriter<W>) -> ObjectId {
        if let Some(&target) = self.map.get(&id) {
            return target;
        }
        let target = writer.reserve();
        self.map.insert(id, target);
        self.pending.push(id);
        target
    }

    /// The object with references renumbered (referenced objects are queued for copying).
    pub(crate) fn rewrite<W: Write>(
        &mut self,
        object: &Object,
        writer: &mut PdfWriter<W>,
    ) -> Object {
        match object {
            Object::Reference(id) => Object::Reference(self.target(*id, writer)),
            Object::Array(items) => Object::Array(
                items
                    .iter()
                    .map(|item| self.rewrite(item, writer))
                    .collect(),
            ),
            Object::Dictionary(dictionary) => {
                Object::Dictionary(self.rewrite_dictionary(dictionary, writer))
            }
            Object::Stream(stream) => {
                let dict = self.rewrite_dictionary(&stream.dict, writer);
                let mut copy = Stream::new(dict, stream.content.clone());
                copy.allows_compression = stream.allows_compression;
                Object::Stream(copy)
            }
            other => other.clone(),
        }
    }

    fn rewrite_dictionary<W: Write>(
        &mut self,
        dictionary: &Dictionary,
        writer: &mut PdfWriter<W>,
    ) -> Dictionary {
        let mut copy = Dictionary::new();
        for (key, value) in dictionary {
            copy.set(key.clone(), self.rewrite(value, writer));
        }
        copy
    }

    /// Writes every object queued so far (and what they reference).
    pub(crate) fn flush<W: Write>(&mut self, writer: &mut PdfWriter<W>) -> io::Result<()> {
        while let Some(id) = self.pending.pop() {
            let object = self.source.get_object(id).cloned().unwrap_or(Object::Null);
            let copy = self.rewrite(&object, writer);
            writer.write(self.map[&id], &copy)?;
        }
        Ok(())
    }

    /// Copies page `page_id` under `parent`: inherited attributes are made explicit, and the
    /// link to the source's structure tree is dropped (assembled files are not tagged). With
    /// `page_number`, the number is drawn in the page's footer slot as text in the page's own
    /// embedded font.
    pub(crate) fn copy_page<W: Write>(
        &mut self,
        page_id: ObjectId,
        parent: ObjectId,
        page_number: Option<(u64, &PageNumberSlot)>,
        writer: &mut PdfWriter<W>,
    ) -> io::Result<ObjectId> {
        let mut page = self
            .source
            .get_dictionary(page_id)
            .map_err(io::Error::other)?
            .clone();
        for key in [&b"Resources"[..], b"MediaBox", b"CropBox", b"Rotate"] {
            if page.has(key) {
                continue;
            }
            if let Some(value) = inherited(self.source, &page, key) {
                page.set(key, value);
            }
        }
        page.remove(b"Parent");
        page.remove(b"StructParents");
        page.remove(b"Tabs");
        let stamped_contents = match page_number {
            Some((number, slot)) => {
                let contents = self.stamped_contents(&page, number, slot, writer)?;
                page.remove(b"Contents");
                Some(contents)
            }
            None => None,
        };
        let target = writer.reserve();
        self.map.insert(page_id, target);
        let mut copy = self.rewrite_dictionary(&page, writer);
        if let Some(contents) = stamped_contents {
            copy.set("Contents", contents);
        }
        copy.set("Parent", Object::Reference(parent));
        writer.write(target, &Object::Dictionary(copy))?;
        self.flush(writer)?;
        Ok(target)
    }
}

impl Copier<'_> {
    /// `page`'s content with the page number added (copied, target references): `q` before the
    /// original content, so nothing it leaves in the graphics state carries over, then `Q` and
    /// the number.
    fn stamped_contents<W: Write>(
        &mut self,
        page: &Dictionary,
        number: u64,
        slot: &PageNumberSlot,
        writer: &mut PdfWriter<W>,
    ) -> io::Result<Object> {
        let missing =
            |what: &str| io::Error::other(format!("cannot print the page number: {what}"));
        let resources = match page.get(b"Resources") {
            Ok(Object::Reference(id)) => self
                .source
                .get_dictionary(*id)
                .map_err(io::Error::other)?
                .clone(),
            Ok(Object::Dictionary(dictionary)) => dictionary.clone(),
            _ => return Err(missing("the page has no resources")),
        };
        let fonts = self
            .resolve_dictionary(resources.get(b"Font").ok())
            .ok_or_else(|| missing("the page has no fonts"))?;
        let mut font_choice = None;
        for (name, font) in &fonts {
            let Ok(font_id) = font.as_reference() else {
                continue;
            };
            if let Some(codes) = self.digits_of(font_id) {
                font_choice = Some((name.clone(), codes));
                break;
            }
        }
        let (font_name, codes) =
            font_choice.ok_or_else(|| missing("no font on the page has the digits 0-9"))?;
        let color_spaces = self
            .resolve_dictionary(resources.get(b"ColorSpace").ok())
            .unwrap_or_default();
        let gray = color_spaces
            .iter()
            .find_map(|(name, space)| self.is_gray_icc(space).then(|| name.clone()));
        let color = match &gray {
            Some(name) => format!("/{} cs 0 scn", String::from_utf8_lossy(name)),
            None => "0 g".to_string(),
        };
        let digits = number.to_string();
        let mut glyphs = String::new();
        for digit in digits.bytes() {
            let _ = write!(glyphs, "{:04X}", codes[usize::from(digit - b'0')]);
        }
        // Liberation Serif digits are half an em wide.
        let width = digits.len() as f64 * slot.font_size * 0.5;
        let stamp = format!(
            "Q q {color} BT /{} {} Tf 1 0 0 1 {:.2} {:.2} Tm <{glyphs}> Tj ET Q",
            String::from_utf8_lossy(&font_name),
            slot.font_size,
            slot.center_x - width / 2.0,
            slot.baseline_y
        );
        let mut contents = vec![];
        let open = writer.reserve();
        writer.write(
            open,
            &Object::Stream(Stream::new(Dictionary::new(), b"q".to_vec())),
        )?;
        contents.push(Object::Reference(open));
        match page.get(b"Contents") {
            Ok(Object::Array(items)) => {
                contents.extend(items.iter().map(|item| self.rewrite(item, writer)));
            }
            Ok(other) => contents.push(self.rewrite(other, writer)),
            Err(_) => {}
        }
        let close = writer.reserve();
        writer.write(
            close,
            &Object::Stream(Stream::new(Dictionary::new(), stamp.into_bytes())),
        )?;
        contents.push(Object::Reference(close));
        Ok(Object::Array(contents))
    }

    fn resolve_dictionary(&self, object: Option<&Object>) -> Option<Dictionary> {
        match object? {
            Object::Dictionary(dictionary) => Some(dictionary.clone()),
            Object::Reference(id) => self.source.get_dictionary(*id).ok().cloned(),
            _ => None,
        }
    }

    fn is_gray_icc(&self, space: &Object) -> bool {
        let array = match space {
            Object::Array(array) => array.clone(),
            Object::Reference(id) => match self.source.get_object(*id) {
                Ok(Object::Array(array)) => array.clone(),
                _ => return false,
            },
            _ => return false,
        };
        let is_icc =
            array.first().and_then(|name| name.as_name().ok()) == Some(b"ICCBased".as_slice());
        let components = array
            .get(1)
            .and_then(|profile| profile.as_reference().ok())
            .and_then(|id| self.source.get_object(id).ok())
            .and_then(|profile| profile.as_stream().ok())
            .and_then(|profile| profile.dict.get(b"N").ok())
            .and_then(|n| n.as_i64().ok());
        is_icc && components == Some(1)
    }

    /// The character codes of 0-9 in a Type 0 font, from its ToUnicode map (cached per font).
    fn digits_of(&mut self, font_id: ObjectId) -> Option<[u16; 10]> {
        if let Some(known) = self.digit_codes.get(&font_id) {
            return *known;
        }
        let codes = (|| {
            let font = self.source.get_dictionary(font_id).ok()?;
            let to_unicode = font.get(b"ToUnicode").ok()?.as_reference().ok()?;
            let stream = self.source.get_object(to_unicode).ok()?.as_stream().ok()?;
            let content = stream
                .decompressed_content()
                .unwrap_or_else(|_| stream.content.clone());
            digit_codes_from_cmap(&String::from_utf8_lossy(&content))
        })();
        self.digit_codes.insert(font_id, codes);
        codes
    }
}

/// Reads `bfchar` entries `<code> <unicode>` of a ToUnicode CMap for the digits 0-9.
fn digit_codes_from_cmap(cmap: &str) -> Option<[u16; 10]> {
    let mut codes = [None; 10];
    let mut in_bfchar = false;
    for line in cmap.lines() {
        let line = line.trim();
        if line.ends_with("beginbfchar") {
            in_bfchar = true;
            continue;
        }
        if line == "endbfchar" {
            in_bfchar = false;
            continue;
        }
        if !in_bfchar {
            continue;
        }
        let mut parts = line.split_whitespace();
        let (Some(code), Some(unicode)) = (parts.next(), parts.next()) else {
            continue;
        };
        let parse =
            |hex: &str| u32::from_str_radix(hex.trim_matches(|c| c == '<' || c == '>'), 16).ok();
        let (Some(code), Some(unicode)) = (parse(code), parse(unicode)) else {
            continue;
        };
        if (0x30..=0x39).contains(&unicode) {
            codes[(unicode - 0x30) as usize] = u16::try_from(code).ok();
        }
    }
    let mut result = [0u16; 10];
    for (digit, code) in codes.iter().enumerate() {
        result[digit] = (*code)?;
    }
    Some(result)
}

fn inherited(document: &Document, page: &Dictionary, key: &[u8]) -> Option<Object> {
    let mut parent = page.get(b"Parent").ok()?.as_reference().ok()?;
    for _ in 0..32 {
        let node = document.get_dictionary(parent).ok()?;
        if let Ok(value) = node.get(key) {
            return Some(value.clone());
        }
        parent = node.get(b"Parent").ok()?.as_reference().ok()?;
    }
    None
}

/// A PDF text string: PDFDocEncoding-compatible ASCII as is, anything else as UTF-16BE.
pub(crate) fn text_string(text: &str) -> Object {
    if text
        .chars()
        .all(|character| (' '..='~').contains(&character))
    {
        Object::String(text.as_bytes().to_vec(), StringFormat::Literal)
    } else {
        let mut bytes = vec![0xfe, 0xff];
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&unit.to_be_bytes());
        }
        Object::String(bytes, StringFormat::Hexadecimal)
    }
}

/// What a source PDF says about itself, to carry PDF/A identification into assembled files.
pub(crate) struct PdfaIdentity {
    /// The XMP metadata packet (uncompressed XML).
    pub(crate) xmp: String,
    /// The document information dictionary.
    pub(crate) info: Dictionary,
    /// The catalog's `/OutputIntents` (references into the source).
    pub(crate) output_intents: Object,
}

impl PdfaIdentity {
    /// Reads the PDF/A identification of a document typst exported.
    pub(crate) fn of(document: &Document) -> io::Result<PdfaIdentity> {
        let catalog = document.catalog().map_err(io::Error::other)?;
        let metadata = catalog
            .get(b"Metadata")
            .and_then(Object::as_reference)
            .map_err(io::Error::other)?;
        let stream = document
            .get_object(metadata)
            .and_then(Object::as_stream)
            .map_err(io::Error::other)?;
        let xmp = String::from_utf8(stream.content.clone()).map_err(io::Error::other)?;
        let info_id = document
            .trailer
            .get(b"Info")
            .and_then(Object::as_reference)
            .map_err(io::Error::other)?;
        let info = document
            .get_dictionary(info_id)
            .map_err(io::Error::other)?
            .clone();
        let output_intents = catalog
            .get(b"OutputIntents")
            .map_err(io::Error::other)?
            .clone();
        Ok(PdfaIdentity {
            xmp,
            info,
            output_intents,
        })
    }

    /// The XMP packet for an assembled file: its own title, page count and identifiers.
    pub(crate) fn xmp_for(&self, title: &str, pages: usize, document_id: &str) -> String {
        let mut xmp = replace_element(
            &self.xmp,
            "<rdf:li xml:lang=\"x-default\">",
            "</rdf:li>",
            &escape_xml(title),
        );
        xmp = replace_element(
            &xmp,
            "<xmpTPg:NPages>",
            "</xmpTPg:NPages>",
            &pages.to_string(),
        );
        xmp = replace_element(
            &xmp,
            "<xmpMM:DocumentID>",
            "</xmpMM:DocumentID>",
            document_id,
        );
        if let Some(old_instance) = element_text(&xmp, "<xmpMM:InstanceID>", "</xmpMM:InstanceID>")
        {
            let old_instance = old_instance.to_string();
            xmp = xmp.replace(&old_instance, document_id);
        }
        xmp
    }

    /// The information dictionary for an assembled file (title consistent with the XMP).
    pub(crate) fn info_for(&self, title: &str) -> Dictionary {
        let mut info = self.info.clone();
        info.set("Title", text_string(title));
        info
    }
}

fn element_text<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = start + text[start..].find(close)?;
    Some(&text[start..end])
}

fn replace_element(text: &str, open: &str, close: &str, value: &str) -> String {
    let Some(start) = text.find(open).map(|index| index + open.len()) else {
        return text.to_string();
    };
    let Some(length) = text[start..].find(close) else {
        return text.to_string();
    };
    format!("{}{value}{}", &text[..start], &text[start + length..])
}

fn escape_xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A node of a bookmark tree.
pub(crate) struct Bookmark {
    pub(crate) title: String,
    pub(crate) page: ObjectId,
    pub(crate) children: Vec<Bookmark>,
}

/// Writes an outline (bookmarks) and returns the `/Outlines` dictionary's id.
pub(crate) fn write_outline<W: Write>(
    writer: &mut PdfWriter<W>,
    bookmarks: &[Bookmark],
) -> io::Result<ObjectId> {
    let root = writer.reserve();
    let (first, last, count) = write_outline_level(writer, root, bookmarks)?;
    let mut dictionary = Dictionary::new();
    dictionary.set("Type", Object::Name(b"Outlines".to_vec()));
    if let (Some(first), Some(last)) = (first, last) {
        dictionary.set("First", Object::Reference(first));
        dictionary.set("Last", Object::Reference(last));
        dictionary.set("Count", Object::Integer(count));
    }
    writer.write(root, &Object::Dictionary(dictionary))?;
    Ok(root)
}

/// Writes one level of items under `parent`: (first, last, number of visible descendants).
fn write_outline_level<W: Write>(
    writer: &mut PdfWriter<W>,
    parent: ObjectId,
    bookmarks: &[Bookmark],
) -> io::Result<(Option<ObjectId>, Option<ObjectId>, i64)> {
    let ids: Vec<ObjectId> = bookmarks.iter().map(|_| writer.reserve()).collect();
    let count = ids.len() as i64;
    for (index, bookmark) in bookmarks.iter().enumerate() {
        let (first, last, _) = write_outline_level(writer, ids[index], &bookmark.children)?;
        let mut item = Dictionary::new();
        item.set("Title", text_string(&bookmark.title));
        item.set("Parent", Object::Reference(parent));
        if index > 0 {
            item.set("Prev", Object::Reference(ids[index - 1]));
        }
        if index + 1 < ids.len() {
            item.set("Next", Object::Reference(ids[index + 1]));
        }
        if let (Some(first), Some(last)) = (first, last) {
            item.set("First", Object::Reference(first));
            item.set("Last", Object::Reference(last));
            // Children collapsed: a negative count.
            item.set("Count", Object::Integer(-(bookmark.children.len() as i64)));
        }
        item.set(
            "Dest",
            Object::Array(vec![
                Object::Reference(bookmark.page),
                Object::Name(b"Fit".to_vec()),
            ]),
        );
        writer.write(ids[index], &Object::Dictionary(item))?;
    }
    Ok((ids.first().copied(), ids.last().copied(), count))
}

/// A page-label range: from `start` (0-based page index), decimal numbers from `first`, or
/// lower-case roman numerals, with an optional prefix.
pub(crate) struct LabelRange {
    pub(crate) start: usize,
    pub(crate) first: u64,
    pub(crate) numbering: LabelNumbering,
    pub(crate) prefix: Option<String>,
}

/// The numbering style of a page-label range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LabelNumbering {
    Decimal,
    Roman,
    /// The prefix alone.
    None,
}

/// Label ranges for pages whose printed numbers are `numbers`: a new range wherever the number
/// does not follow the previous one.
pub(crate) fn label_ranges(numbers: &[u64], offset: usize) -> Vec<LabelRange> {
    let mut ranges = Vec::new();
    for (index, &number) in numbers.iter().enumerate() {
        if index == 0 || number != numbers[index - 1] + 1 {
            ranges.push(LabelRange {
                start: offset + index,
                first: number,
                numbering: LabelNumbering::Decimal,
                prefix: None,
            });
        }
    }
    ranges
}

/// The `/PageLabels` number tree.
pub(crate) fn page_labels(ranges: &[LabelRange]) -> Object {
    let mut nums = Vec::with_capacity(ranges.len() * 2);
    for range in ranges {
        let mut label = Dictionary::new();
        match range.numbering {
            LabelNumbering::Decimal => label.set("S", Object::Name(b"D".to_vec())),
            LabelNumbering::Roman => label.set("S", Object::Name(b"r".to_vec())),
            LabelNumbering::None => {}
        }
        if range.first != 1 {
            label.set("St", Object::Integer(range.first as i64));
        }
        if let Some(prefix) = &range.prefix {
            label.set("P", text_string(prefix));
        }
        nums.push(Object::Integer(range.start as i64));
        nums.push(Object::Dictionary(label));
    }
    let mut tree = Dictionary::new();
    tree.set("Nums", Object::Array(nums));
    Object::Dictionary(tree)
}

/// A short stable identifier for a file (hex of a SHA-256 prefix).
pub(crate) fn identifier(seed: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    crate::config::hex(&Sha256::digest(seed)[..16])
}

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
    /// The characters each font of the source can show (by source object), for stamps.
    font_glyphs: HashMap<ObjectId, Option<std::rc::Rc<FontGlyphs>>>,
}

/// How a stamp's text sits against its `x`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StampAlign {
    Left,
    Center,
    Right,
}

/// Text the assembler draws onto a page: page numbers and "page x of y" lines, which depend on
/// where the page ends up and so cannot be typeset when the page is rendered.
#[derive(Clone, Debug, PartialEq)]
pub struct Stamp {
    pub text: String,
    /// Points from the left edge.
    pub x: f64,
    /// Baseline, points from the bottom edge.
    pub baseline: f64,
    pub size: f64,
    pub align: StampAlign,
}

/// The characters a font can show: character code and advance width (in 1/1000 em) for each
/// character, from its ToUnicode map and widths.
#[derive(Debug, Default)]
pub(crate) struct FontGlyphs {
    glyphs: HashMap<char, (u16, f64)>,
}

impl FontGlyphs {
    /// Reads a Type 0 (Identity-H) font of `document`.
    pub(crate) fn of(document: &Document, font_id: ObjectId) -> Option<FontGlyphs> {
        let font = document.get_dictionary(font_id).ok()?;
        let to_unicode = font.get(b"ToUnicode").ok()?.as_reference().ok()?;
        let stream = document.get_object(to_unicode).ok()?.as_stream().ok()?;
        let content = stream
            .decompressed_content()
            .unwrap_or_else(|_| stream.content.clone());
        let codes = codes_from_cmap(&String::from_utf8_lossy(&content));
        let descendant = match font.get(b"DescendantFonts").ok()? {
            Object::Array(items) => items.first()?.clone(),
            Object::Reference(id) => document
                .get_object(*id)
                .ok()?
                .as_array()
                .ok()?
                .first()?
                .clone(),
            _ => return None,
        };
        let descendant = match descendant {
            Object::Reference(id) => document.get_dictionary(id).ok()?.clone(),
            Object::Dictionary(dictionary) => dictionary,
            _ => return None,
        };
        let default_width = descendant
            .get(b"DW")
            .ok()
            .and_then(number)
            .unwrap_or(1000.0);
        let widths = match descendant.get(b"W") {
            Ok(Object::Array(items)) => cid_widths(items),
            Ok(Object::Reference(id)) => document
                .get_object(*id)
                .ok()
                .and_then(|object| object.as_array().ok())
                .map(|items| cid_widths(items))
                .unwrap_or_default(),
            _ => HashMap::new(),
        };
        let glyphs = codes
            .into_iter()
            .map(|(character, code)| {
                let width = widths.get(&code).copied().unwrap_or(default_width);
                (character, (code, width))
            })
            .collect();
        Some(FontGlyphs { glyphs })
    }

    fn covers(&self, text: &str) -> bool {
        text.chars()
            .all(|character| self.glyphs.contains_key(&character))
    }

    /// The hex string of codes and the width in points at `size`.
    fn encode(&self, text: &str, size: f64) -> (String, f64) {
        let mut hex = String::new();
        let mut width = 0.0;
        for character in text.chars() {
            if let Some((code, advance)) = self.glyphs.get(&character) {
                let _ = write!(hex, "{code:04X}");
                width += advance * size / 1000.0;
            }
        }
        (hex, width)
    }
}

fn number(object: &Object) -> Option<f64> {
    match object {
        Object::Integer(value) => Some(*value as f64),
        Object::Real(value) => Some(f64::from(*value)),
        _ => None,
    }
}

/// A CIDFont `/W` array: `c [w1 w2 ...]` and `c_first c_last w` forms.
fn cid_widths(items: &[Object]) -> HashMap<u16, f64> {
    let mut widths = HashMap::new();
    let mut index = 0;
    while index < items.len() {
        let Some(first) = items[index].as_i64().ok() else {
            break;
        };
        match items.get(index + 1) {
            Some(Object::Array(list)) => {
                for (offset, width) in list.iter().enumerate() {
                    if let (Ok(code), Some(width)) =
                        (u16::try_from(first + offset as i64), number(width))
                    {
                        widths.insert(code, width);
                    }
                }
                index += 2;
            }
            Some(last) => {
                let (Ok(last), Some(width)) =
                    (last.as_i64(), items.get(index + 2).and_then(number))
                else {
                    break;
                };
                for code in first..=last.min(first + 65_535) {
                    if let Ok(code) = u16::try_from(code) {
                        widths.insert(code, width);
                    }
                }
                index += 3;
            }
            None => break,
        }
    }
    widths
}

/// The font stamps fall back on when a page's own fonts lack a character: the font of a small
/// typst-made PDF showing every character stamps use, copied into an output file once.
pub struct StampFont {
    document: Document,
    font_id: ObjectId,
    glyphs: FontGlyphs,
}

impl StampFont {
    /// Reads the Type 0 font of a typst-made PDF (the one with the most characters).
    pub fn from_pdf(bytes: &[u8]) -> io::Result<StampFont> {
        let document = Document::load_mem(bytes).map_err(io::Error::other)?;
        let mut best: Option<(ObjectId, FontGlyphs)> = None;
        for (&id, object) in &document.objects {
            let Ok(dictionary) = object.as_dict() else {
                continue;
            };
            let is_type0 = dictionary.get(b"Subtype").and_then(Object::as_name).ok()
                == Some(b"Type0".as_slice());
            if !is_type0 {
                continue;
            }
            if let Some(glyphs) = FontGlyphs::of(&document, id)
                && best
                    .as_ref()
                    .is_none_or(|(_, known)| glyphs.glyphs.len() > known.glyphs.len())
            {
                best = Some((id, glyphs));
            }
        }
        let (font_id, glyphs) =
            best.ok_or_else(|| io::Error::other("the stamp font document has no Type 0 font"))?;
        Ok(StampFont {
            document,
            font_id,
            glyphs,
        })
    }
}

/// A [`StampFont`] as used by one output file: copied on first use.
pub(crate) struct StampFontUse<'a> {
    pub(crate) font: &'a StampFont,
    pub(crate) copied: Option<ObjectId>,
}

impl StampFontUse<'_> {
    fn target<W: Write>(&mut self, writer: &mut PdfWriter<W>) -> io::Result<ObjectId> {
        if let Some(id) = self.copied {
            return Ok(id);
        }
        let mut copier = Copier::new(&self.font.document);
        let Object::Reference(id) = copier.rewrite(&Object::Reference(self.font.font_id), writer)
        else {
            unreachable!("a reference is rewritten to a reference");
        };
        copier.flush(writer)?;
        self.copied = Some(id);
        Ok(id)
    }
}

/// The page number of a bundle page, "Packet page 10", in the top right corner, clear of the
/// pleading paper's line numbers, caption and footer: the number an index cites and the page's
/// label in a viewer.
pub(super) fn bundle_page_number(number: u64) -> Stamp {
    Stamp {
        text: format!("Packet page {number}"),
        x: 612.0 - 46.8,
        baseline: 792.0 - 24.0,
        size: 9.0,
        align: StampAlign::Right,
    }
}

/// The page number of pleading paper: centred in the text column on the first line of the
/// footer, which `templates/lib/pleading.typ` leaves empty for it (text column 1.4 in to
/// 8.5 - 0.65 in; bottom margin 57 pt, first footer line with an 8 pt top edge).
pub fn pleading_page_number(number: u64) -> Stamp {
    Stamp {
        text: number.to_string(),
        x: f64::midpoint(100.8, 612.0 - 46.8),
        baseline: 57.0 - 8.0,
        size: 11.0,
        align: StampAlign::Center,
    }
}

impl<'a> Copier<'a> {
    pub(crate) fn new(source: &'a Document) -> Copier<'a> {
        Copier {
            source,
            map: HashMap::new(),
            pending: Vec::new(),
            font_glyphs: HashMap::new(),
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
    /// link to the source's structure tree is dropped (assembled files are not tagged). The
    /// `stamps` are drawn as text in one of the page's own embedded fonts, or in `stamp_font`
    /// when none of them has every character.
    pub(crate) fn copy_page<W: Write>(
        &mut self,
        page_id: ObjectId,
        parent: ObjectId,
        stamps: &[Stamp],
        stamp_font: Option<&mut StampFontUse<'_>>,
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
        let stamped = if stamps.is_empty() {
            None
        } else {
            let stamped = self.stamped_contents(&page, stamps, stamp_font, writer)?;
            page.remove(b"Contents");
            page.remove(b"Resources");
            Some(stamped)
        };
        let target = writer.reserve();
        self.map.insert(page_id, target);
        let mut copy = self.rewrite_dictionary(&page, writer);
        if let Some((contents, resources)) = stamped {
            copy.set("Contents", contents);
            copy.set("Resources", resources);
        }
        copy.set("Parent", Object::Reference(parent));
        writer.write(target, &Object::Dictionary(copy))?;
        self.flush(writer)?;
        Ok(target)
    }
}

impl Copier<'_> {
    /// `page`'s content with the stamps added, and its resources (copied, target references):
    /// `q` before the original content, so nothing it leaves in the graphics state carries
    /// over, then `Q` and the stamps.
    fn stamped_contents<W: Write>(
        &mut self,
        page: &Dictionary,
        stamps: &[Stamp],
        stamp_font: Option<&mut StampFontUse<'_>>,
        writer: &mut PdfWriter<W>,
    ) -> io::Result<(Object, Object)> {
        let missing = |what: &str| io::Error::other(format!("cannot stamp the page: {what}"));
        let mut resources = self
            .resolve_dictionary(page.get(b"Resources").ok())
            .ok_or_else(|| missing("the page has no resources"))?;
        let mut fonts = self
            .resolve_dictionary(resources.get(b"Font").ok())
            .unwrap_or_default();
        let mut font_choice = None;
        for (name, font) in &fonts {
            let Ok(font_id) = font.as_reference() else {
                continue;
            };
            if let Some(glyphs) = self.glyphs_of(font_id)
                && stamps.iter().all(|stamp| glyphs.covers(&stamp.text))
            {
                font_choice = Some((name.clone(), glyphs));
                break;
            }
        }
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
        let mut stamp_font_target = None;
        let (font_name, glyphs): (Vec<u8>, &FontGlyphs) = match (&font_choice, stamp_font) {
            (Some((name, glyphs)), _) => (name.clone(), glyphs),
            (None, Some(stamp_font)) => {
                let font = stamp_font.font;
                if let Some(stamp) = stamps.iter().find(|stamp| !font.glyphs.covers(&stamp.text)) {
                    return Err(missing(&format!(
                        "no font has every character of {:?}",
                        stamp.text
                    )));
                }
                stamp_font_target = Some(stamp_font.target(writer)?);
                (b"ClearanceStamp".to_vec(), &font.glyphs)
            }
            (None, None) => {
                return Err(missing("no font on the page has every character to stamp"));
            }
        };
        let mut stamp = String::from("Q q ");
        stamp.push_str(&color);
        for item in stamps {
            let (hex, width) = glyphs.encode(&item.text, item.size);
            let left = match item.align {
                StampAlign::Left => item.x,
                StampAlign::Center => item.x - width / 2.0,
                StampAlign::Right => item.x - width,
            };
            let _ = write!(
                stamp,
                " BT /{} {} Tf 1 0 0 1 {left:.2} {:.2} Tm <{hex}> Tj ET",
                String::from_utf8_lossy(&font_name),
                item.size,
                item.baseline
            );
        }
        stamp.push_str(" Q");
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
        // The resources, with the stamp font added when it is used.
        fonts = self.rewrite_dictionary(&fonts, writer);
        if let Some(target) = stamp_font_target {
            fonts.set("ClearanceStamp", Object::Reference(target));
        }
        resources.remove(b"Font");
        let mut resources = self.rewrite_dictionary(&resources, writer);
        resources.set("Font", Object::Dictionary(fonts));
        Ok((Object::Array(contents), Object::Dictionary(resources)))
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

    /// What a font of the source can show (cached per font).
    fn glyphs_of(&mut self, font_id: ObjectId) -> Option<std::rc::Rc<FontGlyphs>> {
        if let Some(known) = self.font_glyphs.get(&font_id) {
            return known.clone();
        }
        let glyphs = FontGlyphs::of(self.source, font_id).map(std::rc::Rc::new);
        self.font_glyphs.insert(font_id, glyphs.clone());
        glyphs
    }
}

/// Reads the `bfchar` and `bfrange` entries of a ToUnicode CMap: character → code.
fn codes_from_cmap(cmap: &str) -> HashMap<char, u16> {
    let mut codes = HashMap::new();
    let parse =
        |hex: &str| u32::from_str_radix(hex.trim_matches(|c| c == '<' || c == '>'), 16).ok();
    let mut section = "";
    for line in cmap.lines() {
        let line = line.trim();
        if line.ends_with("beginbfchar") {
            section = "char";
            continue;
        }
        if line.ends_with("beginbfrange") {
            section = "range";
            continue;
        }
        if line == "endbfchar" || line == "endbfrange" {
            section = "";
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        match (section, parts.as_slice()) {
            ("char", [code, unicode]) => {
                // Only single-character mappings (ligatures map to several).
                if let (Some(code), Some(unicode)) = (parse(code), parse(unicode))
                    && let (Ok(code), Some(character)) =
                        (u16::try_from(code), char::from_u32(unicode))
                {
                    codes.entry(character).or_insert(code);
                }
            }
            ("range", [first, last, unicode]) if unicode.starts_with('<') => {
                if let (Some(first), Some(last), Some(unicode)) =
                    (parse(first), parse(last), parse(unicode))
                {
                    for code in first..=last.min(first + 255) {
                        if let (Ok(code_u16), Some(character)) =
                            (u16::try_from(code), char::from_u32(unicode + code - first))
                        {
                            codes.entry(character).or_insert(code_u16);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    codes
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
#[derive(Clone, Debug)]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmap_characters_come_from_bfchar_and_bfrange() {
        let cmap = "2 beginbfchar\n<0001> <0031>\n<0002> <00D1>\nendbfchar\n1 beginbfrange\n<0010> <0012> <0041>\nendbfrange\n";
        let codes = codes_from_cmap(cmap);
        assert_eq!(codes[&'1'], 1);
        assert_eq!(codes[&'Ñ'], 2);
        assert_eq!(codes[&'A'], 0x10);
        assert_eq!(codes[&'C'], 0x12);
        assert!(!codes.contains_key(&'D'));
    }

    #[test]
    fn cid_widths_read_both_forms() {
        let items = vec![
            Object::Integer(1),
            Object::Array(vec![Object::Integer(500), Object::Real(250.5)]),
            Object::Integer(10),
            Object::Integer(12),
            Object::Integer(722),
        ];
        let widths = cid_widths(&items);
        let mut listed: Vec<(u16, String)> = widths
            .iter()
            .map(|(code, width)| (*code, format!("{width}")))
            .collect();
        listed.sort();
        let expected = [
            (1, "500"),
            (2, "250.5"),
            (10, "722"),
            (11, "722"),
            (12, "722"),
        ];
        assert_eq!(
            listed,
            expected
                .iter()
                .map(|(code, width)| (*code, (*width).to_string()))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn stamps_are_encoded_and_measured_in_the_font() {
        let glyphs = FontGlyphs {
            glyphs: [('1', (7, 500.0)), ('2', (9, 500.0)), (' ', (3, 250.0))]
                .into_iter()
                .collect(),
        };
        assert!(glyphs.covers("12 1"));
        assert!(!glyphs.covers("13"));
        let (hex, width) = glyphs.encode("12 1", 10.0);
        assert_eq!(hex, "0007000900030007");
        assert!((width - 17.5).abs() < 1e-9);
    }

    #[test]
    fn label_ranges_start_wherever_the_printed_numbers_restart() {
        let ranges = label_ranges(&[1, 2, 3, 1, 2, 7], 10);
        let starts: Vec<(usize, u64)> = ranges
            .iter()
            .map(|range| (range.start, range.first))
            .collect();
        assert_eq!(starts, vec![(10, 1), (13, 1), (15, 7)]);
    }
}

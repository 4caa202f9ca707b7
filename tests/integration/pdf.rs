//! Reading the PDFs clearance writes, with lopdf, the way a court's intake checks would: pages
//! and their size, text (through the fonts' ToUnicode maps), embedded fonts, bookmarks, page
//! labels, PDF/A identification, and what must not be there (encryption, JavaScript, embedded
//! files, forms).

use std::collections::HashMap;
use std::path::Path;

use lopdf::content::Content;
use lopdf::{Dictionary, Document, Object, ObjectId};

pub(crate) struct Pdf {
    pub document: Document,
    name: String,
}

/// An affine matrix [a b c d e f], as PDF writes them.
type Matrix = [f64; 6];

fn resolve<'a>(document: &'a Document, object: &'a Object) -> &'a Object {
    match object {
        Object::Reference(id) => document.get_object(*id).unwrap_or(object),
        other => other,
    }
}

fn dictionary<'a>(document: &'a Document, object: &'a Object) -> Option<&'a Dictionary> {
    resolve(document, object).as_dict().ok()
}

/// `<code> <unicode>` pairs of a ToUnicode CMap (bfchar and bfrange), code → text.
fn to_unicode(cmap: &str) -> HashMap<u32, String> {
    let hex = |text: &str| u32::from_str_radix(text.trim_matches(['<', '>']), 16).ok();
    let utf16 = |text: &str| {
        let digits = text.trim_matches(['<', '>']);
        let units: Vec<u16> = (0..digits.len() / 4)
            .filter_map(|index| u16::from_str_radix(&digits[index * 4..index * 4 + 4], 16).ok())
            .collect();
        String::from_utf16_lossy(&units)
    };
    let mut map = HashMap::new();
    let mut section = "";
    for line in cmap.lines() {
        let line = line.trim();
        if line.ends_with("beginbfchar") {
            section = "char";
        } else if line.ends_with("beginbfrange") {
            section = "range";
        } else if line.starts_with("end") {
            section = "";
        } else {
            let parts: Vec<&str> = line.split_whitespace().collect();
            match (section, parts.as_slice()) {
                ("char", [code, text]) => {
                    if let Some(code) = hex(code) {
                        map.insert(code, utf16(text));
                    }
                }
                ("range", [first, last, text]) if text.starts_with('<') => {
                    if let (Some(first), Some(last), Some(start)) =
                        (hex(first), hex(last), hex(text))
                    {
                        for code in first..=last {
                            if let Some(character) = char::from_u32(start + code - first) {
                                map.insert(code, character.to_string());
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    map
}

impl Pdf {
    pub(crate) fn open(path: &Path) -> Pdf {
        let document =
            Document::load(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        Pdf {
            document,
            name: path.display().to_string(),
        }
    }

    pub(crate) fn pages(&self) -> Vec<ObjectId> {
        self.document.get_pages().into_values().collect()
    }

    pub(crate) fn page_count(&self) -> usize {
        self.document.get_pages().len()
    }

    fn catalog(&self) -> &Dictionary {
        self.document.catalog().expect("catalog")
    }

    /// The text runs of a page (one per text-showing operator), decoded through ToUnicode.
    pub(crate) fn page_runs(&self, page: ObjectId) -> Vec<String> {
        self.placed_runs(page)
            .into_iter()
            .map(|(_, _, text)| text)
            .collect()
    }

    /// The text runs of a page with where each starts: (x, baseline y) in PDF points from the
    /// page's bottom left, through the graphics state's `cm` transforms and the text matrix.
    pub(crate) fn placed_runs(&self, page: ObjectId) -> Vec<(f64, f64, String)> {
        let document = &self.document;
        let fonts = document.get_page_fonts(page).unwrap_or_default();
        let maps: HashMap<Vec<u8>, HashMap<u32, String>> = fonts
            .iter()
            .map(|(name, font)| {
                let map = font
                    .get(b"ToUnicode")
                    .ok()
                    .and_then(|object| resolve(document, object).as_stream().ok())
                    .map(|stream| {
                        let bytes = stream
                            .decompressed_content()
                            .unwrap_or_else(|_| stream.content.clone());
                        to_unicode(&String::from_utf8_lossy(&bytes))
                    })
                    .unwrap_or_default();
                (name.clone(), map)
            })
            .collect();
        let content = document.get_page_content(page);
        let operations = Content::decode(&content)
            .expect("content stream")
            .operations;
        let mut runs = Vec::new();
        let mut font: Vec<u8> = Vec::new();
        // Affine matrices [a b c d e f]; `state` is the current transform, `saved` its q/Q stack.
        let multiply = |m: Matrix, n: Matrix| -> Matrix {
            [
                m[0] * n[0] + m[1] * n[2],
                m[0] * n[1] + m[1] * n[3],
                m[2] * n[0] + m[3] * n[2],
                m[2] * n[1] + m[3] * n[3],
                m[4] * n[0] + m[5] * n[2] + n[4],
                m[4] * n[1] + m[5] * n[3] + n[5],
            ]
        };
        let numbers = |operands: &[Object]| -> Vec<f64> {
            operands
                .iter()
                .filter_map(|operand| match operand {
                    Object::Integer(value) => Some(*value as f64),
                    Object::Real(value) => Some(f64::from(*value)),
                    _ => None,
                })
                .collect()
        };
        let identity: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
        let mut state = identity;
        let mut saved: Vec<Matrix> = Vec::new();
        let mut text_matrix = identity;
        let origin = |text_matrix: Matrix, state: Matrix| {
            let at = multiply(text_matrix, state);
            (at[4], at[5])
        };
        let decode = |font: &[u8], bytes: &[u8]| -> String {
            let map = maps.get(font);
            bytes
                .chunks(2)
                .map(|pair| {
                    let code = pair
                        .iter()
                        .fold(0u32, |value, byte| (value << 8) | u32::from(*byte));
                    map.and_then(|map| map.get(&code))
                        .cloned()
                        .unwrap_or_else(|| "\u{fffd}".into())
                })
                .collect()
        };
        for operation in operations {
            match operation.operator.as_str() {
                "q" => saved.push(state),
                "Q" => state = saved.pop().unwrap_or(identity),
                "cm" => {
                    if let [a, b, c, d, e, f] = numbers(&operation.operands)[..] {
                        state = multiply([a, b, c, d, e, f], state);
                    }
                }
                "BT" => text_matrix = identity,
                "Tm" => {
                    if let [a, b, c, d, e, f] = numbers(&operation.operands)[..] {
                        text_matrix = [a, b, c, d, e, f];
                    }
                }
                "Td" | "TD" => {
                    if let [x, y] = numbers(&operation.operands)[..] {
                        text_matrix = multiply([1.0, 0.0, 0.0, 1.0, x, y], text_matrix);
                    }
                }
                "Tf" => {
                    if let Some(Object::Name(name)) = operation.operands.first() {
                        font.clone_from(name);
                    }
                }
                "Tj" => {
                    if let Some(Object::String(bytes, _)) = operation.operands.first() {
                        let (x, y) = origin(text_matrix, state);
                        runs.push((x, y, decode(&font, bytes)));
                    }
                }
                "TJ" => {
                    if let Some(Object::Array(items)) = operation.operands.first() {
                        let mut run = String::new();
                        for item in items {
                            match item {
                                Object::String(bytes, _) => run.push_str(&decode(&font, bytes)),
                                // A large backward move is a word space.
                                Object::Integer(value) if *value < -200 => run.push(' '),
                                Object::Real(value) if *value < -200.0 => run.push(' '),
                                _ => {}
                            }
                        }
                        let (x, y) = origin(text_matrix, state);
                        runs.push((x, y, run));
                    }
                }
                _ => {}
            }
        }
        runs
    }

    /// Checks that every line of text on every pleading page (one with the 28 line numbers)
    /// sits on a numbered line: its baseline within half a point of a number's. The attorney
    /// block of lines 1-7 is single-spaced by design (rule 2.111(1)) and is not checked.
    pub(crate) fn assert_text_on_the_line_grid(&self) {
        for (index, page) in self.pages().into_iter().enumerate() {
            let runs = self.placed_runs(page);
            // Line numbers: right-aligned digits left of the double rule (x < 1.15 in).
            let numbers: Vec<f64> = runs
                .iter()
                .filter(|(x, _, text)| *x < 82.0 && text.chars().all(|c| c.is_ascii_digit()))
                .map(|(_, y, _)| *y)
                .collect();
            if numbers.len() != 28 {
                continue;
            }
            let line_7 = numbers.iter().copied().fold(f64::MIN, f64::max) - 6.0 * 24.0;
            let bottom = numbers.iter().copied().fold(f64::MAX, f64::min);
            for (x, y, text) in &runs {
                let in_body = *x > 95.0 && *y < line_7 - 1.0 && *y > bottom - 1.0;
                assert!(
                    !in_body || numbers.iter().any(|number| (number - y).abs() < 0.5),
                    "{}: page {}: {text:?} at baseline {y:.1} is between numbered lines",
                    self.name,
                    index + 1
                );
            }
        }
    }

    /// The text of the pages' bodies, without line numbers, page numbers and footers, so that
    /// a sentence running onto the next page reads as one.
    pub(crate) fn body_text(&self) -> String {
        self.pages()
            .into_iter()
            .flat_map(|page| self.placed_runs(page))
            // Line numbers are digits left of the pleading rule; footers are below 60 pt.
            .filter(|(x, y, text)| {
                *y > 60.0 && !(*x < 82.0 && text.trim().chars().all(|c| c.is_ascii_digit()))
            })
            .map(|(_, _, text)| text)
            .collect::<Vec<_>>()
            .join(" ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// All text of the document, runs separated by spaces, runs of white space as one space
    /// (a name wrapped in a table cell reads as one).
    pub(crate) fn text(&self) -> String {
        self.pages()
            .into_iter()
            .map(|page| self.page_runs(page).join(" "))
            .collect::<Vec<_>>()
            .join(" ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Checks every court-bound property; panics with the file name on the first failure.
    pub(crate) fn assert_court_ready(&self) {
        let name = &self.name;
        assert!(self.page_count() > 0, "{name}: no pages");
        assert!(
            self.document.trailer.get(b"Encrypt").is_err(),
            "{name}: encrypted"
        );
        let catalog = self.catalog();
        assert!(catalog.get(b"AcroForm").is_err(), "{name}: has a form");
        if let Ok(names) = catalog.get(b"Names") {
            let names = dictionary(&self.document, names).expect("names dictionary");
            assert!(names.get(b"JavaScript").is_err(), "{name}: has JavaScript");
            assert!(
                names.get(b"EmbeddedFiles").is_err(),
                "{name}: has embedded files"
            );
        }
        assert!(
            catalog.get(b"OpenAction").is_err(),
            "{name}: has an open action"
        );
        for object in self.document.objects.values() {
            let dictionary = match object {
                Object::Dictionary(dictionary) => dictionary,
                Object::Stream(stream) => &stream.dict,
                _ => continue,
            };
            assert!(dictionary.get(b"JS").is_err(), "{name}: has JavaScript");
            let subtype = dictionary.get(b"S").and_then(Object::as_name).ok();
            assert_ne!(
                subtype,
                Some(b"JavaScript".as_slice()),
                "{name}: has JavaScript"
            );
            let kind = dictionary.get(b"Type").and_then(Object::as_name).ok();
            assert_ne!(
                kind,
                Some(b"EmbeddedFile".as_slice()),
                "{name}: has an embedded file"
            );
        }
        // PDF/A-2b identification in the XMP metadata, and an output intent.
        let metadata = catalog
            .get(b"Metadata")
            .ok()
            .and_then(|object| resolve(&self.document, object).as_stream().ok())
            .unwrap_or_else(|| panic!("{name}: no XMP metadata"));
        let xmp = String::from_utf8_lossy(
            &metadata
                .decompressed_content()
                .unwrap_or_else(|_| metadata.content.clone()),
        )
        .into_owned();
        assert!(
            xmp.contains("<pdfaid:part>2</pdfaid:part>") || xmp.contains("pdfaid:part=\"2\""),
            "{name}: no PDF/A part 2 identification"
        );
        assert!(
            xmp.contains("<pdfaid:conformance>B</pdfaid:conformance>")
                || xmp.contains("pdfaid:conformance=\"B\""),
            "{name}: no PDF/A conformance B"
        );
        assert!(
            catalog.get(b"OutputIntents").is_ok(),
            "{name}: no output intent"
        );
        for page in self.pages() {
            let page_dictionary = self.document.get_dictionary(page).unwrap();
            let media_box = page_dictionary
                .get(b"MediaBox")
                .ok()
                .and_then(|object| resolve(&self.document, object).as_array().ok())
                .unwrap_or_else(|| panic!("{name}: a page has no media box"));
            let numbers: Vec<f64> = media_box
                .iter()
                .map(|value| match value {
                    Object::Integer(value) => *value as f64,
                    Object::Real(value) => f64::from(*value),
                    _ => f64::NAN,
                })
                .collect();
            assert_eq!(
                numbers,
                vec![0.0, 0.0, 612.0, 792.0],
                "{name}: not US Letter portrait"
            );
            for (font_name, font) in self.document.get_page_fonts(page).unwrap_or_default() {
                assert!(
                    self.font_is_embedded(font),
                    "{name}: font {} is not embedded",
                    String::from_utf8_lossy(&font_name)
                );
            }
        }
        // The shipped fonts are embedded without their hinting (render::hinting): no glyph
        // program tables, a third off every file.
        for program in self.truetype_programs() {
            let face = ttf_parser::RawFace::parse(&program, 0)
                .unwrap_or_else(|error| panic!("{name}: an embedded font does not parse: {error}"));
            for tag in [b"fpgm", b"prep", b"cvt "] {
                assert!(
                    face.table(ttf_parser::Tag::from_bytes(tag)).is_none(),
                    "{name}: an embedded font keeps its hinting table {}",
                    String::from_utf8_lossy(tag)
                );
            }
        }
    }

    /// Every embedded TrueType font program (`FontFile2`), decompressed.
    fn truetype_programs(&self) -> Vec<Vec<u8>> {
        self.document
            .objects
            .values()
            .filter_map(|object| object.as_dict().ok())
            .filter_map(|descriptor| descriptor.get(b"FontFile2").ok())
            .map(|file| {
                let Object::Reference(id) = file else {
                    panic!("{}: FontFile2 is not a stream reference", self.name)
                };
                let stream = self.document.get_object(*id).and_then(Object::as_stream);
                let stream = stream.unwrap_or_else(|_| panic!("{}: FontFile2", self.name));
                stream
                    .decompressed_content()
                    .unwrap_or_else(|_| stream.content.clone())
            })
            .collect()
    }

    fn font_is_embedded(&self, font: &Dictionary) -> bool {
        let descriptor_of = |font: &Dictionary| {
            font.get(b"FontDescriptor")
                .ok()
                .and_then(|object| dictionary(&self.document, object))
                .is_some_and(|descriptor| {
                    [&b"FontFile"[..], b"FontFile2", b"FontFile3"]
                        .iter()
                        .any(|key| descriptor.get(key).is_ok())
                })
        };
        match font
            .get(b"DescendantFonts")
            .ok()
            .map(|object| resolve(&self.document, object))
        {
            Some(Object::Array(descendants)) => descendants.iter().all(|descendant| {
                dictionary(&self.document, descendant).is_some_and(descriptor_of)
            }),
            _ => descriptor_of(font),
        }
    }

    /// The titles of the outline's top-level bookmarks.
    pub(crate) fn bookmarks(&self) -> Vec<String> {
        let mut titles = Vec::new();
        let Ok(outlines) = self.catalog().get(b"Outlines") else {
            return titles;
        };
        let outlines = dictionary(&self.document, outlines).expect("outlines");
        let mut item = outlines.get(b"First").ok().cloned();
        while let Some(Object::Reference(id)) = item {
            let entry = self.document.get_dictionary(id).expect("outline item");
            if let Ok(Object::String(bytes, _)) = entry.get(b"Title") {
                titles.push(decode_text_string(bytes));
            }
            item = entry.get(b"Next").ok().cloned();
        }
        titles
    }

    /// The top-level bookmarks with the 0-based index of the page each points to.
    pub(crate) fn bookmark_pages(&self) -> Vec<(String, usize)> {
        let pages = self.pages();
        let mut found = Vec::new();
        let Ok(outlines) = self.catalog().get(b"Outlines") else {
            return found;
        };
        let outlines = dictionary(&self.document, outlines).expect("outlines");
        let mut item = outlines.get(b"First").ok().cloned();
        while let Some(Object::Reference(id)) = item {
            let entry = self.document.get_dictionary(id).expect("outline item");
            let title = match entry.get(b"Title") {
                Ok(Object::String(bytes, _)) => decode_text_string(bytes),
                _ => String::new(),
            };
            let target = entry
                .get(b"Dest")
                .ok()
                .and_then(|dest| resolve(&self.document, dest).as_array().ok())
                .and_then(|dest| dest.first())
                .and_then(|page| page.as_reference().ok())
                .expect("a bookmark points to a page");
            let index = pages
                .iter()
                .position(|page| *page == target)
                .expect("a page");
            found.push((title, index));
            item = entry.get(b"Next").ok().cloned();
        }
        found
    }

    /// The label a viewer shows for the 0-based page `index` (decimal and roman ranges).
    pub(crate) fn label_of(&self, index: usize) -> String {
        let ranges = self.page_labels();
        let (start, style, first, prefix) = ranges
            .iter()
            .rev()
            .find(|(start, ..)| *start as usize <= index)
            .cloned()
            .expect("a label range");
        let number = first + (index as i64 - start);
        let number = match style.as_str() {
            "D" => number.to_string(),
            "r" => {
                let mut text = String::new();
                let mut rest = number;
                for (value, numeral) in [(10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")] {
                    while rest >= value {
                        text.push_str(numeral);
                        rest -= value;
                    }
                }
                text
            }
            _ => String::new(),
        };
        format!("{prefix}{number}")
    }

    /// The page-label ranges: (first page index, style, first number, prefix).
    pub(crate) fn page_labels(&self) -> Vec<(i64, String, i64, String)> {
        let Ok(labels) = self.catalog().get(b"PageLabels") else {
            return Vec::new();
        };
        let labels = dictionary(&self.document, labels).expect("page labels");
        let nums = labels
            .get(b"Nums")
            .and_then(Object::as_array)
            .expect("nums");
        nums.chunks(2)
            .map(|pair| {
                let start = pair[0].as_i64().unwrap();
                let label = dictionary(&self.document, &pair[1]).unwrap();
                let style = label
                    .get(b"S")
                    .and_then(Object::as_name)
                    .map(|name| String::from_utf8_lossy(name).into_owned())
                    .unwrap_or_default();
                let first = label.get(b"St").and_then(Object::as_i64).unwrap_or(1);
                let prefix = match label.get(b"P") {
                    Ok(Object::String(bytes, _)) => decode_text_string(bytes),
                    _ => String::new(),
                };
                (start, style, first, prefix)
            })
            .collect()
    }

    pub(crate) fn title(&self) -> String {
        let info = self
            .document
            .trailer
            .get(b"Info")
            .ok()
            .and_then(|object| dictionary(&self.document, object))
            .expect("info dictionary");
        match info.get(b"Title") {
            Ok(Object::String(bytes, _)) => decode_text_string(bytes),
            _ => String::new(),
        }
    }
}

/// A PDF text string: UTF-16BE with a byte-order mark, or PDFDocEncoding (ASCII here).
fn decode_text_string(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = rest
            .chunks(2)
            .map(|pair| u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

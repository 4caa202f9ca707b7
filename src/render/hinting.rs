//! TrueType hinting taken out of the fonts before typst sees them.
//!
//! Hinting is bytecode that snaps outlines to a screen's pixel grid at small sizes. A court paper
//! is printed, or read in a viewer that draws outlines unhinted (pdf.js, poppler), so the
//! instructions only weigh: in Liberation Serif they are about 60% of every glyph subset
//! embedded in a PDF (per glyph, plus the `fpgm`, `prep` and `cvt ` tables, which the subsetter
//! copies whole). Taking them out changes no outline, advance or glyph id (a test compares
//! every glyph of every shipped font), makes each case paper about a third smaller and spares
//! the PDF export the compression of them.
//!
//! The font files in `fonts/` stay as their authors published them: this is done in memory, to
//! the copy that is subset and embedded, like the subsetting itself (the SIL Open Font License
//! reserves the name "Liberation" for unmodified fonts, so a modified file could not be shipped
//! under it).

/// Tables that only serve hinting: the font program, the control value program and table, and
/// the device metrics computed from hinted outlines.
const HINTING_TABLES: [&[u8; 4]; 6] = [b"fpgm", b"prep", b"cvt ", b"hdmx", b"LTSH", b"VDMX"];

/// Why a font was left as it is.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum HintingError {
    #[error("not a single TrueType font with glyf outlines")]
    NotTrueType,
    #[error("malformed font: {0}")]
    Malformed(&'static str),
}

fn u16_at(data: &[u8], offset: usize) -> Result<u16, HintingError> {
    data.get(offset..offset + 2)
        .map(|bytes| u16::from_be_bytes([bytes[0], bytes[1]]))
        .ok_or(HintingError::Malformed("truncated"))
}

fn u32_at(data: &[u8], offset: usize) -> Result<u32, HintingError> {
    data.get(offset..offset + 4)
        .map(|bytes| u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
        .ok_or(HintingError::Malformed("truncated"))
}

/// The sum of a table's big-endian 32-bit words, zero-padded to a whole word (the OpenType
/// table checksum).
fn checksum(data: &[u8]) -> u32 {
    data.chunks(4).fold(0u32, |sum, chunk| {
        let mut word = [0u8; 4];
        word[..chunk.len()].copy_from_slice(chunk);
        sum.wrapping_add(u32::from_be_bytes(word))
    })
}

/// The same font with its hinting removed: no hinting tables, no instructions in any glyph, and
/// `maxp`'s hinting limits zeroed. Outlines, metrics, names and layout tables are unchanged.
pub fn without_hinting(font: &[u8]) -> Result<Vec<u8>, HintingError> {
    if u32_at(font, 0)? != 0x0001_0000 {
        return Err(HintingError::NotTrueType);
    }
    let table_count = usize::from(u16_at(font, 4)?);
    let mut tables: Vec<([u8; 4], &[u8])> = Vec::with_capacity(table_count);
    for index in 0..table_count {
        let record = 12 + 16 * index;
        let tag: [u8; 4] = font
            .get(record..record + 4)
            .ok_or(HintingError::Malformed("truncated table directory"))?
            .try_into()
            .expect("four bytes");
        let offset = u32_at(font, record + 8)? as usize;
        let length = u32_at(font, record + 12)? as usize;
        let data = offset
            .checked_add(length)
            .and_then(|end| font.get(offset..end))
            .ok_or(HintingError::Malformed("a table lies outside the file"))?;
        tables.push((tag, data));
    }
    let table = |tag: &[u8; 4]| {
        tables
            .iter()
            .find(|(name, _)| name == tag)
            .map(|(_, data)| *data)
    };
    let (Some(head), Some(maxp), Some(loca), Some(glyf)) = (
        table(b"head"),
        table(b"maxp"),
        table(b"loca"),
        table(b"glyf"),
    ) else {
        return Err(HintingError::NotTrueType);
    };
    let glyphs = Glyphs::read(head, maxp, loca, glyf)?;
    let mut new_glyf = Vec::with_capacity(glyf.len());
    let mut starts = Vec::with_capacity(glyphs.data.len() + 1);
    for data in &glyphs.data {
        starts.push(new_glyf.len());
        glyph_without_instructions(data, &mut new_glyf)?;
        // Short offsets count words; long ones are kept word-aligned as well.
        let alignment = if glyphs.long_offsets { 4 } else { 2 };
        new_glyf.resize(new_glyf.len().next_multiple_of(alignment), 0);
    }
    starts.push(new_glyf.len());
    let mut new_loca = Vec::with_capacity(loca.len());
    for &start in &starts {
        if glyphs.long_offsets {
            let start = u32::try_from(start).map_err(|_| HintingError::Malformed("glyf"))?;
            new_loca.extend_from_slice(&start.to_be_bytes());
        } else {
            let words = u16::try_from(start / 2).map_err(|_| HintingError::Malformed("glyf"))?;
            new_loca.extend_from_slice(&words.to_be_bytes());
        }
    }
    let mut new_maxp = maxp.to_vec();
    if u32_at(maxp, 0)? == 0x0001_0000 && maxp.len() >= 28 {
        // maxZones 1 (no twilight zone); twilight points, storage, function and instruction
        // definitions, stack depth and instruction size all 0.
        new_maxp[14..16].copy_from_slice(&1u16.to_be_bytes());
        new_maxp[16..28].fill(0);
    }
    let mut new_head = head.to_vec();
    new_head
        .get_mut(8..12)
        .ok_or(HintingError::Malformed("head"))?
        .fill(0);

    let kept: Vec<([u8; 4], Vec<u8>)> = tables
        .iter()
        .filter(|(tag, _)| !HINTING_TABLES.contains(&tag))
        .map(|(tag, data)| {
            let data = match tag {
                b"glyf" => std::mem::take(&mut new_glyf),
                b"loca" => std::mem::take(&mut new_loca),
                b"maxp" => std::mem::take(&mut new_maxp),
                b"head" => std::mem::take(&mut new_head),
                _ => data.to_vec(),
            };
            (*tag, data)
        })
        .collect();
    Ok(assemble_font(&kept))
}

/// A font's glyphs as `loca` cuts `glyf`.
struct Glyphs<'a> {
    /// Whether `loca` holds 32-bit byte offsets (else 16-bit word offsets).
    long_offsets: bool,
    /// Each glyph's bytes, in glyph id order (empty for a glyph with no outline).
    data: Vec<&'a [u8]>,
}

impl<'a> Glyphs<'a> {
    fn read(head: &[u8], maxp: &[u8], loca: &[u8], glyf: &'a [u8]) -> Result<Self, HintingError> {
        let long_offsets = match u16_at(head, 50)? {
            0 => false,
            1 => true,
            _ => return Err(HintingError::Malformed("head: unknown loca format")),
        };
        let start = |glyph: usize| -> Result<usize, HintingError> {
            Ok(if long_offsets {
                u32_at(loca, 4 * glyph)? as usize
            } else {
                2 * usize::from(u16_at(loca, 2 * glyph)?)
            })
        };
        let data = (0..usize::from(u16_at(maxp, 4)?))
            .map(|glyph| {
                glyf.get(start(glyph)?..start(glyph + 1)?)
                    .ok_or(HintingError::Malformed("loca points outside glyf"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Glyphs { long_offsets, data })
    }
}

/// Writes `data`, one glyph, to `out` without its instructions.
fn glyph_without_instructions(data: &[u8], out: &mut Vec<u8>) -> Result<(), HintingError> {
    if data.is_empty() {
        return Ok(()); // a glyph with no outline (a space)
    }
    let contours = u16_at(data, 0)? as i16;
    if contours >= 0 {
        // Header, the contours' end points, then the instruction length and the instructions,
        // then the points' flags and coordinates (kept to their last byte: the glyph's own
        // padding is dropped, as the caller pads again).
        let length_at = 10 + 2 * usize::from(contours as u16);
        let instructions = usize::from(u16_at(data, length_at)?);
        let rest = length_at + 2 + instructions;
        let end = simple_glyph_end(data, contours as u16, rest)?;
        out.extend_from_slice(&data[..length_at]);
        out.extend_from_slice(&0u16.to_be_bytes());
        out.extend_from_slice(&data[rest..end]);
        return Ok(());
    }
    // A composite glyph: its components, each without WE_HAVE_INSTRUCTIONS, then (dropped) the
    // instructions that flag announced.
    out.extend_from_slice(data.get(..10).ok_or(HintingError::Malformed("glyph"))?);
    for component in component_records(data)? {
        let flags = u16_at(data, component.start)?;
        let start = out.len();
        out.extend_from_slice(&data[component]);
        out[start..start + 2].copy_from_slice(&(flags & !HAS_INSTRUCTIONS).to_be_bytes());
    }
    Ok(())
}

/// Where a simple glyph's data ends: after the flags (from `flags_at`) and the coordinates of
/// its points, whose sizes the flags give.
fn simple_glyph_end(data: &[u8], contours: u16, flags_at: usize) -> Result<usize, HintingError> {
    const X_IS_BYTE: u8 = 0x02;
    const Y_IS_BYTE: u8 = 0x04;
    const REPEAT: u8 = 0x08;
    const X_SAME_OR_POSITIVE: u8 = 0x10;
    const Y_SAME_OR_POSITIVE: u8 = 0x20;
    let points = if contours == 0 {
        0
    } else {
        usize::from(u16_at(data, 10 + 2 * (usize::from(contours) - 1))?) + 1
    };
    let byte = |at: usize| {
        data.get(at)
            .copied()
            .ok_or(HintingError::Malformed("glyph points"))
    };
    let (mut at, mut counted, mut coordinates) = (flags_at, 0, 0);
    while counted < points {
        let flags = byte(at)?;
        at += 1;
        let times = if flags & REPEAT != 0 {
            at += 1;
            1 + usize::from(byte(at - 1)?)
        } else {
            1
        };
        let x = if flags & X_IS_BYTE != 0 {
            1
        } else if flags & X_SAME_OR_POSITIVE != 0 {
            0
        } else {
            2
        };
        let y = if flags & Y_IS_BYTE != 0 {
            1
        } else if flags & Y_SAME_OR_POSITIVE != 0 {
            0
        } else {
            2
        };
        coordinates += times * (x + y);
        counted += times;
    }
    let end = at + coordinates;
    if counted != points || end > data.len() {
        return Err(HintingError::Malformed("glyph points"));
    }
    Ok(end)
}

/// A composite glyph's flag: instructions follow its last component.
const HAS_INSTRUCTIONS: u16 = 0x0100;

/// Where each component record of a composite glyph lies: flags, glyph id, offsets and scale.
fn component_records(glyph: &[u8]) -> Result<Vec<std::ops::Range<usize>>, HintingError> {
    const ARGS_ARE_WORDS: u16 = 0x0001;
    const HAS_SCALE: u16 = 0x0008;
    const MORE_COMPONENTS: u16 = 0x0020;
    const HAS_X_AND_Y_SCALE: u16 = 0x0040;
    const HAS_TWO_BY_TWO: u16 = 0x0080;
    let mut records = Vec::new();
    let mut at = 10;
    loop {
        let flags = u16_at(glyph, at)?;
        let arguments = if flags & ARGS_ARE_WORDS != 0 { 4 } else { 2 };
        let scale = if flags & HAS_SCALE != 0 {
            2
        } else if flags & HAS_X_AND_Y_SCALE != 0 {
            4
        } else if flags & HAS_TWO_BY_TWO != 0 {
            8
        } else {
            0
        };
        let end = at + 4 + arguments + scale;
        if end > glyph.len() {
            return Err(HintingError::Malformed("composite glyph"));
        }
        records.push(at..end);
        at = end;
        if flags & MORE_COMPONENTS == 0 {
            return Ok(records);
        }
    }
}

/// An sfnt file of `tables` (already in tag order): directory, word-aligned tables, checksums
/// and head's checksum adjustment.
fn assemble_font(tables: &[([u8; 4], Vec<u8>)]) -> Vec<u8> {
    // At most as many tables as the font read had (a u16 count), so 16 times it fits a u32.
    let count = tables.len() as u32;
    let entry_selector = count.max(1).ilog2();
    let search_range = 16 << entry_selector;
    let mut font = Vec::new();
    font.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    for value in [
        count,
        search_range,
        entry_selector,
        count * 16 - search_range,
    ] {
        font.extend_from_slice(&(value as u16).to_be_bytes());
    }
    let mut offset = 12 + 16 * tables.len();
    let mut head_offset = None;
    for (tag, data) in tables {
        font.extend_from_slice(tag);
        font.extend_from_slice(&checksum(data).to_be_bytes());
        font.extend_from_slice(&(offset as u32).to_be_bytes());
        font.extend_from_slice(&(data.len() as u32).to_be_bytes());
        if tag == b"head" {
            head_offset = Some(offset);
        }
        offset += data.len().next_multiple_of(4);
    }
    for (_, data) in tables {
        font.extend_from_slice(data);
        font.resize(font.len().next_multiple_of(4), 0);
    }
    if let Some(head) = head_offset {
        let adjustment = 0xB1B0_AFBAu32.wrapping_sub(checksum(&font));
        font[head + 8..head + 12].copy_from_slice(&adjustment.to_be_bytes());
    }
    font
}

#[cfg(test)]
mod tests {
    use super::*;
    use typst::foundations::Bytes;
    use typst::text::Font;

    /// Every outline as a list of drawing commands, for comparing two fonts glyph by glyph.
    #[derive(Default)]
    struct Path(Vec<String>);

    impl ttf_parser::OutlineBuilder for Path {
        fn move_to(&mut self, x: f32, y: f32) {
            self.0.push(format!("M{x} {y}"));
        }
        fn line_to(&mut self, x: f32, y: f32) {
            self.0.push(format!("L{x} {y}"));
        }
        fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
            self.0.push(format!("Q{x1} {y1} {x} {y}"));
        }
        fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
            self.0.push(format!("C{x1} {y1} {x2} {y2} {x} {y}"));
        }
        fn close(&mut self) {
            self.0.push("Z".into());
        }
    }

    #[test]
    fn every_shipped_font_keeps_every_outline_and_metric_and_loses_its_hinting() {
        for original in super::super::BUILT_IN_FONTS {
            let stripped = without_hinting(original).expect("a TrueType font");
            assert!(
                stripped.len() * 10 < original.len() * 7,
                "hinting is most of it"
            );
            let (before, after) = (
                ttf_parser::Face::parse(original, 0).expect("original"),
                ttf_parser::Face::parse(&stripped, 0).expect("stripped font parses"),
            );
            assert_eq!(before.number_of_glyphs(), after.number_of_glyphs());
            assert_eq!(before.names().len(), after.names().len());
            for glyph in 0..before.number_of_glyphs() {
                let glyph = ttf_parser::GlyphId(glyph);
                let (mut old, mut new) = (Path::default(), Path::default());
                let old_box = before.outline_glyph(glyph, &mut old);
                let new_box = after.outline_glyph(glyph, &mut new);
                assert_eq!((old_box, &old.0), (new_box, &new.0), "{glyph:?}");
                assert_eq!(
                    before.glyph_hor_advance(glyph),
                    after.glyph_hor_advance(glyph)
                );
            }
            for tag in HINTING_TABLES {
                let tag = ttf_parser::Tag::from_bytes(tag);
                assert!(after.raw_face().table(tag).is_none(), "{tag} left");
            }
            // typst reads the same family, style and coverage from it.
            let (old, new) = (
                Font::new(Bytes::new(original.to_vec()), 0).expect("font"),
                Font::new(Bytes::new(stripped.clone()), 0).expect("typst reads it"),
            );
            assert_eq!(old.info(), new.info());
            assert_directory_is_sound(&stripped);
            // maxp: one zone, no twilight points, storage, definitions, stack or instructions.
            let maxp = after.raw_face().table(ttf_parser::Tag::from_bytes(b"maxp"));
            let maxp = maxp.expect("maxp");
            assert_eq!(&maxp[14..28], &[0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        }
    }

    /// The table directory's search fields and every table's checksum, as the spec has them,
    /// and the whole file summing to the magic number.
    fn assert_directory_is_sound(font: &[u8]) {
        let count = u16_at(font, 4).expect("count");
        let power = 1u16 << count.ilog2();
        assert_eq!(u16_at(font, 6).expect("searchRange"), power * 16);
        assert_eq!(
            u16_at(font, 8).expect("entrySelector"),
            power.trailing_zeros() as u16
        );
        assert_eq!(
            u16_at(font, 10).expect("rangeShift"),
            count * 16 - power * 16
        );
        let mut tags = Vec::new();
        for index in 0..usize::from(count) {
            let record = 12 + 16 * index;
            let offset = u32_at(font, record + 8).expect("offset") as usize;
            let length = u32_at(font, record + 12).expect("length") as usize;
            assert_eq!(offset % 4, 0, "tables start on a word");
            let mut data = font[offset..offset + length].to_vec();
            if &font[record..record + 4] == b"head" {
                data[8..12].fill(0);
            }
            assert_eq!(u32_at(font, record + 4).expect("checksum"), checksum(&data));
            tags.push(&font[record..record + 4]);
        }
        assert!(tags.is_sorted(), "tables in tag order");
        assert_eq!(checksum(font), 0xB1B0_AFBA);
    }

    /// A simple glyph of one contour of `points` points, all on-curve with byte coordinates,
    /// with `instructions` and `padding` bytes.
    fn simple_glyph(points: u8, instructions: &[u8], padding: usize) -> Vec<u8> {
        let mut glyph = vec![0, 1, 0, 0, 0, 0, 0, 9, 0, 9]; // one contour, bounding box
        glyph.extend_from_slice(&u16::from(points - 1).to_be_bytes());
        glyph.extend_from_slice(&(instructions.len() as u16).to_be_bytes());
        glyph.extend_from_slice(instructions);
        // The first flag, then the rest in one repeated flag: on curve, x and y one byte each.
        glyph.extend_from_slice(&[0x37, 0x3f, points - 2]);
        glyph.extend(std::iter::repeat_n(3u8, 2 * usize::from(points)));
        glyph.extend(std::iter::repeat_n(0u8, padding));
        glyph
    }

    #[test]
    fn a_simple_glyph_loses_its_instructions_and_padding_and_keeps_its_points() {
        let with = simple_glyph(5, &[0xb0, 0x01, 0x2f], 3);
        let without = simple_glyph(5, &[], 0);
        let mut out = Vec::new();
        glyph_without_instructions(&with, &mut out).expect("glyph");
        assert_eq!(out, without);
        // A glyph cut short in its coordinates is malformed, not read past its end.
        let cut = &without[..without.len() - 1];
        assert!(glyph_without_instructions(cut, &mut Vec::new()).is_err());
    }

    #[test]
    fn a_composite_glyph_of_every_component_size_loses_its_instructions() {
        const MORE: u16 = 0x0020;
        // (flags, bytes after flags and glyph id): byte arguments; word arguments; a scale;
        // x and y scales; a two by two matrix.
        let components: [(u16, usize); 5] = [
            (0x0000, 2),
            (0x0001, 4),
            (0x0008, 4),
            (0x0040, 6),
            (0x0080, 10),
        ];
        let mut with = vec![0xff, 0xff, 0, 0, 0, 0, 0, 9, 0, 9];
        let mut without = with.clone();
        for (index, (flags, size)) in components.iter().enumerate() {
            let more = if index + 1 < components.len() {
                MORE
            } else {
                0
            };
            let arguments: Vec<u8> = (1..=*size as u8).collect();
            for (glyph, instructions) in [(&mut with, HAS_INSTRUCTIONS), (&mut without, 0)] {
                glyph.extend_from_slice(&(flags | more | instructions).to_be_bytes());
                glyph.extend_from_slice(&(index as u16 + 1).to_be_bytes());
                glyph.extend_from_slice(&arguments);
            }
        }
        with.extend_from_slice(&[0, 2, 0xb0, 0x01, 0]); // two instruction bytes, then padding
        let mut out = Vec::new();
        glyph_without_instructions(&with, &mut out).expect("glyph");
        assert_eq!(out, without);
        assert_eq!(component_records(&out).expect("components").len(), 5);
    }

    /// A font of just the tables `without_hinting` reads (and a `fpgm`), with short loca
    /// offsets: an empty glyph, then `glyph`.
    fn short_loca_font(glyph: &[u8]) -> Vec<u8> {
        let mut head = vec![0u8; 54];
        head[50..52].copy_from_slice(&0u16.to_be_bytes());
        let mut maxp = vec![0u8; 32];
        maxp[..4].copy_from_slice(&0x0001_0000u32.to_be_bytes());
        maxp[4..6].copy_from_slice(&2u16.to_be_bytes());
        maxp[14..28].fill(7);
        let mut glyf = glyph.to_vec();
        glyf.resize(glyf.len().next_multiple_of(2), 0);
        let mut loca = Vec::new();
        for start in [0, 0, glyf.len() / 2] {
            loca.extend_from_slice(&(start as u16).to_be_bytes());
        }
        assemble_font(&[
            (*b"fpgm", vec![0xb0, 0x00]),
            (*b"glyf", glyf),
            (*b"head", head),
            (*b"loca", loca),
            (*b"maxp", maxp),
        ])
    }

    #[test]
    fn short_loca_offsets_are_rewritten_in_words() {
        let font = short_loca_font(&simple_glyph(4, &[1, 2, 3, 4, 5, 6, 7], 0));
        let stripped = without_hinting(&font).expect("font");
        assert_directory_is_sound(&stripped);
        let expected = short_loca_font(&simple_glyph(4, &[], 0));
        let mut expected_maxp = [0u8; 32];
        expected_maxp[..4].copy_from_slice(&0x0001_0000u32.to_be_bytes());
        expected_maxp[4..6].copy_from_slice(&2u16.to_be_bytes());
        expected_maxp[15] = 1;
        let face = ttf_parser::RawFace::parse(&stripped, 0).expect("font");
        let table = |tag: &[u8; 4]| face.table(ttf_parser::Tag::from_bytes(tag));
        let expected_face = ttf_parser::RawFace::parse(&expected, 0).expect("font");
        let expected_table = |tag: &[u8; 4]| expected_face.table(ttf_parser::Tag::from_bytes(tag));
        assert_eq!(table(b"glyf"), expected_table(b"glyf"));
        assert_eq!(table(b"loca"), expected_table(b"loca"));
        assert_eq!(table(b"maxp"), Some(&expected_maxp[..]));
        assert_eq!(table(b"fpgm"), None);
    }

    #[test]
    fn no_glyph_keeps_instructions() {
        let stripped = without_hinting(super::super::BUILT_IN_FONTS[0]).expect("font");
        let face = ttf_parser::RawFace::parse(&stripped, 0).expect("font");
        let table = |tag: &[u8; 4]| face.table(ttf_parser::Tag::from_bytes(tag)).expect("table");
        let glyphs = Glyphs::read(
            table(b"head"),
            table(b"maxp"),
            table(b"loca"),
            table(b"glyf"),
        )
        .expect("glyphs");
        let (mut simple, mut composite) = (0, 0);
        for (glyph, data) in glyphs.data.iter().enumerate() {
            if data.is_empty() {
                continue;
            }
            let contours = u16_at(data, 0).expect("glyph") as i16;
            if contours >= 0 {
                let length_at = 10 + 2 * contours as usize;
                assert_eq!(u16_at(data, length_at).expect("length"), 0, "glyph {glyph}");
                simple += 1;
            } else {
                for component in component_records(data).expect("components") {
                    let flags = u16_at(data, component.start).expect("flags");
                    assert_eq!(flags & HAS_INSTRUCTIONS, 0, "glyph {glyph}");
                }
                composite += 1;
            }
        }
        assert!(
            simple > 1000 && composite > 100,
            "{simple} simple, {composite} composite"
        );
    }

    #[test]
    fn what_is_not_a_truetype_font_is_refused_not_mangled() {
        assert_eq!(without_hinting(b"OTTO\0\0"), Err(HintingError::NotTrueType));
        assert_eq!(
            without_hinting(b"ttcf\0\0\0\0"),
            Err(HintingError::NotTrueType)
        );
        assert!(without_hinting(&[0, 1, 0, 0, 0, 9]).is_err());
        let font = super::super::BUILT_IN_FONTS[0];
        assert!(without_hinting(&font[..font.len() / 2]).is_err());
    }
}

//! Synthetic DOJ research files: realistic shape and volume, no real person.
//!
//! Each person has 1–3 Prop 64 cases (the first in the processed county), other convictions
//! (exponentially distributed, mean 6) and cases without conviction (mean 10). A case is an
//! arrest step and a court step a month later with 1–4 counts; the court case number is on the
//! first court count; the last convicted count carries 1–3 sentence parts; about a third of
//! the sale and cultivation cases carry a second Prop 64 count; about a quarter of the other
//! cases are in another county. A few people carry the record features the rules care
//! about: deceased, PC 290 registration, super strikes, charges only in COMMENT_TEXT, attempts,
//! missing code letters, convictions after Prop 64, unknown dates.
//!
//! Output depends only on the options (own PRNG, fixed reference date), so a seed always gives
//! the same bytes.

use std::io::{self, Write};

use crate::config::{CALIFORNIA_COUNTIES, County};
use crate::ingest::csv::write_go_record;
use crate::ingest::doj::{COLUMN_NAMES, FIELD_COUNT};
use crate::model::Date;

/// What to generate.
#[derive(Clone, Debug)]
pub struct SampleOptions {
    pub people: u32,
    pub county: County,
    pub seed: u64,
}

/// Counts of what was written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SampleStats {
    pub people: u32,
    pub rows: u64,
}

/// The day the synthetic DOJ extract was "run" (AB 1793's DOJ deadline).
const EXTRACT_DATE: Date = Date::from_ymd_const(2019, 6, 30);

/// SplitMix64: small, fast, and stable forever (unlike a library PRNG's stream).
struct Random(u64);

impl Random {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound`.
    fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    fn range(&mut self, low: i64, high_inclusive: i64) -> i64 {
        low + self.below((high_inclusive - low + 1) as u64) as i64
    }

    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, probability: f64) -> bool {
        self.unit() < probability
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Exponentially distributed count with the given mean.
    fn exponential_count(&mut self, mean: f64) -> u32 {
        (-(1.0 - self.unit()).ln() * mean).floor() as u32
    }

    fn weighted<'a, T>(&mut self, items: &'a [(u32, T)]) -> &'a T {
        let total: u32 = items.iter().map(|(weight, _)| weight).sum();
        let mut ticket = self.below(u64::from(total)) as u32;
        for (weight, item) in items {
            if ticket < *weight {
                return item;
            }
            ticket -= weight;
        }
        &items[items.len() - 1].1
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Toc {
    Felony,
    Misdemeanor,
    Infraction,
    /// Felony or misdemeanor at random (wobbler).
    Either,
}

/// Prop 64 offences as recorded before 2016 (old subsection numbering).
const PROP64_OFFENSES: [(u32, (&str, Toc)); 8] = [
    (
        25,
        (
            "11357(B) HS-POSSESS MARIJUANA 28.5 GRMS OR LESS",
            Toc::Misdemeanor,
        ),
    ),
    (
        10,
        (
            "11357(C) HS-POSSESS MARIJUANA OVER 28.5 GRAMS",
            Toc::Misdemeanor,
        ),
    ),
    (
        5,
        ("11357(A) HS-POSSESS CONCENTRATED CANNABIS", Toc::Either),
    ),
    (
        2,
        (
            "11357(D) HS-POSSESS MARIJUANA ON SCHOOL GROUNDS",
            Toc::Misdemeanor,
        ),
    ),
    (11, ("11358 HS-CULTIVATE MARIJUANA", Toc::Felony)),
    (20, ("11359 HS-POSSESS MARIJUANA FOR SALE", Toc::Felony)),
    (
        20,
        ("11360(A) HS-GIVE/ETC MARIJ OVER 1 OZ/28.5 GRM", Toc::Felony),
    ),
    (
        7,
        (
            "11360(B) HS-GIVE/ETC MARIJUANA 1 OZ/28.5 GRMS OR LESS",
            Toc::Misdemeanor,
        ),
    ),
];

/// Prop 64 offences commonly charged together with the first one in the same court case
/// (possession for sale with transport, cultivation with possession for sale), so that per-case
/// motions carry several counts as real ones do.
const PROP64_COMPANIONS: [(&str, &str); 3] = [
    ("11359 ", "11360(A) HS-GIVE/ETC MARIJ OVER 1 OZ/28.5 GRM"),
    ("11360(A) ", "11359 HS-POSSESS MARIJUANA FOR SALE"),
    ("11358 ", "11359 HS-POSSESS MARIJUANA FOR SALE"),
];

const OTHER_OFFENSES: [(u32, (&str, Toc)); 22] = [
    (30, ("647(F) PC-DISORDERLY CONDUCT:INTOX", Toc::Misdemeanor)),
    (25, ("23152(A) VC-DUI ALCOHOL/DRUGS", Toc::Misdemeanor)),
    (
        20,
        (
            "11350(A) HS-POSSESS NARCOTIC CONTROLLED SUBSTANCE",
            Toc::Either,
        ),
    ),
    (
        20,
        ("11377(A) HS-POSSESS CONTROLLED SUBSTANCE", Toc::Misdemeanor),
    ),
    (20, ("484(A) PC-PETTY THEFT", Toc::Misdemeanor)),
    (15, ("459 PC-BURGLARY", Toc::Felony)),
    (
        15,
        (
            "148(A)(1) PC-OBSTRUCT/RESIST PUBLIC OFFICER",
            Toc::Misdemeanor,
        ),
    ),
    (12, ("245(A)(1) PC-ASSAULT W/DEADLY WEAPON", Toc::Felony)),
    (12, ("12500(A) VC-DRIVE WITHOUT LICENSE", Toc::Misdemeanor)),
    (10, ("602 PC-TRESPASSING", Toc::Misdemeanor)),
    (
        10,
        (
            "11364 HS-POSSESS CONTROLLED SUBSTANCE PARAPHERNALIA",
            Toc::Misdemeanor,
        ),
    ),
    (
        10,
        ("10851(A) VC-TAKE VEHICLE W/O OWNER CONSENT", Toc::Either),
    ),
    (8, ("496(A) PC-RECEIVE KNOWN STOLEN PROPERTY", Toc::Either)),
    (
        8,
        ("273.5(A) PC-INFLICT CORPORAL INJ SPOUSE/COHAB", Toc::Either),
    ),
    (8, ("211 PC-ROBBERY", Toc::Felony)),
    (6, ("466 PC-POSSESS BURGLARY TOOLS", Toc::Misdemeanor)),
    (
        6,
        (
            "4060 BP-POSSESS CONTROLLED SUBSTANCE W/O PRESCRIPTION",
            Toc::Misdemeanor,
        ),
    ),
    (5, ("503 VC-TAKE CAR W/OUT OWNERS CONSENT", Toc::Felony)),
    (
        3,
        (
            "11357.5(A) HS-SELL/ETC SYNTHETIC CANNABINOID",
            Toc::Misdemeanor,
        ),
    ),
    (2, ("187 PC-MURDER:SECOND DEGREE", Toc::Felony)),
    (
        2,
        (
            "288(A) PC-LEWD OR LASCIV ACTS W/CHILD UNDER 14",
            Toc::Felony,
        ),
    ),
    (2, ("261(A)(2) PC-RAPE BY FORCE/FEAR/ETC", Toc::Felony)),
];

const RELATED_OFFENSES: [(&str, Toc); 4] = [
    ("647(F) PC-DISORDERLY CONDUCT:INTOX", Toc::Misdemeanor),
    (
        "11364 HS-POSSESS CONTROLLED SUBSTANCE PARAPHERNALIA",
        Toc::Misdemeanor,
    ),
    (
        "148(A)(1) PC-OBSTRUCT/RESIST PUBLIC OFFICER",
        Toc::Misdemeanor,
    ),
    (
        "4060 BP-POSSESS CONTROLLED SUBSTANCE W/O PRESCRIPTION",
        Toc::Misdemeanor,
    ),
];

const LAST_NAMES: [&str; 48] = [
    "GARCIA",
    "NGUYEN",
    "SMITH",
    "JOHNSON",
    "LEE",
    "MARTINEZ",
    "RODRIGUEZ",
    "HERNANDEZ",
    "LOPEZ",
    "GONZALEZ",
    "WILSON",
    "ANDERSON",
    "THOMAS",
    "TAYLOR",
    "MOORE",
    "JACKSON",
    "WHITE",
    "HARRIS",
    "CLARK",
    "LEWIS",
    "ROBINSON",
    "WALKER",
    "YOUNG",
    "ALLEN",
    "KING",
    "WRIGHT",
    "SCOTT",
    "TORRES",
    "RAMIREZ",
    "FLORES",
    "CHEN",
    "WONG",
    "TRAN",
    "PHAM",
    "KIM",
    "PARK",
    "WASHINGTON",
    "BROOKS",
    "REYES",
    "CRUZ",
    "MORALES",
    "NÚÑEZ",
    "PEÑA",
    "MUÑOZ",
    "O'BRIEN",
    "JIMÉNEZ",
    "IBÁÑEZ",
    "DE LA CRUZ",
];

const FIRST_NAMES: [&str; 40] = [
    "JAMES",
    "MARIA",
    "JOSE",
    "MICHAEL",
    "DAVID",
    "JENNIFER",
    "ROBERT",
    "LINDA",
    "JUAN",
    "PATRICIA",
    "CARLOS",
    "ELIZABETH",
    "ANTHONY",
    "SUSAN",
    "DANIEL",
    "JESSICA",
    "MARK",
    "KAREN",
    "LUIS",
    "NANCY",
    "KEVIN",
    "LISA",
    "BRIAN",
    "BETTY",
    "MIGUEL",
    "SANDRA",
    "TUAN",
    "ANH",
    "WEI",
    "MEI",
    "DARNELL",
    "KEISHA",
    "ANDRÉ",
    "JOSÉ",
    "RENÉ",
    "ZOË",
    "MARÍA JOSÉ",
    "FRANÇOIS",
    "SEÑORA",
    "DESHAWN",
];

const RACES: [(&str, &str); 6] = [
    ("W", "WHITE"),
    ("B", "BLACK"),
    ("H", "HISPANIC"),
    ("A", "OTHER ASIAN"),
    ("C", "CHINESE"),
    ("V", "VIETNAMESE"),
];

/// Writes a synthetic DOJ file (header included) to `out`.
pub fn generate(options: &SampleOptions, out: &mut dyn Write) -> io::Result<SampleStats> {
    generate_with_contacts(options, out, None)
}

const STREETS: [&str; 12] = [
    "MISSION ST",
    "VALENCIA ST",
    "GEARY BLVD",
    "TARAVAL ST",
    "3RD ST",
    "OCEAN AVE",
    "SAN BRUNO AVE",
    "IRVING ST",
    "FOLSOM ST",
    "DIVISADERO ST",
    "BAYSHORE BLVD",
    "ALEMANY BLVD",
];

const CITIES: [(&str, &str); 6] = [
    ("SAN FRANCISCO", "941"),
    ("SAN FRANCISCO", "941"),
    ("SAN FRANCISCO", "941"),
    ("DALY CITY", "940"),
    ("OAKLAND", "946"),
    ("SOUTH SAN FRANCISCO", "940"),
];

/// The contacts CSV row of a synthetic person, or none (about one in eight has no address).
/// Its own random stream, so the DOJ file is the same with or without contacts.
fn contact_row(seed: u64, person_index: u32, subject_id: &str, cii: &str) -> Option<[String; 9]> {
    let mut random = Random(seed ^ 0xbb67_ae85_84ca_a73b ^ (u64::from(person_index) << 20));
    if random.chance(0.125) {
        return None;
    }
    let (city, zip_prefix) = *random.pick(&CITIES);
    let language = match random.below(20) {
        0..=11 => "en",
        12..=16 => "es",
        _ => "",
    };
    // Keyed by SUBJECT_ID mostly, by CII alone sometimes, as offices' case systems do.
    let by_cii_only = random.chance(0.2);
    Some([
        if by_cii_only {
            String::new()
        } else {
            subject_id.to_string()
        },
        cii.to_string(),
        String::new(),
        format!("{} {}", 10 + random.below(4900), random.pick(&STREETS)),
        if random.chance(0.3) {
            format!("APT {}", 1 + random.below(40))
        } else {
            String::new()
        },
        city.to_string(),
        "CA".to_string(),
        format!("{zip_prefix}{:02}", random.below(35)),
        language.to_string(),
    ])
}

/// Writes a synthetic DOJ file to `out` and, when given, a contacts CSV for its people
/// (mailing addresses and languages; synthetic, like everything else).
pub fn generate_with_contacts(
    options: &SampleOptions,
    out: &mut dyn Write,
    contacts: Option<&mut dyn Write>,
) -> io::Result<SampleStats> {
    let mut contacts = contacts.map(|out| io::BufWriter::with_capacity(1 << 16, out));
    if let Some(contacts) = &mut contacts {
        contacts.write_all(
            b"subject_id,cii,mailing_name,address_1,address_2,city,state,zip,language\n",
        )?;
    }
    let mut random = Random(options.seed ^ 0x6a09_e667_f3bc_c908);
    let mut output = io::BufWriter::with_capacity(1 << 20, out);
    let mut line = Vec::with_capacity(2048);
    write_go_record(&mut line, COLUMN_NAMES.iter().map(|name| name.as_bytes()));
    output.write_all(&line)?;
    let mut stats = SampleStats::default();
    let mut generator = Generator {
        random: &mut random,
        county: options.county.name().to_string(),
        record_id: 0,
        case_serial: 100_000 + (options.seed % 800_000),
    };
    let mut contact_line = Vec::with_capacity(256);
    for person_index in 0..options.people {
        let rows = generator.person(person_index);
        if let (Some(contacts), Some(first)) = (&mut contacts, rows.first())
            && let Some(row) = contact_row(options.seed, person_index, &first[2], &first[4])
        {
            contact_line.clear();
            write_go_record(&mut contact_line, row.iter().map(String::as_bytes));
            contacts.write_all(&contact_line)?;
        }
        for row in &rows {
            line.clear();
            write_go_record(&mut line, row.iter().map(String::as_bytes));
            output.write_all(&line)?;
        }
        stats.people += 1;
        stats.rows += rows.len() as u64;
    }
    output.flush()?;
    if let Some(contacts) = &mut contacts {
        contacts.flush()?;
    }
    Ok(stats)
}

struct Generator<'a> {
    random: &'a mut Random,
    county: String,
    record_id: u64,
    case_serial: u64,
}

struct PersonFacts {
    subject_id: String,
    cii: String,
    name: String,
    gender: &'static str,
    dob: Option<Date>,
    dob_text: String,
    race: (&'static str, &'static str),
    ssn: String,
    cdl: String,
    fbi: String,
}

/// One count to write: offence, level, disposition and sentence parts.
struct Count {
    offense: String,
    toc: Toc,
    convicted: bool,
    comment: String,
    sentence_parts: Vec<(u32, &'static str, &'static str, &'static str)>,
}

struct Case {
    county: String,
    arrest_date: Date,
    court_date: Option<Date>,
    counts: Vec<Count>,
    number: String,
    /// Convicted cases record a disposition on the court counts.
    convicted: bool,
}

impl Generator<'_> {
    fn person(&mut self, person_index: u32) -> Vec<Vec<String>> {
        let random = &mut *self.random;
        let birth_year = random.range(1940, 1999) as i32;
        let dob = Date::from_ymd(
            birth_year,
            random.range(1, 12) as u32,
            random.range(1, 28) as u32,
        );
        let unknown_dob = random.chance(0.01);
        let last = random.pick(&LAST_NAMES);
        let first = random.pick(&FIRST_NAMES);
        let middle = if random.chance(0.6) {
            format!(" {}", (b'A' + random.below(26) as u8) as char)
        } else {
            String::new()
        };
        let facts = PersonFacts {
            subject_id: format!(
                "{:08}",
                10_000_000 + u64::from(person_index) * 7 + random.below(7)
            ),
            cii: format!("{:010}", 1_000_000_000 + random.below(8_999_999_999)),
            name: format!("{last},{first}{middle}"),
            gender: if random.chance(0.8) { "M" } else { "F" },
            dob: if unknown_dob { None } else { dob },
            dob_text: if unknown_dob {
                "x       ".into()
            } else {
                dob.map(compact).unwrap_or_default()
            },
            race: *random.pick(&RACES),
            ssn: format!("9{:08}", random.below(100_000_000)),
            cdl: format!(
                "{}{:07}",
                (b'A' + random.below(26) as u8) as char,
                random.below(10_000_000)
            ),
            fbi: format!(
                "{:07}{}{}",
                random.below(10_000_000),
                (b'A' + random.below(26) as u8) as char,
                random.below(10)
            ),
        };
        let adult_from = dob
            .unwrap_or(Date::from_ymd_const(1970, 1, 1))
            .add_years_normalized(18);
        let mut cases = Vec::new();

        let prop64_cases = self.random.range(1, 3);
        for case_index in 0..prop64_cases {
            let in_county = case_index == 0 || self.random.chance(0.85);
            cases.push(self.prop64_case(adult_from, in_county));
        }
        let other_convictions = self.random.exponential_count(6.0);
        for _ in 0..other_convictions {
            cases.push(self.other_case(adult_from, true));
        }
        let non_convictions = self.random.exponential_count(10.0);
        for _ in 0..non_convictions {
            cases.push(self.other_case(adult_from, false));
        }
        cases.sort_by_key(|case| case.arrest_date);

        let mut rows = Vec::new();
        for (cycle_index, case) in cases.iter().enumerate() {
            self.case_rows(&facts, cycle_index as u32 + 1, case, &mut rows);
        }
        let last_cycle = cases.len() as u32 + 1;
        if self.random.chance(0.03) {
            // PC 290 registration after a sex offence.
            let date = EXTRACT_DATE.add_days(-(self.random.below(4000) as i32));
            let mut registration = Count {
                offense: "290 PC-REGISTRATION OF SEX OFFENDER".into(),
                toc: Toc::Felony,
                convicted: false,
                comment: String::new(),
                sentence_parts: Vec::new(),
            };
            registration.toc = Toc::Infraction;
            self.step_row(
                &facts,
                &mut rows,
                last_cycle,
                1,
                1,
                date,
                date,
                "REGISTRATION",
                &self.county.clone(),
                &registration,
                "",
                "",
            );
        }
        if self.random.chance(0.02) {
            let date = EXTRACT_DATE.add_days(-(self.random.below(2000) as i32));
            let death = Count {
                offense: String::new(),
                toc: Toc::Infraction,
                convicted: false,
                comment: String::new(),
                sentence_parts: Vec::new(),
            };
            self.step_row(
                &facts,
                &mut rows,
                last_cycle + 1,
                1,
                1,
                date,
                date,
                "DECEASED",
                &self.county.clone(),
                &death,
                "",
                "",
            );
        }
        rows
    }

    fn random_date(&mut self, earliest: Date, latest: Date) -> Date {
        let span = (latest.days_since_epoch() - earliest.days_since_epoch()).max(1);
        earliest.add_days(self.random.below(span as u64) as i32)
    }

    fn other_county(&mut self) -> String {
        loop {
            let county = *self.random.pick(&CALIFORNIA_COUNTIES);
            if county != self.county {
                return county.to_string();
            }
        }
    }

    fn next_case_number(&mut self, county: &str) -> String {
        self.case_serial += 1 + self.random.below(40);
        let prefix: String = county
            .split(' ')
            .filter_map(|word| word.chars().next())
            .collect();
        if county == self.county {
            format!("SC{prefix}{:06}", self.case_serial % 1_000_000)
        } else {
            format!("{prefix}{:07}", self.case_serial * 3 % 10_000_000)
        }
    }

    fn prop64_case(&mut self, adult_from: Date, in_county: bool) -> Case {
        let earliest = adult_from.max(Date::from_ymd_const(1975, 1, 1));
        // Mostly before Prop 64; some after, as real files have.
        let latest = if self.random.chance(0.9) {
            Date::from_ymd_const(2016, 9, 30)
        } else {
            EXTRACT_DATE.add_days(-60)
        };
        let arrest_date = self.random_date(earliest, latest.max(earliest.add_days(30)));
        let county = if in_county {
            self.county.clone()
        } else {
            self.other_county()
        };
        let &(offense, toc) = self.random.weighted(&PROP64_OFFENSES);
        let mut offense = offense.to_string();
        let mut comment = String::new();
        let variant = self.random.below(100);
        if variant < 3 {
            // The charge is only in COMMENT_TEXT.
            comment.clone_from(&offense);
            offense = "SEE COMMENT FOR CHARGE".into();
        } else if variant < 4 {
            offense = format!("664-{offense}");
        } else if variant < 6 {
            offense = offense.replacen(" HS-", "-", 1);
        }
        let toc =
            if offense.starts_with("11357(B)") && arrest_date >= Date::from_ymd_const(2011, 1, 1) {
                Toc::Infraction
            } else {
                toc
            };
        let companion = PROP64_COMPANIONS
            .iter()
            .find(|(first, _)| offense.starts_with(first))
            .map(|&(_, companion)| companion);
        let mut counts = vec![Count {
            offense,
            toc,
            convicted: true,
            comment,
            sentence_parts: Vec::new(),
        }];
        if let Some(companion) = companion
            && self.random.chance(0.35)
        {
            counts.push(Count {
                offense: companion.into(),
                toc: Toc::Felony,
                convicted: true,
                comment: String::new(),
                sentence_parts: Vec::new(),
            });
        }
        for _ in 0..self.random.below(3) {
            let &(offense, toc) = self.random.pick(&RELATED_OFFENSES);
            counts.push(Count {
                offense: offense.into(),
                toc,
                convicted: self.random.chance(0.5),
                comment: String::new(),
                sentence_parts: Vec::new(),
            });
        }
        self.finish_case(county, arrest_date, counts, true)
    }

    fn other_case(&mut self, adult_from: Date, convicted: bool) -> Case {
        let earliest = adult_from.max(Date::from_ymd_const(1975, 1, 1));
        let arrest_date = self.random_date(
            earliest,
            EXTRACT_DATE.add_days(-45).max(earliest.add_days(30)),
        );
        let county = if self.random.chance(0.25) {
            self.other_county()
        } else {
            self.county.clone()
        };
        let count_total = self.random.range(1, 4);
        let mut counts = Vec::new();
        for index in 0..count_total {
            let &(offense, toc) = self.random.weighted(&OTHER_OFFENSES);
            counts.push(Count {
                offense: offense.into(),
                toc,
                convicted: convicted && (index == 0 || self.random.chance(0.4)),
                comment: String::new(),
                sentence_parts: Vec::new(),
            });
        }
        self.finish_case(county, arrest_date, counts, convicted)
    }

    fn finish_case(
        &mut self,
        county: String,
        arrest_date: Date,
        mut counts: Vec<Count>,
        convicted: bool,
    ) -> Case {
        // Arrest-only cases (no court step) are common among non-convictions.
        let court_date = (convicted || self.random.chance(0.6))
            .then(|| arrest_date.add_days(20 + self.random.below(25) as i32));
        if convicted && let Some(last) = counts.iter_mut().rev().find(|count| count.convicted) {
            let parts = self.random.range(1, 3);
            for _ in 0..parts {
                let part = match self.random.below(4) {
                    0 => (self.random.range(1, 365) as u32, "D", "DAYS", "JAIL"),
                    1 => (self.random.range(6, 36) as u32, "M", "MONTHS", "PROBATION"),
                    2 => (self.random.range(1, 3) as u32, "Y", "YEARS", "PROBATION"),
                    _ => (self.random.range(16, 48) as u32, "M", "MONTHS", "PRISON"),
                };
                last.sentence_parts.push(part);
            }
        }
        let case_number = self.next_case_number(&county);
        Case {
            county,
            arrest_date,
            court_date,
            counts,
            number: case_number,
            convicted,
        }
    }

    fn case_rows(
        &mut self,
        facts: &PersonFacts,
        cycle: u32,
        case: &Case,
        rows: &mut Vec<Vec<String>>,
    ) {
        let unknown_court_date = self.random.chance(0.003);
        for (index, count) in case.counts.iter().enumerate() {
            let arrest_view = Count {
                offense: count.offense.clone(),
                toc: count.toc,
                convicted: false,
                comment: count.comment.clone(),
                sentence_parts: Vec::new(),
            };
            self.step_row(
                facts,
                rows,
                cycle,
                1,
                index as u32 + 1,
                case.arrest_date,
                case.arrest_date,
                "ARREST/DETAINED/CITED",
                &case.county,
                &arrest_view,
                "",
                "",
            );
        }
        let Some(court_date) = case.court_date else {
            return;
        };
        for (index, count) in case.counts.iter().enumerate() {
            let disposition = if count.convicted && case.convicted {
                match count.sentence_parts.first().map(|part| part.3) {
                    Some("PRISON") => "CONVICTED-PRISON",
                    Some("JAIL") => "CONVICTED-JAIL",
                    _ => "CONVICTED-PROBATION",
                }
            } else {
                "DISMISSED/CHARGE DROPPED"
            };
            let case_number = if index == 0 {
                case.number.clone()
            } else {
                String::new()
            };
            let event_date = if unknown_court_date {
                None
            } else {
                Some(court_date)
            };
            let count_number = index as u32 + 1;
            let parts = if count.sentence_parts.is_empty() {
                vec![None]
            } else {
                count.sentence_parts.iter().map(Some).collect()
            };
            for part in parts {
                let convicted_view = Count {
                    offense: count.offense.clone(),
                    toc: count.toc,
                    convicted: disposition.starts_with("CONVICTED"),
                    comment: count.comment.clone(),
                    sentence_parts: part.into_iter().copied().collect(),
                };
                self.step_row_with_dates(
                    facts,
                    rows,
                    cycle,
                    2,
                    count_number,
                    case.arrest_date,
                    event_date,
                    "COURT ACTION",
                    &case.county,
                    &convicted_view,
                    disposition,
                    &case_number,
                );
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn step_row(
        &mut self,
        facts: &PersonFacts,
        rows: &mut Vec<Vec<String>>,
        cycle: u32,
        step: u32,
        count_number: u32,
        cycle_date: Date,
        event_date: Date,
        step_type: &str,
        county: &str,
        count: &Count,
        disposition: &str,
        case_number: &str,
    ) {
        self.step_row_with_dates(
            facts,
            rows,
            cycle,
            step,
            count_number,
            cycle_date,
            Some(event_date),
            step_type,
            county,
            count,
            disposition,
            case_number,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn step_row_with_dates(
        &mut self,
        facts: &PersonFacts,
        rows: &mut Vec<Vec<String>>,
        cycle: u32,
        step: u32,
        count_number: u32,
        cycle_date: Date,
        event_date: Option<Date>,
        step_type: &str,
        county: &str,
        count: &Count,
        disposition: &str,
        case_number: &str,
    ) {
        self.record_id += 1;
        let mut row: Vec<String> = vec![String::new(); FIELD_COUNT];
        let county_index = CALIFORNIA_COUNTIES
            .iter()
            .position(|name| *name == county)
            .unwrap_or(0)
            + 1;
        let is_court = step_type == "COURT ACTION";
        let agency = if is_court {
            "CASC"
        } else if step_type == "ARREST/DETAINED/CITED" {
            "CAPD"
        } else {
            "CADOJ"
        };
        let toc_letter = match count.toc {
            Toc::Felony => "F",
            Toc::Misdemeanor => "M",
            Toc::Infraction => "I",
            Toc::Either => {
                if self.random.chance(0.5) {
                    "F"
                } else {
                    "M"
                }
            }
        };
        let level = match toc_letter {
            "F" => "FELONY",
            "M" => "MISDEMEANOR",
            _ => "INFRACTION",
        };
        let age = facts
            .dob
            .map(|dob| dob.whole_years_until(cycle_date).to_string())
            .unwrap_or_default();
        let offense_code = count
            .offense
            .split(['-', ' '])
            .next()
            .unwrap_or_default()
            .to_string();
        let values: [(usize, String); 60] = [
            (0, format!("{:012}", self.record_id)),
            (1, "A".into()),
            (2, facts.subject_id.clone()),
            (3, "#".into()),
            (4, facts.cii.clone()),
            (5, facts.name.clone()),
            (6, facts.gender.into()),
            (7, facts.dob_text.clone()),
            (8, facts.cdl.clone()),
            (9, facts.ssn.clone()),
            (10, "#".into()),
            (11, facts.cii.clone()),
            (12, facts.name.clone()),
            (13, facts.gender.into()),
            (14, facts.dob_text.clone()),
            (15, facts.ssn.clone()),
            (16, facts.cdl.clone()),
            (19, facts.fbi.clone()),
            (20, "#".into()),
            (21, facts.race.0.into()),
            (22, facts.race.1.into()),
            (23, "BRO".into()),
            (24, "BROWN".into()),
            (25, "BLK".into()),
            (26, "BLACK".into()),
            (27, "510".into()),
            (28, "175".into()),
            (31, "CA".into()),
            (32, "CALIFORNIA".into()),
            (33, "S".into()),
            (34, "US".into()),
            (35, "#".into()),
            (36, format!("{cycle:03}")),
            (37, compact(cycle_date)),
            (38, "#".into()),
            (39, format!("{step:03}")),
            (40, event_date.map(compact).unwrap_or_default()),
            (41, if is_court { "CRT" } else { "ARR" }.into()),
            (42, step_type.into()),
            (43, if is_court { "SC" } else { "PD" }.into()),
            (
                44,
                if is_court {
                    "SUPERIOR COURT"
                } else {
                    "POLICE DEPARTMENT"
                }
                .into(),
            ),
            (
                45,
                format!("CA{county_index:02}{}", if is_court { "0J" } else { "01" }),
            ),
            (46, format!("{agency}{county}")),
            (47, format!("{county_index:02}")),
            (48, county.into()),
            (49, "#".into()),
            (50, format!("{cycle:03}{step:03}{count_number:03}000")),
            (
                51,
                if disposition.is_empty() {
                    String::new()
                } else {
                    event_date.map(compact).unwrap_or_default()
                },
            ),
            (52, case_number.into()),
            (53, offense_code.clone()),
            (54, count.offense.clone()),
            (55, toc_letter.into()),
            (
                57,
                if disposition.is_empty() {
                    String::new()
                } else {
                    offense_code
                },
            ),
            (
                58,
                if disposition.is_empty() {
                    String::new()
                } else {
                    count.offense.clone()
                },
            ),
            (
                59,
                if disposition.is_empty() {
                    String::new()
                } else {
                    toc_letter.into()
                },
            ),
            (80, disposition.into()),
            (
                82,
                if count.convicted {
                    level.into()
                } else {
                    String::new()
                },
            ),
            (83, "#".into()),
            (90, age),
            (94, "#".into()),
        ];
        for (index, value) in values {
            row[index] = value;
        }
        if let Some(&(length, unit, unit_name, location)) = count.sentence_parts.first() {
            row[84] = "1".into();
            row[85] = location.chars().next().unwrap_or('J').to_string();
            row[86] = location.into();
            row[87] = length.to_string();
            row[88] = unit.into();
            row[89] = unit_name.into();
        }
        if count.convicted {
            let offense_code = row[53].clone();
            row[62] = offense_code;
            row[63].clone_from(&count.offense);
            row[64] = toc_letter.into();
            row[78] = "1".into();
            row[79] = "C".into();
            row[81] = toc_letter.into();
        }
        // Qualifier lists are space-padded and file numbers are filled, as in DOJ extracts.
        let padding = "                              ";
        row[56] = padding.into();
        row[60] = if disposition.is_empty() {
            String::new()
        } else {
            padding.into()
        };
        row[65] = if count.convicted {
            padding.into()
        } else {
            String::new()
        };
        row[17] = format!("{}", 100_000 + self.random.below(900_000));
        row[29] = "Y".into();
        row[30] = "N".into();
        row[66] = "001".into();
        row[67] = format!("CAPD{county}");
        row[71] = format!("{:010}", self.random.below(10_000_000_000));
        row[72] = format!("{:09}", self.random.below(1_000_000_000));
        row[73] = format!("{:08}", self.random.below(100_000_000));
        if is_court {
            row[70] = format!("D{:07}", self.random.below(10_000_000));
            row[76] = case_number.into();
        }
        // Descriptive fields are fixed-width, space-padded in DOJ extracts; the fields the rules
        // compare exactly (step type, level, county, units) are not.
        for (index, width) in [
            (22, 20),
            (24, 12),
            (26, 12),
            (32, 20),
            (34, 12),
            (44, 30),
            (46, 30),
            (86, 12),
            (89, 12),
        ] {
            row[index] = format!("{:<width$}", row[index]);
        }
        row[79] = format!("{:<10}", row[79]);
        row[18] = format!(
            "{}{:06}",
            (b'A' + self.random.below(26) as u8) as char,
            self.random.below(1_000_000)
        );
        row[69] = if is_court {
            String::new()
        } else {
            format!("C{:08}", self.random.below(100_000_000))
        };
        row[74] = format!("{:<12}", "");
        row[91] = "S".into();
        row[92] = format!("{:<12}", "STATE");
        row[93].clone_from(&count.comment);
        rows.push(row);
    }
}

fn compact(date: Date) -> String {
    let (year, month, day) = date.ymd();
    format!("{year:04}{month:02}{day:02}")
}

/// Synthetic determinations and contacts that exercise every document and every wording
/// branch: each outcome on each track and basis, several counts in a case, a person with two
/// cases, both letter languages, a person with no address, one deceased, and accented names.
/// `clearance templates check` renders them; tests use them too.
pub fn template_records(
    as_of: Date,
) -> (
    Vec<crate::output::DeterminationRecord>,
    crate::config::Contacts,
) {
    use crate::config::{Contact, Contacts, Language};
    use crate::output::DeterminationRecord;
    struct Spec {
        person: usize,
        case: &'static str,
        count: u32,
        statute: &'static str,
        level: &'static str,
        outcome: &'static str,
        track: &'static str,
        basis: &'static str,
    }
    const PEOPLE: [(&str, &str, &str, bool); 5] = [
        ("90000001", "1000000001", "NÚÑEZ,JOSÉ MARÍA", false),
        ("90000002", "1000000002", "O'BRIEN,ZOË ANNE", false),
        ("90000003", "1000000003", "SMITH,JOHN", false),
        (
            "90000004",
            "1000000004",
            "GARCÍA-LÓPEZ,MARÍA ÁNGELES",
            false,
        ),
        ("90000005", "1000000005", "DOE,RICHARD", true),
    ];
    let specs = [
        Spec {
            person: 0,
            case: "SCN100001",
            count: 1,
            statute: "HS 11357(b)",
            level: "misdemeanor",
            outcome: "dismiss_and_seal",
            track: "completed",
            basis: "statute",
        },
        Spec {
            person: 0,
            case: "SCN100001",
            count: 2,
            statute: "HS 11359",
            level: "felony",
            outcome: "redesignate_misdemeanor",
            track: "completed",
            basis: "statute",
        },
        Spec {
            person: 0,
            case: "SCN100777",
            count: 1,
            statute: "HS 11360(a)",
            level: "felony",
            outcome: "dismiss_and_seal",
            track: "completed",
            basis: "policy",
        },
        Spec {
            person: 1,
            case: "SCN200002",
            count: 1,
            statute: "HS 11358",
            level: "felony",
            outcome: "redesignate_infraction",
            track: "completed",
            basis: "statute",
        },
        Spec {
            person: 2,
            case: "SCN300003",
            count: 1,
            statute: "HS 11359",
            level: "felony",
            outcome: "redesignate_misdemeanor",
            track: "serving",
            basis: "statute",
        },
        Spec {
            person: 2,
            case: "SCN300003",
            count: 3,
            statute: "HS 11357(a)",
            level: "misdemeanor",
            outcome: "dismiss_and_seal",
            track: "serving",
            basis: "statute",
        },
        Spec {
            person: 3,
            case: "SCN400004",
            count: 1,
            statute: "HS 11360(a)",
            level: "felony",
            outcome: "redesignate_misdemeanor",
            track: "completed",
            basis: "statute",
        },
        Spec {
            person: 3,
            case: "SCN400004",
            count: 2,
            statute: "HS 11357(c)",
            level: "misdemeanor",
            outcome: "not_eligible",
            track: "completed",
            basis: "statute",
        },
        Spec {
            person: 4,
            case: "SCN500005",
            count: 1,
            statute: "HS 11357(b)",
            level: "misdemeanor",
            outcome: "dismiss_and_seal",
            track: "completed",
            basis: "statute",
        },
    ];
    let records = specs
        .iter()
        .map(|spec| {
            let (subject_id, cii, name, deceased) = PEOPLE[spec.person];
            let convicted = Date::from_ymd_const(2008 + spec.person as i32, 3, 4 + spec.count);
            let (code, rest) = spec.statute.split_once(' ').unwrap_or_default();
            let section = rest.split('(').next().unwrap_or_default();
            DeterminationRecord {
                subject_id: subject_id.into(),
                cii: cii.into(),
                name: name.into(),
                dob: Date::from_ymd(1980 + spec.person as i32, 6, 15),
                case_numbers: vec![spec.case.into()],
                count_key: format!("00100{}00{}000", spec.person, spec.count),
                count_number: spec.count,
                county: "SAN FRANCISCO".into(),
                source_file: "synthetic".into(),
                source_line: 2 + spec.count,
                offense_text: spec.statute.replace(' ', "-"),
                offense_description: "MARIJUANA".into(),
                statute: spec.statute.into(),
                code: code.into(),
                section: section.into(),
                subsections: String::new(),
                attempt: false,
                level: spec.level.into(),
                conviction_date: Some(convicted),
                sentence_end: Some(convicted.add_days(365)),
                track: spec.track.into(),
                outcome: spec.outcome.into(),
                basis: spec.basis.into(),
                // As the rules give them: the statute's subdivisions by track, or the
                // authority a policy names; the statute seals dismissals on the application
                // track, the synthetic policy seals its own.
                authority: match (spec.basis, spec.track) {
                    ("policy", _) => {
                        "HS 11361.8 and 11361.9, on the People's motion (synthetic policy)".into()
                    }
                    (_, "serving") => "HS 11361.8(a)-(b)".into(),
                    _ => "HS 11361.8(e)-(f)".into(),
                },
                seal: spec.outcome == "dismiss_and_seal"
                    && (spec.basis == "policy" || spec.track == "completed"),
                rule_id: "synthetic".into(),
                reason: "synthetic".into(),
                flags: Vec::new(),
                statutory_outcome: (spec.basis == "policy")
                    .then(|| "redesignate_misdemeanor".into()),
                statutory_rule_id: None,
                statutory_reason: None,
                deceased,
                as_of,
            }
        })
        .collect();
    let mut contacts = Contacts::default();
    let address = |line: &str, zip: &str, language| Contact {
        mailing_name: None,
        address_lines: vec![line.to_string()],
        city: "SAN FRANCISCO".into(),
        state: "CA".into(),
        zip: zip.into(),
        language,
        source_line: 0,
    };
    contacts.insert(
        PEOPLE[0].0,
        "",
        address("1 MISSION ST APT 2", "94105", Some(Language::Es)),
    );
    contacts.insert(
        "",
        PEOPLE[1].1,
        address("22 VALENCIA ST", "94103", Some(Language::En)),
    );
    contacts.insert(PEOPLE[2].0, "", address("333 GEARY BLVD", "94102", None));
    contacts.insert(
        PEOPLE[4].0,
        "",
        address("5 OCEAN AVE", "94112", Some(Language::En)),
    );
    (records, contacts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generate_bytes(people: u32, seed: u64) -> Vec<u8> {
        let options = SampleOptions {
            people,
            county: County::parse("SAN FRANCISCO").unwrap(),
            seed,
        };
        let mut bytes = Vec::new();
        generate(&options, &mut bytes).unwrap();
        bytes
    }

    #[test]
    fn same_seed_same_bytes_and_seeds_differ() {
        assert_eq!(generate_bytes(20, 7), generate_bytes(20, 7));
        assert_ne!(generate_bytes(20, 7), generate_bytes(20, 8));
    }

    #[test]
    fn generated_files_read_without_errors() {
        let bytes = generate_bytes(60, 1);
        let ingested = crate::ingest::read_doj_bytes(
            "sample.csv",
            &bytes,
            crate::ingest::Compatibility::Clearance,
        )
        .unwrap();
        assert_eq!(
            ingested.error_count(),
            0,
            "{:?}",
            ingested.diagnostics.first()
        );
        assert_eq!(ingested.people.len(), 60);
        // Some court cases carry two Prop 64 counts (a per-case motion with several rows).
        let cases_with_two_prop64_counts = ingested
            .people
            .iter()
            .map(|person| {
                let mut prop64_cases: Vec<_> = person
                    .convictions
                    .iter()
                    .filter(|conviction| {
                        conviction
                            .offense
                            .as_ref()
                            .is_some_and(crate::eligibility::matchers::is_prop64)
                    })
                    .map(|conviction| conviction.count_key.case_key())
                    .collect();
                prop64_cases.sort();
                prop64_cases
                    .windows(2)
                    .filter(|pair| pair[0] == pair[1])
                    .count()
            })
            .sum::<usize>();
        assert!(cases_with_two_prop64_counts > 0);
        let rows = ingested.total_accepted_rows();
        let average = bytes.len() as f64 / rows as f64;
        assert!(
            (500.0..1100.0).contains(&average),
            "about 800 bytes per row, got {average}"
        );
    }
}

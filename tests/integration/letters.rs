//! Notification letters as a person reads them: the notice at filing and the letter after the
//! order, per outcome (a serving-track dismissal is not "dismissed and sealed"), one bilingual
//! letter when the language is not known, natural-case names, and free legal help that never
//! lists the prosecutor's own unit.

use crate::support::{Row, Workspace, csv, sample_office};

const POSSESS: &str = "11357(B) HS-POSSESS MARIJUANA 28.5 GRMS OR LESS";
const SALE: &str = "11359 HS-POSSESS MARIJUANA FOR SALE";
/// The sample office's unit number (questions about the letter) and the public defender's.
const UNIT_PHONE: &str = "(415) 555-0111";
const PUBLIC_DEFENDER: &str = "San Francisco Public Defender: (415) 555-0144";

fn letters_workspace() -> Workspace {
    let workspace = Workspace::new();
    let rows = vec![
        // A: a completed misdemeanor possession: dismissed and sealed (§ 11361.8(e)-(f)).
        Row::conviction("A", "001002001000", "20100101", POSSESS, "MISDEMEANOR")
            .name("SMITH,JOHN Q")
            .case_number("SCNA"),
        // ... and a sale committed after Proposition 64, which nothing relieves: the letter
        // must not read as if every marijuana conviction were cleared.
        Row::conviction("A", "002002001000", "20180301", SALE, "FELONY")
            .name("SMITH,JOHN Q")
            .set("CYC_DATE", "20180101")
            .case_number("SCNA2"),
        // S: possession with five years still running on the as-of date: the sentence is
        // dismissed on a petition (§ 11361.8(a)-(b)); nothing is sealed.
        Row::conviction("S", "001002001000", "20190101", POSSESS, "MISDEMEANOR")
            .name("SERVING,SAM")
            .set("CYC_DATE", "20160101")
            .sentence("5", "Y")
            .case_number("SCNS"),
        // U: a completed felony sale, language unknown: one letter, English then Spanish.
        Row::conviction("U", "001002001000", "20100101", SALE, "FELONY")
            .name("O'BRIEN,MARY-KATE")
            .case_number("SCNU"),
    ];
    workspace.write("doj.csv", &csv(&rows, true));
    workspace.write(
        "contacts.csv",
        b"subject_id,address_1,city,state,zip,language\n\
          A,1 Elm St,San Francisco,CA,94110,en\n\
          S,2 Oak St,San Francisco,CA,94111,en\n\
          U,3 Pine St,San Francisco,CA,94112,\n",
    );
    workspace
        .run(&["doj.csv"], &["--contacts", "contacts.csv"])
        .assert()
        .success();
    workspace
}

/// The text after "Free legal help" (English) or "Ayuda legal gratuita" (Spanish).
fn legal_help(text: &str, heading: &str) -> String {
    let start = text
        .find(heading)
        .unwrap_or_else(|| panic!("{heading}: {text}"));
    let rest = &text[start..];
    let end = rest
        .find("Sincerely,")
        .or_else(|| rest.find("Atentamente,"))
        .unwrap_or(rest.len());
    rest[..end].to_string()
}

#[test]
fn notices_at_filing_say_what_was_asked_per_outcome() {
    let workspace = letters_workspace();
    let manifest = workspace.json("out/manifest.json");
    assert_eq!(manifest["letters"]["mode"], "notice");

    let dismissed = workspace.pdf("out/letters/A.en.pdf");
    dismissed.assert_court_ready();
    let text = dismissed.text();
    for expected in [
        "Dear John Q Smith,",
        "The District Attorney has asked the Superior Court of California, County of San Francisco, to dismiss and seal the marijuana conviction listed below.",
        "Asked of the court",
        "Dismiss and seal",
        "Possessing marijuana (Health and Safety Code section 11357(b))",
        "What it will mean if the court agrees",
        "You do not have to go to court.",
        "Questions about this letter",
        "This letter is only about the conviction listed above.",
        "Your record has other marijuana convictions that this letter does not change",
    ] {
        assert!(text.contains(expected), "A: {expected:?} in {text}");
    }
    for wrong in [
        "Good news",
        "has dismissed",
        "JOHN Q SMITH,",
        "DOJ",
        "SCNA2",
    ] {
        assert!(!text.contains(wrong), "A: {wrong:?} in {text}");
    }
    // Free legal help: the public defender and legal aid, never the prosecutor's unit, whose
    // number is only for questions about the letter (Rules Prof. Conduct, rule 4.3).
    let help = legal_help(&text, "Free legal help");
    assert!(help.contains(PUBLIC_DEFENDER), "{help}");
    assert!(help.contains("Bay Area Legal Aid"), "{help}");
    assert!(!help.contains(UNIT_PHONE), "{help}");
    assert!(!help.contains("Clean Slate Unit"), "{help}");
    assert!(text.contains(UNIT_PHONE), "the unit's number for questions");

    // Still serving: the sentence is dismissed on a petition; nothing is sealed, and the court
    // may hold a hearing.
    let serving = workspace.pdf("out/letters/S.en.pdf").text();
    for expected in [
        "to dismiss the sentence you are serving for the marijuana conviction listed below.",
        "Dismiss the sentence",
        "the court may set a hearing",
        "This does not seal the court record",
    ] {
        assert!(serving.contains(expected), "S: {expected:?} in {serving}");
    }
    for wrong in [
        "Dismiss and seal",
        "Dismissed and sealed",
        "will be sealed",
        "other marijuana convictions",
    ] {
        assert!(!serving.contains(wrong), "S: {wrong:?} in {serving}");
    }

    // Language unknown: one letter, English then Spanish, in one envelope.
    assert!(!workspace.exists("out/letters/U.en.pdf"));
    assert!(!workspace.exists("out/letters/U.es.pdf"));
    let bilingual = workspace.pdf("out/letters/U.en-es.pdf");
    bilingual.assert_court_ready();
    let text = bilingual.text();
    let english = text.find("Dear Mary-Kate O'Brien,").expect("English part");
    let spanish = text
        .find("Estimado/a Mary-Kate O'Brien:")
        .expect("Spanish part");
    assert!(english < spanish, "English first");
    for expected in [
        "to reduce the marijuana conviction listed below to a misdemeanor.",
        "La Fiscalía ha pedido al Tribunal Superior de California, Condado de San Francisco, que reduzca la condena relacionada con la marihuana que aparece abajo a un delito menor (misdemeanor).",
        "Es posible que este cambio no elimine las consecuencias migratorias.",
        "Llame a Unidad Clean Slate (Fiscalía de San Francisco)",
        "Defensoría Pública de San Francisco: (415) 555-0144",
        "Posesión de marihuana para la venta (Código de Salud y Seguridad, sección 11359)",
        "Departamento de Justicia de California",
    ] {
        assert!(text.contains(expected), "U: {expected:?} in {text}");
    }
    for wrong in ["este alivio", "DOJ", "sentencia"] {
        assert!(!text.contains(wrong), "U: {wrong:?} in {text}");
    }
    let help = legal_help(&text[spanish..], "Ayuda legal gratuita");
    assert!(
        help.contains("Defensoría Pública de San Francisco"),
        "{help}"
    );
    assert!(!help.contains(UNIT_PHONE), "{help}");

    let mailing = workspace.csv_rows("out/bundles/mailing-list.csv");
    let header = &mailing[0];
    let column = |name: &str| header.iter().position(|field| field == name).unwrap();
    let row = mailing[1..]
        .iter()
        .find(|row| row[column("subject_id")] == "U")
        .expect("U on the mailing list");
    assert_eq!(row[column("language")], "en-es");
    assert_eq!(row[column("status")], "ready");
    assert_eq!(row[column("bundle")], "bundles/letters.en-es.pdf");
    assert_eq!(
        mailing.len(),
        4,
        "one row per person, not per language: {mailing:?}"
    );
}

#[test]
fn letters_after_the_order_report_its_date_judge_and_outcome() {
    let workspace = letters_workspace();
    let render = |extra: &[&str], out: &str| {
        let mut command = workspace.clearance();
        command
            .args(["render", "out/results/determinations.json"])
            .args(["--office", &sample_office(), "--contacts", "contacts.csv"])
            .args(["--out", out])
            .args(extra);
        command.assert()
    };
    render(
        &["--order-date", "2020-06-15", "--judge", "Ana Ruiz"],
        "post",
    )
    .success();
    assert_eq!(
        workspace.json("post/manifest.json")["letters"],
        serde_json::json!({"written": true, "mode": "post-order", "order_date": "2020-06-15", "judge": "Ana Ruiz"})
    );
    let dismissed = workspace.pdf("post/letters/A.en.pdf").text();
    for expected in [
        "On June 15, 2020, Judge Ana Ruiz of the Superior Court of California, County of San Francisco, dismissed and sealed the marijuana conviction listed below.",
        "The court's order",
        "Dismissed and sealed",
        "the conviction is dismissed, and the court record is sealed.",
        "You do not need to do anything",
    ] {
        assert!(
            dismissed.contains(expected),
            "A: {expected:?} in {dismissed}"
        );
    }
    assert!(!dismissed.contains("has asked"), "{dismissed}");
    let serving = workspace.pdf("post/letters/S.en.pdf").text();
    assert!(serving.contains("Sentence dismissed"), "{serving}");
    assert!(
        serving.contains("dismissed the sentence you were serving"),
        "{serving}"
    );
    assert!(!serving.contains("Dismissed and sealed"), "{serving}");
    let bilingual = workspace.pdf("post/letters/U.en-es.pdf").text();
    assert!(
        bilingual.contains("En una orden del 15 de junio de 2020, firmada por Ana Ruiz, el Tribunal Superior de California, Condado de San Francisco, redujo la condena relacionada con la marihuana que aparece abajo a un delito menor (misdemeanor)."),
        "{bilingual}"
    );

    // Without a judge the court is named alone; an order after the documents' date is refused.
    render(&["--order-date", "2020-06-15"], "unnamed").success();
    let unnamed = workspace.pdf("unnamed/letters/A.en.pdf").text();
    assert!(
        unnamed.contains("On June 15, 2020, the Superior Court of California, County of San Francisco, dismissed and sealed"),
        "{unnamed}"
    );
    let refused = render(&["--order-date", "2020-07-02"], "later").code(1);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(
        stderr.contains("--order-date 2020-07-02 is after the documents' date 2020-07-01"),
        "{stderr}"
    );
    assert!(!workspace.exists("later"));
}

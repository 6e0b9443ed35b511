//! Properties of the extractor over arbitrary text: it never panics, every
//! entity's offsets point at its surface form, and dates it resolves lie
//! near the publication date.

use proptest::prelude::*;
use tearline_extract::{extract, Context, EntityKind};

/// Text made of pieces the rules look at, glued with arbitrary characters.
fn texty() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "ISIS-K ",
        "Islamic State ",
        "on Friday ",
        "last Tuesday ",
        "22 March ",
        "March 7, 2024 ",
        "over the next 48 hours ",
        "at least 143 killed ",
        "the death toll rose to ",
        "Moscow ",
        "Crocus City Hall ",
        "Kremlin spokesman Dmitry Peskov said ",
        "Peskov ",
        "an IS offshoot known as ",
        "Москва ",
        "в пятницу ",
        "погибли два ",
        "État islamique ",
        "«",
        "»",
        "’s ",
        "\n\n",
        ". ",
        ", ",
        "é",
        "\u{200b}",
        "İ",
        "ß",
        "ﬁ",
        "🙂",
        "the ",
        "group ",
        "Mr. ",
        "U.S. Embassy in ",
    ]);
    prop::collection::vec(
        prop_oneof![pieces.prop_map(str::to_string), any::<String>()],
        0..40,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn offsets_point_at_the_surface(text in texty()) {
        let ctx = Context::published("2024-03-23").unwrap();
        let x = extract(&text, &ctx);
        let chars: Vec<char> = text.chars().collect();
        for e in &x.entities {
            prop_assert!(e.start <= e.end && e.end <= chars.len());
            let by_chars: String = chars[e.start..e.end].iter().collect();
            prop_assert_eq!(&by_chars, &e.text);
            prop_assert_eq!(&text[e.byte_start..e.byte_end], e.text.as_str());
            if e.kind == EntityKind::Date {
                if let Some(d) = &e.date {
                    let year: i32 = d[..4].parse().unwrap();
                    prop_assert!((1900..=2101).contains(&year), "{}", d);
                }
            }
        }
    }
}

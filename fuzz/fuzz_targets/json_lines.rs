//! Fuzzes the JSON Lines document reader of `ingest`: every line is a
//! document or a reason naming its line, never a panic, and the bytes each
//! took never add up to more than the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let docs = tearline_node::reading::json_lines("fuzz.jsonl", data);
    let taken: u64 = docs.iter().map(|(_, n)| n).sum();
    assert!(taken <= data.len() as u64);
    for (d, _) in docs {
        match d {
            Ok(d) => assert!(!d.text.trim().is_empty()),
            Err(e) => assert!(e.at.starts_with("fuzz.jsonl")),
        }
    }
});

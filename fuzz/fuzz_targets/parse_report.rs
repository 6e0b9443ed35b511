//! Fuzzes the report parser, then what `check` does with whatever parses:
//! lint, and each default audience's release and leak check. Nothing may
//! panic; a portion reaches an audience only if every marking in it (a
//! marking at the start of one of its lines included) admits the audience;
//! and a release either passes the leak check or is refused. CI runs it
//! with `-timeout=`, so input that makes any of this super-linear is
//! reported as a timeout.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tearline_model::{parse_report, Audience};
use tearline_release::{clear, lint, receives, render_markdown, LeakGuard, Registry, Release, Rendered};

fuzz_target!(|data: &[u8]| {
    let Ok(report) = parse_report("fuzz.md", data) else {
        return;
    };
    let registry = Registry::new(Vec::new());
    let audiences = Audience::defaults();
    let _ = lint(&report, &audiences, &registry);
    for a in &audiences {
        for p in report.portions() {
            if receives(a, p) {
                assert!(p.markings().all(|m| m.level() <= a.max()));
            }
        }
        let release = Release::build(&report, a, &registry);
        let guard = LeakGuard::new(&report, a, &registry);
        let _ = clear(&guard, &release, Rendered::Text(render_markdown(&release)), None);
    }
});

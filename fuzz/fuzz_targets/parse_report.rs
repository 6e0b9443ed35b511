//! Fuzzes the report parser, and the release engine on whatever parses:
//! neither may panic, and a public release must pass or be refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tearline_model::{parse_report, Audience, Level};
use tearline_release::{clear, render_markdown, LeakGuard, Registry, Release, Rendered};

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = parse_report("fuzz.md", data) {
        let registry = Registry::new(Vec::new());
        if let Ok(public) = Audience::new("public", Level::Clear, false) {
            let release = Release::build(&report, &public, &registry);
            let guard = LeakGuard::new(&report, &public, &registry);
            let _ = clear(&guard, &release, Rendered::Text(render_markdown(&release)), None);
        }
    }
});

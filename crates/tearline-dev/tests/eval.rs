//! The evaluation set scores at or above the recorded figures.

use std::path::Path;
use std::process::Command;

#[test]
fn eval_meets_the_recorded_figures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let o = Command::new(env!("CARGO_BIN_EXE_tearline-dev"))
        .args([
            "eval",
            root.join("eval/corpus").to_str().unwrap(),
            "--check",
            root.join("eval/thresholds.tsv").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("B-cubed"), "{out}");
}

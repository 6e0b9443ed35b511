//! The envelope parser behind `POST .../objects/`, on bytes.

use tearline_exchange::{parse_envelope, ApiError};

#[test]
fn envelopes_parse_or_are_refused_with_their_reason() {
    let ok = br#"{"objects": [{"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created": "2026-03-20T08:00:00.000Z", "modified": "2026-03-20T08:00:00.000Z"}]}"#;
    let objects = parse_envelope(ok).unwrap();
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0].object_type, "indicator");
    assert!(matches!(
        parse_envelope(b"{\"objects\": ["),
        Err(ApiError::BadRequest(_))
    ));
    assert!(matches!(
        parse_envelope(b"\xff"),
        Err(ApiError::BadRequest(_))
    ));
    assert!(matches!(
        parse_envelope(b"{}"),
        Err(ApiError::Unprocessable(_))
    ));
    let e = parse_envelope(br#"{"objects": [{"type": "note", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}]}"#)
        .unwrap_err();
    assert!(e.to_string().contains("objects[0]"), "{e}");
    // Deep nesting is refused by the JSON reader, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(matches!(
        parse_envelope(deep.as_bytes()),
        Err(ApiError::BadRequest(_))
    ));
}

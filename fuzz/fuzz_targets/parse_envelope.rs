//! Fuzzes the TAXII envelope parser behind `POST .../objects/`: any body
//! is accepted or refused as a bad request or an unprocessable envelope,
//! never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(objects) = tearline_exchange::parse_envelope(data) {
        for o in objects {
            assert_eq!(o.spec_version, "2.1");
            assert!(o.id.starts_with(&o.object_type));
        }
    }
});

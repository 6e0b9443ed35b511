//! Signatures on STIX objects.
//!
//! Each object a node produces is signed on its own, so a verifier can say
//! which object was altered. The signature lives in Tearline's property
//! extension on the object, `extensions[TEARLINE_EXTENSION].signature`:
//!
//! ```json
//! {"alg": "ed25519", "key": "<key id>", "value": "<base64 signature>"}
//! ```
//!
//! It covers the object's **canonical form**: the object with that
//! `signature` member removed, serialised as compact JSON with the members
//! of every object sorted by key (byte order). Published objects — the
//! standard TLP 2.0 marking-definitions and Tearline's own identity and
//! extension-definition — are not signed: they are checked against their
//! published content instead.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::{is_published_object, TEARLINE_EXTENSION};

/// The compact JSON of `v` with object members sorted by key.
pub fn canonical(v: &Value) -> Vec<u8> {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = Map::new();
                for k in keys {
                    out.insert(k.clone(), sorted(&m[k]));
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_vec(&sorted(v)).unwrap_or_default()
}

/// A short identifier of a public key: the first 16 hex digits of its
/// SHA-256.
pub fn key_id(key: &VerifyingKey) -> String {
    hex_prefix(&Sha256::digest(key.as_bytes()))
}

fn hex_prefix(b: &[u8]) -> String {
    b.iter().take(8).map(|x| format!("{x:02x}")).collect()
}

/// A public key as text: `ed25519:<base64>`.
pub fn export_key(key: &VerifyingKey) -> String {
    format!("ed25519:{}", STANDARD.encode(key.as_bytes()))
}

/// Parses `ed25519:<base64>`.
pub fn import_key(text: &str) -> Result<VerifyingKey, String> {
    let b64 = text
        .trim()
        .strip_prefix("ed25519:")
        .ok_or("a public key starts with `ed25519:`")?;
    let bytes = STANDARD
        .decode(b64)
        .map_err(|e| format!("the key is not base64: {e}"))?;
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| "an Ed25519 public key is 32 bytes".to_string())?;
    VerifyingKey::from_bytes(&arr).map_err(|e| format!("not an Ed25519 public key: {e}"))
}

fn without_signature(o: &Value) -> Value {
    let mut c = o.clone();
    if let Some(ext) = c
        .get_mut("extensions")
        .and_then(|e| e.get_mut(TEARLINE_EXTENSION))
        .and_then(Value::as_object_mut)
    {
        ext.remove("signature");
    }
    c
}

/// Signs every object of a bundle except the standard TLP markings.
pub fn sign_bundle(bundle: &mut Value, key: &SigningKey) {
    let kid = key_id(&key.verifying_key());
    let Some(objects) = bundle.get_mut("objects").and_then(Value::as_array_mut) else {
        return;
    };
    for o in objects.iter_mut() {
        if is_published_object(o) {
            continue;
        }
        let Some(obj) = o.as_object_mut() else {
            continue;
        };
        let exts = obj.entry("extensions").or_insert_with(|| json!({}));
        if let Some(exts) = exts.as_object_mut() {
            let e = exts
                .entry(TEARLINE_EXTENSION)
                .or_insert_with(|| json!({"extension_type": "property-extension"}));
            if let Some(e) = e.as_object_mut() {
                e.remove("signature");
            }
        }
        let sig = key.sign(&canonical(&without_signature(o)));
        if let Some(e) = o
            .pointer_mut(&format!("/extensions/{TEARLINE_EXTENSION}"))
            .and_then(Value::as_object_mut)
        {
            e.insert(
                "signature".into(),
                json!({"alg": "ed25519", "key": kid, "value": STANDARD.encode(sig.to_bytes())}),
            );
        }
    }
}

/// Why an object failed verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The object carries no signature (and is not a standard marking).
    #[error("object {0} is not signed")]
    Unsigned(String),
    /// Signed with another key.
    #[error("object {0} is signed by key {1}, not by this key")]
    OtherKey(String, String),
    /// The signature does not match the content.
    #[error("object {0} was altered after it was signed")]
    Altered(String),
}

/// Verifies one object.
pub fn verify_object(o: &Value, key: &VerifyingKey) -> Result<(), SignatureError> {
    let id = o
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("(no id)")
        .to_string();
    if is_published_object(o) {
        return Ok(());
    }
    let sig = o
        .pointer(&format!("/extensions/{TEARLINE_EXTENSION}/signature"))
        .ok_or_else(|| SignatureError::Unsigned(id.clone()))?;
    let kid = sig.get("key").and_then(Value::as_str).unwrap_or("");
    if kid != key_id(key) {
        return Err(SignatureError::OtherKey(id, kid.to_string()));
    }
    let bytes = sig
        .get("value")
        .and_then(Value::as_str)
        .and_then(|v| STANDARD.decode(v).ok())
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .ok_or_else(|| SignatureError::Altered(id.clone()))?;
    key.verify(
        &canonical(&without_signature(o)),
        &Signature::from_bytes(&bytes),
    )
    .map_err(|_| SignatureError::Altered(id))
}

/// Verifies every object of a bundle; returns the number verified, or every
/// failure.
pub fn verify_bundle(bundle: &Value, key: &VerifyingKey) -> Result<usize, Vec<SignatureError>> {
    let objects = bundle
        .get("objects")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let errors: Vec<SignatureError> = objects
        .iter()
        .filter_map(|o| verify_object(o, key).err())
        .collect();
    if errors.is_empty() {
        Ok(objects.len())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlp_marking_definition;
    use tearline_model::Level;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    #[test]
    fn canonical_sorts_members() {
        let v = json!({"b": 1, "a": {"d": [1, {"z": 0, "y": 1}], "c": "x"}});
        assert_eq!(
            String::from_utf8(canonical(&v)).unwrap(),
            r#"{"a":{"c":"x","d":[1,{"y":1,"z":0}]},"b":1}"#
        );
    }

    #[test]
    fn signed_bundles_verify_and_alterations_are_named() {
        let mut b = json!({"type": "bundle", "id": "bundle--1", "objects": [
            {"type": "report", "id": "report--a", "name": "Warning"},
            {"type": "threat-actor", "id": "threat-actor--b", "name": "Group"},
            tlp_marking_definition(Level::Amber),
        ]});
        sign_bundle(&mut b, &key());
        let vk = key().verifying_key();
        assert_eq!(verify_bundle(&b, &vk), Ok(3));
        // Member order does not matter.
        let reordered: Value =
            serde_json::from_str(&String::from_utf8(canonical(&b)).unwrap()).unwrap();
        assert_eq!(verify_bundle(&reordered, &vk), Ok(3));
        b["objects"][1]["name"] = json!("Another group");
        assert_eq!(
            verify_bundle(&b, &vk),
            Err(vec![SignatureError::Altered("threat-actor--b".into())])
        );
        let other = SigningKey::from_bytes(&[8u8; 32]).verifying_key();
        assert!(matches!(
            verify_object(&b["objects"][0], &other),
            Err(SignatureError::OtherKey(..))
        ));
        b["objects"][2]["name"] = json!("TLP:CLEAR");
        assert_eq!(
            verify_object(&b["objects"][2], &vk),
            Err(SignatureError::Unsigned(
                "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421".into()
            ))
        );
    }

    #[test]
    fn keys_round_trip_as_text() {
        let vk = key().verifying_key();
        assert_eq!(import_key(&export_key(&vk)), Ok(vk));
        assert!(import_key("rsa:abc").is_err());
        assert!(import_key("ed25519:AAAA").is_err());
    }
}

//! Partner credentials: HTTP Basic (partner name and password) or a bearer
//! token. Secrets are random, shown once, and stored as SHA-256 digests.

use axum::http::{header, HeaderMap};
use base64::Engine;
use sha2::{Digest, Sha256};
use tearline_store::{Partner, Store};

use crate::error::ApiError;

/// A fresh secret: 32 random bytes, base64url without padding.
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

/// The stored form of a secret.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares two digests without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The partner the request's credentials belong to.
pub fn authenticate(store: &dyn Store, headers: &HeaderMap) -> Result<Partner, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::Unauthorized)?;
    let (scheme, rest) = value.split_once(' ').ok_or(ApiError::Unauthorized)?;
    let partners = store.partners()?;
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest.trim())
                .map_err(|_| ApiError::Unauthorized)?;
            let text = String::from_utf8(decoded).map_err(|_| ApiError::Unauthorized)?;
            let (user, password) = text.split_once(':').ok_or(ApiError::Unauthorized)?;
            let d = digest(password);
            partners
                .into_iter()
                .find(|p| p.name == user && same(&p.password_sha256, &d))
                .ok_or(ApiError::Unauthorized)
        }
        "bearer" => {
            let d = digest(rest.trim());
            partners
                .into_iter()
                .find(|p| same(&p.token_sha256, &d))
                .ok_or(ApiError::Unauthorized)
        }
        _ => Err(ApiError::Unauthorized),
    }
}

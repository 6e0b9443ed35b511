//! Partner credentials: HTTP Basic (partner name and password) or a bearer
//! token. Secrets are random, shown once, and stored as SHA-256 digests.
//!
//! A partner may also be bound to a TLS client certificate (its SHA-256
//! fingerprint): then a request needs both its credential and a
//! connection that presented that certificate. Either alone gets 401.

use std::convert::Infallible;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use base64::Engine;
use sha2::{Digest, Sha256};
use tearline_store::{Partner, Store};

use crate::error::ApiError;
use crate::tls::Peer;

/// What a request brings to authenticate with: its headers and, over TLS,
/// the fingerprint of the client certificate its connection presented.
pub struct Presented {
    /// The request's headers.
    pub headers: HeaderMap,
    /// The client certificate's SHA-256 (lowercase hex), if any.
    pub client_cert: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Presented {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Presented, Infallible> {
        Ok(Presented {
            headers: parts.headers.clone(),
            client_cert: parts
                .extensions
                .get::<ConnectInfo<Peer>>()
                .and_then(|c| c.0.client_cert_sha256.clone()),
        })
    }
}

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

/// The partner the request's credentials belong to, if it is not bound to
/// a client certificate or the connection presented that certificate.
pub fn authenticate(store: &dyn Store, presented: &Presented) -> Result<Partner, ApiError> {
    let p = by_credential(store, &presented.headers)?;
    match (&p.client_cert_sha256, &presented.client_cert) {
        (None, _) => Ok(p),
        (Some(bound), Some(shown)) if same(bound, shown) => Ok(p),
        (Some(_), shown) => {
            tracing::warn!(
                "partner `{}` is bound to a client certificate; the request presented {}",
                p.name,
                if shown.is_some() {
                    "another one"
                } else {
                    "none"
                }
            );
            Err(ApiError::Unauthorized)
        }
    }
}

/// The partner a password or token belongs to.
fn by_credential(store: &dyn Store, headers: &HeaderMap) -> Result<Partner, ApiError> {
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

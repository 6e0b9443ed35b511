//! The one error table of the TAXII interface: each error has an HTTP
//! status, a title, and becomes a TAXII error message. Internal details are
//! logged, never sent.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::TAXII_MEDIA_TYPE;

/// An error answered to a TAXII client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No or bad credentials.
    #[error("authentication required")]
    Unauthorized,
    /// Known to the client but not permitted (e.g. writing to a read
    /// collection).
    #[error("{0}")]
    Forbidden(String),
    /// Does not exist — or is not released to this client, which is
    /// answered the same way.
    #[error("not found")]
    NotFound,
    /// The `Accept` header asks for something other than TAXII 2.1.
    #[error("not acceptable")]
    NotAcceptable,
    /// The request body is not `application/taxii+json;version=2.1`.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// The body is over the API root's `max_content_length`.
    #[error("request body over {0} bytes")]
    TooLarge(usize),
    /// The partner is over its request rate.
    #[error("too many requests: slow down and retry")]
    TooManyRequests,
    /// A bad query parameter or malformed JSON.
    #[error("{0}")]
    BadRequest(String),
    /// Well-formed JSON that is not a valid envelope of STIX objects.
    #[error("{0}")]
    Unprocessable(String),
    /// A failure of the node itself.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "Unauthorized",
            ApiError::Forbidden(_) => "Forbidden",
            ApiError::NotFound => "Not Found",
            ApiError::NotAcceptable => "Not Acceptable",
            ApiError::UnsupportedMediaType => "Unsupported Media Type",
            ApiError::TooLarge(_) => "Payload Too Large",
            ApiError::TooManyRequests => "Too Many Requests",
            ApiError::BadRequest(_) => "Bad Request",
            ApiError::Unprocessable(_) => "Unprocessable Entity",
            ApiError::Internal(_) => "Internal Server Error",
        }
    }
}

impl From<tearline_store::StoreError> for ApiError {
    fn from(e: tearline_store::StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(detail) = &self {
            tracing::error!("internal error: {detail}");
        }
        let description = match &self {
            ApiError::Internal(_) => {
                "the server failed to answer; the failure is logged at the node".to_string()
            }
            other => other.to_string(),
        };
        let body = json!({
            "title": self.title(),
            "description": description,
            "http_status": status.as_u16().to_string(),
        });
        let mut r = (status, body.to_string()).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(TAXII_MEDIA_TYPE),
        );
        if status == StatusCode::TOO_MANY_REQUESTS {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"tearline\""),
            );
        }
        r
    }
}

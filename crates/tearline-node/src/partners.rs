//! Partners: who reads an audience's releases over TAXII, with credentials
//! shown once and stored only as digests, and optionally bound to a TLS
//! client certificate.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::json;
use tearline_exchange::tls::{certificate_fingerprint, parse_fingerprint, read_pem_file, Pem};
use tearline_exchange::{digest, inbox_collection_id, new_secret, read_collection_id};
use tearline_model::{Audience, Level};
use tearline_store::Partner;

use crate::{stamp, Caller, Error, Node, Result};

/// Credentials, shown once.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The HTTP Basic user name: the partner's name.
    pub user: String,
    /// The HTTP Basic password.
    pub password: String,
    /// The bearer token.
    pub token: String,
}

/// A partner just added.
#[derive(Debug, Clone)]
pub struct NewPartner {
    /// Its name.
    pub name: String,
    /// The audience whose releases it reads.
    pub audience: String,
    /// The collection it reads.
    pub read_collection: String,
    /// Its inbox.
    pub inbox_collection: String,
    /// Its credentials.
    pub credentials: Credentials,
    /// Its audience sees sources and methods.
    pub sees_sources: bool,
    /// The client certificate it is bound to (SHA-256, hex), if any.
    pub client_cert_sha256: Option<String>,
}

/// The TLS client certificate a partner is bound to: a partner bound to
/// one must present it, besides its password or token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientCert {
    /// Its SHA-256 fingerprint, as `openssl x509 -noout -fingerprint
    /// -sha256` prints it (or plain hex).
    Fingerprint(String),
    /// A PEM file holding it (its first certificate counts).
    File(PathBuf),
}

impl ClientCert {
    /// The certificate's SHA-256 fingerprint, lowercase hex.
    pub fn sha256(&self) -> Result<String> {
        match self {
            ClientCert::Fingerprint(f) => parse_fingerprint(f).map_err(Error::bad),
            ClientCert::File(path) => {
                let name = format!("`{}`", path.display());
                let text = read_pem_file(path).map_err(|e| Error::bad(e.to_string()))?;
                certificate_fingerprint(Pem {
                    name: &name,
                    text: &text,
                })
                .map_err(|e| Error::bad(e.to_string()))
            }
        }
    }
}

/// A partner as listed.
#[derive(Debug, Clone)]
pub struct PartnerView {
    /// Its name.
    pub name: String,
    /// Its audience.
    pub audience: String,
    /// When it was added.
    pub created_at: String,
    /// When its credentials were last set.
    pub rotated_at: String,
    /// The collection it reads.
    pub read_collection: String,
    /// Its inbox.
    pub inbox_collection: String,
    /// When it was last in contact over TAXII.
    pub last_contact: Option<String>,
    /// The client certificate it is bound to (SHA-256, hex), if any.
    pub client_cert_sha256: Option<String>,
}

fn secrets(user: &str) -> Result<Credentials> {
    let draw = || {
        new_secret().map_err(|e| {
            Error::new(
                crate::Code::Internal,
                format!("failed to draw a random secret: {e}"),
            )
        })
    };
    Ok(Credentials {
        user: user.to_string(),
        password: draw()?,
        token: draw()?,
    })
}

impl Node {
    /// Adds a partner bound to an audience, and to a client certificate
    /// when given; its credentials are returned once and stored as
    /// digests. An audience that sees sources and methods takes
    /// `with_sources`: such a partner receives releases that name them, and
    /// that must be meant.
    pub fn partner_add(
        &self,
        caller: &Caller,
        name: &str,
        audience: &str,
        with_sources: bool,
        client_cert: Option<&ClientCert>,
    ) -> Result<NewPartner> {
        caller.may_configure()?;
        // Partner names follow the rules of audience names.
        let name = Audience::new(name, Level::Clear, false)
            .map_err(|e| Error::bad(e.to_string().replace("audience name", "partner name")))?
            .name()
            .to_string();
        let a = self.audience(audience)?;
        if a.sees_sources() && !with_sources {
            return Err(Error::bad(format!(
                "audience `{}` sees sources and methods: a partner of it receives releases that name them; add --with-sources if that is meant",
                a.name()
            )));
        }
        let aud = a.name().to_string();
        let client_cert_sha256 = client_cert.map(ClientCert::sha256).transpose()?;
        let credentials = secrets(&name)?;
        let at = stamp(self.now());
        let p = Partner {
            name: name.clone(),
            audience: aud.clone(),
            password_sha256: digest(&credentials.password),
            token_sha256: digest(&credentials.token),
            created_at: at.clone(),
            rotated_at: at,
            client_cert_sha256: client_cert_sha256.clone(),
        };
        let mut detail = json!({ "audience": aud, "sees_sources": a.sees_sources() });
        if let Some(fp) = &client_cert_sha256 {
            detail["client_cert_sha256"] = json!(fp);
        }
        let entry = self.entry(caller, "partner.add", &name, detail);
        self.store.partner_add(&p, entry).map_err(|e| match e {
            tearline_store::StoreError::Conflict(m) => Error::bad(m),
            other => other.into(),
        })?;
        Ok(NewPartner {
            sees_sources: a.sees_sources(),
            read_collection: read_collection_id(&aud),
            inbox_collection: inbox_collection_id(&name),
            name,
            audience: aud,
            credentials,
            client_cert_sha256,
        })
    }

    /// Binds a partner to a client certificate, or unbinds it (`None`);
    /// holds from its next request. The fingerprint bound, if any.
    pub fn partner_cert(
        &self,
        caller: &Caller,
        name: &str,
        client_cert: Option<&ClientCert>,
    ) -> Result<Option<String>> {
        caller.may_configure()?;
        let fp = client_cert.map(ClientCert::sha256).transpose()?;
        let entry = self.entry(
            caller,
            "partner.cert",
            name,
            json!({ "client_cert_sha256": fp }),
        );
        if !self
            .store
            .partner_set_client_cert(name, fp.as_deref(), entry)?
        {
            return Err(Error::bad(format!("no partner `{name}`")));
        }
        Ok(fp)
    }

    /// Every partner, by name, with its last contact.
    pub fn partners(&self, _caller: &Caller) -> Result<Vec<PartnerView>> {
        let seen: HashMap<String, String> = self.store.partners_seen()?.into_iter().collect();
        Ok(self
            .store
            .partners()?
            .into_iter()
            .map(|p| PartnerView {
                read_collection: read_collection_id(&p.audience),
                inbox_collection: inbox_collection_id(&p.name),
                last_contact: seen.get(&p.name).cloned(),
                name: p.name,
                audience: p.audience,
                created_at: p.created_at,
                rotated_at: p.rotated_at,
                client_cert_sha256: p.client_cert_sha256,
            })
            .collect())
    }

    /// Removes a partner; its credentials stop working at once.
    pub fn partner_remove(&self, caller: &Caller, name: &str) -> Result<()> {
        caller.may_configure()?;
        let entry = self.entry(caller, "partner.remove", name, json!({}));
        if !self.store.partner_remove(name, entry)? {
            return Err(Error::bad(format!("no partner `{name}`")));
        }
        Ok(())
    }

    /// Replaces a partner's password and token; the old ones stop working.
    pub fn partner_rotate(&self, caller: &Caller, name: &str) -> Result<Credentials> {
        caller.may_configure()?;
        let c = secrets(name)?;
        let at = stamp(self.now());
        let entry = self.entry(caller, "partner.rotate", name, json!({}));
        if !self
            .store
            .partner_rotate(name, &digest(&c.password), &digest(&c.token), &at, entry)?
        {
            return Err(Error::bad(format!("no partner `{name}`")));
        }
        Ok(c)
    }
}

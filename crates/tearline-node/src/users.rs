//! The people who use the workbench: users and their passwords, signing
//! in and out, sessions with their CSRF tokens, sign-in throttling, and
//! drafts.
//!
//! Passwords are stored only as Argon2id hashes (PHC strings). A session is
//! a random 256-bit token; the node keeps only its SHA-256, in memory, so a
//! restart signs everyone out. Each session carries its own CSRF token.
//! The user is read again on every request ([`Node::session`]): a new
//! password, a new role or removal ends the session. Five wrong passwords
//! lock a name for 15 minutes. Signing in (and failing to), signing out
//! and saving drafts are in the audit log under the user's name.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde_json::json;
use sha2::{Digest, Sha256};
use tearline_store::{Draft, User};

use crate::reports::{ReleaseInput, Released};
use crate::{stamp, Caller, Code, Error, Node, Result, Role};

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 12;

/// Failed sign-ins per name before the name is locked for a while.
const MAX_FAILURES: u32 = 5;
const LOCK: Duration = Duration::from_secs(15 * 60);

/// An Argon2id hash of `password` in PHC string form.
pub fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| {
        Error::new(
            Code::Internal,
            format!("failed to read random bytes for a salt: {e}"),
        )
    })?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| Error::new(Code::Internal, format!("bad salt: {e}")))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| Error::new(Code::Internal, format!("failed to hash the password: {e}")))?
        .to_string())
}

/// Whether `password` matches `hash`. A malformed hash matches nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to check against when the user does not exist, so that an
/// unknown name takes as long as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("not a password of anyone").unwrap_or_default())
}

/// A random secret, URL-safe.
pub fn token(bytes: usize) -> Result<String> {
    use base64::Engine;
    let mut b = vec![0u8; bytes];
    getrandom::getrandom(&mut b)
        .map_err(|e| Error::new(Code::Internal, format!("failed to read random bytes: {e}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

fn digest(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Compares two strings without stopping at the first difference.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn valid_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(Error::bad(format!(
            "user name `{name}` must be 1 to 64 letters, digits, `.`, `_`, `-` or `@`"
        )))
    }
}

/// The password given (checked for length), or a new one made here and
/// returned to be shown once.
fn password_or_new(given: Option<&str>) -> Result<(String, Option<String>)> {
    match given {
        Some(p) if p.chars().count() < MIN_PASSWORD => Err(Error::bad(format!(
            "the password must be at least {MIN_PASSWORD} characters"
        ))),
        Some(p) => Ok((p.to_string(), None)),
        None => {
            let p = token(15)?;
            Ok((p.clone(), Some(p)))
        }
    }
}

/// A message shown once on the next page.
#[derive(Clone, Debug)]
pub struct Flash {
    /// `ok` or `error`.
    pub kind: &'static str,
    /// The message.
    pub text: String,
}

struct Live {
    user: String,
    /// The user's `updated_at` at sign-in: a new password or role ends
    /// the session.
    stamp: String,
    csrf: String,
    created: Instant,
    last: Instant,
    flash: Option<Flash>,
}

/// The live sessions and the sign-in failure counts.
pub(crate) struct Sessions {
    map: Mutex<HashMap<String, Live>>,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
    idle: Duration,
    max: Duration,
}

fn poisoned() -> Error {
    Error::new(Code::Internal, "bug: the session table lock is poisoned")
}

impl Sessions {
    pub(crate) fn new(idle: Duration, max: Duration) -> Sessions {
        Sessions {
            map: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
            idle,
            max,
        }
    }

    fn live(&self, s: &Live, now: Instant) -> bool {
        now.duration_since(s.last) < self.idle && now.duration_since(s.created) < self.max
    }

    /// Whether `name` is locked out after failed sign-ins; the minutes left.
    fn locked(&self, name: &str) -> Option<u64> {
        let f = self.failures.lock().ok()?;
        let (n, first) = f.get(name)?;
        let age = first.elapsed();
        (*n >= MAX_FAILURES && age < LOCK).then(|| (LOCK - age).as_secs() / 60 + 1)
    }

    fn failed(&self, name: &str) {
        if let Ok(mut f) = self.failures.lock() {
            let e = f.entry(name.to_string()).or_insert((0, Instant::now()));
            if e.1.elapsed() >= LOCK {
                *e = (0, Instant::now());
            }
            e.0 += 1;
        }
    }

    fn succeeded(&self, name: &str) {
        if let Ok(mut f) = self.failures.lock() {
            f.remove(name);
        }
    }
}

/// A session just started: the token for the cookie, and its lifetime.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The cookie's token (shown once; the node keeps its digest).
    pub token: String,
    /// Who signed in.
    pub user: String,
    /// Their role.
    pub role: Role,
    /// How long the session may last at most.
    pub max_age: Duration,
}

/// A live session, found by its token.
#[derive(Debug, Clone)]
pub struct Session {
    /// The signed-in user, as a caller.
    pub caller: Caller,
    /// The session's CSRF token, which every form must carry.
    pub csrf: String,
    /// A message left for this page.
    pub flash: Option<Flash>,
    key: String,
}

impl Session {
    /// Whether a form's CSRF token is this session's.
    pub fn csrf_ok(&self, token: &str) -> bool {
        same(&self.csrf, token)
    }
}

/// A user just added or given a new password.
#[derive(Debug, Clone)]
pub struct UserSet {
    /// The user.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// The password, when the node made one (shown once).
    pub generated: Option<String>,
}

impl Node {
    /// Adds a workbench user; with no password given, a new one is made
    /// and returned once.
    pub fn user_add(
        &self,
        caller: &Caller,
        name: &str,
        role: &str,
        password: Option<&str>,
    ) -> Result<UserSet> {
        caller.may_admin()?;
        valid_name(name)?;
        let role = Role::parse(role)?;
        let (pw, generated) = password_or_new(password)?;
        let at = stamp(self.now());
        let user = User {
            name: name.to_string(),
            role: role.name().to_string(),
            password_hash: hash_password(&pw)?,
            created_at: at.clone(),
            updated_at: at,
        };
        let entry = self.entry(caller, "user.add", name, json!({ "role": role.name() }));
        self.store.user_add(&user, entry).map_err(|e| match e {
            tearline_store::StoreError::Conflict(m) => Error::bad(m),
            e => e.into(),
        })?;
        Ok(UserSet {
            name: name.to_string(),
            role,
            generated,
        })
    }

    /// Sets a user's password (and role); their open sessions end.
    pub fn user_passwd(
        &self,
        caller: &Caller,
        name: &str,
        role: Option<&str>,
        password: Option<&str>,
    ) -> Result<UserSet> {
        caller.may_admin()?;
        let Some(u) = self.store.user(name)? else {
            return Err(Error::bad(format!("no user `{name}`")));
        };
        let role = Role::parse(role.unwrap_or(&u.role))?;
        let (pw, generated) = password_or_new(password)?;
        let at = stamp(self.now());
        let entry = self.entry(caller, "user.passwd", name, json!({ "role": role.name() }));
        self.store
            .user_update(name, role.name(), &hash_password(&pw)?, &at, entry)?;
        Ok(UserSet {
            name: name.to_string(),
            role,
            generated,
        })
    }

    /// Removes a user; their sessions end at their next request.
    pub fn user_remove(&self, caller: &Caller, name: &str) -> Result<()> {
        caller.may_admin()?;
        let entry = self.entry(caller, "user.remove", name, json!({}));
        if !self.store.user_remove(name, entry)? {
            return Err(Error::bad(format!("no user `{name}`")));
        }
        Ok(())
    }

    /// Every user, by name.
    pub fn users(&self, caller: &Caller) -> Result<Vec<User>> {
        caller.may_admin()?;
        Ok(self.store.users()?)
    }

    /// Signs a user in: checks the lock-out and the password (an unknown
    /// name takes as long as a wrong password), records the attempt in the
    /// audit log, and starts a session.
    pub fn sign_in(&self, name: &str, password: &str) -> Result<SignedIn> {
        if let Some(min) = self.sessions.locked(name) {
            return Err(Error::new(
                Code::Throttled,
                format!("too many failed sign-ins for this name: try again in {min} minute(s)"),
            ));
        }
        let user = self.store.user(name)?;
        let role = match &user {
            Some(u) if verify_password(password, &u.password_hash) => Role::parse(&u.role).ok(),
            Some(_) => None,
            None => {
                verify_password(password, decoy_hash());
                None
            }
        };
        let (Some(user), Some(role)) = (user, role) else {
            self.sessions.failed(name);
            let anonymous = Caller::operator("anonymous");
            self.store
                .audit(self.entry(&anonymous, "ui.login.failed", name, json!({})))?;
            return Err(Error::new(
                Code::Unauthorized,
                "the name or the password is wrong",
            ));
        };
        self.sessions.succeeded(name);
        let caller = Caller::user(&user.name, role);
        self.store.audit(self.entry(
            &caller,
            "ui.login",
            &user.name,
            json!({ "role": role.name() }),
        ))?;
        let t = token(32)?;
        let now = Instant::now();
        let mut map = self.sessions.map.lock().map_err(|_| poisoned())?;
        map.retain(|_, s| self.sessions.live(s, now));
        map.insert(
            digest(&t),
            Live {
                user: user.name.clone(),
                stamp: user.updated_at.clone(),
                csrf: token(32)?,
                created: now,
                last: now,
                flash: None,
            },
        );
        Ok(SignedIn {
            token: t,
            user: user.name,
            role,
            max_age: self.sessions.max,
        })
    }

    /// The live session of a cookie token, if any: the user is read again
    /// from the store, so a removed user, a new password or a changed role
    /// ends it. Takes the session's flash message and touches it.
    pub fn session(&self, token: &str) -> Result<Option<Session>> {
        let key = digest(token);
        let now = Instant::now();
        let (user, stamp_at_sign_in, csrf, flash) = {
            let mut map = self.sessions.map.lock().map_err(|_| poisoned())?;
            let live = map.get(&key).map(|s| self.sessions.live(s, now));
            match live {
                None => return Ok(None),
                Some(false) => {
                    map.remove(&key);
                    return Ok(None);
                }
                Some(true) => {}
            }
            let Some(s) = map.get_mut(&key) else {
                return Ok(None);
            };
            s.last = now;
            (
                s.user.clone(),
                s.stamp.clone(),
                s.csrf.clone(),
                s.flash.take(),
            )
        };
        match self.store.user(&user)? {
            Some(u) if u.updated_at == stamp_at_sign_in => {
                let role = Role::parse(&u.role)?;
                Ok(Some(Session {
                    caller: Caller::user(&u.name, role),
                    csrf,
                    flash,
                    key,
                }))
            }
            _ => Ok(None),
        }
    }

    /// Ends a session (recorded in the audit log).
    pub fn sign_out(&self, session: &Session) -> Result<()> {
        self.sessions
            .map
            .lock()
            .map_err(|_| poisoned())?
            .remove(&session.key);
        let name = session.caller.name().to_string();
        self.store
            .audit(self.entry(&session.caller, "ui.logout", &name, json!({})))?;
        Ok(())
    }

    /// Leaves a message for the session's next page.
    pub fn flash(
        &self,
        session: &Session,
        kind: &'static str,
        text: impl Into<String>,
    ) -> Result<()> {
        if let Some(x) = self
            .sessions
            .map
            .lock()
            .map_err(|_| poisoned())?
            .get_mut(&session.key)
        {
            x.flash = Some(Flash {
                kind,
                text: text.into(),
            });
        }
        Ok(())
    }

    /// Every draft, most recently saved first.
    pub fn drafts(&self, _caller: &Caller) -> Result<Vec<Draft>> {
        Ok(self.store.drafts()?)
    }

    /// One draft.
    pub fn draft(&self, _caller: &Caller, id: i64) -> Result<Draft> {
        self.store
            .draft(id)?
            .ok_or_else(|| Error::not_found(format!("there is no draft {id}")))
    }

    /// Saves a draft (`id` None: a new one) and returns its number. Line
    /// endings are made LF; its title is the report's when it parses.
    /// Only its author saves over a draft; anyone may read it, start a
    /// new one from it, or (by role) release it.
    pub fn save_draft(&self, caller: &Caller, id: Option<i64>, body: &str) -> Result<i64> {
        let body = self.clean_body(body)?;
        if let Some(id) = id {
            let d = self.draft(caller, id)?;
            if d.author != caller.name() {
                return Err(Error::new(
                    Code::Forbidden,
                    format!(
                        "draft {id} is {}'s: only its author saves over it; save your text as a new draft",
                        d.author
                    ),
                ));
            }
        }
        let title = draft_title(&draft_name(id), &body);
        let at = stamp(self.now());
        let entry = self.entry(
            caller,
            "draft.save",
            &id.map(|i| format!("draft {i}")).unwrap_or_default(),
            json!({ "title": title, "sha256": digest(&body) }),
        );
        Ok(self
            .store
            .draft_save(id, &title, &body, caller.name(), &at, entry)?)
    }

    /// Releases a saved draft exactly as previewed: `sha` must be the
    /// SHA-256 of the draft's text as the caller saw it (a draft changed
    /// meanwhile is refused). Goes through [`Node::release`], so roles, the
    /// two-person rule, lint and the leak check all hold. With
    /// `supersedes`, the release re-issues that warning.
    pub fn release_draft(
        &self,
        caller: &Caller,
        id: i64,
        audience: &str,
        sha: &str,
        supersedes: Option<i64>,
    ) -> Result<Released> {
        let d = self.draft(caller, id)?;
        if digest(&d.body) != sha {
            return Err(Error::new(
                Code::Conflict,
                "the draft changed since this page was loaded: review the preview and issue again",
            ));
        }
        caller.may_release(audience)?;
        let name = draft_name(Some(id));
        let report = crate::reports::parse(&name, d.body.as_bytes())
            .map_err(|e| Error::bad(format!("the draft does not parse: {e}")))?;
        self.release(
            caller,
            &ReleaseInput {
                report: &report,
                source: d.body.as_bytes(),
                audience,
                format: crate::reports::Format::Stix,
                output: None,
                supersedes,
                draft: Some(id),
            },
        )
    }
}

impl Node {
    /// A new draft holding the source of the report warning `id` released,
    /// to be made more specific and issued as its re-issue.
    pub fn draft_from_warning(&self, caller: &Caller, id: i64) -> Result<i64> {
        caller.may_decide("re-issue a warning")?;
        self.open_warning(id)?;
        let (_, text) = self.warning_source(caller, id)?.ok_or_else(|| {
            Error::not_found(format!(
                "the source of warning {id} is not kept (it was released by an older Tearline): write the re-issue as a new draft"
            ))
        })?;
        self.save_draft(caller, None, &text)
    }
}

/// The name a draft is shown and parsed under.
pub fn draft_name(id: Option<i64>) -> String {
    match id {
        Some(id) => format!("draft-{id}.md"),
        None => "new-draft.md".into(),
    }
}

/// A draft's title: the report's, when it parses.
pub fn draft_title(name: &str, body: &str) -> String {
    match tearline_model::parse_report(name, body.as_bytes()) {
        Ok(r) if !r.meta().title.trim().is_empty() => r.meta().title.clone(),
        _ => "untitled draft".into(),
    }
}

/// The SHA-256 of a draft's text, as the release form carries it.
pub fn draft_sha(body: &str) -> String {
    digest(body)
}

impl Node {
    /// A report written in the workbench, checked against `[workbench]
    /// max_report_bytes` (refused with [`Code::TooLarge`]) and with its
    /// lines made LF, as browsers send a text area's lines with CRLF.
    pub fn clean_body(&self, body: &str) -> Result<String> {
        clean_body(body, self.settings.workbench.max_report_bytes)
    }
}

/// A report's text with CRLF made LF, refused with [`Code::TooLarge`] when
/// over `max` bytes.
pub fn clean_body(body: &str, max: usize) -> Result<String> {
    let b = body.replace("\r\n", "\n");
    if b.len() > max {
        return Err(Error::new(
            Code::TooLarge,
            format!(
                "the report is {} bytes; the workbench takes reports of at most {max} bytes ([workbench] max_report_bytes in tearline.toml)",
                b.len()
            ),
        ));
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_and_hashes_differ() {
        let a = hash_password("correct horse battery").unwrap();
        let b = hash_password("correct horse battery").unwrap();
        assert_ne!(a, b, "salted");
        assert!(a.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &a));
        assert!(!verify_password("correct horse batterz", &a));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn idle_and_old_sessions_are_not_live() {
        let s = Sessions::new(Duration::from_millis(50), Duration::from_secs(60));
        let now = Instant::now();
        let live = Live {
            user: "ana".into(),
            stamp: "t0".into(),
            csrf: "c".into(),
            created: now,
            last: now,
            flash: None,
        };
        assert!(s.live(&live, now));
        assert!(!s.live(&live, now + Duration::from_millis(80)), "idle");
        let busy = Live {
            last: now + Duration::from_secs(61),
            ..live
        };
        assert!(!s.live(&busy, now + Duration::from_secs(61)), "too old");
    }

    #[test]
    fn a_session_follows_its_user() {
        let dir = tempfile::tempdir().unwrap();
        let op = Caller::operator("op");
        let n = Node::init(dir.path(), "t", &op, crate::system_clock()).unwrap();
        n.user_add(&op, "ana", "analyst", Some("a long enough password"))
            .unwrap();
        assert_eq!(
            n.sign_in("ana", "wrong password!!").err().map(|e| e.code()),
            Some(Code::Unauthorized)
        );
        assert_eq!(
            n.sign_in("nobody", "a long enough password")
                .err()
                .map(|e| e.code()),
            Some(Code::Unauthorized)
        );
        let s = n.sign_in("ana", "a long enough password").unwrap();
        let live = n.session(&s.token).unwrap().unwrap();
        assert_eq!(live.caller.role(), Role::Analyst);
        assert!(n.session("forged").unwrap().is_none());
        n.flash(&live, "ok", "hello").unwrap();
        assert_eq!(
            n.session(&s.token).unwrap().unwrap().flash.unwrap().text,
            "hello"
        );
        // A new role ends the session.
        std::thread::sleep(Duration::from_millis(5));
        n.user_passwd(&op, "ana", Some("releaser"), Some("another long password"))
            .unwrap();
        assert!(n.session(&s.token).unwrap().is_none());
        let s = n.sign_in("ana", "another long password").unwrap();
        let live = n.session(&s.token).unwrap().unwrap();
        n.sign_out(&live).unwrap();
        assert!(n.session(&s.token).unwrap().is_none());
        let log = n.store().audit_log().unwrap();
        for a in ["ui.login", "ui.login.failed", "ui.logout", "user.passwd"] {
            assert!(log.iter().any(|e| e.entry.action == a), "{a}");
        }
    }

    #[test]
    fn lock_out_after_failures() {
        let s = Sessions::new(Duration::from_millis(50), Duration::from_secs(60));
        for _ in 0..MAX_FAILURES {
            assert!(s.locked("bob").is_none());
            s.failed("bob");
        }
        assert!(s.locked("bob").is_some());
        s.succeeded("bob");
        assert!(s.locked("bob").is_none());
    }
}

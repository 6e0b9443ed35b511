//! Who may use the workbench and what each may do: users and roles,
//! password hashes, sessions, CSRF tokens, sign-in throttling, and the
//! `tearline user` commands.
//!
//! Passwords are stored only as Argon2id hashes (PHC strings). A session is
//! a random 256-bit token in an `HttpOnly`, `SameSite=Strict` cookie
//! (`Secure` unless the config turns it off); the server keeps only its
//! SHA-256, in memory, so a restart signs everyone out. Every form that
//! changes something carries the session's CSRF token, and every POST
//! must come from the workbench's own origin.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde_json::json;
use tearline_store::User;

use crate::exit::{coded, BAD_INPUT};
use crate::node::{self, Node};

/// What a user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Writes and previews reports; releases only to `internal`.
    Analyst,
    /// An analyst who may also release to any audience, approve another
    /// releaser's request, and close or extend warnings.
    Releaser,
    /// An analyst who may also read and verify the audit log and list users.
    Admin,
}

/// The audience anyone may release to.
pub const INTERNAL: &str = "internal";

impl Role {
    pub fn parse(s: &str) -> Result<Role> {
        match s {
            "analyst" => Ok(Role::Analyst),
            "releaser" => Ok(Role::Releaser),
            "admin" => Ok(Role::Admin),
            _ => Err(coded(
                BAD_INPUT,
                format!("unknown role `{s}`: expected analyst, releaser or admin"),
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::Analyst => "analyst",
            Role::Releaser => "releaser",
            Role::Admin => "admin",
        }
    }

    /// Only a releaser releases outside `internal`.
    pub fn may_release(self, audience: &str) -> bool {
        audience == INTERNAL || self == Role::Releaser
    }

    /// Approving requests, closing and extending warnings.
    pub fn may_decide(self) -> bool {
        self == Role::Releaser
    }

    /// Reading and verifying the audit log.
    pub fn may_audit(self) -> bool {
        matches!(self, Role::Releaser | Role::Admin)
    }

    /// Listing users.
    pub fn may_admin(self) -> bool {
        self == Role::Admin
    }
}

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 12;

/// An Argon2id hash of `password` in PHC string form.
pub fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt)
        .map_err(|e| anyhow::anyhow!("failed to read random bytes for a salt: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("bad salt: {e}"))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("failed to hash the password: {e}"))?
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
        .map_err(|e| anyhow::anyhow!("failed to read random bytes: {e}"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

fn digest(s: &str) -> String {
    use sha2::{Digest, Sha256};
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

/// A message shown once on the next page.
#[derive(Clone, Debug)]
pub struct Flash {
    /// `ok` or `error`.
    pub kind: &'static str,
    pub text: String,
}

struct Session {
    user: String,
    /// The user's `updated_at` at sign-in: a new password or role ends
    /// the session.
    stamp: String,
    csrf: String,
    created: Instant,
    last: Instant,
    flash: Option<Flash>,
}

/// A live session found by its cookie.
pub struct Found {
    pub user: String,
    pub stamp: String,
    pub csrf: String,
    pub flash: Option<Flash>,
    pub key: String,
}

/// A signed-in request's session, as handlers see it.
#[derive(Clone, Debug)]
pub struct Signed {
    pub user: String,
    pub role: Role,
    pub csrf: String,
    pub flash: Option<Flash>,
    /// The cookie's token digest, to find the session again.
    key: String,
}

/// Failed sign-ins per name before the name is locked for a while.
const MAX_FAILURES: u32 = 5;
const LOCK: Duration = Duration::from_secs(15 * 60);

/// The live sessions and the sign-in failure counts.
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
    idle: Duration,
    max: Duration,
}

impl Sessions {
    pub fn new(idle: Duration, max: Duration) -> Sessions {
        Sessions {
            map: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
            idle,
            max,
        }
    }

    pub fn max_age(&self) -> Duration {
        self.max
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, Session>>> {
        self.map
            .lock()
            .map_err(|_| anyhow::anyhow!("bug: the session table lock is poisoned"))
    }

    /// Starts a session; returns the cookie token.
    pub fn start(&self, user: &str, stamp: &str) -> Result<String> {
        let t = token(32)?;
        let now = Instant::now();
        let mut map = self.lock()?;
        map.retain(|_, s| {
            now.duration_since(s.last) < self.idle && now.duration_since(s.created) < self.max
        });
        map.insert(
            digest(&t),
            Session {
                user: user.to_string(),
                stamp: stamp.to_string(),
                csrf: token(32)?,
                created: now,
                last: now,
                flash: None,
            },
        );
        Ok(t)
    }

    /// The session of a cookie token, if it is live; takes its flash
    /// message and touches it. The caller checks the user and stamp
    /// against the store.
    pub fn find(&self, cookie: &str) -> Result<Option<Found>> {
        let key = digest(cookie);
        let now = Instant::now();
        let mut map = self.lock()?;
        let live = match map.get(&key) {
            Some(s) => {
                now.duration_since(s.last) < self.idle && now.duration_since(s.created) < self.max
            }
            None => return Ok(None),
        };
        if !live {
            map.remove(&key);
            return Ok(None);
        }
        let Some(s) = map.get_mut(&key) else {
            return Ok(None);
        };
        s.last = now;
        Ok(Some(Found {
            user: s.user.clone(),
            stamp: s.stamp.clone(),
            csrf: s.csrf.clone(),
            flash: s.flash.take(),
            key,
        }))
    }

    pub fn end(&self, s: &Signed) -> Result<()> {
        self.lock()?.remove(&s.key);
        Ok(())
    }

    /// Leaves a message for the session's next page.
    pub fn flash(&self, s: &Signed, kind: &'static str, text: impl Into<String>) -> Result<()> {
        if let Some(x) = self.lock()?.get_mut(&s.key) {
            x.flash = Some(Flash {
                kind,
                text: text.into(),
            });
        }
        Ok(())
    }

    /// Whether `name` is locked out after failed sign-ins; the minutes left.
    pub fn locked(&self, name: &str) -> Option<u64> {
        let f = self.failures.lock().ok()?;
        let (n, first) = f.get(name)?;
        let age = first.elapsed();
        (*n >= MAX_FAILURES && age < LOCK).then(|| (LOCK - age).as_secs() / 60 + 1)
    }

    pub fn failed(&self, name: &str) {
        if let Ok(mut f) = self.failures.lock() {
            let e = f.entry(name.to_string()).or_insert((0, Instant::now()));
            if e.1.elapsed() >= LOCK {
                *e = (0, Instant::now());
            }
            e.0 += 1;
        }
    }

    pub fn succeeded(&self, name: &str) {
        if let Ok(mut f) = self.failures.lock() {
            f.remove(name);
        }
    }
}

impl Signed {
    pub fn new(f: Found, role: Role) -> Signed {
        Signed {
            user: f.user,
            role,
            csrf: f.csrf,
            flash: f.flash,
            key: f.key,
        }
    }

    /// Whether a form's CSRF token is this session's.
    pub fn csrf_ok(&self, token: &str) -> bool {
        same(&self.csrf, token)
    }
}

/// Checks a password against the stored user; `None` when the name is
/// unknown or the password wrong (the two take the same time).
pub fn check_login(user: Option<&User>, password: &str) -> Option<Role> {
    match user {
        Some(u) => {
            if verify_password(password, &u.password_hash) {
                Role::parse(&u.role).ok()
            } else {
                None
            }
        }
        None => {
            verify_password(password, decoy_hash());
            None
        }
    }
}

// ---- `tearline user` ------------------------------------------------------

fn valid_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(coded(
            BAD_INPUT,
            format!("user name `{name}` must be 1 to 64 letters, digits, `.`, `_`, `-` or `@`"),
        ))
    }
}

/// The password from standard input (one line), or a new random one that
/// is printed once.
fn password(from_stdin: bool) -> Result<(String, bool)> {
    if !from_stdin {
        return Ok((token(15)?, true));
    }
    let mut s = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut s)
        .context("failed to read the password from standard input")?;
    let p = s.lines().next().unwrap_or("").to_string();
    if p.chars().count() < MIN_PASSWORD {
        return Err(coded(
            BAD_INPUT,
            format!("the password on standard input must be at least {MIN_PASSWORD} characters"),
        ));
    }
    Ok((p, false))
}

/// `tearline user add NAME --role ROLE [--password-stdin]`.
pub fn add(node: &mut Node, name: &str, role: &str, from_stdin: bool) -> Result<u8> {
    valid_name(name)?;
    let role = Role::parse(role)?;
    let (pw, generated) = password(from_stdin)?;
    let at = node::stamp(node::now()?);
    let user = User {
        name: name.to_string(),
        role: role.name().to_string(),
        password_hash: hash_password(&pw)?,
        created_at: at.clone(),
        updated_at: at,
    };
    let entry = node.entry("user.add", name, json!({ "role": role.name() }))?;
    node.store.user_add(&user, entry).map_err(|e| match e {
        tearline_store::StoreError::Conflict(m) => coded(BAD_INPUT, m),
        e => anyhow::Error::new(e).context("failed to add the user"),
    })?;
    node.write_head()?;
    println!("added {} `{name}`", role.name());
    if generated {
        println!("password (shown once): {pw}");
    }
    Ok(0)
}

/// `tearline user passwd NAME [--role ROLE] [--password-stdin]`.
pub fn passwd(node: &mut Node, name: &str, role: Option<&str>, from_stdin: bool) -> Result<u8> {
    let Some(u) = node.store.user(name).context("failed to read users")? else {
        return Err(coded(BAD_INPUT, format!("no user `{name}`")));
    };
    let role = match role {
        Some(r) => Role::parse(r)?.name().to_string(),
        None => u.role.clone(),
    };
    let (pw, generated) = password(from_stdin)?;
    let at = node::stamp(node::now()?);
    let entry = node.entry("user.passwd", name, json!({ "role": role }))?;
    node.store
        .user_update(name, &role, &hash_password(&pw)?, &at, entry)
        .context("failed to store the password")?;
    node.write_head()?;
    println!("new password for `{name}` ({role}); their open sessions end at their next request");
    if generated {
        println!("password (shown once): {pw}");
    }
    Ok(0)
}

/// `tearline user remove NAME`.
pub fn remove(node: &mut Node, name: &str) -> Result<u8> {
    let entry = node.entry("user.remove", name, json!({}))?;
    if !node
        .store
        .user_remove(name, entry)
        .context("failed to remove the user")?
    {
        return Err(coded(BAD_INPUT, format!("no user `{name}`")));
    }
    node.write_head()?;
    println!("removed user `{name}`");
    Ok(0)
}

/// `tearline user list`.
pub fn list(node: &Node, json: bool) -> Result<u8> {
    let users = node.store.users().context("failed to read users")?;
    if json {
        let v: Vec<_> = users
            .iter()
            .map(|u| json!({ "name": u.name, "role": u.role, "created_at": u.created_at, "updated_at": u.updated_at }))
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    if users.is_empty() {
        println!("no users: `tearline user add NAME --role analyst|releaser|admin`");
        return Ok(0);
    }
    println!("{:<24} {:<10} {:<26} password set", "user", "role", "added");
    for u in users {
        println!(
            "{:<24} {:<10} {:<26} {}",
            u.name, u.role, u.created_at, u.updated_at
        );
    }
    Ok(0)
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
    fn roles_grant_what_the_table_says() {
        let table = [
            (Role::Analyst, [true, false, false, false, false]),
            (Role::Releaser, [true, true, true, true, false]),
            (Role::Admin, [true, false, false, true, true]),
        ];
        for (r, want) in table {
            let got = [
                r.may_release(INTERNAL),
                r.may_release("public"),
                r.may_decide(),
                r.may_audit(),
                r.may_admin(),
            ];
            assert_eq!(got, want, "{r:?}");
        }
    }

    #[test]
    fn sessions_expire_and_lock_out() {
        let s = Sessions::new(Duration::from_millis(50), Duration::from_secs(60));
        let t = s.start("ana", "t0").unwrap();
        assert_eq!(s.find(&t).unwrap().unwrap().user, "ana");
        assert!(s.find("forged").unwrap().is_none());
        std::thread::sleep(Duration::from_millis(80));
        assert!(s.find(&t).unwrap().is_none(), "idle session ended");
        for _ in 0..MAX_FAILURES {
            assert!(s.locked("bob").is_none());
            s.failed("bob");
        }
        assert!(s.locked("bob").is_some());
        s.succeeded("bob");
        assert!(s.locked("bob").is_none());
    }
}

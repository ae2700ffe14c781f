//! Staff accounts of the operations dashboard: people, not machines, so they log in with a
//! password (stored as an argon2id hash, checked with the same work whether or not the e-mail
//! exists) and then hold a session. A session id is 256 random bits shown to the browser once
//! in a cookie and stored only as its SHA-256 hash, so a copy of the database opens no session.
//! Every form of the dashboard carries a CSRF token derived from the session (an HMAC with the
//! server secret), so another site cannot make a logged-in browser act. A staff user acts as a
//! `Principal` of their account with their role, recorded in audit fields as `staff:<email>`.

use crate::{AppError, AppResult, Milepost};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Duration, Utc};
use milepost_domain::order::parse_email;
use milepost_domain::{AccountName, Role};
use milepost_store::{Principal, StaffUpsert, StaffUserRecord};
use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};

/// How long a dashboard session lasts after login.
pub const SESSION_TTL_HOURS: i64 = 12;
/// Characters in a session id (alphanumeric: about 5.95 bits each, so 256 bits in all).
const SESSION_ID_CHARS: usize = 43;
/// Shortest and longest password accepted for a staff user.
pub const PASSWORD_MIN_CHARS: usize = 10;
const PASSWORD_MAX_BYTES: usize = 1024;

/// A logged-in staff user, as the dashboard sees them on each request.
#[derive(Debug, Clone)]
pub struct StaffSession {
    /// Acts for the user's account with the user's role; `actor` is `staff:<email>`.
    pub principal: Principal,
    pub email: String,
    /// The token every form of this session must carry back.
    pub csrf_token: String,
    id_hash: String,
}

impl StaffSession {
    /// Whether this user may change things (acknowledge, resolve, map codes), not only look.
    pub fn may_act(&self) -> bool {
        self.principal.role.allows(Role::Admin)
    }
}

/// A successful login: the new session's id, for the cookie, and who logged in.
pub struct StaffLogin {
    pub session_id: String,
    pub session: StaffSession,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for StaffLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffLogin").field("session_id", &"<secret>").field("email", &self.session.email).finish()
    }
}

fn session_hash(session_id: &str) -> String {
    hex::encode(Sha256::digest(session_id.as_bytes()))
}

fn looks_like_session_id(id: &str) -> bool {
    id.len() == SESSION_ID_CHARS && id.chars().all(|c| c.is_ascii_alphanumeric())
}

/// An argon2id hash (PHC string) of `password` with a fresh random salt.
pub fn hash_password(password: &str) -> AppResult<String> {
    let salt: [u8; 16] = rand::rng().random();
    let hash: PasswordHash = Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|e| AppError::Unexpected(format!("cannot hash a password: {e}")))?;
    Ok(hash.to_string())
}

/// Whether `password` matches the stored PHC string; a malformed stored hash matches nothing.
pub fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(hash) => Argon2::default().verify_password(password.as_bytes(), &hash).is_ok(),
        Err(_) => false,
    }
}

/// Checks a new password's length (the only rule: long passphrases beat composition rules).
pub fn check_password(password: &str) -> AppResult<()> {
    if password.chars().count() < PASSWORD_MIN_CHARS || password.len() > PASSWORD_MAX_BYTES {
        return Err(AppError::Invalid {
            field: "password".into(),
            message: format!(
                "must be at least {PASSWORD_MIN_CHARS} characters (and at most {PASSWORD_MAX_BYTES} bytes)"
            ),
        });
    }
    Ok(())
}

/// A random password for generated accounts (the demo's staff admin).
pub fn generate_password() -> String {
    rand::rng().sample_iter(&Alphanumeric).take(20).map(char::from).collect()
}

impl Milepost {
    /// The public base URL (`MILEPOST_PUBLIC_URL`), empty when links are relative; the dashboard
    /// marks its cookies `Secure` when it is https.
    pub fn public_url(&self) -> &str {
        &self.links.public_url
    }

    /// Creates a staff user of `account` (creating the account if needed), or resets the
    /// password and role of the account's user with that e-mail.
    pub async fn create_staff_user(
        &self,
        account: &AccountName,
        email: &str,
        role: Role,
        password: &str,
    ) -> AppResult<StaffUpsert> {
        let email =
            parse_email(email).map_err(|e| AppError::Invalid { field: "email".into(), message: e.to_string() })?;
        check_password(password)?;
        let hash = hash_password(password)?;
        let account_id = self.store.ensure_account(account).await?;
        Ok(self.store.upsert_staff_user(account_id, &email, role, &hash).await?)
    }

    /// Checks an e-mail and password; on success starts a new session (never reusing one the
    /// browser brought, so a planted id is worthless). A wrong password and an unknown e-mail
    /// cost the same argon2 work and both answer `None`.
    pub async fn staff_login(&self, email: &str, password: &str) -> AppResult<Option<StaffLogin>> {
        if password.len() > PASSWORD_MAX_BYTES {
            return Ok(None);
        }
        let user = match parse_email(email) {
            Ok(email) => self.store.staff_user_by_email(&email).await?,
            Err(_) => None,
        };
        // Argon2 runs inline: tens of milliseconds with the default parameters, and logins
        // are rate limited per address before they get here.
        let matched = match &user {
            Some(user) => verify_password(password, &user.password_hash),
            None => hash_password(password).map(|_| false)?,
        };
        let Some(user) = user.filter(|_| matched) else { return Ok(None) };
        let session_id: String =
            rand::rng().sample_iter(&Alphanumeric).take(SESSION_ID_CHARS).map(char::from).collect();
        let id_hash = session_hash(&session_id);
        let now = self.clock.now();
        let expires_at = now + Duration::hours(SESSION_TTL_HOURS);
        self.store.create_staff_session(&id_hash, user.id, now, expires_at).await?;
        let session = self.staff_session_of(user, id_hash);
        Ok(Some(StaffLogin { session_id, session, expires_at }))
    }

    /// The staff user behind a session cookie, unless it is malformed, expired or logged out.
    pub async fn staff_session(&self, session_id: &str) -> AppResult<Option<StaffSession>> {
        if !looks_like_session_id(session_id) {
            return Ok(None);
        }
        let id_hash = session_hash(session_id);
        let user = self.store.staff_session(&id_hash, self.clock.now()).await?;
        Ok(user.map(|u| self.staff_session_of(u, id_hash)))
    }

    /// Ends the session on the server, so the cookie opens nothing even if it was copied.
    pub async fn staff_logout(&self, session: &StaffSession) -> AppResult<()> {
        Ok(self.store.delete_staff_session(&session.id_hash).await?)
    }

    /// Whether `token` is the CSRF token of `session` (compared without early exit).
    pub fn staff_csrf_ok(&self, session: &StaffSession, token: &str) -> bool {
        let expected = session.csrf_token.as_bytes();
        let given = token.as_bytes();
        expected.len() == given.len() && expected.iter().zip(given).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }

    fn staff_session_of(&self, user: StaffUserRecord, id_hash: String) -> StaffSession {
        let csrf_token = hex::encode(self.link_signer().mac_of(format!("ops-csrf|{id_hash}").as_bytes()));
        StaffSession {
            principal: Principal {
                account_id: user.account_id,
                account_name: user.account_name,
                role: user.role,
                actor: format!("staff:{}", user.email),
            },
            email: user.email,
            csrf_token,
            id_hash,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterz", &hash));
        assert!(!verify_password("anything", "not a hash"));
        assert_ne!(hash, hash_password("correct horse battery").unwrap(), "salted");
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_password("short").is_err());
        assert!(check_password("long enough!").is_ok());
        assert!(looks_like_session_id(&"a".repeat(SESSION_ID_CHARS)));
        assert!(!looks_like_session_id("a;b"));
    }
}

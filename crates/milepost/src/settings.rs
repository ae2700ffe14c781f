//! Settings of a Milepost process: defaults that work with no file (SQLite at `./milepost.db`,
//! listen on `127.0.0.1:8686`), then `milepost.toml` (or the file given with `--config`), then
//! `MILEPOST_*` environment variables, each layer overriding the one before.

use anyhow::{Context, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://./milepost.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8686";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub database_url: String,
    pub listen: String,
    /// Base of links in messages and printed URLs; defaults to `http://<listen>`.
    pub public_url: Option<String>,
    /// Key that signs tracking links and return forms (`MILEPOST_SECRET`); when unset, one is
    /// generated on first start and kept in the database.
    pub secret: Option<Secret>,
    /// Tracking-page lookups per client address per minute (`MILEPOST_TRACK_RATE_LIMIT`;
    /// 0 turns the limit off).
    pub track_rate_limit: u32,
    /// The mail server for notifications (`smtp://[user:pass@]host:port`); none: e-mail is off.
    pub smtp_url: Option<String>,
    /// The sender of notification e-mail, e.g. `Shop <orders@shop.example>`.
    pub smtp_from: Option<String>,
    /// An SMS provider's form-post endpoint (`https://[user:pass@]host/path`); none: SMS is off.
    pub sms_url: Option<String>,
    /// The SMS sender number or name.
    pub sms_from: Option<String>,
    /// How long one notification send may take before it is retried later, in milliseconds
    /// (`MILEPOST_SEND_TIMEOUT_MS`, default 15 000): bounds a mail server or webhook receiver
    /// that accepts the connection and never answers.
    pub send_timeout_ms: u64,
    /// A storage quota for the SQLite database, in bytes (`MILEPOST_SQLITE_MAX_BYTES`; none: only
    /// the disk limits it). Writes beyond it are refused with 503 and `Retry-After` exactly like
    /// a full disk, nothing acknowledged is lost, and writes resume once the quota is raised (a
    /// restart with a larger value) or space is freed.
    pub sqlite_max_bytes: Option<u64>,
    /// Whether `serve` delivers notifications in the background (tests drive delivery
    /// themselves, one step at a time).
    pub deliver_in_background: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: DEFAULT_DATABASE_URL.into(),
            listen: DEFAULT_LISTEN.into(),
            public_url: None,
            secret: None,
            track_rate_limit: DEFAULT_TRACK_RATE_LIMIT,
            smtp_url: None,
            smtp_from: None,
            sms_url: None,
            sms_from: None,
            send_timeout_ms: DEFAULT_SEND_TIMEOUT_MS,
            sqlite_max_bytes: None,
            deliver_in_background: true,
        }
    }
}

/// A secret setting that never shows in logs or debug output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

pub const DEFAULT_TRACK_RATE_LIMIT: u32 = milepost_web::DEFAULT_TRACK_RATE_LIMIT;
pub const DEFAULT_SEND_TIMEOUT_MS: u64 = milepost_notify::DEFAULT_SEND_TIMEOUT.as_millis() as u64;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database_url: Option<String>,
    listen: Option<String>,
    public_url: Option<String>,
    secret: Option<String>,
    track_rate_limit: Option<u32>,
    smtp_url: Option<String>,
    smtp_from: Option<String>,
    sms_url: Option<String>,
    sms_from: Option<String>,
    send_timeout_ms: Option<u64>,
    sqlite_max_bytes: Option<u64>,
}

/// Where a database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Settings {
    /// Loads defaults, then the config file (explicit, or `./milepost.toml` when present),
    /// then the environment.
    pub fn load(config: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<Settings> {
        let mut settings = Settings::default();
        let file = match config {
            Some(path) => Some(path.to_path_buf()),
            None => Some(PathBuf::from("milepost.toml")).filter(|p| p.exists()),
        };
        if let Some(path) = file {
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            let parsed: FileSettings = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
            if let Some(v) = parsed.database_url {
                settings.database_url = v;
            }
            if let Some(v) = parsed.listen {
                settings.listen = v;
            }
            settings.public_url = parsed.public_url.or(settings.public_url);
            settings.secret = parsed.secret.map(Secret).or(settings.secret);
            if let Some(v) = parsed.track_rate_limit {
                settings.track_rate_limit = v;
            }
            settings.smtp_url = parsed.smtp_url;
            settings.smtp_from = parsed.smtp_from;
            settings.sms_url = parsed.sms_url;
            settings.sms_from = parsed.sms_from;
            if let Some(v) = parsed.send_timeout_ms {
                settings.send_timeout_ms = v;
            }
            settings.sqlite_max_bytes = parsed.sqlite_max_bytes.or(settings.sqlite_max_bytes);
        }
        if let Some(v) = env("MILEPOST_DATABASE_URL").filter(|v| !v.is_empty()) {
            settings.database_url = v;
        }
        if let Some(v) = env("MILEPOST_LISTEN").filter(|v| !v.is_empty()) {
            settings.listen = v;
        }
        if let Some(v) = env("MILEPOST_PUBLIC_URL").filter(|v| !v.is_empty()) {
            settings.public_url = Some(v);
        }
        if let Some(v) = env("MILEPOST_SECRET").filter(|v| !v.is_empty()) {
            settings.secret = Some(Secret(v));
        }
        if let Some(v) = env("MILEPOST_TRACK_RATE_LIMIT").filter(|v| !v.is_empty()) {
            settings.track_rate_limit = v
                .trim()
                .parse()
                .with_context(|| format!("MILEPOST_TRACK_RATE_LIMIT `{v}` must be a whole number (0 turns it off)"))?;
        }
        if let Some(v) = env("MILEPOST_SEND_TIMEOUT_MS").filter(|v| !v.is_empty()) {
            settings.send_timeout_ms = v.trim().parse().ok().filter(|ms| *ms > 0).with_context(|| {
                format!("MILEPOST_SEND_TIMEOUT_MS `{v}` must be a whole number of milliseconds above 0")
            })?;
        }
        if let Some(v) = env("MILEPOST_SQLITE_MAX_BYTES").filter(|v| !v.is_empty()) {
            settings.sqlite_max_bytes =
                Some(v.trim().parse().ok().filter(|bytes| *bytes > 0).with_context(|| {
                    format!("MILEPOST_SQLITE_MAX_BYTES `{v}` must be a whole number of bytes above 0")
                })?);
        }
        if settings.send_timeout_ms == 0 {
            bail!("send_timeout_ms must be above 0");
        }
        let from_env = |name: &str, slot: &mut Option<String>| {
            if let Some(v) = env(name).filter(|v| !v.is_empty()) {
                *slot = Some(v);
            }
        };
        from_env("MILEPOST_SMTP_URL", &mut settings.smtp_url);
        from_env("MILEPOST_SMTP_FROM", &mut settings.smtp_from);
        from_env("MILEPOST_SMS_URL", &mut settings.sms_url);
        from_env("MILEPOST_SMS_FROM", &mut settings.sms_from);
        Ok(settings)
    }

    pub fn database(&self) -> anyhow::Result<DatabaseLocation> {
        parse_database_url(&self.database_url)
    }

    /// The base URL printed for people and put into links.
    pub fn base_url(&self, bound_port: u16) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => {
                let host = self.listen.rsplit_once(':').map(|(h, _)| h).unwrap_or("127.0.0.1");
                let host = if host == "0.0.0.0" || host.is_empty() { "127.0.0.1" } else { host };
                format!("http://{host}:{bound_port}")
            }
        }
    }
}

pub fn parse_database_url(url: &str) -> anyhow::Result<DatabaseLocation> {
    if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        if path.is_empty() {
            bail!("MILEPOST_DATABASE_URL `{url}` names no file; use sqlite://PATH");
        }
        return Ok(DatabaseLocation::Sqlite(PathBuf::from(path)));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(DatabaseLocation::Postgres(url.to_string()));
    }
    bail!("unsupported database URL `{url}`: use sqlite://PATH or postgres://…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_work_without_a_file_or_environment() {
        let s = Settings::load(Some(Path::new("/nonexistent/definitely.toml")), |_| None);
        assert!(s.is_err(), "an explicit missing file is an error");
        let s = Settings::load(None, |_| None).unwrap();
        assert_eq!(s.listen, DEFAULT_LISTEN);
        assert_eq!(s.database().unwrap(), DatabaseLocation::Sqlite(PathBuf::from("./milepost.db")));
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\ndatabase_url = \"sqlite://a.db\"\n").unwrap();
        let s =
            Settings::load(Some(&file), |k| (k == "MILEPOST_LISTEN").then(|| "127.0.0.1:9100".to_string())).unwrap();
        assert_eq!(s.listen, "127.0.0.1:9100");
        assert_eq!(s.database_url, "sqlite://a.db");
        assert_eq!(s.base_url(9100), "http://127.0.0.1:9100");
    }

    #[test]
    fn the_secret_and_the_lookup_limit_come_from_the_environment() {
        let env = |k: &str| match k {
            "MILEPOST_SECRET" => Some("s3cret".to_string()),
            "MILEPOST_TRACK_RATE_LIMIT" => Some("5".to_string()),
            _ => None,
        };
        let s = Settings::load(None, env).unwrap();
        assert_eq!(s.secret, Some(Secret("s3cret".into())));
        assert_eq!(s.track_rate_limit, 5);
        assert!(!format!("{s:?}").contains("s3cret"));
        assert_eq!(Settings::load(None, |_| None).unwrap().track_rate_limit, DEFAULT_TRACK_RATE_LIMIT);
        assert!(Settings::load(None, |k| (k == "MILEPOST_TRACK_RATE_LIMIT").then(|| "many".into())).is_err());
    }

    #[test]
    fn notification_channels_come_from_the_file_and_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m.toml");
        std::fs::write(&file, "smtp_url = \"smtp://mail.test:2525\"\nsmtp_from = \"a@shop.test\"\n").unwrap();
        let s = Settings::load(Some(&file), |k| (k == "MILEPOST_SMS_URL").then(|| "https://sms.test/m".to_string()))
            .unwrap();
        assert_eq!(s.smtp_url.as_deref(), Some("smtp://mail.test:2525"));
        assert_eq!(s.smtp_from.as_deref(), Some("a@shop.test"));
        assert_eq!(s.sms_url.as_deref(), Some("https://sms.test/m"));
        assert!(s.deliver_in_background);
        let missing_from = Settings { smtp_url: Some("smtp://mail.test".into()), ..Settings::default() };
        assert!(crate::notify_settings(&missing_from, "http://x").is_err(), "a sender is required");
        let tls =
            Settings { smtp_url: Some("smtps://mail.test".into()), smtp_from: s.smtp_from, ..Settings::default() };
        assert!(crate::notify_settings(&tls, "http://x").is_ok(), "smtps speaks TLS in this build");
        let bad_tls = Settings {
            smtp_url: Some("smtps://mail.test?tls=none".into()),
            smtp_from: Some("a@shop.test".into()),
            ..Settings::default()
        };
        assert!(crate::notify_settings(&bad_tls, "http://x").is_err(), "no silent plain text for smtps");
    }

    #[test]
    fn the_send_timeout_and_the_storage_quota_come_from_the_environment() {
        let defaults = Settings::load(None, |_| None).unwrap();
        assert_eq!(defaults.send_timeout_ms, 15_000);
        assert_eq!(defaults.sqlite_max_bytes, None);
        let env = |k: &str| match k {
            "MILEPOST_SEND_TIMEOUT_MS" => Some("250".to_string()),
            "MILEPOST_SQLITE_MAX_BYTES" => Some("1048576".to_string()),
            _ => None,
        };
        let s = Settings::load(None, env).unwrap();
        assert_eq!((s.send_timeout_ms, s.sqlite_max_bytes), (250, Some(1_048_576)));
        for bad in ["0", "soon", "-5"] {
            assert!(Settings::load(None, |k| (k == "MILEPOST_SEND_TIMEOUT_MS").then(|| bad.into())).is_err(), "{bad}");
            assert!(Settings::load(None, |k| (k == "MILEPOST_SQLITE_MAX_BYTES").then(|| bad.into())).is_err(), "{bad}");
        }
    }

    #[test]
    fn database_urls_are_checked() {
        assert!(parse_database_url("mysql://x").is_err());
        assert!(parse_database_url("sqlite://").is_err());
        assert!(matches!(parse_database_url("postgres://localhost/test").unwrap(), DatabaseLocation::Postgres(_)));
    }
}

//! The `milepost` program as a library: settings, the one `Application::build` used by `main`
//! and by the black-box tests, and the demo seeder. This is the only crate that picks a
//! concrete storage backend.

pub mod bench;
pub mod demo;
pub mod import;
pub mod kpi_report;
pub mod settings;
pub mod simulate;
pub mod users;

use anyhow::Context;
use milepost_app::{Clock, Milepost, SystemClock};
use milepost_notify::{Notifier, NotifySettings, SmsSettings, SmtpSettings};
use milepost_store::Store;
use milepost_store::postgres::PgStore;
use milepost_store::sqlite::SqliteStore;
use milepost_web::AppState;
use settings::{DatabaseLocation, Settings};
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Opens the configured store, applying migrations.
pub fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    match settings.database()? {
        DatabaseLocation::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            let store = SqliteStore::open_with_quota(&path, settings.sqlite_max_bytes)
                .with_context(|| format!("opening SQLite database {}", path.display()))?;
            Ok(Arc::new(store))
        }
        DatabaseLocation::Postgres(url) => {
            if settings.sqlite_max_bytes.is_some() {
                anyhow::bail!("MILEPOST_SQLITE_MAX_BYTES is a quota of the SQLite backend; PostgreSQL has its own");
            }
            let store = PgStore::open(&url).context("opening the PostgreSQL database")?;
            Ok(Arc::new(store))
        }
    }
}

/// What one `milepost serve` process does. Many processes may share one PostgreSQL database:
/// some serving HTTP behind a load balancer, some running the background loops, whose work is
/// claimed in the database so it runs once however many workers there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ServeRole {
    /// HTTP only: the API, webhooks, pages and dashboard.
    Api,
    /// Background work only: the rule sweeper, lane learning, carrier pollers, the notifier.
    Worker,
    /// Both (the default, and all a single SQLite install needs).
    #[default]
    All,
}

impl ServeRole {
    fn serves_http(self) -> bool {
        matches!(self, ServeRole::Api | ServeRole::All)
    }

    fn runs_background_work(self) -> bool {
        matches!(self, ServeRole::Worker | ServeRole::All)
    }
}

/// A built, bound, not yet serving Milepost server.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    base_url: String,
    carriers: Vec<milepost_poll::CarrierApi>,
    notifier: Notifier,
    deliver_in_background: bool,
    role: ServeRole,
}

/// The notifier's settings from the process settings: links point at the public URL, and a
/// channel without settings suppresses its messages.
pub fn notify_settings(settings: &Settings, base_url: &str) -> anyhow::Result<NotifySettings> {
    let mut notify = NotifySettings::new(base_url);
    notify.send_timeout = std::time::Duration::from_millis(settings.send_timeout_ms);
    if let Some(url) = &settings.smtp_url {
        let from = settings.smtp_from.as_deref().context("MILEPOST_SMTP_FROM is required with MILEPOST_SMTP_URL")?;
        notify.smtp = Some(SmtpSettings::parse(url, from)?);
    }
    if let Some(url) = &settings.sms_url {
        notify.sms = Some(SmsSettings::parse(url, settings.sms_from.as_deref().unwrap_or(""))?);
    }
    Ok(notify)
}

impl Application {
    /// Opens the store and binds the listener (port 0 picks a free port).
    pub async fn build(settings: &Settings) -> anyhow::Result<Application> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// As `build`, with the clock injected (tests use a fixed one).
    pub async fn build_with_clock(settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Application> {
        let store = open_store(settings)?;
        let secret =
            milepost_app::tracking::resolve_link_secret(store.as_ref(), settings.secret.as_ref().map(|s| s.0.as_str()))
                .await
                .context("loading the link-signing secret")?;
        let listener =
            TcpListener::bind(&settings.listen).await.with_context(|| format!("binding {}", settings.listen))?;
        let port = listener.local_addr()?.port();
        let base_url = settings.base_url(port);
        let app = Milepost::new(store, clock).with_links(milepost_app::tracking::LinkSettings::new(&secret, &base_url));
        let notifier = Notifier::new(app.clone(), notify_settings(settings, &base_url)?)?;
        let state = AppState::new(app).with_track_rate_limit(settings.track_rate_limit);
        Ok(Application {
            listener,
            state,
            base_url,
            carriers: Vec::new(),
            notifier,
            deliver_in_background: settings.deliver_in_background,
            role: ServeRole::All,
        })
    }

    /// Polls these carriers' tracking APIs while serving (see `milepost_poll`).
    pub fn with_pollers(mut self, carriers: Vec<milepost_poll::CarrierApi>) -> Self {
        self.carriers = carriers;
        self
    }

    /// Serves HTTP, runs the background work, or both (the default).
    pub fn with_role(mut self, role: ServeRole) -> Self {
        self.role = role;
        self
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn app(&self) -> &Milepost {
        &self.state.app
    }

    /// The outbox worker, to drive delivery one step at a time.
    pub fn notifier(&self) -> &Notifier {
        &self.notifier
    }

    /// Serves until `shutdown` completes, then drains in-flight requests. The background
    /// sweeper and the notification worker run beside the server and stop with it, each
    /// finishing the step it is in.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let background = self.role.runs_background_work();
        let sweeper = background.then(|| tokio::spawn(run_sweeper(self.state.app.clone(), stopped.clone())));
        let poller = milepost_poll::Poller::new(self.state.app.clone(), self.carriers);
        let poller =
            (background && poller.is_configured()).then(|| tokio::spawn(poller.run(POLL_EVERY, stopped.clone())));
        let notifier =
            (background && self.deliver_in_background).then(|| tokio::spawn(self.notifier.run(DELIVER_EVERY, stopped)));
        let served = if self.role.serves_http() {
            milepost_web::serve(self.listener, self.state, shutdown).await.context("serving HTTP")
        } else {
            // A worker answers no requests: it gives its port back and works until told to stop.
            drop(self.listener);
            shutdown.await;
            Ok(())
        };
        let _ = stop.send(true);
        for task in [sweeper, poller, notifier].into_iter().flatten() {
            let _ = task.await;
        }
        served
    }
}

/// How often the carrier pollers look for parcels due for a poll.
const POLL_EVERY: std::time::Duration = std::time::Duration::from_secs(60);
/// How often the notification worker looks for due messages.
const DELIVER_EVERY: std::time::Duration = std::time::Duration::from_secs(5);
/// How often the time-based exception rules run over the shipments that are due.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(30);
/// How often lane rhythms are re-learned from delivered history.
const LEARN_LANES_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// The background sweeper: runs the due exception rules on a schedule and re-learns lane
/// rhythms now and then, until told to stop. Ingest evaluates the shipments it touches itself,
/// so this only catches what time alone changes (stalls, promises passing, grace periods).
async fn run_sweeper(app: Milepost, mut stop: tokio::sync::watch::Receiver<bool>) {
    // The first of each runs one period after start, not at once: a process that just started
    // has nothing new for either (the last sweep and rhythms are in the database), and work of
    // its own at an unforeseeable moment of the first seconds made the black-box tests, which
    // drive the sweeper themselves, race it.
    let start = tokio::time::Instant::now();
    let mut sweep = tokio::time::interval_at(start + SWEEP_EVERY, SWEEP_EVERY);
    let mut learn = tokio::time::interval_at(start + LEARN_LANES_EVERY, LEARN_LANES_EVERY);
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = learn.tick() => match app.learn_lanes().await {
                Ok(lanes) => tracing::debug!(lanes, "learned lane rhythms"),
                Err(error) => tracing::warn!(%error, "learning lane rhythms failed"),
            },
            _ = sweep.tick() => match app.sweep().await {
                Ok(report) if report.opened + report.closed > 0 => {
                    tracing::info!(evaluated = report.evaluated, opened = report.opened, closed = report.closed, "swept exception rules")
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "exception sweep failed"),
            },
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: draining in-flight requests");
}

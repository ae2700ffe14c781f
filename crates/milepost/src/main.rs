//! The `milepost` command line: serve, migrate, create API keys, and run the demo.

use anyhow::Context;
use clap::{Parser, Subcommand};
use milepost::settings::{DatabaseLocation, Settings};
use milepost::{Application, ServeRole, demo, shutdown_signal};
use milepost_domain::{AccountName, Role};
use std::path::PathBuf;

/// mimalloc instead of the system allocator: a request's short-lived strings and JSON values
/// made glibc's malloc and free a quarter of the server's CPU profile (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "milepost", version, about = "One record of every order, from confirmation to delivery and back.")]
struct Cli {
    /// Settings file (default: ./milepost.toml when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and run the background work (or only one of them, see --role).
    Serve {
        /// `api` (HTTP only), `worker` (background work only) or `all`.
        #[arg(long, value_enum, default_value = "all")]
        role: ServeRole,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage staff users of the operations dashboard (`/ops`).
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// An account's notification policy (a TOML document; see docs/notifications.md).
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// KPI figures of an account over a period.
    Kpi {
        #[arg(long, default_value = "demo")]
        account: String,
        /// Start (RFC 3339 or YYYY-MM-DD); default 30 days before --to.
        #[arg(long)]
        from: Option<String>,
        /// End (RFC 3339 or YYYY-MM-DD, exclusive); default now.
        #[arg(long)]
        to: Option<String>,
        /// day, week, month, carrier, service, channel or warehouse.
        #[arg(long)]
        by: Option<String>,
        /// table, csv or json.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Measure ingest and lookup against SQLite's own limit; prints a table and writes JSON.
    Bench {
        /// A small run (well under two minutes) for smoke checks.
        #[arg(long)]
        quick: bool,
        /// Where to write the figures as JSON.
        #[arg(long, default_value = "target/bench.json")]
        out: PathBuf,
        /// Instead: time the exception sweep over this many active shipments, all due.
        #[arg(long)]
        sweep: Option<usize>,
        /// Instead: the scale curve, growing one history through these order counts
        /// (comma-separated, ascending; e.g. 10000,100000,1000000).
        #[arg(long, value_delimiter = ',')]
        scale: Option<Vec<usize>>,
    },
    /// Simulate orders and parcels on lanes with known transit times through the ingest use
    /// cases, on a simulated clock, and score the ETA model against what really happened.
    /// Runs on a fresh temporary SQLite database unless MILEPOST_DATABASE_URL is set.
    Simulate {
        #[arg(long)]
        seed: u64,
        #[arg(long, default_value_t = 400)]
        orders: usize,
        /// Where to write the report as JSON.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Seed a demo account with realistic orders, print its admin key and URLs, then serve.
    Demo {
        /// How many orders to seed.
        #[arg(long, default_value_t = 300)]
        orders: usize,
        /// Seed and exit without serving.
        #[arg(long)]
        no_serve: bool,
    },
    /// Write an account's whole history (every table's rows) as JSON, for `import --from`.
    Export {
        #[arg(long)]
        account: String,
        /// Where to write it (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Import orders from a Milepost CSV file or an Amazon order report: every row is checked
    /// first, and nothing is written unless all rows are valid.
    Import {
        /// The file to import (not with --from).
        #[arg(required_unless_present = "from")]
        file: Option<PathBuf>,
        /// Instead of a file: move the account's whole history from another Milepost database
        /// (`sqlite://PATH` or `postgres://…`) or from a file written by `milepost export`
        /// (`.json`) into this one.
        #[arg(long, conflicts_with_all = ["file", "format"])]
        from: Option<String>,
        /// `csv` (Milepost CSV orders) or `amazon` (tab-separated order report), for a file whose
        /// header row shows neither; the header row decides when it does. By default the
        /// extension (`.tsv`/`.txt` are Amazon reports, `.csv` Milepost CSV).
        #[arg(long, value_enum)]
        format: Option<FileFormat>,
        /// The account to import into (created if needed).
        #[arg(long)]
        account: String,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum FileFormat {
    Csv,
    Amazon,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key (and the account, if new); prints the key alone on stdout.
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        role: String,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Check and store the account's policy from a TOML file (an empty file returns to the
    /// built-in policy); prints the complete policy now in force.
    Set {
        #[arg(long)]
        account: String,
        #[arg(long)]
        file: PathBuf,
    },
    /// Print the account's complete policy as TOML.
    Show {
        #[arg(long)]
        account: String,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Create a staff user (and the account, if new), or reset their password and role. The
    /// password comes from MILEPOST_PASSWORD or one line of standard input.
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        email: String,
        /// admin, ingest or support (support may look but not act).
        #[arg(long)]
        role: String,
    },
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MILEPOST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing();
    let env = |k: &str| std::env::var(k).ok();
    let mut settings = Settings::load(cli.config.as_deref(), env)?;
    match cli.command {
        Command::Serve { role } => {
            let app = Application::build(&settings)
                .await?
                .with_pollers(milepost_poll::CarrierApi::from_env(env))
                .with_role(role);
            tracing::info!(?role, "serving in role");
            tracing::info!("milepost is serving at {}", app.base_url());
            app.run_until(shutdown_signal()).await
        }
        Command::Migrate => match settings.database()? {
            DatabaseLocation::Sqlite(path) => {
                let versions = milepost_store::sqlite::SqliteStore::migrate(&path)
                    .with_context(|| format!("migrating {}", path.display()))?;
                println!("database {} is at migration {}", path.display(), versions.last().copied().unwrap_or(0));
                Ok(())
            }
            DatabaseLocation::Postgres(url) => {
                let versions =
                    milepost_store::postgres::PgStore::migrate(&url).context("migrating the PostgreSQL database")?;
                println!("the PostgreSQL database is at migration {}", versions.last().copied().unwrap_or(0));
                Ok(())
            }
        },
        Command::Keys { command: KeysCommand::Create { account, role } } => {
            let account = AccountName::parse(&account).map_err(|e| anyhow::anyhow!("--account: {e}"))?;
            let role: Role = role.parse().map_err(|e: String| anyhow::anyhow!("--role: {e}"))?;
            let store = milepost::open_store(&settings)?;
            let app = milepost_app::Milepost::new(store, std::sync::Arc::new(milepost_app::SystemClock));
            let key = app.create_api_key(&account, role).await?;
            println!("{key}");
            Ok(())
        }
        Command::Users { command: UsersCommand::Create { account, email, role } } => {
            let account = AccountName::parse(&account).map_err(|e| anyhow::anyhow!("--account: {e}"))?;
            let role: Role = role.parse().map_err(|e: String| anyhow::anyhow!("--role: {e}"))?;
            let password = milepost::users::read_password()?;
            let store = milepost::open_store(&settings)?;
            let app = milepost_app::Milepost::new(store, std::sync::Arc::new(milepost_app::SystemClock));
            println!("{}", milepost::users::create(&app, &account, &email, role, &password).await?);
            Ok(())
        }
        Command::Policy { command } => {
            let (account, file) = match command {
                PolicyCommand::Set { account, file } => (account, Some(file)),
                PolicyCommand::Show { account } => (account, None),
            };
            let account = AccountName::parse(&account).map_err(|e| anyhow::anyhow!("--account: {e}"))?;
            let store = milepost::open_store(&settings)?;
            let app = milepost_app::Milepost::new(store, std::sync::Arc::new(milepost_app::SystemClock));
            let caller = app.operator(&account).await?;
            let document = match file {
                Some(file) => {
                    let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
                    app.set_notification_policy(&caller, &text).await?
                }
                None => app.notification_policy(&caller).await?,
            };
            print!("{document}");
            Ok(())
        }
        Command::Kpi { account, from, to, by, format } => {
            let account = AccountName::parse(&account).map_err(|e| anyhow::anyhow!("--account: {e}"))?;
            let bound = |flag: &str, v: Option<String>| -> anyhow::Result<Option<chrono::DateTime<chrono::Utc>>> {
                v.map(|v| {
                    milepost_web::api::kpis::parse_bound(&v)
                        .ok_or_else(|| anyhow::anyhow!("{flag}: expected an RFC 3339 time or YYYY-MM-DD"))
                })
                .transpose()
            };
            let to = bound("--to", to)?.unwrap_or_else(chrono::Utc::now);
            let from = bound("--from", from)?.unwrap_or(to - chrono::Duration::days(30));
            let group_by = by
                .as_deref()
                .map(|b| {
                    milepost_domain::kpi::KpiGrouping::parse(b)
                        .ok_or_else(|| anyhow::anyhow!("--by: unknown grouping `{b}`"))
                })
                .transpose()?;
            let store = milepost::open_store(&settings)?;
            let app = milepost_app::Milepost::new(store, std::sync::Arc::new(milepost_app::SystemClock));
            let caller = app.operator(&account).await?;
            let (overall, groups) = app.kpis(&caller, from, to, group_by).await?;
            print!("{}", milepost::kpi_report::render(&format, &overall, &groups)?);
            Ok(())
        }
        Command::Bench { scale: Some(points), out, quick, .. } => {
            let size = if quick { milepost::bench::BenchSize::quick() } else { milepost::bench::BenchSize::full() };
            let report = milepost::bench::scale(&points, size).await?;
            println!("{}", milepost::bench::scale_table(&report));
            if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&out, serde_json::to_string_pretty(&report)?)?;
            println!("figures written to {}", out.display());
            Ok(())
        }
        Command::Bench { sweep: Some(active), out, .. } => {
            let report = milepost::bench::sweep(active, 48).await?;
            println!(
                "exception sweep: {} active shipments, all due: {:.1} s ({:.0} shipments/s, {} exceptions opened); \
                 a sweep with nothing due: {:.2} ms (setup took {:.0} s)",
                report.active_shipments,
                report.sweep_seconds,
                report.shipments_per_second,
                report.exceptions_opened,
                report.idle_sweep_ms,
                report.setup_seconds
            );
            for (when, l) in [("idle", &report.ingest_idle), ("during the sweep", &report.ingest_during_sweep)] {
                println!(
                    "one-event ingest {when}: {} batches, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                    l.batches, l.p50_ms, l.p99_ms, l.max_ms
                );
            }
            if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&out, serde_json::to_string_pretty(&report)?)?;
            Ok(())
        }
        Command::Bench { quick, out, sweep: None, scale: None } => {
            let size = if quick { milepost::bench::BenchSize::quick() } else { milepost::bench::BenchSize::full() };
            // With MILEPOST_DATABASE_URL on a PostgreSQL server, PostgreSQL is measured too.
            let postgres = match settings.database()? {
                DatabaseLocation::Postgres(url) => Some(url),
                DatabaseLocation::Sqlite(_) => None,
            };
            let report = milepost::bench::run(size, postgres.as_deref()).await?;
            println!("{}", milepost::bench::table(&report));
            if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&out, serde_json::to_string_pretty(&report)?)
                .with_context(|| format!("writing {}", out.display()))?;
            println!("figures written to {}", out.display());
            Ok(())
        }
        Command::Simulate { seed, orders, report } => {
            let from_environment = std::env::var_os("MILEPOST_DATABASE_URL").is_some();
            let figures = milepost::simulate::run_command(&settings, from_environment, seed, orders).await?;
            print!("{}", milepost::simulate::table(&figures));
            if let Some(path) = report {
                std::fs::write(&path, serde_json::to_string_pretty(&figures)?)
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("report written to {}", path.display());
            }
            Ok(())
        }
        Command::Export { account, out } => {
            let account = AccountName::parse(&account).map_err(|e| anyhow::anyhow!("--account: {e}"))?;
            let store = milepost::open_store(&settings)?;
            let history = milepost::import::export_account(store.as_ref(), &account).await?;
            let json = serde_json::to_vec(&history).context("writing the export")?;
            match out {
                Some(path) => std::fs::write(&path, json).with_context(|| format!("writing {}", path.display()))?,
                None => std::io::Write::write_all(&mut std::io::stdout(), &json)?,
            }
            Ok(())
        }
        Command::Import { from: Some(from), account, .. } => {
            let account = AccountName::parse(&account).map_err(|e| anyhow::anyhow!("--account: {e}"))?;
            let target = milepost::open_store(&settings)?;
            let history = if from.ends_with(".json") {
                let bytes = std::fs::read(&from).with_context(|| format!("reading {from}"))?;
                serde_json::from_slice(&bytes).with_context(|| format!("{from} is not a Milepost export"))?
            } else {
                let source_settings = Settings { database_url: from.clone(), ..settings.clone() };
                let source = milepost::open_store(&source_settings).with_context(|| format!("opening {from}"))?;
                milepost::import::export_account(source.as_ref(), &account).await?
            };
            let moved = milepost::import::import_account(target.as_ref(), &account, history).await?;
            println!("{moved}");
            Ok(())
        }
        Command::Import { file, format, account, .. } => {
            let file = file.context("a file to import, or --from")?;
            let account = AccountName::parse(&account).map_err(|e| anyhow::anyhow!("--account: {e}"))?;
            let store = milepost::open_store(&settings)?;
            let app = milepost_app::Milepost::new(store, std::sync::Arc::new(milepost_app::SystemClock));
            let caller = app.account_principal(&account, Role::Ingest).await?;
            let asked = format.map(|f| match f {
                FileFormat::Csv => milepost_app::ingest::ImportFormat::Csv,
                FileFormat::Amazon => milepost_app::ingest::ImportFormat::Amazon,
            });
            let declared = milepost::import::format_for(&file, asked);
            let show_progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
            let summary = milepost::import::run(&app, &caller, &file, declared, show_progress).await?;
            milepost::import::print_summary(&mut std::io::stdout(), &file, &summary)?;
            if !summary.written {
                anyhow::bail!("nothing was imported");
            }
            Ok(())
        }
        Command::Demo { orders, no_serve } => {
            if std::env::var("MILEPOST_DATABASE_URL").is_err()
                && cli.config.is_none()
                && !PathBuf::from("milepost.toml").exists()
            {
                // Keep demo data out of a real database unless told otherwise.
                settings.database_url = "sqlite://./milepost-demo.db".into();
            }
            let app = Application::build(&settings).await?.with_pollers(milepost_poll::CarrierApi::from_env(env));
            let key =
                app.app().create_api_key(&AccountName::parse(demo::DEMO_ACCOUNT).expect("valid"), Role::Admin).await?;
            let caller = app.app().authenticate(Some(&key), Role::Admin).await?;
            let seeded = demo::seed(app.app(), &caller, orders, chrono::Utc::now(), true).await?;
            let base = app.base_url().to_string();
            println!("Milepost demo is ready ({} orders in {}).", seeded.orders, settings.database_url);
            println!();
            println!("  admin API key:  {key}");
            println!("  API:            {base}/api/v1/orders");
            println!("  an order:       {base}/api/v1/orders/{}", seeded.example_order);
            println!("  OpenAPI:        {base}/openapi.json");
            println!("  health:         {base}/healthz");
            println!("  metrics:        {base}/metrics");
            println!();
            println!("  try: curl -H 'Authorization: Bearer {key}' {base}/api/v1/orders/{}", seeded.example_order);
            println!();
            for line in demo::tracking_page_lines(app.app(), &caller, &base).await? {
                println!("  {line}");
            }
            for line in milepost::users::demo_staff(app.app(), &base).await? {
                println!("  {line}");
            }
            if no_serve {
                return Ok(());
            }
            app.run_until(shutdown_signal()).await
        }
    }
}

//! The `milepost` command line: serve, migrate, create API keys, and run the demo.

use anyhow::Context;
use clap::{Parser, Subcommand};
use milepost::settings::{DatabaseLocation, Settings};
use milepost::{Application, demo, shutdown_signal};
use milepost_domain::{AccountName, Role};
use std::path::PathBuf;

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
    /// Serve the API.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
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
        Command::Serve => {
            let app = Application::build(&settings).await?;
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
            DatabaseLocation::Postgres(_) => anyhow::bail!("the PostgreSQL backend is not part of this build yet"),
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
        Command::Demo { orders, no_serve } => {
            if std::env::var("MILEPOST_DATABASE_URL").is_err()
                && cli.config.is_none()
                && !PathBuf::from("milepost.toml").exists()
            {
                // Keep demo data out of a real database unless told otherwise.
                settings.database_url = "sqlite://./milepost-demo.db".into();
            }
            let app = Application::build(&settings).await?;
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
            if no_serve {
                return Ok(());
            }
            app.run_until(shutdown_signal()).await
        }
    }
}

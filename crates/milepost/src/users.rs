//! Staff users from the command line (`milepost users create`) and the demo's staff admin. The
//! password comes from `MILEPOST_PASSWORD` or one line of standard input (with terminal echo
//! off when it is a terminal); it is never printed or logged, except the demo's own generated
//! password, which the demo prints on purpose so a person can log in.

use anyhow::Context;
use milepost_app::Milepost;
use milepost_app::records::StaffUpsert;
use milepost_domain::{AccountName, Role};
use std::io::{BufRead, IsTerminal, Write};

/// The demo account's staff admin.
pub const DEMO_STAFF_EMAIL: &str = "ops@demo.example";

/// The password to set: `MILEPOST_PASSWORD`, else one line read from standard input.
pub fn read_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("MILEPOST_PASSWORD") {
        return Ok(password);
    }
    let stdin = std::io::stdin();
    let terminal = stdin.is_terminal();
    if terminal {
        eprint!("Password: ");
        let _ = std::io::stderr().flush();
        set_echo(false);
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if terminal {
        set_echo(true);
        eprintln!();
    }
    read.context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Turns the terminal's echo off or on with `stty` (no extra dependency; a terminal without
/// `stty` simply keeps echoing).
fn set_echo(on: bool) {
    let _ = std::process::Command::new("stty")
        .arg(if on { "echo" } else { "-echo" })
        .stdin(std::process::Stdio::inherit())
        .status();
}

/// `milepost users create`: creates the staff user (and the account if new) or resets their
/// password and role; returns what it did, for one line on stdout.
pub async fn create(
    app: &Milepost,
    account: &AccountName,
    email: &str,
    role: Role,
    password: &str,
) -> anyhow::Result<String> {
    let done = app.create_staff_user(account, email, role, password).await?;
    let email = email.trim().to_lowercase();
    Ok(match done {
        StaffUpsert::Created => format!("created staff user {email} ({}) of account {account}", role.as_str()),
        StaffUpsert::Updated => format!("updated staff user {email} ({}) of account {account}", role.as_str()),
    })
}

/// Creates the demo's staff admin with `MILEPOST_PASSWORD` or a generated password, and returns
/// the lines the demo prints about the dashboard.
pub async fn demo_staff(app: &Milepost, base: &str) -> anyhow::Result<Vec<String>> {
    let account = AccountName::parse(crate::demo::DEMO_ACCOUNT).expect("valid demo account name");
    let (password, shown) = match std::env::var("MILEPOST_PASSWORD") {
        Ok(p) => (p, "(from MILEPOST_PASSWORD)".to_string()),
        Err(_) => {
            let p = milepost_app::staff::generate_password();
            (p.clone(), p)
        }
    };
    app.create_staff_user(&account, DEMO_STAFF_EMAIL, Role::Admin, &password).await?;
    Ok(vec![format!("operations dashboard: {base}/ops"), format!("  staff login:    {DEMO_STAFF_EMAIL} / {shown}")])
}

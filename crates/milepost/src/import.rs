//! `milepost import FILE`: loads an order file (Milepost CSV or an Amazon order report) into an
//! account with the same all-or-nothing rule as `POST /api/v1/imports`: every row is checked
//! first, and only a file without a bad row is written, in one transaction. The file's header row
//! says which format it is (Seller Central saves reports as `.txt`, people rename files); the
//! extension and `--format` only decide for a header that shows neither. A spinner shows the
//! phase on a terminal; the summary names the format read and each refused row by its line.
//!
//! `milepost export` and `milepost import --from`: an account's whole history moved between
//! stores (SQLite to PostgreSQL when an install outgrows one file) as the rows of every table,
//! written into the target in one transaction.

use anyhow::Context;
use milepost_app::Milepost;
use milepost_app::ingest::{ImportFormat, ImportSummary};
use milepost_app::records::Principal;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// The format declared for a file whose header row shows none: the one asked for, else by
/// extension (`.tsv`/`.txt` are Amazon reports, `.csv` Milepost CSV). The header row, when it
/// shows a format, decides over both (`ImportFormat::resolve`).
pub fn format_for(path: &Path, asked: Option<ImportFormat>) -> Option<ImportFormat> {
    asked.or_else(|| match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("tsv" | "txt") => Some(ImportFormat::Amazon),
        Some("csv") => Some(ImportFormat::Csv),
        _ => None,
    })
}

fn format_name(format: ImportFormat) -> &'static str {
    match format {
        ImportFormat::Csv => "Milepost CSV",
        ImportFormat::Amazon => "Amazon order report",
    }
}

/// Reads, checks and (when every row is valid) writes the file.
pub async fn run(
    app: &Milepost,
    caller: &Principal,
    path: &Path,
    declared: Option<ImportFormat>,
    show_progress: bool,
) -> anyhow::Result<ImportSummary> {
    let progress = if show_progress { indicatif::ProgressBar::new_spinner() } else { indicatif::ProgressBar::hidden() };
    progress.enable_steady_tick(Duration::from_millis(120));
    progress.set_message(format!("reading {}", path.display()));
    let body = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    progress.set_message(format!("checking {} bytes", body.len()));
    let validated = app.validate_import(declared, &body).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    progress.set_message(format!("writing {} orders from {} rows", validated.orders.len(), validated.rows));
    let summary = app.write_import(caller, validated).await?;
    progress.finish_and_clear();
    Ok(summary)
}

/// Prints the summary: counts, then each refused row with its line and reason.
pub fn print_summary(out: &mut impl Write, file: &Path, summary: &ImportSummary) -> std::io::Result<()> {
    if summary.written {
        writeln!(
            out,
            "{} ({}): {} rows, {} orders created, {} updated",
            file.display(),
            format_name(summary.format),
            summary.rows,
            summary.count("created"),
            summary.count("updated")
        )?;
        for (number, result, lines) in &summary.orders {
            let lines: Vec<String> = lines.iter().map(ToString::to_string).collect();
            writeln!(out, "  {result:<8} {number} (lines {})", lines.join(", "))?;
        }
    } else if summary.rejected.is_empty() {
        writeln!(out, "{}: no orders in the file; nothing was written", file.display())?;
    } else {
        writeln!(
            out,
            "{} ({}): {} of {} rows rejected; nothing was written",
            file.display(),
            format_name(summary.format),
            summary.rejected.len(),
            summary.rows
        )?;
        for (line, reason) in &summary.rejected {
            writeln!(out, "  line {line}: {reason}")?;
        }
    }
    Ok(())
}

/// Reads an account's whole history from a store.
pub async fn export_account(
    store: &dyn milepost_store::Store,
    account: &milepost_domain::AccountName,
) -> anyhow::Result<milepost_store::export::AccountExport> {
    let id = store.account_by_name(account).await?.with_context(|| format!("no account named {account}"))?;
    Ok(store.export_account(id).await?)
}

/// Writes an exported history into a store as `account` and says what moved.
pub async fn import_account(
    store: &dyn milepost_store::Store,
    account: &milepost_domain::AccountName,
    history: milepost_store::export::AccountExport,
) -> anyhow::Result<String> {
    let counts: Vec<String> =
        history.tables.iter().filter(|t| !t.rows.is_empty()).map(|t| format!("{} {}", t.rows.len(), t.name)).collect();
    store.import_account(account, history).await.with_context(|| format!("importing into account {account}"))?;
    Ok(format!("moved account {account}: {}", counts.join(", ")))
}

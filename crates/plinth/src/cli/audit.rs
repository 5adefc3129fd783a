//! `plinth audit ORG`: the org's audit log, a page at a time, or all of it exported to a
//! file with a running count (an export of millions of entries takes a while).

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

use super::{ClientArgs, Output, client, org_handle};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Jsonl,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    pub org: String,
    /// An action (`org.update`) or a prefix (`org.member.*`).
    #[arg(long)]
    pub action: Option<String>,
    /// The actor's handle.
    #[arg(long)]
    pub actor: Option<String>,
    /// The target's handle or id.
    #[arg(long)]
    pub target: Option<String>,
    /// RFC 3339: entries at or after this instant.
    #[arg(long)]
    pub since: Option<String>,
    /// RFC 3339: entries before this instant.
    #[arg(long)]
    pub until: Option<String>,
    /// Entries to list (1–100), newest first.
    #[arg(long, default_value_t = 25)]
    pub limit: u32,
    /// Export every matching entry instead of listing a page.
    #[arg(long, value_enum)]
    pub export: Option<ExportFormat>,
    /// Where the export goes (with `--export`).
    #[arg(long, short = 'o', requires = "export")]
    pub output_file: Option<PathBuf>,
    #[command(flatten)]
    pub client: ClientArgs,
}

pub fn audit(args: AuditArgs) -> anyhow::Result<()> {
    let api = client(&args.client)?;
    let org = org_handle(&args.org)?;
    let mut query: Vec<(&str, &str)> = [
        ("action", &args.action),
        ("actor", &args.actor),
        ("target", &args.target),
        ("since", &args.since),
        ("until", &args.until),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
    .collect();

    let Some(format) = args.export else {
        let limit = args.limit.to_string();
        query.push(("limit", &limit));
        let page = api
            .get_query(&format!("/orgs/{org}/audit-log"), &query)?
            .ok()?;
        if args.client.output == Output::Json {
            println!("{}", serde_json::to_string_pretty(&page)?);
            return Ok(());
        }
        let rows: Vec<Vec<String>> = page["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|entry| {
                vec![
                    super::when(&entry["created_at"]),
                    super::field(entry, "action"),
                    super::field(entry, "actor_handle"),
                    entry["target_handle"]
                        .as_str()
                        .or(entry["target_id"].as_str())
                        .unwrap_or("-")
                        .to_owned(),
                ]
            })
            .collect();
        super::print_table(&["WHEN", "ACTION", "ACTOR", "TARGET"], &rows);
        return Ok(());
    };

    let (format_name, default_name) = match format {
        ExportFormat::Csv => ("csv", format!("{org}-audit-log.csv")),
        ExportFormat::Jsonl => ("jsonl", format!("{org}-audit-log.jsonl")),
    };
    let path = args
        .output_file
        .unwrap_or_else(|| PathBuf::from(default_name));
    query.push(("format", format_name));
    let mut res = api.get_stream(&format!("/orgs/{org}/audit-log/export"), &query)?;
    // Written next to the target and renamed at the end: an interrupted export leaves
    // no half file under the name asked for.
    let partial = path.with_extension(format!("{format_name}.partial"));
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(&partial)
            .with_context(|| format!("creating {}", partial.display()))?,
    );
    let mut progress = Progress::new(matches!(format, ExportFormat::Csv));
    let mut reader = res.body_mut().as_reader();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buf).context("reading the export")?;
        if n == 0 {
            break;
        }
        file.write_all(&buf[..n])
            .with_context(|| format!("writing {}", partial.display()))?;
        progress.add(&buf[..n]);
    }
    file.flush()?;
    drop(file);
    if !progress.ended_with_newline && progress.bytes > 0 {
        bail!(
            "the export ended in the middle of an entry; the partial file is {}",
            partial.display()
        );
    }
    std::fs::rename(&partial, &path).with_context(|| format!("writing {}", path.display()))?;
    progress.finish(&path);
    Ok(())
}

/// A running count on stderr: entries, bytes, rate. On a terminal it redraws one line a
/// few times a second; elsewhere it prints only the summary.
struct Progress {
    entries: u64,
    bytes: u64,
    /// CSV's first line is the header, not an entry.
    header: bool,
    ended_with_newline: bool,
    started: Instant,
    last_draw: Instant,
    live: bool,
}

impl Progress {
    fn new(header: bool) -> Self {
        let now = Instant::now();
        Self {
            entries: 0,
            bytes: 0,
            header,
            ended_with_newline: true,
            started: now,
            last_draw: now,
            live: std::io::stderr().is_terminal(),
        }
    }

    fn add(&mut self, chunk: &[u8]) {
        self.bytes += chunk.len() as u64;
        self.entries += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        self.ended_with_newline = chunk.last() == Some(&b'\n');
        if self.live && self.last_draw.elapsed() >= Duration::from_millis(200) {
            self.last_draw = Instant::now();
            eprint!("\r{}", self.line());
        }
    }

    fn rows(&self) -> u64 {
        self.entries.saturating_sub(u64::from(self.header))
    }

    fn line(&self) -> String {
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        format!(
            "{} entries, {:.1} MiB, {:.0} entries/s",
            self.rows(),
            self.bytes as f64 / (1024.0 * 1024.0),
            self.rows() as f64 / secs
        )
    }

    fn finish(&self, path: &std::path::Path) {
        let clear = if self.live { "\r" } else { "" };
        eprintln!("{clear}{} → {}", self.line(), path.display());
    }
}

//! `upload-data` and `download-results`: run-manager's commands of the same names, as
//! shortcuts for the runbook functions `upload_data` and `download_results` (the same signing,
//! transfers, dry-run and report: `--output json` prints `{files, bytes, skipped}`).

use crate::api::host::Host;
use crate::api::ops::rundata::{download_results, upload_data};
use crate::api::values::error::HostError;
use crate::api::values::json::to_json;
use crate::chain::settings::Settings;
use crate::cli::{DownloadResultsArgs, UploadDataArgs};
use crate::exit::{ExitCode, Failure};
use crate::ui::Log;
use rhai::{Dynamic, INT, Map};
use std::path::Path;

/// A host for one transfer, relative paths resolved from the working directory.
fn host(settings: Settings, log: &Log, dry_run: bool) -> std::sync::Arc<Host> {
    let host = Host::new(settings, log.clone(), &[], Path::new("."));
    if dry_run {
        host.set_dry_run();
    }
    host
}

fn options(expires_in_seconds: u64, overwrite: Option<bool>) -> Map {
    let mut map = Map::new();
    map.insert("expires_in_seconds".into(), (expires_in_seconds.min(INT::MAX as u64) as INT).into());
    if let Some(overwrite) = overwrite {
        map.insert("overwrite".into(), overwrite.into());
    }
    map
}

/// The report on stdout with `--output json`; a failure with its exit code and what was sent.
fn finish(host: &Host, log: &Log, result: Result<Map, HostError>) -> Result<ExitCode, Failure> {
    match result {
        Ok(report) => {
            if log.json() {
                let document = to_json(&Dynamic::from_map(report));
                println!("{}", serde_json::to_string_pretty(&document).expect("a report serializes"));
            }
            Ok(ExitCode::Success)
        }
        Err(e) => {
            let code = e.exit_code();
            let note = crate::commands::run::sent_note(&[], 0, &host.off_chain());
            Err(Failure::new(code, format!("{}\n{note}", e.message)))
        }
    }
}

pub fn upload(args: &UploadDataArgs, settings: Settings, log: Log) -> Result<ExitCode, Failure> {
    let host = host(settings, &log, args.dry_run);
    let path = args.path.to_str().ok_or_else(|| Failure::usage(format!("{}: not UTF-8", args.path.display())))?;
    let result = upload_data(&host, &args.run_id, path, &options(args.expires_in_seconds, None));
    finish(&host, &log, result)
}

pub fn download(args: &DownloadResultsArgs, settings: Settings, log: Log) -> Result<ExitCode, Failure> {
    let host = host(settings, &log, args.dry_run);
    let dir =
        args.output_dir.to_str().ok_or_else(|| Failure::usage(format!("{}: not UTF-8", args.output_dir.display())))?;
    let result = download_results(&host, &args.run_id, dir, &options(args.expires_in_seconds, Some(args.overwrite)));
    finish(&host, &log, result)
}

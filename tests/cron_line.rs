//! The README's crontab line, run as cron runs it (`sh -c`, no terminal), against a run served
//! by `localnet serve` in place of mainnet: cron mails whatever a job prints, so a no-op must
//! print nothing at all, and a top-up its outputs and one summary line.

mod common;

use common::{BIN, Runbook, Server};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// The command of the README's crontab entry (after the five schedule fields).
fn readme_cron_command() -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.starts_with("*/15 ") && l.contains("top-up-cron.rhai"))
        .expect("README has a crontab line for top-up-cron.rhai");
    line.split_whitespace().skip(5).collect::<Vec<_>>().join(" ")
}

#[test]
fn the_readme_cron_line_is_silent_when_nothing_is_due() {
    let rb = Runbook::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The operator's directory: the runbooks, a rewarded run "my-run" funded for five epochs,
    // and the operator's key.
    std::fs::create_dir_all(rb.path("runbooks")).unwrap();
    std::fs::copy(root.join("runbooks/top-up-cron.rhai"), rb.path("runbooks/top-up-cron.rhai")).unwrap();
    let quickstart = root.join("runbooks/quickstart.rhai").display().to_string();
    rb.run_args(["run", &quickstart, "--set", "run_id=my-run"]).success();
    std::fs::create_dir_all(rb.path("keys")).unwrap();
    std::fs::copy(rb.path(".psyche-runbook/localnet/payer.json"), rb.path("keys/operator.json")).unwrap();
    std::fs::set_permissions(rb.path("keys/operator.json"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let server = Server::start(&rb);

    let command = readme_cron_command()
        .replace("/srv/psyche", &rb.dir().display().to_string())
        .replace("https://api.mainnet-beta.solana.com", &server.url)
        .replace("psyche-runbook ", &format!("{BIN} "));
    let cron = || {
        let out = Command::new("sh")
            .args(["-c", &command])
            .env("HOME", rb.dir())
            .env_remove("RUN_ID")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    // Ten epochs wanted, five funded: the first run tops up and says so.
    let (code, stdout, stderr) = cron();
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("topped_up = 15.0"), "{stdout}");
    assert!(stdout.contains("run_id = \"my-run\""), "{stdout}");
    assert_eq!(stderr.lines().count(), 1, "one summary line: {stderr}");
    assert!(stderr.contains("sent 1 transaction(s)"), "{stderr}");

    // Nothing due: nothing printed, so cron sends no mail.
    let (code, stdout, stderr) = cron();
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_eq!(stdout, "");
    assert_eq!(stderr, "");
    assert_eq!(server.stop(), 0);
}

//! Run data through the run-down service, against a fake of it on 127.0.0.1 (`fake`): every
//! request checked as the protocol says, uploads and downloads byte for byte, and each way the
//! service or its storage can misbehave (500s, expired URLs, a download cut halfway, listed
//! paths that escape, a slow body), with the runbook run by the real binary.

#[path = "../common/mod.rs"]
mod common;
mod fake;
mod faults;

use common::{Run, Runbook};
use fake::FakeService;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use std::collections::BTreeMap;
use std::path::Path;

/// A runbook directory with a keypair file, and the fake service accepting that key.
pub struct Setup {
    pub rb: Runbook,
    pub key: Keypair,
    pub fake: FakeService,
}

impl Setup {
    pub fn start() -> Self {
        let key = Keypair::new();
        let fake = FakeService::start(key.pubkey());
        let rb = Runbook::new().file("id.json", &serde_json::to_string(&key.to_bytes().to_vec()).unwrap());
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(rb.path("id.json"), std::fs::Permissions::from_mode(0o600)).unwrap();
        Self { rb, key, fake }
    }

    /// Runs `script` (as `t.rhai`) with the keypair, `--output json` and `extra` flags, the
    /// service at `RUN_DOWN_URL`.
    pub fn run(&self, script: &str, extra: &[&str]) -> Run {
        std::fs::write(self.rb.path("t.rhai"), script).unwrap();
        let mut args = vec!["-k", "id.json", "run", "t.rhai", "--output", "json"];
        args.extend_from_slice(extra);
        let mut cmd = self.rb.command();
        cmd.env("RUN_DOWN_URL", self.fake.url()).args(&args);
        run_command(cmd)
    }
}

pub fn run_command(mut cmd: std::process::Command) -> Run {
    let out = cmd.stdin(std::process::Stdio::null()).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Bytes that differ from file to file (and are not all text).
pub fn content(i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|j| ((i * 31 + j * 7 + j / 251) % 256) as u8).collect()
}

/// Every file under `root` with its bytes, by relative path (with `/`).
pub fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path.strip_prefix(root).unwrap().to_str().unwrap().replace('\\', "/");
                out.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    if root.exists() {
        walk(root, root, &mut out);
    }
    out
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_directory_of_200_nested_files_round_trips_byte_for_byte() {
    let s = Setup::start();
    let mut expected = BTreeMap::new();
    for i in 0..200 {
        let relative = format!("shard-{}/part-{}/file-{i:03}.bin", i % 4, i % 7);
        let len = if i % 50 == 0 { 0 } else { (i * 997) % 70_000 };
        write(&s.rb.path(&format!("data/{relative}")), &content(i, len));
        expected.insert(relative, content(i, len));
    }
    let up = s.run(r#"output("r", upload_data("run-1", "data"));"#, &[]).success();
    let report = &up.json()["outputs"]["r"];
    assert_eq!(report["files"].as_array().unwrap().len(), 200);
    assert_eq!(report["bytes"], expected.values().map(|v| v.len()).sum::<usize>());
    let stored: BTreeMap<String, Vec<u8>> =
        s.fake.objects().into_iter().map(|(k, v)| (k.strip_prefix("run-1/").unwrap().to_string(), v)).collect();
    assert!(stored == expected, "the storage holds other bytes than the directory");
    let uploads = s.fake.service_requests();
    assert_eq!(uploads.len(), 200);
    for (route, body) in &uploads {
        assert_eq!(route, "upload/run-1");
        assert_eq!(body["expiresInSeconds"], 3600);
        assert!(expected.contains_key(body["filename"].as_str().unwrap()), "{body}");
    }

    let down = s.run(r#"output("r", download_results("run-1", "out"));"#, &[]).success();
    assert_eq!(down.json()["outputs"]["r"]["files"].as_array().unwrap().len(), 200);
    assert!(tree(&s.rb.path("out")) == expected, "the download differs from the upload");
    assert!(s.fake.violations().is_empty(), "{:?}", s.fake.violations());
    assert!(down.stderr.contains("downloaded 200 file(s)"), "{}", down.stderr);
}

#[test]
fn every_request_is_signed_and_shaped_as_the_protocol_says() {
    let s = Setup::start();
    write(&s.rb.path("one.bin"), &content(1, 1000));
    s.run(r#"output("r", upload_data("run-2", "one.bin", #{ expires_in_seconds: 120 }));"#, &[]).success();
    s.run(r#"output("r", download_results("run-2", "out", #{ expires_in_seconds: 60 }));"#, &[]).success();
    // The fake checked the signature against the key, the header, the exact keys and the
    // nonce as a decimal string; what it recorded is what was sent.
    assert!(s.fake.violations().is_empty(), "{:?}", s.fake.violations());
    let requests = s.fake.service_requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].0, "upload/run-2");
    assert_eq!(requests[0].1["filename"], "one.bin");
    assert_eq!(requests[0].1["expiresInSeconds"], 120);
    assert!(requests[0].1["nonce"].is_string());
    assert_eq!(requests[1].0, "download/run-2");
    assert_eq!(requests[1].1["expiresInSeconds"], 60);
    assert_ne!(requests[0].1["nonce"], requests[1].1["nonce"]);
    assert_eq!(std::fs::read(s.rb.path("out/one.bin")).unwrap(), content(1, 1000));
    let puts: Vec<_> = s.fake.storage_requests().into_iter().filter(|r| r.method == "PUT").collect();
    assert_eq!(puts.len(), 1);
    assert_eq!(puts[0].object, "run-2/one.bin");
}

#[test]
fn a_request_signed_by_another_key_is_refused_with_the_services_status_and_body() {
    let s = Setup::start();
    let other = Keypair::new();
    let rb = s.rb.file("other.json", &serde_json::to_string(&other.to_bytes().to_vec()).unwrap());
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(rb.path("other.json"), std::fs::Permissions::from_mode(0o600)).unwrap();
    write(&rb.path("one.bin"), b"data");
    std::fs::write(rb.path("t.rhai"), r#"upload_data("run-3", "one.bin");"#).unwrap();
    let mut cmd = rb.command();
    cmd.env("RUN_DOWN_URL", s.fake.url()).args(["-k", "other.json", "run", "t.rhai"]);
    let run = run_command(cmd).code(3);
    assert!(
        run.stderr.contains("run-down service refused the upload request for run \"run-3\"")
            && run.stderr.contains("401 Unauthorized: bad signature for \"nous-run-down-service:run-3:3600:"),
        "{}",
        run.stderr
    );
    assert!(s.fake.objects().is_empty());
}

#[test]
fn quiet_prints_one_summary_line_and_the_setting_comes_from_the_project_file() {
    let s = Setup::start();
    for i in 0..3 {
        write(&s.rb.path(&format!("d/f{i}")), &content(i, 10));
    }
    // The project file names the service; $RUN_DOWN_URL is not set.
    let rb = &s.rb;
    std::fs::write(rb.path("psyche-runbook.toml"), format!("[run_down]\nurl = \"{}/\"\n", s.fake.url())).unwrap();
    std::fs::write(rb.path("t.rhai"), r#"upload_data("run-4", "d");"#).unwrap();
    let mut cmd = rb.command();
    cmd.args(["-q", "-k", "id.json", "run", "t.rhai"]);
    let run = run_command(cmd).success();
    assert_eq!(run.stderr, "uploaded 3 file(s), 30 bytes, to run \"run-4\"\n");
    assert_eq!(s.fake.objects().len(), 3);
    // A bad URL is refused before anything is sent.
    std::fs::write(rb.path("psyche-runbook.toml"), "[run_down]\nurl = \"ftp://x\"\n").unwrap();
    let mut cmd = rb.command();
    cmd.args(["-k", "id.json", "run", "t.rhai"]);
    let run = run_command(cmd).code(2);
    assert!(
        run.stderr.contains("psyche-runbook.toml [run_down] url: \"ftp://x\" is not an http(s) URL"),
        "{}",
        run.stderr
    );
    // $RUN_DOWN_URL wins over the file.
    std::fs::write(rb.path("psyche-runbook.toml"), "[run_down]\nurl = \"http://127.0.0.1:1/v1\"\n").unwrap();
    let mut cmd = rb.command();
    cmd.env("RUN_DOWN_URL", "127.0.0.1:1").args(["-k", "id.json", "run", "t.rhai"]);
    let run = run_command(cmd).code(2);
    assert!(run.stderr.contains("$RUN_DOWN_URL: \"127.0.0.1:1\" is not an http(s) URL"), "{}", run.stderr);
    let mut cmd = rb.command();
    cmd.env("RUN_DOWN_URL", s.fake.url()).args(["-q", "-k", "id.json", "run", "t.rhai"]);
    run_command(cmd).success();
    assert_eq!(s.fake.service_requests().len(), 6);
}

#[test]
fn dry_run_lists_what_would_move_and_sends_nothing() {
    let s = Setup::start();
    write(&s.rb.path("d/a.bin"), &content(0, 5));
    write(&s.rb.path("d/sub/b.bin"), &content(1, 7));
    let up = s.run(r#"upload_data("run-5", "d"); download_results("run-5", "out");"#, &["--dry-run"]).success();
    assert!(up.stderr.contains("[dry-run] would upload a.bin (5 bytes) to run \"run-5\""), "{}", up.stderr);
    assert!(up.stderr.contains("[dry-run] would upload sub/b.bin (7 bytes)"), "{}", up.stderr);
    assert!(up.stderr.contains("[dry-run] would ask") && up.stderr.contains("into out; nothing was sent"));
    assert!(s.fake.service_requests().is_empty() && s.fake.storage_requests().is_empty());
    assert!(!s.rb.path("out").exists());
}

#[test]
fn bad_input_is_refused_before_anything_is_sent() {
    let s = Setup::start();
    write(&s.rb.path("d/a.bin"), b"a");
    std::os::unix::fs::symlink(s.rb.path("id.json"), s.rb.path("d/link")).unwrap();
    std::fs::create_dir(s.rb.path("empty")).unwrap();
    write(&s.rb.path("file"), b"not a directory");
    let cases = [
        (r#"upload_data("run-6", "missing");"#, "upload_data: missing: No such file or directory (os error 2)\n"),
        (r#"upload_data("run-6", "empty");"#, "upload_data: empty holds no files\n"),
        (
            r#"upload_data("run-6", "d", #{ expires: 5 });"#,
            "upload_data: unknown option `expires` (expires_in_seconds)",
        ),
        (r#"upload_data("run-6", "d", #{ expires_in_seconds: 0 });"#, "expires_in_seconds must be at least 1"),
        (r#"download_results("run-6", "file");"#, "download_results: file is not a directory\n"),
        (r#"download_results("run-6", "out", #{ overwrite: 1 });"#, "download_results: overwrite must be a bool"),
        (r#"download_results("", "out");"#, "run id"),
    ];
    for (script, expected) in cases {
        let mut cmd = s.rb.command();
        std::fs::write(s.rb.path("t.rhai"), script).unwrap();
        cmd.env("RUN_DOWN_URL", s.fake.url()).args(["-k", "id.json", "run", "t.rhai"]);
        let run = run_command(cmd).code(2);
        assert!(run.stderr.contains(expected), "{script}: {}", run.stderr);
        assert!(run.stderr.ends_with("\nnothing was sent\n"), "{script}: {}", run.stderr);
    }
    assert!(s.fake.service_requests().is_empty() && s.fake.storage_requests().is_empty());
    assert!(s.fake.violations().is_empty());
    // A symlink in an uploaded directory is not followed: it is named and left out.
    let run = s.run(r#"output("r", upload_data("run-6", "d"));"#, &[]).success();
    assert!(run.stderr.contains("link is not a regular file or directory; skipped"), "{}", run.stderr);
    assert_eq!(run.json()["outputs"]["r"]["files"], serde_json::json!(["a.bin"]));
}

#[test]
fn upload_data_and_download_results_commands_take_run_managers_flags() {
    let s = Setup::start();
    write(&s.rb.path("d/x.bin"), &content(1, 300));
    write(&s.rb.path("d/y/z.bin"), &content(2, 400));
    let command = |args: &[&str]| {
        let mut cmd = s.rb.command();
        cmd.env("RUN_DOWN_URL", s.fake.url()).env("RUN_ID", "run-7").arg("-k").arg("id.json").args(args);
        run_command(cmd)
    };
    command(&["upload-data", "--run-id", "run-7", "--path", "d", "--expires-in-seconds", "600"]).success();
    assert_eq!(s.fake.objects().keys().collect::<Vec<_>>(), ["run-7/x.bin", "run-7/y/z.bin"]);
    assert_eq!(s.fake.service_requests()[0].1["expiresInSeconds"], 600);
    // The run id from $RUN_ID, as run-manager reads it.
    let run = command(&["download-results", "--output-dir", "out", "--output", "json"]).success();
    assert_eq!(run.json(), serde_json::json!({"files": ["x.bin", "y/z.bin"], "bytes": 700, "skipped": 0}));
    assert!(tree(&s.rb.path("out")) == tree(&s.rb.path("d")));
    let requests = s.fake.service_requests().len();
    let dry = command(&["upload-data", "-p", "d", "--dry-run"]).success();
    assert!(dry.stderr.contains("[dry-run] would upload y/z.bin (400 bytes) to run \"run-7\""), "{}", dry.stderr);
    command(&["download-results", "-o", "elsewhere", "--dry-run"]).success();
    assert_eq!(s.fake.service_requests().len(), requests, "a dry-run sends nothing");
    s.fake.faults(|f| f.service_500s = 1);
    let failed = command(&["download-results", "-o", "out"]).code(3);
    assert!(
        failed.stderr.contains("500 Internal Server Error: internal error: storage backend unavailable")
            && failed.stderr.ends_with("no transaction was sent; requests went to the run-down service\n"),
        "{}",
        failed.stderr
    );
    assert!(command(&["download-results", "--run-id", "", "-o", "out"]).code(2).stderr.contains("run id"));
}

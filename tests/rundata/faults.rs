//! The service and its storage misbehaving: each failure is reported clearly, nothing
//! truncated ever stands under a final name, and a re-run completes only what is missing.

use crate::{Setup, content, tree, write};
use std::time::{Duration, Instant};

const DOWNLOAD: &str = r#"output("r", download_results("run-9", "out"));"#;

/// A run with three results in the fake's storage: `a` (small), `big` (1 MB), `c`.
fn with_results() -> Setup {
    let s = Setup::start();
    s.fake.put_object("run-9/a", content(1, 100));
    s.fake.put_object("run-9/big", content(2, 1_000_000));
    s.fake.put_object("run-9/c", content(3, 5_000));
    s
}

fn gets(s: &Setup) -> Vec<(String, Option<String>)> {
    s.fake.storage_requests().into_iter().filter(|r| r.method == "GET").map(|r| (r.object, r.range)).collect()
}

#[test]
fn a_500_from_the_service_is_reported_with_its_status_and_body_and_nothing_is_written() {
    let s = with_results();
    s.fake.faults(|f| f.service_500s = 1);
    let run = s.run(DOWNLOAD, &[]).code(3);
    assert!(
        run.stderr.contains("run-down service refused the download request for run \"run-9\"")
            && run.stderr.contains("500 Internal Server Error: internal error: storage backend unavailable"),
        "{}",
        run.stderr
    );
    assert!(!s.rb.path("out").exists());
    assert!(gets(&s).is_empty());
    // The next try works.
    s.run(DOWNLOAD, &[]).success();
    assert_eq!(tree(&s.rb.path("out")).len(), 3);
}

#[test]
fn an_expired_url_is_asked_for_again_once() {
    let s = with_results();
    s.fake.faults(|f| f.expired_answers = 1);
    let doc = s.run(DOWNLOAD, &[]).success().json();
    assert_eq!(doc["outputs"]["r"]["files"], serde_json::json!(["a", "big", "c"]));
    let listings = s.fake.service_requests().iter().filter(|(route, _)| route == "download/run-9").count();
    assert_eq!(listings, 2, "one listing expired, one more was asked for");

    // Twice expired: the error says what the storage answered.
    let s = with_results();
    s.fake.faults(|f| f.expired_answers = 2);
    let run = s.run(DOWNLOAD, &[]).code(3);
    assert!(
        run.stderr.contains("downloading a: the storage refused a fresh URL too (the service said it was valid until 2030-01-01T00:00:00.000Z; is this machine's clock right?): 400 Bad Request: <Error><Code>ExpiredToken</Code>")
            && run.stderr.contains("no transaction was sent; requests went to the run-down service"),
        "{}",
        run.stderr
    );
    assert!(tree(&s.rb.path("out")).is_empty());

    // Uploads too.
    let s = Setup::start();
    write(&s.rb.path("one.bin"), b"bytes");
    s.fake.faults(|f| f.expired_answers = 1);
    s.run(r#"upload_data("run-9", "one.bin");"#, &[]).success();
    assert_eq!(s.fake.objects()["run-9/one.bin"], b"bytes");
    assert_eq!(s.fake.service_requests().len(), 2);
    assert!(s.fake.violations().is_empty(), "{:?}", s.fake.violations());
}

#[test]
fn a_download_cut_halfway_leaves_no_truncated_file_and_a_rerun_completes_only_what_is_missing() {
    let s = with_results();
    s.fake.faults(|f| f.cut = Some(("run-9/big".into(), 300_000)));
    let run = s.run(DOWNLOAD, &[]).code(3);
    assert!(!s.rb.path("out/big").exists(), "a truncated file stands under its final name");
    // What arrived before the cut waits in the partial file.
    let got = std::fs::metadata(s.rb.path("out/.big.part")).unwrap().len();
    assert!(got > 0 && got <= 300_000, "{got}");
    assert!(run.stderr.contains(&format!("downloading big: stopped after {got} of 1000000 bytes")), "{}", run.stderr);
    assert!(run.stderr.contains("run again to resume"), "{}", run.stderr);
    assert_eq!(std::fs::read(s.rb.path("out/a")).unwrap(), content(1, 100));
    assert!(!s.rb.path("out/c").exists());
    let before = gets(&s).len();

    let doc = s.run(DOWNLOAD, &[]).success().json();
    assert_eq!(doc["outputs"]["r"]["files"], serde_json::json!(["big", "c"]));
    assert_eq!(doc["outputs"]["r"]["skipped"], 1);
    assert_eq!(doc["outputs"]["r"]["bytes"], 1_000_000 - got + 5_000);
    let rerun = &gets(&s)[before..];
    assert_eq!(
        rerun,
        [
            ("run-9/a".to_string(), None),
            ("run-9/big".to_string(), Some(format!("bytes={got}-"))),
            ("run-9/c".to_string(), None)
        ]
    );
    let files = tree(&s.rb.path("out"));
    assert_eq!(files.keys().collect::<Vec<_>>(), ["a", "big", "c"], "no partial file is left");
    assert!(files["big"] == content(2, 1_000_000));

    // Everything complete: a third run writes nothing.
    let doc = s.run(DOWNLOAD, &[]).success().json();
    assert_eq!(doc["outputs"]["r"]["files"], serde_json::json!([]));
    assert_eq!(doc["outputs"]["r"]["skipped"], 3);
}

#[test]
fn a_local_file_that_differs_is_refused_unless_overwrite_and_the_checksum_decides() {
    let s = with_results();
    // Same size as `c`, other bytes: the MD5 tells them apart.
    write(&s.rb.path("out/c"), &content(9, 5_000));
    let run = s.run(DOWNLOAD, &[]).code(3);
    assert!(
        run.stderr.contains("downloading c:") && run.stderr.contains("overwrite: true replaces it"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(s.rb.path("out/c")).unwrap(), content(9, 5_000));
    // Without a checksum from the storage, the same size counts as complete.
    s.fake.faults(|f| f.no_hash = true);
    let doc = s.run(DOWNLOAD, &[]).success().json();
    assert_eq!(doc["outputs"]["r"]["skipped"], 3);
    s.fake.faults(|f| f.no_hash = false);
    s.run(r#"download_results("run-9", "out", #{ overwrite: true });"#, &[]).success();
    assert_eq!(std::fs::read(s.rb.path("out/c")).unwrap(), content(3, 5_000));
}

#[test]
fn listed_paths_that_escape_the_directory_are_refused_and_nothing_is_written() {
    let s = with_results();
    s.fake.faults(|f| {
        f.extra_listed = vec![("../escape".into(), "run-9/a".into()), ("/tmp/absolute".into(), "run-9/a".into())]
    });
    let run = s.run(DOWNLOAD, &[]).code(3);
    assert!(
        run.stderr.contains("the run-down service listed paths that would escape out:")
            && run.stderr.contains("\"../escape\" has a `..` part")
            && run.stderr.contains("\"/tmp/absolute\" is absolute")
            && run.stderr.contains("nothing was written"),
        "{}",
        run.stderr
    );
    assert!(!s.rb.path("out").exists() && !s.rb.path("escape").exists());
    assert!(gets(&s).is_empty());

    // Through a symlink already in the directory.
    let s = with_results();
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir(s.rb.path("out")).unwrap();
    std::os::unix::fs::symlink(outside.path(), s.rb.path("out/link")).unwrap();
    s.fake.faults(|f| f.extra_listed = vec![("link/x".into(), "run-9/a".into())]);
    let run = s.run(DOWNLOAD, &[]).code(3);
    assert!(run.stderr.contains("\"link/x\" goes through the symlink"), "{}", run.stderr);
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(s.rb.path("out")).unwrap().count(), 1);
}

#[test]
fn a_slow_body_is_written_under_a_hidden_name_until_it_is_complete() {
    let s = with_results();
    s.fake.faults(|f| f.hold = Some("run-9/big".into()));
    std::fs::write(s.rb.path("t.rhai"), DOWNLOAD).unwrap();
    let mut cmd = s.rb.command();
    cmd.env("RUN_DOWN_URL", s.fake.url()).args(["-k", "id.json", "run", "t.rhai"]);
    let child = cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let part = s.rb.path("out/.big.part");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(s.fake.holding() && std::fs::metadata(&part).is_ok_and(|m| m.len() > 0)) {
        assert!(Instant::now() < deadline, "the download never got halfway");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Halfway: the bytes so far are in the partial file, nothing under the final name.
    assert!(!s.rb.path("out/big").exists());
    s.fake.release();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read(s.rb.path("out/big")).unwrap() == content(2, 1_000_000));
    assert!(!part.exists());
}

#[test]
fn at_a_terminal_bars_show_the_file_in_flight_and_the_whole_transfer() {
    let s = with_results();
    s.fake.faults(|f| f.hold = Some("run-9/big".into()));
    std::fs::write(s.rb.path("t.rhai"), DOWNLOAD).unwrap();
    let mut cmd = s.rb.command();
    cmd.env("RUN_DOWN_URL", s.fake.url()).args(["-k", "id.json", "run", "t.rhai"]);
    let mut pty = rexpect::session::spawn_command(cmd, Some(60_000)).unwrap();
    // While the storage holds `big` halfway, its bar and the whole transfer's stay drawn.
    pty.exp_string("downloaded a (100 bytes)").unwrap();
    pty.exp_string("big [").unwrap();
    pty.exp_string("download 3 file(s) [").unwrap();
    assert!(!s.rb.path("out/big").exists(), "held halfway, yet under its final name");
    s.fake.release();
    let rest = pty.exp_eof().unwrap();
    assert!(rest.contains("downloaded 3 file(s), 1005100 bytes, into out"), "{rest}");
    assert!(std::fs::read(s.rb.path("out/big")).unwrap() == content(2, 1_000_000));
}

#[test]
fn a_storage_that_ignores_range_gets_the_partial_file_rewritten_from_the_start() {
    let s = with_results();
    // A partial file of other bytes: resuming onto it would corrupt the result.
    write(&s.rb.path("out/.big.part"), &content(7, 1_000));
    s.fake.faults(|f| f.ignore_range = true);
    let doc = s.run(DOWNLOAD, &[]).success().json();
    assert_eq!(doc["outputs"]["r"]["bytes"], 1_005_100);
    assert!(gets(&s).contains(&("run-9/big".to_string(), Some("bytes=1000-".to_string()))));
    assert!(std::fs::read(s.rb.path("out/big")).unwrap() == content(2, 1_000_000));
    assert!(!s.rb.path("out/.big.part").exists());
}

#[test]
fn a_partial_file_that_is_not_a_prefix_of_the_object_is_caught_by_the_checksum() {
    let s = with_results();
    // Resumable storage, but the partial file holds other bytes: the MD5 refuses the resumed
    // result, and the file is fetched again whole.
    write(&s.rb.path("out/.big.part"), &content(7, 1_000));
    s.run(DOWNLOAD, &[]).success();
    let big: Vec<_> = gets(&s).into_iter().filter(|(object, _)| object == "run-9/big").map(|(_, r)| r).collect();
    assert_eq!(big, [Some("bytes=1000-".to_string()), None]);
    assert!(std::fs::read(s.rb.path("out/big")).unwrap() == content(2, 1_000_000));
    assert!(!s.rb.path("out/.big.part").exists());
}

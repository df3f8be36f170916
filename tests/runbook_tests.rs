//! `psyche-runbook test` as an operator runs it: passing, failing and `expect_error` tests,
//! where a failure points, the JUnit and JSON reports, `--filter`, a syntax error, the fresh
//! chain each test gets, the refusal of a cluster; the example runbooks' own tests; and the
//! editor definitions of `docs --definitions`.

mod common;

use common::Runbook;
use std::collections::BTreeSet;
use std::path::Path;

const MIXED: &str = r#"// A file of passing and failing tests.
const RUN = "t";

fn make_run() {
    create_run(#{ run_id: global::RUN, join_authority: payer().pubkey, client_version: "latest" }).run
}

fn test_creates_a_run() {
    let r = make_run();
    assert_eq(r.state(), "Uninitialized");
    assert_eq(r.join_authority, payer().pubkey);
}

fn test_expects_an_on_chain_refusal() {
    let r = make_run();
    let message = expect_error(|| r.resume(), "config");
    assert(message.len() > 0);
}

fn test_compares_the_wrong_state() {
    let r = make_run();
    assert_eq(r.state(), "Paused");
}

fn test_sees_no_other_tests_run() {
    assert(!run_exists(global::RUN), "a fresh chain");
}
"#;

fn bin_test(rb: &Runbook, args: &[&str]) -> common::Run {
    let mut all = vec!["test".to_string()];
    all.extend(args.iter().map(|a| a.to_string()));
    rb.run_args(all)
}

#[test]
fn passing_failing_and_expect_error_tests_are_reported_with_the_failing_place() {
    let rb = Runbook::new().file("checks/mixed.test.rhai", MIXED);
    let run = bin_test(&rb, &["checks", "--junit", "report.xml", "--jobs", "1"]).code(1);
    let lines: BTreeSet<&str> =
        run.stdout.lines().filter(|l| l.starts_with("ok ") || l.starts_with("FAILED")).collect();
    let status = |name: &str| {
        lines
            .iter()
            .find(|l| l.contains(&format!("checks/mixed.test.rhai::{name} ")))
            .map(|l| l.split_whitespace().next().unwrap().to_string())
    };
    assert_eq!(status("test_creates_a_run").as_deref(), Some("ok"), "{}", run.stdout);
    assert_eq!(status("test_expects_an_on_chain_refusal").as_deref(), Some("ok"), "{}", run.stdout);
    assert_eq!(status("test_sees_no_other_tests_run").as_deref(), Some("ok"), "{}", run.stdout);
    assert_eq!(status("test_compares_the_wrong_state").as_deref(), Some("FAILED"), "{}", run.stdout);
    // The failing assertion's place, its source line with a caret, and both values.
    assert!(run.stdout.contains("checks/mixed.test.rhai:22:5: error: assert_eq failed"), "{}", run.stdout);
    assert!(run.stdout.contains("  actual:   \"Uninitialized\"\n  expected: \"Paused\""), "{}", run.stdout);
    assert!(run.stdout.contains("22 |     assert_eq(r.state(), \"Paused\");\n   |     ^"), "{}", run.stdout);
    assert!(run.stdout.trim_end().ends_with("3 passed, 1 failed"), "{}", run.stdout);

    let xml = std::fs::read_to_string(rb.path("report.xml")).unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"), "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 4, "{xml}");
    assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
    assert!(xml.contains("<testsuite name=\"psyche-runbook test\" tests=\"4\" failures=\"1\""), "{xml}");
    assert!(xml.contains("expected: &quot;Paused&quot;"), "{xml}");
    assert_well_formed(&xml);
}

/// Every tag opened is closed in order, and no character data holds a raw `<` or `&`.
fn assert_well_formed(xml: &str) {
    let body = xml.split_once("?>").unwrap().1;
    let mut open: Vec<String> = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find('<') {
        let text = &rest[..start];
        assert!(!text.contains('>'), "a raw > in character data: {text}");
        for (i, _) in text.match_indices('&') {
            let entity = &text[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].iter().any(|e| entity.starts_with(e)),
                "a raw & in character data: {text}"
            );
        }
        let end = rest[start..].find('>').expect("a tag ends") + start;
        let tag = &rest[start + 1..end];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop().as_deref(), Some(name), "</{name}> closes another element");
        } else if !tag.ends_with('/') {
            open.push(tag.split_whitespace().next().unwrap().to_string());
        }
        rest = &rest[end + 1..];
    }
    assert!(open.is_empty(), "elements left open: {open:?}");
}

#[test]
fn filter_keeps_matching_tests_and_counts_the_rest() {
    let rb = Runbook::new().file("mixed.test.rhai", MIXED);
    let run = bin_test(&rb, &["--filter", "creates"]).success();
    assert!(run.stdout.contains("ok     mixed.test.rhai::test_creates_a_run"), "{}", run.stdout);
    assert!(run.stdout.trim_end().ends_with("1 passed, 0 failed, 3 filtered out"), "{}", run.stdout);
}

#[test]
fn the_json_report_lists_every_test() {
    let rb = Runbook::new().file("mixed.test.rhai", MIXED);
    let doc = bin_test(&rb, &["--output", "json"]).code(1).json();
    assert_eq!(doc["passed"], 3);
    assert_eq!(doc["failed"], 1);
    let tests = doc["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 4);
    let failed: Vec<&serde_json::Value> = tests.iter().filter(|t| t["ok"] == false).collect();
    assert_eq!(failed[0]["name"], "test_compares_the_wrong_state");
    assert!(failed[0]["failure"].as_str().unwrap().contains("mixed.test.rhai:22:5"), "{doc}");
}

#[test]
fn a_syntax_error_runs_no_test_and_exits_2() {
    let rb =
        Runbook::new().file("good.test.rhai", MIXED).file("bad.test.rhai", "fn test_broken() {\n    let x = ;\n}\n");
    let run = bin_test(&rb, &[]).code(2);
    assert!(run.stderr.contains("bad.test.rhai:2:"), "{}", run.stderr);
    assert!(!run.stdout.contains("ok "), "no test ran: {}", run.stdout);
}

#[test]
fn a_cluster_is_refused_and_no_test_runs() {
    let rb = Runbook::new().file("mixed.test.rhai", MIXED);
    let run = bin_test(&rb, &["-u", "http://127.0.0.1:1"]).code(2);
    assert!(run.stderr.contains("-u/--url is refused"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    // $RPC does not lead a test to a cluster either: the tests run on their own chains.
    let run = rb.command().args(["test", "--filter", "creates"]).env("RPC", "http://127.0.0.1:1").output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
}

#[test]
fn tests_run_runbooks_and_drive_their_handlers() {
    let runbooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks");
    let rb = Runbook::new().file("data/weights.bin", "not a key").file(
        "drive.test.rhai",
        &format!(
            r#"const QUICKSTART = "{quickstart}";
const FOLLOW = "{follow}";

fn test_a_runbook_twice_then_its_handlers() {{
    let first = run_runbook(global::QUICKSTART, #{{ run_id: "d" }});
    assert(first.ok, first.error);
    assert(first.signatures.len() > 0);
    assert_eq(run_runbook(global::QUICKSTART, #{{ run_id: "d" }}).signatures, []);
    let f = follow(global::FOLLOW, #{{ run_id: "d" }});
    assert_eq(f.step(), []);
    run("d").pause();
    let called = f.step();
    assert_eq(called.len(), 1);
    assert(f.report().notifications[0].message.contains("Paused"));
}}

fn test_run_data_never_leaves_a_test() {{
    create_run(#{{ run_id: "data", join_authority: payer().pubkey, client_version: "latest" }});
    expect_error(|| upload_data("data", "data"), "no run-down service here");
}}

fn test_a_failing_runbook_gives_its_error() {{
    let done = run_runbook(global::QUICKSTART, #{{ run_id: "" }});
    assert(!done.ok);
    assert_eq(done.signatures, []);
    expect_error(|| follow(global::QUICKSTART, #{{}}), "registers no handlers");
}}
"#,
            quickstart = runbooks.join("quickstart.rhai").display(),
            follow = runbooks.join("follow-alerts.rhai").display()
        ),
    );
    let run = bin_test(&rb, &[]).success();
    assert!(run.stdout.trim_end().ends_with("3 passed, 0 failed"), "{}", run.stdout);
}

/// The example runbooks' tests, as the README tells operators to run them.
#[test]
fn the_example_runbooks_tests_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_psyche-runbook"))
        .current_dir(root)
        .args(["test", "runbooks", "--output", "json"])
        .env_remove("RPC")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let files: BTreeSet<String> =
        doc["tests"].as_array().unwrap().iter().map(|t| t["file"].as_str().unwrap().to_string()).collect();
    // At least one test for each example runbook.
    let tested: String = files.iter().map(|f| std::fs::read_to_string(root.join(f)).unwrap()).collect();
    for entry in std::fs::read_dir(root.join("runbooks")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".rhai") {
            assert!(tested.contains(&format!("\"../{name}\"")), "no test runs {name}");
        }
    }
    assert!(doc["passed"].as_u64().unwrap() >= 9, "{doc}");
}

#[test]
fn the_definitions_name_every_documented_function() {
    let rb = Runbook::new();
    let docs = rb.run_args(["docs", "--output", "json"]).success().json();
    rb.run_args(["docs", "--definitions", "defs"]).success();
    let mut written = String::new();
    for entry in std::fs::read_dir(rb.path("defs")).unwrap() {
        let path = entry.unwrap().path();
        assert!(path.to_string_lossy().ends_with(".d.rhai"), "{}", path.display());
        written += &std::fs::read_to_string(path).unwrap();
    }
    let names: BTreeSet<&str> =
        docs["functions"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert!(names.len() > 100, "{}", names.len());
    // Getters are written `fn get NAME(`, operators `op NAME(`.
    let declared = |name: &str| match name.strip_prefix("get$") {
        Some(property) => written.contains(&format!("fn get {property}(")),
        None => written.contains(&format!("fn {name}(")) || written.contains(&format!("op {name}(")),
    };
    let missing: Vec<&&str> = names.iter().filter(|name| !declared(name)).collect();
    assert!(missing.is_empty(), "not in the definitions: {missing:?}");
    // The standard library's modules, for `import "psyche/checks" as checks;`.
    assert!(written.contains("fn require("), "psyche/checks is defined");
}

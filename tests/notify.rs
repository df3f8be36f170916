//! `notify` against webhook receivers on 127.0.0.1, one per format (generic JSON, Slack,
//! Discord), including one that is down, one that is slow and one that fails once: the
//! runbook always succeeds and every outcome is reported.

mod common;

use common::Runbook;
use common::webhook::{Receiver, closed_port};
use std::time::Duration;

const ALERTS: &str = r#"
let plain = notify("plain message");
let rich = notify(#{ level: "critical", message: "treasury low", fields: #{ run_id: "r1", epochs: 0.5 } });
output("plain", plain);
output("rich", rich);
"#;

/// A timeout no answer from a receiver on this machine comes near, loaded or not: for tests
/// that test no timing.
const GENEROUS: f64 = 60.0;

/// A `[notify]` section with `targets` (name, URL), `timeout_seconds` and one retry.
fn project(targets: &[(&str, &str)], timeout_seconds: f64) -> String {
    let mut text = String::from("[notify]\n");
    for (name, url) in targets {
        text += &format!("{name} = \"{url}\"\n");
    }
    text += &format!("timeout_seconds = {timeout_seconds:?}\nretries = 1\n");
    text
}

/// The delivery to `target` in a run's first notification.
fn delivery<'a>(doc: &'a serde_json::Value, target: &str) -> &'a serde_json::Value {
    let deliveries = doc["notifications"][0]["deliveries"].as_array().unwrap();
    deliveries.iter().find(|d| d["target"] == target).unwrap_or_else(|| panic!("no {target} delivery: {doc}"))
}

fn assert_no_secret(run: &common::Run) {
    assert!(
        !run.stderr.contains("secret") && !run.stdout.contains("secret"),
        "a webhook URL leaked:\n{}\n{}",
        run.stderr,
        run.stdout
    );
}

#[test]
fn each_format_receives_its_payload() {
    let (webhook, slack, discord) = (
        Receiver::start(Duration::ZERO, &[200]),
        Receiver::start(Duration::ZERO, &[200]),
        Receiver::start(Duration::ZERO, &[204]),
    );
    let rb = Runbook::new().file("alerts.rhai", ALERTS).file(
        "psyche-runbook.toml",
        &project(
            &[
                ("webhook", &webhook.url("/hook")),
                ("slack", &slack.url("/services/T0/B0/secret")),
                ("discord", &discord.url("/api/webhooks/1/secret")),
            ],
            GENEROUS,
        ),
    );
    let doc = rb.run_args(["run", "alerts.rhai", "--output", "json"]).success().json();
    assert_eq!(doc["outputs"]["plain"], serde_json::json!({"delivered": 3, "failed": 0}));
    assert_eq!(doc["outputs"]["rich"], serde_json::json!({"delivered": 3, "failed": 0}));

    let hooks = webhook.received();
    assert_eq!(hooks.len(), 2);
    assert_eq!(hooks[0].path, "/hook");
    assert_eq!(hooks[0].body["level"], "warning");
    assert_eq!(hooks[0].body["message"], "plain message");
    assert_eq!(hooks[1].body["level"], "critical");
    assert_eq!(hooks[1].body["fields"], serde_json::json!({"run_id": "r1", "epochs": 0.5}));
    assert_eq!(hooks[1].body["cluster"], "embedded");
    assert!(hooks[1].body["runbook"].as_str().unwrap().ends_with("alerts.rhai"));
    assert!(hooks[1].body["timestamp"].as_u64().unwrap() > 1_700_000_000);

    let slacks = slack.received();
    assert_eq!(slacks.len(), 2);
    assert_eq!(slacks[0].path, "/services/T0/B0/secret");
    let text = slacks[1].body["text"].as_str().unwrap();
    assert!(text.starts_with("[CRITICAL] treasury low\n"), "{text}");
    assert!(text.contains("\nepochs: 0.5\nrun_id: r1"), "{text}");

    let discords = discord.received();
    assert_eq!(discords.len(), 2);
    assert!(discords[0].body["content"].as_str().unwrap().starts_with("[WARNING] plain message"));
    assert_eq!(discords[0].body["username"], "psyche-runbook");

    // Reported under --output json, one entry per notification with one delivery per target.
    let notifications = doc["notifications"].as_array().unwrap();
    assert_eq!(notifications.len(), 2);
    assert_eq!(notifications[1]["level"], "critical");
    let targets: Vec<&str> =
        notifications[1]["deliveries"].as_array().unwrap().iter().map(|d| d["target"].as_str().unwrap()).collect();
    assert_eq!(targets, ["webhook", "slack", "discord"]);
    for d in notifications[1]["deliveries"].as_array().unwrap() {
        assert_eq!(
            (d["ok"].clone(), d["attempts"].clone(), d["host"].clone()),
            (true.into(), 1.into(), "127.0.0.1".into())
        );
    }
}

#[test]
fn a_down_or_slow_webhook_never_fails_the_runbook() {
    const ALERT: &str = "output(\"outcome\", notify(\"runway low\"));\n";
    // The slow one answers nothing until released, so its 0.5 s timeout is certain.
    let slow = Receiver::holding(&[200]);
    let rb = Runbook::new()
        .file("alert.rhai", ALERT)
        .file("psyche-runbook.toml", &project(&[("slack", &slow.url("/services/T0/B0/secret"))], 0.5));
    let run = rb.run_args(["run", "alert.rhai", "--output", "json"]).success();
    // Two attempts of 0.5 s at the slow one: the runbook finished without waiting for its
    // answer, however busy the machine was.
    assert_eq!(slow.answered(), 0, "the runbook waited for the slow webhook's answer");
    slow.release();
    let doc = run.json();
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["outputs"]["outcome"], serde_json::json!({"delivered": 0, "failed": 1}));
    let slack = delivery(&doc, "slack");
    assert_eq!((slack["ok"].as_bool(), slack["attempts"].as_u64()), (Some(false), Some(2)));
    assert_eq!(slack["error"], "timed out after 0.5 s");
    assert!(run.stderr.contains("notify: slack (127.0.0.1) failed after 2 attempt(s): timed out"), "{}", run.stderr);
    assert_no_secret(&run);

    // One that is down and one that fails once: what they do depends on no timing.
    let flaky = Receiver::start(Duration::ZERO, &[503, 200]);
    let down = format!("http://127.0.0.1:{}/hook", closed_port());
    let rb = Runbook::new().file("alert.rhai", ALERT).file(
        "psyche-runbook.toml",
        &project(&[("webhook", &down), ("discord", &flaky.url("/api/webhooks/1/secret"))], GENEROUS),
    );
    let run = rb.run_args(["run", "alert.rhai", "--output", "json"]).success();
    let doc = run.json();
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["outputs"]["outcome"], serde_json::json!({"delivered": 1, "failed": 1}));
    let (webhook, discord) = (delivery(&doc, "webhook"), delivery(&doc, "discord"));
    assert_eq!((webhook["ok"].as_bool(), webhook["attempts"].as_u64()), (Some(false), Some(2)));
    assert!(webhook["error"].as_str().unwrap().contains("onnect"), "{webhook}");
    // The flaky one failed once (503) and took the retry.
    assert_eq!(
        (discord["ok"].as_bool(), discord["attempts"].as_u64(), discord["status"].as_u64()),
        (Some(true), Some(2), Some(200))
    );
    assert_eq!(flaky.received().len(), 2);
    // Failures are logged, without the secret part of the URLs.
    assert!(run.stderr.contains("notify: webhook (127.0.0.1) failed after 2 attempt(s)"), "{}", run.stderr);
    assert_no_secret(&run);
}

#[test]
fn dry_runs_do_not_post_and_bad_urls_are_refused_up_front() {
    let receiver = Receiver::start(Duration::ZERO, &[200]);
    let rb = Runbook::new()
        .file("alert.rhai", "notify(#{ level: \"info\", message: \"hello\" });\n")
        .file("psyche-runbook.toml", &format!("[notify]\nwebhook = \"{}\"\n", receiver.url("/hook")));
    let doc = rb.run_args(["run", "alert.rhai", "--dry-run", "--output", "json"]).success().json();
    assert_eq!(doc["notifications"][0]["dry_run"], true);
    assert_eq!(doc["notifications"][0]["deliveries"], serde_json::json!([]));
    assert!(receiver.received().is_empty());

    let bad = Runbook::new()
        .file("alert.rhai", "notify(\"x\");\n")
        .file("psyche-runbook.toml", "[notify]\nslack = \"hooks.slack.com/services/x\"\n")
        .run_args(["run", "alert.rhai"])
        .code(2);
    assert!(
        bad.stderr.contains("[notify] slack: \"hooks.slack.com/services/x\" is not an http(s) URL"),
        "{}",
        bad.stderr
    );
    let level = Runbook::new()
        .file("alert.rhai", "notify(#{ level: \"loud\", message: \"x\" });\n")
        .run_args(["run", "alert.rhai"])
        .code(2);
    assert!(level.stderr.contains("notification level \"loud\" is not info, warning or critical"), "{}", level.stderr);
}

//! What `test` reports: a line per test as it ends, the failures' details and a closing count
//! (text); one JSON document (`--output json`); a JUnit XML file (`--junit`) for CI systems.

use crate::testing::runner::Outcome;
use serde_json::{Value, json};

/// `ok     FILE::NAME (0.12 s)`.
pub fn line(outcome: &Outcome) -> String {
    let status = if outcome.failure.is_some() { "FAILED" } else { "ok" };
    format!("{status:<6} {} ({:.2} s)", outcome.case.id(), outcome.seconds)
}

/// `N passed, M failed` (with `, K filtered out`).
pub fn summary(outcomes: &[Outcome], filtered_out: usize) -> String {
    let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
    let mut text = format!("{} passed, {failed} failed", outcomes.len() - failed);
    if filtered_out > 0 {
        text += &format!(", {filtered_out} filtered out");
    }
    text
}

/// Each failure's details, under its test's name.
pub fn failures(outcomes: &[Outcome]) -> String {
    outcomes
        .iter()
        .filter_map(|o| o.failure.as_ref().map(|f| format!("---- {} ----\n{f}\n", o.case.id())))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn document(outcomes: &[Outcome], filtered_out: usize) -> Value {
    let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
    let tests: Vec<Value> = outcomes
        .iter()
        .map(|o| {
            json!({
                "file": o.case.file.display().to_string(),
                "name": o.case.name,
                "ok": o.failure.is_none(),
                "seconds": o.seconds,
                "failure": o.failure,
            })
        })
        .collect();
    json!({
        "passed": outcomes.len() - failed,
        "failed": failed,
        "filtered_out": filtered_out,
        "tests": tests,
    })
}

/// One `testsuite` of every test, a `testcase` each (`classname` its file), the failure's
/// text inside `failure`.
pub fn junit(outcomes: &[Outcome]) -> String {
    let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
    let seconds: f64 = outcomes.iter().map(|o| o.seconds).sum();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml += &format!(
        "<testsuites tests=\"{}\" failures=\"{failed}\" time=\"{seconds:.3}\">\n  <testsuite name=\"psyche-runbook test\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" time=\"{seconds:.3}\">\n",
        outcomes.len(),
        outcomes.len()
    );
    for o in outcomes {
        let open = format!(
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
            escape(&o.case.file.display().to_string()),
            escape(&o.case.name),
            o.seconds
        );
        match &o.failure {
            None => xml += &format!("{open}/>\n"),
            Some(text) => {
                let first = text.lines().next().unwrap_or_default();
                xml += &format!(
                    "{open}>\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                    escape(first),
                    escape(text)
                );
            }
        }
    }
    xml + "  </testsuite>\n</testsuites>\n"
}

/// Text as XML character data or an attribute value; characters XML 1.0 cannot hold are left
/// out.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

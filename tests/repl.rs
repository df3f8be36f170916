//! The interactive REPL, driven through a pseudo-terminal as an operator would use it.

mod common;

use common::Runbook;
use rexpect::session::{PtySession, spawn_command};

const TIMEOUT_MS: u64 = 20_000;

/// An empty prompt as the line editor draws it (a continuation line redraws the prompt followed
/// by the input so far, so this only matches a fresh prompt). Input typed before the prompt is
/// drawn would be discarded when the editor enters raw mode, so tests wait for it.
const FRESH_PROMPT: &str = "rb> \r";

fn start(rb: &Runbook) -> PtySession {
    let mut cmd = rb.command();
    cmd.args(["repl", "--max-operations", "0"]).env("TERM", "xterm");
    let mut session = spawn_command(cmd, Some(TIMEOUT_MS)).expect("spawn the REPL");
    session.exp_string(FRESH_PROMPT).expect("first prompt");
    session
}

fn eval(session: &mut PtySession, input: &str, expected: &str) {
    session.send_line(input).unwrap();
    session.exp_string(expected).unwrap_or_else(|e| panic!("after {input:?} expected {expected:?}: {e}"));
    session.exp_string(FRESH_PROMPT).unwrap();
}

#[test]
fn multi_line_input_continues_until_brackets_close() {
    let rb = Runbook::new();
    let mut repl = start(&rb);
    // Lines with an open bracket continue the same input; the closing line runs it.
    for (line, complete) in
        [("fn add2(a) {", false), ("  a + 2", false), ("}", true), ("let values = [", false), ("40];", true)]
    {
        repl.send_line(line).unwrap();
        repl.exp_string(if complete { FRESH_PROMPT } else { line }).unwrap();
    }
    eval(&mut repl, "add2(values[0])", "=> 42");
    repl.send_control('d').unwrap();
    repl.exp_eof().unwrap();
}

#[test]
fn ctrl_c_cancels_a_long_loop_without_leaving_the_repl() {
    let rb = Runbook::new();
    let mut repl = start(&rb);
    eval(&mut repl, "let kept = 5;", "");
    // The marker is built at run time, so the echoed input cannot match it.
    repl.send_line("let i = 0; print(\"spin\" + \"ning\"); loop { i += 1; }").unwrap();
    // The editor leaves raw mode (bracketed paste off) once the line is submitted; the marker
    // shows the statement is running, so ^C is a SIGINT, not input for the next prompt.
    repl.exp_string("\x1b[?2004l").unwrap();
    repl.exp_string("spinning").unwrap();
    repl.send_control('c').unwrap();
    repl.exp_string("error: interrupted").unwrap();
    repl.exp_string(FRESH_PROMPT).unwrap();
    eval(&mut repl, "kept + 1", "=> 6");
    repl.send_control('d').unwrap();
    repl.exp_eof().unwrap();
}

#[test]
fn history_persists_across_sessions() {
    let rb = Runbook::new();
    let mut first = start(&rb);
    eval(&mut first, "40 + 2", "=> 42");
    first.send_control('d').unwrap();
    first.exp_eof().unwrap();

    let history = rb.path(".local/state/psyche-runbook/history");
    let text = std::fs::read_to_string(&history).expect("history file");
    assert!(text.contains("40 + 2"), "{text}");

    let mut second = start(&rb);
    // Up-arrow recalls the previous session's line.
    second.send("\x1b[A").unwrap();
    second.flush().unwrap();
    second.exp_string("40 + 2").unwrap();
    second.send("\r").unwrap();
    second.flush().unwrap();
    second.exp_string("=> 42").unwrap();
    second.exp_string(FRESH_PROMPT).unwrap();
    second.send_control('d').unwrap();
    second.exp_eof().unwrap();
}

#[test]
fn save_writes_a_runbook_that_replays_the_session() {
    let rb = Runbook::new();
    let mut repl = start(&rb);
    eval(&mut repl, "let base = 40;", "");
    eval(&mut repl, "fn bump(x) { x + 2 }", "");
    eval(&mut repl, "import \"psyche/checks\" as checks;", "");
    eval(&mut repl, "checks::require(bump(base) == 42, \"math\");", "");
    eval(&mut repl, "output(\"answer\", bump(base));", "");
    eval(&mut repl, "no_such_variable", "undefined variable");
    eval(&mut repl, ":save session.rhai", "saved 5 statement(s) to session.rhai");
    repl.send_line(":quit").unwrap();
    repl.exp_eof().unwrap();

    let run = rb.run_args(["run", "session.rhai", "--output", "json"]).success();
    assert_eq!(run.json()["outputs"]["answer"], 42);
}

#[test]
fn tab_completes_host_functions_and_variables() {
    let rb = Runbook::new();
    let mut repl = start(&rb);
    eval(&mut repl, "let treasury_target = 7;", "");
    repl.send("treasury_t\t").unwrap();
    repl.flush().unwrap();
    // The completion is drawn before the line is submitted.
    repl.exp_string("treasury_target").unwrap();
    repl.send("\r").unwrap();
    repl.flush().unwrap();
    repl.exp_string("=> 7").unwrap();
    repl.exp_string(FRESH_PROMPT).unwrap();
    repl.send("coordinator_instance_addr\t").unwrap();
    repl.flush().unwrap();
    repl.exp_string("coordinator_instance_address").unwrap();
    repl.send("(\"test\").to_string()\r").unwrap();
    repl.flush().unwrap();
    repl.exp_string("9L4yCH7TsMn9JfoXYEupuQwtcNPTTtHcyNL6uqDfjwGB").unwrap();
    repl.exp_string(FRESH_PROMPT).unwrap();
    repl.send_control('d').unwrap();
    repl.exp_eof().unwrap();
}

#[test]
fn prompt_signer_reads_a_seed_phrase_at_the_terminal() {
    let phrase = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    // What `solana address -k prompt://` gives for this phrase (BIP44 m/44'/501').
    let expected = "D2PPQSYFe83nDzk96FqGumVU8JA7J8vj2Rhjc2oXzEi5";
    let rb = Runbook::new().file("who.rhai", "print(`payer ${payer().pubkey}`);\n");
    let mut cmd = rb.command();
    cmd.args(["run", "who.rhai", "-k", "prompt://"]);
    let mut session = spawn_command(cmd, Some(TIMEOUT_MS)).unwrap();
    session.exp_string("Seed phrase: ").unwrap();
    session.send_line(phrase).unwrap();
    session.exp_string("Passphrase (empty for none): ").unwrap();
    session.send_line("").unwrap();
    session.exp_string(&format!("payer {expected}")).unwrap();
    let rest = session.exp_eof().unwrap();
    // The phrase was typed without echo: it appears nowhere in the output.
    assert!(!rest.contains("abandon about"), "{rest}");
}

#[test]
fn values_show_as_operators_read_them_and_strings_name_pubkeys() {
    let rb = Runbook::new();
    let mut repl = start(&rb);
    eval(&mut repl, "let r = create_run(#{ run_id: \"shown\" }).run;", "");
    eval(&mut repl, "r", "=> Run(\"shown\", Uninitialized, epoch 0)");
    eval(&mut repl, "payer()", "from localnet payer ");
    // A pubkey is bare base58, not a quoted string.
    repl.send_line("payer().pubkey").unwrap();
    repl.exp_regex(r"=> [1-9A-HJ-NP-Za-km-z]{32,44}\r\n").unwrap();
    repl.exp_string(FRESH_PROMPT).unwrap();
    // Pubkey parameters take base58 strings and signers.
    eval(&mut repl, "let user = \"11111111111111111111111111111112\";", "");
    eval(&mut repl, "grant(payer(), user).changed", "=> true");
    eval(&mut repl, "r.can_join(user)", "=> true");
    eval(&mut repl, "authorization(payer(), user).active", "=> true");
    eval(&mut repl, "grant(payer(), \"not-a-key\")", "error: invalid pubkey \"not-a-key\"");
    // A report is a summary; a long map breaks into indented lines.
    eval(&mut repl, "r.info()", "  epoch 0, step 0 of 0");
    repl.send_line("r.user_info(user)").unwrap();
    repl.exp_string("=> #{\r\n  address: \"11111111111111111111111111111112\",\r\n  coordinator_account: #{").unwrap();
    repl.exp_string(FRESH_PROMPT).unwrap();
    eval(&mut repl, "r.pasue()", "did you mean `pause`?");
    repl.send_control('d').unwrap();
    repl.exp_eof().unwrap();
}

#[test]
fn tab_after_a_dot_offers_the_values_own_methods_and_properties() {
    let rb = Runbook::new();
    let mut repl = start(&rb);
    eval(&mut repl, "let r = create_run(#{ run_id: \"tab\" }).run;", "");
    // `sta` on a Run is `state` (not the range getter `start`).
    repl.send("r.sta\t").unwrap();
    repl.flush().unwrap();
    repl.exp_string("r.state").unwrap();
    repl.send("()\r").unwrap();
    repl.flush().unwrap();
    repl.exp_string("=> \"Uninitialized\"").unwrap();
    repl.exp_string(FRESH_PROMPT).unwrap();
    // Properties too.
    repl.send("r.run_\t").unwrap();
    repl.flush().unwrap();
    repl.exp_string("r.run_id").unwrap();
    repl.send("\r").unwrap();
    repl.flush().unwrap();
    repl.exp_string("=> \"tab\"").unwrap();
    repl.exp_string(FRESH_PROMPT).unwrap();
    // A map's keys.
    eval(&mut repl, "let outcome = #{ signatures_sent: 3 };", "");
    repl.send("outcome.signatures_s\t").unwrap();
    repl.flush().unwrap();
    repl.exp_string("outcome.signatures_sent").unwrap();
    repl.send("\r").unwrap();
    repl.flush().unwrap();
    repl.exp_string("=> 3").unwrap();
    repl.exp_string(FRESH_PROMPT).unwrap();
    repl.send_control('d').unwrap();
    repl.exp_eof().unwrap();
}

//! Hostile runbooks: scripts that try every way we know to get a loaded secret key, or a file
//! they were not given, out of the engine — the payer's keypair as a users list, as a config,
//! as a module, through a symlink, files outside the runbook's folder, `..`, the secret passed
//! with `--set`, errors caught with `try`/`catch` — and then `print`, `output` and `notify` (to
//! a webhook receiver on 127.0.0.1) whatever they got. Through the real binary, every attempt
//! must be refused with an error that says what and where, and nothing any output carries —
//! stdout, stderr, the JSON document, the execution log, the journal, the webhook's payloads —
//! may hold a byte sequence of a loaded secret, in any of its forms, or any content of a
//! refused file.

mod common;

use common::Runbook;
use common::webhook::Receiver;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A marker only a refused file holds.
const OUTSIDE: &str = "OUTSIDE-FILE-CONTENT-5c1f9e";

/// The pieces of a secret no output may contain, by a definition of our own (stricter than the
/// redactor's windows, so a test cannot pass by sharing its blind spots): any 6 consecutive
/// secret bytes as numbers (comma-joined with and without spaces, space-joined, one per line)
/// or raw, and any 12 characters of its base58, base64 or hex forms (of the keypair and of its
/// secret half).
fn fragments(keypair: &[u8]) -> Vec<Vec<u8>> {
    use base64::Engine as _;
    const BYTES: usize = 6;
    const CHARS: usize = 12;
    let seed = &keypair[..32];
    let mut pieces = Vec::new();
    for window in seed.windows(BYTES) {
        let numbers: Vec<String> = window.iter().map(u8::to_string).collect();
        for separator in [",", ", ", " ", "\n"] {
            pieces.push(numbers.join(separator).into_bytes());
        }
        pieces.push(window.to_vec());
    }
    let mut forms = Vec::new();
    for bytes in [keypair, seed] {
        forms.push(bs58::encode(bytes).into_string());
    }
    let hex: String = seed.iter().map(|b| format!("{b:02x}")).collect();
    forms.push(hex.to_uppercase());
    forms.push(hex);
    // Base64 keeps bytes in groups of three: the secret half at each of the three alignments
    // it can have inside a longer text, without the characters its neighbours share.
    for offset in 0..3 {
        let mut bytes = vec![0u8; offset];
        bytes.extend_from_slice(seed);
        let text = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let (skip, keep) = ((offset * 4).div_ceil(3), seed.len() * 4 / 3);
        forms.push(text[skip..skip + keep - 1].to_string());
    }
    for form in forms {
        pieces.extend(form.as_bytes().windows(CHARS).map(<[u8]>::to_vec));
    }
    pieces
}

/// One hostile workspace: a runbook folder inside the working directory, the localnet payer,
/// a second key file, a third key in an environment variable, a file outside every root, and a
/// webhook receiver.
struct Workspace {
    rb: Runbook,
    secrets: Vec<Vec<u8>>,
    outside: tempfile::TempDir,
    webhook: Receiver,
    passwd_line: Option<String>,
}

impl Workspace {
    fn new() -> Self {
        let webhook = Receiver::start(Duration::ZERO, &[200]);
        let extra = Keypair::new();
        let join = Keypair::new();
        let rb = Runbook::new()
            .file("psyche-runbook.toml", &format!("[notify]\nwebhook = \"{}\"\n", webhook.url("/hook")))
            .file("rb/setup.rhai", "create_run(#{ run_id: \"r1\" });\nprint(payer().pubkey);\n")
            .file("rb/keys/join.json", &serde_json::to_string(&join.to_bytes().to_vec()).unwrap())
            .env("EXTRA_KEY", &extra.to_base58_string());
        rb.run_args(["run", "rb/setup.rhai"]).success();
        let payer = std::fs::read_to_string(rb.path(".psyche-runbook/localnet/payer.json")).unwrap();
        let payer: Vec<u8> = serde_json::from_str(&payer).unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), format!("{OUTSIDE}\n")).unwrap();
        std::fs::write(outside.path().join("evil.rhai"), format!("print(\"{OUTSIDE}\");\n")).unwrap();
        let passwd_line = std::fs::read_to_string("/etc/passwd").ok().and_then(|t| t.lines().next().map(String::from));
        Self {
            rb,
            secrets: vec![payer, join.to_bytes().to_vec(), extra.to_bytes().to_vec()],
            outside,
            webhook,
            passwd_line,
        }
    }

    fn payer(&self) -> &[u8] {
        &self.secrets[0]
    }

    fn outside_file(&self) -> PathBuf {
        self.outside.path().join("secret.txt")
    }

    /// Every file under `dir` (logs, journal), with its content.
    fn files_under(&self, dir: &str) -> Vec<(PathBuf, Vec<u8>)> {
        let Ok(entries) = std::fs::read_dir(self.rb.path(dir)) else { return Vec::new() };
        entries.map(|e| e.unwrap().path()).map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect()
    }

    /// Runs `script` (as `rb/attack.rhai`, with `--output json` unless `text`), then checks
    /// every output for secrets and refused content; returns the run.
    fn attack(&self, script: &str, extra: &[&str], text: bool) -> common::Run {
        std::fs::write(self.rb.path("rb/attack.rhai"), script).unwrap();
        let mut args = vec!["-v", "run", "rb/attack.rhai"];
        if !text {
            args.extend(["--output", "json"]);
        }
        args.extend(extra);
        let run = self.rb.run_args(args);
        let mut outputs: Vec<(String, Vec<u8>)> = vec![
            ("stdout".into(), run.stdout.clone().into_bytes()),
            ("stderr".into(), run.stderr.clone().into_bytes()),
        ];
        if let Ok(metrics) = std::fs::read(self.rb.path("m.prom")) {
            outputs.push(("metrics file".into(), metrics));
        }
        for dir in [".psyche-runbook/logs", ".psyche-runbook/journal"] {
            for (path, bytes) in self.files_under(dir) {
                outputs.push((path.display().to_string(), bytes));
            }
        }
        for hook in self.webhook.received() {
            outputs.push((format!("webhook {}", hook.path), hook.body.to_string().into_bytes()));
            // The payload as a receiver reads it (strings unescaped).
            outputs.push(("webhook message".into(), hook.body["message"].as_str().unwrap_or("").as_bytes().to_vec()));
        }
        let mut forbidden: Vec<Vec<u8>> = self.secrets.iter().flat_map(|s| fragments(s)).collect();
        forbidden.push(OUTSIDE.as_bytes().to_vec());
        forbidden.extend(self.passwd_line.iter().map(|l| l.as_bytes().to_vec()));
        for (name, bytes) in &outputs {
            for piece in &forbidden {
                assert!(
                    !bytes.windows(piece.len()).any(|w| w == piece.as_slice()),
                    "{name} holds {:?} of a secret or a refused file\nscript:\n{script}\nstdout:\n{}\nstderr:\n{}",
                    String::from_utf8_lossy(piece),
                    run.stdout,
                    run.stderr
                );
            }
        }
        run
    }

    /// `attack` of a script that catches what `call` raises and sends it everywhere, then
    /// checks the caught message says `expected`.
    fn caught(&self, call: &str, expected: &str) {
        let script = format!(
            "let got = \"\";\ntry {{ {call}; got = \"no error\"; }} catch (e) {{ got = `${{e}}`; }}\n\
             print(got);\noutput(\"got\", got);\nnotify(got);\nnotify(#{{ message: \"m\", fields: #{{ got: got }} }});\n"
        );
        let run = self.attack(&script, &[], false).success();
        let got = run.json()["outputs"]["got"].as_str().unwrap().to_string();
        assert!(got.contains(expected), "{call}: expected {expected:?} in the caught error {got:?}");
    }
}

fn json_of(bytes: &[u8]) -> String {
    serde_json::to_string(bytes).unwrap()
}

fn symlink(target: &Path, link: &Path) {
    #[cfg(unix)]
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[test]
fn hostile_runbooks_get_no_secret_and_no_file_they_were_not_given() {
    let ws = Workspace::new();
    let payer_json = json_of(ws.payer());
    let payer_b58 = bs58::encode(ws.payer()).into_string();
    let phrase = "abandon ability able about above absent absorb abstract absurd abuse access accident";
    std::fs::write(ws.rb.path("rb/users.txt"), &payer_json).unwrap();
    std::fs::write(ws.rb.path("rb/key.toml"), &payer_json).unwrap();
    let pubkey = Keypair::new().pubkey();
    std::fs::write(ws.rb.path("rb/mixed.txt"), format!("{pubkey}\n  {payer_json}\n")).unwrap();
    std::fs::write(ws.rb.path("rb/mixed58.txt"), format!("{pubkey}\n{payer_b58}\n")).unwrap();
    std::fs::write(ws.rb.path("rb/phrase.txt"), format!("{pubkey}\n{phrase}\n")).unwrap();
    std::fs::write(ws.rb.path("rb/seed.txt"), format!("{phrase}\n")).unwrap();
    std::fs::write(ws.rb.path("rb/value.toml"), format!("[config]\nwarmup_time = \"{payer_b58}\"\n")).unwrap();
    std::fs::write(ws.rb.path("rb/not-a-key.json"), format!("[\"{OUTSIDE}\"]")).unwrap();
    symlink(&ws.rb.path(".psyche-runbook/localnet/payer.json"), &ws.rb.path("rb/link.txt"));
    symlink(&ws.outside_file(), &ws.rb.path("rb/out.txt"));
    symlink(&ws.rb.path(".psyche-runbook/localnet/payer.json"), &ws.rb.path("rb/keymod.rhai"));
    let outside = ws.outside_file().display().to_string();
    let dotdot = format!("../../{}/secret.txt", ws.outside.path().file_name().unwrap().to_string_lossy());

    let keypair_users = "is a keypair file, not a list of users";
    let boundary = "read_roots under [files] in psyche-runbook.toml";
    let attempts: Vec<(String, &str)> = vec![
        // 1-2: the issue's own attempt, and `read_users` of the payer.
        ("grant_many(payer(), \".psyche-runbook/localnet/payer.json\")".into(), keypair_users),
        ("read_users(\".psyche-runbook/localnet/payer.json\")".into(), keypair_users),
        // 3: the keypair copied beside the runbook as a users list.
        ("read_users(\"users.txt\")".into(), "users.txt is a keypair file, not a list of users"),
        // 4: a key file the runbook loaded as a signer, read as data.
        ("{ let j = signer(\"rb/keys/join.json\"); read_users(\"keys/join.json\") }".into(), keypair_users),
        // 5-6: the keypair as a run config, and a config quoting the secret as a value.
        ("run(\"r1\").update_config(\"key.toml\")".into(), "key.toml is a keypair file, not a run config"),
        ("run(\"r1\").config_matches(\"value.toml\")".into(), "value.toml:2:15: "),
        // 7-8: through a symlink to the payer, and a symlink that leads out.
        ("read_users(\"link.txt\")".into(), "link.txt is a keypair file"),
        ("read_users(\"out.txt\")".into(), boundary),
        // 9-13: files outside every root, absolute and through `..`.
        ("read_users(\"/etc/shadow\")".into(), boundary),
        ("read_users(\"/etc/passwd\")".into(), boundary),
        (format!("read_users(\"{outside}\")"), boundary),
        (format!("read_users(\"{dotdot}\")"), boundary),
        (format!("run(\"r1\").update_config(\"{dotdot}\")"), boundary),
        // 14-17: lines of a users list that are key material are never quoted, and a file that
        // is only a seed phrase is refused by name.
        ("read_users(\"mixed.txt\")".into(), "mixed.txt:2:3: not a pubkey; the line looks like key material"),
        ("read_users(\"mixed58.txt\")".into(), "mixed58.txt:2:1: not a pubkey"),
        ("read_users(\"phrase.txt\")".into(), "phrase.txt:2:1: not a pubkey"),
        ("read_users(\"seed.txt\")".into(), "seed.txt holds a seed phrase, not a list of users"),
        // 18: a JSON file that is no key: the loader says where it broke, not what it read.
        ("signer(\"rb/not-a-key.json\")".into(), "not a JSON array of 64 bytes (at line 1, column"),
        // 19-20: a pubkey parse of the secret, passed in from the environment's signer.
        (
            "{ let s = signer(\"env:EXTRA_KEY\"); pubkey(`${s.source}`) }".into(),
            "invalid pubkey \"secret in $EXTRA_KEY\"",
        ),
        ("grant(payer(), \"../.psyche-runbook/localnet/payer.json\")".into(), "invalid pubkey"),
    ];
    for (call, expected) in &attempts {
        ws.caught(call, expected);
    }

    // 21-23: modules that point at a key, outside the roots (one that would print the
    // outside file's marker), through a symlink to the payer.
    let evil = ws.outside.path().join("evil.rhai").display().to_string();
    for (import, expected) in [
        ("../.psyche-runbook/localnet/payer.json", "is a keypair file, not a module"),
        (evil.as_str(), boundary),
        ("keymod", "is a keypair file, not a module"),
    ] {
        let script = format!("import \"{import}\" as m;\nprint(\"imported\");\n");
        let run = ws.attack(&script, &[], true);
        assert_ne!(run.code, 0, "import {import}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "import {import}: {}", run.stderr);
        assert!(!run.stderr.contains("imported"), "{}", run.stderr);
    }

    // 24-26: the secret passed with --set (JSON, spaced, base58) to a script that would print
    // it whole and byte by byte (one number per line, which no redactor can tell from any
    // other number), output it and notify it: runbooks never get it.
    let spaced = payer_json.replace(',', ", ");
    let leak = "let got = \"\";\ntry { pubkey(secret); } catch (e) { got = e.message; }\n\
                let nums = [];\nfor part in `${secret}`.split(\",\") { let t = part; t.trim(); t.replace(\"[\", \"\"); t.replace(\"]\", \"\"); try { nums.push(parse_int(t)); } catch { } }\n\
                for n in nums { print(n); }\nfor c in `${secret}`.chars() { print(c); }\n\
                print(secret); print(got); print(nums); debug(secret);\n\
                output(\"secret\", secret); output(\"got\", got); output(\"nums\", nums);\n\
                notify(#{ message: `${secret}`, fields: #{ got: got, nums: nums } });\n\
                throw secret;\n";
    for value in [payer_json.as_str(), spaced.as_str(), payer_b58.as_str(), phrase] {
        let set = format!("secret=\"{value}\"");
        for text in [false, true] {
            let run = ws.attack(leak, &["--set", &set, "--metrics-file", "m.prom"], text).code(2);
            assert!(run.stderr.contains("--set secret: the value is key material"), "{}", run.stderr);
        }
    }

    // 27-28: the secret as a script argument after `--`, and pasted where a keypair path
    // belongs (`-k '[…]'`).
    let run =
        ws.attack("for c in ARGS[0].chars() { print(c); }\noutput(\"arg\", ARGS[0]);\n", &["--", &payer_json], false);
    assert!(run.code(2).stderr.contains("argument 1 after --: the value is key material"));
    let run = ws.attack("print(payer().pubkey);\n", &["-k", &payer_json], true).code(2);
    assert!(run.stderr.contains("keypair file [redacted]"), "{}", run.stderr);

    // 28b: a key the runbook holds in its own source (pasted there), written on chain in a
    // run's metadata: refused before signing.
    let pasted = format!(
        "try {{ run(\"r1\").update_metadata(#{{ description: \"{payer_b58}\" }}); }} catch (e) {{ print(e); throw e; }}\n"
    );
    let run = ws.attack(&pasted, &[], true).code(4);
    assert!(run.stderr.contains("refusing to sign: its instruction data holds a secret"), "{}", run.stderr);
    assert!(run.stderr.contains("nothing was sent"), "{}", run.stderr);

    // 29-30: the keypair file given as the runbook, and to `config check`.
    let run = ws.rb.run_args(["run", ".psyche-runbook/localnet/payer.json"]).code(2);
    assert!(run.stderr.contains("is a keypair file, not a runbook"), "{}", run.stderr);
    let run = ws.rb.run_args(["config", "check", ".psyche-runbook/localnet/payer.json"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("is a keypair file, not a run config"), "{}", run.stderr);
    for piece in ws.secrets.iter().flat_map(|s| fragments(s)) {
        let text = String::from_utf8_lossy(&piece).into_owned();
        assert!(!run.stderr.contains(&text) && !run.stdout.contains(&text));
    }
    assert!(ws.webhook.received().len() >= 2 * attempts.len(), "every caught error was notified");
}

#[test]
fn files_beside_the_runbook_and_under_read_roots_are_read() {
    let pubkey = Keypair::new().pubkey();
    let shared = tempfile::tempdir().unwrap();
    std::fs::write(shared.path().join("users.txt"), format!("{pubkey}\n")).unwrap();
    let shared_users = shared.path().join("users.txt").display().to_string();
    let script = format!(
        "output(\"beside\", read_users(\"users.txt\").len());\noutput(\"shared\", read_users(\"{shared_users}\").len());\n"
    );
    let rb = Runbook::new().file("rb/users.txt", &format!("{pubkey}\n")).file("rb/r.rhai", &script);
    let refused = rb.run_args(["run", "rb/r.rhai"]).code(2);
    assert!(refused.stderr.contains("leads outside the folders runbooks may read"), "{}", refused.stderr);
    assert!(refused.stderr.contains("read_roots under [files] in psyche-runbook.toml"), "{}", refused.stderr);
    std::fs::write(
        rb.path("psyche-runbook.toml"),
        format!("[files]\nread_roots = [\"{}\"]\n", shared.path().display()),
    )
    .unwrap();
    let doc = rb.run_args(["run", "rb/r.rhai", "--output", "json"]).success().json();
    assert_eq!((doc["outputs"]["beside"].clone(), doc["outputs"]["shared"].clone()), (1.into(), 1.into()));
}

#[cfg(unix)]
#[test]
fn logs_journal_and_state_are_only_the_owners() {
    use std::os::unix::fs::PermissionsExt;
    let rb = Runbook::new().file("r.rhai", "create_run(#{ run_id: \"p1\" });\n");
    rb.run_args(["run", "r.rhai"]).success();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for dir in [".psyche-runbook", ".psyche-runbook/logs", ".psyche-runbook/journal", ".psyche-runbook/localnet"] {
        assert_eq!(mode(&rb.path(dir)), 0o700, "{dir}");
        for entry in std::fs::read_dir(rb.path(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                assert_eq!(mode(&path), 0o600, "{}", path.display());
            }
        }
    }
}

//! The CLI as an operator runs it: runbooks with parameters, diagnostics, limits, static checks,
//! docs, and how the cluster and signer are resolved.

mod common;

use common::Runbook;
use serde_json::json;

#[test]
fn set_values_are_typed_constants_and_args_an_array() {
    let run = Runbook::new()
        .file(
            "rb.rhai",
            "#!/usr/bin/env -S psyche-runbook run\n\
             output(\"n\", n + 1);\n\
             output(\"flag\", !flag);\n\
             output(\"name\", name + \"!\");\n\
             output(\"ratio\", ratio * 2.0);\n\
             output(\"args\", ARGS);\n\
             output(\"optional\", param(\"missing\", 7));\n",
        )
        .args([
            "run",
            "rb.rhai",
            "--set",
            "n=41",
            "--set",
            "flag=false",
            "--set",
            "name=run",
            "--set",
            "ratio=1.25",
            "--output",
            "json",
            "--",
            "alpha",
            "beta",
        ])
        .run()
        .success();
    let doc = run.json();
    assert_eq!(
        doc["outputs"],
        json!({"n": 42, "flag": true, "name": "run!", "ratio": 2.5, "args": ["alpha", "beta"], "optional": 7})
    );
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["signatures"], json!([]));
}

#[test]
fn syntax_error_is_reported_at_file_line_col_with_exit_2() {
    let run = Runbook::new().file("bad.rhai", "let a = 1;\nlet b = (a +;\n").args(["run", "bad.rhai"]).run().code(2);
    assert_eq!(
        run.stderr,
        "bad.rhai:2:13: error: syntax error: Unexpected ';'\n\
         2 | let b = (a +;\n  \
           |             ^\n\
         nothing was sent\n"
    );
}

#[test]
fn runtime_error_in_an_imported_module_names_the_module_file_and_line() {
    let run = Runbook::new()
        .file("lib/util.rhai", "fn ok(x) { x }\n\nfn fail(x) {\n    throw `bad value ${x}`;\n}\n")
        .file("main.rhai", "import \"lib/util\" as util;\nlet v = util::ok(1);\nutil::fail(v);\n")
        .args(["run", "main.rhai"])
        .run()
        .code(1);
    let util = std::path::Path::new("lib").join("util.rhai");
    assert!(
        run.stderr.starts_with(&format!("{}:4:5: error: bad value 1\n4 |     throw", util.display())),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("called from main.rhai:3:7 (in call to `fail`)"), "{}", run.stderr);
    assert!(run.stderr.ends_with("nothing was sent\n"));
}

#[test]
fn a_module_that_fails_to_load_is_reported_where_it_is_imported() {
    let run =
        Runbook::new().file("main.rhai", "import \"psyche/nope\" as x;\n").args(["run", "main.rhai"]).run().code(1);
    assert!(run.stderr.starts_with("main.rhai:1:8: error: no stdlib module \"psyche/nope\""), "{}", run.stderr);
}

#[test]
fn a_runaway_loop_is_stopped_by_the_operation_limit() {
    let run = Runbook::new()
        .file("spin.rhai", "let i = 0;\nloop { i += 1; }\n")
        .args(["run", "spin.rhai", "--max-operations", "5000"])
        .run()
        .code(1);
    assert!(run.stderr.contains("exceeded its operation limit (see --max-operations)"), "{}", run.stderr);
}

#[test]
fn check_accepts_good_runbooks_and_rejects_bad_ones() {
    let rb = Runbook::new()
        .file("good.rhai", "import \"psyche/checks\" as checks;\nfn twice(x) { x * 2 }\nchecks::require(twice(2) == 4, \"math\");\nprint(payer().pubkey);\n")
        .file("unknown.rhai", "let x = 1;\nfrobnicate(x);\n")
        .file("arity.rhai", "let k = pubkey(\"a\", \"b\");\n")
        .file("import.rhai", "import \"missing/module\" as m;\n")
        .file("needs_set.rhai", "print(run_id);\n");
    let good = rb.run_args(["check", "good.rhai"]).success();
    assert_eq!(good.stderr, "good.rhai: ok\n");
    let bad = rb.run_args(["check", "unknown.rhai", "arity.rhai", "import.rhai"]).code(2);
    assert!(bad.stderr.contains("unknown.rhai:2:1: error: unknown function `frobnicate`"), "{}", bad.stderr);
    assert!(
        bad.stderr.contains("arity.rhai:1:9: error: `pubkey` takes 1 argument(s), called with 2"),
        "{}",
        bad.stderr
    );
    assert!(bad.stderr.contains("import.rhai:1:1: error: cannot read module"), "{}", bad.stderr);
    let unset = rb.run_args(["check", "needs_set.rhai"]).code(2);
    assert!(unset.stderr.contains("undefined variable `run_id`"), "{}", unset.stderr);
}

#[test]
fn check_knows_constants_passed_with_set() {
    Runbook::new().file("r.rhai", "print(run_id);\n").args(["check", "r.rhai", "--set", "run_id=x"]).run().success();
}

#[test]
fn docs_lists_the_host_functions_from_the_engine() {
    let run = Runbook::new().args(["docs", "--output", "json"]).run().success();
    let doc = run.json();
    let names: Vec<&str> = doc["functions"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    for expected in [
        "payer",
        "pubkey",
        "signer",
        "output",
        "param",
        "cluster",
        "coordinator_instance_address",
        "upload_data",
        "download_results",
        "switch_to_hub",
        "list_runs",
    ] {
        assert!(names.contains(&expected), "docs lacks {expected}: {names:?}");
    }
    let payer = doc["functions"].as_array().unwrap().iter().find(|f| f["name"] == "payer").unwrap();
    assert_eq!(payer["signature"], "payer() -> Signer");
    assert!(payer["description"].as_str().unwrap().starts_with("The signer that pays"));
    let types: Vec<&str> = doc["types"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(types.contains(&"Pubkey") && types.contains(&"Signer"), "{types:?}");
}

#[test]
fn completions_are_generated() {
    let run = Runbook::new().args(["completions", "bash"]).run().success();
    assert!(run.stdout.contains("psyche-runbook"));
}

#[test]
fn the_repl_reads_statements_from_a_pipe() {
    let run = Runbook::new()
        .args(["repl"])
        .stdin("let x = 40;\nfn add2(a) {\n  a + 2\n}\nadd2(x)\nimport \"psyche/checks\" as c;\nc::require(true, \"ok\");\n\"done\"\n")
        .run()
        .success();
    assert_eq!(run.stdout, "42\n\"done\"\n");
}

const PAYER_RUNBOOK: &str = "output(\"payer\", payer().pubkey);\noutput(\"cluster\", cluster());\n";

/// A fixed keypair as solana-keygen writes it: 64 bytes, secret seed then public key.
fn keypair_bytes() -> Vec<u8> {
    solana_sdk::signature::Keypair::new_from_array([7u8; 32]).to_bytes().to_vec()
}

#[test]
fn keypair_file_and_raw_key_in_both_encodings_resolve_to_the_same_signer() {
    use solana_sdk::signer::Signer;
    let bytes = keypair_bytes();
    let expected = solana_sdk::signature::Keypair::try_from(bytes.as_slice()).unwrap().pubkey().to_string();
    let json = serde_json::to_string(&bytes).unwrap();
    let base58 = bs58::encode(&bytes).into_string();
    let rb = Runbook::new().file("rb.rhai", PAYER_RUNBOOK).file("id.json", &json);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(rb.path("id.json"), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let from_file = rb.run_args(["run", "rb.rhai", "-k", "id.json", "--output", "json"]).success();
    assert_eq!(from_file.json()["outputs"]["payer"], expected);
    assert!(!from_file.stderr.contains("readable by group"), "{}", from_file.stderr);
    for secret in [&json, &base58] {
        let run = Runbook::new()
            .file("rb.rhai", PAYER_RUNBOOK)
            .env("RAW_WALLET_PRIVATE_KEY", secret)
            .args(["run", "rb.rhai", "--output", "json"])
            .run()
            .success();
        assert_eq!(run.json()["outputs"]["payer"], expected);
        assert!(!run.stdout.contains(secret.as_str()) && !run.stderr.contains(secret.as_str()));
    }
}

#[test]
fn no_function_hands_secret_bytes_to_a_script() {
    let bytes = keypair_bytes();
    let json = serde_json::to_string(&bytes).unwrap();
    let rb = Runbook::new()
        .file(
            "leak.rhai",
            "let s = payer();\n\
             output(\"shown\", `${s}`);\n\
             output(\"debug\", s.to_debug());\n\
             output(\"json\", s);\n\
             let sig = s.sign(\"hello\");\n\
             output(\"verified\", verify_signature(s.pubkey, \"hello\", sig));\n\
             output(\"secret\", s.secret);\n",
        )
        .env("RAW_WALLET_PRIVATE_KEY", &json);
    let run = rb.run_args(["run", "leak.rhai", "--output", "json"]).code(1);
    let doc = run.json();
    let pubkey = {
        use solana_sdk::signer::Signer;
        solana_sdk::signature::Keypair::try_from(bytes.as_slice()).unwrap().pubkey().to_string()
    };
    assert_eq!(doc["outputs"]["shown"], pubkey);
    // The debug form names where the key came from (the variable), never the secret.
    assert_eq!(doc["outputs"]["debug"], format!("Signer({pubkey} from secret in $RAW_WALLET_PRIVATE_KEY)"));
    assert_eq!(doc["outputs"]["json"], pubkey);
    assert_eq!(doc["outputs"]["verified"], true);
    assert!(doc["error"]["message"].as_str().unwrap().contains("secret"), "{doc}");
    // The docs name every host function: none returns key material.
    let docs = Runbook::new().args(["docs", "--output", "json"]).run().success().json();
    for f in docs["functions"].as_array().unwrap() {
        let sig = f["signature"].as_str().unwrap();
        assert!(!sig.contains("Keypair") && !sig.contains("secret"), "{sig}");
    }
}

#[test]
fn a_keypair_file_readable_by_others_gets_a_warning() {
    let bytes = keypair_bytes();
    let rb = Runbook::new().file("rb.rhai", PAYER_RUNBOOK).file("id.json", &serde_json::to_string(&bytes).unwrap());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(rb.path("id.json"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let run = rb.run_args(["run", "rb.rhai", "-k", "id.json"]).success();
        assert!(
            run.stderr.contains("warning: keypair file id.json is readable by group or others (mode 644)"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn prompt_signer_is_refused_without_a_terminal() {
    let run = Runbook::new().file("rb.rhai", PAYER_RUNBOOK).args(["run", "rb.rhai", "-k", "prompt://"]).run().code(2);
    assert!(
        run.stderr.contains("prompt:// and ASK read a seed phrase at a terminal, and this process has none"),
        "{}",
        run.stderr
    );
}

fn write_keypair(rb: Runbook, name: &str, seed: u8) -> (Runbook, String) {
    use solana_sdk::signer::Signer;
    let keypair = solana_sdk::signature::Keypair::new_from_array([seed; 32]);
    let rb = rb.file(name, &serde_json::to_string(&keypair.to_bytes().to_vec()).unwrap());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(rb.path(name), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    (rb, keypair.pubkey().to_string())
}

#[test]
fn flag_beats_environment_beats_solana_config() {
    let rb = Runbook::new().file("rb.rhai", PAYER_RUNBOOK);
    let (rb, flag_key) = write_keypair(rb, "flag.json", 1);
    let (rb, env_key) = write_keypair(rb, "env.json", 2);
    let (rb, config_key) = write_keypair(rb, "config.json", 3);
    let config = format!(
        "json_rpc_url: \"https://api.testnet.solana.com\"\nkeypair_path: {}\ncommitment: finalized\n",
        rb.path("config.json").display()
    );
    let rb = rb.file(".config/solana/cli/config.yml", &config);

    // Only the config file: testnet, its keypair, its commitment.
    let run = rb.run_args(["run", "rb.rhai", "--output", "json"]).success().json();
    assert_eq!(run["outputs"]["cluster"]["name"], "testnet");
    assert_eq!(run["outputs"]["cluster"]["commitment"], "finalized");
    assert_eq!(run["outputs"]["payer"], config_key);
    assert!(run["outputs"]["cluster"]["origin"].as_str().unwrap().ends_with("config.yml json_rpc_url"));

    // The environment beats the config file.
    let rb = Runbook::new().file("rb.rhai", PAYER_RUNBOOK);
    let (rb, _) = write_keypair(rb, "env.json", 2);
    let (rb, _) = write_keypair(rb, "flag.json", 1);
    let (rb, _) = write_keypair(rb, "config.json", 3);
    let config = format!(
        "json_rpc_url: \"https://api.testnet.solana.com\"\nkeypair_path: {}\n",
        rb.path("config.json").display()
    );
    let rb = rb
        .file(".config/solana/cli/config.yml", &config)
        .env("RPC", "devnet")
        .env("WALLET_PRIVATE_KEY_PATH", "env.json");
    let run = rb.run_args(["run", "rb.rhai", "--output", "json"]).success().json();
    assert_eq!(run["outputs"]["cluster"]["name"], "devnet");
    assert_eq!(run["outputs"]["cluster"]["origin"], "$RPC");
    assert_eq!(run["outputs"]["payer"], env_key);

    // Flags beat both. (Solana's public endpoints are known by their genesis hashes without a
    // request; a runbook that reads nothing makes none.)
    let run = rb
        .run_args(["run", "rb.rhai", "--output", "json", "-u", "m", "-k", "flag.json", "--commitment", "processed"])
        .success()
        .json();
    assert_eq!(run["outputs"]["cluster"]["name"], "mainnet-beta");
    assert_eq!(run["outputs"]["cluster"]["ws_url"], "wss://api.mainnet-beta.solana.com");
    assert_eq!(run["outputs"]["cluster"]["genesis_hash"], "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d");
    assert_eq!(run["outputs"]["cluster"]["commitment"], "processed");
    assert_eq!(run["outputs"]["payer"], flag_key);
}

#[test]
fn mainnet_is_never_taken_from_the_solana_config() {
    let rb = Runbook::new()
        .file("rb.rhai", "output(\"cluster\", cluster().name);\n")
        .file(".config/solana/cli/config.yml", "json_rpc_url: \"https://api.mainnet-beta.solana.com\"\n");
    let run = rb.run_args(["run", "rb.rhai", "--output", "json"]).success();
    assert_eq!(run.json()["outputs"]["cluster"], "embedded");
    assert!(run.stderr.contains("mainnet-beta must be chosen explicitly"), "{}", run.stderr);
}

#[test]
fn a_bad_cluster_is_a_usage_error() {
    let run = Runbook::new().file("rb.rhai", "1").args(["run", "rb.rhai", "-u", "mainet"]).run().code(2);
    assert!(run.stderr.contains("--url: \"mainet\" is not a cluster"), "{}", run.stderr);
    // With --output json the failure is still one JSON document on stdout.
    let json =
        Runbook::new().file("rb.rhai", "1").args(["run", "rb.rhai", "-u", "mainet", "--output", "json"]).run().code(2);
    let doc = json.json();
    assert_eq!((doc["ok"].clone(), doc["exit_code"].clone()), (serde_json::json!(false), serde_json::json!(2)));
    assert!(doc["error"]["message"].as_str().unwrap().contains("is not a cluster"));
}

#[test]
fn program_ids_come_from_the_project_config_per_cluster() {
    let rb = Runbook::new()
        .file("rb.rhai", "output(\"ids\", program_ids());\n")
        .file(
            "psyche-runbook.toml",
            "[programs]\ncoordinator = \"11111111111111111111111111111112\"\n[programs.devnet]\ncoordinator = \"11111111111111111111111111111113\"\n",
        );
    let testnet = rb.run_args(["run", "rb.rhai", "-u", "t", "--output", "json"]).success().json();
    assert_eq!(testnet["outputs"]["ids"]["coordinator"], "11111111111111111111111111111112");
    assert_eq!(testnet["outputs"]["ids"]["authorizer"], "PsyAUmhpmiUouWsnJdNGFSX8vZ6rWjXjgDPHsgqPGyw");
    // The embedded localnet installs its programs at the configured IDs too.
    let embedded = rb.run_args(["run", "rb.rhai", "--output", "json"]).success();
    assert_eq!(embedded.json()["outputs"]["ids"]["coordinator"], "11111111111111111111111111111112");
    let devnet = rb.run_args(["run", "rb.rhai", "-u", "devnet", "--output", "json"]).success().json();
    assert_eq!(devnet["outputs"]["ids"]["coordinator"], "11111111111111111111111111111113");
    let flag = rb
        .run_args([
            "run",
            "rb.rhai",
            "-u",
            "devnet",
            "--output",
            "json",
            "--coordinator-program-id",
            "11111111111111111111111111111114",
        ])
        .success()
        .json();
    assert_eq!(flag["outputs"]["ids"]["coordinator"], "11111111111111111111111111111114");
}

#[test]
fn sigint_stops_a_running_runbook_with_exit_130() {
    let rb = Runbook::new().file("spin.rhai", "print(\"started\");\nloop { }\n");
    let mut cmd = rb.command();
    cmd.args(["run", "spin.rhai", "--max-operations", "0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // Wait until the runbook is running before interrupting it.
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
    assert_eq!(line, "started\n");
    let status = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let code = child.wait().unwrap().code();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert_eq!(code, Some(130), "{rest}");
    assert!(rest.contains("error: interrupted") && rest.contains("nothing was sent"), "{rest}");
}

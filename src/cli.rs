//! Command-line arguments, exactly as the operator types them. Resolution into settings
//! (URL monikers, env fallbacks, config files) happens in `chain::settings`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "psyche-runbook", version, about = "Runbooks for Psyche training runs on Solana", long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Cluster: embedded (default), mainnet-beta (m), devnet (d), testnet (t), localhost (l) or an
    /// http(s) URL. Falls back to $RPC, then json_rpc_url in the Solana CLI config. Repeat it to
    /// give fallback RPC URLs for the same cluster, tried in order when one fails.
    #[arg(short = 'u', long = "url", global = true, value_name = "URL_OR_MONIKER")]
    pub url: Vec<String>,
    /// Websocket URL; falls back to $WS_RPC, then one derived from the RPC URL.
    #[arg(long, global = true, value_name = "URL")]
    pub ws_url: Option<String>,
    /// Signer: a keypair file, prompt://[?key=ACCOUNT[/CHANGE]|?full-path=m/…] (a seed
    /// phrase, BIP44), ASK (a seed phrase, legacy derivation), stdin: or
    /// usb://ledger[/WALLET_PUBKEY][?key=…]. Falls back to $RAW_WALLET_PRIVATE_KEY,
    /// $WALLET_PRIVATE_KEY_PATH, then keypair_path in the Solana CLI config.
    #[arg(short = 'k', long, global = true, value_name = "KEYPAIR")]
    pub keypair: Option<String>,
    /// Another signer (any source -k takes) pays transaction fees and the rent of accounts bulk
    /// work creates, so a device (-k usb://ledger) approves only where it is an authority.
    #[arg(long, global = true, value_name = "KEYPAIR")]
    pub fee_payer: Option<String>,
    /// Skip the BIP39 check of typed seed phrases (for phrases that are not BIP39).
    #[arg(long, global = true)]
    pub skip_seed_phrase_validation: bool,
    /// Commitment level for reads and confirmations [default: confirmed].
    #[arg(long, global = true, value_enum)]
    pub commitment: Option<Commitment>,
    /// Solana CLI config file [default: ~/.config/solana/cli/config.yml].
    #[arg(short = 'C', long = "config", global = true, value_name = "PATH")]
    pub solana_config: Option<PathBuf>,
    /// Project config file with [programs] overrides [default: ./psyche-runbook.toml].
    #[arg(long, global = true, value_name = "PATH")]
    pub project_config: Option<PathBuf>,
    /// Directory holding the embedded localnet's state.
    #[arg(long, global = true, value_name = "DIR", env = "PSYCHE_RUNBOOK_LOCALNET_DIR")]
    pub localnet_dir: Option<PathBuf>,
    /// Coordinator program id for this cluster.
    #[arg(long, global = true, value_name = "PUBKEY", env = "PSYCHE_COORDINATOR_PROGRAM_ID")]
    pub coordinator_program_id: Option<String>,
    /// Authorizer program id for this cluster.
    #[arg(long, global = true, value_name = "PUBKEY", env = "PSYCHE_AUTHORIZER_PROGRAM_ID")]
    pub authorizer_program_id: Option<String>,
    /// Treasurer program id for this cluster.
    #[arg(long, global = true, value_name = "PUBKEY", env = "PSYCHE_TREASURER_PROGRAM_ID")]
    pub treasurer_program_id: Option<String>,
    /// Output format: human text on stderr, or one JSON document on stdout.
    #[arg(long, global = true, value_enum, default_value_t = OutputMode::Text)]
    pub output: OutputMode,
    /// More diagnostics on stderr (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Confirm mutations on mainnet-beta without asking.
    #[arg(long, global = true)]
    pub yes: bool,
    /// Seconds to wait for another invocation of the same runbook on the same cluster to finish
    /// before giving up with exit code 75.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 300)]
    pub lock_timeout: u64,
    /// Compute-unit price in micro-lamports [default: from recent prioritization fees, capped].
    #[arg(long, global = true, value_name = "MICRO_LAMPORTS")]
    pub with_compute_unit_price: Option<u64>,
    /// Stop a runbook after this many Rhai operations (0 = no limit).
    #[arg(long, global = true, value_name = "N", default_value_t = 50_000_000)]
    pub max_operations: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Commitment {
    Processed,
    Confirmed,
    Finalized,
}

impl Commitment {
    pub fn as_str(self) -> &'static str {
        match self {
            Commitment::Processed => "processed",
            Commitment::Confirmed => "confirmed",
            Commitment::Finalized => "finalized",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputMode {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a runbook.
    Run(RunArgs),
    /// Parse and statically check runbooks without running them.
    Check(CheckArgs),
    /// Run the `test_*` functions of `*.test.rhai` files, each on a fresh embedded chain of its
    /// own (never a real cluster).
    Test(TestArgs),
    /// Start the interactive REPL (reads statements from stdin when it is not a terminal).
    Repl,
    /// List every host function and type runbooks can use.
    Docs {
        /// Write Rhai definition files (.d.rhai) of the host API and the standard library to
        /// DIR, for editors with Rhai support, instead of listing.
        #[arg(long, value_name = "DIR")]
        definitions: Option<PathBuf>,
    },
    /// Print shell completions.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Decode a raw account dump (the account's data bytes).
    Decode {
        #[arg(value_enum)]
        kind: AccountKind,
        file: PathBuf,
    },
    /// Work with run configs (config.toml).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage the embedded localnet.
    #[command(subcommand)]
    Localnet(LocalnetCommand),
    /// Show what executions sent, from the journal.
    #[command(subcommand)]
    Journal(JournalCommand),
    /// Watch runs: a live terminal view, or the table once without a terminal.
    Watch(WatchArgs),
    /// Upload a file, or a directory recursively, to a run through the run-down service (the
    /// runbook function `upload_data`; run-manager's command of the same name).
    UploadData(UploadDataArgs),
    /// Download a run's results through the run-down service (the runbook function
    /// `download_results`; run-manager's command of the same name).
    DownloadResults(DownloadResultsArgs),
}

#[derive(Debug, Args)]
pub struct UploadDataArgs {
    /// The run to upload data to [env: RUN_ID].
    #[arg(short, long, env = "RUN_ID", hide_env = true)]
    pub run_id: String,
    /// A file, or a directory (uploaded recursively, relative paths kept).
    #[arg(short, long)]
    pub path: PathBuf,
    /// How long the signed URLs stay valid.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    pub expires_in_seconds: u64,
    /// List what would be uploaded and send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct DownloadResultsArgs {
    /// The run whose results to download [env: RUN_ID].
    #[arg(short, long, env = "RUN_ID", hide_env = true)]
    pub run_id: String,
    /// Where the results go (relative paths kept).
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub output_dir: PathBuf,
    /// How long the signed URLs stay valid.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    pub expires_in_seconds: u64,
    /// Replace local files that differ from the run's (by default they are an error).
    #[arg(long)]
    pub overwrite: bool,
    /// Say where the results would go and send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Runs to watch [default: every run of the cluster].
    pub run_ids: Vec<String>,
    /// Only the runs whose join authority is this key.
    #[arg(long, value_name = "PUBKEY", conflicts_with = "run_ids")]
    pub join_authority: Option<String>,
    /// Seconds between refreshes.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub interval: f64,
    /// Print the table once (text, or one JSON document with --output json) and exit.
    #[arg(long)]
    pub once: bool,
    /// Flag treasuries that fund fewer epochs than this.
    #[arg(long, value_name = "EPOCHS", default_value_t = 3.0)]
    pub runway_warn: f64,
    /// Serve the runs' Prometheus metrics at http://127.0.0.1:PORT/metrics while watching
    /// (0 picks a free port; the address is printed on stderr). Without a terminal, keeps
    /// refreshing and serving until SIGINT/SIGTERM.
    #[arg(long, value_name = "PORT")]
    pub metrics_port: Option<u16>,
}

#[derive(Debug, Subcommand)]
pub enum JournalCommand {
    /// Print the journal of every execution (or only the last).
    Show {
        #[arg(long)]
        last: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum LocalnetCommand {
    /// Serve the embedded chain as a Solana JSON-RPC endpoint until SIGINT/SIGTERM.
    Serve {
        /// Port to listen on (0 picks a free one; the address is printed on stderr).
        #[arg(long, default_value_t = 8899)]
        port: u16,
        /// Port of the PubSub websocket (default: the RPC port + 1, as a validator's; a free
        /// one with `--port 0`; the address is printed on stderr).
        #[arg(long, value_name = "PORT")]
        ws_port: Option<u16>,
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// Milliseconds per slot (a validator's 400 by default; blockhashes last 150 slots).
        #[arg(long, default_value_t = crate::localnet::chain_params::DEFAULT_SLOT_MS, value_parser = clap::value_parser!(u64).range(1..))]
        slot_ms: u64,
        /// Keep this many simulated clients training (joining, witnessing, ticking on the clock).
        #[arg(long, default_value_t = 0)]
        clients: usize,
        /// A run the clients train (repeatable; default: every run that can train).
        #[arg(long = "run", value_name = "RUN_ID", requires = "clients")]
        runs: Vec<String>,
        /// Of the clients, how many stop witnessing.
        #[arg(long, default_value_t = 0, requires = "clients")]
        silent_clients: usize,
        /// Of the clients, how many go unhealthy (health checks drop them).
        #[arg(long, default_value_t = 0, requires = "clients")]
        unhealthy_clients: usize,
    },
    /// Make the localnet a fork of the cluster at URL: accounts are read from the cluster the
    /// first time anything asks for them, then kept (the URL is kept in the fork's database only).
    #[command(group = clap::ArgGroup::new("what").required(true))]
    Fork {
        /// The cluster to fork: an http(s) URL or mainnet-beta, devnet, testnet, localhost.
        #[arg(group = "what", value_name = "URL")]
        url: Option<String>,
        /// Read every account the fork holds from its cluster again, keeping the fork's own
        /// writes.
        #[arg(long, group = "what")]
        refresh: bool,
        /// With --refresh: drop the fork's own writes too (the fork is made anew from its cluster).
        #[arg(long, requires = "refresh")]
        drop_writes: bool,
    },
    /// Show the localnet's slot, clock, runs and payer.
    Status,
    /// Delete the localnet's chain state (the generated payer key is kept).
    Reset,
    /// Drop old transaction records from the localnet's history (it keeps everything until
    /// asked; accounts are never touched).
    #[command(group = clap::ArgGroup::new("keep").required(true).multiple(true))]
    PruneHistory {
        /// Keep only the newest N transaction records.
        #[arg(long, value_name = "N", group = "keep")]
        keep_transactions: Option<u64>,
        /// Keep only records of the last N slots.
        #[arg(long, value_name = "N", group = "keep")]
        keep_slots: Option<u64>,
    },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The runbook (.rhai).
    pub file: PathBuf,
    /// Set a constant visible to the runbook (numbers, true/false, or text).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Rehearse: run against a copy-on-write fork of the cluster inside the embedded VM and
    /// print the plan (transactions, account changes, fees). Nothing is sent.
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: exit 0 when nothing would change, 2 when changes are pending.
    #[arg(long, requires = "dry_run")]
    pub detailed_exitcode: bool,
    /// Write Prometheus metrics of this execution to PATH (atomically; for node_exporter's
    /// textfile collector, name it *.prom).
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,
    /// Embedded chain only: N simulated clients keep every run that can train training while
    /// the runbook runs (as `localnet serve --clients N`), so it meets runs as busy as on a
    /// cluster.
    #[arg(long, value_name = "N", default_value_t = 0, conflicts_with = "dry_run")]
    pub train: usize,
    /// After the runbook has run, keep calling the handlers it registered (`r.on_transition`,
    /// `r.on_epoch_end`, `every_slots`, …) as its runs change, until `stop_following()` or
    /// SIGINT/SIGTERM.
    #[arg(long)]
    pub follow: bool,
    /// Arguments visible to the runbook as the ARGS array.
    #[arg(last = true)]
    pub args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Files or directories to search for `*.test.rhai` files (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Keep only tests whose `FILE::NAME` contains TEXT.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// Tests run at once (default: the machine's cores).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Also write a JUnit XML report to FILE (one testcase per test).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Runbooks to check.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Constants the runbooks expect from `run --set`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AccountKind {
    CoordinatorAccount,
    CoordinatorInstance,
    Authorization,
    TreasurerRun,
    Participant,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a run config against the coordinator's checks.
    Check { file: PathBuf },
}

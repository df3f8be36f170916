//! Resolved settings: what the operator typed (flags), then the environment (run-manager's
//! variables), then the Solana CLI config, then defaults — each value remembering where it came
//! from. Resolved once, before any network call or signature; `identify` then learns which
//! cluster an RPC URL reaches (from the cache, or one request), and the layers of the project
//! config that depend on the cluster follow from that.

use crate::chain::cluster::{Cluster, RpcUrl};
use crate::chain::identity::{self, GenesisCache, Identity};
use crate::chain::signer::{PhraseOptions, SignerSource};
use crate::chain::solana_config::{self, SolanaConfig};
use crate::cli::{Commitment, GlobalArgs};
use crate::exit::{ExitCode, Failure};
use crate::notify::NotifyConfig;
use crate::psyche::ids::{ProgramIds, ProgramOverrides, ProgramsTable};
use crate::rundown::RunDownConfig;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The default directory of the embedded localnet.
pub const DEFAULT_LOCALNET_DIR: &str = ".psyche-runbook/localnet";
/// The project config file looked up in the working directory.
pub const PROJECT_CONFIG: &str = "psyche-runbook.toml";

#[derive(Debug, Clone)]
pub struct Settings {
    pub cluster: Cluster,
    pub cluster_origin: String,
    /// Which cluster `cluster` is: journals, locks, layers and the mainnet guard key on it.
    pub identity: Identity,
    pub ws_url: Option<RpcUrl>,
    pub commitment: Commitment,
    pub signer: SignerSource,
    pub signer_origin: String,
    /// `--fee-payer`: pays fees (and bulk work's rent) instead of `signer`.
    pub fee_payer: Option<SignerSource>,
    /// How seed phrases are read (`--skip-seed-phrase-validation`).
    pub phrase: PhraseOptions,
    pub programs: ProgramIds,
    pub localnet_dir: PathBuf,
    pub yes: bool,
    /// `--lock-timeout`: how long to wait for another process's lock.
    pub lock_timeout: std::time::Duration,
    /// `--with-compute-unit-price` (micro-lamports per compute unit).
    pub compute_unit_price: Option<u64>,
    pub limits: Limits,
    /// More RPC URLs for the same cluster (repeated `--url`), tried when the first fails.
    pub fallback_urls: Vec<RpcUrl>,
    /// Where `notify` posts alerts (`[notify]`).
    pub notify: NotifyConfig,
    /// Folders runbooks may read files from besides their own and the working directory
    /// (`[files] read_roots`), absolute.
    pub read_roots: Vec<PathBuf>,
    /// The run-down service's base URL (`$RUN_DOWN_URL`, then `[run_down] url`, then Nous's).
    pub run_down_url: String,
    /// The layers of program IDs and limits, applied again once the cluster is identified.
    layers: Layers,
}

/// What program IDs and limits are made of: the project config's tables and the flags.
#[derive(Debug, Clone, Default)]
struct Layers {
    config_name: String,
    programs: ProgramsTable,
    limits: LimitsTable,
    flags: ProgramOverrides,
}

/// `psyche-runbook.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectConfig {
    #[serde(default)]
    programs: ProgramsTable,
    #[serde(default)]
    limits: LimitsTable,
    #[serde(default)]
    notify: NotifyConfig,
    #[serde(default)]
    files: FilesTable,
    #[serde(default)]
    run_down: RunDownConfig,
}

/// `[files]`: where runbooks may read files from.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilesTable {
    /// Folders (absolute, `~/`, or relative to the config file's folder).
    #[serde(default)]
    read_roots: Vec<String>,
}

/// Safety limits, enforced before signing: `[limits]` for every cluster, `[limits.<cluster>]`
/// for one.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Most collateral (UI units) one invocation may send to treasuries.
    pub max_collateral_per_invocation: Option<f64>,
    /// The only run ids runbooks may touch.
    pub allowed_run_ids: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(try_from = "std::collections::BTreeMap<String, toml::Value>")]
struct LimitsTable {
    all: Limits,
    clusters: std::collections::BTreeMap<String, Limits>,
}

impl TryFrom<std::collections::BTreeMap<String, toml::Value>> for LimitsTable {
    type Error = String;

    fn try_from(entries: std::collections::BTreeMap<String, toml::Value>) -> Result<Self, String> {
        let mut table = LimitsTable::default();
        let mut top = toml::Table::new();
        for (key, value) in entries {
            match (key.as_str(), value) {
                ("max_collateral_per_invocation" | "allowed_run_ids", value) => {
                    top.insert(key, value);
                }
                (_, toml::Value::Table(cluster)) => {
                    let limits =
                        cluster.try_into().map_err(|e: toml::de::Error| format!("[limits.{key}]: {}", e.message()))?;
                    table.clusters.insert(key, limits);
                }
                _ => return Err(format!("unknown key `{key}` in [limits]")),
            }
        }
        table.all = top.try_into().map_err(|e: toml::de::Error| format!("[limits]: {}", e.message()))?;
        Ok(table)
    }
}

/// Reads environment variables; a seam so tests resolve settings without touching the process.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl Settings {
    /// Resolves settings; `note` receives what the operator should know (e.g. an ignored
    /// mainnet URL from the Solana CLI config).
    pub fn resolve(args: &GlobalArgs, env: &dyn Env, note: &mut dyn FnMut(String)) -> Result<Self, Failure> {
        let config_path = args.solana_config.clone().or_else(solana_config::default_path);
        let solana = match &config_path {
            Some(path) => SolanaConfig::load(path).map_err(Failure::usage)?,
            None => SolanaConfig::default(),
        };
        let config_name = config_path.as_deref().map_or("Solana CLI config".into(), |p| p.display().to_string());

        let (cluster, cluster_origin) = resolve_cluster(args, env, &solana, &config_name, note)?;
        let ws_url = args
            .ws_url
            .clone()
            .or_else(|| env.var("WS_RPC").map(|v| v.trim().trim_matches('"').to_string()))
            .or_else(|| if cluster_origin.starts_with(&config_name) { solana.websocket_url.clone() } else { None })
            .map(|text| RpcUrl::websocket(&text))
            .or_else(|| cluster.url().and_then(RpcUrl::default_ws_url));

        let commitment = match (args.commitment, solana.commitment.as_deref()) {
            (Some(c), _) => c,
            (None, Some(text)) => parse_commitment(text).ok_or_else(|| {
                Failure::usage(format!("{config_name}: commitment {text:?} is not processed, confirmed or finalized"))
            })?,
            (None, None) => Commitment::Confirmed,
        };

        let localnet_dir = args.localnet_dir.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_LOCALNET_DIR));
        let (signer, signer_origin) = resolve_signer(args, env, &solana, &config_name, &cluster, &localnet_dir)?;
        let fee_payer = args
            .fee_payer
            .as_deref()
            .map(|source| SignerSource::parse(source).map_err(|e| Failure::usage(format!("--fee-payer: {e}"))))
            .transpose()?;
        let cache = GenesisCache::in_state_dir(&state_dir_of(&localnet_dir));
        let identity = Identity::offline(&cluster, &localnet_dir, &cache);
        let Project { layers, notify, read_roots, run_down } = resolve_project(args)?;
        let run_down_url = match env.var("RUN_DOWN_URL") {
            Some(url) => RunDownConfig::checked_url(url.trim(), "$RUN_DOWN_URL").map_err(Failure::usage)?,
            None => run_down,
        };

        let mut settings = Settings {
            cluster,
            cluster_origin,
            identity,
            ws_url,
            commitment,
            signer,
            signer_origin,
            fee_payer,
            phrase: PhraseOptions { skip_validation: args.skip_seed_phrase_validation },
            programs: ProgramIds::default(),
            localnet_dir,
            yes: args.yes,
            lock_timeout: std::time::Duration::from_secs(args.lock_timeout),
            compute_unit_price: args.with_compute_unit_price,
            limits: Limits::default(),
            fallback_urls: fallback_urls(args)?,
            notify,
            read_roots,
            run_down_url,
            layers,
        };
        // The embedded chain installs its programs at these IDs too.
        settings.apply_layers()?;
        Ok(settings)
    }

    /// Learns which cluster an RPC URL reaches, when the cache does not know: one
    /// `getGenesisHash` (counted among the execution's round trips). Then the layers of that
    /// cluster apply, and a Solana CLI config that leads to mainnet-beta is refused.
    pub fn identify(&mut self) -> Result<(), Failure> {
        let Cluster::Rpc { url } = &self.cluster else { return Ok(()) };
        if self.identity.genesis.is_none() {
            // The cluster's URL, else the first fallback that answers.
            let mut failures = Vec::new();
            let answered = std::iter::once(url).chain(&self.fallback_urls).enumerate().find_map(|(i, u)| {
                match identity::fetch_genesis(u) {
                    Ok(genesis) => Some((i, u, genesis)),
                    Err(e) => {
                        failures.push(format!("{}: {e}", u.display()));
                        None
                    }
                }
            });
            let Some((i, answering, genesis)) = answered else {
                return Err(Failure::new(
                    ExitCode::Chain,
                    format!("cannot reach {}; nothing was sent", failures.join("; ")),
                ));
            };
            // A cache that cannot be written costs a request next time, nothing more.
            let _ = self.genesis_cache().put(answering.expose(), &genesis);
            self.identity = Identity::rpc(url, Some(genesis), Some(i));
            self.apply_layers()?;
        }
        if self.identity.is_mainnet() && self.cluster_origin.contains("json_rpc_url") {
            return Err(Failure::new(
                ExitCode::Refused,
                format!(
                    "{} leads to mainnet-beta (by its genesis hash): mainnet-beta must be chosen explicitly (-u or $RPC); nothing was sent",
                    self.cluster_origin
                ),
            ));
        }
        Ok(())
    }

    /// The cluster's name wherever it is shown: never a URL's credentials.
    pub fn cluster_name(&self) -> &str {
        &self.identity.name
    }

    /// True on mainnet-beta, known by its genesis hash (or, before it is known, by the URL).
    pub fn is_mainnet(&self) -> bool {
        match (&self.identity.genesis, &self.cluster) {
            (Some(_), _) => self.identity.is_mainnet(),
            (None, Cluster::Rpc { url }) => url.names_mainnet(),
            (None, Cluster::Embedded) => false,
        }
    }

    /// The cache of genesis hashes by URL, in the state directory.
    pub fn genesis_cache(&self) -> GenesisCache {
        GenesisCache::in_state_dir(&self.state_dir())
    }

    /// Every RPC URL in use (the cluster's, fallbacks, the websocket), to teach the redactor
    /// their credentials.
    pub fn urls(&self) -> Vec<&RpcUrl> {
        self.cluster.url().into_iter().chain(&self.fallback_urls).chain(&self.ws_url).collect()
    }

    /// Program IDs and limits: `[programs]`/`[limits]`, then the tables of this cluster (by any
    /// name it goes by), then the flags.
    fn apply_layers(&mut self) -> Result<(), Failure> {
        let layers = &self.layers;
        let name = &layers.config_name;
        let names = self.identity.table_names(&self.cluster);
        let bad = |e: crate::psyche::ids::BadProgramId| Failure::usage(e.to_string());
        let mut ids = ProgramIds::default();
        ids.apply(&layers.programs.all, &format!("{name} [programs]")).map_err(bad)?;
        let mut limits = layers.limits.all.clone();
        for table in &names {
            if let Some(layer) = layers.programs.clusters.get(table) {
                ids.apply(layer, &format!("{name} [programs.{table}]")).map_err(bad)?;
            }
            if let Some(cluster_limits) = layers.limits.clusters.get(table) {
                limits.max_collateral_per_invocation =
                    cluster_limits.max_collateral_per_invocation.or(limits.max_collateral_per_invocation);
                limits.allowed_run_ids = cluster_limits.allowed_run_ids.clone().or(limits.allowed_run_ids);
            }
        }
        ids.apply(&layers.flags, "--*-program-id").map_err(bad)?;
        self.programs = ids;
        self.limits = limits;
        Ok(())
    }
}

/// Every `--url` after the first: fallbacks, which must reach the same cluster (each is checked
/// when first switched to).
fn fallback_urls(args: &GlobalArgs) -> Result<Vec<RpcUrl>, Failure> {
    let mut urls = Vec::new();
    for text in args.url.iter().skip(1) {
        match Cluster::parse(text).map_err(|e| Failure::usage(format!("--url: {e}")))? {
            Cluster::Rpc { url } => urls.push(url),
            Cluster::Embedded => return Err(Failure::usage("--url embedded cannot be a fallback RPC URL")),
        }
    }
    Ok(urls)
}

fn parse_commitment(text: &str) -> Option<Commitment> {
    match text.trim() {
        "processed" => Some(Commitment::Processed),
        "confirmed" => Some(Commitment::Confirmed),
        "finalized" => Some(Commitment::Finalized),
        _ => None,
    }
}

fn resolve_cluster(
    args: &GlobalArgs,
    env: &dyn Env,
    solana: &SolanaConfig,
    config_name: &str,
    note: &mut dyn FnMut(String),
) -> Result<(Cluster, String), Failure> {
    if let Some(url) = args.url.first() {
        return Ok((Cluster::parse(url).map_err(|e| Failure::usage(format!("--url: {e}")))?, "--url".into()));
    }
    if let Some(url) = env.var("RPC") {
        return Ok((Cluster::parse(&url).map_err(|e| Failure::usage(format!("$RPC: {e}")))?, "$RPC".into()));
    }
    if let Some(url) = &solana.json_rpc_url {
        let cluster = Cluster::parse(url).map_err(|e| Failure::usage(format!("{config_name}: json_rpc_url: {e}")))?;
        // Mainnet is only ever chosen explicitly: known by the URL's cached genesis hash, or
        // by its text (`identify` refuses it later if its genesis hash says so).
        let cache = GenesisCache::in_state_dir(&state_dir_of(
            &args.localnet_dir.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_LOCALNET_DIR)),
        ));
        let cached = cache.get(url.trim().trim_matches('"')).and_then(|g| identity::moniker(&g));
        let mainnet = cached == Some("mainnet-beta") || cluster.url().is_some_and(RpcUrl::names_mainnet);
        if mainnet {
            note(format!(
                "ignoring json_rpc_url {cluster} from {config_name}: mainnet-beta must be chosen explicitly (-u mainnet-beta or $RPC); using the embedded localnet"
            ));
        } else {
            return Ok((cluster, format!("{config_name} json_rpc_url")));
        }
    }
    Ok((Cluster::Embedded, "default".into()))
}

fn resolve_signer(
    args: &GlobalArgs,
    env: &dyn Env,
    solana: &SolanaConfig,
    config_name: &str,
    cluster: &Cluster,
    localnet_dir: &Path,
) -> Result<(SignerSource, String), Failure> {
    if let Some(value) = &args.keypair {
        return Ok((SignerSource::parse(value).map_err(Failure::usage)?, "--keypair".into()));
    }
    if let Some(secret) = env.var("RAW_WALLET_PRIVATE_KEY") {
        let var = "RAW_WALLET_PRIVATE_KEY".to_string();
        return Ok((SignerSource::Secret { var, secret }, "$RAW_WALLET_PRIVATE_KEY".into()));
    }
    if let Some(path) = env.var("WALLET_PRIVATE_KEY_PATH") {
        return Ok((SignerSource::parse(&path).map_err(Failure::usage)?, "$WALLET_PRIVATE_KEY_PATH".into()));
    }
    // On the embedded chain the operator's real wallet is not needed: a generated payer is.
    if *cluster == Cluster::Embedded {
        return Ok((SignerSource::LocalnetPayer(localnet_dir.join("payer.json")), "localnet default".into()));
    }
    if let Some(path) = &solana.keypair_path {
        let source = SignerSource::parse(path).map_err(|e| Failure::usage(format!("{config_name}: {e}")))?;
        return Ok((source, format!("{config_name} keypair_path")));
    }
    let default = crate::chain::signer::expand_home("~/.config/solana/id.json");
    Ok((SignerSource::File(default), "default".into()))
}

/// What the project config (and flags) resolve to.
struct Project {
    layers: Layers,
    notify: NotifyConfig,
    read_roots: Vec<PathBuf>,
    /// The run-down service's URL from the config (or Nous's).
    run_down: String,
}

/// The project config file and its parsed content (defaults when there is none).
fn project_config(args: &GlobalArgs) -> Result<(PathBuf, ProjectConfig), Failure> {
    let path = args.project_config.clone().unwrap_or_else(|| PathBuf::from(PROJECT_CONFIG));
    let project = match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str::<ProjectConfig>(&text).map_err(|e| {
            let message = crate::secrets::key_material::scrub(e.message().trim());
            Failure::usage(format!("{}: {message}", path.display()))
        })?,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound && args.project_config.is_none() => {
            ProjectConfig::default()
        }
        Err(err) => return Err(Failure::usage(format!("{}: {err}", path.display()))),
    };
    Ok((path, project))
}

/// `[files] read_roots`, each made absolute against the config file's folder.
fn read_roots(path: &Path, files: &FilesTable) -> Vec<PathBuf> {
    let folder = std::path::absolute(path).ok().and_then(|p| p.parent().map(Path::to_path_buf)).unwrap_or_default();
    files.read_roots.iter().map(|root| folder.join(crate::chain::signer::expand_home(root))).collect()
}

/// The layers of program IDs and limits, notification targets, read roots and the run-down
/// service URL from the project config and flags.
fn resolve_project(args: &GlobalArgs) -> Result<Project, Failure> {
    let (path, project) = project_config(args)?;
    let name = path.display().to_string();
    let flags = ProgramOverrides {
        coordinator: args.coordinator_program_id.clone(),
        authorizer: args.authorizer_program_id.clone(),
        treasurer: args.treasurer_program_id.clone(),
    };
    project.notify.check(&name).map_err(Failure::usage)?;
    let read_roots = read_roots(&path, &project.files);
    let run_down = project.run_down.url(&format!("{name} [run_down] url")).map_err(Failure::usage)?;
    let layers = Layers { config_name: name, programs: project.programs, limits: project.limits, flags };
    Ok(Project { layers, notify: project.notify, read_roots, run_down })
}

/// The state directory of a localnet directory: its parent, `.psyche-runbook` by default.
fn state_dir_of(localnet_dir: &Path) -> PathBuf {
    localnet_dir.parent().filter(|p| !p.as_os_str().is_empty()).map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

impl Settings {
    /// Where psyche-runbook keeps its local state (journal, locks, logs): the localnet
    /// directory's parent, `.psyche-runbook` by default.
    pub fn state_dir(&self) -> PathBuf {
        state_dir_of(&self.localnet_dir)
    }

    /// Settings for commands that never touch a chain (`check`, `docs`): the embedded cluster
    /// and upstream program IDs, whatever the environment says.
    pub fn offline(args: &GlobalArgs) -> Self {
        let localnet_dir = args.localnet_dir.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_LOCALNET_DIR));
        Settings {
            cluster: Cluster::Embedded,
            cluster_origin: "offline".into(),
            identity: Identity::embedded(&localnet_dir),
            ws_url: None,
            commitment: Commitment::Confirmed,
            signer: SignerSource::LocalnetPayer(localnet_dir.join("payer.json")),
            signer_origin: "offline".into(),
            fee_payer: None,
            phrase: PhraseOptions::default(),
            programs: ProgramIds::default(),
            localnet_dir,
            yes: false,
            lock_timeout: crate::localnet::handle::DEFAULT_LOCK_TIMEOUT,
            compute_unit_price: None,
            limits: Limits::default(),
            fallback_urls: Vec::new(),
            notify: NotifyConfig::default(),
            // `check` resolves modules as `run` would, within the same roots.
            read_roots: project_config(args).map(|(path, p)| read_roots(&path, &p.files)).unwrap_or_default(),
            run_down_url: crate::rundown::DEFAULT_URL.to_string(),
            layers: Layers::default(),
        }
    }
}

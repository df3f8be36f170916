//! The coordinator's run state machine (spec 5) on a decoded `CoordinatorAccount`: pausing and
//! resuming, joining, witnessing, checkpoints and time-driven ticks with epoch accounting.
//! Pure functions of the account and the clock, so the program and its tests share them.

use crate::psyche::accounts::coordinator_account::{
    ClientState, CoordinatorAccount, EpochClient, EpochState, MAX_CLIENTS, MAX_WITNESSES, NUM_ROUNDS, RegisteredClient,
    Round, RunState, Witness,
};
use crate::psyche::checks::{check_config, check_model, check_run_config};
use crate::psyche::config::RunConfig;
use crate::psyche::instructions::coordinator::Update;
use crate::psyche::model::Checkpoint;
use solana_sdk::pubkey::Pubkey;

/// Coordinator errors with upstream's current numbering (spec 2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoordinatorError {
    UpdateConfigFinished,
    UpdateConfigNotHalted,
    ClientsFull,
    ConfigSanityCheckFailed(String),
    ModelSanityCheckFailed(String),
    SignerNotAClient,
    SignerMismatch,
    CloseCoordinatorNotHalted,
    InvalidRunState,
    DuplicateWitness,
    Halted,
    WitnessesFull,
    CannotResume,
    MoreClientsThanBatches,
    RunIdInvalidLength,
}

impl CoordinatorError {
    pub fn code(&self) -> u32 {
        match self {
            Self::UpdateConfigFinished => 6000,
            Self::UpdateConfigNotHalted => 6001,
            Self::ClientsFull => 6003,
            Self::ConfigSanityCheckFailed(_) => 6004,
            Self::ModelSanityCheckFailed(_) => 6005,
            Self::SignerNotAClient => 6007,
            Self::SignerMismatch => 6008,
            Self::CloseCoordinatorNotHalted => 6009,
            Self::InvalidRunState => 6012,
            Self::DuplicateWitness => 6013,
            Self::Halted => 6015,
            Self::WitnessesFull => 6017,
            Self::CannotResume => 6018,
            Self::MoreClientsThanBatches => 6022,
            Self::RunIdInvalidLength => 6023,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::UpdateConfigFinished => "UpdateConfigFinished",
            Self::UpdateConfigNotHalted => "UpdateConfigNotHalted",
            Self::ClientsFull => "ClientsFull",
            Self::ConfigSanityCheckFailed(_) => "ConfigSanityCheckFailed",
            Self::ModelSanityCheckFailed(_) => "ModelSanityCheckFailed",
            Self::SignerNotAClient => "SignerNotAClient",
            Self::SignerMismatch => "SignerMismatch",
            Self::CloseCoordinatorNotHalted => "CloseCoordinatorNotHalted",
            Self::InvalidRunState => "CoordinatorErrorInvalidRunState",
            Self::DuplicateWitness => "CoordinatorErrorDuplicateWitness",
            Self::Halted => "CoordinatorErrorHalted",
            Self::WitnessesFull => "CoordinatorErrorWitnessesFull",
            Self::CannotResume => "CoordinatorErrorCannotResume",
            Self::MoreClientsThanBatches => "MoreClientsThanBatches",
            Self::RunIdInvalidLength => "RunIdInvalidLength",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::ConfigSanityCheckFailed(detail) | Self::ModelSanityCheckFailed(detail) => detail.clone(),
            other => other.name().to_string(),
        }
    }
}

type Result<T> = std::result::Result<T, CoordinatorError>;

/// The on-chain clock as the state machine reads it.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub unix: u64,
    pub slot: u64,
}

/// What a tick did at an epoch boundary: `Some(true)` for a completed epoch.
pub type EpochEnd = Option<bool>;

pub fn update(acc: &mut CoordinatorAccount, update: Update) -> Result<()> {
    if acc.run_state == RunState::Finished {
        return Err(CoordinatorError::UpdateConfigFinished);
    }
    let changes_training = update.config.is_some() || update.model.is_some();
    let touches_run = changes_training || update.progress.is_some();
    if touches_run && !acc.run_state.is_halted() {
        return Err(CoordinatorError::UpdateConfigNotHalted);
    }
    if let Some(metadata) = update.metadata {
        acc.metadata = metadata;
    }
    if let Some(config) = update.config {
        check_config(&config).map_err(|v| CoordinatorError::ConfigSanityCheckFailed(v.to_string()))?;
        acc.config = config;
    }
    if let Some(model) = update.model {
        check_model(&model).map_err(|v| CoordinatorError::ModelSanityCheckFailed(v.to_string()))?;
        acc.model = model;
    }
    if changes_training {
        check_cold_start(acc)?;
    }
    if let Some(progress) = update.progress {
        // Upstream reports a bad progress as a model error.
        if progress.step == 0 {
            return Err(CoordinatorError::ModelSanityCheckFailed("progress.step must be > 0".into()));
        }
        acc.progress = progress;
    }
    Ok(())
}

fn check_cold_start(acc: &CoordinatorAccount) -> Result<()> {
    let rc = RunConfig { config: acc.config, model: acc.model.clone() };
    match check_run_config(&rc) {
        Ok(()) => Ok(()),
        Err(v) => {
            let cold: Vec<_> = v.0.iter().filter(|v| v.key == "model.LLM.cold_start_warmup_steps").collect();
            match cold.first() {
                Some(violation) => Err(CoordinatorError::ConfigSanityCheckFailed(violation.to_string())),
                None => Ok(()),
            }
        }
    }
}

pub fn set_paused(acc: &mut CoordinatorAccount, paused: bool, now: Now) -> Result<EpochEnd> {
    if paused {
        match acc.run_state {
            s if s.is_halted() => Err(CoordinatorError::Halted),
            s if s.is_active() => {
                acc.pending_pause = true;
                Ok(None)
            }
            _ => {
                withdraw_all(acc);
                enter(acc, RunState::Paused, now);
                acc.epoch_state.cold_start_epoch = true;
                Ok(None)
            }
        }
    } else {
        if acc.run_state == RunState::Uninitialized {
            check_config(&acc.config).map_err(|v| CoordinatorError::ConfigSanityCheckFailed(v.to_string()))?;
            check_model(&acc.model).map_err(|v| CoordinatorError::ModelSanityCheckFailed(v.to_string()))?;
            check_cold_start(acc)?;
            acc.run_state = RunState::Paused;
            acc.progress.step = 1;
        }
        if acc.run_state != RunState::Paused {
            return Err(CoordinatorError::CannotResume);
        }
        let next =
            if acc.progress.step >= acc.config.total_steps { RunState::Finished } else { RunState::WaitingForMembers };
        enter(acc, next, now);
        // Every earlier join is void: clients re-join after a resume.
        acc.next_active += 1;
        tick_running(acc, now)
    }
}

pub fn join(acc: &mut CoordinatorAccount, signer: Pubkey, p2p_identity: [u8; 32], now: Now) -> Result<EpochEnd> {
    let next_active = acc.next_active;
    if let Some(client) = acc.clients.iter_mut().find(|c| c.signer == signer) {
        client.p2p_identity = p2p_identity;
        client.active = next_active;
    } else {
        if acc.clients.len() >= usize::from(acc.config.global_batch_size_end) {
            return Err(CoordinatorError::MoreClientsThanBatches);
        }
        if acc.clients.len() >= MAX_CLIENTS {
            return Err(CoordinatorError::ClientsFull);
        }
        acc.clients.push(RegisteredClient { signer, p2p_identity, earned: 0, slashed: 0, active: next_active });
    }
    if acc.run_state.is_halted() { Ok(None) } else { tick_running(acc, now) }
}

pub fn witness(acc: &mut CoordinatorAccount, signer: Pubkey, witness: Witness, now: Now) -> Result<EpochEnd> {
    if !acc.epoch_state.clients.iter().any(|c| c.signer == signer) {
        return Err(CoordinatorError::SignerNotAClient);
    }
    if acc.run_state != RunState::RoundTrain {
        return Err(CoordinatorError::InvalidRunState);
    }
    let round = current_round_mut(&mut acc.epoch_state);
    if round.witnesses.iter().any(|w| w.index == witness.index) {
        return Err(CoordinatorError::DuplicateWitness);
    }
    if round.witnesses.len() >= MAX_WITNESSES {
        return Err(CoordinatorError::WitnessesFull);
    }
    round.witnesses.push(witness);
    tick_running(acc, now)
}

pub fn checkpoint(acc: &mut CoordinatorAccount, signer: Pubkey, repo: Checkpoint, now: Now) -> Result<EpochEnd> {
    let registered = acc.clients.iter().any(|c| c.signer == signer);
    let in_epoch = acc.epoch_state.clients.iter().any(|c| c.signer == signer);
    if !registered || !in_epoch {
        return Err(CoordinatorError::SignerNotAClient);
    }
    let llm = acc.model.llm_mut();
    llm.checkpoint = match (&llm.checkpoint, repo) {
        (Checkpoint::P2P(_), Checkpoint::Hub(h)) => Checkpoint::P2P(h),
        (Checkpoint::P2PGcs(_), Checkpoint::Gcs(g)) => Checkpoint::P2PGcs(g),
        (Checkpoint::Hub(_), Checkpoint::Hub(h)) => Checkpoint::Hub(h),
        (Checkpoint::Gcs(_), Checkpoint::Gcs(g)) => Checkpoint::Gcs(g),
        (Checkpoint::P2PGcs(_), Checkpoint::Hub(h)) => Checkpoint::P2P(h),
        (Checkpoint::P2P(_), Checkpoint::Gcs(g)) => Checkpoint::P2PGcs(g),
        (current, _) => current.clone(),
    };
    if acc.run_state.is_halted() { Ok(None) } else { tick_running(acc, now) }
}

/// The `tick` instruction: refused while halted.
pub fn tick(acc: &mut CoordinatorAccount, now: Now) -> Result<EpochEnd> {
    if acc.run_state.is_halted() {
        return Err(CoordinatorError::Halted);
    }
    tick_running(acc, now)
}

fn enter(acc: &mut CoordinatorAccount, state: RunState, now: Now) {
    acc.run_state = state;
    acc.run_state_start_unix_timestamp = now.unix;
}

/// Seconds in the current state, and whether a timeout of `limit` seconds has passed (never in
/// the same second the state began).
fn elapsed(acc: &CoordinatorAccount, now: Now, limit: u64) -> bool {
    now.unix != acc.run_state_start_unix_timestamp
        && now.unix.saturating_sub(acc.run_state_start_unix_timestamp) >= limit
}

fn current_round_mut(epoch: &mut EpochState) -> &mut Round {
    let head = epoch.rounds_head as usize % NUM_ROUNDS;
    &mut epoch.rounds[head]
}

fn witness_target(acc: &CoordinatorAccount) -> usize {
    match acc.config.witness_nodes {
        0 => acc.epoch_state.clients.len().min(MAX_WITNESSES),
        n => usize::from(n),
    }
}

fn quorum(witness_nodes: usize) -> usize {
    match witness_nodes {
        0 | 1 => witness_nodes,
        2 => 2,
        3 => 2,
        w => w * 2 / 3,
    }
}

fn random_seed(now: Now) -> u64 {
    let mut bytes = now.unix.to_le_bytes().to_vec();
    bytes.extend_from_slice(&now.slot.to_le_bytes());
    let hash = solana_sdk::hash::hash(&bytes).to_bytes();
    u64::from_le_bytes(hash[..8].try_into().expect("8 bytes"))
}

/// The batch size of a round starting at data index `index`.
fn batch_at(acc: &CoordinatorAccount, index: u64) -> u64 {
    u64::from(acc.config.batch_size(index * u64::from(acc.model.llm().max_seq_len)))
}

fn withdraw_all(acc: &mut CoordinatorAccount) {
    for client in &mut acc.epoch_state.clients {
        if client.state == ClientState::Healthy {
            client.state = ClientState::Withdrawn;
        }
    }
}

fn tick_running(acc: &mut CoordinatorAccount, now: Now) -> Result<EpochEnd> {
    let end = match acc.run_state {
        RunState::WaitingForMembers => {
            tick_waiting(acc, now);
            None
        }
        RunState::Warmup => tick_warmup(acc, now),
        RunState::RoundTrain => {
            let witnessed = acc.epoch_state.rounds[acc.epoch_state.rounds_head as usize % NUM_ROUNDS].witnesses.len();
            if witnessed >= witness_target(acc) || elapsed(acc, now, acc.config.max_round_train_time) {
                enter(acc, RunState::RoundWitness, now);
            }
            None
        }
        RunState::RoundWitness => {
            tick_witness(acc, now);
            None
        }
        RunState::Cooldown => tick_cooldown(acc, now),
        _ => None,
    };
    if end.is_some() {
        account_epoch(acc);
    }
    Ok(end)
}

fn tick_waiting(acc: &mut CoordinatorAccount, now: Now) {
    let pending: Vec<&RegisteredClient> = acc.clients.iter().filter(|c| c.active == acc.next_active).collect();
    if pending.len() < usize::from(acc.config.init_min_clients)
        || !elapsed(acc, now, u64::from(acc.config.waiting_for_members_extra_time))
    {
        return;
    }
    let previous: Vec<Pubkey> = acc.epoch_state.clients.iter().map(|c| c.signer).collect();
    let clients: Vec<EpochClient> = pending
        .iter()
        .take(MAX_CLIENTS)
        .map(|c| EpochClient {
            signer: c.signer,
            p2p_identity: c.p2p_identity,
            state: ClientState::Healthy,
            exited_height: 0,
        })
        .collect();
    let fresh = clients.iter().all(|c| !previous.contains(&c.signer));
    acc.epoch_state = EpochState {
        cold_start_epoch: acc.epoch_state.cold_start_epoch,
        start_step: acc.progress.step,
        start_timestamp: now.unix,
        first_round: true,
        clients,
        ..EpochState::default()
    };
    if fresh {
        let llm = acc.model.llm_mut();
        llm.checkpoint = match &llm.checkpoint {
            Checkpoint::P2P(h) => Checkpoint::Hub(h.clone()),
            Checkpoint::P2PGcs(g) => Checkpoint::Gcs(g.clone()),
            other => other.clone(),
        };
    }
    // Rates set for the future apply from the first tick of the warmup.
    acc.current_epoch_rates = acc.future_epoch_rates;
    acc.is_warmup_first_tick = true;
    enter(acc, RunState::Warmup, now);
}

fn tick_warmup(acc: &mut CoordinatorAccount, now: Now) -> EpochEnd {
    acc.is_warmup_first_tick = false;
    let healthy = acc.epoch_state.clients.iter().filter(|c| c.state == ClientState::Healthy).count();
    if healthy < usize::from(acc.config.min_clients) {
        enter(acc, RunState::WaitingForMembers, now);
        return Some(false);
    }
    if elapsed(acc, now, acc.config.warmup_time) {
        // Clients of this epoch must re-join for the next one.
        acc.next_active += 1;
        acc.is_training_first_tick = true;
        acc.epoch_state.rounds_head = 0;
        acc.epoch_state.rounds[0] = Round {
            witnesses: Vec::new(),
            data_index: acc.progress.epoch_start_data_index,
            random_seed: random_seed(now),
            height: 0,
            clients_len: acc.epoch_state.clients.len() as u16,
            tie_breaker_tasks: 0,
        };
        enter(acc, RunState::RoundTrain, now);
    }
    None
}

fn tick_witness(acc: &mut CoordinatorAccount, now: Now) {
    if !elapsed(acc, now, acc.config.round_witness_time) {
        return;
    }
    acc.is_training_first_tick = false;
    acc.epoch_state.first_round = false;
    acc.progress.step += 1;
    let head = acc.epoch_state.rounds_head as usize % NUM_ROUNDS;
    let witnesses = acc.epoch_state.rounds[head].witnesses.len();
    if witnesses == 0 {
        withdraw_all(acc);
        enter(acc, RunState::Cooldown, now);
        return;
    }
    if acc.epoch_state.last_step == 0
        && now.unix.saturating_sub(acc.epoch_state.start_timestamp) >= acc.config.epoch_time
    {
        acc.epoch_state.last_step = acc.progress.step + 2;
    }
    let healthy = acc.epoch_state.clients.iter().filter(|c| c.state == ClientState::Healthy).count();
    let done = acc.progress.step == acc.epoch_state.last_step
        || healthy < usize::from(acc.config.min_clients)
        || witnesses < quorum(witness_target(acc))
        || acc.progress.step >= acc.config.total_steps
        || acc.pending_pause;
    if done {
        enter(acc, RunState::Cooldown, now);
        return;
    }
    let previous = acc.epoch_state.rounds[head].clone();
    let next = (head + 1) % NUM_ROUNDS;
    acc.epoch_state.rounds_head = next as u32;
    acc.epoch_state.rounds[next] = Round {
        witnesses: Vec::new(),
        data_index: previous.data_index + batch_at(acc, previous.data_index),
        random_seed: random_seed(now),
        height: previous.height + 1,
        clients_len: acc.epoch_state.clients.len() as u16,
        tie_breaker_tasks: 0,
    };
    enter(acc, RunState::RoundTrain, now);
}

fn tick_cooldown(acc: &mut CoordinatorAccount, now: Now) -> EpochEnd {
    if !elapsed(acc, now, acc.config.cooldown_time) {
        return None;
    }
    let head = acc.epoch_state.rounds_head as usize % NUM_ROUNDS;
    let last = acc.epoch_state.rounds[head].data_index;
    acc.progress.epoch_start_data_index = last + batch_at(acc, last);
    acc.progress.epoch += 1;
    let llm = acc.model.llm_mut();
    llm.checkpoint = match &llm.checkpoint {
        Checkpoint::Hub(h) | Checkpoint::Dummy(h) => Checkpoint::P2P(h.clone()),
        Checkpoint::Gcs(g) => Checkpoint::P2PGcs(g.clone()),
        other => other.clone(),
    };
    if acc.pending_pause {
        withdraw_all(acc);
        acc.pending_pause = false;
        acc.epoch_state.cold_start_epoch = true;
        enter(acc, RunState::Paused, now);
    } else if acc.progress.step >= acc.config.total_steps {
        enter(acc, RunState::Finished, now);
    } else {
        enter(acc, RunState::WaitingForMembers, now);
    }
    Some(true)
}

/// Points at an epoch boundary (spec 5.3): the epoch's shared earning rate split among its
/// clients, paid to those still healthy; slashing for ejected ones.
fn account_epoch(acc: &mut CoordinatorAccount) {
    let share = match acc.epoch_state.clients.len() {
        0 => 0,
        n => acc.current_epoch_rates.earning_rate_total_shared / n as u64,
    };
    let slash = acc.current_epoch_rates.slashing_rate_per_client;
    for client in &mut acc.clients {
        if acc.epoch_state.clients.iter().any(|c| c.signer == client.signer && c.state == ClientState::Healthy) {
            client.earned += share;
        }
        if acc.epoch_state.exited_clients.iter().any(|c| c.signer == client.signer && c.state == ClientState::Ejected) {
            client.slashed += slash;
        }
    }
}

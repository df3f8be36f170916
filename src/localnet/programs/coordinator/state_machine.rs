//! The coordinator's run state machine on a decoded `CoordinatorAccount`, following upstream's
//! `Coordinator` (shared/coordinator) and the program's `CoordinatorInstanceState` around it:
//! pausing and resuming, joining, warmup and round witnesses with committee proofs, health
//! checks that drop clients, checkpoints, and time-driven ticks with epoch point accounting.
//! Pure functions of the account and the clock, so the program and its tests share them.
//! Where upstream panics, the step fails with `Panic` and the transaction fails as a panicking
//! program's would.

use crate::localnet::programs::coordinator::committee::{self, Committee, Selection};
use crate::psyche::accounts::coordinator_account::{
    ClientState, CoordinatorAccount, EpochClient, EpochState, MAX_CLIENTS, MAX_WITNESSES, NUM_ROUNDS, RegisteredClient,
    Round, RunState, Witness,
};
use crate::psyche::checks::{check_config, check_model, check_run_config};
use crate::psyche::config::RunConfig;
use crate::psyche::instructions::coordinator::Update;
use crate::psyche::model::Checkpoint;
use solana_sdk::pubkey::Pubkey;

/// Coordinator errors with upstream's numbering (spec 2.3), plus upstream's panics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoordinatorError {
    UpdateConfigFinished,
    UpdateConfigNotHalted,
    ClientsFull,
    ConfigSanityCheckFailed(String),
    ModelSanityCheckFailed(String),
    ProgressSanityCheckFailed,
    SignerNotAClient,
    SignerMismatch,
    CloseCoordinatorNotHalted,
    NoActiveRound,
    InvalidWitness,
    InvalidRunState,
    DuplicateWitness,
    InvalidHealthCheck,
    Halted,
    WitnessesFull,
    CannotResume,
    InvalidCommitteeSelection,
    InvalidCommitteeProof,
    MoreClientsThanBatches,
    RunIdInvalidLength,
    /// Upstream panics here (an unwrap, an unimplemented branch or an unreachable one): the transaction fails
    /// with `ProgramFailedToComplete`.
    Panic(&'static str),
}

impl CoordinatorError {
    /// The Anchor error number; `None` for a panic.
    pub fn code(&self) -> Option<u32> {
        Some(match self {
            Self::UpdateConfigFinished => 6000,
            Self::UpdateConfigNotHalted => 6001,
            Self::ClientsFull => 6003,
            Self::ConfigSanityCheckFailed(_) => 6004,
            Self::ModelSanityCheckFailed(_) => 6005,
            Self::ProgressSanityCheckFailed => 6006,
            Self::SignerNotAClient => 6007,
            Self::SignerMismatch => 6008,
            Self::CloseCoordinatorNotHalted => 6009,
            Self::NoActiveRound => 6010,
            Self::InvalidWitness => 6011,
            Self::InvalidRunState => 6012,
            Self::DuplicateWitness => 6013,
            Self::InvalidHealthCheck => 6014,
            Self::Halted => 6015,
            Self::WitnessesFull => 6017,
            Self::CannotResume => 6018,
            Self::InvalidCommitteeSelection => 6020,
            Self::InvalidCommitteeProof => 6021,
            Self::MoreClientsThanBatches => 6022,
            Self::RunIdInvalidLength => 6023,
            Self::Panic(_) => return None,
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::UpdateConfigFinished => "UpdateConfigFinished",
            Self::UpdateConfigNotHalted => "UpdateConfigNotHalted",
            Self::ClientsFull => "ClientsFull",
            Self::ConfigSanityCheckFailed(_) => "ConfigSanityCheckFailed",
            Self::ModelSanityCheckFailed(_) => "ModelSanityCheckFailed",
            Self::ProgressSanityCheckFailed => "ProgressSanityCheckFailed",
            Self::SignerNotAClient => "SignerNotAClient",
            Self::SignerMismatch => "SignerMismatch",
            Self::CloseCoordinatorNotHalted => "CloseCoordinatorNotHalted",
            Self::NoActiveRound => "CoordinatorErrorNoActiveRound",
            Self::InvalidWitness => "CoordinatorErrorInvalidWitness",
            Self::InvalidRunState => "CoordinatorErrorInvalidRunState",
            Self::DuplicateWitness => "CoordinatorErrorDuplicateWitness",
            Self::InvalidHealthCheck => "CoordinatorErrorInvalidHealthCheck",
            Self::Halted => "CoordinatorErrorHalted",
            Self::WitnessesFull => "CoordinatorErrorWitnessesFull",
            Self::CannotResume => "CoordinatorErrorCannotResume",
            Self::InvalidCommitteeSelection => "CoordinatorErrorInvalidCommitteeSelection",
            Self::InvalidCommitteeProof => "CoordinatorErrorInvalidCommitteeProof",
            Self::MoreClientsThanBatches => "MoreClientsThanBatches",
            Self::RunIdInvalidLength => "RunIdInvalidLength",
            Self::Panic(_) => "Panic",
        }
    }

    /// Upstream's `#[msg]` text (a panic's message for a panic).
    pub fn message(&self) -> &'static str {
        match self {
            Self::UpdateConfigFinished => "Cannot update config of finished run",
            Self::UpdateConfigNotHalted => "Cannot update config when not halted",
            Self::ClientsFull => "Clients list full",
            Self::ConfigSanityCheckFailed(_) => "Config sanity check failed",
            Self::ModelSanityCheckFailed(_) => "Model sanity check failed",
            Self::ProgressSanityCheckFailed => "Progress sanity check failed",
            Self::SignerNotAClient => "Signer not a client",
            Self::SignerMismatch => "Signer mismatch",
            Self::CloseCoordinatorNotHalted => "Cannot close coordinator account when not halted",
            Self::NoActiveRound => "Coordinator error: No active round",
            Self::InvalidWitness => "Coordinator error: Invalid witness",
            Self::InvalidRunState => "Coordinator error: Invalid run state",
            Self::DuplicateWitness => "Coordinator error: Duplicate witness",
            Self::InvalidHealthCheck => "Coordinator error: Invalid health check",
            Self::Halted => "Coordinator error: Halted",
            Self::WitnessesFull => "Coordinator error: Witnesses full",
            Self::CannotResume => "Coordinator error: Cannot resume",
            Self::InvalidCommitteeSelection => "Coordinator error: Invalid committee selection",
            Self::InvalidCommitteeProof => "Coordinator error: Invalid committee proof",
            Self::MoreClientsThanBatches => "There are more clients than total number of batches to assign",
            Self::RunIdInvalidLength => "run_id must be 32 bytes or less",
            Self::Panic(what) => what,
        }
    }

    /// What a failed sanity check found (logged before the error, which upstream words alike
    /// for every cause).
    pub fn detail(&self) -> Option<&str> {
        match self {
            Self::ConfigSanityCheckFailed(detail) | Self::ModelSanityCheckFailed(detail) => Some(detail),
            _ => None,
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

impl Now {
    /// Upstream's round seed: the first 8 bytes of SHA-256(unix timestamp, slot).
    fn random_seed(self) -> u64 {
        let hash = solana_sdk::hash::hashv(&[&self.unix.to_le_bytes(), &self.slot.to_le_bytes()]).to_bytes();
        u64::from_le_bytes(hash[..8].try_into().expect("8 bytes"))
    }
}

/// What a tick did at an epoch boundary: `Some(true)` for a completed epoch.
pub type EpochEnd = Option<bool>;

/// One `health_check`: the accused client's signer and its committee proof.
#[derive(Debug, Clone, Copy)]
pub struct HealthCheck {
    pub signer: Pubkey,
    pub committee: u8,
    pub position: u64,
    pub index: u64,
}

pub fn update(acc: &mut CoordinatorAccount, update: Update) -> Result<()> {
    if acc.run_state == RunState::Finished {
        return Err(CoordinatorError::UpdateConfigFinished);
    }
    let changes_training = update.config.is_some() || update.model.is_some();
    if (changes_training || update.progress.is_some()) && !acc.run_state.is_halted() {
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
    let Err(violations) = check_run_config(&rc) else { return Ok(()) };
    match violations.0.iter().find(|v| v.key == "model.LLM.cold_start_warmup_steps") {
        Some(violation) => Err(CoordinatorError::ConfigSanityCheckFailed(violation.to_string())),
        None => Ok(()),
    }
}

/// `set_paused`: pausing an active run only sets `pending_pause`; resuming checks config,
/// model and progress, voids every earlier join and ticks, so resuming a run with no steps
/// left fails with `Halted` (the tick of a Finished run) and the run stays Paused.
pub fn set_paused(acc: &mut CoordinatorAccount, paused: bool, now: Now) -> Result<EpochEnd> {
    if paused {
        if acc.run_state.is_halted() {
            return Err(CoordinatorError::Halted);
        }
        if acc.run_state.is_active() {
            acc.pending_pause = true;
        } else {
            withdraw_all(acc);
            change_state(acc, RunState::Paused, now)?;
            acc.epoch_state.cold_start_epoch = true;
        }
        return Ok(None);
    }
    check_config(&acc.config).map_err(|v| CoordinatorError::ConfigSanityCheckFailed(v.to_string()))?;
    check_model(&acc.model).map_err(|v| CoordinatorError::ModelSanityCheckFailed(v.to_string()))?;
    check_cold_start(acc)?;
    if acc.run_state == RunState::Uninitialized {
        acc.run_state = RunState::Paused;
        acc.progress.step = 1;
    }
    if acc.progress.step == 0 {
        return Err(CoordinatorError::ProgressSanityCheckFailed);
    }
    if acc.run_state != RunState::Paused {
        return Err(CoordinatorError::CannotResume);
    }
    start_waiting_for_members(acc, now)?;
    acc.next_active += 1;
    tick(acc, now)
}

pub fn join(acc: &mut CoordinatorAccount, signer: Pubkey, p2p_identity: [u8; 32], now: Now) -> Result<EpochEnd> {
    let next_active = acc.next_active;
    if let Some(client) = acc.clients.iter_mut().find(|c| c.signer == signer) {
        client.p2p_identity = p2p_identity;
        client.active = next_active;
    } else {
        if usize::from(acc.config.global_batch_size_end) == acc.clients.len() {
            return Err(CoordinatorError::MoreClientsThanBatches);
        }
        if acc.clients.len() >= MAX_CLIENTS {
            return Err(CoordinatorError::ClientsFull);
        }
        acc.clients.push(RegisteredClient { signer, p2p_identity, earned: 0, slashed: 0, active: next_active });
    }
    if acc.run_state.is_halted() { Ok(None) } else { tick(acc, now) }
}

/// The permanent registry's lookup every client message starts with.
fn find_signer(acc: &CoordinatorAccount, signer: &Pubkey) -> Result<()> {
    match acc.clients.iter().any(|c| c.signer == *signer) {
        true => Ok(()),
        false => Err(CoordinatorError::SignerNotAClient),
    }
}

fn witness_nodes(acc: &CoordinatorAccount) -> usize {
    match acc.config.witness_nodes {
        0 => acc.epoch_state.clients.len().min(MAX_WITNESSES),
        n => usize::from(n),
    }
}

/// Whether `from` already witnessed this round, by the client each stored witness names.
fn already_witnessed(acc: &CoordinatorAccount, from: &Pubkey) -> Result<bool> {
    let round = current_round(acc);
    for stored in &round.witnesses {
        // Upstream indexes the clients list with the stored index unchecked.
        let client = acc
            .epoch_state
            .clients
            .get(stored.index as usize)
            .ok_or(CoordinatorError::Panic("index out of bounds: a stored witness names no client"))?;
        if client.signer == *from {
            return Ok(true);
        }
    }
    Ok(false)
}

fn push_witness(acc: &mut CoordinatorAccount, witness: Witness) -> Result<usize> {
    let round = current_round_mut(acc);
    if round.witnesses.len() >= MAX_WITNESSES {
        return Err(CoordinatorError::WitnessesFull);
    }
    round.witnesses.push(witness);
    Ok(round.witnesses.len())
}

/// `warmup_witness`: anyone of the epoch may send one; once `witness_nodes` arrived, training
/// starts before the warmup time is up. One arriving after that start is ignored.
pub fn warmup_witness(acc: &mut CoordinatorAccount, from: Pubkey, witness: Witness, now: Now) -> Result<EpochEnd> {
    find_signer(acc, &from)?;
    if acc.run_state.is_halted() {
        return Err(CoordinatorError::Halted);
    }
    if acc.run_state != RunState::RoundTrain {
        if acc.run_state != RunState::Warmup {
            return Err(CoordinatorError::InvalidRunState);
        }
        let expected = witness_nodes(acc);
        if already_witnessed(acc, &from)? {
            return Err(CoordinatorError::DuplicateWitness);
        }
        if push_witness(acc, witness)? == expected {
            start_round_train(acc, now);
        }
    }
    tick(acc, now)
}

/// `witness`: in RoundTrain or RoundWitness, from a client whose proof matches its index and
/// the round's witness shuffle; the round moves to RoundWitness once `witness_nodes` arrived.
pub fn witness(acc: &mut CoordinatorAccount, from: Pubkey, witness: Witness, now: Now) -> Result<EpochEnd> {
    find_signer(acc, &from)?;
    if acc.run_state.is_halted() {
        return Err(CoordinatorError::Halted);
    }
    let expected = witness_nodes(acc);
    if !matches!(acc.run_state, RunState::RoundTrain | RunState::RoundWitness) {
        return Err(CoordinatorError::InvalidRunState);
    }
    let selection = selection_of(acc, current_round(acc))?;
    let sender_at_index = acc.epoch_state.clients.get(witness.index as usize).is_some_and(|c| c.signer == from);
    let is_witness = witness.witness != 0;
    if !sender_at_index || !selection.verify_witness(witness.index, witness.position, is_witness) || !is_witness {
        return Err(CoordinatorError::InvalidWitness);
    }
    if already_witnessed(acc, &from)? {
        return Err(CoordinatorError::DuplicateWitness);
    }
    if push_witness(acc, witness)? == expected && acc.run_state != RunState::RoundWitness {
        change_state(acc, RunState::RoundWitness, now)?;
    }
    tick(acc, now)
}

fn selection_of(acc: &CoordinatorAccount, round: &Round) -> Result<Selection> {
    Selection::new(
        u64::from(round.tie_breaker_tasks),
        u64::from(acc.config.witness_nodes),
        acc.config.verification_percent,
        u64::from(round.clients_len),
        round.random_seed,
    )
    .map_err(|_| CoordinatorError::InvalidCommitteeSelection)
}

/// `health_check`: once the pipeline is full (round height 2), a client reports another whose
/// previous-round witness score is below quorum; the accused is Dropped and leaves the epoch
/// at the next round's end.
pub fn health_check(acc: &mut CoordinatorAccount, from: Pubkey, check: HealthCheck, now: Now) -> Result<EpochEnd> {
    find_signer(acc, &from)?;
    if acc.run_state.is_halted() {
        return Err(CoordinatorError::Halted);
    }
    if current_round(acc).height < 2 {
        return Err(CoordinatorError::InvalidHealthCheck);
    }
    if healthy(acc, &check)? {
        return Err(CoordinatorError::InvalidHealthCheck);
    }
    let client = &mut acc.epoch_state.clients[check.index as usize];
    if client.state == ClientState::Healthy {
        client.state = ClientState::Dropped;
    }
    tick(acc, now)
}

/// Upstream's `healthy`: the proof must be the accused's committee position in the previous
/// round; a trainer is healthy when enough of that round's witnesses saw it.
fn healthy(acc: &CoordinatorAccount, check: &HealthCheck) -> Result<bool> {
    let round = previous_round(acc).ok_or(CoordinatorError::NoActiveRound)?;
    if check.index >= u64::from(round.clients_len) {
        return Err(CoordinatorError::InvalidCommitteeProof);
    }
    let client = historical_client(acc, check.index as usize, round.clients_len)
        .ok_or(CoordinatorError::InvalidCommitteeProof)?;
    let selection = selection_of(acc, round)?;
    let at_index = acc.epoch_state.clients.get(check.index as usize).is_some_and(|c| c.signer == client.signer);
    let committee = Committee::from_byte(check.committee);
    let proven = committee.is_some_and(|c| selection.verify_committee(check.index, check.position, c));
    if client.signer != check.signer || !at_index || !proven {
        return Err(CoordinatorError::InvalidCommitteeProof);
    }
    match committee {
        Some(Committee::Trainer) => {
            let hash = committee::participant_hash(&client.signer.to_bytes());
            let score =
                round.witnesses.iter().filter(|w| committee::bloom_contains(&w.participant_bloom, &hash)).count();
            Ok(score >= quorum(acc, round.witnesses.len())?)
        }
        // Upstream leaves these unimplemented (it panics), so the transaction fails as it would there.
        _ => Err(CoordinatorError::Panic("not yet implemented: health checks of tie-breakers and verifiers")),
    }
}

fn historical_client(acc: &CoordinatorAccount, index: usize, clients_len: u16) -> Option<&EpochClient> {
    let clients = &acc.epoch_state.clients;
    if index < clients.len() {
        clients.get(index)
    } else if index < usize::from(clients_len) {
        acc.epoch_state.exited_clients.iter().rev().nth(usize::from(clients_len) - index - 1)
    } else {
        None
    }
}

/// Upstream's `witness_quorum`: from `witness_nodes`, or from the witnesses that arrived
/// when it is 0 (then any non-zero count is a quorum).
fn quorum(acc: &CoordinatorAccount, num_witnesses: usize) -> Result<usize> {
    let nodes = match acc.config.witness_nodes {
        0 => num_witnesses,
        n => usize::from(n),
    };
    Ok(match nodes {
        0 => return Err(CoordinatorError::Panic("internal error: entered unreachable code (quorum of no witnesses)")),
        1 => 1,
        2 => 2,
        3 => 2,
        n => ((n as f64 * (2.0f64 / 3.0f64)) as usize).max(1),
    })
}

pub fn checkpoint(acc: &mut CoordinatorAccount, signer: Pubkey, repo: Checkpoint, now: Now) -> Result<EpochEnd> {
    find_signer(acc, &signer)?;
    if !acc.epoch_state.clients.iter().any(|c| c.signer == signer) {
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
    if acc.run_state.is_halted() { Ok(None) } else { tick(acc, now) }
}

/// The program's tick: the coordinator's tick, then the per-epoch bookkeeping around it
/// (rates fixed when warmup starts, joins voided when training starts, points at epoch end).
pub fn tick(acc: &mut CoordinatorAccount, now: Now) -> Result<EpochEnd> {
    if acc.run_state == RunState::WaitingForMembers {
        acc.is_warmup_first_tick = true;
        acc.is_training_first_tick = true;
    }
    let end = match acc.run_state {
        RunState::Uninitialized | RunState::Finished | RunState::Paused => return Err(CoordinatorError::Halted),
        RunState::WaitingForMembers => tick_waiting(acc, now)?,
        RunState::Warmup => tick_warmup(acc, now)?,
        RunState::RoundTrain => {
            if timed_out(acc, now, acc.config.max_round_train_time) {
                change_state(acc, RunState::RoundWitness, now)?;
            }
            None
        }
        RunState::RoundWitness => tick_witness(acc, now)?,
        RunState::Cooldown => tick_cooldown(acc, now)?,
    };
    match end {
        None if acc.epoch_state.first_round && acc.run_state == RunState::Warmup && acc.is_warmup_first_tick => {
            acc.current_epoch_rates = acc.future_epoch_rates;
            acc.is_warmup_first_tick = false;
        }
        None if acc.epoch_state.first_round && acc.run_state == RunState::RoundTrain && acc.is_training_first_tick => {
            // Clients of this epoch must re-join for the next one.
            acc.next_active += 1;
            acc.is_training_first_tick = false;
        }
        None => {}
        Some(_) => account_epoch(acc),
    }
    Ok(end)
}

/// Upstream asserts that a state change changes the state.
fn change_state(acc: &mut CoordinatorAccount, state: RunState, now: Now) -> Result<()> {
    if acc.run_state == state {
        return Err(CoordinatorError::Panic("assertion failed: self.run_state != new_state"));
    }
    acc.run_state = state;
    acc.run_state_start_unix_timestamp = now.unix;
    Ok(())
}

/// Whether `limit` seconds passed in the current state (never in the second it began).
fn timed_out(acc: &CoordinatorAccount, now: Now, limit: u64) -> bool {
    now.unix != acc.run_state_start_unix_timestamp && now.unix >= limit + acc.run_state_start_unix_timestamp
}

fn current_round(acc: &CoordinatorAccount) -> &Round {
    &acc.epoch_state.rounds[acc.epoch_state.rounds_head as usize % NUM_ROUNDS]
}

fn current_round_mut(acc: &mut CoordinatorAccount) -> &mut Round {
    &mut acc.epoch_state.rounds[acc.epoch_state.rounds_head as usize % NUM_ROUNDS]
}

fn previous_round(acc: &CoordinatorAccount) -> Option<&Round> {
    let head = acc.epoch_state.rounds_head as usize % NUM_ROUNDS;
    if head == 0 && current_round(acc).height == 0 {
        return None;
    }
    Some(&acc.epoch_state.rounds[(head + NUM_ROUNDS - 1) % NUM_ROUNDS])
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

/// Moves every client that is no longer healthy to the exited list.
fn move_clients_to_exited(acc: &mut CoordinatorAccount, height: u32) -> Result<()> {
    let (healthy, exited): (Vec<EpochClient>, Vec<EpochClient>) =
        acc.epoch_state.clients.drain(..).partition(|c| c.state == ClientState::Healthy);
    acc.epoch_state.clients = healthy;
    for mut client in exited {
        if acc.epoch_state.exited_clients.len() >= MAX_CLIENTS {
            return Err(CoordinatorError::Panic("called `Result::unwrap()` on an `Err` value: exited clients full"));
        }
        client.exited_height = height;
        acc.epoch_state.exited_clients.push(client);
    }
    Ok(())
}

fn start_waiting_for_members(acc: &mut CoordinatorAccount, now: Now) -> Result<()> {
    let next =
        if acc.progress.step < acc.config.total_steps { RunState::WaitingForMembers } else { RunState::Finished };
    change_state(acc, next, now)
}

fn start_round_train(acc: &mut CoordinatorAccount, now: Now) {
    let (head, height, data_index) = if acc.epoch_state.first_round {
        (0, 0, acc.progress.epoch_start_data_index)
    } else {
        let previous = current_round(acc);
        let head = (acc.epoch_state.rounds_head as usize + 1) % NUM_ROUNDS;
        (head, previous.height + 1, previous.data_index + batch_at(acc, previous.data_index))
    };
    let clients_len = acc.epoch_state.clients.len() as u16;
    acc.epoch_state.rounds_head = head as u32;
    acc.epoch_state.rounds[head] = Round {
        witnesses: Vec::new(),
        data_index,
        random_seed: now.random_seed(),
        height,
        clients_len,
        tie_breaker_tasks: 0,
    };
    // Every caller is in Warmup or RoundWitness, so the state changes.
    acc.run_state = RunState::RoundTrain;
    acc.run_state_start_unix_timestamp = now.unix;
}

fn start_cooldown(acc: &mut CoordinatorAccount, now: Now) -> Result<()> {
    current_round_mut(acc).witnesses.clear();
    change_state(acc, RunState::Cooldown, now)
}

fn tick_waiting(acc: &mut CoordinatorAccount, now: Now) -> Result<EpochEnd> {
    let pending: Vec<(Pubkey, [u8; 32])> =
        acc.clients.iter().filter(|c| c.active == acc.next_active).map(|c| (c.signer, c.p2p_identity)).collect();
    if pending.len() < usize::from(acc.config.init_min_clients)
        || !timed_out(acc, now, u64::from(acc.config.waiting_for_members_extra_time))
    {
        return Ok(None);
    }
    move_clients_to_exited(acc, current_round(acc).height)?;
    // Only clients still healthy at the end of the last epoch hold its checkpoint: when none
    // of them is back, peers cannot serve it and the run falls back to the stored copy.
    let none_back = !acc.epoch_state.clients.iter().any(|c| pending.iter().any(|(s, _)| *s == c.signer));
    if none_back {
        let llm = acc.model.llm_mut();
        llm.checkpoint = match &llm.checkpoint {
            Checkpoint::P2P(h) => Checkpoint::Hub(h.clone()),
            Checkpoint::P2PGcs(g) => Checkpoint::Gcs(g.clone()),
            other => other.clone(),
        };
    }
    acc.epoch_state = EpochState {
        cold_start_epoch: acc.epoch_state.cold_start_epoch,
        start_step: acc.progress.step,
        start_timestamp: now.unix,
        first_round: true,
        clients: pending
            .into_iter()
            .take(MAX_CLIENTS)
            .map(|(signer, p2p_identity)| EpochClient {
                signer,
                p2p_identity,
                state: ClientState::Healthy,
                exited_height: 0,
            })
            .collect(),
        ..EpochState::default()
    };
    change_state(acc, RunState::Warmup, now)?;
    Ok(None)
}

fn tick_warmup(acc: &mut CoordinatorAccount, now: Now) -> Result<EpochEnd> {
    if timed_out(acc, now, acc.config.warmup_time) {
        start_round_train(acc, now);
    } else {
        move_clients_to_exited(acc, 0)?;
    }
    if acc.epoch_state.clients.len() < usize::from(acc.config.min_clients) {
        start_waiting_for_members(acc, now)?;
        return Ok(Some(false));
    }
    Ok(None)
}

fn tick_witness(acc: &mut CoordinatorAccount, now: Now) -> Result<EpochEnd> {
    if !timed_out(acc, now, acc.config.round_witness_time) {
        return Ok(None);
    }
    acc.epoch_state.first_round = false;
    acc.progress.step += 1;
    let (height, witnesses) = (current_round(acc).height, current_round(acc).witnesses.len());
    move_clients_to_exited(acc, height)?;
    // No witness at all: nobody can tell who is still there, so everyone withdraws.
    if witnesses == 0 {
        withdraw_all(acc);
        start_cooldown(acc, now)?;
        return Ok(None);
    }
    let epoch = &acc.epoch_state;
    let epoch_timed_out =
        epoch.start_timestamp != now.unix && now.unix >= epoch.start_timestamp + acc.config.epoch_time;
    if epoch_timed_out && epoch.last_step == 0 && acc.progress.step + 2 >= 4 {
        acc.epoch_state.last_step = acc.progress.step + 2;
    }
    if acc.epoch_state.last_step != 0 && acc.progress.step == acc.epoch_state.last_step {
        start_cooldown(acc, now)?;
        return Ok(None);
    }
    if acc.epoch_state.clients.len() < usize::from(acc.config.min_clients)
        || witnesses < quorum(acc, witnesses)?
        || acc.progress.step >= acc.config.total_steps
        || acc.pending_pause
    {
        start_cooldown(acc, now)?;
        return Ok(None);
    }
    start_round_train(acc, now);
    Ok(None)
}

fn tick_cooldown(acc: &mut CoordinatorAccount, now: Now) -> Result<EpochEnd> {
    if !timed_out(acc, now, acc.config.cooldown_time) {
        return Ok(None);
    }
    let (last, height) = (current_round(acc).data_index, current_round(acc).height);
    acc.progress.epoch_start_data_index = last + batch_at(acc, last);
    acc.progress.epoch += 1;
    move_clients_to_exited(acc, height)?;
    let llm = acc.model.llm_mut();
    llm.checkpoint = match &llm.checkpoint {
        Checkpoint::Hub(h) | Checkpoint::Dummy(h) => Checkpoint::P2P(h.clone()),
        Checkpoint::Gcs(g) => Checkpoint::P2PGcs(g.clone()),
        other => other.clone(),
    };
    if acc.pending_pause {
        withdraw_all(acc);
        change_state(acc, RunState::Paused, now)?;
        acc.pending_pause = false;
        acc.epoch_state.cold_start_epoch = true;
    } else {
        start_waiting_for_members(acc, now)?;
        acc.epoch_state.cold_start_epoch = false;
    }
    Ok(Some(true))
}

/// Points at an epoch end (spec 5.3), walking the registry and the epoch's lists in order as
/// upstream does: the shared earning rate is split among the clients still in the epoch and
/// paid to the healthy ones; ejected clients are slashed.
fn account_epoch(acc: &mut CoordinatorAccount) {
    let finished = &acc.epoch_state.clients;
    let exited = &acc.epoch_state.exited_clients;
    let share = acc.current_epoch_rates.earning_rate_total_shared.checked_div(finished.len() as u64).unwrap_or(0);
    let slash = acc.current_epoch_rates.slashing_rate_per_client;
    let (mut f, mut e) = (0, 0);
    for client in &mut acc.clients {
        if let Some(done) = finished.get(f).filter(|c| c.signer == client.signer) {
            if done.state == ClientState::Healthy {
                client.earned += share;
            }
            f += 1;
        }
        if let Some(gone) = exited.get(e).filter(|c| c.signer == client.signer) {
            if gone.state == ClientState::Ejected {
                client.slashed += slash;
            }
            e += 1;
        }
    }
}

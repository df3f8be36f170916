//! The epoch simulator. Training rounds need messages from real clients; here simulated
//! client keys join through `join_run`, send `warmup_witness` in the warmup, and in each round
//! the clients the witness shuffle selects send `witness` with participant blooms of the
//! clients they saw (and their metadata); healthy clients report unhealthy ones with
//! `health_check`. The clock is advanced past each timeout, so whole epochs run through the
//! coordinator program itself (committee proofs, drops, point accounting) with real signed
//! transactions. A client can misbehave: stop witnessing, or go unhealthy (unseen by the
//! others, so it is dropped).

use crate::localnet::Localnet;
use crate::localnet::programs::coordinator::committee::{self, Selection};
use crate::localnet::services::ServiceError;
use crate::psyche::accounts::BorshAccount;
use crate::psyche::accounts::authorization::Authorization;
use crate::psyche::accounts::coordinator_account::{ClientState, CoordinatorAccount, NUM_ROUNDS, Round, RunState};
use crate::psyche::accounts::instance::CoordinatorInstance;
use crate::psyche::instructions::coordinator::{
    self, HealthCheckIx, JoinRun, JoinRunAccounts, JoinRunParams, NodeIdentity, PermissionlessAccounts, Tick,
    WarmupWitnessIx, WitnessIx, WitnessMetadata, WitnessProof,
};
use crate::psyche::pdas::{self, JOIN_RUN_SCOPE, PERMISSIONLESS_GRANTEE};
use anchor_lang::InstructionData;
use solana_sdk::instruction::Instruction;
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;

/// Gives up if an epoch has not ended after this many steps (a run that cannot progress).
const MAX_STEPS: usize = 2_000;

#[derive(Debug, thiserror::Error)]
pub enum SimulationError {
    #[error("run \"{0}\" does not exist")]
    UnknownRun(String),
    #[error("run \"{run_id}\" is {state}; an epoch can only start from \"Waiting for members\" (resume it first)")]
    NotWaiting { run_id: String, state: &'static str },
    #[error("client {0} has no valid join authorization for this run")]
    NotAuthorized(Pubkey),
    #[error("the epoch did not end after {MAX_STEPS} steps (state {0})")]
    Stuck(&'static str),
    #[error(transparent)]
    Transaction(#[from] ServiceError),
}

/// How a simulated client behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Behaviour {
    /// Trains, witnesses when selected, reports unhealthy peers.
    #[default]
    Healthy,
    /// Stays in the epoch and is seen by the others, but sends no witness.
    StopsWitnessing,
    /// Neither witnesses nor is seen by the others: health checks drop it.
    Unhealthy,
}

/// A simulated training client.
#[derive(Debug)]
pub struct SimClient {
    pub keypair: Keypair,
    pub behaviour: Behaviour,
}

impl SimClient {
    pub fn healthy(keypair: Keypair) -> Self {
        Self { keypair, behaviour: Behaviour::Healthy }
    }
}

/// What one simulated epoch did.
#[derive(Debug, Clone)]
pub struct EpochSummary {
    pub epoch: u16,
    pub steps: u32,
    pub final_state: RunState,
    /// Points each simulated client earned during this epoch.
    pub earned: Vec<(Pubkey, u64)>,
    /// Clients dropped by health checks during this epoch.
    pub dropped: Vec<Pubkey>,
}

/// A run's instance, as the simulator addresses it.
pub struct RunRef {
    instance_key: Pubkey,
    pub instance: CoordinatorInstance,
}

impl Localnet {
    pub fn load_run(&self, run_id: &str) -> Result<RunRef, SimulationError> {
        let instance_key = pdas::coordinator_instance(&self.ids(), run_id);
        let instance = self
            .account(&instance_key)
            .and_then(|a| CoordinatorInstance::decode(&a.data).ok())
            .ok_or_else(|| SimulationError::UnknownRun(run_id.to_string()))?;
        Ok(RunRef { instance_key, instance })
    }

    pub fn coordinator(&self, run: &RunRef) -> Result<CoordinatorAccount, SimulationError> {
        self.account(&run.instance.coordinator_account)
            .and_then(|a| CoordinatorAccount::decode(&a.data).ok())
            .ok_or_else(|| SimulationError::UnknownRun(run.instance.run_id.clone()))
    }

    /// The authorization that lets `user` join: the permissionless one, else the user's own.
    fn join_authorization(&self, join_authority: &Pubkey, user: &Pubkey) -> Option<Pubkey> {
        [PERMISSIONLESS_GRANTEE, *user]
            .into_iter()
            .map(|grantee| pdas::join_authorization(&self.ids(), join_authority, &grantee))
            .find(|address| {
                self.account(address)
                    .and_then(|a| Authorization::decode(&a.data).ok())
                    .is_some_and(|auth| auth.is_valid_for(join_authority, user, JOIN_RUN_SCOPE))
            })
    }

    fn permissionless_ix(&self, run: &RunRef, user: Pubkey, data: Vec<u8>) -> Instruction {
        let accounts = PermissionlessAccounts {
            user,
            coordinator_instance: run.instance_key,
            coordinator_account: run.instance.coordinator_account,
        };
        Instruction {
            program_id: self.ids().coordinator,
            accounts: anchor_lang::ToAccountMetas::to_account_metas(&accounts, None),
            data,
        }
    }

    /// A permissionless `tick` signed by the faucet.
    pub fn tick_run(&mut self, run: &RunRef) -> Result<(), SimulationError> {
        let faucet = self.faucet().pubkey();
        let ix = self.permissionless_ix(run, faucet, Tick {}.data());
        self.execute_signed("tick", &[ix], &[])?;
        Ok(())
    }

    /// Joins `client` to the run (funding it first when it runs low).
    pub fn join_client(&mut self, run: &RunRef, client: &Keypair) -> Result<(), SimulationError> {
        if self.balance(&client.pubkey()) < LAMPORTS_PER_SOL / 10 {
            self.airdrop(&client.pubkey(), LAMPORTS_PER_SOL)?;
        }
        let authorization = self
            .join_authorization(&run.instance.join_authority, &client.pubkey())
            .ok_or(SimulationError::NotAuthorized(client.pubkey()))?;
        let join = JoinRun {
            params: JoinRunParams {
                client_id: NodeIdentity { signer: client.pubkey(), p2p_identity: client.pubkey().to_bytes() },
            },
        };
        let accounts = JoinRunAccounts {
            user: client.pubkey(),
            authorization,
            coordinator_instance: run.instance_key,
            coordinator_account: run.instance.coordinator_account,
        };
        let ix = coordinator::instruction(&self.ids(), &accounts, &join);
        self.execute_signed("join_run", &[ix], &[client])?;
        Ok(())
    }

    /// Runs one whole epoch of `run_id` with `clients` as its healthy training clients.
    pub fn simulate_epoch(&mut self, run_id: &str, clients: &[Keypair]) -> Result<EpochSummary, SimulationError> {
        let clients: Vec<SimClient> = clients.iter().map(|k| SimClient::healthy(k.insecure_clone())).collect();
        self.simulate_epoch_with(run_id, &clients)
    }

    /// Runs one whole epoch of `run_id` with `clients`, each behaving as it is told. The epoch
    /// runs on time the simulation advances alone: however slow the machine, no round times
    /// out before the clients had their say.
    pub fn simulate_epoch_with(
        &mut self,
        run_id: &str,
        clients: &[SimClient],
    ) -> Result<EpochSummary, SimulationError> {
        self.with_clock_stopped(|net| net.run_epoch(run_id, clients))
    }

    fn run_epoch(&mut self, run_id: &str, clients: &[SimClient]) -> Result<EpochSummary, SimulationError> {
        let run = self.load_run(run_id)?;
        let start = self.coordinator(&run)?;
        if start.run_state != RunState::WaitingForMembers {
            return Err(SimulationError::NotWaiting { run_id: run_id.to_string(), state: start.run_state.display() });
        }
        let earned_before: Vec<u64> = clients.iter().map(|c| earned_by(&start, &c.keypair.pubkey())).collect();
        for client in clients {
            self.join_client(&run, &client.keypair)?;
        }
        let mut epoch_started = false;
        let mut dropped = Vec::new();
        for _ in 0..MAX_STEPS {
            let acc = self.coordinator(&run)?;
            if acc.run_state == RunState::WaitingForMembers && epoch_started {
                break;
            }
            epoch_started |= acc.run_state != RunState::WaitingForMembers;
            if matches!(acc.run_state, RunState::Paused | RunState::Finished | RunState::Uninitialized) {
                break;
            }
            if let Some(accused) = self.step(&run, &acc, clients)? {
                dropped.push(accused);
            }
        }
        let end = self.coordinator(&run)?;
        if matches!(
            end.run_state,
            RunState::Warmup | RunState::RoundTrain | RunState::RoundWitness | RunState::Cooldown
        ) {
            return Err(SimulationError::Stuck(end.run_state.display()));
        }
        let earned = clients
            .iter()
            .zip(earned_before)
            .map(|(c, before)| (c.keypair.pubkey(), earned_by(&end, &c.keypair.pubkey()) - before))
            .collect();
        Ok(EpochSummary {
            epoch: end.progress.epoch,
            steps: end.progress.step,
            final_state: end.run_state,
            earned,
            dropped,
        })
    }

    /// One move of the simulated clients in the run's current state: a client message when
    /// one is due, else the clock past the state's timeout and a tick. Returns a client a
    /// health check dropped.
    pub fn step(
        &mut self,
        run: &RunRef,
        acc: &CoordinatorAccount,
        clients: &[SimClient],
    ) -> Result<Option<Pubkey>, SimulationError> {
        match self.send_due_message(run, acc, clients)? {
            Some(Sent::HealthCheck(accused)) => return Ok(Some(accused)),
            Some(Sent::Witness) => return Ok(None),
            None => {}
        }
        let config = acc.config;
        match acc.run_state {
            RunState::WaitingForMembers => self.advance_clock(u64::from(config.waiting_for_members_extra_time) + 1),
            RunState::Warmup => self.advance_clock(config.warmup_time + 1),
            RunState::RoundTrain => self.advance_clock(config.max_round_train_time + 1),
            RunState::RoundWitness => {
                // Let the epoch's time run out so it ends in a few rounds.
                let epoch_end = acc.epoch_state.start_timestamp + config.epoch_time;
                let now = self.clock().unix_timestamp.max(0) as u64;
                self.advance_clock(config.round_witness_time.max(epoch_end.saturating_sub(now)) + 1);
            }
            RunState::Cooldown => self.advance_clock(config.cooldown_time + 1),
            RunState::Paused | RunState::Finished | RunState::Uninitialized => return Ok(None),
        }
        self.tick_run(run)?;
        Ok(None)
    }

    /// Sends the next message a simulated client owes the run in its current state, if any:
    /// a warmup witness, a round witness, or a health check against an unhealthy client.
    pub fn send_due_message(
        &mut self,
        run: &RunRef,
        acc: &CoordinatorAccount,
        clients: &[SimClient],
    ) -> Result<Option<Sent>, SimulationError> {
        match acc.run_state {
            RunState::Warmup => {
                if let Some((index, client)) = pending_warmup_witness(acc, clients) {
                    let ix = self.permissionless_ix(run, client.pubkey(), warmup_witness(acc, index).data());
                    self.execute_signed("warmup_witness", &[ix], &[client])?;
                    return Ok(Some(Sent::Witness));
                }
            }
            RunState::RoundTrain => {
                if let Some((index, client)) = pending_witness(acc, clients) {
                    let ix = self.permissionless_ix(run, client.pubkey(), round_witness(acc, index, clients).data());
                    self.execute_signed("witness", &[ix], &[client])?;
                    return Ok(Some(Sent::Witness));
                }
                if let Some((reporter, check)) = due_health_check(acc, clients) {
                    let ix = self.permissionless_ix(run, reporter.pubkey(), check.data());
                    self.execute_signed("health_check", &[ix], &[reporter])?;
                    return Ok(Some(Sent::HealthCheck(check.id.signer)));
                }
            }
            _ => {}
        }
        Ok(None)
    }
}

/// A message `send_due_message` sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    Witness,
    /// A health check against this client.
    HealthCheck(Pubkey),
}

fn earned_by(acc: &CoordinatorAccount, key: &Pubkey) -> u64 {
    acc.clients.iter().find(|r| r.signer == *key).map_or(0, |r| r.earned)
}

fn current_round(acc: &CoordinatorAccount) -> &Round {
    &acc.epoch_state.rounds[acc.epoch_state.rounds_head as usize % NUM_ROUNDS]
}

fn previous_round(acc: &CoordinatorAccount) -> &Round {
    &acc.epoch_state.rounds[(acc.epoch_state.rounds_head as usize + NUM_ROUNDS - 1) % NUM_ROUNDS]
}

fn behaviour_of(clients: &[SimClient], key: &Pubkey) -> Option<Behaviour> {
    clients.iter().find(|c| c.keypair.pubkey() == *key).map(|c| c.behaviour)
}

fn keypair_of<'c>(clients: &'c [SimClient], key: &Pubkey) -> Option<&'c Keypair> {
    clients.iter().find(|c| c.keypair.pubkey() == *key).map(|c| &c.keypair)
}

/// Whether a client of the epoch has already sent a witness this round.
fn has_witnessed(acc: &CoordinatorAccount, index: usize) -> bool {
    current_round(acc).witnesses.iter().any(|w| w.index == index as u64)
}

fn selection(acc: &CoordinatorAccount, round: &Round) -> Option<Selection> {
    Selection::new(
        u64::from(round.tie_breaker_tasks),
        u64::from(acc.config.witness_nodes),
        acc.config.verification_percent,
        u64::from(round.clients_len),
        round.random_seed,
    )
    .ok()
}

/// The next client that witnesses in the warmup (as many as `witness_nodes` asks for).
fn pending_warmup_witness<'c>(acc: &CoordinatorAccount, clients: &'c [SimClient]) -> Option<(usize, &'c Keypair)> {
    acc.epoch_state.clients.iter().enumerate().find_map(|(index, c)| {
        let witnessing = behaviour_of(clients, &c.signer) == Some(Behaviour::Healthy);
        (witnessing && !has_witnessed(acc, index)).then(|| keypair_of(clients, &c.signer)).flatten().map(|k| (index, k))
    })
}

/// The next client the round's witness shuffle selects that has not witnessed yet.
fn pending_witness<'c>(acc: &CoordinatorAccount, clients: &'c [SimClient]) -> Option<(usize, &'c Keypair)> {
    let selection = selection(acc, current_round(acc))?;
    acc.epoch_state.clients.iter().enumerate().find_map(|(index, c)| {
        let witnessing = behaviour_of(clients, &c.signer) == Some(Behaviour::Healthy);
        let selected =
            (index as u64) < u64::from(current_round(acc).clients_len) && selection.witness_proof(index as u64).1;
        (witnessing && selected && !has_witnessed(acc, index))
            .then(|| keypair_of(clients, &c.signer))
            .flatten()
            .map(|k| (index, k))
    })
}

/// Bloom keys for one witness: distinct per round, client and bloom, as a real client's
/// random ones are.
fn bloom_keys(round: &Round, index: usize, salt: u8) -> [u64; 8] {
    std::array::from_fn(|k| {
        let hash = solana_sdk::hash::hashv(&[&round.random_seed.to_le_bytes(), &index.to_le_bytes(), &[salt, k as u8]]);
        u64::from_le_bytes(hash.to_bytes()[..8].try_into().expect("8 bytes"))
    })
}

/// The participant bloom a witness sends: every client of the epoch it saw (all but the
/// unhealthy ones).
fn participant_bloom(acc: &CoordinatorAccount, index: usize, clients: &[SimClient]) -> [u8; 192] {
    let mut bloom = committee::bloom_new(bloom_keys(current_round(acc), index, 0));
    for client in &acc.epoch_state.clients {
        if behaviour_of(clients, &client.signer) != Some(Behaviour::Unhealthy) {
            committee::bloom_add(&mut bloom, &committee::participant_hash(&client.signer.to_bytes()));
        }
    }
    bloom
}

fn warmup_witness(acc: &CoordinatorAccount, index: usize) -> WarmupWitnessIx {
    WarmupWitnessIx {
        proof: WitnessProof { position: index as u64, index: index as u64, witness: 1 },
        participant_bloom: committee::bloom_new(bloom_keys(current_round(acc), index, 0)),
        broadcast_bloom: committee::bloom_new(bloom_keys(current_round(acc), index, 1)),
        broadcast_merkle: [0; 32],
    }
}

fn round_witness(acc: &CoordinatorAccount, index: usize, clients: &[SimClient]) -> WitnessIx {
    let round = current_round(acc);
    let position = selection(acc, round).map_or(0, |s| s.witness_proof(index as u64).0);
    WitnessIx {
        proof: WitnessProof { position, index: index as u64, witness: 1 },
        participant_bloom: participant_bloom(acc, index, clients),
        broadcast_bloom: committee::bloom_new(bloom_keys(round, index, 1)),
        broadcast_merkle: [0; 32],
        metadata: WitnessMetadata { step: acc.progress.step, ..WitnessMetadata::default() },
    }
}

/// Once the pipeline is full (round height 2), a healthy client reports an unhealthy one that
/// is still marked healthy.
fn due_health_check<'c>(acc: &CoordinatorAccount, clients: &'c [SimClient]) -> Option<(&'c Keypair, HealthCheckIx)> {
    if current_round(acc).height < 2 {
        return None;
    }
    let reporter = acc
        .epoch_state
        .clients
        .iter()
        .find(|c| behaviour_of(clients, &c.signer) == Some(Behaviour::Healthy))
        .and_then(|c| keypair_of(clients, &c.signer))?;
    let previous = previous_round(acc);
    let selection = selection(acc, previous)?;
    let (index, accused) = acc.epoch_state.clients.iter().enumerate().find(|(index, c)| {
        c.state == ClientState::Healthy
            && behaviour_of(clients, &c.signer) == Some(Behaviour::Unhealthy)
            && (*index as u64) < u64::from(previous.clients_len)
    })?;
    let (position, committee) = selection.committee_proof(index as u64);
    let check = HealthCheckIx {
        id: NodeIdentity { signer: accused.signer, p2p_identity: accused.p2p_identity },
        committee: committee as u8,
        position,
        index: index as u64,
    };
    Some((reporter, check))
}

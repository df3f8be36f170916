//! The epoch simulator. Training rounds need witness messages from real clients; here simulated
//! client keys join through `join_run`, send `witness` transactions each round, and the clock is
//! advanced past each timeout, so one whole epoch runs through the coordinator program itself
//! (including its point accounting) with real signed transactions.

use crate::localnet::Localnet;
use crate::localnet::services::ServiceError;
use crate::psyche::accounts::BorshAccount;
use crate::psyche::accounts::authorization::Authorization;
use crate::psyche::accounts::coordinator_account::{CoordinatorAccount, NUM_ROUNDS, RunState};
use crate::psyche::accounts::instance::CoordinatorInstance;
use crate::psyche::encoding::discriminator;
use crate::psyche::instructions::coordinator::{
    self, JoinRun, JoinRunAccounts, JoinRunParams, NodeIdentity, PermissionlessAccounts, Tick,
};
use crate::psyche::pdas::{self, JOIN_RUN_SCOPE, PERMISSIONLESS_GRANTEE};
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

/// What one simulated epoch did.
#[derive(Debug, Clone)]
pub struct EpochSummary {
    pub epoch: u16,
    pub steps: u32,
    pub final_state: RunState,
    /// Points each simulated client earned during this epoch.
    pub earned: Vec<(Pubkey, u64)>,
}

struct Run {
    instance_key: Pubkey,
    instance: CoordinatorInstance,
}

impl Localnet {
    fn load_run(&self, run_id: &str) -> Result<Run, SimulationError> {
        let instance_key = pdas::coordinator_instance(&self.ids(), run_id);
        let instance = self
            .account(&instance_key)
            .and_then(|a| CoordinatorInstance::decode(&a.data).ok())
            .ok_or_else(|| SimulationError::UnknownRun(run_id.to_string()))?;
        Ok(Run { instance_key, instance })
    }

    fn coordinator(&self, run: &Run) -> Result<CoordinatorAccount, SimulationError> {
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

    fn permissionless_ix(&self, run: &Run, user: Pubkey, data: Vec<u8>) -> Instruction {
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

    fn tick(&mut self, run: &Run) -> Result<(), SimulationError> {
        let faucet = self.faucet().pubkey();
        let ix = self.permissionless_ix(run, faucet, anchor_lang::InstructionData::data(&Tick {}));
        self.execute_signed("tick", &[ix], &[])?;
        Ok(())
    }

    /// Runs one whole epoch of `run_id` with `clients` as its (simulated) training clients.
    pub fn simulate_epoch(&mut self, run_id: &str, clients: &[Keypair]) -> Result<EpochSummary, SimulationError> {
        let run = self.load_run(run_id)?;
        let start = self.coordinator(&run)?;
        if start.run_state != RunState::WaitingForMembers {
            return Err(SimulationError::NotWaiting { run_id: run_id.to_string(), state: start.run_state.display() });
        }
        let earned_before: Vec<u64> = clients
            .iter()
            .map(|c| start.clients.iter().find(|r| r.signer == c.pubkey()).map_or(0, |r| r.earned))
            .collect();
        for client in clients {
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
        }
        let mut epoch_started = false;
        for _ in 0..MAX_STEPS {
            let acc = self.coordinator(&run)?;
            let config = acc.config;
            match acc.run_state {
                RunState::WaitingForMembers if epoch_started => break,
                RunState::WaitingForMembers => self.advance_clock(u64::from(config.waiting_for_members_extra_time) + 1),
                RunState::Warmup => {
                    epoch_started = true;
                    self.advance_clock(config.warmup_time + 1)
                }
                RunState::RoundTrain => {
                    let round = &acc.epoch_state.rounds[acc.epoch_state.rounds_head as usize % NUM_ROUNDS];
                    let pending = acc.epoch_state.clients.iter().enumerate().find(|(i, c)| {
                        !round.witnesses.iter().any(|w| w.index == *i as u64)
                            && clients.iter().any(|k| k.pubkey() == c.signer)
                    });
                    if let Some((index, client)) = pending {
                        let signer = clients.iter().find(|k| k.pubkey() == client.signer).expect("found above");
                        let ix =
                            self.permissionless_ix(&run, signer.pubkey(), witness_data(index as u64, round.height));
                        self.execute_signed("witness", &[ix], &[signer])?;
                        continue;
                    }
                    self.advance_clock(config.max_round_train_time + 1);
                }
                RunState::RoundWitness => {
                    // Let the epoch's time run out so it ends in a few rounds.
                    let epoch_end = acc.epoch_state.start_timestamp + config.epoch_time;
                    let now = self.clock().unix_timestamp.max(0) as u64;
                    self.advance_clock(config.round_witness_time.max(epoch_end.saturating_sub(now)) + 1);
                }
                RunState::Cooldown => self.advance_clock(config.cooldown_time + 1),
                RunState::Paused | RunState::Finished | RunState::Uninitialized => break,
            }
            self.tick(&run)?;
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
            .map(|(c, before)| {
                let after = end.clients.iter().find(|r| r.signer == c.pubkey()).map_or(0, |r| r.earned);
                (c.pubkey(), after - before)
            })
            .collect();
        Ok(EpochSummary { epoch: end.progress.epoch, steps: end.progress.step, final_state: end.run_state, earned })
    }
}

/// `witness` arguments: proof (position, index, witness), two blooms, a merkle root and the
/// metadata the program does not store.
fn witness_data(index: u64, height: u32) -> Vec<u8> {
    let mut data = discriminator("global:witness").to_vec();
    data.extend_from_slice(&u64::from(height).to_le_bytes());
    data.extend_from_slice(&index.to_le_bytes());
    data.push(1);
    data.extend_from_slice(&[0u8; 192 * 2 + 32]);
    data
}

//! Live training: simulated clients that keep runs training on the localnet's own clock (wall
//! time), epoch after epoch, the way real clients keep a devnet run busy. Each pass joins the
//! clients a run is waiting for, sends every witness or health check they owe, then ticks, all
//! as real signed transactions, the tick only once the state's timeout has passed; the clock is
//! never moved, so pauses take effect at the end of an epoch and config updates fail with 6001
//! until then, as on a cluster. A background thread runs passes until the chain it trains is
//! dropped.

use crate::localnet::Localnet;
use crate::localnet::handle::Handle;
use crate::localnet::simulator::{Behaviour, RunRef, SimClient, SimulationError};
use crate::psyche::accounts::BorshAccount;
use crate::psyche::accounts::coordinator_account::{CoordinatorAccount, RunState};
use crate::psyche::accounts::instance::{self, CoordinatorInstance};
use crate::psyche::pdas::{self, PERMISSIONLESS_GRANTEE};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use std::sync::Weak;
use std::time::Duration;

/// Messages one client set may send a run in one pass (a bound, not a target).
const MAX_MESSAGES_PER_PASS: usize = 64;

/// How many simulated clients, and how many of them misbehave.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Crew {
    pub clients: usize,
    /// Of those, how many stop witnessing (still seen by the others).
    pub silent: usize,
    /// Of those, how many go unhealthy (unseen by the others, so they are dropped).
    pub unhealthy: usize,
}

pub struct Trainer {
    /// Runs to train; empty means every run that can train (neither uninitialized nor finished).
    runs: Vec<String>,
    clients: Vec<SimClient>,
}

impl Trainer {
    /// Clients for `crew`: the last `unhealthy` go unhealthy, the `silent` before them stop
    /// witnessing. Their keys are the same in every process, so an epoch one invocation's
    /// clients joined is finished by the next invocation's (the embedded chain only trains
    /// while a process holds it).
    pub fn new(runs: Vec<String>, crew: Crew) -> Self {
        let healthy = crew.clients.saturating_sub(crew.silent + crew.unhealthy);
        let clients = (0..crew.clients)
            .map(|i| SimClient {
                keypair: client_key(i),
                behaviour: if i < healthy {
                    Behaviour::Healthy
                } else if i < healthy + crew.silent {
                    Behaviour::StopsWitnessing
                } else {
                    Behaviour::Unhealthy
                },
            })
            .collect();
        Self { runs, clients }
    }

    pub fn clients(&self) -> &[SimClient] {
        &self.clients
    }

    fn targets(&self, net: &Localnet) -> Vec<String> {
        if self.runs.is_empty() { every_run(net) } else { self.runs.clone() }
    }

    /// One pass over every run trained: joins, owed messages, one tick. Returns what went
    /// wrong (a run that does not exist, a client without authorization, a refused message).
    pub fn pass(&self, net: &mut Localnet) -> Vec<String> {
        let mut problems = Vec::new();
        for run_id in self.targets(net) {
            if let Err(err) = self.train_run(net, &run_id) {
                problems.push(format!("run \"{run_id}\": {err}"));
            }
        }
        problems
    }

    fn train_run(&self, net: &mut Localnet, run_id: &str) -> Result<(), SimulationError> {
        let run = net.load_run(run_id)?;
        let acc = net.coordinator(&run)?;
        if acc.run_state.is_halted() {
            return Ok(());
        }
        // A client that cannot join does not stop the others from training.
        let joined = self.join_due(net, &run, &acc);
        for _ in 0..MAX_MESSAGES_PER_PASS {
            let acc = net.coordinator(&run)?;
            if net.send_due_message(&run, &acc, &self.clients)?.is_none() {
                break;
            }
        }
        if tick_due(&net.coordinator(&run)?, now(net)) {
            net.tick_run(&run)?;
        }
        joined
    }

    /// Joins every client not yet joined for the run's next epoch.
    fn join_due(&self, net: &mut Localnet, run: &RunRef, acc: &CoordinatorAccount) -> Result<(), SimulationError> {
        for client in &self.clients {
            let key = client.keypair.pubkey();
            let joined = acc.clients.iter().any(|c| c.signer == key && c.active == acc.next_active);
            let state = net.coordinator(run)?.run_state;
            if !joined && !state.is_halted() && state != RunState::Uninitialized {
                net.join_client(run, &client.keypair)?;
            }
        }
        Ok(())
    }
}

/// The run id of every coordinator instance on the chain.
fn every_run(net: &Localnet) -> Vec<String> {
    net.program_accounts(&net.ids().coordinator)
        .into_iter()
        .map(|(_, account)| solana_sdk::account::ReadableAccount::data(&account).to_vec())
        .filter(|data| data.len() == instance::SIZE)
        .filter_map(|data| CoordinatorInstance::decode(&data).ok())
        .map(|instance| instance.run_id)
        .collect()
}

/// On a fork, reads from its cluster what simulated clients of `runs` (every run, when none
/// is named) read and the fork lacks: the runs, their coordinator accounts, each join
/// authorization the `clients` could use, and the coordinator program. Once read, they are
/// the fork's: later calls ask the cluster nothing.
pub fn read_from_cluster(handle: &Handle, runs: &[String], clients: &[Pubkey]) -> Result<(), String> {
    if handle.upstream().is_none() {
        return Ok(());
    }
    let ids = handle.lock().ids();
    let runs = if runs.is_empty() {
        handle.read_owned_from_cluster(&ids.coordinator)?;
        every_run(&handle.lock())
    } else {
        runs.to_vec()
    };
    let instances: Vec<Pubkey> = runs.iter().map(|id| pdas::coordinator_instance(&ids, id)).collect();
    handle.read_from_cluster(&[instances.as_slice(), &[ids.coordinator]].concat())?;
    let mut keys = Vec::new();
    for run_id in &runs {
        let Ok(run) = handle.lock().load_run(run_id) else { continue };
        let grantees = clients.iter().copied().chain([PERMISSIONLESS_GRANTEE]);
        keys.push(run.instance.coordinator_account);
        keys.extend(grantees.map(|g| pdas::join_authorization(&ids, &run.instance.join_authority, &g)));
    }
    handle.read_from_cluster(&keys)
}

/// The time a tick would see: the chain's clock catches up with wall time at its next slot.
fn now(net: &Localnet) -> u64 {
    net.next_slot_time().max(0) as u64
}

/// Whether a tick would move the run on: its state's timeout has passed (as clients do, the
/// trainer ticks only then, so the chain's history is not filled with idle ticks).
fn tick_due(acc: &CoordinatorAccount, now: u64) -> bool {
    let config = &acc.config;
    let limit = match acc.run_state {
        RunState::Uninitialized | RunState::Paused | RunState::Finished => return false,
        RunState::WaitingForMembers => {
            let pending = acc.clients.iter().filter(|c| c.active == acc.next_active).count();
            if pending < usize::from(config.init_min_clients) {
                return false;
            }
            u64::from(config.waiting_for_members_extra_time)
        }
        RunState::Warmup => config.warmup_time,
        RunState::RoundTrain => config.max_round_train_time,
        RunState::RoundWitness => config.round_witness_time,
        RunState::Cooldown => config.cooldown_time,
    };
    let start = acc.run_state_start_unix_timestamp;
    now != start && now >= start + limit
}

/// The `index`th simulated client's key, derived from a fixed seed.
fn client_key(index: usize) -> Keypair {
    let seed = solana_sdk::hash::hashv(&[b"psyche-runbook simulated client", &(index as u64).to_le_bytes()]);
    Keypair::new_from_array(seed.to_bytes())
}

/// How often the trainer makes a pass: once a slot.
const PERIOD: Duration = Duration::from_millis(400);

/// Runs `trainer` every slot on the chain behind `handle` until it is dropped, reporting each
/// new problem once.
pub fn spawn(
    handle: Weak<Handle>,
    trainer: Trainer,
    report: impl Fn(&str) + Send + 'static,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reported = std::collections::HashSet::new();
        let keys: Vec<Pubkey> = trainer.clients.iter().map(|c| c.keypair.pubkey()).collect();
        loop {
            std::thread::sleep(PERIOD);
            let Some(handle) = handle.upgrade() else { return };
            let read = read_from_cluster(&handle, &trainer.runs, &keys);
            let problems = read.err().into_iter().chain(trainer.pass(&mut handle.lock()));
            for problem in problems {
                if reported.insert(problem.clone()) {
                    report(&problem);
                }
            }
        }
    })
}

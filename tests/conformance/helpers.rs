//! What the conformance tests share: a run driven into warmup and training, joined clients,
//! ticks that return the error code, and witness instructions with their proofs.

use crate::common::programs::{Net, RunKeys, fixture_config};
use psyche_runbook::localnet::programs::coordinator::committee::{self, Selection};
use psyche_runbook::localnet::simulator::{Behaviour, SimClient};
use psyche_runbook::psyche::accounts::coordinator_account::{CoordinatorAccount, RunState};
use psyche_runbook::psyche::config::RunConfig;
use psyche_runbook::psyche::instructions::coordinator;
use psyche_runbook::psyche::pdas::{self, PERMISSIONLESS_GRANTEE};
use solana_sdk::instruction::{Instruction, InstructionError};
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;

pub(crate) const RATE: u64 = 3_000_000;

pub(crate) fn config_with(edit: impl FnOnce(&mut RunConfig)) -> RunConfig {
    let mut config = fixture_config();
    edit(&mut config);
    config
}

pub(crate) fn tick(net: &mut Net, run: RunKeys) -> Option<u32> {
    let ix = net.permissionless_ix(run, &net.operator.pubkey(), &coordinator::Tick {});
    let executed = net.send(&[ix], &[]);
    executed.err.map(|e| match e {
        solana_sdk::transaction::TransactionError::InstructionError(_, InstructionError::Custom(c)) => c,
        other => panic!("{other:?}"),
    })
}

/// Joins `n` fresh clients through the permissionless authorization.
pub(crate) fn join_clients(net: &mut Net, run: RunKeys, n: usize) -> Vec<Keypair> {
    let auth = pdas::join_authorization(&net.ids, &net.join_authority.pubkey(), &PERMISSIONLESS_GRANTEE);
    if net.local.account(&auth).is_none() {
        net.grant(&PERMISSIONLESS_GRANTEE);
    }
    (0..n)
        .map(|_| {
            let client = Keypair::new();
            let ix = net.join_ix(run, &client.pubkey(), auth);
            net.ok(&[ix], &[&client]);
            client
        })
        .collect()
}

/// From waiting for members into the warmup.
pub(crate) fn to_warmup(net: &mut Net, run: RunKeys) {
    let wait = net.coordinator(run).config.waiting_for_members_extra_time;
    net.local.advance_clock(u64::from(wait) + 1);
    assert_eq!(tick(net, run), None);
    assert_eq!(net.coordinator(run).run_state, RunState::Warmup);
}

/// A resumed run of `config` with `n` joined clients, in the first training round.
pub(crate) fn training(net: &mut Net, run_id: &str, config: &RunConfig, n: usize) -> (RunKeys, Vec<Keypair>) {
    let run = net.running(run_id, config);
    let clients = join_clients(net, run, n);
    to_warmup(net, run);
    net.local.advance_clock(config.config.warmup_time + 1);
    assert_eq!(tick(net, run), None);
    assert_eq!(net.coordinator(run).run_state, RunState::RoundTrain);
    (run, clients)
}

pub(crate) fn current_selection(acc: &CoordinatorAccount) -> Selection {
    let round = &acc.epoch_state.rounds[acc.epoch_state.rounds_head as usize % 4];
    Selection::new(
        u64::from(round.tie_breaker_tasks),
        u64::from(acc.config.witness_nodes),
        acc.config.verification_percent,
        u64::from(round.clients_len),
        round.random_seed,
    )
    .unwrap()
}

pub(crate) fn index_of(acc: &CoordinatorAccount, client: &Keypair) -> u64 {
    acc.epoch_state.clients.iter().position(|c| c.signer == client.pubkey()).unwrap() as u64
}

/// A `witness` with an explicit proof and a bloom of every epoch client.
pub(crate) fn witness_ix(net: &Net, run: RunKeys, client: &Keypair, proof: coordinator::WitnessProof) -> Instruction {
    let acc = net.coordinator(run);
    let mut bloom = committee::bloom_new([1, 2, 3, 4, 5, 6, 7, 8]);
    for c in &acc.epoch_state.clients {
        committee::bloom_add(&mut bloom, &committee::participant_hash(&c.signer.to_bytes()));
    }
    let data = coordinator::WitnessIx {
        proof,
        participant_bloom: bloom,
        broadcast_bloom: committee::bloom_new([0; 8]),
        broadcast_merkle: [0; 32],
        metadata: coordinator::WitnessMetadata::default(),
    };
    net.permissionless_ix(run, &client.pubkey(), &data)
}

/// The client's own, correct witness proof for the current round.
pub(crate) fn own_proof(net: &Net, run: RunKeys, client: &Keypair) -> coordinator::WitnessProof {
    let acc = net.coordinator(run);
    let index = index_of(&acc, client);
    let (position, witness) = current_selection(&acc).witness_proof(index);
    coordinator::WitnessProof { position, index, witness: u8::from(witness) }
}

pub(crate) fn warmup_witness_ix(net: &Net, run: RunKeys, client: &Keypair, index: u64) -> Instruction {
    let data = coordinator::WarmupWitnessIx {
        proof: coordinator::WitnessProof { position: index, index, witness: 1 },
        participant_bloom: committee::bloom_new([0; 8]),
        broadcast_bloom: committee::bloom_new([0; 8]),
        broadcast_merkle: [0; 32],
    };
    net.permissionless_ix(run, &client.pubkey(), &data)
}

pub(crate) fn sim_clients(behaviours: &[Behaviour]) -> Vec<SimClient> {
    behaviours.iter().map(|b| SimClient { keypair: Keypair::new(), behaviour: *b }).collect()
}

/// The code of an Anchor account error and the account its log line names.
pub fn account_error(net: &mut Net, ixs: &[Instruction], signers: &[&Keypair]) -> (u32, String) {
    let logged = net.error(ixs, signers);
    (logged.number, logged.account().to_string())
}

/// The code of a program error raised with `err!`, whose log line names its source line.
pub fn thrown(net: &mut Net, ixs: &[Instruction], signers: &[&Keypair]) -> u32 {
    let logged = net.error(ixs, signers);
    assert!(logged.is_thrown(), "{logged:?}");
    logged.number
}

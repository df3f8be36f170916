//! Conformance of the localnet programs with upstream's: the happy path of every instruction
//! of the coordinator, authorizer and treasurer, every error code an operator or a client can
//! hit (each triggered by a real transaction and asserted by number, its log line checked to be
//! in one of Anchor's three forms, and account errors by the account they name), and one
//! regression test per divergence the localnet used to have (named after it).
//!
//! Codes no transaction can reach upstream either are not listed: 6006 (a step of 0 is refused
//! by `update` first), 6010 (a health check needs round height 2, so a previous round exists),
//! 6016 and 6019 (unused), 6017 (witness counts stop at `witness_nodes` ≤ 32) and 3016 (a
//! transaction cannot carry 10 KiB of delegates).

mod common;

use common::anchor_log::Form;
use common::programs::{Net, RunKeys, fixture_config};
use psyche_runbook::localnet::programs::coordinator::committee::{self, Selection};
use psyche_runbook::localnet::simulator::{Behaviour, SimClient};
use psyche_runbook::psyche::accounts::BorshAccount;
use psyche_runbook::psyche::accounts::authorization::Authorization;
use psyche_runbook::psyche::accounts::coordinator_account::{ClientState, CoordinatorAccount, RunState};
use psyche_runbook::psyche::accounts::treasurer::Participant;
use psyche_runbook::psyche::config::{CoordinatorProgress, RunConfig};
use psyche_runbook::psyche::fixed::FixedString;
use psyche_runbook::psyche::ids::ProgramIds;
use psyche_runbook::psyche::instructions::{authorizer, coordinator, treasurer};
use psyche_runbook::psyche::model::{Checkpoint, DataLocation};
use psyche_runbook::psyche::pdas::{self, JOIN_RUN_SCOPE, PERMISSIONLESS_GRANTEE};
use solana_program_pack::Pack;
use solana_sdk::instruction::{Instruction, InstructionError};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;

const RATE: u64 = 3_000_000;

/// The code of an Anchor account error and the account its log line names.
fn account_error(net: &mut Net, ixs: &[Instruction], signers: &[&Keypair]) -> (u32, String) {
    let logged = net.error(ixs, signers);
    (logged.number, logged.account().to_string())
}

/// The code of a program error raised with `err!`, whose log line names its source line.
fn thrown(net: &mut Net, ixs: &[Instruction], signers: &[&Keypair]) -> u32 {
    let logged = net.error(ixs, signers);
    assert!(logged.is_thrown(), "{logged:?}");
    logged.number
}

fn config_with(edit: impl FnOnce(&mut RunConfig)) -> RunConfig {
    let mut config = fixture_config();
    edit(&mut config);
    config
}

fn tick(net: &mut Net, run: RunKeys) -> Option<u32> {
    let ix = net.permissionless_ix(run, &net.operator.pubkey(), &coordinator::Tick {});
    let executed = net.send(&[ix], &[]);
    executed.err.map(|e| match e {
        solana_sdk::transaction::TransactionError::InstructionError(_, InstructionError::Custom(c)) => c,
        other => panic!("{other:?}"),
    })
}

/// Joins `n` fresh clients through the permissionless authorization.
fn join_clients(net: &mut Net, run: RunKeys, n: usize) -> Vec<Keypair> {
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
fn to_warmup(net: &mut Net, run: RunKeys) {
    let wait = net.coordinator(run).config.waiting_for_members_extra_time;
    net.local.advance_clock(u64::from(wait) + 1);
    assert_eq!(tick(net, run), None);
    assert_eq!(net.coordinator(run).run_state, RunState::Warmup);
}

/// A resumed run of `config` with `n` joined clients, in the first training round.
fn training(net: &mut Net, run_id: &str, config: &RunConfig, n: usize) -> (RunKeys, Vec<Keypair>) {
    let run = net.running(run_id, config);
    let clients = join_clients(net, run, n);
    to_warmup(net, run);
    net.local.advance_clock(config.config.warmup_time + 1);
    assert_eq!(tick(net, run), None);
    assert_eq!(net.coordinator(run).run_state, RunState::RoundTrain);
    (run, clients)
}

fn current_selection(acc: &CoordinatorAccount) -> Selection {
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

fn index_of(acc: &CoordinatorAccount, client: &Keypair) -> u64 {
    acc.epoch_state.clients.iter().position(|c| c.signer == client.pubkey()).unwrap() as u64
}

/// A `witness` with an explicit proof and a bloom of every epoch client.
fn witness_ix(net: &Net, run: RunKeys, client: &Keypair, proof: coordinator::WitnessProof) -> Instruction {
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
fn own_proof(net: &Net, run: RunKeys, client: &Keypair) -> coordinator::WitnessProof {
    let acc = net.coordinator(run);
    let index = index_of(&acc, client);
    let (position, witness) = current_selection(&acc).witness_proof(index);
    coordinator::WitnessProof { position, index, witness: u8::from(witness) }
}

fn warmup_witness_ix(net: &Net, run: RunKeys, client: &Keypair, index: u64) -> Instruction {
    let data = coordinator::WarmupWitnessIx {
        proof: coordinator::WitnessProof { position: index, index, witness: 1 },
        participant_bloom: committee::bloom_new([0; 8]),
        broadcast_bloom: committee::bloom_new([0; 8]),
        broadcast_merkle: [0; 32],
    };
    net.permissionless_ix(run, &client.pubkey(), &data)
}

fn sim_clients(behaviours: &[Behaviour]) -> Vec<SimClient> {
    behaviours.iter().map(|b| SimClient { keypair: Keypair::new(), behaviour: *b }).collect()
}

// ---------------------------------------------------------------------------------------
// Happy paths
// ---------------------------------------------------------------------------------------

#[test]
fn every_authorizer_instruction_succeeds_on_its_happy_path() {
    let mut net = Net::new();
    let grantee = net.new_funded();
    let auth = net.grant(&grantee.pubkey());
    let delegate = Pubkey::new_unique();
    let update = authorizer::instruction(
        &net.ids,
        &authorizer::GranteeUpdateAccounts {
            payer: net.operator.pubkey(),
            grantee: grantee.pubkey(),
            authorization: auth,
        },
        &authorizer::AuthorizationGranteeUpdate {
            params: authorizer::AuthorizationGranteeUpdateParams {
                delegates_clear: false,
                delegates_added: vec![delegate],
            },
        },
    );
    net.ok(&[update], &[&grantee]);
    let stored = Authorization::decode(&net.local.account(&auth).unwrap().data).unwrap();
    assert_eq!(stored.delegates, vec![delegate]);
    assert!(stored.is_valid_for(&net.join_authority.pubkey(), &delegate, JOIN_RUN_SCOPE));
    // Deactivate, then (30 days after the grantor's update, since it has delegates) close.
    let deactivate = net.grantor_update(auth, false);
    let join_authority = net.join_authority.insecure_clone();
    net.ok(&[deactivate], &[&join_authority]);
    net.local.advance_clock(30 * 24 * 60 * 60 + 1);
    let spill = Keypair::new().pubkey();
    let close = authorizer::instruction(
        &net.ids,
        &authorizer::CloseAccounts { grantor: net.join_authority.pubkey(), spill, authorization: auth },
        &authorizer::AuthorizationClose::default(),
    );
    net.ok(&[close], &[&join_authority]);
    assert!(net.local.account(&auth).is_none());
    assert!(net.local.balance(&spill) > 0);
}

#[test]
fn every_coordinator_instruction_succeeds_on_its_happy_path() {
    let mut net = Net::new();
    let config = config_with(|c| c.config.witness_nodes = 0);
    // init_coordinator, update, set_paused (resume), join_run, tick: in `training`.
    let (run, clients) = training(&mut net, "happy", &config, 3);
    // witness from every client (all are witnesses when witness_nodes = 0).
    for client in &clients {
        let proof = own_proof(&net, run, client);
        assert_eq!(proof.witness, 1);
        let ix = witness_ix(&net, run, client, proof);
        net.ok(&[ix], &[client]);
    }
    let acc = net.coordinator(run);
    assert_eq!(acc.run_state, RunState::RoundWitness, "all witnesses in: the round ends early");
    // checkpoint from an epoch client.
    let repo = Checkpoint::Hub(psyche_runbook::psyche::model::HubRepo {
        repo_id: FixedString::new("org/next").unwrap(),
        revision: None,
    });
    let ix = net.permissionless_ix(run, &clients[0].pubkey(), &coordinator::CheckpointIx { repo });
    net.ok(&[ix], &[&clients[0]]);
    // set_future_epoch_rates works while training; update_client_version needs a halt.
    let rates = coordinator::SetFutureEpochRates {
        epoch_earning_rate_total_shared: Some(RATE),
        epoch_slashing_rate_per_client: Some(5),
    };
    let ix = net.owner_ix(run, &rates);
    net.ok(&[ix], &[]);
    assert_eq!(net.coordinator(run).future_epoch_rates.earning_rate_total_shared, RATE);

    // warmup_witness and health_check run through a simulated epoch (see the divergence tests);
    // here: pause, change the client version, free.
    let paused = net.running("happy-free", &config);
    let ix = net.set_paused(paused, true);
    net.ok(&[ix], &[]);
    let ix = net.owner_ix(paused, &coordinator::UpdateClientVersion { new_version: "v2".into() });
    net.ok(&[ix], &[]);
    assert_eq!(net.coordinator(paused).client_version.as_str(), "v2");
    let spill = Pubkey::new_unique();
    let free = coordinator::instruction(
        &net.ids,
        &coordinator::FreeCoordinatorAccounts {
            authority: net.operator.pubkey(),
            spill,
            coordinator_instance: paused.instance,
            coordinator_account: paused.account,
        },
        &coordinator::FreeCoordinator::default(),
    );
    net.ok(&[free], &[]);
    assert!(net.local.account(&paused.account).is_none() && net.local.account(&paused.instance).is_none());
}

#[test]
fn every_treasurer_instruction_succeeds_on_its_happy_path() {
    let mut net = Net::new();
    let (run, mint, keys) = net.create_rewarded("treasured");
    let config = fixture_config();
    let params = treasurer::RunUpdateParams {
        config: Some(config.config),
        model: Some(config.model.clone()),
        epoch_earning_rate_total_shared: Some(RATE),
        paused: Some(false),
        client_version: None,
        ..Default::default()
    };
    let ix = net.run_update(run, keys, params);
    net.ok(&[ix], &[]);
    assert_eq!(net.coordinator(keys).run_state, RunState::WaitingForMembers);
    let source = net.local.mint_to(&mint, &net.operator.pubkey(), 10_000_000).unwrap();
    let ix = psyche_runbook::psyche::instructions::system::token_transfer(
        &source,
        &pdas::associated_token(&run, &mint),
        &net.operator.pubkey(),
        10_000_000,
    );
    net.ok(&[ix], &[]);
    net.grant(&PERMISSIONLESS_GRANTEE);
    let clients = sim_clients(&[Behaviour::Healthy, Behaviour::Healthy]);
    let summary = net.local.simulate_epoch_with("treasured", &clients).unwrap();
    assert!(summary.earned.iter().all(|(_, e)| *e == RATE / 2), "{summary:?}");
    let user = &clients[0].keypair;
    let ix = net.participant_create(run, &user.pubkey());
    net.ok(&[ix], &[user]);
    let user_collateral = net.local.mint_to(&mint, &user.pubkey(), 0).unwrap();
    let ix = net.participant_claim(run, &mint, keys, &user.pubkey(), user_collateral, RATE / 2);
    net.ok(&[ix], &[user]);
    assert_eq!(net.local.token_balance(&user_collateral).unwrap().0, RATE / 2);
    let participant = pdas::participant(&net.ids, &run, &user.pubkey());
    let stored = Participant::decode(&net.local.account(&participant).unwrap().data).unwrap();
    assert_eq!(stored.claimed_earned_points, RATE / 2);
}

// ---------------------------------------------------------------------------------------
// Error codes
// ---------------------------------------------------------------------------------------

#[test]
fn coordinator_operator_errors_carry_upstream_codes() {
    let mut net = Net::new();
    let config = fixture_config();
    let run = net.running("ops", &config);
    // 6001: config while not halted.
    let update = coordinator::Update { config: Some(config.config), ..Default::default() };
    let ix = net.owner_ix(run, &update);
    assert_eq!(net.code(&[ix], &[]), 6001);
    // 6018: resume a run that is not paused.
    let ix = net.set_paused(run, false);
    assert_eq!(net.code(&[ix], &[]), 6018);
    // 6009: free while not halted.
    let free = coordinator::instruction(
        &net.ids,
        &coordinator::FreeCoordinatorAccounts {
            authority: net.operator.pubkey(),
            spill: net.operator.pubkey(),
            coordinator_instance: run.instance,
            coordinator_account: run.account,
        },
        &coordinator::FreeCoordinator::default(),
    );
    assert_eq!(net.code(&[free], &[]), 6009);
    // 6015: pause twice (the second finds it halted), tick a paused run.
    let ix = net.set_paused(run, true);
    net.ok(&[ix], &[]);
    let ix = net.set_paused(run, true);
    assert_eq!(net.code(&[ix], &[]), 6015);
    assert_eq!(tick(&mut net, run), Some(6015));
    // 6004 and 6005: bad config, bad model, bad progress.
    let mut bad = config.config;
    bad.witness_nodes = 40;
    let ix = net.owner_ix(run, &coordinator::Update { config: Some(bad), ..Default::default() });
    assert_eq!(net.code(&[ix], &[]), 6004);
    let mut model = config.model.clone();
    model.llm_mut().max_seq_len = 0;
    let ix = net.owner_ix(run, &coordinator::Update { model: Some(model), ..Default::default() });
    assert_eq!(net.code(&[ix], &[]), 6005);
    let progress = CoordinatorProgress { epoch: 0, step: 0, epoch_start_data_index: 0 };
    let ix = net.owner_ix(run, &coordinator::Update { progress: Some(progress), ..Default::default() });
    assert_eq!(net.code(&[ix], &[]), 6005);
    // 6002: a coordinator account of the wrong size; 3000: one already initialized.
    let small = Keypair::new();
    let create = solana_system_interface::instruction::create_account(
        &net.operator.pubkey(),
        &small.pubkey(),
        net.local.minimum_balance(100),
        100,
        &net.ids.coordinator,
    );
    let init = net.init_coordinator("small", &small.pubkey(), "v");
    assert_eq!(net.code(&[create, init], &[&small]), 6002);
    let init = net.init_coordinator("again", &run.account, "v");
    // Upstream raises it with `err!`, so it names a source line, not an account.
    assert_eq!(thrown(&mut net, &[init], &[]), 3000);
    // 6023: a run id over 32 bytes.
    let long = "x".repeat(33);
    let account = Keypair::new();
    let mut init = net.init_coordinator("x", &account.pubkey(), "v");
    init.data = anchor_lang::InstructionData::data(&coordinator::InitCoordinator {
        params: coordinator::InitCoordinatorParams {
            main_authority: net.operator.pubkey(),
            join_authority: net.join_authority.pubkey(),
            run_id: long,
            client_version: "v".into(),
        },
    });
    let create = net.create_account_ix(&account.pubkey());
    assert_eq!(net.code(&[create, init], &[&account]), 6023);
    // 6000: any update of a finished run (three steps, all trained in one epoch).
    let short = config_with(|c| c.config.total_steps = 3);
    let finished = net.running("finished", &short);
    net.grant(&PERMISSIONLESS_GRANTEE);
    let summary = net.local.simulate_epoch_with("finished", &sim_clients(&[Behaviour::Healthy])).unwrap();
    assert_eq!(summary.final_state, RunState::Finished);
    let ix = net.owner_ix(finished, &coordinator::Update { metadata: Some(Default::default()), ..Default::default() });
    assert_eq!(net.code(&[ix], &[]), 6000);
}

#[test]
fn coordinator_client_errors_carry_upstream_codes() {
    let mut net = Net::new();
    let config = config_with(|c| c.config.witness_nodes = 1);
    let (run, clients) = training(&mut net, "clients", &config, 3);
    let stranger = net.new_funded();
    // 6007: a signer that never joined.
    let ix = witness_ix(&net, run, &stranger, coordinator::WitnessProof { position: 0, index: 0, witness: 1 });
    assert_eq!(net.code(&[ix], &[&stranger]), 6007);
    // 6008: join with someone else's identity.
    let auth = pdas::join_authorization(&net.ids, &net.join_authority.pubkey(), &PERMISSIONLESS_GRANTEE);
    let mut join = net.join_ix(run, &stranger.pubkey(), auth);
    join.data = anchor_lang::InstructionData::data(&coordinator::JoinRun {
        params: coordinator::JoinRunParams {
            client_id: coordinator::NodeIdentity { signer: clients[0].pubkey(), p2p_identity: [0; 32] },
        },
    });
    assert_eq!(net.code(&[join], &[&stranger]), 6008);
    // 6011: the selected witness with a wrong position, and a non-witness claiming to be one.
    let acc = net.coordinator(run);
    let selection = current_selection(&acc);
    let witness = clients.iter().find(|c| selection.witness_proof(index_of(&acc, c)).1).unwrap();
    let other = clients.iter().find(|c| !selection.witness_proof(index_of(&acc, c)).1).unwrap();
    let mut proof = own_proof(&net, run, witness);
    proof.position += 1;
    let ix = witness_ix(&net, run, witness, proof);
    assert_eq!(net.code(&[ix], &[witness]), 6011);
    let mut claimed = own_proof(&net, run, other);
    claimed.witness = 1;
    let ix = witness_ix(&net, run, other, claimed);
    assert_eq!(net.code(&[ix], &[other]), 6011);
    // 6012: a round witness during the warmup, a warmup witness in a round's witness phase.
    let warm = net.running("warm", &config);
    let warm_clients = join_clients(&mut net, warm, 1);
    to_warmup(&mut net, warm);
    let ix = witness_ix(&net, warm, &warm_clients[0], coordinator::WitnessProof { position: 0, index: 0, witness: 1 });
    assert_eq!(net.code(&[ix], &[&warm_clients[0]]), 6012);
    let proof = own_proof(&net, run, witness);
    let ix = witness_ix(&net, run, witness, proof);
    net.ok(&[ix], &[witness]);
    assert_eq!(net.coordinator(run).run_state, RunState::RoundWitness);
    let ix = warmup_witness_ix(&net, run, witness, 0);
    assert_eq!(net.code(&[ix], &[witness]), 6012);
    // 6013: the same witness again.
    let ix = witness_ix(&net, run, witness, proof);
    assert_eq!(net.code(&[ix], &[witness]), 6013);
    // 6014: a health check before the pipeline is full (round height < 2).
    let index = index_of(&net.coordinator(run), other);
    let check = coordinator::HealthCheckIx {
        id: coordinator::NodeIdentity { signer: other.pubkey(), p2p_identity: other.pubkey().to_bytes() },
        committee: 2,
        position: 0,
        index,
    };
    let ix = net.permissionless_ix(run, &witness.pubkey(), &check);
    assert_eq!(net.code(&[ix], &[witness]), 6014);
}

#[test]
fn health_checks_of_healthy_clients_and_bad_proofs_are_refused() {
    let mut net = Net::new();
    let config = config_with(|c| c.config.witness_nodes = 0);
    let run = net.running("health", &config);
    net.grant(&PERMISSIONLESS_GRANTEE);
    let clients = sim_clients(&[Behaviour::Healthy, Behaviour::Healthy]);
    let run_ref = net.local.load_run("health").unwrap();
    for c in &clients {
        net.local.join_client(&run_ref, &c.keypair).unwrap();
    }
    // Train until round height 2, all healthy.
    loop {
        let acc = net.coordinator(run);
        let height = acc.epoch_state.rounds[acc.epoch_state.rounds_head as usize % 4].height;
        if acc.run_state == RunState::RoundTrain && height == 2 {
            break;
        }
        net.local.step(&run_ref, &acc, &clients).unwrap();
    }
    let acc = net.coordinator(run);
    let previous = &acc.epoch_state.rounds[(acc.epoch_state.rounds_head as usize + 3) % 4];
    let selection = Selection::new(0, 0, 0, u64::from(previous.clients_len), previous.random_seed).unwrap();
    let accused = &clients[1].keypair;
    let index = index_of(&acc, accused);
    let (position, committee) = selection.committee_proof(index);
    let check = |position| coordinator::HealthCheckIx {
        id: coordinator::NodeIdentity { signer: accused.pubkey(), p2p_identity: accused.pubkey().to_bytes() },
        committee: committee as u8,
        position,
        index,
    };
    let reporter = &clients[0].keypair;
    // 6014: the accused was seen by every witness.
    let ix = net.permissionless_ix(run, &reporter.pubkey(), &check(position));
    assert_eq!(net.code(&[ix], &[reporter]), 6014);
    // 6021: a proof with the wrong position.
    let ix = net.permissionless_ix(run, &reporter.pubkey(), &check(position + 1));
    assert_eq!(net.code(&[ix], &[reporter]), 6021);
}

#[test]
fn join_limits_carry_upstream_codes() {
    let mut net = Net::new();
    // 6022: more clients than batches.
    let config = config_with(|c| {
        c.config.global_batch_size_start = 1;
        c.config.global_batch_size_end = 1;
    });
    let run = net.running("batches", &config);
    join_clients(&mut net, run, 1);
    let auth = pdas::join_authorization(&net.ids, &net.join_authority.pubkey(), &PERMISSIONLESS_GRANTEE);
    let late = Keypair::new();
    let ix = net.join_ix(run, &late.pubkey(), auth);
    assert_eq!(net.code(&[ix], &[&late]), 6022);
    // 6003: the registry holds 256 clients.
    let config = config_with(|c| {
        c.config.global_batch_size_start = 1024;
        c.config.global_batch_size_end = 1024;
    });
    let run = net.running("full", &config);
    join_clients(&mut net, run, 256);
    let ix = net.join_ix(run, &late.pubkey(), auth);
    assert_eq!(net.code(&[ix], &[&late]), 6003);
    // 2003: an authorization for someone else; 3012: none at all.
    let private = net.grant(&Pubkey::new_unique());
    let ix = net.join_ix(run, &late.pubkey(), private);
    assert_eq!(account_error(&mut net, &[ix], &[&late]), (2003, "authorization".into()));
    let missing = pdas::join_authorization(&net.ids, &net.join_authority.pubkey(), &late.pubkey());
    let ix = net.join_ix(run, &late.pubkey(), missing);
    assert_eq!(account_error(&mut net, &[ix], &[&late]), (3012, "authorization".into()));
}

#[test]
fn authorizer_and_treasurer_errors_carry_upstream_codes() {
    let mut net = Net::new();
    let grantee = Pubkey::new_unique();
    let auth = net.grant(&grantee);
    let join_authority = net.join_authority.insecure_clone();
    let close = authorizer::instruction(
        &net.ids,
        &authorizer::CloseAccounts {
            grantor: net.join_authority.pubkey(),
            spill: net.operator.pubkey(),
            authorization: auth,
        },
        &authorizer::AuthorizationClose::default(),
    );
    // Authorizer 6000: still active.
    assert_eq!(thrown(&mut net, std::slice::from_ref(&close), &[&join_authority]), 6000);
    // Authorizer 6001: inactive, but with delegates and a grantor update less than 30 days ago.
    let grantee_key = Keypair::new();
    let delegated = net.grant(&grantee_key.pubkey());
    let add = authorizer::instruction(
        &net.ids,
        &authorizer::GranteeUpdateAccounts {
            payer: net.operator.pubkey(),
            grantee: grantee_key.pubkey(),
            authorization: delegated,
        },
        &authorizer::AuthorizationGranteeUpdate {
            params: authorizer::AuthorizationGranteeUpdateParams {
                delegates_clear: false,
                delegates_added: vec![Pubkey::new_unique()],
            },
        },
    );
    net.ok(&[add], &[&grantee_key]);
    let deactivate = net.grantor_update(delegated, false);
    net.ok(&[deactivate], &[&join_authority]);
    let mut close_delegated = close.clone();
    close_delegated.accounts[2].pubkey = delegated;
    assert_eq!(thrown(&mut net, &[close_delegated], &[&join_authority]), 6001);
    // 2003: someone else updating it; 3010: the grantor did not sign.
    let intruder = net.new_funded();
    let mut update = net.grantor_update(auth, false);
    update.accounts[0].pubkey = intruder.pubkey();
    assert_eq!(account_error(&mut net, &[update], &[&intruder]), (2003, "authorization".into()));
    let mut unsigned = net.grantor_update(auth, false);
    unsigned.accounts[0].is_signer = false;
    assert_eq!(account_error(&mut net, &[unsigned], &[]), (3010, "grantor".into()));

    // Treasurer 6001: a run id over 32 bytes.
    let mint = net.local.create_mint(6).unwrap();
    let account = Keypair::new();
    let mut create = net.run_create("y", &mint, &account.pubkey());
    let index = pdas::treasurer_index("y");
    create.data = anchor_lang::InstructionData::data(&treasurer::RunCreate {
        params: treasurer::RunCreateParams {
            index,
            run_id: "y".repeat(33),
            client_version: "v".into(),
            main_authority: net.operator.pubkey(),
            join_authority: net.join_authority.pubkey(),
        },
    });
    let alloc = net.create_account_ix(&account.pubkey());
    assert_eq!(thrown(&mut net, &[alloc, create], &[&account]), 6001);
    // Treasurer 6000: claiming more than earned; 2003: updating someone else's run.
    let (run, mint, keys) = net.create_rewarded("claims");
    let user = net.new_funded();
    let ix = net.participant_create(run, &user.pubkey());
    net.ok(&[ix], &[&user]);
    let user_collateral = net.local.mint_to(&mint, &user.pubkey(), 0).unwrap();
    let ix = net.participant_claim(run, &mint, keys, &user.pubkey(), user_collateral, 1);
    assert_eq!(thrown(&mut net, &[ix], &[&user]), 6000);
    let mut ix = net.run_update(run, keys, treasurer::RunUpdateParams { paused: Some(false), ..Default::default() });
    ix.accounts[0].pubkey = user.pubkey();
    assert_eq!(account_error(&mut net, &[ix], &[&user]), (2003, "run".into()));
}

#[test]
fn anchor_framework_errors_carry_upstream_codes() {
    let mut net = Net::new();
    let run = net.running("anchor", &fixture_config());
    let tick = net.permissionless_ix(run, &net.operator.pubkey(), &coordinator::Tick {});
    // 100: no discriminator; 101: an unknown one; 102: arguments that do not decode.
    // The instruction-level ones carry no origin (`AnchorError occurred.`).
    for (data, code) in [(vec![1, 2, 3], 100), (vec![9; 8], 101)] {
        let ix = Instruction { data, ..tick.clone() };
        let logged = net.error(&[ix], &[]);
        assert_eq!((logged.number, logged.form), (code, Form::Occurred));
    }
    let mut paused = net.set_paused(run, false);
    paused.data.truncate(8);
    let logged = net.error(&[paused], &[]);
    assert_eq!(
        (logged.number, &logged.name, logged.form),
        (102, &"InstructionDidNotDeserialize".into(), Form::Occurred)
    );
    // 3005: too few accounts, naming the first one missing.
    let ix = Instruction { accounts: tick.accounts[..2].to_vec(), ..tick.clone() };
    assert_eq!(account_error(&mut net, &[ix], &[]), (3005, "coordinator_account".into()));
    // 2000: the coordinator account passed read-only.
    let mut ix = tick.clone();
    ix.accounts[2].is_writable = false;
    assert_eq!(account_error(&mut net, &[ix], &[]), (2000, "coordinator_account".into()));
    // 2003: another run's coordinator account; 2006: an instance at the wrong address.
    let other = net.create_run("anchor-other");
    let mut ix = tick.clone();
    ix.accounts[2].pubkey = other.account;
    assert_eq!(account_error(&mut net, &[ix], &[]), (2003, "coordinator_account".into()));
    // 3007: an instance owned by another program (the authorizer's account), the two owners
    // following the error as Anchor logs them.
    let auth = net.grant(&Pubkey::new_unique());
    let mut ix = tick.clone();
    ix.accounts[1].pubkey = auth;
    let logged = net.error(&[ix], &[]);
    assert_eq!((logged.number, logged.account()), (3007, "coordinator_instance"));
    assert_eq!(logged.compared, Some((net.ids.authorizer.to_string(), net.ids.coordinator.to_string())));
    // 3012: an instance that does not exist.
    let mut ix = tick.clone();
    ix.accounts[1].pubkey = Pubkey::new_unique();
    assert_eq!(account_error(&mut net, &[ix], &[]), (3012, "coordinator_instance".into()));
    // 3002: the instance passed as the coordinator account (wrong discriminator).
    let mut ix = tick;
    ix.accounts[2].pubkey = run.instance;
    assert_eq!(account_error(&mut net, &[ix], &[]), (3002, "coordinator_account".into()));
}

// ---------------------------------------------------------------------------------------
// Divergences (issue 9), one test each
// ---------------------------------------------------------------------------------------

#[test]
fn resume_past_last_step_fails_halted() {
    let mut net = Net::new();
    let config = fixture_config();
    let run = net.running("last-step", &config);
    let ix = net.set_paused(run, true);
    net.ok(&[ix], &[]);
    // restart_from_step at the last step, then resume: the tick of a Finished run refuses.
    let progress = CoordinatorProgress { epoch: 3, step: config.config.total_steps, epoch_start_data_index: 0 };
    let ix = net.owner_ix(run, &coordinator::Update { progress: Some(progress), ..Default::default() });
    net.ok(&[ix], &[]);
    let ix = net.set_paused(run, false);
    assert_eq!(net.code(&[ix], &[]), 6015);
    assert_eq!(net.coordinator(run).run_state, RunState::Paused);
    // Lowering total_steps to the current step does the same.
    let lowered = net.running("lowered", &config);
    let ix = net.set_paused(lowered, true);
    net.ok(&[ix], &[]);
    let mut short = config.config;
    short.total_steps = 1;
    let ix = net.owner_ix(lowered, &coordinator::Update { config: Some(short), ..Default::default() });
    net.ok(&[ix], &[]);
    let ix = net.set_paused(lowered, false);
    assert_eq!(net.code(&[ix], &[]), 6015);
    assert_eq!(net.coordinator(lowered).run_state, RunState::Paused);
    // Through the treasurer's run_update too.
    let (treasurer_run, _, keys) = net.create_rewarded("last-step-treasurer");
    let mut finished = config.clone();
    finished.config.total_steps = 1;
    let params = treasurer::RunUpdateParams {
        config: Some(finished.config),
        model: Some(finished.model.clone()),
        ..Default::default()
    };
    let ix = net.run_update(treasurer_run, keys, params);
    net.ok(&[ix], &[]);
    let ix =
        net.run_update(treasurer_run, keys, treasurer::RunUpdateParams { paused: Some(false), ..Default::default() });
    assert_eq!(net.code(&[ix], &[]), 6015);
    assert_eq!(net.coordinator(keys).run_state, RunState::Uninitialized, "the failed transaction changed nothing");
}

#[test]
fn warmup_witnesses_end_warmup_early() {
    let mut net = Net::new();
    let config = config_with(|c| c.config.witness_nodes = 0);
    let run = net.running("warmup", &config);
    let clients = join_clients(&mut net, run, 2);
    to_warmup(&mut net, run);
    let next_active = net.coordinator(run).next_active;
    let ix = warmup_witness_ix(&net, run, &clients[0], 0);
    net.ok(&[ix], &[&clients[0]]);
    assert_eq!(net.coordinator(run).run_state, RunState::Warmup);
    // The same sender again is a duplicate.
    let ix = warmup_witness_ix(&net, run, &clients[0], 0);
    assert_eq!(net.code(&[ix], &[&clients[0]]), 6013);
    let ix = warmup_witness_ix(&net, run, &clients[1], 1);
    net.ok(&[ix], &[&clients[1]]);
    let acc = net.coordinator(run);
    assert_eq!(acc.run_state, RunState::RoundTrain, "the second of two expected witnesses starts training");
    assert_eq!(acc.next_active, next_active + 1, "training started: joins for the next epoch open");
    assert!(acc.epoch_state.rounds[0].witnesses.is_empty(), "the first round starts empty");
    // A warmup witness arriving after the start is ignored (and still ticks).
    let ix = warmup_witness_ix(&net, run, &clients[0], 0);
    net.ok(&[ix], &[&clients[0]]);
}

#[test]
fn health_check_drops_an_unhealthy_client() {
    let mut net = Net::new();
    let config = config_with(|c| c.config.witness_nodes = 0);
    net.running("drops", &config);
    net.grant(&PERMISSIONLESS_GRANTEE);
    let clients = sim_clients(&[Behaviour::Healthy, Behaviour::Unhealthy, Behaviour::Healthy]);
    let summary = net.local.simulate_epoch_with("drops", &clients).unwrap();
    let unhealthy = clients[1].keypair.pubkey();
    assert_eq!(summary.dropped, vec![unhealthy]);
    let acc = net.coordinator(net.keys_of("drops"));
    let exited: Vec<_> = acc.epoch_state.exited_clients.iter().map(|c| (c.signer, c.state, c.exited_height)).collect();
    assert_eq!(exited, vec![(unhealthy, ClientState::Dropped, 2)]);
    assert_eq!(acc.epoch_state.clients.len(), 2);
    assert!(acc.epoch_state.clients.iter().all(|c| c.signer != unhealthy));
}

#[test]
fn earning_rate_splits_among_healthy_clients_only() {
    let mut net = Net::new();
    let (run, _, keys) = net.create_rewarded("split");
    let config = fixture_config();
    let params = treasurer::RunUpdateParams {
        config: Some(config.config),
        model: Some(config.model.clone()),
        epoch_earning_rate_total_shared: Some(RATE),
        paused: Some(false),
        ..Default::default()
    };
    let ix = net.run_update(run, keys, params);
    net.ok(&[ix], &[]);
    net.grant(&PERMISSIONLESS_GRANTEE);
    let clients = sim_clients(&[Behaviour::Healthy, Behaviour::Unhealthy, Behaviour::Healthy]);
    let summary = net.local.simulate_epoch_with("split", &clients).unwrap();
    let earned: Vec<u64> = summary.earned.iter().map(|(_, e)| *e).collect();
    // Three joined, one dropped: the rate is divided by the two still in the epoch.
    assert_eq!(earned, vec![RATE / 2, 0, RATE / 2]);
}

#[test]
fn witness_is_accepted_in_round_witness() {
    let mut net = Net::new();
    let config = config_with(|c| c.config.witness_nodes = 0);
    let (run, clients) = training(&mut net, "late-witness", &config, 2);
    let proof = own_proof(&net, run, &clients[0]);
    let ix = witness_ix(&net, run, &clients[0], proof);
    net.ok(&[ix], &[&clients[0]]);
    net.local.advance_clock(config.config.max_round_train_time + 1);
    assert_eq!(tick(&mut net, run), None);
    assert_eq!(net.coordinator(run).run_state, RunState::RoundWitness);
    let proof = own_proof(&net, run, &clients[1]);
    let ix = witness_ix(&net, run, &clients[1], proof);
    net.ok(&[ix], &[&clients[1]]);
    let acc = net.coordinator(run);
    assert_eq!(acc.epoch_state.rounds[acc.epoch_state.rounds_head as usize % 4].witnesses.len(), 2);
}

#[test]
fn witness_proofs_are_checked_against_the_shuffle() {
    let mut net = Net::new();
    let config = config_with(|c| c.config.witness_nodes = 0);
    let (run, clients) = training(&mut net, "proofs", &config, 2);
    let own = own_proof(&net, run, &clients[0]);
    // Someone else's index, a false witness flag: 6011.
    let theirs = own_proof(&net, run, &clients[1]);
    let ix = witness_ix(&net, run, &clients[0], theirs);
    assert_eq!(net.code(&[ix], &[&clients[0]]), 6011);
    let ix = witness_ix(&net, run, &clients[0], coordinator::WitnessProof { witness: 0, ..own });
    assert_eq!(net.code(&[ix], &[&clients[0]]), 6011);
    // Duplicates are found by sender.
    let ix = witness_ix(&net, run, &clients[0], own);
    net.ok(&[ix], &[&clients[0]]);
    let ix = witness_ix(&net, run, &clients[0], own);
    assert_eq!(net.code(&[ix], &[&clients[0]]), 6013);
}

#[test]
fn verification_percent_over_100_stalls_training() {
    let mut net = Net::new();
    let config = config_with(|c| c.config.verification_percent = 101);
    let (run, clients) = training(&mut net, "stalled", &config, 1);
    let ix = witness_ix(&net, run, &clients[0], coordinator::WitnessProof { position: 0, index: 0, witness: 1 });
    assert_eq!(net.code(&[ix], &[&clients[0]]), 6020);
}

#[test]
fn witness_on_a_halted_run_fails_halted() {
    let mut net = Net::new();
    let config = fixture_config();
    let run = net.running("halted-witness", &config);
    let clients = join_clients(&mut net, run, 1);
    let ix = net.set_paused(run, true);
    net.ok(&[ix], &[]);
    let ix = witness_ix(&net, run, &clients[0], coordinator::WitnessProof { position: 0, index: 0, witness: 1 });
    assert_eq!(net.code(&[ix], &[&clients[0]]), 6015);
}

#[test]
fn witness_metadata_is_decoded_and_required() {
    let mut net = Net::new();
    let config = fixture_config();
    let (run, clients) = training(&mut net, "metadata", &config, 1);
    let proof = own_proof(&net, run, &clients[0]);
    let full = witness_ix(&net, run, &clients[0], proof);
    // Without the 389 bytes of metadata: 102.
    let mut bare = full.clone();
    bare.data.truncate(bare.data.len() - 389);
    assert_eq!(net.code(&[bare], &[&clients[0]]), 102);
    // A NaN loss does not decode (Borsh refuses NaN floats).
    let mut nan = full.clone();
    let loss_at = nan.data.len() - 389 + 12;
    nan.data[loss_at..loss_at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    assert_eq!(net.code(&[nan], &[&clients[0]]), 102);
    net.ok(&[full], &[&clients[0]]);
}

#[test]
fn quorum_without_witness_nodes_counts_arrived_witnesses() {
    let mut net = Net::new();
    let config = config_with(|c| c.config.witness_nodes = 0);
    let (run, clients) = training(&mut net, "quorum", &config, 3);
    // One witness of three: with witness_nodes = 0 the quorum is taken over the witnesses
    // that arrived, so the round counts and training goes on.
    let proof = own_proof(&net, run, &clients[0]);
    let ix = witness_ix(&net, run, &clients[0], proof);
    net.ok(&[ix], &[&clients[0]]);
    net.local.advance_clock(config.config.max_round_train_time + 1);
    assert_eq!(tick(&mut net, run), None);
    net.local.advance_clock(config.config.round_witness_time + 1);
    assert_eq!(tick(&mut net, run), None);
    let acc = net.coordinator(run);
    assert_eq!(acc.run_state, RunState::RoundTrain);
    assert_eq!(acc.epoch_state.rounds[acc.epoch_state.rounds_head as usize % 4].height, 1);
}

#[test]
fn checkpoint_fallback_uses_only_healthy_previous_clients() {
    let mut net = Net::new();
    let config = config_with(|c| c.config.witness_nodes = 0);
    let run = net.running("fallback", &config);
    net.grant(&PERMISSIONLESS_GRANTEE);
    let clients = sim_clients(&[Behaviour::Healthy, Behaviour::Unhealthy]);
    net.local.simulate_epoch_with("fallback", &clients).unwrap();
    assert!(matches!(net.coordinator(run).model.llm().checkpoint, Checkpoint::P2P(_)));
    // Only the client dropped last epoch comes back: nobody holds the checkpoint.
    let run_ref = net.local.load_run("fallback").unwrap();
    net.local.join_client(&run_ref, &clients[1].keypair).unwrap();
    to_warmup(&mut net, run);
    assert!(matches!(net.coordinator(run).model.llm().checkpoint, Checkpoint::Hub(_)));

    // Control: when the healthy one comes back, peers serve the checkpoint.
    let control = net.running("fallback-control", &config);
    let clients = sim_clients(&[Behaviour::Healthy, Behaviour::Unhealthy]);
    net.local.simulate_epoch_with("fallback-control", &clients).unwrap();
    let run_ref = net.local.load_run("fallback-control").unwrap();
    net.local.join_client(&run_ref, &clients[0].keypair).unwrap();
    to_warmup(&mut net, control);
    assert!(matches!(net.coordinator(control).model.llm().checkpoint, Checkpoint::P2P(_)));
}

#[test]
fn cold_start_epoch_is_cleared_after_a_normal_cooldown() {
    let mut net = Net::new();
    let config = fixture_config();
    let run = net.running("cold", &config);
    let ix = net.set_paused(run, true);
    net.ok(&[ix], &[]);
    assert!(net.coordinator(run).epoch_state.cold_start_epoch);
    let ix = net.set_paused(run, false);
    net.ok(&[ix], &[]);
    net.grant(&PERMISSIONLESS_GRANTEE);
    let clients = sim_clients(&[Behaviour::Healthy]);
    let summary = net.local.simulate_epoch_with("cold", &clients).unwrap();
    assert_eq!(summary.final_state, RunState::WaitingForMembers);
    assert!(!net.coordinator(run).epoch_state.cold_start_epoch);
}

#[test]
fn client_version_over_96_bytes_is_truncated_at_init() {
    let mut net = Net::new();
    let account = Keypair::new();
    let version = "v".repeat(100);
    let ixs =
        [net.create_account_ix(&account.pubkey()), net.init_coordinator("long-version", &account.pubkey(), &version)];
    net.ok(&ixs, &[&account]);
    let run = RunKeys { instance: pdas::coordinator_instance(&net.ids, "long-version"), account: account.pubkey() };
    assert_eq!(net.coordinator(run).client_version.as_str(), "v".repeat(96));
    // update_client_version unwraps the same conversion: over 96 bytes it panics.
    let ix = net.owner_ix(run, &coordinator::UpdateClientVersion { new_version: version });
    assert_eq!(net.fails(&[ix], &[]), InstructionError::ProgramFailedToComplete);
}

#[test]
fn local_empty_data_location_is_accepted() {
    let mut net = Net::new();
    let run = net.create_run("local");
    let mut config = fixture_config();
    config.model.llm_mut().data_location = DataLocation::Local(FixedString::new("").unwrap());
    net.configure(run, &config);
    let ix = net.set_paused(run, false);
    net.ok(&[ix], &[]);
}

#[test]
fn program_accounts_are_checked_with_anchor_codes() {
    let mut net = Net::new();
    // 3008: another account where the system program is expected.
    let account = Keypair::new();
    let mut init = net.init_coordinator("programs", &account.pubkey(), "v");
    init.accounts[3].pubkey = net.ids.treasurer;
    let create = net.create_account_ix(&account.pubkey());
    let logged = net.error(&[create, init], &[&account]);
    assert_eq!((logged.number, logged.account()), (3008, "system_program"));
    let system = solana_system_interface::program::ID;
    assert_eq!(logged.compared, Some((net.ids.treasurer.to_string(), system.to_string())));
    // 2004: a coordinator account not owned by the coordinator.
    let foreign = net.new_funded();
    let mut init = net.init_coordinator("programs", &foreign.pubkey(), "v");
    init.accounts[2].is_signer = false;
    assert_eq!(account_error(&mut net, &[init], &[]), (2004, "coordinator_account".into()));
    // 3008 for each program account of run_create (coordinator, associated token, token).
    let mint = net.local.create_mint(6).unwrap();
    for (slot, name) in [(6, "coordinator_program"), (7, "associated_token_program"), (8, "token_program")] {
        let account = Keypair::new();
        let mut create = net.run_create("programs-t", &mint, &account.pubkey());
        create.accounts[slot].pubkey = solana_system_interface::program::ID;
        let alloc = net.create_account_ix(&account.pubkey());
        assert_eq!(account_error(&mut net, &[alloc, create], &[&account]), (3008, name.into()));
    }
    // 3014: a run collateral account that is not the run's associated token account.
    let account = Keypair::new();
    let mut create = net.run_create("programs-ata", &mint, &account.pubkey());
    create.accounts[2].pubkey = Pubkey::new_unique();
    let alloc = net.create_account_ix(&account.pubkey());
    assert_eq!(account_error(&mut net, &[alloc, create], &[&account]), (3014, "run_collateral".into()));
    // 3011: a spill account that the system program does not own; 2000: one passed read-only.
    let run = net.create_run("spill");
    let (ids, operator) = (net.ids, net.operator.pubkey());
    let free = |spill: Pubkey, writable: bool| {
        let mut ix = coordinator::instruction(
            &ids,
            &coordinator::FreeCoordinatorAccounts {
                authority: operator,
                spill,
                coordinator_instance: run.instance,
                coordinator_account: run.account,
            },
            &coordinator::FreeCoordinator::default(),
        );
        ix.accounts[1].is_writable = writable;
        ix
    };
    let ix = free(run.instance, true);
    assert_eq!(account_error(&mut net, &[ix], &[]), (3011, "spill".into()));
    let bystander = net.new_funded().pubkey();
    let ix = free(bystander, false);
    assert_eq!(account_error(&mut net, &[ix], &[]), (2000, "spill".into()));
}

#[test]
fn claim_accounts_fail_as_upstream() {
    let mut net = Net::new();
    let (run, mint, keys) = net.create_rewarded("claim-accounts");
    let user = net.new_funded();
    let ix = net.participant_create(run, &user.pubkey());
    net.ok(&[ix], &[&user]);
    let user_collateral = net.local.mint_to(&mint, &user.pubkey(), 0).unwrap();
    // 3007: a user collateral account the token program does not own (the user's wallet).
    let ix = net.participant_claim(run, &mint, keys, &user.pubkey(), user.pubkey(), 0);
    assert_eq!(account_error(&mut net, &[ix], &[&user]), (3007, "user_collateral".into()));
    // 2015: a run collateral account the run does not own (the user's own token account).
    let mut ix = net.participant_claim(run, &mint, keys, &user.pubkey(), user_collateral, 0);
    ix.accounts[3].pubkey = user_collateral;
    let logged = net.error(&[ix], &[&user]);
    assert_eq!((logged.number, logged.account()), (2015, "run_collateral"));
    assert_eq!(logged.compared, Some((user.pubkey().to_string(), run.to_string())));
    // 2009: a token account of the run that is not its associated one.
    let stray = Keypair::new();
    let rent = net.local.minimum_balance(spl_token_interface::state::Account::LEN);
    let create = solana_system_interface::instruction::create_account(
        &net.operator.pubkey(),
        &stray.pubkey(),
        rent,
        spl_token_interface::state::Account::LEN as u64,
        &spl_token_interface::ID,
    );
    let init =
        spl_token_interface::instruction::initialize_account3(&spl_token_interface::ID, &stray.pubkey(), &mint, &run)
            .unwrap();
    net.ok(&[create, init], &[&stray]);
    let mut ix = net.participant_claim(run, &mint, keys, &user.pubkey(), user_collateral, 0);
    ix.accounts[3].pubkey = stray.pubkey();
    assert_eq!(account_error(&mut net, &[ix], &[&user]), (2009, "run_collateral".into()));
}

#[test]
fn shrinking_delegates_refunds_rent() {
    let mut net = Net::new();
    let grantee = net.new_funded();
    let auth = net.grant(&grantee.pubkey());
    let update = |net: &Net, clear: bool, added: Vec<Pubkey>| {
        authorizer::instruction(
            &net.ids,
            &authorizer::GranteeUpdateAccounts {
                payer: net.operator.pubkey(),
                grantee: grantee.pubkey(),
                authorization: auth,
            },
            &authorizer::AuthorizationGranteeUpdate {
                params: authorizer::AuthorizationGranteeUpdateParams { delegates_clear: clear, delegates_added: added },
            },
        )
    };
    let small = net.local.account(&auth).unwrap();
    let ix = update(&net, false, (0..8).map(|_| Pubkey::new_unique()).collect());
    net.ok(&[ix], &[&grantee]);
    let grown = net.local.account(&auth).unwrap();
    assert_eq!(grown.data.len(), small.data.len() + 8 * 32);
    assert_eq!(grown.lamports, net.local.minimum_balance(grown.data.len()));
    let before = net.local.balance(&net.operator.pubkey());
    let ix = update(&net, true, vec![]);
    net.ok(&[ix], &[&grantee]);
    let shrunk = net.local.account(&auth).unwrap();
    assert_eq!(shrunk.data.len(), small.data.len());
    assert_eq!(shrunk.lamports, net.local.minimum_balance(shrunk.data.len()), "the excess rent was refunded");
    let fee = 2 * 5_000;
    assert_eq!(net.local.balance(&net.operator.pubkey()), before + (grown.lamports - shrunk.lamports) - fee);
}

#[test]
fn malformed_instructions_fail_without_panics() {
    let mut net = Net::new();
    // A 40-byte scope: upstream's address derivation panics, so the transaction fails.
    let grantee = Pubkey::new_unique();
    let mut ix = net.authorization_create(&grantee, b"short");
    ix.data = anchor_lang::InstructionData::data(&authorizer::AuthorizationCreate {
        params: authorizer::AuthorizationCreateParams { grantee, scope: vec![7; 40] },
    });
    let join_authority = net.join_authority.insecure_clone();
    let executed = net.send(&[ix], &[&join_authority]);
    assert!(
        matches!(
            executed.err,
            Some(solana_sdk::transaction::TransactionError::InstructionError(
                0,
                InstructionError::ProgramFailedToComplete
            ))
        ),
        "{:?}",
        executed.err
    );
    assert!(executed.logs.iter().any(|l| l.contains("panicked at")), "{:?}", executed.logs);
    // The chain goes on.
    net.grant(&grantee);
}

#[test]
fn configured_program_ids_are_used_by_the_localnet() {
    let ids = ProgramIds {
        coordinator: Pubkey::new_unique(),
        authorizer: Pubkey::new_unique(),
        treasurer: Pubkey::new_unique(),
    };
    let mut net = Net::with_ids(ids);
    let (run, _, keys) = net.create_rewarded("custom-ids");
    assert_eq!(net.local.account(&keys.account).unwrap().owner, ids.coordinator);
    assert_eq!(net.local.account(&run).unwrap().owner, ids.treasurer);
    let config = fixture_config();
    let params = treasurer::RunUpdateParams {
        config: Some(config.config),
        model: Some(config.model.clone()),
        paused: Some(false),
        ..Default::default()
    };
    let ix = net.run_update(run, keys, params);
    net.ok(&[ix], &[]);
    // Join through an authorization the configured authorizer owns.
    let clients = join_clients(&mut net, keys, 1);
    assert_eq!(net.coordinator(keys).clients[0].signer, clients[0].pubkey());
    // The upstream IDs are no programs here, as on a cluster that deployed elsewhere.
    let mut upstream = net.permissionless_ix(keys, &net.operator.pubkey(), &coordinator::Tick {});
    upstream.program_id = ProgramIds::default().coordinator;
    assert!(net.send(&[upstream], &[]).err.is_some());
    // run_create refuses a coordinator program other than the configured one (3008).
    let mint = net.local.create_mint(6).unwrap();
    let account = Keypair::new();
    let mut create = net.run_create("custom-ids-2", &mint, &account.pubkey());
    create.accounts[6].pubkey = ProgramIds::default().coordinator;
    let alloc = net.create_account_ix(&account.pubkey());
    assert_eq!(account_error(&mut net, &[alloc, create], &[&account]), (3008, "coordinator_program".into()));
}

#[test]
fn multi_epoch_points_and_claims_follow_upstream_formulas() {
    let mut net = Net::new();
    let (run, mint, keys) = net.create_rewarded("multi");
    let config = fixture_config();
    let params = treasurer::RunUpdateParams {
        config: Some(config.config),
        model: Some(config.model.clone()),
        epoch_earning_rate_total_shared: Some(RATE),
        epoch_slashing_rate_per_client: Some(7),
        paused: Some(false),
        ..Default::default()
    };
    let ix = net.run_update(run, keys, params);
    net.ok(&[ix], &[]);
    let treasury = pdas::associated_token(&run, &mint);
    let funded = 100 * RATE;
    let source = net.local.mint_to(&mint, &net.operator.pubkey(), funded).unwrap();
    let ix = psyche_runbook::psyche::instructions::system::token_transfer(
        &source,
        &treasury,
        &net.operator.pubkey(),
        funded,
    );
    net.ok(&[ix], &[]);
    net.grant(&PERMISSIONLESS_GRANTEE);
    let clients = sim_clients(&[Behaviour::Healthy, Behaviour::Healthy, Behaviour::Unhealthy, Behaviour::Healthy]);
    let epochs = 3;
    for epoch in 1..=epochs {
        // The third epoch runs at a new rate, set for the future during the second.
        if epoch == 3 {
            let ix = net.run_update(
                run,
                keys,
                treasurer::RunUpdateParams { epoch_earning_rate_total_shared: Some(2 * RATE), ..Default::default() },
            );
            net.ok(&[ix], &[]);
        }
        let summary = net.local.simulate_epoch_with("multi", &clients).unwrap();
        assert_eq!(summary.epoch, epoch);
        assert_eq!(summary.dropped, vec![clients[2].keypair.pubkey()], "epoch {epoch}");
        // Upstream: earning_rate_total_shared / clients still in the epoch, to each healthy one.
        let rate = if epoch == 3 { 2 * RATE } else { RATE };
        let expected: Vec<u64> =
            clients.iter().map(|c| if c.behaviour == Behaviour::Healthy { rate / 3 } else { 0 }).collect();
        assert_eq!(summary.earned.iter().map(|(_, e)| *e).collect::<Vec<_>>(), expected, "epoch {epoch}");
    }
    let acc = net.coordinator(keys);
    let total_healthy = 2 * (RATE / 3) + (2 * RATE) / 3;
    for (client, registered) in clients.iter().zip(&acc.clients) {
        assert_eq!(registered.signer, client.keypair.pubkey());
        let expected = if client.behaviour == Behaviour::Healthy { total_healthy } else { 0 };
        assert_eq!(registered.earned, expected);
        // Dropped clients are not ejected: no slashing.
        assert_eq!(registered.slashed, 0);
    }
    // Claims: one collateral unit per point, up to what was earned.
    let mut claimed = 0;
    for client in &clients {
        let user = &client.keypair;
        let ix = net.participant_create(run, &user.pubkey());
        net.ok(&[ix], &[user]);
        let user_collateral = net.local.mint_to(&mint, &user.pubkey(), 0).unwrap();
        let earned = acc.clients.iter().find(|c| c.signer == user.pubkey()).unwrap().earned;
        let too_much = net.participant_claim(run, &mint, keys, &user.pubkey(), user_collateral, earned + 1);
        assert_eq!(net.code(&[too_much], &[user]), 6000);
        let ix = net.participant_claim(run, &mint, keys, &user.pubkey(), user_collateral, earned);
        net.ok(&[ix], &[user]);
        claimed += earned;
        assert_eq!(net.local.token_balance(&user_collateral).unwrap().0, earned);
    }
    assert_eq!(net.local.token_balance(&treasury).unwrap().0, funded - claimed);
    let stored =
        psyche_runbook::psyche::accounts::treasurer::TreasurerRun::decode(&net.local.account(&run).unwrap().data)
            .unwrap();
    assert_eq!((stored.total_claimed_earned_points, stored.total_claimed_collateral_amount), (claimed, claimed));
}

#[test]
fn a_warmup_witness_naming_no_client_fails_the_next_one_as_a_panic() {
    // Upstream does not check a warmup witness's index, then indexes the clients with it when
    // the next warmup witness arrives: that one fails as a panicking program's transaction.
    let mut net = Net::new();
    let config = config_with(|c| c.config.witness_nodes = 0);
    let run = net.running("foreign-index", &config);
    let clients = join_clients(&mut net, run, 3);
    to_warmup(&mut net, run);
    let ix = warmup_witness_ix(&net, run, &clients[0], 99);
    net.ok(&[ix], &[&clients[0]]);
    let ix = warmup_witness_ix(&net, run, &clients[1], 1);
    assert_eq!(net.fails(&[ix], &[&clients[1]]), InstructionError::ProgramFailedToComplete);
    assert_eq!(net.coordinator(run).run_state, RunState::Warmup);
}

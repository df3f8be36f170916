//! Every error code an operator or a client can hit, each triggered by a real transaction and
//! asserted by number.

use crate::common::anchor_log::Form;
use crate::common::programs::{Net, fixture_config};
use crate::helpers::{
    account_error, config_with, current_selection, index_of, join_clients, own_proof, sim_clients, thrown, tick,
    to_warmup, training, warmup_witness_ix, witness_ix,
};
use psyche_runbook::localnet::programs::coordinator::committee::Selection;
use psyche_runbook::localnet::simulator::Behaviour;
use psyche_runbook::psyche::accounts::coordinator_account::RunState;
use psyche_runbook::psyche::config::CoordinatorProgress;
use psyche_runbook::psyche::instructions::{authorizer, coordinator, treasurer};
use psyche_runbook::psyche::pdas::{self, PERMISSIONLESS_GRANTEE};
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;

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

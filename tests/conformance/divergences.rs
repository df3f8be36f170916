//! One regression test per divergence the localnet used to have from upstream (issue 9),
//! named after it.

use crate::common::programs::{Net, RunKeys, fixture_config};
use crate::helpers::{
    RATE, account_error, config_with, join_clients, own_proof, sim_clients, tick, to_warmup, training,
    warmup_witness_ix, witness_ix,
};
use psyche_runbook::localnet::simulator::Behaviour;
use psyche_runbook::psyche::accounts::BorshAccount;
use psyche_runbook::psyche::accounts::coordinator_account::{ClientState, RunState};
use psyche_runbook::psyche::config::CoordinatorProgress;
use psyche_runbook::psyche::fixed::FixedString;
use psyche_runbook::psyche::ids::ProgramIds;
use psyche_runbook::psyche::instructions::{authorizer, coordinator, treasurer};
use psyche_runbook::psyche::model::{Checkpoint, DataLocation};
use psyche_runbook::psyche::pdas::{self, PERMISSIONLESS_GRANTEE};
use solana_program_pack::Pack;
use solana_sdk::instruction::InstructionError;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;

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

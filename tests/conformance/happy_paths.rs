//! The happy path of every instruction of the coordinator, authorizer and treasurer.

use crate::common::programs::{Net, fixture_config};
use crate::helpers::{RATE, config_with, own_proof, sim_clients, training, witness_ix};
use psyche_runbook::localnet::simulator::Behaviour;
use psyche_runbook::psyche::accounts::BorshAccount;
use psyche_runbook::psyche::accounts::authorization::Authorization;
use psyche_runbook::psyche::accounts::coordinator_account::RunState;
use psyche_runbook::psyche::accounts::treasurer::Participant;
use psyche_runbook::psyche::fixed::FixedString;
use psyche_runbook::psyche::instructions::{authorizer, coordinator, treasurer};
use psyche_runbook::psyche::model::Checkpoint;
use psyche_runbook::psyche::pdas::{self, JOIN_RUN_SCOPE, PERMISSIONLESS_GRANTEE};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;

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

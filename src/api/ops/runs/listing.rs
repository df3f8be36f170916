//! Listing runs: every run of the cluster, or, with a filter, only those a user can join now
//! (upstream's notion: the run is in a joinable state, and the user holds an active
//! authorization from its join authority, public or personal, or is a delegate of the given
//! authorizer's). Instances come from one program-accounts request; their coordinator accounts,
//! main authorities and every candidate authorization from one batched read.

use crate::api::host::Host;
use crate::api::values::error::HostError;
use crate::api::values::keys::to_pubkey;
use crate::api::values::runs::RunHandle;
use crate::psyche::accounts::BorshAccount;
use crate::psyche::accounts::authorization::Authorization;
use crate::psyche::accounts::coordinator_account::{CoordinatorAccount, RunState};
use crate::psyche::accounts::instance::{self, CoordinatorInstance};
use crate::psyche::pdas::{self, JOIN_RUN_SCOPE, PERMISSIONLESS_GRANTEE};
use rhai::plugin::*;
use rhai::{Array, EvalAltResult, Map};
use solana_sdk::account::Account;
use solana_sdk::pubkey::Pubkey;

type Res<T> = Result<T, Box<EvalAltResult>>;

/// `list_runs`'s filter.
#[derive(Default)]
struct Filter {
    /// Only runs this user can join now.
    joinable_by: Option<Pubkey>,
    /// A master key whose authorization lists the user as a delegate (a client's
    /// `--authorizer`).
    authorizer: Option<Pubkey>,
    /// Only runs whose join authority is this key.
    join_authority: Option<Pubkey>,
}

fn filter(map: &Map) -> Result<Filter, HostError> {
    let mut filter = Filter::default();
    for (name, value) in map {
        let slot = match name.as_str() {
            "joinable_by" => &mut filter.joinable_by,
            "authorizer" => &mut filter.authorizer,
            "join_authority" => &mut filter.join_authority,
            other => {
                return Err(HostError::input(format!(
                    "list_runs: unknown filter `{other}` (joinable_by, authorizer, join_authority)"
                )));
            }
        };
        *slot = Some(to_pubkey(value).map_err(|e| HostError::input(format!("list_runs: {name}: {}", e.message)))?);
    }
    if filter.authorizer.is_some() && filter.joinable_by.is_none() {
        return Err(HostError::input("list_runs: authorizer needs joinable_by (the user joining as its delegate)"));
    }
    Ok(filter)
}

/// The grantees whose authorization may let `user` join a run, in the order clients try them.
fn grantees(user: &Pubkey, authorizer: Option<Pubkey>) -> Vec<Pubkey> {
    [PERMISSIONLESS_GRANTEE, *user].into_iter().chain(authorizer).collect()
}

/// Every run's instance, as the coordinator program holds them (allowed run ids only).
fn instances(host: &Host) -> Result<Vec<(Pubkey, CoordinatorInstance)>, HostError> {
    let chain = host.chain()?;
    let config = solana_rpc_client_api::config::RpcProgramAccountsConfig {
        filters: Some(vec![solana_rpc_client_api::filter::RpcFilterType::DataSize(instance::SIZE as u64)]),
        account_config: solana_rpc_client_api::config::RpcAccountInfoConfig {
            encoding: Some(solana_account_decoder_client_types::UiAccountEncoding::Base64),
            ..Default::default()
        },
        ..Default::default()
    };
    let accounts = chain
        .block_on(chain.rpc().get_program_ui_accounts_with_config(&host.settings.programs.coordinator, config))
        .map_err(|e| HostError::chain(e.to_string()))?;
    Ok(accounts
        .into_iter()
        .filter_map(|(key, account)| Some((key, CoordinatorInstance::decode(&account.data.decode()?).ok()?)))
        .filter(|(_, instance)| host.check_run_allowed(&instance.run_id).is_ok())
        .collect())
}

fn list_runs(host: &Host, filter: &Filter) -> Result<Array, HostError> {
    let instances: Vec<_> = instances(host)?
        .into_iter()
        .filter(|(_, i)| filter.join_authority.is_none_or(|a| a == i.join_authority))
        .collect();
    let candidates = filter.joinable_by.map_or_else(Vec::new, |user| grantees(&user, filter.authorizer));
    let ids = &host.settings.programs;
    // One batched read: each run's main authority and coordinator account, then its candidate
    // authorizations.
    let per_run = 2 + candidates.len();
    let keys: Vec<Pubkey> = instances
        .iter()
        .flat_map(|(_, i)| {
            [i.main_authority, i.coordinator_account]
                .into_iter()
                .chain(candidates.iter().map(|g| pdas::join_authorization(ids, &i.join_authority, g)))
        })
        .collect();
    let read = host.accounts(&keys)?;
    let mut rows: Vec<(RunState, Map)> = Vec::new();
    for ((key, instance), accounts) in instances.iter().zip(read.chunks(per_run)) {
        let run = RunHandle::from_accounts(host, *key, instance, accounts[0].as_ref())?;
        let Some(account) = &accounts[1] else { continue };
        let state = match CoordinatorAccount::decode(&account.data) {
            Ok(decoded) => decoded.run_state,
            // A run this release cannot read (a newer layout, say) is listed with the reason;
            // the others are listed as ever. Whether it is joinable cannot be told.
            Err(e) if filter.joinable_by.is_none() => {
                let mut map = Map::new();
                map.insert("run_id".into(), run.run_id.clone().into());
                map.insert("state".into(), "unreadable".into());
                map.insert("error".into(), e.to_string().into());
                map.insert("rewarded".into(), run.treasurer.is_some().into());
                map.insert("join_authority".into(), Dynamic::from(run.join_authority));
                rows.push((RunState::Uninitialized, map));
                continue;
            }
            Err(_) => continue,
        };
        let mut map = Map::new();
        if let Some(user) = filter.joinable_by {
            if state.is_halted() {
                continue;
            }
            let Some(grantee) = authorized_grantee(&run.join_authority, &user, &candidates, &accounts[2..]) else {
                continue;
            };
            map.insert("authorizer".into(), Dynamic::from(grantee));
        }
        map.insert("run_id".into(), run.run_id.clone().into());
        map.insert("state".into(), state.display().to_string().into());
        map.insert("rewarded".into(), run.treasurer.is_some().into());
        map.insert("join_authority".into(), Dynamic::from(run.join_authority));
        rows.push((state, map));
    }
    // As upstream picks: runs waiting for members first.
    if filter.joinable_by.is_some() {
        rows.sort_by_key(|(state, _)| *state != RunState::WaitingForMembers);
    }
    Ok(rows.into_iter().map(|(_, map)| map.into()).collect())
}

/// The first of `grantees` whose authorization (read as `accounts`) lets `user` join a run of
/// `join_authority`.
fn authorized_grantee(
    join_authority: &Pubkey,
    user: &Pubkey,
    grantees: &[Pubkey],
    accounts: &[Option<Account>],
) -> Option<Pubkey> {
    grantees.iter().zip(accounts).find_map(|(grantee, account)| {
        let authorization = Authorization::decode(&account.as_ref()?.data).ok()?;
        authorization.is_valid_for(join_authority, user, JOIN_RUN_SCOPE).then_some(*grantee)
    })
}

#[export_module]
pub mod listing_api {
    use super::*;

    /// Every run on the cluster: `[#{run_id, state, rewarded, join_authority}]`.
    #[rhai_fn(return_raw)]
    pub fn list_runs(ctx: NativeCallContext) -> Res<Array> {
        Ok(super::list_runs(&Host::of(&ctx), &Filter::default())?)
    }

    /// The runs matching `filter`: `#{joinable_by: USER}` keeps those USER can join now (a
    /// joinable state, and an active public or personal authorization; add `authorizer:
    /// MASTER` to count USER as a delegate of MASTER's), each row naming the `authorizer`
    /// (grantee) that lets it in, runs waiting for members first; `#{join_authority: KEY}`
    /// keeps the runs of that join authority.
    /// ```rhai
    /// for r in list_runs(#{ joinable_by: user }) { print(`${r.run_id} via ${r.authorizer}`); }
    /// ```
    #[rhai_fn(name = "list_runs", return_raw)]
    pub fn list_runs_filtered(ctx: NativeCallContext, filter: Map) -> Res<Array> {
        Ok(super::list_runs(&Host::of(&ctx), &super::filter(&filter)?)?)
    }
}

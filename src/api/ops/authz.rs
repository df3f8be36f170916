//! Join authorizations: public (the all-zero grantee) or per user, granted one by one or in
//! bulk, revoked, closed, delegated, read. Granting reads the chain first: an active
//! authorization is left alone, an inactive one is only activated.

use crate::api::host::Host;
use crate::api::values::error::HostError;
use crate::api::values::keys::{PubkeyArg, SignerHandle, to_pubkey};
use crate::api::values::outcome::{changed, unchanged, with};
use crate::api::values::runs::RunHandle;
use crate::chain::batch::{Landing, send_all};
use crate::psyche::accounts::BorshAccount;
use crate::psyche::accounts::authorization::Authorization;
use crate::psyche::ids::ProgramIds;
use crate::psyche::instructions::authorizer::{
    self as ix, AuthorizationCreateParams, AuthorizationGrantorUpdateParams,
};
use crate::psyche::pdas::{self, JOIN_RUN_SCOPE, PERMISSIONLESS_GRANTEE};
use crate::psyche::sizing::{Step, pack};
use crate::secrets::key_material::excerpt;
use rhai::plugin::*;
use rhai::{Array, EvalAltResult, INT, Map};
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use std::collections::BTreeSet;
use std::io::IsTerminal;

type Res<T> = Result<T, Box<EvalAltResult>>;

/// Transactions in flight at once when granting in bulk.
const BULK_CONCURRENCY: usize = 32;

/// Users from an array (pubkeys or strings) or a file (one base58 pubkey per line, blank lines
/// and `#` comments allowed). Every entry is checked before anything is sent.
pub fn parse_users(host: &Host, users: &Dynamic) -> Result<Vec<Pubkey>, HostError> {
    let mut keys = Vec::new();
    if let Some(path) = users.clone().try_cast::<String>() {
        let (file, text) = host.read_data(&path, "a list of users")?;
        keys = users_in(&file.display().to_string(), &text)?;
    } else if let Some(array) = users.read_lock::<Array>() {
        for (i, item) in array.iter().enumerate() {
            keys.push(to_pubkey(item).map_err(|e| HostError::input(format!("users[{i}]: {}", e.message)))?);
        }
    } else {
        return Err(HostError::input(format!("users: expected an array or a file path, found {}", users.type_name())));
    }
    // The same user twice is granted once.
    let mut seen = BTreeSet::new();
    keys.retain(|k| seen.insert(*k));
    Ok(keys)
}

/// The pubkeys of a users file's text; a bad line is named by `file:line:column`, quoted only
/// when it cannot be key material.
fn users_in(file: &str, text: &str) -> Result<Vec<Pubkey>, HostError> {
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let entry = line.split('#').next().unwrap_or_default().trim();
        if entry.is_empty() {
            continue;
        }
        let Ok(key) = entry.parse() else {
            let column = line.find(entry).unwrap_or(0) + 1;
            let what = match excerpt(entry) {
                Some(short) => format!("invalid pubkey \"{short}\""),
                None => "not a pubkey; the line looks like key material, so it is not shown".to_string(),
            };
            return Err(HostError::input(format!("{file}:{}:{column}: {what}", n + 1)));
        };
        keys.push(key);
    }
    Ok(keys)
}

/// The join authorization of `grantee` under `grantor`, its address derived once (a
/// derivation costs more than building the instructions that use it).
struct Join {
    grantor: Pubkey,
    grantee: Pubkey,
    address: Pubkey,
}

impl Join {
    fn new(host: &Host, grantor: &Pubkey, grantee: &Pubkey) -> Self {
        Self::at(&host.settings.programs, grantor, grantee)
    }

    fn at(ids: &ProgramIds, grantor: &Pubkey, grantee: &Pubkey) -> Self {
        let address = pdas::join_authorization(ids, grantor, grantee);
        Self { grantor: *grantor, grantee: *grantee, address }
    }
}

fn create_ix(host: &Host, payer: &Pubkey, join: &Join) -> Instruction {
    let ids = &host.settings.programs;
    ix::instruction(
        ids,
        &ix::CreateAccounts { payer: *payer, grantor: join.grantor, authorization: join.address },
        &ix::AuthorizationCreate {
            params: AuthorizationCreateParams { grantee: join.grantee, scope: JOIN_RUN_SCOPE.to_vec() },
        },
    )
}

fn activate_ix(host: &Host, join: &Join, active: bool) -> Instruction {
    let ids = &host.settings.programs;
    ix::instruction(
        ids,
        &ix::GrantorUpdateAccounts { grantor: join.grantor, authorization: join.address },
        &ix::AuthorizationGrantorUpdate { params: AuthorizationGrantorUpdateParams { active } },
    )
}

/// What granting `grantee` needs: nothing, activation, or creation and activation.
enum Need {
    Nothing,
    Activate,
    Create,
}

fn need(existing: Option<&Authorization>) -> Need {
    match existing {
        Some(a) if a.active => Need::Nothing,
        Some(_) => Need::Activate,
        None => Need::Create,
    }
}

fn read(host: &Host, join: &Join) -> Result<Option<Authorization>, HostError> {
    Ok(host.account(&join.address)?.and_then(|a| Authorization::decode(&a.data).ok()))
}

fn grant_one(host: &Host, join_authority: &SignerHandle, grantee: &Pubkey) -> Result<Map, HostError> {
    grant_as(host, &join_authority.pubkey(), &[join_authority], grantee)
}

/// Grants `grantee` as `grantor`, which `signers` sign for (none when the grantor is a
/// multisig vault: the grant is then proposed).
pub fn grant_as(host: &Host, grantor: &Pubkey, signers: &[&SignerHandle], grantee: &Pubkey) -> Result<Map, HostError> {
    let payer = host.fee_payer()?.pubkey();
    let grantor = *grantor;
    let join = Join::new(host, &grantor, grantee);
    let existing = read(host, &join)?;
    let instructions = match need(existing.as_ref()) {
        Need::Nothing => return Ok(unchanged()),
        Need::Activate => vec![activate_ix(host, &join, true)],
        Need::Create => vec![create_ix(host, &payer, &join), activate_ix(host, &join, true)],
    };
    let what = if *grantee == PERMISSIONLESS_GRANTEE {
        "grant public join".to_string()
    } else {
        format!("grant join to {grantee}")
    };
    Ok(changed(vec![host.send(&what, &instructions, signers)?]))
}

/// Users granted per window. A window is read, packed, sent and confirmed before the next one
/// is built, so a list of any length holds one window's instructions and transactions at a time
/// (about 3 KB a user), and a long grant's progress is durable window by window.
const WINDOW: usize = 16_384;

/// What a bulk grant did, summed over its windows.
#[derive(Default)]
struct Tally {
    created: i64,
    activated: i64,
    untouched: i64,
    signatures: Vec<String>,
    failed: Array,
}

/// Transactions a signing device may be asked to approve in one bulk operation; beyond, the
/// operation is refused before anything is signed.
pub const MAX_DEVICE_APPROVALS: usize = 10;

/// Users one transaction of a bulk grant holds at most (creating and activating each).
const USERS_PER_TRANSACTION: usize = 8;

fn grant_many(host: &Host, join_authority: &SignerHandle, users: &Dynamic) -> Result<Map, HostError> {
    let users = parse_users(host, users)?;
    // A device would be asked once per transaction: refused up front beyond a few.
    let fee_payer = host.fee_payer()?;
    let transactions = users.len().div_ceil(USERS_PER_TRANSACTION);
    let devices: Vec<String> = [(&fee_payer, "the fee payer"), (join_authority, "the join authority")]
        .iter()
        .filter_map(|(handle, role)| handle.device().map(|d| format!("{role} ({})", d.name())))
        .collect();
    if !devices.is_empty() && transactions > MAX_DEVICE_APPROVALS {
        return Err(HostError::refused(format!(
            "grant_many: granting {} user(s) takes up to {transactions} transactions, and {} would have to approve each (more than {MAX_DEVICE_APPROVALS}); pay fees with a hot key (--fee-payer), grant with a delegate join authority, or govern the join authority with a Squads multisig; nothing was signed",
            users.len(),
            devices.join(" and ")
        )));
    }
    let progress = (std::io::stderr().is_terminal() && !host.log.quiet && users.len() > 1).then(|| {
        let bar = indicatif::ProgressBar::new(users.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("granting {bar:30} {pos}/{len} users ({eta})")
                .expect("valid template"),
        );
        bar
    });
    let mut tally = Tally::default();
    for window in users.chunks(WINDOW) {
        grant_window(host, join_authority, window, progress.as_ref(), &mut tally)?;
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let Tally { created, activated, untouched, signatures, failed } = tally;
    host.log.info(&format!(
        "granted {} user(s) in {} transaction(s): {created} created, {activated} activated, {untouched} already active, {} failed",
        users.len(),
        signatures.len(),
        failed.len()
    ));
    // Users left unserved fail the execution unless the runbook says it handled them.
    host.record_unserved("grant_many", &failed);
    let mut outcome = changed(signatures);
    outcome = with(outcome, "created", created);
    outcome = with(outcome, "activated", activated);
    outcome = with(outcome, "unchanged", untouched);
    Ok(with(outcome, "failed", failed))
}

/// Grants one window of users: reads their authorizations, packs what they need into as few
/// transactions as fit, sends and confirms them, and adds the result to `tally`.
fn grant_window(
    host: &Host,
    join_authority: &SignerHandle,
    users: &[Pubkey],
    progress: Option<&indicatif::ProgressBar>,
    tally: &mut Tally,
) -> Result<(), HostError> {
    // The fee payer also pays the authorizations' rent: `--fee-payer` pays for bulk work.
    let payer = host.fee_payer()?;
    let grantor = join_authority.pubkey();
    let chain = host.chain()?;
    let ids = host.settings.programs;
    let joins: Vec<Join> = crate::chain::parallel::map(users, |u| Join::at(&ids, &grantor, u));
    let addresses: Vec<Pubkey> = joins.iter().map(|j| j.address).collect();
    let mut existing = Vec::with_capacity(users.len());
    for chunk in addresses.chunks(100) {
        let accounts = chain.accounts(chunk).map_err(|e| HostError::chain(e.to_string()))?;
        existing.extend(accounts.into_iter().map(|a| a.and_then(|a| Authorization::decode(&a.data).ok())));
    }
    let mut steps = Vec::new();
    let mut step_users: Vec<(Pubkey, bool)> = Vec::new();
    for (join, current) in joins.iter().zip(&existing) {
        let instructions = match need(current.as_ref()) {
            Need::Nothing => {
                tally.untouched += 1;
                if let Some(bar) = progress {
                    bar.inc(1);
                }
                continue;
            }
            Need::Activate => vec![activate_ix(host, join, true)],
            Need::Create => vec![create_ix(host, &payer.pubkey(), join), activate_ix(host, join, true)],
        };
        step_users.push((join.grantee, instructions.len() == 2));
        steps.push(Step { what: format!("grant join to {}", join.grantee), instructions });
    }
    // Pack as many users as fit into each transaction, remembering who is in which.
    let mut groups: Vec<Vec<Instruction>> = Vec::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    let sizes: Vec<usize> = steps.iter().map(|step| step.instructions.len()).collect();
    let packed = pack(steps, &payer.pubkey()).map_err(|e| HostError::input(e.to_string()))?;
    let mut cursor = 0;
    for group in packed {
        let mut size = 0;
        let mut who = Vec::new();
        while size < group.len() {
            size += sizes[cursor];
            who.push(cursor);
            cursor += 1;
        }
        groups.push(group);
        members.push(who);
    }
    let on_landed = |group: usize| {
        if let Some(bar) = progress {
            bar.inc(members[group].len() as u64);
        }
    };
    let (payer, join_authority) = (payer.keypair("grant_many")?, join_authority.keypair("grant_many")?);
    let landings = send_all(&chain, &groups, payer, &[join_authority], BULK_CONCURRENCY, &on_landed);
    for (landing, who) in landings.into_iter().zip(&members) {
        match landing {
            Landing::Landed(signature) => {
                host.record_sent(signature.to_string());
                tally.signatures.push(signature.to_string());
                for &i in who {
                    if step_users[i].1 {
                        tally.created += 1;
                    }
                    tally.activated += 1;
                }
            }
            Landing::Failed(error) => {
                host.record_failed(1);
                for &i in who {
                    let mut entry = Map::new();
                    entry.insert("user".into(), Dynamic::from(step_users[i].0));
                    entry.insert("error".into(), error.clone().into());
                    tally.failed.push(entry.into());
                }
            }
        }
    }
    Ok(())
}

fn authorization_map(address: Pubkey, a: &Authorization) -> Map {
    let mut map = Map::new();
    map.insert("address".into(), Dynamic::from(address));
    map.insert("grantor".into(), Dynamic::from(a.grantor));
    map.insert("grantee".into(), Dynamic::from(a.grantee));
    map.insert("active".into(), a.active.into());
    map.insert("delegates".into(), a.delegates.iter().map(|d| Dynamic::from(*d)).collect::<Array>().into());
    map.insert("updated_at".into(), a.grantor_update_unix_timestamp.into());
    map
}

#[export_module]
pub mod authz_api {
    use super::*;

    /// Opens a run to everyone: an active authorization from `join_authority` for the all-zero
    /// grantee. A no-op when it already exists and is active.
    #[rhai_fn(return_raw)]
    pub fn grant_public(ctx: NativeCallContext, join_authority: SignerHandle) -> Res<Map> {
        Ok(grant_one(&Host::of(&ctx), &join_authority, &PERMISSIONLESS_GRANTEE)?)
    }

    /// Lets `user` (a master key) join runs of `join_authority`; a no-op when already active.
    #[rhai_fn(return_raw)]
    pub fn grant(ctx: NativeCallContext, join_authority: SignerHandle, user: PubkeyArg) -> Res<Map> {
        Ok(grant_one(&Host::of(&ctx), &join_authority, &to_pubkey(&user)?)?)
    }

    /// Says the runbook handled a bulk result's failures (the users `grant_many` left
    /// unserved, in its `failed`): the execution then does not exit 5 for them. Returns how
    /// many it accepted.
    ///
    /// ```rhai
    /// let res = grant_many(join, "users.txt");
    /// if res.failed.len() > 0 { notify(`${res.failed.len()} users left`); res.accept_failures(); }
    /// ```
    #[rhai_fn(name = "accept_failures")]
    pub fn accept_failures(ctx: NativeCallContext, result: &mut Map) -> INT {
        let failed = result.get("failed").and_then(|f| f.clone().try_cast::<Array>()).unwrap_or_default();
        Host::of(&ctx).accept_failures(&failed);
        failed.len() as INT
    }

    /// Grants many users at once, from an array or a users file (one pubkey per line, `#`
    /// comments). Packs as many users into each transaction as fit, sends them concurrently and
    /// confirms in batches. Returns `#{created, activated, unchanged, failed, signatures}`.
    #[rhai_fn(return_raw)]
    pub fn grant_many(ctx: NativeCallContext, join_authority: SignerHandle, users: Dynamic) -> Res<Map> {
        Ok(super::grant_many(&Host::of(&ctx), &join_authority, &users)?)
    }

    /// Users from an array or a users file, validated (`FILE:LINE:COL: invalid pubkey` errors,
    /// never quoting key material) and de-duplicated.
    #[rhai_fn(return_raw)]
    pub fn read_users(ctx: NativeCallContext, users: Dynamic) -> Res<Array> {
        Ok(parse_users(&Host::of(&ctx), &users)?.into_iter().map(Dynamic::from).collect())
    }

    /// Deactivates `user`'s authorization (future joins are refused); a no-op when inactive or
    /// absent.
    #[rhai_fn(return_raw)]
    pub fn revoke(ctx: NativeCallContext, join_authority: SignerHandle, user: PubkeyArg) -> Res<Map> {
        let user = to_pubkey(&user)?;
        let host = Host::of(&ctx);
        let join = Join::new(&host, &join_authority.pubkey(), &user);
        match read(&host, &join)? {
            Some(a) if a.active => {
                let ix = activate_ix(&host, &join, false);
                Ok(changed(vec![host.send(&format!("revoke join of {user}"), &[ix], &[&join_authority])?]))
            }
            _ => Ok(unchanged()),
        }
    }

    /// Closes `user`'s (inactive) authorization and returns its rent to the join authority.
    #[rhai_fn(return_raw)]
    pub fn close_authorization(ctx: NativeCallContext, join_authority: SignerHandle, user: PubkeyArg) -> Res<Map> {
        let user = to_pubkey(&user)?;
        let host = Host::of(&ctx);
        let join = Join::new(&host, &join_authority.pubkey(), &user);
        let ids = &host.settings.programs;
        match read(&host, &join)? {
            None => Ok(unchanged()),
            Some(a) if a.active => {
                Err(HostError::input(format!("the authorization of {user} is active; revoke it first")).into())
            }
            Some(_) => {
                let close = ix::instruction(
                    ids,
                    &ix::CloseAccounts { grantor: join.grantor, spill: join.grantor, authorization: join.address },
                    &ix::AuthorizationClose::default(),
                );
                Ok(changed(vec![host.send(&format!("close authorization of {user}"), &[close], &[&join_authority])?]))
            }
        }
    }

    /// As the grantee (a user's master key), sets the delegate keys allowed to join in its name
    /// under `join_authority`; a no-op when the list already matches.
    #[rhai_fn(return_raw)]
    pub fn set_delegates(
        ctx: NativeCallContext,
        grantee: SignerHandle,
        join_authority: PubkeyArg,
        delegates: Array,
    ) -> Res<Map> {
        let join_authority = to_pubkey(&join_authority)?;
        let host = Host::of(&ctx);
        let desired = parse_users(&host, &Dynamic::from_array(delegates))?;
        let join = Join::new(&host, &join_authority, &grantee.pubkey());
        let current = read(&host, &join)?.ok_or_else(|| {
            HostError::input(format!("{} has no authorization from {join_authority}", grantee.pubkey()))
        })?;
        if current.delegates == desired {
            return Ok(unchanged());
        }
        let payer = host.payer()?.pubkey();
        let ids = &host.settings.programs;
        let update = ix::instruction(
            ids,
            &ix::GranteeUpdateAccounts { payer, grantee: grantee.pubkey(), authorization: join.address },
            &ix::AuthorizationGranteeUpdate {
                params: ix::AuthorizationGranteeUpdateParams { delegates_clear: true, delegates_added: desired },
            },
        );
        Ok(changed(vec![host.send("set delegates", &[update], &[&grantee])?]))
    }

    /// The authorization of `grantee` under `join_authority` as a map, or `()` if none exists.
    #[rhai_fn(return_raw)]
    pub fn authorization(ctx: NativeCallContext, join_authority: PubkeyArg, grantee: PubkeyArg) -> Res<Dynamic> {
        let (join_authority, grantee) = (to_pubkey(&join_authority)?, to_pubkey(&grantee)?);
        let host = Host::of(&ctx);
        let join = Join::new(&host, &join_authority, &grantee);
        Ok(read(&host, &join)?.map_or(Dynamic::UNIT, |a| authorization_map(join.address, &a).into()))
    }

    /// The grantees of every active join authorization `join_authority` has given.
    #[rhai_fn(return_raw)]
    pub fn active_grantees(ctx: NativeCallContext, join_authority: PubkeyArg) -> Res<Array> {
        let join_authority = to_pubkey(&join_authority)?;
        let host = Host::of(&ctx);
        let chain = host.chain()?;
        let config = solana_rpc_client_api::config::RpcProgramAccountsConfig {
            filters: Some(vec![solana_rpc_client_api::filter::RpcFilterType::Memcmp(
                solana_rpc_client_api::filter::Memcmp::new_base58_encoded(9, join_authority.as_ref()),
            )]),
            account_config: solana_rpc_client_api::config::RpcAccountInfoConfig {
                encoding: Some(solana_account_decoder_client_types::UiAccountEncoding::Base64),
                ..Default::default()
            },
            ..Default::default()
        };
        let accounts = chain
            .block_on(chain.rpc().get_program_ui_accounts_with_config(&host.settings.programs.authorizer, config))
            .map_err(|e| HostError::chain(e.to_string()))?;
        let mut grantees: Vec<Pubkey> = accounts
            .into_iter()
            .filter_map(|(_, account)| account.data.decode())
            .filter_map(|data| Authorization::decode(&data).ok())
            .filter(|a| a.active && a.scope == JOIN_RUN_SCOPE && a.grantor == join_authority)
            .map(|a| a.grantee)
            .collect();
        grantees.sort();
        Ok(grantees.into_iter().map(Dynamic::from).collect())
    }

    /// True when `user` may join run `r` through an active public or personal authorization
    /// (what clients try first; a delegate joins through its master key's authorization).
    #[rhai_fn(name = "can_join", return_raw)]
    pub fn can_join(ctx: NativeCallContext, r: &mut RunHandle, user: PubkeyArg) -> Res<bool> {
        Ok(crate::api::ops::inspect::join_authorization(&Host::of(&ctx), r, &to_pubkey(&user)?)?.is_some())
    }

    /// True when `user` may join run `r` as a delegate of `master` (the grantee whose
    /// authorization lists it), as clients started with `--authorizer <master>` do.
    #[rhai_fn(name = "can_join", return_raw)]
    pub fn can_join_as_delegate(
        ctx: NativeCallContext,
        r: &mut RunHandle,
        user: PubkeyArg,
        master: PubkeyArg,
    ) -> Res<bool> {
        let (user, master) = (to_pubkey(&user)?, to_pubkey(&master)?);
        let host = Host::of(&ctx);
        Ok(read(&host, &Join::new(&host, &r.join_authority, &master))?
            .is_some_and(|a| a.is_valid_for(&r.join_authority, &user, JOIN_RUN_SCOPE)))
    }
}

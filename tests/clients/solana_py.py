#!/usr/bin/env python3
"""Drives a Solana node the way a Python tool does: through solana-py, whose answers are
parsed into solders' typed values (a missing field, a wrong type or an unknown variant fails
the parse). It calls every HTTP method agave serves and the PubSub subscriptions a test
validator enables, on accounts it makes itself (a mint, a token account holding 5 tokens, 1 of
them approved to a delegate), and prints one JSON line per call:

    {"method": "getSupply", "parsed": "GetSupplyResp"}

A call the node refuses prints the typed error it parsed into ("parsed": "RPCError -32004");
a call whose answer does not parse ends the script with exit code 1 and the reason on stderr.

Usage: solana_py.py HTTP_URL WS_URL
"""

import asyncio
import json
import sys

from solana.exceptions import SolanaRpcException
from solana.rpc.api import Client
from solana.rpc.commitment import Confirmed, Finalized
from solana.rpc.core import RPCException
from solana.rpc.types import MemcmpOpts, TokenAccountOpts, TxOpts
from solana.rpc.websocket_api import connect
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.rpc import requests as req
from solders.rpc import responses as resp
from solders.rpc.config import RpcContextConfig
from solders.system_program import CreateAccountParams, TransferParams, create_account, transfer
from solders.transaction import Transaction
from spl.token import instructions as token
from spl.token.constants import TOKEN_PROGRAM_ID

SYSTEM_PROGRAM = Pubkey.from_string("11111111111111111111111111111111")
MINT_SIZE = 82


def report(method, parsed):
    print(json.dumps({"method": method, "parsed": parsed}), flush=True)


def call(method, run):
    """Runs one call; a refusal is reported by the typed error it parsed into."""
    try:
        answer = run()
    except RPCException as refusal:
        error = refusal.args[0]
        code = getattr(error, "code", None)
        report(method, f"{type(error).__name__} {code}" if code is not None else type(error).__name__)
        return None
    report(method, type(answer).__name__)
    return answer


def raw(client, method, params, check):
    """A method solana-py has no wrapper or solders no type for: posted as JSON and checked
    field by field, as strictly as solders checks the others."""
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    answer = client._provider.session.post(
        client._provider.endpoint_uri, json=body, headers={"Content-Type": "application/json"}
    ).json()
    if "error" in answer:
        report(method, f"RPCError {answer['error']['code']}")
        return None
    check(answer["result"])
    report(method, check.__name__)
    return answer["result"]


def StakeMinimumDelegation(result):  # noqa: N802 - named as the type it checks
    resp.RpcResponseContext.from_json(json.dumps(result["context"]))
    assert set(result) == {"context", "value"} and isinstance(result["value"], int), result


def PrioritizationFees(result):  # noqa: N802
    for fee in result:
        assert set(fee) == {"prioritizationFee", "slot"}, fee
        assert all(isinstance(v, int) for v in fee.values()), fee


def send(client, instructions, signers):
    blockhash = client.get_latest_blockhash().value.blockhash
    tx = Transaction.new_signed_with_payer(instructions, signers[0].pubkey(), signers, blockhash)
    signature = client.send_transaction(tx, TxOpts(preflight_commitment=Confirmed)).value
    # Finalized, so reads at the default commitment (getBlock's) see it on any node.
    client.confirm_transaction(signature, Finalized, sleep_seconds=0.05)
    return signature


def make_accounts(client):
    """A funded payer, a mint of 6 decimals, the payer's token account holding 5 tokens, and
    1 of them approved to a delegate."""
    payer, mint, delegate = Keypair(), Keypair(), Keypair().pubkey()
    airdrop = call("requestAirdrop", lambda: client.request_airdrop(payer.pubkey(), 2_000_000_000))
    client.confirm_transaction(airdrop.value, Confirmed, sleep_seconds=0.05)
    rent = client.get_minimum_balance_for_rent_exemption(MINT_SIZE).value
    me = payer.pubkey()
    account = token.get_associated_token_address(me, mint.pubkey())
    instructions = [
        create_account(
            CreateAccountParams(
                from_pubkey=me, to_pubkey=mint.pubkey(), lamports=rent, space=MINT_SIZE, owner=TOKEN_PROGRAM_ID
            )
        ),
        token.initialize_mint(
            token.InitializeMintParams(decimals=6, program_id=TOKEN_PROGRAM_ID, mint=mint.pubkey(), mint_authority=me)
        ),
        token.create_idempotent_associated_token_account(me, me, mint.pubkey()),
        token.mint_to(
            token.MintToParams(program_id=TOKEN_PROGRAM_ID, mint=mint.pubkey(), dest=account, mint_authority=me, amount=5_000_000)
        ),
        token.approve(
            token.ApproveParams(program_id=TOKEN_PROGRAM_ID, source=account, delegate=delegate, owner=me, amount=1_000_000)
        ),
    ]
    signature = send(client, instructions, [payer, mint])
    return payer, mint.pubkey(), account, delegate, signature


def http_methods(client):
    payer, mint, account, delegate, signature = make_accounts(client)
    me = payer.pubkey()
    slot = client.get_transaction(signature, max_supported_transaction_version=0).value.slot
    latest = client.get_latest_blockhash().value.blockhash
    message = Message.new_with_blockhash([transfer(TransferParams(from_pubkey=me, to_pubkey=delegate, lamports=1_000_000))], me, latest)
    tx = Transaction([payer], message, latest)
    provider = client._provider

    call("getAccountInfo", lambda: client.get_account_info(me))
    call("getAccountInfo", lambda: client.get_account_info_json_parsed(account))
    call("getBalance", lambda: client.get_balance(me))
    call("getBlock", lambda: client.get_block(slot, max_supported_transaction_version=0))
    call("getBlockCommitment", lambda: client.get_block_commitment(slot))
    call("getBlockHeight", lambda: client.get_block_height())
    call("getBlockProduction", lambda: provider.make_request(req.GetBlockProduction(), resp.GetBlockProductionResp))
    call("getBlockTime", lambda: client.get_block_time(slot))
    call("getBlocks", lambda: client.get_blocks(0, slot))
    call("getBlocksWithLimit", lambda: provider.make_request(req.GetBlocksWithLimit(0, 10), resp.GetBlocksWithLimitResp))
    call("getClusterNodes", lambda: client.get_cluster_nodes())
    call("getEpochInfo", lambda: client.get_epoch_info())
    call("getEpochSchedule", lambda: client.get_epoch_schedule())
    call("getFeeForMessage", lambda: client.get_fee_for_message(message))
    call("getFirstAvailableBlock", lambda: client.get_first_available_block())
    call("getGenesisHash", lambda: client.get_genesis_hash())
    call("getHealth", lambda: provider.make_request(req.GetHealth(), resp.GetHealthResp))
    call("getHighestSnapshotSlot", lambda: provider.make_request(req.GetHighestSnapshotSlot(), resp.GetHighestSnapshotSlotResp))
    call("getIdentity", lambda: client.get_identity())
    call("getInflationGovernor", lambda: client.get_inflation_governor())
    call("getInflationRate", lambda: client.get_inflation_rate())
    call("getInflationReward", lambda: client.get_inflation_reward([me]))
    call("getLargestAccounts", lambda: client.get_largest_accounts())
    call("getLatestBlockhash", lambda: client.get_latest_blockhash())
    call("getLeaderSchedule", lambda: client.get_leader_schedule())
    call("getMaxRetransmitSlot", lambda: provider.make_request(req.GetMaxRetransmitSlot(), resp.GetMaxRetransmitSlotResp))
    call("getMaxShredInsertSlot", lambda: provider.make_request(req.GetMaxShredInsertSlot(), resp.GetMaxShredInsertSlotResp))
    call("getMinimumBalanceForRentExemption", lambda: client.get_minimum_balance_for_rent_exemption(165))
    call("getMultipleAccounts", lambda: client.get_multiple_accounts([me, account]))
    call("getMultipleAccounts", lambda: client.get_multiple_accounts_json_parsed([account, mint]))
    owned_by_me = [165, MemcmpOpts(offset=32, bytes=str(me))]
    call("getProgramAccounts", lambda: client.get_program_accounts(TOKEN_PROGRAM_ID, filters=owned_by_me))
    call("getProgramAccounts", lambda: client.get_program_accounts_json_parsed(TOKEN_PROGRAM_ID, filters=owned_by_me))
    call("getRecentPerformanceSamples", lambda: client.get_recent_performance_samples(5))
    raw(client, "getRecentPrioritizationFees", [[str(me)]], PrioritizationFees)
    call("getSignatureStatuses", lambda: client.get_signature_statuses([signature], search_transaction_history=True))
    call("getSignaturesForAddress", lambda: client.get_signatures_for_address(me, limit=5))
    call("getSlot", lambda: client.get_slot())
    call("getSlotLeader", lambda: client.get_slot_leader())
    call("getSlotLeaders", lambda: provider.make_request(req.GetSlotLeaders(slot, 3), resp.GetSlotLeadersResp))
    raw(client, "getStakeMinimumDelegation", [], StakeMinimumDelegation)
    call("getSupply", lambda: client.get_supply())
    call("getTokenAccountBalance", lambda: client.get_token_account_balance(account))
    by_mint = TokenAccountOpts(mint=mint)
    call("getTokenAccountsByDelegate", lambda: client.get_token_accounts_by_delegate(delegate, by_mint))
    call("getTokenAccountsByDelegate", lambda: client.get_token_accounts_by_delegate_json_parsed(delegate, by_mint))
    by_program = TokenAccountOpts(program_id=TOKEN_PROGRAM_ID)
    call("getTokenAccountsByOwner", lambda: client.get_token_accounts_by_owner(me, by_program))
    call("getTokenAccountsByOwner", lambda: client.get_token_accounts_by_owner_json_parsed(me, by_mint))
    call("getTokenLargestAccounts", lambda: client.get_token_largest_accounts(mint))
    call("getTokenSupply", lambda: client.get_token_supply(mint))
    call("getTransaction", lambda: client.get_transaction(signature, "jsonParsed", max_supported_transaction_version=0))
    call("getTransactionCount", lambda: client.get_transaction_count())
    call("getVersion", lambda: client.get_version())
    call("getVoteAccounts", lambda: client.get_vote_accounts())
    call("isBlockhashValid", lambda: provider.make_request(req.IsBlockhashValid(latest), resp.IsBlockhashValidResp))
    call("minimumLedgerSlot", lambda: client.get_minimum_ledger_slot())
    call("simulateTransaction", lambda: client.simulate_transaction(tx, sig_verify=True))
    call("sendTransaction", lambda: client.send_transaction(tx))
    # The REST health check solana-py's is_connected makes (GET /health).
    report("GET /health", "ok" if client.is_connected() else "not ok")
    return payer


async def subscriptions(client, ws_url, payer):
    """Each subscription a test validator enables, one notification of each parsed, then each
    unsubscribed: a transfer from the payer to a new key touches them all."""
    me, target = payer.pubkey(), Keypair().pubkey()
    blockhash = client.get_latest_blockhash().value.blockhash
    tx = Transaction.new_signed_with_payer(
        [transfer(TransferParams(from_pubkey=me, to_pubkey=target, lamports=1_000_000))], me, [payer], blockhash
    )
    async with connect(ws_url) as ws:
        wanted, early = {}, []
        for name, subscribe in [
            ("accountSubscribe", lambda: ws.account_subscribe(target, Confirmed, "jsonParsed")),
            ("programSubscribe", lambda: ws.program_subscribe(SYSTEM_PROGRAM, Confirmed, "base64")),
            ("signatureSubscribe", lambda: ws.signature_subscribe(tx.signatures[0], Confirmed)),
            ("slotSubscribe", lambda: ws.slot_subscribe()),
            ("rootSubscribe", lambda: ws.root_subscribe()),
            ("logsSubscribe", lambda: ws.logs_subscribe(commitment=Confirmed)),
        ]:
            await subscribe()
            # Notifications of the subscriptions already made may come before the answer.
            answer = None
            while answer is None:
                for message in await asyncio.wait_for(ws.recv(), 60):
                    if isinstance(message, resp.SubscriptionResult):
                        answer = message
                    else:
                        early.append(message)
            report(name, type(answer).__name__)
            wanted[answer.result] = name
        client.send_raw_transaction(bytes(tx), TxOpts(preflight_commitment=Confirmed))
        pending = dict(wanted)

        def heard(messages):
            for message in messages:
                name = pending.pop(message.subscription, None)
                if name is not None:
                    report(name.replace("Subscribe", "Notification"), type(message).__name__)

        heard(early)
        while pending:
            heard(await asyncio.wait_for(ws.recv(), 60))
        unsubscribe = {
            "accountSubscribe": ws.account_unsubscribe,
            "programSubscribe": ws.program_unsubscribe,
            "signatureSubscribe": ws.signature_unsubscribe,
            "slotSubscribe": ws.slot_unsubscribe,
            "rootSubscribe": ws.root_unsubscribe,
            "logsSubscribe": ws.logs_unsubscribe,
        }
        for subscription, name in wanted.items():
            if name == "signatureSubscribe":
                continue  # a signature subscription ends with its notification
            await unsubscribe[name](subscription)
            while True:
                (message,) = await asyncio.wait_for(ws.recv(), 60)
                if isinstance(message, resp.UnsubscribeResult):
                    assert message.result, message
                    report(name.replace("Subscribe", "Unsubscribe"), type(message).__name__)
                    break


def main():
    http_url, ws_url = sys.argv[1], sys.argv[2]
    client = Client(http_url, commitment=Confirmed, timeout=60)
    try:
        payer = http_methods(client)
        asyncio.run(subscriptions(client, ws_url, payer))
    except (SolanaRpcException, ValueError, AssertionError, TypeError, KeyError) as failure:
        print(f"an answer did not parse: {failure!r}", file=sys.stderr)
        raise
    print(json.dumps({"done": True}), flush=True)


if __name__ == "__main__":
    main()

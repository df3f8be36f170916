//! What tests assert with: `assert`, `assert_eq`, `assert_ne` (both values shown as the REPL
//! shows them), `expect_error` (a closure must fail, with the text in its error: on-chain
//! errors read by their name and number, e.g. "Halted" or "6015"), and `notifications()` (the
//! alerts `notify` recorded; tests never post to webhooks). A failed assertion is a runtime
//! error at the call, so it is reported at `FILE:LINE:COL` with the source line.

use crate::api::host::Host;
use crate::api::values::display::show;
use crate::api::values::json::from_json;
use crate::engine::errors::from_eval_error;
use rhai::{Array, Dynamic, Engine, EvalAltResult, FnPtr, NativeCallContext};
use solana_sdk::pubkey::Pubkey;

type Res<T> = Result<T, Box<EvalAltResult>>;

fn failed<T>(message: String) -> Res<T> {
    Err(EvalAltResult::ErrorRuntime(message.into(), rhai::Position::NONE).into())
}

/// `a == b` as the script would compare them; a pubkey equals its base58 text (outputs and
/// JSON hold pubkeys as text), and values of types without `==` compare as shown.
fn equal(ctx: &NativeCallContext, a: &Dynamic, b: &Dynamic) -> bool {
    let text = |key: &Dynamic, other: &Dynamic| {
        other.is_string() && key.clone().try_cast::<Pubkey>().is_some_and(|key| key.to_string() == other.to_string())
    };
    if text(a, b) || text(b, a) {
        return true;
    }
    ctx.call_native_fn::<bool>("==", (a.clone(), b.clone())).unwrap_or_else(|_| shown(a) == shown(b))
}

fn shown(value: &Dynamic) -> String {
    show(value, None)
}

pub fn register(engine: &mut Engine) {
    engine.register_fn("assert", |cond: bool| if cond { Ok(()) } else { failed("assertion failed".into()) });
    engine.register_fn("assert", |cond: bool, message: Dynamic| {
        if cond {
            return Ok(());
        }
        let message = message.clone().into_string().unwrap_or_else(|_| shown(&message));
        failed(format!("assertion failed: {message}"))
    });
    engine.register_fn("assert_eq", |ctx: NativeCallContext, actual: Dynamic, expected: Dynamic| {
        if equal(&ctx, &actual, &expected) {
            return Ok(());
        }
        failed(format!("assert_eq failed\n  actual:   {}\n  expected: {}", shown(&actual), shown(&expected)))
    });
    engine.register_fn("assert_ne", |ctx: NativeCallContext, actual: Dynamic, unexpected: Dynamic| {
        if !equal(&ctx, &actual, &unexpected) {
            return Ok(());
        }
        failed(format!("assert_ne failed: both are {}", shown(&actual)))
    });
    engine.register_fn("expect_error", expect_error);
    engine.register_fn("notifications", |ctx: NativeCallContext| -> Array {
        Host::of(&ctx).notifications().iter().map(from_json).collect()
    });
}

/// Passes (returning the error's message) only when `f` fails with `text` in its error.
fn expect_error(ctx: NativeCallContext, f: FnPtr, text: &str) -> Res<String> {
    match f.call_within_context::<Dynamic>(&ctx, ()) {
        Ok(value) => failed(format!("expected an error containing {text:?}, but it returned {}", shown(&value))),
        // An interruption is not the error a test expects.
        Err(e) if matches!(*e, EvalAltResult::ErrorTerminated(..)) => Err(e),
        Err(e) => {
            let message = from_eval_error(&e, "").message;
            if message.contains(text) {
                Ok(message)
            } else {
                failed(format!("expected an error containing {text:?}, but the error was: {message}"))
            }
        }
    }
}

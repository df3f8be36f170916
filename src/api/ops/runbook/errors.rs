//! How scripts read a caught error (`catch (e) { e.message }`, `${e}`): its message with every
//! secret the execution loaded redacted, so a script never holds one through an error.

use crate::api::host::Host;
use crate::api::values::error::HostError;
use rhai::{Engine, NativeCallContext};

fn message(ctx: &NativeCallContext, e: &HostError) -> String {
    Host::of(ctx).redactor().text(&e.message)
}

pub fn register(engine: &mut Engine) {
    engine
        .register_get("message", |ctx: NativeCallContext, e: &mut HostError| message(&ctx, e))
        .register_fn("to_string", |ctx: NativeCallContext, e: &mut HostError| message(&ctx, e))
        .register_fn("to_debug", |ctx: NativeCallContext, e: &mut HostError| format!("Error({:?})", message(&ctx, e)));
}

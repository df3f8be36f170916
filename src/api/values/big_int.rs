//! Exact integers beyond Rhai's `INT` (i64). Chain values are u64, and some (a treasurer
//! index, points, rates) exceed `i64::MAX`; a float would silently lose their low digits. They
//! reach scripts as `BigInt` (an i128), which prints as its digits, compares and computes with
//! `INT` and `BigInt` (overflow is an error, never a wrap) and goes back to JSON as an integer.

use crate::api::values::error::HostError;
use rhai::plugin::*;
use rhai::{Dynamic, EvalAltResult, FLOAT, INT};

/// An exact integer too large for `INT`, or the result of arithmetic on one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BigInt(pub i128);

impl std::fmt::Display for BigInt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A u64 from the chain as a script value: `INT` when it fits, else `BigInt`.
pub fn from_u64(value: u64) -> Dynamic {
    match INT::try_from(value) {
        Ok(i) => i.into(),
        Err(_) => Dynamic::from(BigInt(value.into())),
    }
}

/// The exact integer in an `INT` or a `BigInt` (None for anything else).
pub fn exact(value: &Dynamic) -> Option<i128> {
    value.as_int().ok().map(i128::from).or_else(|| value.read_lock::<BigInt>().map(|b| b.0))
}

/// An integer argument (`INT`, `BigInt` or a decimal string) as a u64, naming it on error.
pub fn to_u64(value: &Dynamic, what: &str) -> Result<u64, HostError> {
    let number = match value.clone().try_cast::<String>() {
        Some(text) => text.trim().parse::<i128>().ok(),
        None => exact(value),
    };
    let number = number.ok_or_else(|| HostError::input(format!("{what}: expected an integer, found {value}")))?;
    u64::try_from(number).map_err(|_| HostError::input(format!("{what}: {number} is not between 0 and {}", u64::MAX)))
}

/// An arithmetic error of the script (exit 1), as Rhai reports one for `INT`.
fn arithmetic(message: String) -> Box<EvalAltResult> {
    EvalAltResult::ErrorArithmetic(message, rhai::Position::NONE).into()
}

fn checked(op: &str, a: i128, b: i128) -> Result<BigInt, Box<EvalAltResult>> {
    let result = match op {
        "+" => a.checked_add(b),
        "-" => a.checked_sub(b),
        "*" => a.checked_mul(b),
        "/" if b == 0 => return Err(arithmetic(format!("division by zero: {a} / 0"))),
        "/" => a.checked_div(b),
        "%" if b == 0 => return Err(arithmetic(format!("division by zero: {a} % 0"))),
        "%" => a.checked_rem(b),
        _ => unreachable!("only arithmetic operators are registered"),
    };
    result.map(BigInt).ok_or_else(|| arithmetic(format!("integer overflow: {a} {op} {b}")))
}

/// Registers `BigInt` with its operators against itself and `INT`, in both orders.
pub fn register_types(engine: &mut rhai::Engine) {
    engine
        .register_type_with_name::<BigInt>("BigInt")
        .register_fn("to_string", |b: &mut BigInt| b.to_string())
        .register_fn("to_debug", |b: &mut BigInt| b.to_string());
    macro_rules! arithmetic {
        ($($op:literal),*) => {$(
            engine
                .register_fn($op, |a: BigInt, b: BigInt| checked($op, a.0, b.0))
                .register_fn($op, |a: BigInt, b: INT| checked($op, a.0, b.into()))
                .register_fn($op, |a: INT, b: BigInt| checked($op, a.into(), b.0));
        )*};
    }
    arithmetic!("+", "-", "*", "/", "%");
    macro_rules! comparison {
        ($($op:tt),*) => {$(
            engine
                .register_fn(stringify!($op), |a: BigInt, b: BigInt| a.0 $op b.0)
                .register_fn(stringify!($op), |a: BigInt, b: INT| a.0 $op i128::from(b))
                .register_fn(stringify!($op), |a: INT, b: BigInt| i128::from(a) $op b.0);
        )*};
    }
    comparison!(==, !=, <, <=, >, >=);
}

#[export_module]
pub mod big_int_api {
    use super::*;

    /// An exact integer from its decimal digits (for values beyond `INT`, such as a u64 above
    /// 9223372036854775807).
    ///
    /// ```rhai
    /// let index = big_int("11211467328114996294");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn big_int(text: &str) -> Result<BigInt, Box<EvalAltResult>> {
        text.trim()
            .parse::<i128>()
            .map(BigInt)
            .map_err(|_| HostError::input(format!("invalid integer \"{text}\"")).into())
    }

    /// The `INT` of the same value; an error when it does not fit.
    #[rhai_fn(name = "to_int", pure, return_raw)]
    pub fn to_int(b: &mut BigInt) -> Result<INT, Box<EvalAltResult>> {
        INT::try_from(b.0).map_err(|_| arithmetic(format!("{} does not fit in an INT", b.0)))
    }

    /// The nearest float (which may round the low digits).
    #[rhai_fn(name = "to_float", pure)]
    pub fn to_float(b: &mut BigInt) -> FLOAT {
        b.0 as FLOAT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_values_keep_every_digit() {
        assert_eq!(from_u64(7).as_int().unwrap(), 7);
        let big = from_u64(11_211_467_328_114_996_294);
        assert_eq!(exact(&big), Some(11_211_467_328_114_996_294));
        assert_eq!(to_u64(&big, "index").unwrap(), 11_211_467_328_114_996_294);
        assert_eq!(to_u64(&Dynamic::from("18446744073709551615"), "x").unwrap(), u64::MAX);
        assert!(to_u64(&Dynamic::from_int(-1), "x").unwrap_err().message.contains("not between 0"));
        assert!(checked("*", i128::MAX, 2).is_err());
        assert!(checked("/", 1, 0).is_err());
    }
}

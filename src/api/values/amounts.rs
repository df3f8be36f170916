//! Token and SOL amounts: scripts give UI amounts (`250.5`), the chain wants native units.
//! Conversion refuses what would silently change the amount: negative, NaN or infinite values,
//! more decimal places than the mint has, or more than a u64 holds. Integers (`INT` or
//! `BigInt`) convert exactly, whatever their size; floats are exact only up to 2^53.

use crate::api::values::big_int::exact;
use crate::api::values::error::HostError;
use rhai::{Dynamic, FLOAT};

/// `amount` (an integer or a float) in native units of a mint with `decimals`.
pub fn to_native(amount: &Dynamic, decimals: u8, what: &str) -> Result<u64, HostError> {
    if let Some(units) = exact(amount) {
        if units < 0 {
            return Err(HostError::input(format!("{what}: {units} is negative")));
        }
        let native = 10i128.checked_pow(u32::from(decimals)).and_then(|scale| units.checked_mul(scale));
        return native
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| HostError::input(format!("{what}: {units} is too large")));
    }
    let value: FLOAT = if let Ok(f) = amount.as_float() {
        f
    } else {
        return Err(HostError::input(format!("{what}: expected a number, found {}", amount.type_name())));
    };
    if !value.is_finite() {
        return Err(HostError::input(format!("{what}: {value} is not a finite amount")));
    }
    if value < 0.0 {
        return Err(HostError::input(format!("{what}: {value} is negative")));
    }
    let scaled = value * 10f64.powi(i32::from(decimals));
    let native = scaled.round();
    // Amounts finer than the mint's smallest unit would be rounded away.
    // Tolerate only the float's own representation error, not a real fraction of a unit.
    if (scaled - native).abs() > 1e-6_f64.max(scaled.abs() * f64::EPSILON * 8.0) {
        return Err(HostError::input(format!("{what}: {value} has more decimal places than the mint's {decimals}")));
    }
    if native >= u64::MAX as f64 {
        return Err(HostError::input(format!("{what}: {value} is too large")));
    }
    Ok(native as u64)
}

pub fn to_ui(native: u64, decimals: u8) -> FLOAT {
    crate::psyche::run_view::ui_amount(native, decimals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_refuse_what_would_change_the_amount() {
        assert_eq!(to_native(&Dynamic::from_float(250.5), 6, "a").unwrap(), 250_500_000);
        assert_eq!(to_native(&Dynamic::from_int(3), 0, "a").unwrap(), 3);
        assert_eq!(to_native(&Dynamic::from_float(0.1), 9, "a").unwrap(), 100_000_000);
        assert!(to_native(&Dynamic::from_float(-1.0), 6, "a").unwrap_err().message.contains("negative"));
        assert!(to_native(&Dynamic::from_float(f64::NAN), 6, "a").unwrap_err().message.contains("finite"));
        assert!(to_native(&Dynamic::from_float(1.0000001), 6, "a").unwrap_err().message.contains("decimal places"));
        assert!(to_native(&Dynamic::from("1"), 6, "a").unwrap_err().message.contains("expected a number"));
        let big = Dynamic::from(crate::api::values::big_int::BigInt(9_223_372_036_854_775_809));
        assert_eq!(to_native(&big, 0, "a").unwrap(), 9_223_372_036_854_775_809);
        assert_eq!(to_native(&Dynamic::from_int((1 << 53) + 1), 0, "a").unwrap(), (1 << 53) + 1);
        assert!(to_native(&big, 1, "a").unwrap_err().message.contains("too large"));
        assert!(to_native(&Dynamic::from_int(-2), 0, "a").unwrap_err().message.contains("negative"));
    }
}

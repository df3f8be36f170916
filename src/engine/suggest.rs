//! "Did you mean …?" for unknown functions, methods, properties and keys: the known names
//! closest to what was typed (`api::values::near_miss`).
//! A method or property is matched first against what its receiver's type has.

use crate::api::values::near_miss::did_you_mean;
use crate::engine::docs::{known_functions, members_by_type, type_key};
use rhai::{Engine, EvalAltResult, Scope};

/// The suggestion for a runtime error about an unknown function or property (innermost error
/// of a call chain), or nothing. `own` are the functions the script defines.
pub fn hint<'a>(err: &EvalAltResult, engine: &Engine, own: impl Iterator<Item = &'a str>) -> String {
    let mut current = err;
    while let EvalAltResult::ErrorInFunctionCall(.., inner, _) | EvalAltResult::ErrorInModule(_, inner, _) = current {
        current = inner;
    }
    let (typed, receiver) = match current {
        // `pasue (Run)`: the name, then the argument types.
        EvalAltResult::ErrorFunctionNotFound(signature, _) => {
            let (name, args) = signature.split_once(" (").unwrap_or((signature, ""));
            let first = args.split([',', ')']).next().unwrap_or_default().trim();
            (name.to_string(), first.to_string())
        }
        // "Unknown property 'x' - a getter is not registered for type 'Run'"
        EvalAltResult::ErrorDotExpr(message, _) => {
            let quoted: Vec<&str> = message.split('\'').collect();
            match (message.starts_with("Unknown property"), quoted.get(1), quoted.get(3)) {
                (true, Some(property), Some(typ)) => (property.to_string(), typ.to_string()),
                _ => return String::new(),
            }
        }
        _ => return String::new(),
    };
    let members = members_by_type(engine);
    if let Some(own) = members.get(&type_key(&receiver)) {
        let found = did_you_mean(&typed, own.iter().map(String::as_str));
        if !found.is_empty() {
            return found;
        }
    }
    let own: Vec<&str> = own.collect();
    let functions = known_functions(engine);
    did_you_mean(&typed, functions.keys().map(String::as_str).chain(own.iter().copied()))
}

/// The suggestion for an undefined variable: the closest name among the scope's constants and
/// the words of the script (where its own variables are declared; it did not parse, so there is
/// no AST to ask).
pub fn variable_hint(typed: &str, text: &str, scope: &Scope) -> String {
    let words = text.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty());
    let constants = scope.iter().map(|(name, ..)| name);
    did_you_mean(typed, words.chain(constants).filter(|w| !w.starts_with(|c: char| c.is_ascii_digit())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::values::near_miss::closest;

    #[test]
    fn swapped_and_missing_letters_are_found() {
        assert_eq!(did_you_mean("pasue", ["pause", "resume", "state"]), " (did you mean `pause`?)");
        assert_eq!(closest("top_up_to_runwy", ["top_up_to_runway", "top_up_to", "top_up"]), ["top_up_to_runway"]);
        assert_eq!(did_you_mean("frobnicate", ["pause", "resume"]), "");
        let scope = Scope::new();
        assert_eq!(variable_hint("amuont", "let amount = 5;\nprint(amuont);", &scope), " (did you mean `amount`?)");
    }
}

//! Tab completion for the REPL. A bare word completes to functions and variables; after
//! `name.` it completes to what applies to that variable's value: the methods and properties
//! registered for its type (functions whose first parameter has that type, from the engine's
//! metadata) and, for a map, its keys.

use crate::engine::Runtime;
use crate::engine::docs::{members_by_type, type_key};
use crate::psyche::report::RunReport;
use rhai::{Dynamic, Map, Scope};
use std::collections::{BTreeSet, HashMap};

/// Names to complete, gathered after each input.
#[derive(Default)]
pub struct Completions {
    /// Functions (host, standard, the session's own) and variables.
    words: Vec<String>,
    /// Per variable: its methods, properties and (for maps) keys.
    members: HashMap<String, Vec<String>>,
}

impl Completions {
    pub fn gather(runtime: &Runtime, scope: &Scope, functions: impl IntoIterator<Item = String>) -> Self {
        let by_type = members_by_type(&runtime.engine);
        let mut words: Vec<String> = functions.into_iter().collect();
        let mut members = HashMap::new();
        for (name, _, value) in scope.iter() {
            words.push(name.to_string());
            members.insert(name.to_string(), Self::members_of(runtime, &value, &by_type));
        }
        words.retain(|w| w.chars().all(|c| c.is_alphanumeric() || c == '_'));
        words.sort();
        words.dedup();
        Self { words, members }
    }

    fn members_of(runtime: &Runtime, value: &Dynamic, by_type: &HashMap<String, BTreeSet<String>>) -> Vec<String> {
        let typ = type_key(runtime.engine.map_type_name(value.type_name()));
        let mut names: BTreeSet<String> = by_type.get(&typ).cloned().unwrap_or_default();
        if let Some(map) = value.read_lock::<Map>() {
            names.extend(map.keys().map(ToString::to_string));
        } else if let Some(report) = value.read_lock::<RunReport>() {
            names.extend(report.json.as_object().into_iter().flat_map(|o| o.keys().cloned()));
        }
        names.into_iter().collect()
    }

    /// Where the completed word starts in `line`, and its candidates.
    pub fn complete(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let before = &line[..pos];
        let start = word_start(before, |c| c.is_alphanumeric() || c == '_' || c == ':');
        let word = &before[start..];
        let matching = |names: &[String]| names.iter().filter(|n| n.starts_with(word)).cloned().collect();
        if word.starts_with(':') {
            let meta: Vec<String> =
                [":help", ":functions", ":load ", ":save ", ":quit"].iter().map(ToString::to_string).collect();
            return (start, matching(&meta));
        }
        if let Some(receiver) = before[..start].strip_suffix('.') {
            let name_start = word_start(receiver, |c| c.is_alphanumeric() || c == '_');
            return (start, self.members.get(&receiver[name_start..]).map(|m| matching(m)).unwrap_or_default());
        }
        if word.is_empty() {
            return (start, Vec::new());
        }
        (start, matching(&self.words))
    }
}

/// The byte index where the run of `in_word` characters that ends `text` begins.
fn word_start(text: &str, in_word: impl Fn(char) -> bool) -> usize {
    text.char_indices().rev().find(|(_, c)| !in_word(*c)).map_or(0, |(i, c)| i + c.len_utf8())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_complete_after_a_dot_and_words_elsewhere() {
        let completions = Completions {
            words: vec!["run".into(), "run_exists".into(), "state".into()],
            members: HashMap::from([("r".into(), vec!["pause".into(), "state".into()])]),
        };
        assert_eq!(completions.complete("r.sta", 5), (2, vec!["state".to_string()]));
        assert_eq!(completions.complete("run_", 4), (0, vec!["run_exists".to_string()]));
        // Text before the word may hold multi-byte characters.
        let line = "let s = \"é€\"; r.pa";
        assert_eq!(completions.complete(line, line.len()), (line.len() - 2, vec!["pause".to_string()]));
        assert_eq!(completions.complete("x.pa", 4), (2, Vec::new()));
    }
}

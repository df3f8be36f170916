//! Near misses: the known names closest to what was typed, by edit distance (a swap of two
//! letters counts as one edit). The engine's "did you mean …?" for unknown functions and
//! properties, and a run report's unknown keys, both say it through here.

/// Names within a few edits of `typed`, closest first (at most three).
pub fn closest<'a>(typed: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    // A third of the word may be wrong, and always one letter: `pasue` finds `pause`.
    let limit = (typed.chars().count() / 3).max(1);
    let mut scored: Vec<(usize, &str)> = known
        .into_iter()
        .filter(|name| *name != typed)
        .map(|name| (strsim::osa_distance(typed, name), name))
        .filter(|(distance, _)| *distance <= limit)
        .collect();
    scored.sort();
    scored.dedup();
    scored.into_iter().take(3).map(|(_, name)| name.to_string()).collect()
}

/// ` (did you mean `pause`?)`, or nothing when no known name is close.
pub fn did_you_mean<'a>(typed: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    let names = closest(typed, known);
    if names.is_empty() {
        return String::new();
    }
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    format!(" (did you mean {}?)", quoted.join(" or "))
}

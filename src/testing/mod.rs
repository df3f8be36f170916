//! `psyche-runbook test`: runbook tests. `*.test.rhai` files are found under the given paths,
//! each `test_*` function in them is one test, and every test runs on a fresh embedded chain of
//! its own, held in memory (a new payer with SOL, nothing else), after the file's top-level
//! code (its setup). Tests assert with `assert`/`assert_eq`/`assert_ne`/`expect_error`, and
//! can run runbooks and drive their follow-mode handlers on the same chain.

pub mod asserts;
pub mod discover;
pub mod drive;
pub mod report;
pub mod runner;

/// Registers what tests use besides the host API (assertions, runbooks driven from a test).
pub fn register(engine: &mut rhai::Engine) {
    asserts::register(engine);
    drive::register(engine);
}

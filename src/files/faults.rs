//! Test builds only (feature `test-seams`): a full disk on demand, for machines where a test
//! cannot mount a small tmpfs. While the file `$PSYCHE_TEST_DISK_FULL` names exists, writes to
//! the journal, the localnet's database and the execution log fail as they do on a full disk.
//! In a release this is never set: `disk_full` is always None.

/// The error a write gets while the test's disk is "full".
#[cfg(feature = "test-seams")]
pub fn disk_full() -> Option<std::io::Error> {
    let flag = std::env::var_os("PSYCHE_TEST_DISK_FULL")?;
    // ENOSPC, as the kernel says it.
    std::path::Path::new(&flag).exists().then(|| std::io::Error::from_raw_os_error(28))
}

#[cfg(not(feature = "test-seams"))]
pub fn disk_full() -> Option<std::io::Error> {
    None
}

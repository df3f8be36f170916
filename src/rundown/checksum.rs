//! Checksums the storage answers with: Google Cloud Storage's `x-goog-hash` header
//! (`crc32c=...,md5=...`, base64 digests, possibly over several header lines). The MD5 is
//! compared with the local file's; an object that has none (a composite one) is compared by
//! size alone.

use base64::Engine;
use md5::{Digest, Md5};
use std::io::Read;
use std::path::Path;

/// The MD5 digest `x-goog-hash` values name, if any.
pub fn md5_of_goog_hash<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<[u8; 16]> {
    values.into_iter().flat_map(|value| value.split(',')).find_map(|part| {
        let digest = part.trim().strip_prefix("md5=")?;
        base64::engine::general_purpose::STANDARD.decode(digest).ok()?.try_into().ok()
    })
}

/// The MD5 digest of the file at `path`.
pub fn md5_of_file(path: &Path) -> std::io::Result<[u8; 16]> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Md5::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            return Ok(hasher.finalize().into());
        }
        hasher.update(&buffer[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_md5_is_found_among_other_hashes_and_lines() {
        // MD5 of "hello\n", as GCS answers it.
        let expected: [u8; 16] =
            base64::engine::general_purpose::STANDARD.decode("sZRqySSS0jR8YjW00mERhA==").unwrap().try_into().unwrap();
        assert_eq!(md5_of_goog_hash(["crc32c=+7vmzQ==,md5=sZRqySSS0jR8YjW00mERhA=="]), Some(expected));
        assert_eq!(md5_of_goog_hash(["crc32c=+7vmzQ==", "md5=sZRqySSS0jR8YjW00mERhA=="]), Some(expected));
        assert_eq!(md5_of_goog_hash(["crc32c=+7vmzQ=="]), None);
        assert_eq!(md5_of_goog_hash(["md5=not-base64"]), None);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), "hello\n").unwrap();
        assert_eq!(md5_of_file(&dir.path().join("f")).unwrap(), expected);
    }
}

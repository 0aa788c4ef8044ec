//! Secrets at rest: client secrets and API keys are stored only as salted SHA-256 hashes and
//! compared in constant time. They are 256-bit random values minted by the hub, so a fast
//! hash is enough; a password KDF would only slow every token request.

use alloc::format;
use alloc::string::String;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const SCHEME: &str = "sha256";

/// `sha256$<salt b64>$<digest b64>`.
pub fn hash(secret: &str, salt: &[u8]) -> String {
    format!("{SCHEME}${}${}", B64.encode(salt), B64.encode(digest(salt, secret)))
}

/// Constant-time check of `secret` against a stored [`hash`]. Malformed hashes never match.
pub fn verify(secret: &str, stored: &str) -> bool {
    let mut parts = stored.splitn(3, '$');
    let (Some(SCHEME), Some(salt), Some(expected)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let (Ok(salt), Ok(expected)) = (B64.decode(salt), B64.decode(expected)) else {
        return false;
    };
    digest(&salt, secret).as_slice().ct_eq(&expected).into()
}

/// Equality of two byte strings that leaks neither content nor length through timing: both
/// are hashed first, and the digests compared in constant time.
pub fn digest_eq(a: &[u8], b: &[u8]) -> bool {
    let (da, db): ([u8; 32], [u8; 32]) = (Sha256::digest(a).into(), Sha256::digest(b).into());
    da.ct_eq(&db).into()
}

fn digest(salt: &[u8], secret: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(secret.as_bytes());
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verifies_only_the_secret() {
        let h = hash("s3cret", b"0123456789abcdef");
        assert!(h.starts_with("sha256$"));
        assert!(!h.contains("s3cret"));
        assert!(verify("s3cret", &h));
        assert!(!verify("s3cres", &h));
        assert!(!verify("s3cret", "plain"));
        assert!(!verify("s3cret", "sha256$!!$!!"));
        assert!(digest_eq(b"abc", b"abc") && !digest_eq(b"abc", b"abcd") && !digest_eq(b"", b"a"));
    }
}

//! Outbound credentials (a recipient's OAuth2 client secret or API key) must be usable in
//! clear when the hub calls out, so they cannot be hashed: they are sealed at rest with an
//! HMAC-SHA256 keystream and tag under the host's sealing key, and opened only by `deliver`.
//! Format: `sealed:v1:<nonce b64>:<ciphertext b64>:<tag b64>` (encrypt-then-MAC).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const PREFIX: &str = "sealed:v1:";

pub fn is_sealed(s: &str) -> bool {
    s.starts_with(PREFIX)
}

/// Seals `plain` with a 16-byte random `nonce` under `key`.
pub fn seal(key: &[u8], nonce: &[u8; 16], plain: &str) -> String {
    let mut ct = plain.as_bytes().to_vec();
    xor_keystream(key, nonce, &mut ct);
    let tag = tag(key, nonce, &ct);
    format!("{PREFIX}{}:{}:{}", B64.encode(nonce), B64.encode(&ct), B64.encode(tag))
}

/// Opens a value made by [`seal`]; `None` if it was altered or sealed under another key.
pub fn open(key: &[u8], sealed: &str) -> Option<String> {
    let rest = sealed.strip_prefix(PREFIX)?;
    let mut parts = rest.split(':');
    let nonce = B64.decode(parts.next()?).ok()?;
    let mut ct = B64.decode(parts.next()?).ok()?;
    let tag_given = B64.decode(parts.next()?).ok()?;
    let mut m = mac(key, b"tag");
    m.update(&nonce);
    m.update(&ct);
    m.verify_slice(&tag_given).ok()?;
    xor_keystream(key, &nonce, &mut ct);
    String::from_utf8(ct).ok()
}

fn tag(key: &[u8], nonce: &[u8], ct: &[u8]) -> Vec<u8> {
    let mut m = mac(key, b"tag");
    m.update(nonce);
    m.update(ct);
    m.finalize().into_bytes().to_vec()
}

fn xor_keystream(key: &[u8], nonce: &[u8], data: &mut [u8]) {
    for (block, chunk) in data.chunks_mut(32).enumerate() {
        let mut m = mac(key, b"enc");
        m.update(nonce);
        m.update(&(block as u64).to_be_bytes());
        let ks = m.finalize().into_bytes();
        chunk.iter_mut().zip(ks.iter()).for_each(|(b, k)| *b ^= k);
    }
}

fn mac(key: &[u8], label: &[u8]) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(label);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open() {
        let s = seal(b"key", &[7; 16], "client-secret-with-more-than-32-bytes-of-text");
        assert!(is_sealed(&s));
        assert!(!s.contains("client-secret"));
        assert_eq!(open(b"key", &s).as_deref(), Some("client-secret-with-more-than-32-bytes-of-text"));
        assert_eq!(open(b"other", &s), None);
        let mut bad = s.clone();
        bad.pop();
        assert_eq!(open(b"key", &bad), None);
    }
}

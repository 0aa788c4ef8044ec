//! Outbound credentials (a recipient's OAuth2 client secret or API key, a cached access token)
//! must be usable in clear when the hub calls out, so they cannot be hashed: they are sealed at
//! rest and opened only by `deliver`.
//!
//! Guarantees: a sealed value opens only under the same seal key *and* for the same record (the
//! record's key-value key is the associated data), so a value copied into another record does
//! not open; any change to the stored text fails to open. The clear text never appears in the
//! sealed string.
//!
//! Format: `sealed:v2:<base64url-no-pad(nonce || ciphertext || tag)>`, XChaCha20-Poly1305
//! under a key derived with HKDF-SHA256 from the configured seal key (the host refuses seal
//! keys shorter than 16 bytes). The retired `sealed:v1:` format is recognised but never
//! opened: the operator re-registers the credential.

use alloc::format;
use alloc::string::String;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;

/// XChaCha20's 192-bit nonce: random nonces never collide in practice, so the caller draws one
/// per seal from the host's entropy.
pub const NONCE_LEN: usize = 24;
/// Poly1305 tag length.
const TAG_LEN: usize = 16;

const PREFIX: &str = "sealed:";
const V2: &str = "sealed:v2:";
const V1: &str = "sealed:v1:";
/// HKDF info: a new format gets a new label, so keys never repeat across formats.
const HKDF_INFO: &[u8] = b"switchyard seal v2";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealError {
    /// `sealed:v1:` (the retired HMAC format): never opened, the operator re-registers the credential.
    Retired,
    /// Anything else that does not open: malformed, wrong key, wrong record, tampered.
    Invalid,
}

/// Any sealed value, current or retired format (`sealed:` prefix).
pub fn is_sealed(s: &str) -> bool {
    s.starts_with(PREFIX)
}

/// `sealed:v2:<base64url-no-pad(nonce || ciphertext || tag)>`; `aad` binds the value to its
/// record (the record's key-value key). `nonce` must be fresh random bytes for every call.
pub fn seal(key: &[u8], nonce: &[u8; NONCE_LEN], aad: &[u8], plain: &str) -> String {
    seal_bytes(key, nonce, aad, plain.as_bytes())
}

/// Opens a value made by [`seal`] with the same key and `aad`.
pub fn open(key: &[u8], aad: &[u8], sealed: &str) -> Result<String, SealError> {
    let Some(body) = sealed.strip_prefix(V2) else {
        return Err(if sealed.starts_with(V1) { SealError::Retired } else { SealError::Invalid });
    };
    let raw = B64.decode(body).map_err(|_| SealError::Invalid)?;
    if raw.len() < NONCE_LEN + TAG_LEN {
        return Err(SealError::Invalid);
    }
    let (nonce, ct) = raw.split_at(NONCE_LEN);
    let plain = cipher(key)
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
        .map_err(|_| SealError::Invalid)?;
    String::from_utf8(plain).map_err(|_| SealError::Invalid)
}

fn seal_bytes(key: &[u8], nonce: &[u8; NONCE_LEN], aad: &[u8], plain: &[u8]) -> String {
    let ct = cipher(key)
        .encrypt(XNonce::from_slice(nonce), Payload { msg: plain, aad })
        .expect("XChaCha20-Poly1305 seals any in-memory length");
    let mut raw = alloc::vec::Vec::with_capacity(NONCE_LEN + ct.len());
    raw.extend_from_slice(nonce);
    raw.extend_from_slice(&ct);
    format!("{V2}{}", B64.encode(raw))
}

fn cipher(key: &[u8]) -> XChaCha20Poly1305 {
    // The seal key is an operator-chosen string of any length; HKDF turns it into a uniform
    // 256-bit key (RFC 5869 §3.3: extract is what makes non-uniform input keying material safe).
    let mut okm = [0u8; 32];
    Hkdf::<Sha256>::new(None, key).expand(HKDF_INFO, &mut okm).expect("32 bytes is a valid HKDF-SHA256 output length");
    XChaCha20Poly1305::new(Key::from_slice(&okm))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    const KEY: &[u8] = b"a seal key of more than sixteen bytes";
    const NONCE: [u8; NONCE_LEN] = [7; NONCE_LEN];
    const RECORD_A: &[u8] = b"endpoint:RCPID-A";
    const RECORD_B: &[u8] = b"endpoint:RCPID-B";
    const SECRET: &str = "client-secret-with-more-than-32-bytes-of-text";

    fn raw(sealed: &str) -> Vec<u8> {
        B64.decode(sealed.strip_prefix(V2).unwrap()).unwrap()
    }

    fn reencode(raw: &[u8]) -> String {
        format!("{V2}{}", B64.encode(raw))
    }

    #[test]
    fn round_trip() {
        let s = seal(KEY, &NONCE, RECORD_A, SECRET);
        assert!(s.starts_with("sealed:v2:") && is_sealed(&s));
        assert_eq!(open(KEY, RECORD_A, &s).as_deref(), Ok(SECRET));
        assert_eq!(open(KEY, RECORD_A, &seal(KEY, &NONCE, RECORD_A, "")).as_deref(), Ok(""));
    }

    #[test]
    fn clear_text_is_not_in_the_sealed_string() {
        let s = seal(KEY, &NONCE, RECORD_A, SECRET);
        assert!(!s.contains(SECRET) && !s.contains("client-secret"));
        assert!(!s.contains(&B64.encode(SECRET)[..16]));
    }

    #[test]
    fn wrong_key_does_not_open() {
        let s = seal(KEY, &NONCE, RECORD_A, SECRET);
        assert_eq!(open(b"another seal key, also long enough", RECORD_A, &s), Err(SealError::Invalid));
    }

    #[test]
    fn value_moved_to_another_record_does_not_open() {
        let a = seal(KEY, &NONCE, RECORD_A, SECRET);
        let b = seal(KEY, &NONCE, RECORD_B, "the other secret");
        // An attacker with write access to the store swaps the two records' values.
        assert_eq!(open(KEY, RECORD_B, &a), Err(SealError::Invalid));
        assert_eq!(open(KEY, RECORD_A, &b), Err(SealError::Invalid));
    }

    #[test]
    fn shifted_truncated_or_extended_payload_does_not_open() {
        let s = seal(KEY, &NONCE, RECORD_A, SECRET);
        let r = raw(&s);
        // Move the nonce/ciphertext boundary by one byte in each direction.
        let mut left = r.clone();
        left.rotate_left(1);
        let mut right = r.clone();
        right.rotate_right(1);
        let cases = [
            reencode(&left),
            reencode(&right),
            reencode(&r[..r.len() - 1]),
            reencode(&r[1..]),
            reencode(&[r.as_slice(), &[0]].concat()),
            reencode(&r[..NONCE_LEN + TAG_LEN - 1]),
            reencode(&[]),
            String::from("sealed:v2:"),
            format!("{s}="),
            s.replace("sealed:v2:", "sealed:v3:"),
        ];
        for bad in cases {
            assert_eq!(open(KEY, RECORD_A, &bad), Err(SealError::Invalid), "{bad}");
        }
        let mut flipped = r.clone();
        flipped[NONCE_LEN + 3] ^= 1;
        assert_eq!(open(KEY, RECORD_A, &reencode(&flipped)), Err(SealError::Invalid));
    }

    #[test]
    fn retired_format_is_recognised_but_not_opened() {
        let v1 = "sealed:v1:BwcHBwcHBwcHBwcHBwcHBw:Zm9v:YmFy";
        assert!(is_sealed(v1));
        assert_eq!(open(KEY, RECORD_A, v1), Err(SealError::Retired));
        assert!(!is_sealed("client-secret"));
        assert_eq!(open(KEY, RECORD_A, "client-secret"), Err(SealError::Invalid));
    }

    #[test]
    fn non_utf8_plaintext_is_invalid() {
        let s = seal_bytes(KEY, &NONCE, RECORD_A, &[0xff, 0xfe, b'a']);
        assert_eq!(open(KEY, RECORD_A, &s), Err(SealError::Invalid));
    }
}

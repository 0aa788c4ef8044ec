//! Message signatures: RSA PKCS#1 v1.5 over SHA-256 (the DIP signing scheme, DSD002 §10).
//! Hosts sign through the [`crate::ports::Signer`] port; this module holds the portable
//! RustCrypto implementation (feature `rsa`) used where WebCrypto is not available. Both
//! produce byte-identical signatures because PKCS#1 v1.5 signing is deterministic.

#[cfg(feature = "rsa")]
pub use portable::{RsaSigner, RsaVerifier};

#[cfg(feature = "rsa")]
mod portable {
    use alloc::string::ToString;
    use alloc::vec::Vec;
    use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
    use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
    use rsa::sha2::Sha256;
    use rsa::signature::{SignatureEncoding, Signer as _, Verifier as _};

    use crate::ports::{PortError, PortResult, Signer, Verifier};

    pub struct RsaSigner {
        key: SigningKey<Sha256>,
    }

    impl RsaSigner {
        /// From a PKCS#8 private key, PEM (`-----BEGIN PRIVATE KEY-----`) or DER.
        pub fn from_pkcs8(key: &[u8]) -> PortResult<Self> {
            let parsed = match core::str::from_utf8(key) {
                Ok(pem) if pem.contains("-----BEGIN") => rsa::RsaPrivateKey::from_pkcs8_pem(pem),
                _ => rsa::RsaPrivateKey::from_pkcs8_der(key),
            }
            .map_err(|e| PortError::new(e.to_string()))?;
            Ok(RsaSigner { key: SigningKey::new(parsed) })
        }

        pub fn sign_now(&self, data: &[u8]) -> Vec<u8> {
            self.key.sign(data).to_vec()
        }
    }

    impl Signer for RsaSigner {
        async fn sign(&self, data: &[u8]) -> PortResult<Vec<u8>> {
            Ok(self.sign_now(data))
        }
    }

    pub struct RsaVerifier;

    impl Verifier for RsaVerifier {
        async fn verify(&self, spki_der: &[u8], data: &[u8], signature: &[u8]) -> PortResult<bool> {
            let key = rsa::RsaPublicKey::from_public_key_der(spki_der).map_err(|e| PortError::new(e.to_string()))?;
            let Ok(sig) = Signature::try_from(signature) else { return Ok(false) };
            Ok(VerifyingKey::<Sha256>::new(key).verify(data, &sig).is_ok())
        }
    }
}

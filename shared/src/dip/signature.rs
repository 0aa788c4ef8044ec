//! DIP request signatures (DSD002 Annex 2 §10.3-10.4) and the certificates behind them, in
//! both directions: participants' calls are verified here, the hub's calls to participants
//! are signed here.
//!
//! Guarantees: a request passes [`verify`] only when its certificate chains to a configured
//! trust anchor (name *and* signature), is within its validity at `now`, is not revoked, may
//! sign (keyUsage), and names the expected DIP ID in this environment's profile (§10.5.6);
//! the signature date is within [`SIGNATURE_DATE_TOLERANCE_MS`] of `now`; the content hash
//! is that of the exact body; and the signature verifies under the certificate's key over
//! the string rebuilt from what the hub itself received. Every step is a pure function of
//! its inputs and the [`Verifier`] port, so WebCrypto and RustCrypto hosts decide alike.

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use der::asn1::ObjectIdentifier;
use der::{Decode, Encode, Header, Reader, SliceReader, Tag, Tagged};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use x509_cert::ext::pkix::KeyUsage;
use x509_cert::name::Name;
use x509_cert::Certificate;

use crate::common::http::HttpRequest;
use crate::common::time::{parse_rfc3339, rfc3339};
use crate::ports::{PortError, PortResult, Signer, Verifier};

/// Header names as §10.2 spells them (hosts compare header names case-insensitively).
pub mod headers {
    pub const SIGNATURE: &str = "X-DIP-Signature";
    pub const SIGNATURE_DATE: &str = "X-DIP-Signature-Date";
    pub const CONTENT_HASH: &str = "X-DIP-Content-Hash";
    pub const SIGNATURE_CERTIFICATE: &str = "X-DIP-Signature-Certificate";
}

/// How far the signature date may be from the hub's clock, either way. §10 sets no limit;
/// without one a captured request could be replayed for the certificate's whole lifetime.
/// Five minutes absorbs clock drift and queueing in a participant's gateway.
pub const SIGNATURE_DATE_TOLERANCE_MS: u64 = 5 * 60 * 1000;

/// sha256WithRSAEncryption (RFC 4055): the profile's only signature algorithm (§10.5.6).
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
/// rsaEncryption (RFC 3279): the only key type the [`Verifier`] port takes.
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// id-at-commonName (X.520).
const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");

/// Why a signed request is refused. Every variant is the caller's fault (401 per the DIP
/// contract) except [`SignatureError::Host`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// One of the four signature headers is absent or empty (its name as §10.2 spells it).
    MissingHeader(&'static str),
    /// `X-DIP-Signature-Date` is not an RFC 3339 date-time.
    BadDate,
    /// The signature date is further from now than [`SIGNATURE_DATE_TOLERANCE_MS`].
    Stale,
    /// `X-DIP-Content-Hash` is not the hash of the body received.
    ContentHashMismatch,
    /// The certificate header is not base64 of a PEM or DER X.509 certificate, or the
    /// certificate is inconsistent (inner and outer algorithms differ, unusable key).
    BadCertificate,
    /// The certificate is signed, or its key is, with something other than RSA/SHA-256.
    UnsupportedAlgorithm,
    /// No trust anchor has the issuer's name and a key that verifies the certificate.
    UntrustedIssuer,
    NotYetValid,
    Expired,
    /// The certificate's fingerprint is on the revocation list.
    Revoked,
    /// keyUsage is present and lacks digitalSignature.
    NoSigningUsage,
    /// The subject has no single common name of the form `energydip-{prod,nonprod}.<DIPID>`.
    BadSubject,
    /// The common name is of the other environment's profile (prod in non-prod or vice versa).
    WrongEnvironment,
    /// The certificate signs for another DIP ID than the party the request speaks for.
    WrongParty,
    /// `X-DIP-Signature` is not base64 of a signature over the rebuilt signature string.
    BadSignature,
    /// The host could not run a verification it should always be able to run.
    Host(PortError),
}

impl core::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SignatureError::MissingHeader(name) => write!(f, "missing header {name}"),
            SignatureError::BadDate => f.write_str("signature date is not an RFC 3339 date-time"),
            SignatureError::Stale => f.write_str("signature date is too far from the current time"),
            SignatureError::ContentHashMismatch => f.write_str("content hash does not match the body"),
            SignatureError::BadCertificate => f.write_str("signature certificate is not a usable X.509 certificate"),
            SignatureError::UnsupportedAlgorithm => f.write_str("certificate algorithm is not RSA with SHA-256"),
            SignatureError::UntrustedIssuer => f.write_str("certificate is not issued by a trusted authority"),
            SignatureError::NotYetValid => f.write_str("certificate is not yet valid"),
            SignatureError::Expired => f.write_str("certificate has expired"),
            SignatureError::Revoked => f.write_str("certificate is revoked"),
            SignatureError::NoSigningUsage => f.write_str("certificate key usage does not allow digital signatures"),
            SignatureError::BadSubject => f.write_str("certificate subject is not a DIP signing identity"),
            SignatureError::WrongEnvironment => f.write_str("certificate belongs to another DIP environment"),
            SignatureError::WrongParty => f.write_str("certificate signs for another DIP participant"),
            SignatureError::BadSignature => f.write_str("signature does not verify"),
            SignatureError::Host(e) => write!(f, "host failure: {e}"),
        }
    }
}

/// base64(SHA-256(body)); §10.4.1 reads an empty body as `{}`.
pub fn content_hash(body: &[u8]) -> String {
    let body = if body.is_empty() { b"{}".as_slice() } else { body };
    B64.encode(Sha256::digest(body))
}

/// The string both sides sign: `VERB;url;date;contentHash`. `url` is the full URL as
/// addressed (for callbacks, the registered callbackURL); it is lower-cased here as §10.3
/// requires, with Unicode rules so it matches JavaScript's `toLowerCase` in Elexon's tooling.
pub fn signature_string(method: &str, url: &str, date: &str, content_hash: &str) -> String {
    format!("{};{};{date};{content_hash}", method.to_ascii_uppercase(), url.to_lowercase())
}

/// Lower-case hex SHA-256 of a certificate's DER: how the revocation list names certificates.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der).iter().map(|b| format!("{b:02x}")).collect()
}

/// The admin API's certificate body (trust anchors, the hub's signing certificate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificatePem {
    #[serde(rename = "certificatePem")]
    pub certificate_pem: String,
}

/// A CA whose certificates the hub accepts: what issuer checks need from its certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustAnchor {
    /// The anchor's subject, DER: issued certificates carry it as their issuer.
    subject: Vec<u8>,
    /// The anchor's public key (SPKI, DER), as the [`Verifier`] port takes it.
    spki: Vec<u8>,
}

impl TrustAnchor {
    /// From a PEM certificate. The anchor's own validity is not checked: it is configured by
    /// the operator, and removing it is how trust ends.
    pub fn from_pem(pem: &str) -> Result<Self, SignatureError> {
        let der = pem_certificate(pem.trim().as_bytes())?;
        let cert = Certificate::from_der(&der).map_err(|_| SignatureError::BadCertificate)?;
        let tbs = &cert.tbs_certificate;
        if tbs.subject_public_key_info.algorithm.oid != RSA_ENCRYPTION {
            return Err(SignatureError::UnsupportedAlgorithm);
        }
        Ok(TrustAnchor { subject: encode(&tbs.subject)?, spki: encode(&tbs.subject_public_key_info)? })
    }

    /// From the admin API's `{"certificatePem": "..."}` body.
    pub fn from_admin_json(body: &[u8]) -> Result<Self, SignatureError> {
        let body: CertificatePem = crate::common::json::parse(body).map_err(|_| SignatureError::BadCertificate)?;
        TrustAnchor::from_pem(&body.certificate_pem)
    }
}

/// Which §10.5.6 certificate profile signing certificates follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateProfile {
    Production,
    NonProduction,
}

impl CertificateProfile {
    /// `PRD` (DT-013) is production; every test environment uses the non-production profile.
    pub fn for_environment(environment_tag: &str) -> Self {
        if environment_tag == "PRD" {
            CertificateProfile::Production
        } else {
            CertificateProfile::NonProduction
        }
    }

    /// The common name's prefix before `<DIPID>` (the profile's MPID, mapped per §7.3.1).
    pub fn common_name_prefix(self) -> &'static str {
        match self {
            CertificateProfile::Production => "energydip-prod.",
            CertificateProfile::NonProduction => "energydip-nonprod.",
        }
    }

    fn other(self) -> Self {
        match self {
            CertificateProfile::Production => CertificateProfile::NonProduction,
            CertificateProfile::NonProduction => CertificateProfile::Production,
        }
    }
}

/// What the hub trusts at the time of a check; hosts load it from configuration.
#[derive(Debug, Clone)]
pub struct Trust {
    pub anchors: Vec<TrustAnchor>,
    /// [`fingerprint`]s of revoked certificates.
    pub revoked: BTreeSet<String>,
    pub profile: CertificateProfile,
}

/// A certificate that passed every check, and the party it signs for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certified {
    pub dip_id: String,
    /// [`fingerprint`] of the certificate, for logs and the archive.
    pub fingerprint: String,
    /// The certificate's public key (SPKI, DER).
    pub spki: Vec<u8>,
}

/// Checks `certificate` (DER) for signing on behalf of `expected_party` at `now_ms`.
pub async fn check_certificate<V: Verifier>(
    verifier: &V,
    trust: &Trust,
    certificate: &[u8],
    expected_party: &str,
    now_ms: u64,
) -> Result<Certified, SignatureError> {
    let cert = Certificate::from_der(certificate).map_err(|_| SignatureError::BadCertificate)?;
    let tbs = &cert.tbs_certificate;
    if cert.signature_algorithm != tbs.signature {
        return Err(SignatureError::BadCertificate);
    }
    if cert.signature_algorithm.oid != SHA256_WITH_RSA || tbs.subject_public_key_info.algorithm.oid != RSA_ENCRYPTION {
        return Err(SignatureError::UnsupportedAlgorithm);
    }
    let signature = cert.signature.as_bytes().ok_or(SignatureError::BadCertificate)?;
    // The issuer signed the TBS bytes as sent; re-encoding the parsed value could differ.
    let signed = tbs_bytes(certificate).map_err(|_| SignatureError::BadCertificate)?;
    let issuer = encode(&tbs.issuer)?;
    let mut trusted = false;
    for anchor in trust.anchors.iter().filter(|a| a.subject == issuer) {
        if verifier.verify(&anchor.spki, signed, signature).await.map_err(SignatureError::Host)? {
            trusted = true;
            break;
        }
    }
    if !trusted {
        return Err(SignatureError::UntrustedIssuer);
    }

    let now = u128::from(now_ms);
    if now < tbs.validity.not_before.to_unix_duration().as_millis() {
        return Err(SignatureError::NotYetValid);
    }
    if now > tbs.validity.not_after.to_unix_duration().as_millis() {
        return Err(SignatureError::Expired);
    }
    let fingerprint = fingerprint(certificate);
    if trust.revoked.contains(&fingerprint) {
        return Err(SignatureError::Revoked);
    }
    match tbs.get::<KeyUsage>() {
        Ok(None) => {}
        Ok(Some((_, usage))) if usage.digital_signature() => {}
        Ok(Some(_)) => return Err(SignatureError::NoSigningUsage),
        Err(_) => return Err(SignatureError::BadCertificate),
    }

    let cn = common_name(&tbs.subject).ok_or(SignatureError::BadSubject)?;
    let dip_id = match cn.strip_prefix(trust.profile.common_name_prefix()) {
        Some(id) => id,
        None if cn.starts_with(trust.profile.other().common_name_prefix()) => return Err(SignatureError::WrongEnvironment),
        None => return Err(SignatureError::BadSubject),
    };
    if dip_id != expected_party {
        return Err(SignatureError::WrongParty);
    }
    Ok(Certified { dip_id: dip_id.into(), fingerprint, spki: encode(&tbs.subject_public_key_info)? })
}

/// The four signature headers as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureHeaders<'a> {
    pub signature: &'a str,
    pub date: &'a str,
    pub content_hash: &'a str,
    pub certificate: &'a str,
}

impl<'a> SignatureHeaders<'a> {
    pub fn from_request(request: &'a HttpRequest) -> Result<Self, SignatureError> {
        let get = |name: &'static str| match request.header(name).map(str::trim) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(SignatureError::MissingHeader(name)),
        };
        Ok(SignatureHeaders {
            signature: get(headers::SIGNATURE)?,
            date: get(headers::SIGNATURE_DATE)?,
            content_hash: get(headers::CONTENT_HASH)?,
            certificate: get(headers::SIGNATURE_CERTIFICATE)?,
        })
    }
}

/// A request as the hub received it.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    pub method: &'a str,
    /// The full URL the request was addressed to, `scheme://host[:port]/path[?query]`.
    pub url: &'a str,
    pub headers: SignatureHeaders<'a>,
    pub body: &'a [u8],
}

impl<'a> Received<'a> {
    /// An inbound request carries only path and query, so the host supplies the full `url`.
    pub fn from_request(request: &'a HttpRequest, url: &'a str) -> Result<Self, SignatureError> {
        Ok(Received {
            method: request.method.as_str(),
            url,
            headers: SignatureHeaders::from_request(request)?,
            body: &request.body,
        })
    }
}

/// §10.4.1: accepts `request` only if it is signed, now, over this body, by a certificate
/// the hub trusts for `expected_party`.
pub async fn verify<V: Verifier>(
    verifier: &V,
    trust: &Trust,
    request: &Received<'_>,
    expected_party: &str,
    now_ms: u64,
) -> Result<Certified, SignatureError> {
    let h = &request.headers;
    let certificate = decode_certificate_header(h.certificate)?;
    let certified = check_certificate(verifier, trust, &certificate, expected_party, now_ms).await?;

    let signed_at = parse_rfc3339(h.date).ok_or(SignatureError::BadDate)?;
    if signed_at.abs_diff(now_ms) > SIGNATURE_DATE_TOLERANCE_MS {
        return Err(SignatureError::Stale);
    }
    let hash = content_hash(request.body);
    if h.content_hash != hash {
        return Err(SignatureError::ContentHashMismatch);
    }
    let signature = B64.decode(h.signature).map_err(|_| SignatureError::BadSignature)?;
    let signed = signature_string(request.method, request.url, h.date, &hash);
    // The key came from the sender: a key the verifier cannot use is a bad certificate, not
    // a host failure.
    match verifier.verify(&certified.spki, signed.as_bytes(), &signature).await {
        Ok(true) => Ok(certified),
        Ok(false) => Err(SignatureError::BadSignature),
        Err(_) => Err(SignatureError::BadCertificate),
    }
}

/// §10.3.1: the four headers for a call the hub makes, in the order §10.3.1 adds them.
/// `certificate_pem` is the hub's signing certificate, the pair of `signer`'s key.
pub async fn sign_headers<S: Signer>(
    signer: &S,
    method: &str,
    url: &str,
    body: &[u8],
    now_ms: u64,
    certificate_pem: &str,
) -> PortResult<[(&'static str, String); 4]> {
    let date = rfc3339(now_ms);
    let hash = content_hash(body);
    let signature = signer.sign(signature_string(method, url, &date, &hash).as_bytes()).await?;
    Ok([
        (headers::SIGNATURE, B64.encode(signature)),
        (headers::SIGNATURE_DATE, date),
        (headers::SIGNATURE_CERTIFICATE, B64.encode(certificate_pem)),
        (headers::CONTENT_HASH, hash),
    ])
}

/// `X-DIP-Signature-Certificate` is base64 of the PEM text; base64 of DER is accepted too.
pub fn decode_certificate_header(value: &str) -> Result<Vec<u8>, SignatureError> {
    let bytes = B64.decode(value).map_err(|_| SignatureError::BadCertificate)?;
    if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        pem_certificate(bytes.trim_ascii())
    } else {
        Ok(bytes)
    }
}

fn pem_certificate(pem: &[u8]) -> Result<Vec<u8>, SignatureError> {
    match der::pem::decode_vec(pem) {
        Ok(("CERTIFICATE", der)) => Ok(der),
        _ => Err(SignatureError::BadCertificate),
    }
}

/// The TBSCertificate's bytes exactly as they appear in `certificate`.
fn tbs_bytes(certificate: &[u8]) -> der::Result<&[u8]> {
    let mut reader = SliceReader::new(certificate)?;
    Header::decode(&mut reader)?.tag.assert_eq(Tag::Sequence)?;
    reader.tlv_bytes()
}

/// The subject's one common name; `None` when there are none or several.
fn common_name(subject: &Name) -> Option<&str> {
    let mut names = subject.0.iter().flat_map(|rdn| rdn.0.iter()).filter(|atv| atv.oid == COMMON_NAME);
    let cn = names.next()?;
    if names.next().is_some() || !matches!(cn.value.tag(), Tag::Utf8String | Tag::PrintableString) {
        return None;
    }
    core::str::from_utf8(cn.value.value()).ok()
}

fn encode<T: Encode>(value: &T) -> Result<Vec<u8>, SignatureError> {
    value.to_der().map_err(|_| SignatureError::BadCertificate)
}

#[cfg(all(test, feature = "rsa"))]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use core::str::FromStr;
    use core::time::Duration;

    use der::asn1::UtcTime;
    use der::pem::LineEnding;
    use der::EncodePem;
    use rsa::pkcs1v15::SigningKey;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::sha2::{Sha256, Sha384};
    use rsa::RsaPrivateKey;
    use spki::SubjectPublicKeyInfoOwned;
    use x509_cert::builder::{Builder, CertificateBuilder, Profile};
    use der::flagset::FlagSet;
    use x509_cert::ext::pkix::KeyUsages;
    use x509_cert::serial_number::SerialNumber;
    use x509_cert::time::{Time, Validity};

    use crate::common::http::Method;
    use crate::common::signing::{RsaSigner, RsaVerifier};
    use crate::testing::block_on;

    // Test-only keys (see tests/fixtures/dip/README.md); certificates are built below.
    const CA_KEY: &str = include_str!("../../tests/fixtures/dip/ca.key.pem");
    const ROGUE_CA_KEY: &str = include_str!("../../tests/fixtures/dip/rogue-ca.key.pem");
    const PARTY_KEY: &str = include_str!("../../tests/fixtures/dip/party.key.pem");

    /// 2026-04-01T12:00:00Z.
    const NOW: u64 = 1_775_044_800_000;
    const DAY: u64 = 86_400_000;
    const CA_NAME: &str = "CN=GlobalSign,O=MHHS-DIP,C=GB";
    const PARTY: &str = "1000000002";
    const URL: &str = "https://hub.example.com:8443/dip-channel/IF-021";
    const BODY: &[u8] = br#"[{"payload":{"CommonBlock":{}}}]"#;

    fn rsa_key(pem: &str) -> RsaPrivateKey {
        RsaPrivateKey::from_pkcs8_pem(pem).unwrap()
    }

    fn time(ms: u64) -> Time {
        Time::UtcTime(UtcTime::from_unix_duration(Duration::from_millis(ms)).unwrap())
    }

    /// A certificate as a test wants it; [`Leaf::default`] is one the hub accepts at [`NOW`].
    struct Leaf {
        cn: String,
        not_before: u64,
        not_after: u64,
        key_usage: Option<FlagSet<KeyUsages>>,
        issuer_key: &'static str,
        sha384: bool,
    }

    impl Default for Leaf {
        fn default() -> Self {
            Leaf {
                cn: format!("energydip-nonprod.{PARTY}"),
                not_before: NOW - 30 * DAY,
                not_after: NOW + 365 * DAY,
                key_usage: Some(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
                issuer_key: CA_KEY,
                sha384: false,
            }
        }
    }

    impl Leaf {
        fn der(&self) -> Vec<u8> {
            let validity = Validity { not_before: time(self.not_before), not_after: time(self.not_after) };
            let subject = Name::from_str(&format!("CN={},OU=Non-Production,O=Bars Energy,C=GB", self.cn)).unwrap();
            let spki = SubjectPublicKeyInfoOwned::from_key(rsa_key(PARTY_KEY).to_public_key()).unwrap();
            let profile = Profile::Manual { issuer: Some(Name::from_str(CA_NAME).unwrap()) };
            let serial = SerialNumber::from(7u32);
            let issuer_key = rsa_key(self.issuer_key);
            let cert = if self.sha384 {
                let signer = SigningKey::<Sha384>::new(issuer_key);
                let mut builder = CertificateBuilder::new(profile, serial, validity, subject, spki, &signer).unwrap();
                if let Some(usage) = self.key_usage {
                    builder.add_extension(&KeyUsage(usage)).unwrap();
                }
                builder.build::<rsa::pkcs1v15::Signature>().unwrap()
            } else {
                let signer = SigningKey::<Sha256>::new(issuer_key);
                let mut builder = CertificateBuilder::new(profile, serial, validity, subject, spki, &signer).unwrap();
                if let Some(usage) = self.key_usage {
                    builder.add_extension(&KeyUsage(usage)).unwrap();
                }
                builder.build::<rsa::pkcs1v15::Signature>().unwrap()
            };
            cert.to_der().unwrap()
        }

        fn pem(&self) -> String {
            Certificate::from_der(&self.der()).unwrap().to_pem(LineEnding::LF).unwrap()
        }
    }

    /// A self-signed CA certificate named [`CA_NAME`] with `key`.
    fn ca_pem(key: &str) -> String {
        let signer = SigningKey::<Sha256>::new(rsa_key(key));
        let spki = SubjectPublicKeyInfoOwned::from_key(rsa_key(key).to_public_key()).unwrap();
        let validity = Validity { not_before: time(NOW - 365 * DAY), not_after: time(NOW + 3650 * DAY) };
        let builder =
            CertificateBuilder::new(Profile::Root, SerialNumber::from(1u32), validity, Name::from_str(CA_NAME).unwrap(), spki, &signer)
                .unwrap();
        builder.build::<rsa::pkcs1v15::Signature>().unwrap().to_pem(LineEnding::LF).unwrap()
    }

    fn trust(profile: CertificateProfile) -> Trust {
        Trust { anchors: vec![TrustAnchor::from_pem(&ca_pem(CA_KEY)).unwrap()], revoked: BTreeSet::new(), profile }
    }

    /// A request as a participant sends it: signed at `now` with the party key.
    fn signed(method: Method, url: &str, body: &[u8], certificate_pem: &str) -> HttpRequest {
        let signer = RsaSigner::from_pkcs8(PARTY_KEY.as_bytes()).unwrap();
        let headers = block_on(sign_headers(&signer, method.as_str(), url, body, NOW, certificate_pem)).unwrap();
        headers.into_iter().fold(HttpRequest::new(method, "/dip-channel/IF-021").with_body(body.to_vec()), |r, (k, v)| r.with_header(k, v))
    }

    fn set_header(mut request: HttpRequest, name: &str, value: &str) -> HttpRequest {
        request.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        request.with_header(name, value)
    }

    /// Verifies `request` as received on `url`, for [`PARTY`] at [`NOW`].
    fn check(trust: &Trust, request: &HttpRequest, url: &str) -> Result<Certified, SignatureError> {
        let received = Received::from_request(request, url)?;
        block_on(verify(&RsaVerifier, trust, &received, PARTY, NOW))
    }

    fn check_leaf(leaf: &Leaf) -> Result<Certified, SignatureError> {
        check(&trust(CertificateProfile::NonProduction), &signed(Method::Post, URL, BODY, &leaf.pem()), URL)
    }

    #[test]
    fn content_hash_reads_an_empty_body_as_empty_json() {
        assert_eq!(content_hash(b""), "RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o=");
        assert_eq!(content_hash(b"{}"), content_hash(b""));
        assert_ne!(content_hash(b"[]"), content_hash(b""));
    }

    #[test]
    fn signature_string_upper_cases_the_verb_and_lower_cases_the_url() {
        assert_eq!(
            signature_string("post", "HTTPS://Hub.Example.com:8443/dip-channel/IF-021?A=B", "2026-04-01T12:00:00.000Z", "h="),
            "POST;https://hub.example.com:8443/dip-channel/if-021?a=b;2026-04-01T12:00:00.000Z;h="
        );
    }

    #[test]
    fn fingerprint_is_lower_case_hex_sha256() {
        let f = fingerprint(b"abc");
        assert_eq!(f, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn signature_valid_request_is_accepted_for_its_party() {
        let leaf = Leaf::default();
        let certified = check_leaf(&leaf).unwrap();
        assert_eq!(certified.dip_id, PARTY);
        assert_eq!(certified.fingerprint, fingerprint(&leaf.der()));
    }

    #[test]
    fn signature_headers_are_those_section_10_names() {
        let request = signed(Method::Post, URL, BODY, &Leaf::default().pem());
        assert_eq!(request.header("X-DIP-Signature-Date"), Some("2026-04-01T12:00:00.000Z"));
        assert_eq!(request.header("X-DIP-Content-Hash"), Some(content_hash(BODY).as_str()));
        let pem = B64.decode(request.header("X-DIP-Signature-Certificate").unwrap()).unwrap();
        assert!(pem.starts_with(b"-----BEGIN CERTIFICATE-----"));
    }

    #[test]
    fn signature_without_key_usage_is_accepted() {
        assert!(check_leaf(&Leaf { key_usage: None, ..Leaf::default() }).is_ok());
    }

    #[test]
    fn signature_certificate_outside_its_validity_is_refused() {
        let expired = Leaf { not_before: NOW - 400 * DAY, not_after: NOW - DAY, ..Leaf::default() };
        assert_eq!(check_leaf(&expired), Err(SignatureError::Expired));
        let early = Leaf { not_before: NOW + DAY, ..Leaf::default() };
        assert_eq!(check_leaf(&early), Err(SignatureError::NotYetValid));
    }

    #[test]
    fn signature_certificate_from_another_ca_with_the_same_name_is_refused() {
        assert_eq!(check_leaf(&Leaf { issuer_key: ROGUE_CA_KEY, ..Leaf::default() }), Err(SignatureError::UntrustedIssuer));
        // Trusting the rogue CA as well makes the same certificate acceptable.
        let mut trust = trust(CertificateProfile::NonProduction);
        trust.anchors.push(TrustAnchor::from_pem(&ca_pem(ROGUE_CA_KEY)).unwrap());
        let request = signed(Method::Post, URL, BODY, &Leaf { issuer_key: ROGUE_CA_KEY, ..Leaf::default() }.pem());
        assert!(check(&trust, &request, URL).is_ok());
    }

    #[test]
    fn signature_without_trust_anchors_is_refused() {
        let mut trust = trust(CertificateProfile::NonProduction);
        trust.anchors.clear();
        let request = signed(Method::Post, URL, BODY, &Leaf::default().pem());
        assert_eq!(check(&trust, &request, URL), Err(SignatureError::UntrustedIssuer));
    }

    #[test]
    fn signature_revoked_certificate_is_refused() {
        let leaf = Leaf::default();
        let mut trust = trust(CertificateProfile::NonProduction);
        trust.revoked.insert(fingerprint(&leaf.der()));
        let request = signed(Method::Post, URL, BODY, &leaf.pem());
        assert_eq!(check(&trust, &request, URL), Err(SignatureError::Revoked));
    }

    #[test]
    fn signature_certificate_of_another_party_is_refused() {
        let other = Leaf { cn: "energydip-nonprod.1000000003".into(), ..Leaf::default() };
        assert_eq!(check_leaf(&other), Err(SignatureError::WrongParty));
    }

    #[test]
    fn signature_certificate_without_digital_signature_usage_is_refused() {
        let leaf = Leaf { key_usage: Some(KeyUsages::KeyEncipherment.into()), ..Leaf::default() };
        assert_eq!(check_leaf(&leaf), Err(SignatureError::NoSigningUsage));
    }

    #[test]
    fn signature_certificate_signed_with_sha384_is_refused() {
        assert_eq!(check_leaf(&Leaf { sha384: true, ..Leaf::default() }), Err(SignatureError::UnsupportedAlgorithm));
    }

    #[test]
    fn signature_certificate_must_follow_the_environment_profile() {
        let prod = Leaf { cn: format!("energydip-prod.{PARTY}"), ..Leaf::default() };
        assert_eq!(check_leaf(&prod), Err(SignatureError::WrongEnvironment));
        let request = signed(Method::Post, URL, BODY, &prod.pem());
        assert!(check(&trust(CertificateProfile::for_environment("PRD")), &request, URL).is_ok());
        let nonprod = signed(Method::Post, URL, BODY, &Leaf::default().pem());
        assert_eq!(check(&trust(CertificateProfile::for_environment("PRD")), &nonprod, URL), Err(SignatureError::WrongEnvironment));
        let odd = Leaf { cn: format!("energydip-nonprod {PARTY}"), ..Leaf::default() };
        assert_eq!(check_leaf(&odd), Err(SignatureError::BadSubject));
    }

    #[test]
    fn signature_over_another_body_is_refused() {
        let request = signed(Method::Post, URL, BODY, &Leaf::default().pem());
        let tampered = request.clone().with_body(br#"[{"payload":{"CommonBlock":{"x":1}}}]"#.to_vec());
        assert_eq!(check(&trust(CertificateProfile::NonProduction), &tampered, URL), Err(SignatureError::ContentHashMismatch));
        // A matching hash header does not help: the signature covers the hash.
        let rehashed = set_header(tampered.clone(), headers::CONTENT_HASH, &content_hash(&tampered.body));
        assert_eq!(check(&trust(CertificateProfile::NonProduction), &rehashed, URL), Err(SignatureError::BadSignature));
    }

    #[test]
    fn signature_date_must_be_the_signed_one_and_recent() {
        let trust = trust(CertificateProfile::NonProduction);
        let request = signed(Method::Post, URL, BODY, &Leaf::default().pem());
        let tampered = set_header(request.clone(), headers::SIGNATURE_DATE, "2026-04-01T12:00:01.000Z");
        assert_eq!(check(&trust, &tampered, URL), Err(SignatureError::BadSignature));
        let garbled = set_header(request.clone(), headers::SIGNATURE_DATE, "yesterday");
        assert_eq!(check(&trust, &garbled, URL), Err(SignatureError::BadDate));
        let received = Received::from_request(&request, URL).unwrap();
        let late = NOW + SIGNATURE_DATE_TOLERANCE_MS + 1;
        assert_eq!(block_on(verify(&RsaVerifier, &trust, &received, PARTY, late)), Err(SignatureError::Stale));
        let early = NOW - SIGNATURE_DATE_TOLERANCE_MS - 1;
        assert_eq!(block_on(verify(&RsaVerifier, &trust, &received, PARTY, early)), Err(SignatureError::Stale));
        assert!(block_on(verify(&RsaVerifier, &trust, &received, PARTY, NOW + SIGNATURE_DATE_TOLERANCE_MS)).is_ok());
    }

    #[test]
    fn signature_binds_the_url_and_the_verb() {
        let trust = trust(CertificateProfile::NonProduction);
        let request = signed(Method::Post, URL, BODY, &Leaf::default().pem());
        assert_eq!(check(&trust, &request, "https://hub.example.com:8443/dip-channel/IF-022"), Err(SignatureError::BadSignature));
        assert_eq!(check(&trust, &request, "https://hub.example.com/dip-channel/IF-021"), Err(SignatureError::BadSignature));
        // Destination is compared lower-cased (§10.3.1).
        assert!(check(&trust, &request, &URL.to_uppercase()).is_ok());
        let mut as_delete = request.clone();
        as_delete.method = Method::Delete;
        assert_eq!(check(&trust, &as_delete, URL), Err(SignatureError::BadSignature));
    }

    #[test]
    fn signature_on_an_empty_body_covers_empty_json() {
        let request = signed(Method::Delete, URL, b"", &Leaf::default().pem());
        assert_eq!(request.header(headers::CONTENT_HASH), Some(content_hash(b"{}").as_str()));
        assert!(check(&trust(CertificateProfile::NonProduction), &request, URL).is_ok());
    }

    #[test]
    fn signature_certificate_may_be_base64_der() {
        let leaf = Leaf::default();
        let request = set_header(signed(Method::Post, URL, BODY, &leaf.pem()), headers::SIGNATURE_CERTIFICATE, &B64.encode(leaf.der()));
        assert!(check(&trust(CertificateProfile::NonProduction), &request, URL).is_ok());
    }

    #[test]
    fn signature_headers_missing_are_named() {
        let request = signed(Method::Post, URL, BODY, &Leaf::default().pem());
        for name in [headers::SIGNATURE, headers::SIGNATURE_DATE, headers::CONTENT_HASH, headers::SIGNATURE_CERTIFICATE] {
            let mut without = request.clone();
            without.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
            assert_eq!(check(&trust(CertificateProfile::NonProduction), &without, URL).unwrap_err(), SignatureError::MissingHeader(name));
            let blank = set_header(request.clone(), name, " ");
            assert_eq!(check(&trust(CertificateProfile::NonProduction), &blank, URL).unwrap_err(), SignatureError::MissingHeader(name));
        }
    }

    #[test]
    fn signature_garbage_headers_are_refused_without_panic() {
        let trust = trust(CertificateProfile::NonProduction);
        let leaf = Leaf::default();
        let request = signed(Method::Post, URL, BODY, &leaf.pem());
        let der = leaf.der();
        let garbage: Vec<String> = vec![
            "%%%".into(),
            "AAAA".into(),
            "=".into(),
            "\u{e9}\u{e9}".into(),
            B64.encode(b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"),
            B64.encode(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
            B64.encode(&der[..der.len() / 2]),
            B64.encode([&der[..], b"\0"].concat()),
            B64.encode([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
            B64.encode([0x30, 0x00]),
            "A".repeat(10_000),
        ];
        for value in &garbage {
            for name in [headers::SIGNATURE, headers::SIGNATURE_DATE, headers::CONTENT_HASH, headers::SIGNATURE_CERTIFICATE] {
                let result = check(&trust, &set_header(request.clone(), name, value), URL);
                assert!(result.is_err(), "{name}: {value} accepted");
            }
        }
        let mut flipped = der.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        let request = set_header(request, headers::SIGNATURE_CERTIFICATE, &B64.encode(flipped));
        assert_eq!(check(&trust, &request, URL), Err(SignatureError::UntrustedIssuer));
    }

    #[test]
    fn signature_from_openssl_is_accepted() {
        // Certificates and signature made by OpenSSL (tests/fixtures/dip/README.md).
        const SIGNED_AT: &str = "2026-12-02T03:43:46.000Z";
        const SIGNATURE: &str = "q4IuT0o9WWs2p8V/1HrQIW9SppS5oTLbhbOkyg831ZfPS4GI5OMgu3SynAUjO/UrkeBmWd02gh+wzzLcemSX5sALrmRJ5YciArsJOA4JyLG6IZuU3PDAsCbqGSiZoYbCTVUIIfoU7FTIYkkZt/VZS39MI4obfYYqEwFY+Z/sJ08sPiUaCVuhYotKNMMPuA1YNeF/qQP5WkZP4yLNqgbLDP+2Kdj+ELY3fDSdVahUrARylrdaaSHaD51PiMexdpdnpOBAT3tOOoh5Y9xM3q3EWhW5yqvjuQZIjwXpeeL2tgHpSDX5IVLdv8jjLa9June1/jRqmSnPB9bzsa1US6jJoA==";
        let trust = Trust {
            anchors: vec![TrustAnchor::from_pem(include_str!("../../tests/fixtures/dip/openssl-ca.pem")).unwrap()],
            revoked: BTreeSet::new(),
            profile: CertificateProfile::NonProduction,
        };
        let body = br#"[{"payload":{}}]"#;
        let certificate = B64.encode(include_str!("../../tests/fixtures/dip/openssl-leaf.pem"));
        let headers = SignatureHeaders { signature: SIGNATURE, date: SIGNED_AT, content_hash: &content_hash(body), certificate: &certificate };
        let received = Received { method: "POST", url: "https://hub.example.com/dip-channel/IF-021", headers, body };
        let now = parse_rfc3339(SIGNED_AT).unwrap() + 2000;
        assert_eq!(block_on(verify(&RsaVerifier, &trust, &received, "1000000002", now)).unwrap().dip_id, "1000000002");
    }

    #[test]
    fn trust_anchor_reads_the_admin_body() {
        let body = serde_json::to_vec(&CertificatePem { certificate_pem: ca_pem(CA_KEY) }).unwrap();
        assert_eq!(TrustAnchor::from_admin_json(&body), TrustAnchor::from_pem(&ca_pem(CA_KEY)));
        assert_eq!(TrustAnchor::from_admin_json(br#"{"certificatePem": "nope"}"#), Err(SignatureError::BadCertificate));
        assert_eq!(TrustAnchor::from_admin_json(br#"{"pem": "x"}"#), Err(SignatureError::BadCertificate));
        assert_eq!(TrustAnchor::from_pem(&Leaf::default().pem().replace("CERTIFICATE", "X509 CRL")), Err(SignatureError::BadCertificate));
        assert!(TrustAnchor::from_pem(&format!("\n  {}\n", ca_pem(CA_KEY))).is_ok());
        assert!(SignatureError::WrongParty.to_string().contains("another DIP participant"));
    }
}

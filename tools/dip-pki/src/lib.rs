//! A DIP PKI for tests and the demo: a CA that issues participants' signing certificates in
//! the DSD002 10.5.6 profile (CN `energydip-nonprod.<DIPID>`), with the validity and key
//! usage a test asks for, and requests signed the way participants sign them (the hub's own
//! `dip::signature::sign_headers`, so both sides share one definition of the signature).

use core::str::FromStr;
use core::time::Duration;

use der::asn1::UtcTime;
use der::pem::LineEnding;
use der::{Decode, EncodePem};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rsa::sha2::Sha256;
use rsa::RsaPrivateKey;
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::ext::pkix::{KeyUsage, KeyUsages};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use x509_cert::Certificate;

pub const DAY_MS: u64 = 86_400_000;

/// A fresh RSA key (PKCS#8 PEM). 2048 bits: the size DIP certificates use.
pub fn new_key() -> String {
    let key = RsaPrivateKey::new(&mut rand_core::OsRng, 2048).expect("RSA key generation");
    key.to_pkcs8_pem(LineEnding::LF).expect("PKCS#8").to_string()
}

fn key(pem: &str) -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_pem(pem).expect("a PKCS#8 RSA key")
}

fn time(ms: u64) -> Time {
    Time::UtcTime(UtcTime::from_unix_duration(Duration::from_millis(ms)).expect("a date UTCTime can hold"))
}

/// A certificate authority: its key and self-signed certificate.
pub struct Ca {
    pub name: String,
    pub key_pem: String,
    pub certificate_pem: String,
}

impl Ca {
    /// A CA named `name` (an RFC 4514 string) with `key_pem`, valid ten years around `now_ms`.
    pub fn new(name: &str, key_pem: &str, now_ms: u64) -> Ca {
        let k = key(key_pem);
        let signer = SigningKey::<Sha256>::new(k.clone());
        let spki = SubjectPublicKeyInfoOwned::from_key(k.to_public_key()).expect("SPKI");
        let validity = Validity { not_before: time(now_ms - 365 * DAY_MS), not_after: time(now_ms + 3650 * DAY_MS) };
        let builder = CertificateBuilder::new(Profile::Root, SerialNumber::from(1u32), validity, Name::from_str(name).expect("CA name"), spki, &signer)
            .expect("CA builder");
        let certificate_pem = builder.build::<rsa::pkcs1v15::Signature>().expect("CA certificate").to_pem(LineEnding::LF).expect("PEM");
        Ca { name: name.into(), key_pem: key_pem.into(), certificate_pem }
    }

    /// A signing certificate for `party_key_pem`, as `leaf` describes it.
    pub fn issue(&self, party_key_pem: &str, leaf: &Leaf) -> String {
        let validity = Validity { not_before: time(leaf.not_before_ms), not_after: time(leaf.not_after_ms) };
        let subject = Name::from_str(&format!("CN={},O=Switchyard demo,C=GB", leaf.common_name)).expect("subject");
        let spki = SubjectPublicKeyInfoOwned::from_key(key(party_key_pem).to_public_key()).expect("SPKI");
        let profile = Profile::Manual { issuer: Some(Name::from_str(&self.name).expect("issuer")) };
        let signer = SigningKey::<Sha256>::new(key(&self.key_pem));
        let mut builder = CertificateBuilder::new(profile, SerialNumber::from(leaf.serial), validity, subject, spki, &signer).expect("builder");
        let usage = if leaf.signing_usage { KeyUsages::DigitalSignature | KeyUsages::NonRepudiation } else { KeyUsages::KeyEncipherment.into() };
        builder.add_extension(&KeyUsage(usage)).expect("key usage");
        builder.build::<rsa::pkcs1v15::Signature>().expect("certificate").to_pem(LineEnding::LF).expect("PEM")
    }
}

/// What a participant's certificate says.
#[derive(Debug, Clone)]
pub struct Leaf {
    pub common_name: String,
    pub not_before_ms: u64,
    pub not_after_ms: u64,
    pub signing_usage: bool,
    pub serial: u32,
}

impl Leaf {
    /// The certificate the hub accepts for `dip_id` in a non-production environment at `now_ms`.
    pub fn for_party(dip_id: &str, now_ms: u64) -> Leaf {
        Leaf {
            common_name: format!("energydip-nonprod.{dip_id}"),
            not_before_ms: now_ms - 30 * DAY_MS,
            not_after_ms: now_ms + 365 * DAY_MS,
            signing_usage: true,
            serial: (now_ms % 1_000_000_007) as u32,
        }
    }
}

/// The lower-case hex SHA-256 of a PEM certificate's DER (the revocation list's key).
pub fn fingerprint(certificate_pem: &str) -> String {
    let (_, der) = der::pem::decode_vec(certificate_pem.as_bytes()).expect("PEM certificate");
    Certificate::from_der(&der).expect("a certificate");
    switchyard_core::dip::signature::fingerprint(&der)
}

/// The four signature headers of a request to `url`, signed at `now_ms` with `key_pem`.
pub fn sign(key_pem: &str, certificate_pem: &str, method: &str, url: &str, body: &[u8], now_ms: u64) -> Vec<(String, String)> {
    let signer = switchyard_core::common::signing::RsaSigner::from_pkcs8(key_pem.as_bytes()).expect("signing key");
    let headers = block_on(switchyard_core::dip::signature::sign_headers(&signer, method, url, body, now_ms, certificate_pem)).expect("signing");
    headers.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// The core's futures here never wait on I/O: poll once, to completion.
fn block_on<F: core::future::Future>(f: F) -> F::Output {
    let waker = core::task::Waker::noop();
    let mut cx = core::task::Context::from_waker(waker);
    let mut f = core::pin::pin!(f);
    match f.as_mut().poll(&mut cx) {
        core::task::Poll::Ready(v) => v,
        core::task::Poll::Pending => panic!("a signing future waited"),
    }
}

/// Checks a call as a participant receiving it would (10.4): signed now, over this URL and
/// body, by a certificate `ca_pem` issued for `party`.
pub fn verify(ca_pem: &str, method: &str, url: &str, headers: &[(String, String)], body: &[u8], party: &str, now_ms: u64) -> Result<(), String> {
    use switchyard_core::common::http::{HttpRequest, Method};
    use switchyard_core::dip::signature::{self, CertificateProfile, Trust, TrustAnchor};
    let anchor = TrustAnchor::from_pem(ca_pem).map_err(|e| e.to_string())?;
    let trust = Trust { anchors: vec![anchor], revoked: Default::default(), profile: CertificateProfile::NonProduction };
    let mut request = HttpRequest::new(Method::parse(method), url).with_body(body.to_vec());
    for (k, v) in headers {
        request = request.with_header(&k.to_ascii_lowercase(), v.clone());
    }
    let received = signature::Received::from_request(&request, url).map_err(|e| e.to_string())?;
    block_on(signature::verify(&switchyard_core::common::signing::RsaVerifier, &trust, &received, party, now_ms)).map(|_| ()).map_err(|e| e.to_string())
}

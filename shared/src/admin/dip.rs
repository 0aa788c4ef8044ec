//! The operator's rules for DIP configuration (the DIP contract, "Admin configuration"): what
//! a valid participant, channel, trust anchor, revocation and MAMS history look like, and
//! which writes each amounts to. The admin function performs them.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::{invalid, json, AdminError, Write};
use crate::common::auth::secret;
use crate::common::store::keys;
use crate::dip::catalogue::Catalogue;
use crate::dip::config::{self, ApiKeys, ChannelConfig, Mams, Participant, Revocation, TrustAnchor};
use crate::ports::Entropy;

fn parse<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, AdminError> {
    crate::common::json::parse(body).map_err(|e| invalid(format!("invalid {what}: {e}")))
}

fn check_roles(roles: &[String], what: &str) -> Result<(), AdminError> {
    match roles.iter().find(|r| !config::valid_role(r)) {
        Some(bad) => Err(invalid(format!("{what}: {bad:?} is not a DIP role (3-5 upper-case letters)"))),
        None => Ok(()),
    }
}

/// `PUT /admin/v1/dip/participants/{DIPID}`.
pub fn participant_writes(dip_id: &str, body: &[u8]) -> Result<(Participant, Vec<Write>), AdminError> {
    if !config::valid_dip_id(dip_id) {
        return Err(invalid("DIPID must be 10 letters or digits (DT-006)"));
    }
    let p: Participant = parse(body, "participant")?;
    if p.name.trim().is_empty() {
        return Err(invalid("name is required"));
    }
    check_roles(&p.roles, "roles")?;
    match p.dcp.as_deref() {
        Some(dcp) if !config::valid_dip_id(dcp) => return Err(invalid("DIPConnectionProviderID must be a DIP ID (DT-006) or null")),
        Some(dcp) if dcp == dip_id => return Err(invalid("a participant is not its own DIP connection provider")),
        _ => {}
    }
    let writes = alloc::vec![(keys::dip_participant(dip_id), json(&p))];
    Ok((p, writes))
}

/// `POST /admin/v1/dip/participants/{DIPID}/keys/{slot}`: a fresh key in one slot; the other
/// slot keeps working. Returns the key (shown once) and the slots to store.
pub fn rotate_api_key(dip_id: &str, slot: &str, mut keys: ApiKeys, entropy: &impl Entropy) -> Result<(String, ApiKeys), AdminError> {
    if slot != "primary" && slot != "secondary" {
        return Err(invalid("slot must be primary or secondary"));
    }
    let key = crate::dip::auth::mint_api_key(dip_id, slot, entropy)?;
    let mut salt = [0u8; 16];
    entropy.fill(&mut salt)?;
    let hash = Some(secret::hash(&key, &salt));
    if slot == "primary" {
        keys.primary = hash;
    } else {
        keys.secondary = hash;
    }
    Ok((key, keys))
}

/// `PUT /admin/v1/dip/channels/{id}`; `catalogue` says which ids exist (else `None`: 404).
pub fn channel_writes(catalogue: &Catalogue, channel: &str, body: &[u8]) -> Result<Option<(ChannelConfig, Vec<Write>)>, AdminError> {
    if catalogue.channel(channel).is_none() {
        return Ok(None);
    }
    let c: ChannelConfig = parse(body, "channel")?;
    check_roles(&c.sender_roles, "senderRoles")?;
    if c.sender_roles.is_empty() {
        return Err(invalid("senderRoles must name at least one role"));
    }
    let a = &c.addressing;
    if let Some(always) = &a.always {
        check_roles(&always.roles, "addressing.always.roles")?;
        if let Some(bad) = always.dip_ids.iter().find(|d| !config::valid_dip_id(d)) {
            return Err(invalid(format!("addressing.always.DIPIDs: {bad:?} is not a DIP ID")));
        }
    }
    if let Some(secondary) = &a.secondary {
        check_roles(&secondary.roles, "addressing.secondary.roles")?;
        if let Some(field) = &secondary.addressing_date_field {
            check_pointer(field, "addressing.secondary.addressingDateField")?;
        }
    }
    if let Some(primary) = &a.primary {
        check_roles(&primary.roles, "addressing.primary.roles")?;
    }
    for (role, pointers) in &c.obfuscation {
        check_roles(core::slice::from_ref(role), "obfuscation")?;
        for p in pointers {
            check_pointer(p, "obfuscation")?;
        }
    }
    if c.dead_letter_after_days.is_some_and(|d| !(1..=365).contains(&d)) {
        return Err(invalid("deadLetterAfterDays must be 1 to 365"));
    }
    let writes = alloc::vec![(keys::dip_channel(channel), json(&c))];
    Ok(Some((c, writes)))
}

/// RFC 6901: empty, or `/`-separated reference tokens with `~` escaped as `~0`/`~1`.
fn check_pointer(p: &str, what: &str) -> Result<(), AdminError> {
    let escapes_ok = p.split('~').skip(1).all(|rest| rest.starts_with('0') || rest.starts_with('1'));
    if !p.starts_with('/') || !escapes_ok {
        return Err(invalid(format!("{what}: {p:?} is not a JSON Pointer into payload")));
    }
    Ok(())
}

/// `PUT /admin/v1/dip/trust-anchors/{anchorId}`. The certificate must parse; whether it
/// signed a participant's certificate is checked per request.
pub fn trust_anchor_writes(anchor_id: &str, body: &[u8]) -> Result<(TrustAnchor, Vec<Write>), AdminError> {
    if !super::valid_name(anchor_id) {
        return Err(invalid("anchorId must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' or '-'"));
    }
    let a: TrustAnchor = parse(body, "trust anchor")?;
    if !a.certificate_pem.contains("-----BEGIN CERTIFICATE-----") {
        return Err(invalid("certificatePem must be a PEM certificate"));
    }
    let writes = alloc::vec![(keys::dip_trust_anchor(anchor_id), json(&a))];
    Ok((a, writes))
}

/// `PUT /admin/v1/dip/revoked-certificates/{sha256}`.
pub fn revocation_writes(sha256_hex: &str, body: &[u8]) -> Result<(Revocation, Vec<Write>), AdminError> {
    if sha256_hex.len() != 64 || !sha256_hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(invalid("the path names a certificate by the lower-case hex SHA-256 of its DER"));
    }
    let r: Revocation = parse(body, "revocation")?;
    if !config::REVOCATION_REASONS.contains(&r.reason.as_str()) {
        return Err(invalid(format!("reason must be one of {}", config::REVOCATION_REASONS.join(", "))));
    }
    let writes = alloc::vec![(keys::dip_revoked(sha256_hex), json(&r))];
    Ok((r, writes))
}

/// The writes of a seed bundle's `dip` section: configuration writes, and the MAMS rows,
/// which go to the address table (not the configuration store). `catalogue` is the one the
/// hub holds (needed only when the bundle configures channels).
pub fn bundle_writes(dip: &crate::admin::bundle::DipBundle, catalogue: Option<&Catalogue>, entropy: &impl Entropy) -> Result<(Vec<Write>, Vec<MamsRow>), AdminError> {
    let mut writes = Vec::new();
    let at = |what: &str, e: AdminError| match e {
        AdminError::Invalid(m) => invalid(format!("dip.{what}: {m}")),
        other => other,
    };
    let bundled = match &dip.catalogue {
        Some(c) => {
            let (c, w) = catalogue_writes(&json(c)).map_err(|e| at("catalogue", e))?;
            writes.extend(w);
            Some(c)
        }
        None => None,
    };
    let catalogue = bundled.as_ref().or(catalogue);
    for a in &dip.trust_anchors {
        let body = json(&TrustAnchor { certificate_pem: a.certificate_pem.clone() });
        writes.extend(trust_anchor_writes(&a.anchor_id, &body).map_err(|e| at("trustAnchors", e))?.1);
    }
    for p in &dip.participants {
        writes.extend(participant_writes(&p.dip_id, &json(&p.entry)).map_err(|e| at("participants", e))?.1);
        let mut slots = ApiKeys::default();
        for (slot, key) in [("primary", &p.keys.primary), ("secondary", &p.keys.secondary)] {
            let Some(key) = key else { continue };
            if crate::dip::auth::api_key_owner(key) != Some((p.dip_id.as_str(), slot)) {
                return Err(invalid(format!("dip.participants: {}'s {slot} key must read dip.{}.{slot}.<64 hex digits>", p.dip_id, p.dip_id)));
            }
            let mut salt = [0u8; 16];
            entropy.fill(&mut salt)?;
            let hash = Some(secret::hash(key, &salt));
            if slot == "primary" { slots.primary = hash } else { slots.secondary = hash }
        }
        if slots != ApiKeys::default() {
            writes.push((keys::dip_api_keys(&p.dip_id), json(&slots)));
        }
    }
    if !dip.channels.is_empty() {
        let catalogue = catalogue.ok_or_else(|| invalid("dip.channels: load the catalogue first (PUT /admin/v1/dip/catalogue)"))?;
        for c in &dip.channels {
            let written = channel_writes(catalogue, &c.id, &json(&c.config)).map_err(|e| at("channels", e))?;
            writes.extend(written.ok_or_else(|| invalid(format!("dip.channels: {} is not a channel of the catalogue", c.id)))?.1);
        }
    }
    let mut rows = Vec::new();
    for m in &dip.mams {
        let body = json(&Mams { parties: m.parties.clone() });
        rows.push(mams_writes(&m.mpan_core, &body).map_err(|e| at("mams", e))?.1);
    }
    Ok((writes, rows))
}

/// One record of the address table: an MPAN core and its history's JSON.
pub type MamsRow = (String, Vec<u8>);

/// `PUT /admin/v1/dip/mams/{MPANCore}`: the whole history, periods checked one by one. The
/// row goes to the address table, never through the configuration store.
pub fn mams_writes(mpan_core: &str, body: &[u8]) -> Result<(Mams, MamsRow), AdminError> {
    if !config::valid_mpan_core(mpan_core) {
        return Err(invalid("MPANCore must be 13 digits"));
    }
    let m: Mams = parse(body, "MAMS entry")?;
    check_mams(mpan_core, &m)?;
    let row = (mpan_core.to_string(), json(&m));
    Ok((m, row))
}

fn check_mams(mpan_core: &str, m: &Mams) -> Result<(), AdminError> {
    if !config::valid_mpan_core(mpan_core) {
        return Err(invalid("MPANCore must be 13 digits"));
    }
    for (i, p) in m.parties.iter().enumerate() {
        let at = |what: &str| invalid(format!("parties[{i}]: {what}"));
        if !config::valid_role(&p.role_id) {
            return Err(at("roleID must be a DIP role"));
        }
        if !config::valid_dip_id(&p.dip_id) {
            return Err(at("DIPID must be a DIP ID"));
        }
        let from = crate::common::time::parse_rfc3339(&p.effective_from).ok_or_else(|| at("effectiveFrom must be an RFC 3339 date-time"))?;
        if let Some(to) = &p.effective_to {
            let to = crate::common::time::parse_rfc3339(to).ok_or_else(|| at("effectiveTo must be an RFC 3339 date-time or null"))?;
            if to <= from {
                return Err(at("effectiveTo must be after effectiveFrom"));
            }
        }
    }
    Ok(())
}

/// Lines one `POST /admin/v1/dip/mams` takes at most, and bytes: one call stays well inside a
/// Worker's memory and CPU, and the loader sends a file of a million MPANs as ~100 calls.
pub const MAMS_BULK_MAX_LINES: usize = 10_000;
pub const MAMS_BULK_MAX_BYTES: usize = 8 * 1_048_576;

/// One line of a bulk load: the single PUT's body with its MPAN core beside it.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MamsLine {
    #[serde(rename = "MPANCore")]
    mpan_core: String,
    parties: Vec<config::MamsParty>,
}

/// `POST /admin/v1/dip/mams`: NDJSON, one `{"MPANCore": ..., "parties": [...]}` per line, each
/// checked as the single PUT checks it. All or nothing: the first bad line rejects the whole
/// request, named by its line number (from 1; blank lines are skipped but counted). Of two
/// lines for one MPAN the later wins, as two PUTs in that order would.
pub fn mams_bulk_writes(body: &[u8]) -> Result<Vec<MamsRow>, AdminError> {
    if body.len() > MAMS_BULK_MAX_BYTES {
        return Err(invalid(format!("a MAMS load takes at most {MAMS_BULK_MAX_BYTES} bytes and {MAMS_BULK_MAX_LINES} lines per request; split the file")));
    }
    let mut rows = Vec::new();
    for (i, line) in body.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if rows.len() == MAMS_BULK_MAX_LINES {
            return Err(invalid(format!("a MAMS load takes at most {MAMS_BULK_MAX_LINES} lines and {MAMS_BULK_MAX_BYTES} bytes per request; split the file")));
        }
        let at = |e: AdminError| match e {
            AdminError::Invalid(d) => invalid(format!("line {}: {d}", i + 1)),
            other => other,
        };
        let l: MamsLine = parse(line, "MAMS line").map_err(at)?;
        let m = Mams { parties: l.parties };
        check_mams(&l.mpan_core, &m).map_err(at)?;
        rows.push((l.mpan_core, json(&m)));
    }
    if rows.is_empty() {
        return Err(invalid("the body holds no MAMS line (NDJSON: one {\"MPANCore\": ..., \"parties\": [...]} per line)"));
    }
    Ok(rows)
}

/// `PUT /admin/v1/dip/catalogue`: the importer's output, checked for shape.
pub fn catalogue_writes(body: &[u8]) -> Result<(Catalogue, Vec<Write>), AdminError> {
    let c: Catalogue = serde_json::from_slice(body).map_err(|e| invalid(format!("invalid catalogue: {e}")))?;
    if c.channels.is_empty() {
        return Err(invalid("the catalogue names no channel"));
    }
    let id = crate::dip::signature::fingerprint(body);
    Ok((c, alloc::vec![(keys::DIP_CATALOGUE.to_string(), body.to_vec()), (keys::DIP_CATALOGUE_ID.to_string(), id.into_bytes())]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dip::auth::{api_key_matches, api_key_owner};
    use crate::ports::PortResult;

    struct Counter;
    impl Entropy for Counter {
        fn fill(&self, buf: &mut [u8]) -> PortResult<()> {
            buf.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8 ^ 0x5a);
            Ok(())
        }
    }

    #[test]
    fn api_key_slots_rotate_independently_and_name_their_owner() {
        let (primary, keys) = rotate_api_key("1000000001", "primary", ApiKeys::default(), &Counter).unwrap();
        let (secondary, keys) = rotate_api_key("1000000001", "secondary", keys, &Counter).unwrap();
        assert_eq!(api_key_owner(&primary), Some(("1000000001", "primary")));
        assert!(api_key_matches(&keys, &primary) && api_key_matches(&keys, &secondary));
        let (_, rotated) = rotate_api_key("1000000001", "primary", keys.clone(), &Counter).unwrap();
        // Same entropy, same key: rotation still replaced the hash under a new salt.
        assert_eq!(rotated.secondary, keys.secondary);
        let mut tampered = primary.clone();
        tampered.replace_range(primary.len() - 1.., if primary.ends_with('0') { "1" } else { "0" });
        assert!(!api_key_matches(&keys, &tampered));
        assert!(api_key_owner("dip.1000000001.tertiary.x").is_none() && api_key_owner("garbage").is_none());
        assert!(rotate_api_key("1000000001", "tertiary", ApiKeys::default(), &Counter).is_err());
    }

    #[test]
    fn a_bundle_dip_section_reads_and_checks_its_keys() {
        let key = format!("dip.1000000001.primary.{}", "ab".repeat(32));
        let bundle: crate::admin::bundle::Bundle = serde_json::from_value(serde_json::json!({ "dip": {
            "participants": [{ "DIPID": "1000000001", "name": "Bars", "roles": ["SUP"], "DIPConnectionProviderID": null, "keys": { "primary": key } }],
            "mams": [{ "MPANCore": "1234567890123", "parties": [] }] } }))
        .unwrap();
        let dip = bundle.dip.as_ref().unwrap();
        let (writes, rows) = bundle_writes(dip, None, &Counter).unwrap();
        assert_eq!(rows.iter().map(|(mpan, _)| mpan.as_str()).collect::<Vec<_>>(), ["1234567890123"], "MAMS goes to the address table");
        assert!(writes.iter().all(|(k, _)| k.starts_with("dip/")), "and never through the configuration store");
        let slots: ApiKeys = serde_json::from_slice(&writes.iter().find(|(k, _)| k == &keys::dip_api_keys("1000000001")).unwrap().1).unwrap();
        assert!(crate::dip::auth::api_key_matches(&slots, &key));
        let mut wrong = dip.clone();
        wrong.participants[0].keys.primary = Some(format!("dip.1000000002.primary.{}", "ab".repeat(32)));
        assert!(bundle_writes(&wrong, None, &Counter).is_err(), "a key names its owner");
        let mut channels = dip.clone();
        channels.channels.push(serde_json::from_value(serde_json::json!({ "id": "IF-021", "senderRoles": ["SDS"] })).unwrap());
        assert!(bundle_writes(&channels, None, &Counter).is_err(), "channels need the catalogue");
        channels.catalogue = Some(serde_json::json!({ "release": "t", "channels": { "IF-021": { "events": {} } } }));
        let (writes, _) = bundle_writes(&channels, None, &Counter).expect("the bundle brings its own catalogue");
        assert!(writes.iter().any(|(k, _)| k == keys::DIP_CATALOGUE) && writes.iter().any(|(k, _)| k == &keys::dip_channel("IF-021")));
    }

    #[test]
    fn participants_channels_and_mams_are_checked() {
        assert!(participant_writes("1000000001", br#"{"name":"Bars Energy","roles":["SUP"],"DIPConnectionProviderID":null}"#).is_ok());
        assert!(participant_writes("1000000001", br#"{"name":"X","roles":["sup"]}"#).is_err());
        assert!(participant_writes("100000000", br#"{"name":"X","roles":["SUP"]}"#).is_err());
        assert!(participant_writes("1000000001", br#"{"name":"X","roles":[],"DIPConnectionProviderID":"1000000001"}"#).is_err());
        let mut cat = Catalogue { release: "t".into(), channels: Default::default() };
        cat.channels.insert("IF-021".into(), crate::dip::catalogue::Channel { events: Default::default() });
        let body = br#"{"senderRoles":["SDS"],"addressing":{"always":{"DIPIDs":["1000000001"],"roles":["LDSO"]},
            "secondary":{"roles":["SUP"],"addressingDateField":"/CustomBlock/B900/0/x"},"primary":{"roles":["MSS"]}},
            "obfuscation":{"LDSO":["/CustomBlock/B044/issuingDataServiceDIPID"]},"workflowCorrelationID":false}"#;
        assert!(channel_writes(&cat, "IF-021", body).unwrap().is_some());
        assert!(channel_writes(&cat, "IF-999", body).unwrap().is_none(), "outside the catalogue");
        assert!(channel_writes(&cat, "IF-021", br#"{"senderRoles":["SDS"],"obfuscation":{"LDSO":["no-slash"]}}"#).is_err());
        assert!(channel_writes(&cat, "IF-021", br#"{"addressing":{}}"#).is_err(), "senderRoles is required");
        let mams = br#"{"parties":[{"roleID":"SUP","DIPID":"1000000002","effectiveFrom":"2024-01-01T00:00:00+00:00","effectiveTo":null}]}"#;
        assert!(mams_writes("1234567890123", mams).is_ok());
        assert!(mams_writes("123456789012", mams).is_err());
        let backwards = br#"{"parties":[{"roleID":"SUP","DIPID":"1000000002","effectiveFrom":"2024-01-01T00:00:00+00:00","effectiveTo":"2023-01-01T00:00:00+00:00"}]}"#;
        assert!(mams_writes("1234567890123", backwards).is_err());
        assert!(revocation_writes(&"a".repeat(64), br#"{"reason":"keyCompromise"}"#).is_ok());
        assert_eq!(mams_writes("1234567890123", mams).unwrap().1 .0, "1234567890123", "the row is keyed by the MPAN core alone");
        assert!(revocation_writes(&"A".repeat(64), br#"{"reason":"keyCompromise"}"#).is_err());
        assert!(revocation_writes(&"a".repeat(64), br#"{"reason":"because"}"#).is_err());
    }

    fn bad(r: Result<Vec<MamsRow>, AdminError>) -> String {
        match r {
            Err(AdminError::Invalid(d)) => d,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn a_bulk_load_is_checked_line_by_line_and_names_the_bad_line() {
        let line = |mpan: &str, dip: &str| alloc::format!(r#"{{"MPANCore":"{mpan}","parties":[{{"roleID":"SUP","DIPID":"{dip}","effectiveFrom":"2024-01-01T00:00:00+00:00","effectiveTo":null}}]}}"#);
        let body = alloc::format!("{}\n\n{}\n{}\n", line("1900000000011", "1000000002"), line("1900000000022", "1000000003"), line("1900000000011", "1000000004"));
        let rows = mams_bulk_writes(body.as_bytes()).unwrap();
        assert_eq!(rows.len(), 3, "blank lines are skipped");
        let last: Mams = serde_json::from_slice(&rows[2].1).unwrap();
        assert_eq!((rows[2].0.as_str(), last.parties[0].dip_id.as_str()), ("1900000000011", "1000000004"), "in file order, so the later line wins");
        // Stored exactly as the single PUT stores the same history.
        let single = mams_writes("1900000000022", br#"{"parties":[{"roleID":"SUP","DIPID":"1000000003","effectiveFrom":"2024-01-01T00:00:00+00:00","effectiveTo":null}]}"#).unwrap().1;
        assert_eq!(rows[1], single);

        let broken = alloc::format!("{}\n{}\n", line("1900000000011", "1000000002"), line("1900000000022", "short"));
        assert_eq!(bad(mams_bulk_writes(broken.as_bytes())), "line 2: parties[0]: DIPID must be a DIP ID");
        let short_mpan = alloc::format!("\n\n{}", line("190000000001", "1000000002"));
        assert_eq!(bad(mams_bulk_writes(short_mpan.as_bytes())), "line 3: MPANCore must be 13 digits");
        assert!(bad(mams_bulk_writes(b"{\"MPANCore\":\"1900000000011\",\"parties\":[],\"extra\":1}")).starts_with("line 1: invalid MAMS line"));
        assert!(bad(mams_bulk_writes(b"\n \n")).contains("no MAMS line"));
        let too_many = (0..=MAMS_BULK_MAX_LINES).map(|i| line(&alloc::format!("19{i:011}"), "1000000002")).collect::<Vec<_>>().join("\n");
        assert!(bad(mams_bulk_writes(too_many.as_bytes())).contains("at most 10000 lines"));
        assert!(bad(mams_bulk_writes(&alloc::vec![b' '; MAMS_BULK_MAX_BYTES + 1])).contains("8388608 bytes"));
    }
}

//! Addressing (DSD002 7.7 and the DIP contract): who receives a message on a channel.
//! Always recipients are configured, secondary ones come from MAMS for the message's MPAN at
//! its addressing date, primary ones are named by the sender and checked. A message goes once
//! to each (DIP ID, role) pair, and `A0` records what was resolved.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::Value;

use super::codes::Msg;
use super::config::{ChannelConfig, Mams, Participant, Secondary};
use crate::common::time;

/// One copy of a message: to a participant in one of its roles.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Recipient {
    pub dip_id: String,
    pub role: String,
}

/// The recipients of a message and the `A0` block the hub writes before archiving (7.7.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    pub recipients: Vec<Recipient>,
    pub primary: Vec<String>,
    pub secondary: Vec<String>,
    pub always: Vec<String>,
}

impl Resolved {
    fn add(&mut self, dip_id: &str, role: &str) {
        let r = Recipient { dip_id: dip_id.into(), role: role.into() };
        if !self.recipients.contains(&r) {
            self.recipients.push(r);
        }
    }

    /// `A0` as the recipients see it.
    pub fn a0(&self) -> Value {
        serde_json::json!({ "primaryRecipients": self.primary, "secondaryRecipients": self.secondary, "always": self.always })
    }
}

/// Channels whose MPAN is `M1.principalMPAN` rather than `M0.MPANCore` (9.1.10).
const M1_CHANNELS: [&str; 2] = ["IF-019", "IF-020"];

/// The MPAN core a message is about, if it names one.
pub fn mpan<'a>(channel: &str, payload: &'a Value) -> Option<&'a str> {
    let pointer = if M1_CHANNELS.contains(&channel) { "/CommonBlock/M1/principalMPAN" } else { "/CommonBlock/M0/MPANCore" };
    payload.pointer(pointer).and_then(Value::as_str)
}

/// The date MAMS is read at: the DT-003 date-time or DT-021 date at the channel's
/// `addressingDateField`, else the transaction time.
pub fn addressing_date(payload: &Value, secondary: &Secondary, transaction_ms: u64) -> u64 {
    let Some(value) = secondary.addressing_date_field.as_deref().and_then(|p| payload.pointer(p)).and_then(Value::as_str) else {
        return transaction_ms;
    };
    time::parse_rfc3339(value)
        .or_else(|| (value.len() == 10).then(|| alloc::format!("{value}T00:00:00+00:00")).and_then(|d| time::parse_rfc3339(&d)))
        .unwrap_or(transaction_ms)
}

/// The party holding `role` for an MPAN at `at_ms` (from inclusive, to exclusive).
pub fn responsible<'a>(mams: &'a Mams, role: &str, at_ms: u64) -> Option<&'a str> {
    mams.parties
        .iter()
        .filter(|p| p.role_id == role)
        .find(|p| {
            let from = time::parse_rfc3339(&p.effective_from);
            let to = p.effective_to.as_deref().map(time::parse_rfc3339);
            from.is_some_and(|f| f <= at_ms) && to.is_none_or(|t| t.is_some_and(|t| at_ms < t))
        })
        .map(|p| p.dip_id.as_str())
}

/// Resolves a message's recipients under its channel's `config`. `participants` is every DIP
/// participant; `mams` the history of the message's MPAN ([`mpan`]), if any.
pub fn resolve(
    config: &ChannelConfig,
    payload: &Value,
    participants: &BTreeMap<String, Participant>,
    mams: Option<&Mams>,
    transaction_ms: u64,
) -> Result<Resolved, Msg> {
    let mut out = Resolved::default();
    let addressing = &config.addressing;

    let named: Vec<String> = payload
        .pointer("/CommonBlock/A0/primaryRecipients")
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(Value::as_str).map(ToString::to_string).collect())
        .unwrap_or_default();
    out.primary = named.clone();
    if let Some(primary) = &addressing.primary {
        let primary_only = addressing.always.is_none() && addressing.secondary.is_none();
        if named.is_empty() && primary_only {
            return Err(Msg::AddressingError);
        }
        for id in &named {
            let p = participants.get(id).ok_or(Msg::PrimaryRecipientInvalid)?;
            let roles: Vec<&String> = p.roles.iter().filter(|r| primary.roles.contains(r)).collect();
            if roles.is_empty() {
                return Err(Msg::PrimaryRecipientRoleInvalid);
            }
            roles.into_iter().for_each(|role| out.add(id, role));
        }
    }

    if let Some(secondary) = &addressing.secondary {
        let at = addressing_date(payload, secondary, transaction_ms);
        for role in &secondary.roles {
            let party = mams.and_then(|m| responsible(m, role, at)).ok_or(Msg::SecondaryUnresolved)?;
            out.add(party, role);
            if !out.secondary.iter().any(|s| s == party) {
                out.secondary.push(party.into());
            }
        }
    }

    if let Some(always) = &addressing.always {
        let mut always_ids = Vec::new();
        for id in &always.dip_ids {
            // A listed participant receives in its first role (its copy is obfuscated for it).
            let role = participants.get(id).and_then(|p| p.roles.first()).map(String::as_str).unwrap_or_default();
            out.add(id, role);
            always_ids.push(id);
        }
        for (id, p) in participants {
            for role in p.roles.iter().filter(|r| always.roles.contains(r)) {
                out.add(id, role);
                always_ids.push(id);
            }
        }
        for id in always_ids {
            if !out.always.contains(id) {
                out.always.push(id.clone());
            }
        }
    }

    if out.recipients.is_empty() {
        return Err(Msg::AddressingError);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn participants() -> BTreeMap<String, Participant> {
        let p = |roles: &[&str]| Participant { name: "p".into(), roles: roles.iter().map(|r| r.to_string()).collect(), dcp: None };
        [("1000000001", p(&["LDSO"])), ("1000000002", p(&["SUP"])), ("1000000003", p(&["SUP"])), ("1000000004", p(&["MSS", "SUP"]))]
            .into_iter()
            .map(|(id, p)| (id.to_string(), p))
            .collect()
    }

    fn mams() -> Mams {
        serde_json::from_value(json!({ "parties": [
            { "roleID": "SUP", "DIPID": "1000000002", "effectiveFrom": "2024-01-01T00:00:00+00:00", "effectiveTo": "2025-01-01T00:00:00+00:00" },
            { "roleID": "SUP", "DIPID": "1000000003", "effectiveFrom": "2025-01-01T00:00:00+00:00", "effectiveTo": null } ] }))
        .unwrap()
    }

    fn message(date: &str, primary: &[&str]) -> Value {
        json!({ "CommonBlock": { "M0": { "MPANCore": "1234567890123" }, "A0": { "primaryRecipients": primary } },
                "CustomBlock": { "B900": { "date": date } } })
    }

    #[test]
    fn secondary_follows_the_mams_history_at_the_message_date() {
        let config: ChannelConfig = serde_json::from_value(json!({ "senderRoles": ["SDS"], "addressing": {
            "secondary": { "roles": ["SUP"], "addressingDateField": "/CustomBlock/B900/date" } } }))
        .unwrap();
        let late = resolve(&config, &message("2024-06-30", &[]), &participants(), Some(&mams()), 0).unwrap();
        assert_eq!(late.recipients, [Recipient { dip_id: "1000000002".into(), role: "SUP".into() }], "the party responsible then");
        let boundary = resolve(&config, &message("2025-01-01T00:00:00+00:00", &[]), &participants(), Some(&mams()), 0).unwrap();
        assert_eq!(boundary.secondary, ["1000000003"], "effectiveTo is exclusive");
        assert_eq!(resolve(&config, &message("2023-01-01", &[]), &participants(), Some(&mams()), 0), Err(Msg::SecondaryUnresolved));
        assert_eq!(resolve(&config, &message("2024-06-30", &[]), &participants(), None, 0), Err(Msg::SecondaryUnresolved));
    }

    #[test]
    fn primary_and_always_once_per_pair() {
        let config: ChannelConfig = serde_json::from_value(json!({ "senderRoles": ["SDS"], "addressing": {
            "always": { "DIPIDs": ["1000000001"], "roles": ["LDSO"] }, "primary": { "roles": ["MSS", "SUP"] } } }))
        .unwrap();
        let r = resolve(&config, &message("", &["1000000004"]), &participants(), None, 0).unwrap();
        let pairs: Vec<(&str, &str)> = r.recipients.iter().map(|r| (r.dip_id.as_str(), r.role.as_str())).collect();
        assert_eq!(pairs, [("1000000004", "MSS"), ("1000000004", "SUP"), ("1000000001", "LDSO")], "two roles, two copies; LDSO once");
        assert_eq!(r.a0(), json!({ "primaryRecipients": ["1000000004"], "secondaryRecipients": [], "always": ["1000000001"] }));
        assert_eq!(resolve(&config, &message("", &["1000000009"]), &participants(), None, 0), Err(Msg::PrimaryRecipientInvalid));
        assert_eq!(resolve(&config, &message("", &["1000000001"]), &participants(), None, 0), Err(Msg::PrimaryRecipientRoleInvalid));
        let primary_only: ChannelConfig = serde_json::from_value(json!({ "senderRoles": ["SDS"], "addressing": { "primary": { "roles": ["SUP"] } } })).unwrap();
        assert_eq!(resolve(&primary_only, &message("", &[]), &participants(), None, 0), Err(Msg::AddressingError));
    }

    #[test]
    fn m1_channels_read_the_principal_mpan() {
        let p = json!({ "CommonBlock": { "M0": { "MPANCore": "1" }, "M1": { "principalMPAN": "2" } } });
        assert_eq!((mpan("IF-019", &p), mpan("IF-020", &p), mpan("IF-021", &p)), (Some("2"), Some("2"), Some("1")));
    }
}

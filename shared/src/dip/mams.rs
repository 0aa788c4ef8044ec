//! MAMS kept current from the registration channel's own messages (7.5). IF-001 (the
//! Registration Service's registration and change-of-supplier notices) is the channel whose
//! messages carry an effective-dated supplier appointment: `B002.incomingSupplierDIPID` from
//! `B002.supplierEffectiveFromDate`. When the hub accepts one, the MPAN's history gains that
//! supplier period and the supplier period it supersedes ends where it begins. Service
//! appointments on other channels are not wired (their blocks name current parties without
//! dates); the admin API loads those.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::Value;

use super::config::{Mams, MamsParty};
use crate::common::time;

/// The channel whose messages appoint suppliers.
pub const REGISTRATION_CHANNEL: &str = "IF-001";
const SUPPLIER: &str = "SUP";

/// The supplier appointment a message carries: (MPAN core, supplier DIP ID, effective from).
pub fn appointment(channel: &str, payload: &Value) -> Option<(String, String, String)> {
    if channel != REGISTRATION_CHANNEL {
        return None;
    }
    let text = |p: &str| payload.pointer(p).and_then(Value::as_str).map(ToString::to_string);
    let mpan = text("/CommonBlock/M0/MPANCore")?;
    let supplier = text("/CustomBlock/B002/incomingSupplierDIPID")?;
    let from = text("/CustomBlock/B002/supplierEffectiveFromDate")?;
    // DI-086 is a DT-003 date-time; a bare date (DT-021) is read as its midnight UTC.
    let from = if from.len() == 10 { alloc::format!("{from}T00:00:00+00:00") } else { from };
    time::parse_rfc3339(&from)?;
    Some((mpan, supplier, from))
}

/// `history` with `supplier` appointed from `from`: supplier periods starting at or after it
/// are superseded, one still open then ends there. `None` when nothing changes.
pub fn appoint(history: Option<Mams>, supplier: &str, from: &str) -> Option<Mams> {
    let from_ms = time::parse_rfc3339(from)?;
    let mut parties: Vec<MamsParty> = history.map(|h| h.parties).unwrap_or_default();
    let starts = |p: &MamsParty| time::parse_rfc3339(&p.effective_from).unwrap_or(0);
    if parties.iter().any(|p| p.role_id == SUPPLIER && p.dip_id == supplier && starts(p) == from_ms && p.effective_to.is_none()) {
        return None;
    }
    parties.retain(|p| p.role_id != SUPPLIER || starts(p) < from_ms);
    for p in parties.iter_mut().filter(|p| p.role_id == SUPPLIER) {
        let open_then = p.effective_to.as_deref().and_then(time::parse_rfc3339).is_none_or(|to| to > from_ms);
        if open_then {
            p.effective_to = Some(from.to_string());
        }
    }
    parties.push(MamsParty { role_id: SUPPLIER.into(), dip_id: supplier.into(), effective_from: from.into(), effective_to: None });
    Some(Mams { parties })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_change_of_supplier_ends_the_old_period_where_the_new_begins() {
        let msg = json!({ "CommonBlock": { "M0": { "MPANCore": "1900000000001" } },
            "CustomBlock": { "B002": { "incomingSupplierDIPID": "1000000005", "supplierEffectiveFromDate": "2026-05-01" } } });
        let (mpan, supplier, from) = appointment("IF-001", &msg).unwrap();
        assert_eq!((mpan.as_str(), supplier.as_str(), from.as_str()), ("1900000000001", "1000000005", "2026-05-01T00:00:00+00:00"));
        assert!(appointment("IF-021", &msg).is_none(), "only the registration channel appoints");
        let before: Mams = serde_json::from_value(json!({ "parties": [
            { "roleID": "SUP", "DIPID": "1000000002", "effectiveFrom": "2024-01-01T00:00:00+00:00", "effectiveTo": null },
            { "roleID": "MSS", "DIPID": "1000000007", "effectiveFrom": "2024-01-01T00:00:00+00:00", "effectiveTo": null } ] })).unwrap();
        let after = appoint(Some(before), &supplier, &from).unwrap();
        let sup: Vec<(&str, Option<&str>)> = after.parties.iter().filter(|p| p.role_id == "SUP").map(|p| (p.dip_id.as_str(), p.effective_to.as_deref())).collect();
        assert_eq!(sup, [("1000000002", Some("2026-05-01T00:00:00+00:00")), ("1000000005", None)]);
        assert_eq!(after.parties.iter().filter(|p| p.role_id == "MSS").count(), 1, "other roles untouched");
        assert!(appoint(Some(after.clone()), &supplier, &from).is_none(), "the same notice twice changes nothing");
        // A registration effective earlier than the last one supersedes it.
        let earlier = appoint(Some(after), "1000000006", "2026-04-01T00:00:00+00:00").unwrap();
        assert!(earlier.parties.iter().all(|p| p.dip_id != "1000000005"));
    }
}

//! A circuit breaker per endpoint: after `failures` consecutive failed calls the circuit opens
//! and no call goes to the endpoint for a cooldown; then one call probes it (half-open). A
//! probe that succeeds closes the circuit; one that fails opens it again for twice as long,
//! up to `max_cooldown_ms`. Jobs that meet an open circuit wait (their attempts are not
//! counted, and their retention keeps running). The state lives in the recipient's outbox
//! shard ([`crate::ports::Outbox::state`]), so it is strongly consistent.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerPolicy {
    pub failures: u32,
    pub cooldown_ms: u64,
    pub max_cooldown_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum Circuit {
    Closed {
        failures: u32,
    },
    #[serde(rename_all = "camelCase")]
    Open {
        until_ms: u64,
        cooldown_ms: u64,
    },
    /// A probe is out until `probe_until_ms` (when it never reports, another may go then).
    #[serde(rename_all = "camelCase")]
    HalfOpen {
        probe_until_ms: u64,
        cooldown_ms: u64,
    },
}

impl Default for Circuit {
    fn default() -> Self {
        Circuit::Closed { failures: 0 }
    }
}

/// What a call to the endpoint may do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    Go,
    /// One call, the probe; the rest of the batch waits for its answer.
    Probe,
    /// No call before this time.
    Wait(u64),
}

/// Whether a call may go at `now_ms`, and the circuit after that decision (a probe marks
/// itself out for `probe_ms`, the longest a call can take).
pub fn admit(circuit: Circuit, now_ms: u64, probe_ms: u64) -> (Admit, Circuit) {
    match circuit {
        Circuit::Closed { .. } => (Admit::Go, circuit),
        Circuit::Open { until_ms, .. } | Circuit::HalfOpen { probe_until_ms: until_ms, .. } if now_ms < until_ms => (Admit::Wait(until_ms), circuit),
        Circuit::Open { cooldown_ms, .. } | Circuit::HalfOpen { cooldown_ms, .. } => {
            (Admit::Probe, Circuit::HalfOpen { probe_until_ms: now_ms + probe_ms, cooldown_ms })
        }
    }
}

/// The circuit after a call answered (`ok`: the endpoint answered as a working endpoint does,
/// even with a refusal) or failed (timeout, connection failure, an answer asking for a retry).
pub fn record(policy: &BreakerPolicy, circuit: Circuit, ok: bool, now_ms: u64) -> Circuit {
    match (circuit, ok) {
        (_, true) => Circuit::Closed { failures: 0 },
        (Circuit::Closed { failures }, false) if failures + 1 < policy.failures.max(1) => Circuit::Closed { failures: failures + 1 },
        (Circuit::Closed { .. }, false) => Circuit::Open { until_ms: now_ms + policy.cooldown_ms, cooldown_ms: policy.cooldown_ms },
        (Circuit::HalfOpen { cooldown_ms, .. }, false) => {
            let next = cooldown_ms.saturating_mul(2).clamp(policy.cooldown_ms, policy.max_cooldown_ms.max(policy.cooldown_ms));
            Circuit::Open { until_ms: now_ms + next, cooldown_ms: next }
        }
        // A call that left before the circuit opened: the circuit stays as it is.
        (open @ Circuit::Open { .. }, false) => open,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: BreakerPolicy = BreakerPolicy { failures: 3, cooldown_ms: 1_000, max_cooldown_ms: 3_000 };

    #[test]
    fn opens_after_consecutive_failures_probes_and_closes() {
        let mut c = Circuit::default();
        for _ in 0..2 {
            c = record(&P, c, false, 0);
            assert_eq!(admit(c, 0, 100).0, Admit::Go);
        }
        c = record(&P, c, false, 10);
        assert_eq!(c, Circuit::Open { until_ms: 1_010, cooldown_ms: 1_000 });
        assert_eq!(admit(c, 500, 100).0, Admit::Wait(1_010));
        let (a, probing) = admit(c, 1_010, 100);
        assert_eq!(a, Admit::Probe);
        assert_eq!(admit(probing, 1_050, 100).0, Admit::Wait(1_110), "one probe at a time");
        assert_eq!(admit(probing, 1_111, 100).0, Admit::Probe, "a probe that never reported is replaced");
        assert_eq!(record(&P, probing, true, 1_050), Circuit::Closed { failures: 0 });
    }

    #[test]
    fn a_failed_probe_doubles_the_cooldown_up_to_the_cap() {
        let (_, probing) = admit(Circuit::Open { until_ms: 0, cooldown_ms: 1_000 }, 0, 100);
        let c = record(&P, probing, false, 0);
        assert_eq!(c, Circuit::Open { until_ms: 2_000, cooldown_ms: 2_000 });
        let (_, probing) = admit(c, 2_000, 100);
        assert_eq!(record(&P, probing, false, 2_000), Circuit::Open { until_ms: 5_000, cooldown_ms: 3_000 });
        // One success anywhere resets the count.
        let c = record(&P, record(&P, Circuit::default(), false, 0), true, 0);
        assert_eq!(record(&P, record(&P, c, false, 0), false, 0), Circuit::Closed { failures: 2 });
    }
}

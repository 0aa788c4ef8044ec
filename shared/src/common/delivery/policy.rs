//! How long and how often the hub retries a delivery: exponential backoff from the policy's
//! initial delay, capped, with jitter, until the policy's timeout.

use serde::{Deserialize, Serialize};

/// Per routing ID (OTS) delivery policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeliveryPolicy {
    pub timeout_seconds: u32,
    pub initial_backoff_seconds: u32,
    pub max_backoff_seconds: u32,
}

/// A recipient that is down gets retries for 15 minutes.
pub const DEFAULT_DELIVERY_TIMEOUT_SECS: u32 = 900;
pub const DEFAULT_INITIAL_BACKOFF_SECS: u32 = 1;
pub const DEFAULT_MAX_BACKOFF_SECS: u32 = 60;
/// Each delay is spread by up to this fraction either way, so retries of many messages to
/// one recipient that came back do not arrive in one burst.
pub const JITTER_FRACTION: u64 = 4; // ±25%

impl Default for DeliveryPolicy {
    fn default() -> Self {
        DeliveryPolicy {
            timeout_seconds: DEFAULT_DELIVERY_TIMEOUT_SECS,
            initial_backoff_seconds: DEFAULT_INITIAL_BACKOFF_SECS,
            max_backoff_seconds: DEFAULT_MAX_BACKOFF_SECS,
        }
    }
}

impl DeliveryPolicy {
    /// Refuses policies that could never deliver or would retry without pause.
    pub fn validate(&self) -> Result<(), &'static str> {
        let p = self;
        if p.timeout_seconds == 0 || p.initial_backoff_seconds == 0 || p.max_backoff_seconds < p.initial_backoff_seconds {
            return Err("deliveryPolicy needs timeoutSeconds >= 1 and 1 <= initialBackoffSeconds <= maxBackoffSeconds");
        }
        Ok(())
    }
}

/// Delay before attempt `attempt + 1` (attempt counts from 1): exponential from the
/// policy's initial backoff, capped, with up to 25% jitter from `jitter` (0..=u32::MAX).
/// `None` once the next attempt would start after the policy's timeout.
pub fn next_delay_secs(policy: &DeliveryPolicy, attempt: u32, elapsed_ms: u64, jitter: u32) -> Option<u32> {
    let base = policy.initial_backoff_seconds.max(1) as u64;
    let exp = base.saturating_mul(1u64 << attempt.saturating_sub(1).min(20));
    let capped = exp.min(policy.max_backoff_seconds.max(1) as u64);
    let spread = capped / JITTER_FRACTION;
    let delay = capped - spread + (spread * jitter as u64 * 2) / u32::MAX as u64;
    let delay = delay.max(1);
    let deadline_ms = policy.timeout_seconds as u64 * 1000;
    (elapsed_ms + delay * 1000 < deadline_ms).then_some(delay as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_caps_and_stops() {
        let p = DeliveryPolicy { timeout_seconds: 60, initial_backoff_seconds: 2, max_backoff_seconds: 10 };
        assert_eq!(next_delay_secs(&p, 1, 0, 0), Some(2));
        assert_eq!(next_delay_secs(&p, 2, 0, 0), Some(3)); // 4 minus 25%
        assert_eq!(next_delay_secs(&p, 9, 0, u32::MAX), Some(12)); // capped at 10, plus 25%
        assert_eq!(next_delay_secs(&p, 9, 55_000, 0), None);
        assert!(p.validate().is_ok());
        assert!(DeliveryPolicy { max_backoff_seconds: 1, ..p }.validate().is_err());
    }
}

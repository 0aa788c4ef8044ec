//! Dates in the formats the specifications print and accept, on Unix milliseconds (UTC).
//!
//! Guarantees: formatting never fails (times past 9999-12-31 print as its last second, as the
//! formats have four-digit years); [`parse_rfc3339`] accepts only date-times that exist on the
//! calendar (no 2023-02-31, no hour 24) and at or after 1970-01-01T00:00:00Z.

use alloc::format;
use alloc::string::String;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcDateTime};

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

fn utc(ms: u64) -> UtcDateTime {
    i64::try_from(ms / 1000)
        .ok()
        .and_then(|secs| UtcDateTime::from_unix_timestamp(secs).ok())
        .unwrap_or(UtcDateTime::MAX)
}

/// (year, month 1-12, day, hour, minute, second) of a Unix time in milliseconds (UTC).
pub fn civil(ms: u64) -> (i64, u32, u32, u32, u32, u32) {
    let t = utc(ms);
    (
        i64::from(t.year()),
        u32::from(u8::from(t.month())),
        u32::from(t.day()),
        u32::from(t.hour()),
        u32::from(t.minute()),
        u32::from(t.second()),
    )
}

/// RFC 3339 in UTC with milliseconds: `2026-11-23T00:22:30.123Z`.
pub fn rfc3339(ms: u64) -> String {
    // Printed by hand: the `time` crate's formatting needs std, and the core is no_std.
    let (y, mo, d, h, mi, s) = civil(ms);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z", ms % 1000)
}

/// The OTS throttling format (TOTSCo API v2.0 §2.1.8.1, 429): `2023-May-18 04:43:00+0000 UTC`.
pub fn ots_access_time(ms: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(ms);
    format!("{y:04}-{}-{d:02} {h:02}:{mi:02}:{s:02}+0000 UTC", MONTHS[(mo - 1) as usize])
}

/// Parses RFC 3339 (`Z` or `±hh:mm` offset, optional fraction, `T`, `t` or space between date
/// and time) to Unix milliseconds; fractions are truncated to the millisecond.
///
/// A leap second (`23:59:60` on a month's last day, UTC) reads as `23:59:59.999`: RFC 3339
/// §5.7 allows it and Unix time has no slot for it. `:60` anywhere else is refused.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    // The `time` crate takes any byte as the separator; RFC 3339 §5.6 names `T` (any case)
    // and permits a space.
    if !matches!(s.as_bytes().get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    let secs = u64::try_from(t.unix_timestamp()).ok()?;
    Some(secs * 1000 + u64::from(t.millisecond()))
}

/// An HTTP date (RFC 9110 5.6.7's IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`), as Unix ms.
pub fn parse_http_date(s: &str) -> Option<u64> {
    let t = OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc2822).ok()?;
    Some(u64::try_from(t.unix_timestamp()).ok()? * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_read() {
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777_000));
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:01:40 GMT"), Some(100_000));
        assert_eq!(parse_http_date("soon"), None);
    }

    // 2023-05-18T04:43:00Z, the spec's throttling example.
    const MS: u64 = 1_684_384_980_000;

    #[test]
    fn formats() {
        assert_eq!(ots_access_time(MS), "2023-May-18 04:43:00+0000 UTC");
        assert_eq!(rfc3339(MS + 7), "2023-05-18T04:43:00.007Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(ots_access_time(951_782_400_000), "2000-Feb-29 00:00:00+0000 UTC");
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(civil(951_782_400_000), (2000, 2, 29, 0, 0, 0));
        assert_eq!(civil(MS + 59_999), (2023, 5, 18, 4, 43, 59));
    }

    #[test]
    fn formatting_never_fails_past_year_9999() {
        assert_eq!(civil(u64::MAX), (9999, 12, 31, 23, 59, 59));
        assert!(rfc3339(u64::MAX).starts_with("9999-12-31T23:59:59."));
        assert_eq!(ots_access_time(253_402_300_800_000), "9999-Dec-31 23:59:59+0000 UTC");
    }

    #[test]
    fn parses_offsets_fractions_and_case() {
        assert_eq!(parse_rfc3339("2023-05-18T04:43:00.007Z"), Some(MS + 7));
        assert_eq!(parse_rfc3339("2023-05-18T04:43:00Z"), Some(MS));
        assert_eq!(parse_rfc3339("2023-05-18t04:43:00z"), Some(MS));
        assert_eq!(parse_rfc3339("2023-05-18 04:43:00Z"), Some(MS));
        assert_eq!(parse_rfc3339("2023-05-18T05:43:00+01:00"), Some(MS));
        assert_eq!(parse_rfc3339("2023-05-17T23:13:00-05:30"), Some(MS));
        assert_eq!(parse_rfc3339("2023-05-18T04:43:00-00:00"), Some(MS));
        assert_eq!(parse_rfc3339("2023-05-18T04:43:00.5Z"), Some(MS + 500));
        assert_eq!(parse_rfc3339("2023-05-18T04:43:00.123456789Z"), Some(MS + 123));
        assert_eq!(parse_rfc3339("2023-05-18T04:43:00.1239999999999Z"), Some(MS + 123));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
    }

    #[test]
    fn refuses_dates_that_do_not_exist() {
        for s in [
            "2023-02-31T00:00:00Z",
            "2023-04-31T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-02-30T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2023-13-18T05:43:00Z",
            "2023-00-18T05:43:00Z",
            "2023-05-00T05:43:00Z",
            "2023-05-18T24:00:00Z",
            "2023-05-18T04:60:00Z",
            "2023-05-18T04:43:61Z",
            "2023-05-18T04:43:00+24:00",
            "2023-05-18T04:43:00+01:60",
        ] {
            assert_eq!(parse_rfc3339(s), None, "{s}");
        }
    }

    #[test]
    fn accepts_leap_days() {
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00Z"), Some(1_709_164_800_000));
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00Z"), Some(951_782_400_000));
    }

    #[test]
    fn refuses_malformed_text() {
        for s in [
            "yesterday",
            "",
            "2023-05-18",
            "2023-05-18T04:43:00",
            "2023-05-18X04:43:00Z",
            "2023-05-18T04:43:00.Z",
            "2023-05-18T04:43Z",
            "2023-5-18T04:43:00Z",
            "02023-05-18T04:43:00Z",
            "2023-05-18T04:43:00Z ",
            "2023-05-18T04:43:00+0100",
        ] {
            assert_eq!(parse_rfc3339(s), None, "{s:?}");
        }
    }

    #[test]
    fn before_1970_is_none() {
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59Z"), None);
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59.999Z"), None);
        assert_eq!(parse_rfc3339("1970-01-01T00:30:00+01:00"), None);
        assert_eq!(parse_rfc3339("0001-01-01T00:00:00Z"), None);
    }

    #[test]
    fn leap_second_only_where_one_can_occur() {
        // 2016-12-31T23:59:60Z was a real leap second; it reads as the last millisecond before 2017.
        assert_eq!(parse_rfc3339("2016-12-31T23:59:60Z"), Some(1_483_228_799_999));
        assert_eq!(parse_rfc3339("2017-01-01T00:59:60+01:00"), Some(1_483_228_799_999));
        assert_eq!(parse_rfc3339("2023-05-18T04:43:60Z"), None);
        assert_eq!(parse_rfc3339("2016-12-30T23:59:60Z"), None);
    }
}

/// DT-003 of Elexon's DIP data types: 25 characters, seconds and a numeric offset, always UTC
/// here: `2026-04-01T12:00:00+00:00`.
pub fn dt003(ms: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(ms);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}+00:00")
}

/// `yyyymmdd` of a Unix time in milliseconds (UTC).
pub fn compact_date(ms: u64) -> String {
    let (y, mo, d, ..) = civil(ms);
    format!("{y:04}{mo:02}{d:02}")
}

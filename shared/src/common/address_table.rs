//! How the address table ([`crate::ports::AddressTable`]) is laid out where a host keeps it
//! in SQL shards (Cloudflare: one Durable Object with SQLite storage per shard). A key's shard
//! is a fixed hash of the key over a fixed number of shards, so a record is found by every
//! release: changing [`SHARDS`] would strand every record written before.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

/// Shards of the address table. A constant, not a setting: records do not move between
/// shards. 16 keeps a million records at ~62,500 rows a shard and a bulk load at 16 calls.
pub const SHARDS: u32 = 16;

/// The shard of `key` (FNV-1a of its bytes: stable across hosts and releases).
pub fn shard_of(key: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in key.bytes() {
        h = (h ^ b as u32).wrapping_mul(0x0100_0193);
    }
    alloc::format!("addresses-{}", h % SHARDS)
}

/// Entries grouped by shard, each group in the order given (so the later of two entries with
/// one key still wins inside its shard).
pub fn by_shard(entries: &[(String, Vec<u8>)]) -> BTreeMap<String, Vec<&(String, Vec<u8>)>> {
    let mut out: BTreeMap<String, Vec<&(String, Vec<u8>)>> = BTreeMap::new();
    for e in entries {
        out.entry(shard_of(&e.0)).or_default().push(e);
    }
    out
}

/// The statements a shard runs. The table keeps the name and columns the MAMS has
/// (`mpan` the MPAN core, `history` its JSON).
pub mod sql {
    pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS mams (mpan TEXT PRIMARY KEY, history TEXT NOT NULL)";
    /// (key) -> (history)
    pub const GET: &str = "SELECT history FROM mams WHERE mpan = ?1";
    /// (rows): `rows` is a JSON array of `[key, value]` pairs, inserted in order, each
    /// replacing its key's row. One statement for many rows: a shard's bulk load costs a few
    /// calls into SQLite, not one per row.
    pub const PUT_ROWS: &str = "INSERT OR REPLACE INTO mams (mpan, history) \
         SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?1) ORDER BY key";
    /// (key) -> the key, when a row was removed.
    pub const DELETE: &str = "DELETE FROM mams WHERE mpan = ?1 RETURNING mpan";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_always_has_one_shard_and_keys_spread() {
        // FNV-1a over a fixed shard count: a record written by one release is found by the next.
        assert_eq!(shard_of("1900000000011"), shard_of("1900000000011"));
        assert_eq!(shard_of("1234567890123"), "addresses-12");
        let used: alloc::collections::BTreeSet<String> = (0..1000).map(|i| shard_of(&alloc::format!("19{i:011}"))).collect();
        assert_eq!(used.len(), SHARDS as usize, "a thousand MPANs reach every shard");
    }

    #[test]
    fn grouping_keeps_the_order_of_entries() {
        let e = |k: &str, v: &str| (String::from(k), Vec::from(v.as_bytes()));
        let entries = [e("1234567890123", "1"), e("1900000000011", "x"), e("1234567890123", "2")];
        let groups = by_shard(&entries);
        let same: Vec<&[u8]> = groups[&shard_of("1234567890123")].iter().filter(|(k, _)| k == "1234567890123").map(|(_, v)| v.as_slice()).collect();
        assert_eq!(same, [b"1".as_slice(), b"2".as_slice()]);
        assert_eq!(groups.values().map(Vec::len).sum::<usize>(), 3);
    }
}

//! What travels on the broker, and how it travels without loss. Every accepted message is
//! written to the archive and its delivery job to the outbox (both at once) before the hub
//! acknowledges it. The outbox is the broker: sharded by recipient, it keeps each job until
//! the job has finished, and the host pushes a job as soon as it is due (a new message at
//! once, a retry after its backoff). One recipient's jobs always live in one shard, so a slow
//! recipient's backlog stays in its shard, and within a shard each recipient has a bounded
//! share of the pushes in flight ([`MAX_IN_FLIGHT_PER_RECIPIENT`]). Delivery is at least
//! once: a job whose push died with the host is pushed again when its shard resumes, and
//! every push carries the same message, so recipients de-duplicate.

use alloc::string::String;
use alloc::vec::Vec;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::host::Host;
use crate::ports::{Outbox, OutboxEntry, PortResult};

/// One delivery job: push the archived message `archive_key` to the recipient its
/// protocol part names. `P` is the protocol part (`crate::protocols::Payload` in the hub),
/// flattened into the same JSON object and tagged by `protocol`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job<P> {
    /// The hub's message id (also the archive object name and the outbox key).
    pub message_id: String,
    pub archive_key: String,
    /// When the hub accepted the message (ms); the delivery policy's clock starts here.
    pub accepted_at_ms: u64,
    /// Attempts already made.
    #[serde(default)]
    pub attempts: u32,
    #[serde(flatten)]
    pub payload: P,
}

/// Who a job's protocol part delivers to: (list type or role, identity), and the batch it
/// travels in.
pub trait Addressed {
    fn recipient(&self) -> (&str, &str);
    /// Jobs with the same group (always of one recipient) are handed out together and pushed
    /// in as few calls as the recipient's limits allow; `None`: each job alone.
    fn group(&self) -> Option<String> {
        None
    }
}

/// The outbox shard of `recipient` among `shards` (FNV-1a of `listType/id`: stable across
/// hosts and releases, so a job's shard never moves).
pub fn shard_of(recipient: (&str, &str), shards: u32) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in recipient.0.bytes().chain(core::iter::once(b'/')).chain(recipient.1.bytes()) {
        h = (h ^ b as u32).wrapping_mul(0x0100_0193);
    }
    shard_name(h % shards.max(1))
}

/// The name of shard `n`.
pub fn shard_name(n: u32) -> String {
    alloc::format!("outbox-{n}")
}

/// Pushes in flight per shard at most, and per recipient within a shard: a recipient that
/// hangs (each attempt bounded by the delivery timeout) holds at most its share.
pub const MAX_IN_FLIGHT: usize = 256;
pub const MAX_IN_FLIGHT_PER_RECIPIENT: usize = 64;
/// A group's hand-out takes at most this many jobs, and this many payload bytes (a single
/// larger job goes alone): the rest follow in the next hand-out.
pub const MAX_GROUP_JOBS: usize = 256;
pub const MAX_GROUP_BYTES: usize = 8 * 1024 * 1024;
/// A new job of a group waits this long before it is due, so the messages of one request
/// (or of requests arriving together) leave in one call rather than one call each.
pub const BATCH_LINGER_MS: u64 = 25;
/// A job whose push failed for the host's own reasons (storage, not the recipient) is tried
/// again this much later, not in a tight loop.
pub const HOST_RETRY_MS: u64 = 5_000;

impl<P: Addressed> Job<P> {
    /// The shard this job lives in, and its recipient as `listType/id`.
    pub fn placement(&self, shards: u32) -> (String, String) {
        let r = self.payload.recipient();
        (shard_of(r, shards), alloc::format!("{}/{}", r.0, r.1))
    }
}

impl<P: Serialize + DeserializeOwned> Job<P> {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(s: &[u8]) -> Option<Job<P>> {
        serde_json::from_slice(s).ok()
    }
}

/// What the broker should do with a message it handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ack {
    /// The job reached its end or was replaced by its retry: remove it.
    Done,
    /// The host failed mid-job: hand it out again.
    Retry,
}

/// Records `job` in its outbox shard, due after `delay_secs`, with the bytes it delivers
/// when given (a retry keeps the payload already recorded). A new job of a group (no delay)
/// lingers for [`BATCH_LINGER_MS`] so that others can join its call.
pub async fn enqueue<P: Addressed + Serialize + DeserializeOwned>(host: &impl Host, job: &Job<P>, delay_secs: u32, payload: Option<&[u8]>) -> PortResult<()> {
    let group = job.payload.group();
    put(host, job, payload, due_at(host.now_ms(), delay_secs, group.is_some()), group.as_deref(), None).await
}

/// When a job put at `now_ms` with `delay_secs` falls due: a new job of a group (no delay)
/// lingers for [`BATCH_LINGER_MS`].
fn due_at(now_ms: u64, delay_secs: u32, grouped: bool) -> u64 {
    let linger = if delay_secs == 0 && grouped { BATCH_LINGER_MS } else { 0 };
    now_ms + delay_secs as u64 * 1000 + linger
}

async fn put<P: Addressed + Serialize + DeserializeOwned>(host: &impl Host, job: &Job<P>, payload: Option<&[u8]>, due_at_ms: u64, group: Option<&str>, held: Option<&str>) -> PortResult<()> {
    let (shard, recipient) = job.placement(host.settings().outbox_shards);
    let json = job.to_json();
    let entry = OutboxEntry { recipient: &recipient, id: &job.message_id, job: &json, payload, due_at_ms, group, held };
    host.outbox()?.put(&shard, &entry).await
}

/// Accepts a new message: its payload into the archive and its job (with the payload, so
/// delivery needs no archive read) into the outbox, both at once. When this returns `Ok`,
/// the message is durable and its push is under way.
pub async fn accept<P: Addressed + Serialize + DeserializeOwned>(host: &impl Host, job: &Job<P>, payload: &[u8]) -> PortResult<()> {
    use crate::ports::Archive;
    futures_util::future::try_join(host.archive()?.put(&job.archive_key, payload), enqueue(host, job, 0, Some(payload))).await?;
    Ok(())
}

/// Records new jobs, each with the bytes it delivers, as [`enqueue`] does, with one outbox
/// exchange per shard (at once). One result per job: its shard's.
pub async fn enqueue_many<P: Addressed + Serialize + DeserializeOwned>(host: &impl Host, jobs: &[(&Job<P>, &[u8])]) -> Vec<PortResult<()>> {
    let shards = host.settings().outbox_shards;
    let now = host.now_ms();
    // (shard, recipient, json, group) per job, then the jobs of each shard together.
    let rows: Vec<(String, String, String, Option<String>)> = jobs
        .iter()
        .map(|(job, _)| {
            let (shard, recipient) = job.placement(shards);
            (shard, recipient, job.to_json(), job.payload.group())
        })
        .collect();
    let mut by_shard: alloc::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for (k, row) in rows.iter().enumerate() {
        by_shard.entry(row.0.as_str()).or_default().push(k);
    }
    let outbox = match host.outbox() {
        Ok(o) => o,
        Err(e) => return jobs.iter().map(|_| Err(e.clone())).collect(),
    };
    let puts = by_shard.iter().map(|(shard, members)| {
        let entries: Vec<OutboxEntry<'_>> = members
            .iter()
            .map(|&k| {
                let (_, recipient, json, group) = &rows[k];
                let due_at_ms = due_at(now, 0, group.is_some());
                OutboxEntry { recipient, id: &jobs[k].0.message_id, job: json, payload: Some(jobs[k].1), due_at_ms, group: group.as_deref(), held: None }
            })
            .collect();
        async move { (members, outbox.put_many(shard, &entries).await) }
    });
    let mut out: Vec<PortResult<()>> = jobs.iter().map(|_| Ok(())).collect();
    for (members, result) in futures_util::future::join_all(puts).await {
        if let Err(e) = result {
            for &k in members {
                out[k] = Err(e.clone());
            }
        }
    }
    out
}

/// Keeps `job` (unchanged) until `until_ms`, or until [`release`] names `held` first.
pub async fn hold<P: Addressed + Serialize + DeserializeOwned>(host: &impl Host, job: &Job<P>, held: &str, until_ms: u64) -> PortResult<()> {
    put(host, job, None, until_ms, job.payload.group().as_deref(), Some(held)).await
}

/// Makes every job held under `held` for `recipient` due now.
pub async fn release(host: &impl Host, recipient: (&str, &str), held: &str) -> PortResult<()> {
    host.outbox()?.release(&shard_of(recipient, host.settings().outbox_shards), held).await
}

/// Puts `job` (unchanged: no attempt counted) back, due at `at_ms`.
pub async fn postpone<P: Addressed + Serialize + DeserializeOwned>(host: &impl Host, job: &Job<P>, at_ms: u64) -> PortResult<()> {
    put(host, job, None, at_ms, job.payload.group().as_deref(), None).await
}

/// The job reached its end (delivered, failed and notified, or unreadable).
pub async fn finished<P: Addressed>(host: &impl Host, job: &Job<P>) -> PortResult<()> {
    let (shard, _) = job.placement(host.settings().outbox_shards);
    host.outbox()?.remove(&shard, &job.message_id).await
}

/// The safety net (deliver's cron, and the gateway while the hub has traffic): every shard
/// pushes what is due and re-arms its wake-up. Returns how many shards were resumed.
pub async fn sweep(host: &impl Host) -> PortResult<usize> {
    let shards = host.settings().outbox_shards;
    let outbox = host.outbox()?;
    for n in 0..shards {
        outbox.resume(&shard_name(n)).await?;
    }
    Ok(shards as usize)
}

/// The outbox shard's table, as SQL any SQLite-backed host runs (Durable Objects' SQLite
/// storage; Spin's SQLite). Times are Unix milliseconds.
pub mod sql {
    pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS outbox (id TEXT PRIMARY KEY, recipient TEXT NOT NULL, due_at INTEGER NOT NULL, job TEXT NOT NULL, payload BLOB, grp TEXT, held TEXT, lease_until INTEGER); \
         CREATE INDEX IF NOT EXISTS outbox_due ON outbox (due_at); \
         CREATE TABLE IF NOT EXISTS shard_state (k TEXT PRIMARY KEY, v TEXT NOT NULL)";
    /// Brings a table made before groups and holds up to [`SCHEMA`] (each `ALTER` fails
    /// harmlessly once its column exists), then indexes the new columns.
    pub const MIGRATE: &str = "ALTER TABLE outbox ADD COLUMN grp TEXT; ALTER TABLE outbox ADD COLUMN held TEXT; ALTER TABLE outbox ADD COLUMN lease_until INTEGER; \
         CREATE INDEX IF NOT EXISTS outbox_grp ON outbox (grp, due_at); \
         CREATE INDEX IF NOT EXISTS outbox_held ON outbox (held)";
    /// (id, recipient, due_at, job, payload, grp, held): a retry replaces the due time, the
    /// job, the group and the hold, and keeps the payload when it gives none.
    pub const PUT: &str = "INSERT INTO outbox (id, recipient, due_at, job, payload, grp, held) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (id) DO UPDATE SET due_at = excluded.due_at, job = excluded.job, payload = COALESCE(excluded.payload, outbox.payload), \
         grp = excluded.grp, held = excluded.held, lease_until = NULL";
    /// (now, limit) -> (id, recipient, due_at, grp), the earliest first (then in arrival order).
    pub const DUE: &str = "SELECT id, recipient, due_at, grp FROM outbox WHERE due_at <= ?1 ORDER BY due_at, rowid LIMIT ?2";
    /// (grp, now, limit) -> (id, payload bytes): a group's due jobs in their order of arrival
    /// (a retry or a release keeps a job's place).
    pub const GROUP_DUE: &str = "SELECT id, length(payload) FROM outbox WHERE grp = ?1 AND due_at <= ?2 ORDER BY rowid LIMIT ?3";
    /// (now) -> (due_at): the wake-up the earliest job not yet due asks for.
    pub const NEXT: &str = "SELECT due_at FROM outbox WHERE due_at > ?1 ORDER BY due_at LIMIT 1";
    /// (id) -> (job, payload).
    pub const LOAD: &str = "SELECT job, payload FROM outbox WHERE id = ?1";
    /// (id, due_at)
    pub const POSTPONE: &str = "UPDATE outbox SET due_at = ?2, lease_until = NULL WHERE id = ?1";
    /// For hosts that keep no hand-outs in memory (Spin: an instance per request), a hand-out
    /// is a lease on the rows: (due_by, lease_until, limit, now) -> (rowid, id, recipient, grp,
    /// job, payload) of the rows due by `due_by` that no live lease holds, each now leased
    /// until `lease_until`. A lease ends with the job (removed, or put again by its retry) or
    /// when it runs out (its drain died), so a job is handed out once at a time.
    pub const CLAIM: &str = "UPDATE outbox SET lease_until = ?2 WHERE id IN (SELECT id FROM outbox WHERE due_at <= ?1 \
         AND (lease_until IS NULL OR lease_until <= ?4) ORDER BY due_at, rowid LIMIT ?3) RETURNING rowid, id, recipient, grp, job, payload";
    /// (now) -> (count): jobs due and not leased (whether a drain has more to do).
    pub const PENDING: &str = "SELECT count(*) FROM outbox WHERE due_at <= ?1 AND (lease_until IS NULL OR lease_until <= ?1)";
    /// (id)
    pub const REMOVE: &str = "DELETE FROM outbox WHERE id = ?1";
    /// (held, now)
    pub const RELEASE: &str = "UPDATE outbox SET due_at = ?2, held = NULL WHERE held = ?1";
    /// (k) -> (v)
    pub const STATE: &str = "SELECT v FROM shard_state WHERE k = ?1";
    /// (k, v)
    pub const SET_STATE: &str = "INSERT INTO shard_state (k, v) VALUES (?1, ?2) ON CONFLICT (k) DO UPDATE SET v = excluded.v";
    /// (k)
    pub const CLEAR_STATE: &str = "DELETE FROM shard_state WHERE k = ?1";
}

/// A row a lease handed out ([`sql::CLAIM`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub rowid: i64,
    pub id: String,
    pub recipient: String,
    pub group: Option<String>,
    pub job: String,
    pub payload: Option<Vec<u8>>,
}

/// The hand-outs of claimed rows: each group's rows together in order of arrival (the engine
/// calls its endpoint with as many as its limits allow), every other row alone; in order of
/// each hand-out's first arrival.
pub fn hand_outs(mut rows: Vec<Claimed>) -> Vec<Vec<Claimed>> {
    rows.sort_by_key(|r| r.rowid);
    let mut out: Vec<Vec<Claimed>> = Vec::new();
    let mut slot_of: alloc::collections::BTreeMap<String, usize> = Default::default();
    for row in rows {
        match row.group.clone() {
            Some(g) => match slot_of.get(&g) {
                Some(&k) => out[k].push(row),
                None => {
                    slot_of.insert(g, out.len());
                    out.push(alloc::vec![row]);
                }
            },
            None => out.push(alloc::vec![row]),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block_on, MemHost};

    /// The outbox statements on SQLite, as Spin's SQLite runs them: leases hand each job out
    /// once at a time, a retry or a lease running out hands it out again, groups stay together.
    #[test]
    fn leases_hand_out_each_job_once_and_groups_together() {
        use rusqlite::{params, Connection};
        let db = Connection::open_in_memory().unwrap();
        db.execute_batch(&alloc::format!("{};", sql::SCHEMA.replace("; ", ";\n"))).unwrap();
        for stmt in sql::MIGRATE.split(';') {
            let _ = db.execute_batch(stmt);
        }
        let put = |id: &str, due: i64, grp: Option<&str>| {
            db.execute(sql::PUT, params![id, "DIP/1", due, "{}", Some(b"p".to_vec()), grp, None::<String>]).unwrap();
        };
        put("a1", 100, Some("g"));
        put("s1", 100, None);
        put("a2", 100, Some("g"));
        put("later", 900, Some("g"));
        let claim = |now: i64, lease: i64| -> Vec<Claimed> {
            let mut st = db.prepare(sql::CLAIM).unwrap();
            st.query_map(params![now, lease, 256i64, now], |r| {
                Ok(Claimed { rowid: r.get(0)?, id: r.get(1)?, recipient: r.get(2)?, group: r.get(3)?, job: r.get(4)?, payload: r.get(5)? })
            })
            .unwrap()
            .map(Result::unwrap)
            .collect()
        };
        let first = hand_outs(claim(200, 10_200));
        let ids: Vec<Vec<&str>> = first.iter().map(|h| h.iter().map(|r| r.id.as_str()).collect()).collect();
        assert_eq!(ids, alloc::vec![alloc::vec!["a1", "a2"], alloc::vec!["s1"]]);
        assert!(claim(300, 10_300).is_empty(), "leased rows are not handed out twice");
        // a1 is retried (put again, later): its lease ends with the put; a2 is done.
        put("a1", 5_000, Some("g"));
        db.execute(sql::REMOVE, params!["a2"]).unwrap();
        let ids = |rows: Vec<Claimed>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(ids(claim(4_000, 14_000)), alloc::vec!["later"], "the retry is not due yet");
        assert_eq!(ids(claim(6_000, 16_000)), alloc::vec!["a1"], "now it is");
        // s1's drain died: its lease runs out and it is handed out again.
        assert_eq!(ids(claim(10_300, 20_300)), alloc::vec!["s1"]);
    }

    #[test]
    fn a_recipient_always_has_one_shard_and_recipients_spread() {
        assert_eq!(shard_of(("RCPID", "BCBX"), 16), shard_of(("RCPID", "BCBX"), 16));
        // FNV-1a is fixed: a job written by one release is found by the next.
        assert_eq!(shard_of(("RCPID", "BCBX"), 16), "outbox-9");
        assert_eq!(shard_of(("RCPID", "BCBX"), 1), "outbox-0");
        let used: alloc::collections::BTreeSet<String> = (0..200).map(|i| shard_of(("RCPID", &alloc::format!("P{i:03}")), 16)).collect();
        assert_eq!(used.len(), 16, "200 recipients use every shard");
    }

    #[test]
    fn the_sweep_resumes_every_shard() {
        let h = MemHost::new();
        assert_eq!(block_on(sweep(&h)).unwrap(), 16);
        assert_eq!(h.outbox.1.borrow().len(), 16);
        assert_eq!(h.outbox.1.borrow()[15], "outbox-15");
    }
}

//! Native benchmarks of the core's hot paths (`cargo bench -p switchyard-core --features rsa`).
//! Each also reports heap allocations per operation, counted by a wrapping allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{criterion_group, criterion_main, Criterion};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePrivateKey;
use rsa::sha2::Sha256;
use rsa::signature::Verifier;
use switchyard_core::common::auth::token::{self, Claims, Kind};
use switchyard_core::common::config::{ClientGrant, ClientRecord, PartyRef};
use switchyard_core::common::delivery::policy::{self, DeliveryPolicy};
use switchyard_core::ots::delivery as ots_delivery;
use switchyard_core::ots::directory::{Participant, ProcessStatus, ProcessSupport};
use switchyard_core::ots::routing::RoutingIdConfig;
use switchyard_core::ots::envelope;
use switchyard_core::ots::ingest::{self, Lookups};
use switchyard_core::ots::ApiVersion;
use switchyard_core::common::signing::RsaSigner;

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Heap allocations one call of `f` makes.
fn allocations<T>(name: &str, mut f: impl FnMut() -> T) {
    let before = ALLOCS.load(Ordering::Relaxed);
    black_box(f());
    eprintln!("allocations/op  {name}: {}", ALLOCS.load(Ordering::Relaxed) - before);
}

const LETTER: &[u8] = br#"{"envelope":{"source":{"type":"RCPID","identity":"BBCD","correlationID":"10266c25-1861-49d7-9157-436bc47fa746"},"destination":{"type":"RCPID","identity":"BCBX"},"routingID":"residentialSwitchMatchRequest","auditData":[{"name":"faultCode","value":"1103"}]},"residentialSwitchMatchRequest":{"grcpBrandName":"Bluebird","name":"Jo Bloggs","account":"12345678","address":{"uprn":"100023336956","postCode":"AB1 2CD"},"services":[{"serviceType":"IAS","action":"cease"}]}}"#;

fn participant(id: &str) -> Participant {
    Participant { id: id.into(), name: id.into(), process_support: vec![ProcessSupport { process: "OTS".into(), status: ProcessStatus::Active }], resource: vec![] }
}

fn client() -> ClientRecord {
    ClientRecord {
        client_id: "c1".into(),
        secret_hash: String::new(),
        grant: ClientGrant {
            identities: vec![PartyRef { list_type: "RCPID".into(), id: "BBCD".into() }],
            networks: vec!["127.0.0.0/8".into()],
            routing_ids: (0..15).map(|i| format!("routing{i}")).chain(["residentialSwitchMatchRequest".to_string()]).collect(),
            rate_limit: None,
        },
        primary_key: None,
        secondary_key: None,
    }
}

fn lookups() -> Lookups {
    Lookups {
        source_list_known: true,
        destination_list_known: true,
        source: Some(participant("BBCD")),
        destination: Some(participant("BCBX")),
        routing: Some(RoutingIdConfig { process: "OTS".into(), delivery_policy: DeliveryPolicy::default() }),
    }
}

fn ots(c: &mut Criterion) {
    let client = client();
    allocations("envelope parse + validate", || {
        let env = envelope::parse(LETTER, ApiVersion::V2).unwrap();
        ingest::check(&env, &client, Some("127.0.0.1"), lookups()).unwrap()
    });
    c.bench_function("ots/envelope parse (v2)", |b| b.iter(|| envelope::parse(black_box(LETTER), ApiVersion::V2).unwrap()));
    let env = envelope::parse(LETTER, ApiVersion::V2).unwrap();
    c.bench_function("ots/routing decision (ingest checks)", |b| {
        b.iter_batched(lookups, |l| ingest::check(black_box(&env), &client, Some("127.0.0.1"), l).unwrap(), criterion::BatchSize::SmallInput)
    });
    c.bench_function("ots/delivery outcome + backoff", |b| {
        let p = DeliveryPolicy::default();
        b.iter(|| (ots_delivery::classify(Ok(black_box(503))), policy::next_delay_secs(&p, black_box(3), 10_000, 12345)))
    });
}

fn tokens(c: &mut Criterion) {
    let secret = b"benchmark-token-secret-0123456789";
    let claims = Claims { iss: token::ISSUER.into(), sub: "client-1".into(), iat: 1_700_000_000, exp: 1_700_003_600, kind: Kind::Access, slot: None, jti: "0f8fad5b-d9cb-469f-a165-70867728950e".into() };
    let t = token::mint(&claims, secret);
    allocations("token mint", || token::mint(&claims, secret));
    allocations("token verify", || token::verify(&t, secret, Kind::Access, 1_700_000_100).unwrap());
    c.bench_function("auth/token mint", |b| b.iter(|| token::mint(black_box(&claims), secret)));
    c.bench_function("auth/token verify", |b| b.iter(|| token::verify(black_box(&t), secret, Kind::Access, 1_700_000_100).unwrap()));
}

fn signatures(c: &mut Criterion) {
    let data = LETTER;
    for (bits, pem) in [(2048, include_str!("keys/rsa2048.pem")), (4096, include_str!("keys/rsa4096.pem"))] {
        let signer = RsaSigner::from_pkcs8(pem.as_bytes()).unwrap();
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(pem).unwrap();
        let verifier = VerifyingKey::<Sha256>::new(key.to_public_key());
        let sig = Signature::try_from(signer.sign_now(data).as_slice()).unwrap();
        let mut g = c.benchmark_group(format!("rsa-{bits}/rustcrypto-native"));
        g.sample_size(20);
        g.bench_function("sign", |b| b.iter(|| signer.sign_now(black_box(data))));
        g.bench_function("verify", |b| b.iter(|| verifier.verify(black_box(data), &sig).unwrap()));
        g.finish();
    }
}

/// The outbox shard's table, per message: the SQL of `broker::sql` on a file-backed SQLite
/// database (what a Durable Object's storage and Spin's SQLite run), with a backlog of
/// 10,000 jobs in the table and a 1 KB payload per job.
fn outbox(c: &mut Criterion) {
    use rusqlite::{params, Connection};
    use switchyard_core::common::broker::sql;
    let dir = std::env::temp_dir().join(format!("switchyard-outbox-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = Connection::open(dir.join("outbox.sqlite")).unwrap();
    db.pragma_update(None, "journal_mode", "WAL").unwrap();
    db.execute_batch(&format!("{};", sql::SCHEMA.replace("; ", ";\n"))).unwrap();
    let job = br#"{"messageId":"m","archiveKey":"ots/2026/12/02/m.json","acceptedAtMs":1,"attempts":0,"protocol":"ots","recipientListType":"RCPID","recipient":"BCBX","routingID":"residentialSwitchMatchRequest"}"#;
    let job = std::str::from_utf8(job).unwrap();
    let payload = vec![b'x'; 1024];
    let mut put = db.prepare(sql::PUT).unwrap();
    for i in 0..10_000i64 {
        put.execute(params![format!("backlog-{i:05}"), "RCPID/BCBX", 2_000_000_000_000i64 + i, job, &payload, None::<String>, None::<String>]).unwrap();
    }
    let mut due = db.prepare(sql::DUE).unwrap();
    let mut load = db.prepare(sql::LOAD).unwrap();
    let mut remove = db.prepare(sql::REMOVE).unwrap();
    let n = std::cell::Cell::new(0u64);
    let next_id = || {
        n.set(n.get() + 1);
        format!("m-{}", n.get())
    };
    let mut g = c.benchmark_group("outbox/sqlite");
    g.bench_function("insert", |b| b.iter(|| put.execute(params![next_id(), "RCPID/BCBX", 1_000i64, job, &payload, None::<String>, None::<String>]).unwrap()));
    g.bench_function("select due (256 of the table) + load one", |b| {
        b.iter(|| {
            let rows: Vec<(String, String, i64)> = due.query_map(params![1_500i64, 256i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect();
            let (j, p): (String, Option<Vec<u8>>) = load.query_row(params![rows[0].0], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
            black_box((rows.len(), j.len(), p.map(|p| p.len())))
        })
    });
    g.bench_function("delete", |b| {
        b.iter_batched(
            || {
                let id = next_id();
                put.execute(params![id, "RCPID/BCBX", 1_000i64, job, &payload, None::<String>, None::<String>]).unwrap();
                id
            },
            |id| assert_eq!(remove.execute(params![id]).unwrap(), 1),
            criterion::BatchSize::SmallInput,
        )
    });
    g.bench_function("one message: insert, load, delete", |b| {
        b.iter(|| {
            put.execute(params!["cycle", "RCPID/BCBX", 1_000i64, job, &payload, None::<String>, None::<String>]).unwrap();
            let (j, _p): (String, Option<Vec<u8>>) = load.query_row(params!["cycle"], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
            remove.execute(params!["cycle"]).unwrap();
            black_box(j.len())
        })
    });
    g.finish();

    let _ = std::fs::remove_dir_all(dir);
}

criterion_group!(benches, ots, tokens, signatures, outbox);
criterion_main!(benches);

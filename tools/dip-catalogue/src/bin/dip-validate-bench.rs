//! `dip-validate-bench CATALOGUE CHANNEL EVENT N`: native schema validation per message, as
//! the hub does it (`switchyard_core::dip::schema`): one compile, then N validations of a
//! generated message. Prints `{"compile_ms", "validate_us"}` (median of 5 rounds of N).

use std::time::Instant;

use switchyard_core::dip::catalogue::Catalogue;
use switchyard_core::dip::schema::Schemas;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [catalogue, channel, event, n] = args.as_slice() else {
        eprintln!("usage: dip-validate-bench CATALOGUE CHANNEL EVENT N");
        std::process::exit(2);
    };
    let n: u32 = n.parse().expect("N");
    let catalogue: Catalogue = serde_json::from_slice(&std::fs::read(catalogue).expect("CATALOGUE")).expect("catalogue JSON");
    let message = dip_catalogue::generate::instance(&catalogue.event(channel, event).expect("event").schema).expect("a message");
    let mut schemas = Schemas::new("bench", catalogue);
    let t = Instant::now();
    schemas.check_event(channel, event, &message).expect("the generated message is valid");
    let compile_ms = t.elapsed().as_secs_f64() * 1000.0;
    let mut rounds: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..n {
                schemas.check_event(channel, event, &message).unwrap();
            }
            t.elapsed().as_secs_f64() * 1e6 / f64::from(n)
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    println!("{}", serde_json::json!({ "compile_ms": compile_ms, "validate_us": rounds[2] }));
}

//! `spin-host`: a test harness that runs a Spin application's HTTP and cron components on wasmtime.
//! It is not Spin; see README.md for what it implements and what it does not.
//!
//! spin-host --manifest spin.toml --state DIR --listen 127.0.0.1:PORT [--cache-dir DIR]

mod app;
mod cron;
mod interfaces;
mod manifest;
mod outbound;
mod routing;
mod state;

use anyhow::{bail, Context, Result};
use hyper::server::conn::http1;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;
use wasmtime_wasi_http::io::TokioIo;

struct Args {
    manifest: PathBuf,
    state: PathBuf,
    listen: SocketAddr,
    cache: Option<PathBuf>,
}

fn parse_args() -> Result<Args> {
    let mut manifest = PathBuf::from("spin.toml");
    let mut state = PathBuf::from(".spin-host");
    let mut listen: SocketAddr = "127.0.0.1:3000".parse()?;
    let mut cache = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--manifest" => manifest = value()?.into(),
            "--state" => state = value()?.into(),
            "--listen" => listen = value()?.parse().context("--listen takes ip:port")?,
            "--cache-dir" => cache = Some(value()?.into()),
            "-h" | "--help" => {
                println!("spin-host --manifest spin.toml --state DIR --listen 127.0.0.1:PORT [--cache-dir DIR (compiled components; default DIR/compiled)]");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    Ok(Args { manifest, state, listen, cache })
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = parse_args()?;
    let started = Instant::now();
    let manifest = manifest::Manifest::load(&args.manifest, &|k| std::env::var(k).ok())?;
    let cache = args.cache.unwrap_or_else(|| args.state.join("compiled"));
    let app = app::App::load(manifest, &args.state, &cache)?;
    let listener = tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("binding {}", args.listen))?;
    cron::start(&app);
    // Tests and scripts wait for this line.
    println!("spin-host: serving http://{} ({} components, ready in {} ms)", listener.local_addr()?, app.components.len(), started.elapsed().as_millis());
    loop {
        let (stream, client) = listener.accept().await?;
        let app = app.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let app = app.clone();
                async move { Ok::<_, std::convert::Infallible>(app.serve(req, client).await) }
            });
            if let Err(e) = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service).await {
                eprintln!("spin-host: connection from {client}: {e}");
            }
        });
    }
}

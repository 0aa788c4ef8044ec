//! `POST /sign?impl=webcrypto|rustcrypto&bits=2048|4096&n=N` signs the request body N times
//! inside workerd and answers the last signature. workerd's clock does not advance while a
//! request computes, so the driver (infra/bench/signing.py) times whole requests from outside
//! and subtracts an `n=0` baseline. Both implementations must return the same signature.

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
mod cloudflare {
    use switchyard_core::ports::Signer;
    use switchyard_core::common::signing::RsaSigner;
    use switchyard_host_cloudflare::WebCryptoSigner;
    use worker::{event, Context, Env, Request, Response, Result};

    #[event(fetch)]
    async fn fetch(mut req: Request, env: Env, _ctx: Context) -> Result<Response> {
        let url = req.url()?;
        let q = |k: &str| url.query_pairs().find(|(n, _)| n == k).map(|(_, v)| v.into_owned());
        let bits = q("bits").unwrap_or_else(|| "2048".into());
        let n: u32 = q("n").and_then(|v| v.parse().ok()).unwrap_or(1);
        let pem = env.secret(&format!("BENCH_KEY_{bits}"))?.to_string().replace("\\n", "\n");
        let data = req.bytes().await?;
        let err = |e: switchyard_core::ports::PortError| worker::Error::RustError(e.0);
        let mut sig = Vec::new();
        match q("impl").as_deref() {
            Some("rustcrypto") => {
                let s = RsaSigner::from_pkcs8(pem.as_bytes()).map_err(err)?;
                for _ in 0..n {
                    sig = s.sign(&data).await.map_err(err)?;
                }
            }
            _ => {
                let s = WebCryptoSigner::from_pkcs8(pem.as_bytes()).await.map_err(err)?;
                for _ in 0..n {
                    sig = s.sign(&data).await.map_err(err)?;
                }
            }
        }
        Response::ok(sig.iter().map(|b| format!("{b:02x}")).collect::<String>())
    }
}

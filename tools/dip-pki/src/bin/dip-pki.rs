//! `dip-pki`: the demo PKI of `make dev`, and a signed DIP call from the command line.
//!
//! ```text
//! dip-pki demo DIR ID...      a CA (DIR/ca.pem) and, per DIP ID, DIR/<ID>.key.pem and
//!                             DIR/<ID>.cert.pem; keys already in DIR are kept
//! dip-pki send DIR ID API_KEY URL FILE
//!                             POSTs FILE to URL as ID (its key and certificate in DIR),
//!                             signed now; prints the status and the body
//! ```

use std::path::Path;
use std::process::ExitCode;

const DEMO_CA: &str = "CN=Switchyard demo CA,O=Switchyard demo,C=GB";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") if args.len() >= 3 => demo(Path::new(&args[1]), &args[2..]),
        Some("send") if args.len() == 6 => send(Path::new(&args[1]), &args[2], &args[3], &args[4], Path::new(&args[5])),
        _ => Err("usage: dip-pki demo DIR ID... | dip-pki send DIR ID API_KEY URL FILE".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dip-pki: {e}");
            ExitCode::FAILURE
        }
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// The key at `path`, made once.
fn key_at(path: &Path) -> Result<String, String> {
    if let Ok(pem) = std::fs::read_to_string(path) {
        return Ok(pem);
    }
    let pem = dip_pki::new_key();
    std::fs::write(path, &pem).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(pem)
}

fn demo(dir: &Path, ids: &[String]) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let now = now_ms();
    let ca = dip_pki::Ca::new(DEMO_CA, &key_at(&dir.join("ca.key.pem"))?, now);
    std::fs::write(dir.join("ca.pem"), &ca.certificate_pem).map_err(|e| e.to_string())?;
    for id in ids {
        let key = key_at(&dir.join(format!("{id}.key.pem")))?;
        let certificate = ca.issue(&key, &dip_pki::Leaf::for_party(id, now));
        std::fs::write(dir.join(format!("{id}.cert.pem")), certificate).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn send(dir: &Path, id: &str, api_key: &str, url: &str, file: &Path) -> Result<(), String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let key = String::from_utf8_lossy(&read(&dir.join(format!("{id}.key.pem")))?).into_owned();
    let certificate = String::from_utf8_lossy(&read(&dir.join(format!("{id}.cert.pem")))?).into_owned();
    let body = read(file)?;
    let mut request = ureq::post(url).set("x-api-key", api_key).set("content-type", "application/json");
    for (name, value) in dip_pki::sign(&key, &certificate, "POST", url, &body, now_ms()) {
        request = request.set(&name, &value);
    }
    let response = match request.send_bytes(&body) {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(format!("POST {url}: {e}")),
    };
    use std::io::Write;
    let status = response.status();
    let body = response.into_string().unwrap_or_default();
    // `dip-pki send ... | head -1` is a normal way to read just the status.
    let _ = writeln!(std::io::stdout().lock(), "{status}\n{body}");
    Ok(())
}

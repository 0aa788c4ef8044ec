//! Compressed reports (DSD002 7.9-7.10): a sender GZIPs the report's Custom Block, BASE64s it
//! and carries it as `CustomBlock.P03.compressedReport`; the recipient reverses the steps. The
//! hub passes such payloads through untouched (it validates the compressed form against the
//! schema, as 7.9.5 says); these helpers are for clients and tests (feature `compression`).

use std::io::{Read, Write};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};

/// The `CustomBlock` carrying `report` (the uncompressed Custom Block) compressed.
pub fn compress(report: &Value) -> std::io::Result<Value> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&serde_json::to_vec(report)?)?;
    Ok(json!({ "P03": { "compressedReport": B64.encode(gz.finish()?) } }))
}

/// The uncompressed Custom Block of a compressed report's `CustomBlock`.
pub fn decompress(custom_block: &Value) -> std::io::Result<Value> {
    let invalid = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let encoded = custom_block.pointer("/P03/compressedReport").and_then(Value::as_str).ok_or_else(|| invalid("no P03.compressedReport"))?;
    let compressed = B64.decode(encoded).map_err(|_| invalid("compressedReport is not base64"))?;
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(compressed.as_slice()).read_to_end(&mut plain)?;
    Ok(serde_json::from_slice(&plain)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_survives_the_round_trip_and_garbage_is_refused() {
        let report = json!({ "REP-002-CustomBlock": { "lines": (0..500).map(|i| json!({ "MPAN": format!("19000000{i:05}"), "kWh": "12.345" })).collect::<Vec<_>>() } });
        let block = compress(&report).unwrap();
        let encoded = block["P03"]["compressedReport"].as_str().unwrap();
        assert!(encoded.len() < serde_json::to_string(&report).unwrap().len() / 4, "it compresses");
        assert_eq!(decompress(&block).unwrap(), report);
        assert!(decompress(&json!({ "P03": { "compressedReport": "not base64!" } })).is_err());
        assert!(decompress(&json!({ "P03": { "compressedReport": B64.encode(b"not gzip") } })).is_err());
        assert!(decompress(&json!({})).is_err());
    }
}

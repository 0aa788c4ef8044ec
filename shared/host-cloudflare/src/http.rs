//! Conversions between Workers' Request/Response and the core's host-neutral HTTP types.

use switchyard_core::common::http::{HttpRequest, HttpResponse, Method};
use worker::{Headers, Request, RequestInit, Response, Result};

/// Reads an inbound request. A body whose declared length exceeds `max_body` is not read:
/// the request comes back without it, with the declared length beside it.
pub async fn read_request(mut req: Request, max_body: usize) -> Result<(HttpRequest, Option<usize>)> {
    let url = req.url()?;
    let path_and_query = match url.query() {
        Some(q) => format!("{}?{}", url.path(), q),
        None => url.path().to_string(),
    };
    let headers: Vec<(String, String)> = req.headers().entries().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
    let declared = headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.trim().parse::<usize>().ok());
    let oversize = declared.filter(|n| *n > max_body);
    let body = match oversize {
        None => req.bytes().await.unwrap_or_default(),
        Some(_) => {
            drain(&mut req).await;
            Vec::new()
        }
    };
    let method = Method::parse(req.method().as_ref());
    Ok((HttpRequest { method, url: path_and_query, headers, body }, oversize))
}

/// A request to another Worker (service binding, Durable Object).
pub fn to_worker_request(r: &HttpRequest) -> Result<Request> {
    Request::new_with_init(&r.url, &init(r)?)
}

/// A request to an address outside the hub: redirects come back as answers, never followed.
pub fn to_outbound_request(r: &HttpRequest) -> Result<Request> {
    let mut init = init(r)?;
    init.with_redirect(worker::RequestRedirect::Manual);
    Request::new_with_init(&r.url, &init)
}

fn init(r: &HttpRequest) -> Result<RequestInit> {
    let headers = Headers::new();
    for (k, v) in &r.headers {
        headers.append(k, v)?;
    }
    let mut init = RequestInit::new();
    init.with_method(worker::Method::from(r.method.as_str().to_string())).with_headers(headers);
    // Fetch refuses a body on GET and HEAD; such a body carries nothing the hub reads.
    if !r.body.is_empty() && !matches!(r.method, Method::Get | Method::Head) {
        init.with_body(Some(js_sys::Uint8Array::from(r.body.as_slice()).into()));
    }
    Ok(init)
}

/// Bodies the gateway reads and discards at most, so the caller's connection closes cleanly
/// after an oversize refusal (an unread body makes the runtime reset it).
const DRAIN_LIMIT_BYTES: usize = 16 * 1024 * 1024;

/// Reads an unwanted body chunk by chunk, keeping none of it.
async fn drain(req: &mut Request) {
    use futures_util::StreamExt;
    let Ok(mut stream) = req.stream() else { return };
    let mut seen = 0usize;
    while let Some(Ok(chunk)) = stream.next().await {
        seen += chunk.len();
        if seen > DRAIN_LIMIT_BYTES {
            break;
        }
    }
}

pub fn to_worker_response(r: HttpResponse) -> Result<Response> {
    let headers = Headers::new();
    for (k, v) in &r.headers {
        headers.append(k, v)?;
    }
    let resp = if r.body.is_empty() { Response::empty()? } else { Response::from_bytes(r.body)? };
    Ok(resp.with_status(r.status).with_headers(headers))
}

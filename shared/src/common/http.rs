//! A host-neutral HTTP request and response, so handlers read the same on every platform.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
    Patch,
    Head,
    Options,
    Other,
}

impl Method {
    pub fn parse(s: &str) -> Method {
        match s.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "PATCH" => Method::Patch,
            "HEAD" => Method::Head,
            "OPTIONS" => Method::Options,
            _ => Method::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Patch => "PATCH",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
            Method::Other => "OTHER",
        }
    }
}

#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: Method,
    /// Absolute URL for outbound requests; path + query for inbound ones.
    pub url: String,
    /// Header names are kept lower-case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        HttpRequest { method, url: url.into(), headers: Vec::new(), body: Vec::new() }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    pub fn with_body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The path without query string (for inbound requests, which carry path + query).
    pub fn path(&self) -> &str {
        let without_scheme = match self.url.find("://") {
            Some(i) => {
                let rest = &self.url[i + 3..];
                rest.find('/').map(|j| &rest[j..]).unwrap_or("/")
            }
            None => self.url.as_str(),
        };
        without_scheme.split(['?', '#']).next().unwrap_or("/")
    }

    /// The decoded value of the first query parameter called `name`.
    pub fn query(&self, name: &str) -> Option<String> {
        let q = self.url.split_once('?')?.1;
        let q = q.split('#').next().unwrap_or("");
        form_pairs(q).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn empty(status: u16) -> Self {
        HttpResponse { status, headers: Vec::new(), body: Vec::new() }
    }

    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        HttpResponse {
            status,
            headers: alloc::vec![("content-type".to_string(), "application/json".to_string())],
            body: serde_json::to_vec(value).unwrap_or_default(),
        }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// Decodes `application/x-www-form-urlencoded` pairs (also query strings), WHATWG URL §5.1:
/// empty pairs are skipped, a pair without `=` has an empty value.
pub fn form_pairs(s: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(s.as_bytes()).into_owned().collect()
}

/// Percent-decoding with `+` as space; invalid escapes are kept as they are, and bytes that
/// are not UTF-8 become U+FFFD.
pub fn percent_decode(s: &str) -> String {
    // `+` goes first so an encoded `%2B` stays a plus.
    let spaced = s.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// RFC 3986 §2.3: everything but ALPHA / DIGIT / "-" / "." / "_" / "~" is encoded.
const NOT_UNRESERVED: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes everything but unreserved characters (RFC 3986 §2.3).
pub fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, NOT_UNRESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_path() {
        let r = HttpRequest::new(Method::Get, "/directory/v2/entry?listType=RCPID&identity=a%20b+c");
        assert_eq!(r.path(), "/directory/v2/entry");
        assert_eq!(r.query("listType").as_deref(), Some("RCPID"));
        assert_eq!(r.query("identity").as_deref(), Some("a b c"));
        assert_eq!(r.query("missing"), None);
        let abs = HttpRequest::new(Method::Post, "http://127.0.0.1:9/letterbox/v2/post?x=1");
        assert_eq!(abs.path(), "/letterbox/v2/post");
    }

    #[test]
    fn percent_round_trip() {
        assert_eq!(percent_decode(&percent_encode("a b/c=d&é")), "a b/c=d&é");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%2"), "%2");
        assert_eq!(percent_decode("a+b%2Bc%20d"), "a b+c d");
        assert_eq!(percent_decode("%e9"), "\u{fffd}");
        assert_eq!(percent_encode("a b/c=d&é~-._"), "a%20b%2Fc%3Dd%26%C3%A9~-._");
        assert_eq!(percent_encode("s:cret+"), "s%3Acret%2B");
    }

    #[test]
    fn form_decoding() {
        assert_eq!(
            form_pairs("grant_type=client_credentials&&scope=a+b%2Bc&flag&=v&k=x=y"),
            alloc::vec![
                ("grant_type".into(), "client_credentials".into()),
                ("scope".into(), "a b+c".into()),
                ("flag".into(), String::new()),
                (String::new(), "v".into()),
                ("k".into(), "x=y".into()),
            ]
        );
        assert_eq!(form_pairs(""), alloc::vec![]);
    }
}

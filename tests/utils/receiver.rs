//! A participant's letterbox on 127.0.0.1: records every request it receives and answers
//! with a status (and, for a redirect, a `Location`) the test chooses. It also serves an
//! OAuth2 token endpoint (`/oauth2/token`) for the hub's outbound client credentials.
//! Accepted sockets have Nagle off, so a small answer is not held back waiting for an ACK.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

pub const TOKEN_PATH: &str = "/oauth2/token";
pub const HUB_CLIENT_ID: &str = "switchyard-hub";
pub const HUB_CLIENT_SECRET: &str = "receiver-secret-0001";

#[derive(Debug, Clone)]
pub struct Arrival {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Arrival {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// An answer a test composes: status, extra headers, body.
pub type Answer = (u16, Vec<(String, String)>, Vec<u8>);
/// Composes the answer to each post (given the post and how many came before it); `None`
/// falls back to the status set with [`Receiver::answer_with`]. Runs under the receiver's
/// lock: it must not call the receiver.
pub type Responder = Arc<dyn Fn(&Arrival, usize) -> Option<Answer> + Send + Sync>;

#[derive(Default)]
struct State {
    responder: Option<Responder>,
    arrivals: Vec<Arrival>,
    tokens: HashSet<String>,
    status: u16,
    /// Sent as `Location` with letterbox answers, when set.
    location: Option<String>,
    delay: Duration,
    issued: u32,
}

pub struct Receiver {
    pub port: u16,
    state: Arc<(Mutex<State>, Condvar)>,
}

impl Receiver {
    /// Starts a receiver that answers letterbox posts with 202.
    pub fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind receiver");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new((Mutex::new(State { status: 202, ..State::default() }), Condvar::new()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        Receiver { port, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The status later letterbox posts are answered with (without a `Location`).
    pub fn answer_with(&self, status: u16) {
        let mut st = self.state.0.lock().unwrap();
        st.status = status;
        st.location = None;
    }

    /// Later posts are answered by `f` (see [`Responder`]).
    pub fn respond_with(&self, f: impl Fn(&Arrival, usize) -> Option<Answer> + Send + Sync + 'static) {
        self.state.0.lock().unwrap().responder = Some(Arc::new(f));
    }

    /// Later letterbox posts are answered with `status` (e.g. 307) and `Location: location`.
    pub fn redirect_to(&self, status: u16, location: &str) {
        let mut st = self.state.0.lock().unwrap();
        st.status = status;
        st.location = Some(location.to_string());
    }

    /// How long later letterbox posts wait before they are answered.
    pub fn delay_answers(&self, delay: Duration) {
        self.state.0.lock().unwrap().delay = delay;
    }

    /// Forgets every token issued so far: the next post with one of them gets 401.
    pub fn revoke_tokens(&self) {
        self.state.0.lock().unwrap().tokens.clear();
    }

    /// Letterbox posts (token requests excluded) received so far.
    pub fn letters(&self) -> Vec<Arrival> {
        self.state.0.lock().unwrap().arrivals.iter().filter(|a| a.path != TOKEN_PATH).cloned().collect()
    }

    pub fn token_requests(&self) -> usize {
        self.state.0.lock().unwrap().arrivals.iter().filter(|a| a.path == TOKEN_PATH).count()
    }

    /// Waits until `n` letterbox posts arrived (or `timeout`), and returns them.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Arrival> {
        let (lock, cv) = &*self.state;
        let deadline = Instant::now() + timeout;
        let mut st = lock.lock().unwrap();
        loop {
            let letters: Vec<Arrival> = st.arrivals.iter().filter(|a| a.path != TOKEN_PATH).cloned().collect();
            let now = Instant::now();
            if letters.len() >= n || now >= deadline {
                return letters;
            }
            st = cv.wait_timeout(st, deadline - now).unwrap().0;
        }
    }

    /// Waits until a letterbox post for which `matches` holds has arrived (or `timeout`).
    /// `matches` runs under the receiver's lock: it must not call the receiver.
    pub fn wait_until(&self, timeout: Duration, matches: impl Fn(&Arrival) -> bool) -> Option<Arrival> {
        let (lock, cv) = &*self.state;
        let deadline = Instant::now() + timeout;
        let mut st = lock.lock().unwrap();
        loop {
            if let Some(a) = st.arrivals.iter().find(|a| a.path != TOKEN_PATH && matches(a)) {
                return Some(a.clone());
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            st = cv.wait_timeout(st, deadline - now).unwrap().0;
        }
    }

    /// Waits until no request of any kind (letterbox post or token request) has arrived for
    /// `quiet`, counted from the last arrival after this call, or from the call itself when
    /// nothing arrived since. So it always waits at least `quiet`: a negative assertion after
    /// it covers everything that could still arrive within `quiet` of the last event. Panics
    /// when the receiver is still busy after `max`.
    pub fn wait_quiet(&self, quiet: Duration, max: Duration) {
        let (lock, cv) = &*self.state;
        let start = Instant::now();
        let deadline = start + max;
        let mut st = lock.lock().unwrap();
        loop {
            let last = st.arrivals.iter().map(|a| a.at).filter(|at| *at > start).max().unwrap_or(start);
            let quiet_until = last + quiet;
            let now = Instant::now();
            if now >= quiet_until {
                return;
            }
            assert!(
                now < deadline,
                "receiver on port {} was not quiet for {quiet:?} within {max:?}: {} requests so far",
                self.port,
                st.arrivals.len()
            );
            st = cv.wait_timeout(st, quiet_until.min(deadline) - now).unwrap().0;
        }
    }
}

fn serve(stream: TcpStream, shared: &(Mutex<State>, Condvar)) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let len = headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0u8; len];
    let _ = reader.read_exact(&mut body);
    let arrival = Arrival { method, path: path.split('?').next().unwrap_or("").to_string(), headers, body, at: Instant::now() };

    let (lock, cv) = shared;
    let delay = if arrival.path == TOKEN_PATH { Duration::ZERO } else { lock.lock().unwrap().delay };
    std::thread::sleep(delay);
    let (status, location, reply) = {
        let mut st = lock.lock().unwrap();
        let before = st.arrivals.iter().filter(|a| a.path != TOKEN_PATH).count();
        let composed = if arrival.path == TOKEN_PATH { None } else { st.responder.as_ref().and_then(|f| f(&arrival, before)) };
        let answer = if let Some((status, headers, body)) = composed {
            let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
            (status, Some(extra), body)
        } else if arrival.path == TOKEN_PATH {
            let (status, reply) = token_answer(&mut st, &arrival);
            (status, None, reply)
        } else {
            let authorised = match arrival.header("authorization") {
                Some(a) if a.starts_with("Bearer ") => st.tokens.contains(&a[7..]),
                _ => true,
            };
            let location = st.location.as_ref().map(|l| format!("location: {l}\r\n"));
            if authorised { (st.status, location, Vec::new()) } else { (401, None, Vec::new()) }
        };
        st.arrivals.push(arrival);
        cv.notify_all();
        answer
    };
    let mut out = stream;
    let location = location.unwrap_or_default();
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n{location}content-length: {}\r\nconnection: close\r\n\r\n",
        reply.len()
    );
    let _ = out.write_all(head.as_bytes()).and_then(|_| out.write_all(&reply));
}

fn token_answer(st: &mut State, a: &Arrival) -> (u16, Vec<u8>) {
    use base64::Engine;
    let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{HUB_CLIENT_ID}:{HUB_CLIENT_SECRET}")));
    let form = String::from_utf8_lossy(&a.body);
    if a.header("authorization") != Some(expected.as_str()) || !form.contains("grant_type=client_credentials") {
        return (401, br#"{"error":"invalid_client"}"#.to_vec());
    }
    st.issued += 1;
    let token = format!("receiver-token-{}", st.issued);
    st.tokens.insert(token.clone());
    (200, serde_json::to_vec(&serde_json::json!({ "access_token": token, "token_type": "Bearer", "expires_in": 3600 })).unwrap())
}

/// A loopback port that refuses connections: a socket bound to it but never listening, so
/// no other process can take the port while the test uses it. Closed on drop.
pub struct RefusingPort {
    fd: i32,
    pub port: u16,
}

impl RefusingPort {
    pub fn new() -> RefusingPort {
        // SAFETY: plain socket calls on a fresh descriptor owned by this value.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            assert!(fd >= 0, "socket");
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
            let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            assert_eq!(libc::bind(fd, &addr as *const _ as *const libc::sockaddr, len), 0, "bind");
            let mut bound: libc::sockaddr_in = std::mem::zeroed();
            let mut blen = len;
            assert_eq!(libc::getsockname(fd, &mut bound as *mut _ as *mut libc::sockaddr, &mut blen), 0, "getsockname");
            RefusingPort { fd, port: u16::from_be(bound.sin_port) }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Default for RefusingPort {
    fn default() -> Self {
        RefusingPort::new()
    }
}

impl Drop for RefusingPort {
    fn drop(&mut self) {
        // SAFETY: closes the descriptor this value owns.
        unsafe { libc::close(self.fd) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A letterbox post to the receiver on `port`; returns the raw answer.
    fn post(port: u16) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(b"POST /letterbox/v2/post HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}").unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        answer
    }

    #[test]
    fn wait_quiet_waits_from_the_call_and_from_the_last_arrival() {
        let rx = Receiver::start();
        let t = Instant::now();
        rx.wait_quiet(Duration::from_millis(300), Duration::from_secs(5));
        assert!(t.elapsed() >= Duration::from_millis(300), "quiet counts from the call");

        let port = rx.port;
        let sender = std::thread::spawn(move || {
            for _ in 0..5 {
                std::thread::sleep(Duration::from_millis(100));
                post(port);
            }
        });
        rx.wait_quiet(Duration::from_secs(1), Duration::from_secs(10));
        assert_eq!(rx.letters().len(), 5, "returned only after the last arrival");
        assert!(rx.letters()[4].at.elapsed() >= Duration::from_secs(1));
        sender.join().unwrap();
    }

    #[test]
    #[should_panic(expected = "was not quiet")]
    fn wait_quiet_panics_when_never_quiet() {
        let rx = Receiver::start();
        let port = rx.port;
        std::thread::spawn(move || {
            for _ in 0..60 {
                std::thread::sleep(Duration::from_millis(50));
                post(port);
            }
        });
        rx.wait_quiet(Duration::from_millis(500), Duration::from_secs(1));
    }

    #[test]
    fn redirect_answers_carry_a_location() {
        let rx = Receiver::start();
        rx.redirect_to(307, "http://127.0.0.1:1/letterbox/v2/post");
        let answer = post(rx.port);
        assert!(answer.starts_with("HTTP/1.1 307 "), "{answer}");
        assert!(answer.contains("\r\nlocation: http://127.0.0.1:1/letterbox/v2/post\r\n"), "{answer}");
        rx.answer_with(202);
        let answer = post(rx.port);
        assert!(answer.starts_with("HTTP/1.1 202 ") && !answer.contains("location:"), "{answer}");
    }
}

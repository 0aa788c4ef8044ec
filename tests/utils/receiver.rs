//! A participant's letterbox on 127.0.0.1: records every request it receives and answers
//! with a status the test chooses. It also serves an OAuth2 token endpoint (`/oauth2/token`)
//! for the hub's outbound client credentials.

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

#[derive(Default)]
struct State {
    arrivals: Vec<Arrival>,
    tokens: HashSet<String>,
    status: u16,
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

    /// The status later letterbox posts are answered with.
    pub fn answer_with(&self, status: u16) {
        self.state.0.lock().unwrap().status = status;
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
}

fn serve(stream: TcpStream, shared: &(Mutex<State>, Condvar)) {
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
    let (status, reply) = {
        let mut st = lock.lock().unwrap();
        let answer = if arrival.path == TOKEN_PATH {
            token_answer(&mut st, &arrival)
        } else {
            let authorised = match arrival.header("authorization") {
                Some(a) if a.starts_with("Bearer ") => st.tokens.contains(&a[7..]),
                _ => true,
            };
            if authorised { (st.status, Vec::new()) } else { (401, Vec::new()) }
        };
        st.arrivals.push(arrival);
        cv.notify_all();
        answer
    };
    let mut out = stream;
    let head = format!("HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", reply.len());
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

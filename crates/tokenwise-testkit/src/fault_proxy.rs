//! [`FaultProxy`]: an HTTP/1.1 proxy on a free 127.0.0.1 port in front of a real server,
//! which injects the network's faults on the test's command: a failing or garbled answer, an
//! answer that never comes, one cut off, one lost after the server acted, a request delivered
//! twice.
//!
//! One request per connection (it answers with `Connection: close`), `Content-Length` bodies
//! only: what an HTTP client of a JSON API sends. Rules match on a fragment of the request's
//! path; the first matching rule wins, then the default ([`Fault::Pass`] until
//! [`FaultProxy::set`]).

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

/// What the proxy does with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forwards the request and the answer unchanged.
    Pass,
    /// Answers `500` with a plain-text page, forwarding nothing.
    ServerError,
    /// Answers `200` with an HTML page (a captive portal), forwarding nothing.
    Garbage,
    /// Reads the request and never answers, forwarding nothing (a blackholed server).
    Hang,
    /// Forwards the request, then holds the server's answer until the client gives up: the
    /// server acted, the client never hears.
    HangAfterServer,
    /// Forwards the request, then sends half of the answer's body and closes.
    TruncateAnswer,
    /// Forwards the request, then closes without a word.
    DropAnswer,
    /// Delivers the request twice; answers with the second answer.
    Duplicate,
}

#[derive(Default)]
struct Rules {
    default: Option<Fault>,
    by_path: Vec<(String, Fault)>,
    /// Paths of the requests received, in order.
    seen: Vec<String>,
    /// Paths of the requests delivered to the server (twice for a duplicate).
    forwarded: Vec<String>,
}

impl Rules {
    fn fault_for(&self, path: &str) -> Fault {
        self.by_path
            .iter()
            .find(|(fragment, _)| path.contains(fragment.as_str()))
            .map(|(_, fault)| *fault)
            .or(self.default)
            .unwrap_or(Fault::Pass)
    }
}

/// The proxy; stops accepting when dropped (connections in a hang end when their client
/// closes).
pub struct FaultProxy {
    port: u16,
    rules: Arc<Mutex<Rules>>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    /// A proxy on a free port in front of `upstream` (`http://host:port`, or `host:port`).
    pub fn start(upstream: &str) -> FaultProxy {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port for the proxy");
        let port = listener.local_addr().expect("the proxy's address").port();
        let rules = Arc::new(Mutex::new(Rules::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (accept_rules, accept_stop) = (rules.clone(), stop.clone());
        thread::spawn(move || {
            for client in listener.incoming() {
                // Drop wakes this accept with a connection of its own after setting `stop`.
                if accept_stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                let (rules, stop, upstream) =
                    (accept_rules.clone(), accept_stop.clone(), upstream.clone());
                thread::spawn(move || serve(client, &upstream, &rules, &stop));
            }
        });
        FaultProxy { port, rules, stop }
    }

    /// `http://127.0.0.1:PORT`, for the client.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The fault for every request no path rule matches.
    pub fn set(&self, fault: Fault) {
        self.rules().default = Some(fault);
    }

    /// The fault for requests whose path contains `fragment` (before the default).
    pub fn set_for(&self, fragment: &str, fault: Fault) {
        let mut rules = self.rules();
        rules.by_path.retain(|(f, _)| f != fragment);
        rules.by_path.push((fragment.to_string(), fault));
    }

    /// Everything passes again.
    pub fn clear(&self) {
        let mut rules = self.rules();
        rules.default = None;
        rules.by_path.clear();
    }

    /// How many requests whose path contains `fragment` the proxy received.
    pub fn seen(&self, fragment: &str) -> usize {
        let rules = self.rules();
        rules.seen.iter().filter(|p| p.contains(fragment)).count()
    }

    /// How many requests whose path contains `fragment` reached the server.
    pub fn forwarded(&self, fragment: &str) -> usize {
        let rules = self.rules();
        rules
            .forwarded
            .iter()
            .filter(|p| p.contains(fragment))
            .count()
    }

    fn rules(&self) -> MutexGuard<'_, Rules> {
        self.rules.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// A request as read: its path and its bytes with `Connection: close`.
struct Request {
    path: String,
    bytes: Vec<u8>,
}

fn serve(mut client: TcpStream, upstream: &str, rules: &Mutex<Rules>, stop: &AtomicBool) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(30)));
    let Some(request) = read_request(&mut client) else {
        return;
    };
    let fault = {
        let mut rules = rules.lock().unwrap_or_else(|e| e.into_inner());
        rules.seen.push(request.path.clone());
        rules.fault_for(&request.path)
    };
    let deliver = |rules: &Mutex<Rules>| {
        let answer = forward(upstream, &request.bytes);
        rules
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .forwarded
            .push(request.path.clone());
        answer
    };
    match fault {
        Fault::Pass => {
            let answer = deliver(rules);
            let _ = client.write_all(&answer);
        }
        Fault::ServerError => {
            let _ = client.write_all(&synthetic(
                "500 Internal Server Error",
                "text/plain",
                "oops",
            ));
        }
        Fault::Garbage => {
            let page = "<html><body>Sign in to the hotel Wi-Fi to continue.</body></html>";
            let _ = client.write_all(&synthetic("200 OK", "text/html", page));
        }
        Fault::Hang => wait_for_close(&mut client, stop),
        Fault::HangAfterServer => {
            let _ = deliver(rules);
            wait_for_close(&mut client, stop);
        }
        Fault::TruncateAnswer => {
            let answer = deliver(rules);
            let head_end = find(&answer, b"\r\n\r\n").map_or(answer.len(), |i| i + 4);
            let cut = head_end + (answer.len() - head_end) / 2;
            let _ = client.write_all(&answer[..cut]);
        }
        Fault::DropAnswer => {
            let _ = deliver(rules);
        }
        Fault::Duplicate => {
            let _ = deliver(rules);
            let answer = deliver(rules);
            let _ = client.write_all(&answer);
        }
    }
    let _ = client.flush();
    let _ = client.shutdown(Shutdown::Both);
}

/// Reads one request (head and `Content-Length` body); `None` when the client closed first.
fn read_request(client: &mut TcpStream) -> Option<Request> {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = find(&bytes, b"\r\n\r\n") {
            break i + 4;
        }
        let n = client.read(&mut buffer).ok()?;
        if n == 0 {
            return None;
        }
        bytes.extend_from_slice(&buffer[..n]);
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next()?.to_string();
    let path = request_line.split(' ').nth(1)?.to_string();
    let mut length = 0usize;
    let mut kept = vec![request_line];
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':')?;
        let name = name.trim().to_ascii_lowercase();
        match name.as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "transfer-encoding" => panic!("the fault proxy reads Content-Length bodies only"),
            "connection" | "keep-alive" => continue,
            _ => {}
        }
        kept.push(line.to_string());
    }
    while bytes.len() < head_end + length {
        let n = client.read(&mut buffer).ok()?;
        if n == 0 {
            return None;
        }
        bytes.extend_from_slice(&buffer[..n]);
    }
    let mut out = kept.join("\r\n").into_bytes();
    out.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    out.extend_from_slice(&bytes[head_end..head_end + length]);
    Some(Request { path, bytes: out })
}

/// Sends the request to the server on a new connection and reads its whole answer; an empty
/// answer when the server cannot be reached (the client sees the connection close).
fn forward(upstream: &str, request: &[u8]) -> Vec<u8> {
    let Ok(mut server) = TcpStream::connect(upstream) else {
        return Vec::new();
    };
    let _ = server.set_read_timeout(Some(Duration::from_secs(60)));
    if server.write_all(request).is_err() {
        return Vec::new();
    }
    let mut answer = Vec::new();
    let _ = server.read_to_end(&mut answer);
    answer
}

fn synthetic(status: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Holds the connection open, answering nothing, until the client closes it or the proxy
/// stops.
fn wait_for_close(client: &mut TcpStream, stop: &AtomicBool) {
    let _ = client.set_read_timeout(Some(Duration::from_millis(50)));
    let mut buffer = [0u8; 1024];
    while !stop.load(Ordering::SeqCst) {
        match client.read(&mut buffer) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-shot HTTP server answering every request with its own path.
    fn echo_server() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                thread::spawn(move || {
                    let request = read_request(&mut stream).unwrap();
                    let body = format!("you asked for {}", request.path);
                    let _ = stream.write_all(&synthetic("200 OK", "text/plain", &body));
                });
            }
        });
        address
    }

    fn get(base: &str, path: &str) -> Vec<u8> {
        let mut stream = TcpStream::connect(base.trim_start_matches("http://")).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n{{}}"
        )
        .unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        answer
    }

    #[test]
    fn faults_apply_by_path_and_are_counted() {
        let proxy = FaultProxy::start(&echo_server());
        let base = proxy.base_url();
        let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();

        assert!(text(get(&base, "/v1/quota")).ends_with("you asked for /v1/quota"));
        proxy.set_for("/settle", Fault::ServerError);
        assert!(text(get(&base, "/v1/r/1/settle")).starts_with("HTTP/1.1 500"));
        assert!(text(get(&base, "/v1/usage")).contains("you asked for /v1/usage"));
        proxy.set(Fault::Garbage);
        assert!(text(get(&base, "/v1/usage")).contains("hotel Wi-Fi"));
        proxy.set(Fault::DropAnswer);
        assert!(get(&base, "/v1/usage").is_empty());
        proxy.set(Fault::Duplicate);
        assert!(text(get(&base, "/v1/usage")).contains("you asked for /v1/usage"));
        proxy.set(Fault::TruncateAnswer);
        let cut = text(get(&base, "/v1/usage"));
        assert!(
            cut.starts_with("HTTP/1.1 200") && !cut.contains("/v1/usage"),
            "{cut}"
        );
        proxy.set(Fault::Hang);
        // The client gives up (its read timeout); nothing came.
        assert!(get(&base, "/v1/quota").is_empty());
        proxy.clear();
        assert!(text(get(&base, "/v1/quota")).ends_with("you asked for /v1/quota"));

        assert_eq!(proxy.seen("/v1/usage"), 5);
        // Passed once, dropped once, duplicated (twice), truncated once; garbage never.
        assert_eq!(proxy.forwarded("/v1/usage"), 5);
        assert_eq!(proxy.forwarded("/settle"), 0);
        assert_eq!(proxy.seen("/v1/quota"), 3);
    }
}

//! Downloads against a local HTTP server started here, serving the real default model file:
//! full, resumed after a cut, a server that ignores ranges, a wrong checksum, a short body, a
//! server that announces the wrong length, a 404, a silent server, cancel and resume, and a
//! disk too small (a free-space limit simulated at the check).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokenwise_models::{download, DownloadRequest, ModelsError, Progress};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
const SHA256: &str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";

fn models_dir() -> PathBuf {
    std::env::var_os("TOKENWISE_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models"))
}

/// The real model file, read once.
fn model_bytes() -> Arc<Vec<u8>> {
    static BYTES: OnceLock<Arc<Vec<u8>>> = OnceLock::new();
    BYTES
        .get_or_init(|| {
            let path = models_dir().join(FILE);
            Arc::new(std::fs::read(&path).unwrap_or_else(|e| {
                panic!(
                    "{} is needed ({e}): run scripts/fetch-model.sh",
                    path.display()
                )
            }))
        })
        .clone()
}

/// How the test server misbehaves, per request (the first request is number 0).
#[derive(Clone, Copy, Debug)]
enum Behaviour {
    Normal,
    /// Closes the connection after this many body bytes (first request only).
    CutFirstAfter(usize),
    /// Always answers 200 with the whole file, whatever the range.
    IgnoreRange,
    /// Flips one byte in the middle.
    Corrupt,
    /// Announces this many more bytes than it has, sends what it has, closes.
    AnnounceMore(u64),
    /// Sends this many bytes, then says nothing while keeping the connection open.
    StallAfter(usize),
    /// 64 KiB every 50 ms.
    Trickle,
    Status(u16),
}

struct Server {
    url: String,
    requests: Arc<AtomicUsize>,
    ranges: Arc<Mutex<Vec<Option<u64>>>>,
}

async fn serve(behaviour: Behaviour) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/{FILE}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let ranges = Arc::new(Mutex::new(Vec::new()));
    let (count, seen) = (requests.clone(), ranges.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let number = count.fetch_add(1, Ordering::SeqCst);
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if socket.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).to_string();
                let range = head.lines().find_map(|line| {
                    let lower = line.to_ascii_lowercase();
                    let value = lower.strip_prefix("range: bytes=")?;
                    value.trim().trim_end_matches('-').parse::<u64>().ok()
                });
                seen.lock().unwrap().push(range);
                respond(socket, behaviour, number, range).await;
            });
        }
    });
    Server {
        url,
        requests,
        ranges,
    }
}

async fn respond(
    mut socket: tokio::net::TcpStream,
    behaviour: Behaviour,
    number: usize,
    range: Option<u64>,
) {
    let bytes = model_bytes();
    let total = bytes.len() as u64;
    if let Behaviour::Status(status) = behaviour {
        let _ = socket
            .write_all(
                format!("HTTP/1.1 {status} Nope\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .await;
        return;
    }
    let honour_range = !matches!(behaviour, Behaviour::IgnoreRange);
    let start = if honour_range { range.unwrap_or(0) } else { 0 };
    if start >= total && range.is_some() && honour_range {
        let _ = socket
            .write_all(format!("HTTP/1.1 416 Range Not Satisfiable\r\ncontent-range: bytes */{total}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").as_bytes())
            .await;
        return;
    }
    let mut body = bytes[start as usize..].to_vec();
    if let Behaviour::Corrupt = behaviour {
        let middle = body.len() / 2;
        body[middle] ^= 0xff;
    }
    let announced = match behaviour {
        Behaviour::AnnounceMore(extra) => body.len() as u64 + extra,
        _ => body.len() as u64,
    };
    let head = if range.is_some() && honour_range {
        format!(
            "HTTP/1.1 206 Partial Content\r\ncontent-length: {announced}\r\ncontent-range: bytes {start}-{}/{}\r\nconnection: close\r\n\r\n",
            start + announced - 1,
            start + announced
        )
    } else {
        format!("HTTP/1.1 200 OK\r\ncontent-length: {announced}\r\nconnection: close\r\n\r\n")
    };
    if socket.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    match behaviour {
        Behaviour::CutFirstAfter(n) if number == 0 => {
            let _ = socket.write_all(&body[..n.min(body.len())]).await;
        }
        Behaviour::StallAfter(n) => {
            let _ = socket.write_all(&body[..n]).await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        Behaviour::Trickle => {
            for chunk in body.chunks(64 * 1024) {
                if socket.write_all(chunk).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        _ => {
            let _ = socket.write_all(&body).await;
        }
    }
    let _ = socket.shutdown().await;
}

fn request(url: &str, dir: &Path, sha256: Option<&str>, size: Option<u64>) -> DownloadRequest {
    DownloadRequest {
        url: url.to_string(),
        models_dir: dir.to_path_buf(),
        file_name: FILE.to_string(),
        expected_sha256: sha256.map(str::to_string),
        expected_size: size,
        stall_timeout: Duration::from_secs(2),
    }
}

fn plenty(_: &Path) -> Option<u64> {
    Some(u64::MAX / 2)
}

async fn run(
    request: &DownloadRequest,
    free: impl Fn(&Path) -> Option<u64>,
) -> (
    Result<tokenwise_models::Downloaded, ModelsError>,
    Vec<Progress>,
) {
    let mut seen = Vec::new();
    let result = download(
        &reqwest::Client::new(),
        request,
        free,
        |p| seen.push(p),
        &CancellationToken::new(),
    )
    .await;
    (result, seen)
}

fn total() -> u64 {
    model_bytes().len() as u64
}

#[tokio::test]
async fn a_full_download_is_verified_and_moved_into_place() {
    let server = serve(Behaviour::Normal).await;
    let dir = tempfile::tempdir().unwrap();
    let req = request(&server.url, dir.path(), Some(SHA256), Some(total()));
    let (result, progress) = run(&req, plenty).await;
    let done = result.unwrap();
    assert_eq!(done.path, dir.path().join(FILE));
    assert_eq!(done.sha256, SHA256);
    assert!(!done.pinned);
    assert_eq!(std::fs::metadata(&done.path).unwrap().len(), total());
    assert!(!req.partial_path().exists(), "the partial file was renamed");
    let last = progress.last().unwrap();
    assert_eq!(last.downloaded_bytes, total());
    assert_eq!(last.total_bytes, Some(total()));
    assert!(progress
        .windows(2)
        .all(|w| w[0].downloaded_bytes <= w[1].downloaded_bytes));
}

#[tokio::test]
async fn a_cut_download_resumes_from_where_it_stopped() {
    let cut = 10 * 1024 * 1024;
    let server = serve(Behaviour::CutFirstAfter(cut)).await;
    let dir = tempfile::tempdir().unwrap();
    let req = request(&server.url, dir.path(), Some(SHA256), Some(total()));
    let (first, _) = run(&req, plenty).await;
    let error = first.unwrap_err();
    assert!(matches!(error, ModelsError::Interrupted { .. }), "{error}");
    assert!(error.to_string().contains("resume"), "{error}");
    assert_eq!(
        std::fs::metadata(req.partial_path()).unwrap().len(),
        cut as u64
    );
    assert!(
        !req.final_path().exists(),
        "nothing unverified in the models folder"
    );

    let (second, progress) = run(&req, plenty).await;
    assert_eq!(second.unwrap().sha256, SHA256);
    assert_eq!(progress[0].resumed_from, cut as u64);
    assert_eq!(
        server.ranges.lock().unwrap().as_slice(),
        &[None, Some(cut as u64)]
    );
}

#[tokio::test]
async fn a_server_that_ignores_the_range_restarts_the_file_cleanly() {
    let server = serve(Behaviour::IgnoreRange).await;
    let dir = tempfile::tempdir().unwrap();
    let req = request(&server.url, dir.path(), Some(SHA256), Some(total()));
    std::fs::create_dir_all(req.partial_path().parent().unwrap()).unwrap();
    std::fs::write(req.partial_path(), &model_bytes()[..4096]).unwrap();
    let (result, _) = run(&req, plenty).await;
    assert_eq!(result.unwrap().sha256, SHA256, "no doubled prefix");
}

#[tokio::test]
async fn a_partial_file_that_is_not_a_prefix_is_caught_by_the_checksum_and_deleted() {
    let server = serve(Behaviour::Normal).await;
    let dir = tempfile::tempdir().unwrap();
    let req = request(&server.url, dir.path(), Some(SHA256), Some(total()));
    std::fs::create_dir_all(req.partial_path().parent().unwrap()).unwrap();
    std::fs::write(req.partial_path(), vec![0u8; 4096]).unwrap();
    let (result, _) = run(&req, plenty).await;
    let error = result.unwrap_err();
    assert!(
        matches!(error, ModelsError::ChecksumMismatch { .. }),
        "{error}"
    );
    assert!(!req.partial_path().exists() && !req.final_path().exists());
    // The next try starts from zero and succeeds.
    let (again, _) = run(&req, plenty).await;
    assert_eq!(again.unwrap().sha256, SHA256);
}

#[tokio::test]
async fn a_wrong_checksum_is_refused_and_nothing_is_kept() {
    let server = serve(Behaviour::Corrupt).await;
    let dir = tempfile::tempdir().unwrap();
    let req = request(&server.url, dir.path(), Some(SHA256), Some(total()));
    let (result, _) = run(&req, plenty).await;
    let error = result.unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(error, ModelsError::ChecksumMismatch { .. }),
        "{text}"
    );
    assert!(text.contains(SHA256) && text.contains("deleted"), "{text}");
    assert!(!req.partial_path().exists() && !req.final_path().exists());
}

#[tokio::test]
async fn without_a_published_checksum_the_first_download_is_pinned() {
    let server = serve(Behaviour::Normal).await;
    let dir = tempfile::tempdir().unwrap();
    let req = request(&server.url, dir.path(), None, None);
    let (result, _) = run(&req, plenty).await;
    let done = result.unwrap();
    assert!(done.pinned);
    assert_eq!(done.sha256, SHA256);
}

#[tokio::test]
async fn a_server_announcing_another_length_than_the_catalog_is_refused_before_writing() {
    let server = serve(Behaviour::AnnounceMore(1000)).await;
    let dir = tempfile::tempdir().unwrap();
    let req = request(&server.url, dir.path(), Some(SHA256), Some(total()));
    let (result, _) = run(&req, plenty).await;
    let error = result.unwrap_err();
    assert!(
        matches!(error, ModelsError::LengthMismatch { .. }),
        "{error}"
    );
    assert!(!req.final_path().exists());
    assert_eq!(
        std::fs::metadata(req.partial_path())
            .map(|m| m.len())
            .unwrap_or(0),
        0
    );
}

#[tokio::test]
async fn a_short_body_is_an_interruption_not_a_finished_file() {
    // No size in the catalog: the server's own announcement is all there is to check.
    let server = serve(Behaviour::AnnounceMore(1000)).await;
    let dir = tempfile::tempdir().unwrap();
    let req = request(&server.url, dir.path(), None, None);
    let (result, _) = run(&req, plenty).await;
    let error = result.unwrap_err();
    assert!(matches!(error, ModelsError::Interrupted { .. }), "{error}");
    assert!(
        !req.final_path().exists(),
        "a short file is never moved into place"
    );
}

#[tokio::test]
async fn a_missing_file_says_the_address_may_be_out_of_date() {
    let server = serve(Behaviour::Status(404)).await;
    let dir = tempfile::tempdir().unwrap();
    let req = request(&server.url, dir.path(), Some(SHA256), Some(total()));
    let (result, _) = run(&req, plenty).await;
    let text = result.unwrap_err().to_string();
    assert!(
        text.contains("404") && text.contains("out of date"),
        "{text}"
    );
    assert!(!req.final_path().exists());
}

#[tokio::test]
async fn nobody_listening_is_a_clear_network_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/{FILE}", listener.local_addr().unwrap());
    drop(listener);
    let dir = tempfile::tempdir().unwrap();
    let (result, _) = run(&request(&url, dir.path(), None, None), plenty).await;
    let error = result.unwrap_err();
    assert!(matches!(error, ModelsError::Network { .. }), "{error}");
    assert!(error.to_string().contains("could not connect"), "{error}");
}

#[tokio::test]
async fn a_silent_server_is_given_up_on_and_the_bytes_kept() {
    let server = serve(Behaviour::StallAfter(1024 * 1024)).await;
    let dir = tempfile::tempdir().unwrap();
    let req = request(&server.url, dir.path(), Some(SHA256), Some(total()));
    let (result, _) = run(&req, plenty).await;
    let error = result.unwrap_err();
    assert!(error.to_string().contains("no data for 2 s"), "{error}");
    assert_eq!(
        std::fs::metadata(req.partial_path()).unwrap().len(),
        1024 * 1024
    );
}

#[tokio::test]
async fn cancel_keeps_what_arrived_and_a_later_pull_resumes() {
    let server = serve(Behaviour::Trickle).await;
    let dir = tempfile::tempdir().unwrap();
    let req = request(&server.url, dir.path(), Some(SHA256), Some(total()));
    let cancel = CancellationToken::new();
    let canceller = cancel.clone();
    let result = download(
        &reqwest::Client::new(),
        &req,
        plenty,
        move |p: Progress| {
            if p.downloaded_bytes >= 256 * 1024 {
                canceller.cancel();
            }
        },
        &cancel,
    )
    .await;
    assert!(
        matches!(result, Err(ModelsError::Cancelled { .. })),
        "{result:?}"
    );
    let kept = std::fs::metadata(req.partial_path()).unwrap().len();
    assert!(kept >= 256 * 1024 && kept < total(), "{kept}");
    assert!(!req.final_path().exists());

    let normal = serve(Behaviour::Normal).await;
    let resumed = request(&normal.url, dir.path(), Some(SHA256), Some(total()));
    let (done, progress) = run(&resumed, plenty).await;
    assert_eq!(done.unwrap().sha256, SHA256);
    assert_eq!(progress[0].resumed_from, kept);
    assert_eq!(normal.requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_disk_too_small_is_refused_before_the_first_byte() {
    let server = serve(Behaviour::Normal).await;
    let dir = tempfile::tempdir().unwrap();
    let req = request(&server.url, dir.path(), Some(SHA256), Some(total()));
    let (result, _) = run(&req, |_: &Path| Some(50 * 1024 * 1024)).await;
    let error = result.unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, ModelsError::DiskFull { .. }), "{text}");
    assert!(text.contains("50 MiB free"), "{text}");
    assert!(!req.final_path().exists());
    assert_eq!(
        std::fs::metadata(req.partial_path())
            .map(|m| m.len())
            .unwrap_or(0),
        0
    );
}

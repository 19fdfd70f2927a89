//! Downloads a model file so that only an intact, checked file ever appears in the models
//! folder: resumable (HTTP Range) into `.download/<file>.part`, disk space checked before the
//! first byte, lengths checked against what the server announced, sha256 verified, then an
//! atomic rename. What arrived is kept for a resume only while it is a true prefix of the file.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

use crate::error::ModelsError;

/// Folder, inside the models folder, where downloads in progress live.
pub const PARTIAL_DIR: &str = ".download";

/// Free space kept on the disk beyond the file itself.
pub const DISK_RESERVE_BYTES: u64 = 64 * 1024 * 1024;

/// What to fetch and how to recognise it.
#[derive(Debug, Clone)]
pub struct DownloadRequest {
    pub url: String,
    pub models_dir: PathBuf,
    pub file_name: String,
    /// Published checksum; `None` pins whatever arrives (reported in [`Downloaded::pinned`]).
    pub expected_sha256: Option<String>,
    /// Published size, checked against what the server announces.
    pub expected_size: Option<u64>,
    /// A server silent for this long is treated as a broken connection.
    pub stall_timeout: Duration,
}

impl DownloadRequest {
    pub fn partial_path(&self) -> PathBuf {
        partial_path(&self.models_dir, &self.file_name)
    }

    pub fn final_path(&self) -> PathBuf {
        self.models_dir.join(&self.file_name)
    }
}

/// Where the download in progress of `file_name` is kept.
pub fn partial_path(models_dir: &Path, file_name: &str) -> PathBuf {
    models_dir
        .join(PARTIAL_DIR)
        .join(format!("{file_name}.part"))
}

/// Where a download stands, reported as bytes arrive (at most ~10 times a second).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, ts_rs::TS)]
#[ts(export)]
pub struct Progress {
    #[ts(type = "number")]
    pub downloaded_bytes: u64,
    #[ts(type = "number | null")]
    pub total_bytes: Option<u64>,
    /// Over the last few seconds.
    pub bytes_per_second: f64,
    #[ts(type = "number | null")]
    pub eta_seconds: Option<u64>,
    /// Bytes that were already there from an earlier, interrupted download.
    #[ts(type = "number")]
    pub resumed_from: u64,
}

/// A finished, verified download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    pub path: PathBuf,
    pub size_bytes: u64,
    pub sha256: String,
    /// True when no checksum was published: this one is now the file's pinned checksum.
    pub pinned: bool,
}

/// Downloads `request` with `client`. `free_space` tells the free bytes of the disk holding a
/// folder (the hardware reader in the app, a limit in tests); `on_progress` sees the progress;
/// `cancel` stops it, keeping what arrived for a resume.
pub async fn download(
    client: &reqwest::Client,
    request: &DownloadRequest,
    free_space: impl Fn(&Path) -> Option<u64>,
    mut on_progress: impl FnMut(Progress),
    cancel: &CancellationToken,
) -> Result<Downloaded, ModelsError> {
    let partial = request.partial_path();
    let partial_dir = partial.parent().expect("the partial file has a folder");
    tokio::fs::create_dir_all(partial_dir)
        .await
        .map_err(|e| ModelsError::io("create the folder", partial_dir, e))?;

    let mut have = partial_len(&partial).await;
    if let Some(expected) = request.expected_size {
        if have > expected {
            discard(&partial).await;
            have = 0;
        }
    }
    // A complete earlier download that was never verified (e.g. the app quit at that moment).
    if have > 0 && Some(have) == request.expected_size {
        return finish(request, &partial, have).await;
    }

    let mut response = send(client, &request.url, have, cancel, &request.file_name).await?;
    let mut status = response.status().as_u16();
    if status == 416 {
        // The server has nothing after what we hold: either it is all there, or our partial
        // file is not a prefix of this file. Start over once without a range.
        discard(&partial).await;
        have = 0;
        response = send(client, &request.url, 0, cancel, &request.file_name).await?;
        status = response.status().as_u16();
    }
    let start = match status {
        206 => match content_range(&response) {
            Some((first, _)) if first == have => have,
            _ => {
                // An answer for another range than asked: not safe to append.
                discard(&partial).await;
                response = send(client, &request.url, 0, cancel, &request.file_name).await?;
                if response.status().as_u16() != 200 {
                    return Err(http_error(&request.url, response.status().as_u16()));
                }
                0
            }
        },
        200 => {
            // The server ignored the range: the whole file follows.
            discard(&partial).await;
            0
        }
        other => return Err(http_error(&request.url, other)),
    };
    let announced_total = match response.status().as_u16() {
        206 => content_range(&response).and_then(|(_, total)| total),
        _ => response.content_length(),
    };
    if let (Some(total), Some(expected)) = (announced_total, request.expected_size) {
        if total != expected {
            return Err(ModelsError::LengthMismatch {
                file: request.file_name.clone(),
                detail: format!("the server announces {total} bytes, the catalog says {expected}"),
            });
        }
    }
    let total = announced_total.or(request.expected_size);

    if let (Some(total), Some(free)) = (total, free_space(&request.models_dir)) {
        let needed = total.saturating_sub(start);
        if free < needed + DISK_RESERVE_BYTES {
            return Err(ModelsError::DiskFull {
                file: request.file_name.clone(),
                folder: request.models_dir.clone(),
                needed_mib: (needed + DISK_RESERVE_BYTES).div_ceil(1024 * 1024),
                free_mib: free / (1024 * 1024),
            });
        }
    }

    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&partial)
        .await
        .map_err(|e| ModelsError::io("open", &partial, e))?;
    let mut received = start;
    let mut meter = SpeedMeter::new(start);
    let mut body = response.bytes_stream();
    loop {
        let next = tokio::select! {
            biased;
            _ = cancel.cancelled() => {
                flush(&mut file, &partial).await?;
                return Err(ModelsError::Cancelled { file: request.file_name.clone() });
            }
            next = tokio::time::timeout(request.stall_timeout, body.next()) => next,
        };
        let chunk = match next {
            Err(_) => {
                flush(&mut file, &partial).await?;
                return Err(ModelsError::Interrupted {
                    file: request.file_name.clone(),
                    detail: format!(
                        "no data for {} s after {}",
                        request.stall_timeout.as_secs(),
                        mib(received)
                    ),
                });
            }
            Ok(None) => break,
            Ok(Some(Err(error))) => {
                flush(&mut file, &partial).await?;
                return Err(ModelsError::Interrupted {
                    file: request.file_name.clone(),
                    detail: format!("after {}: {error}", mib(received)),
                });
            }
            Ok(Some(Ok(chunk))) => chunk,
        };
        if let Some(total) = total {
            if received + chunk.len() as u64 > total {
                drop(file);
                discard(&partial).await;
                return Err(ModelsError::LengthMismatch {
                    file: request.file_name.clone(),
                    detail: format!("it sent more than the {total} bytes it announced"),
                });
            }
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| ModelsError::io("write", &partial, e))?;
        received += chunk.len() as u64;
        if let Some(progress) = meter.tick(received, total, false) {
            on_progress(progress);
        }
    }
    flush(&mut file, &partial).await?;
    drop(file);
    if let Some(progress) = meter.tick(received, total, true) {
        on_progress(progress);
    }
    if let Some(total) = total {
        if received < total {
            return Err(ModelsError::Interrupted {
                file: request.file_name.clone(),
                detail: format!("{} of {} arrived", mib(received), mib(total)),
            });
        }
    }
    finish(request, &partial, received).await
}

/// Verifies the complete partial file and moves it into place.
async fn finish(
    request: &DownloadRequest,
    partial: &Path,
    size: u64,
) -> Result<Downloaded, ModelsError> {
    let actual = sha256_of(partial).await?;
    if let Some(expected) = &request.expected_sha256 {
        if !actual.eq_ignore_ascii_case(expected) {
            discard(partial).await;
            return Err(ModelsError::ChecksumMismatch {
                file: request.file_name.clone(),
                expected: expected.clone(),
                actual,
            });
        }
    }
    let destination = request.final_path();
    tokio::fs::rename(partial, &destination)
        .await
        .map_err(|e| ModelsError::io("move the finished download to", &destination, e))?;
    Ok(Downloaded {
        path: destination,
        size_bytes: size,
        sha256: actual,
        pinned: request.expected_sha256.is_none(),
    })
}

/// The sha256 of a file, read off the async runtime's threads.
pub async fn sha256_of(path: &Path) -> Result<String, ModelsError> {
    let owned = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut file =
            std::fs::File::open(&owned).map_err(|e| ModelsError::io("read", &owned, e))?;
        let mut hasher = Sha256::new();
        std::io::copy(&mut file, &mut hasher).map_err(|e| ModelsError::io("read", &owned, e))?;
        Ok(hex::encode(hasher.finalize()))
    })
    .await
    .expect("the hashing task does not panic")
}

async fn send(
    client: &reqwest::Client,
    url: &str,
    from: u64,
    cancel: &CancellationToken,
    file: &str,
) -> Result<reqwest::Response, ModelsError> {
    let mut builder = client.get(url);
    if from > 0 {
        builder = builder.header(reqwest::header::RANGE, format!("bytes={from}-"));
    }
    tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(ModelsError::Cancelled { file: file.to_string() }),
        sent = builder.send() => sent.map_err(|error| ModelsError::Network {
            url: url.to_string(),
            detail: without_url(&error),
        }),
    }
}

/// The error and its causes ("error sending request: connection refused"), without the URL
/// (the message names it already).
fn without_url(error: &reqwest::Error) -> String {
    let mut parts = vec![if error.is_timeout() {
        "timed out".to_string()
    } else if error.is_connect() {
        "could not connect".to_string()
    } else {
        "the request failed".to_string()
    }];
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    parts.join(": ")
}

fn http_error(url: &str, status: u16) -> ModelsError {
    ModelsError::HttpStatus {
        url: url.to_string(),
        status,
    }
}

/// `Content-Range: bytes first-last/total` → (first, total).
fn content_range(response: &reqwest::Response) -> Option<(u64, Option<u64>)> {
    let value = response
        .headers()
        .get(reqwest::header::CONTENT_RANGE)?
        .to_str()
        .ok()?;
    parse_content_range(value)
}

pub(crate) fn parse_content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (first, last) = range.split_once('-')?;
    let first: u64 = first.trim().parse().ok()?;
    let last: u64 = last.trim().parse().ok()?;
    if last < first {
        return None;
    }
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    Some((first, total))
}

async fn partial_len(path: &Path) -> u64 {
    tokio::fs::metadata(path)
        .await
        .map(|m| m.len())
        .unwrap_or(0)
}

async fn discard(path: &Path) {
    let _ = tokio::fs::remove_file(path).await;
}

async fn flush(file: &mut tokio::fs::File, path: &Path) -> Result<(), ModelsError> {
    file.flush()
        .await
        .map_err(|e| ModelsError::io("write", path, e))?;
    file.sync_data()
        .await
        .map_err(|e| ModelsError::io("write", path, e))
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Speed over a sliding window of a few seconds, reported at most every 100 ms.
struct SpeedMeter {
    resumed_from: u64,
    samples: std::collections::VecDeque<(Instant, u64)>,
    last_report: Option<Instant>,
}

impl SpeedMeter {
    const WINDOW: Duration = Duration::from_secs(3);
    const EVERY: Duration = Duration::from_millis(100);

    fn new(resumed_from: u64) -> Self {
        let mut samples = std::collections::VecDeque::new();
        samples.push_back((Instant::now(), resumed_from));
        SpeedMeter {
            resumed_from,
            samples,
            last_report: None,
        }
    }

    fn tick(&mut self, received: u64, total: Option<u64>, last: bool) -> Option<Progress> {
        let now = Instant::now();
        if !last && self.last_report.is_some_and(|at| now - at < Self::EVERY) {
            return None;
        }
        self.last_report = Some(now);
        self.samples.push_back((now, received));
        while self.samples.len() > 2 && now - self.samples[0].0 > Self::WINDOW {
            self.samples.pop_front();
        }
        let (since, from) = self.samples[0];
        let seconds = (now - since).as_secs_f64();
        let bytes_per_second = if seconds > 0.0 {
            (received - from) as f64 / seconds
        } else {
            0.0
        };
        let eta_seconds = total.and_then(|total| {
            (bytes_per_second > 0.0)
                .then(|| (total.saturating_sub(received) as f64 / bytes_per_second).ceil() as u64)
        });
        Some(Progress {
            downloaded_bytes: received,
            total_bytes: total,
            bytes_per_second,
            eta_seconds,
            resumed_from: self.resumed_from,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges() {
        assert_eq!(
            parse_content_range("bytes 100-199/1000"),
            Some((100, Some(1000)))
        );
        assert_eq!(parse_content_range("bytes 0-0/*"), Some((0, None)));
        assert_eq!(parse_content_range("bytes 10-5/100"), None);
        assert_eq!(parse_content_range("items 0-1/2"), None);
        assert_eq!(parse_content_range("bytes x-1/2"), None);
    }

    #[test]
    fn partial_files_live_in_their_own_folder() {
        let path = partial_path(Path::new("/m"), "a.gguf");
        assert_eq!(path, Path::new("/m/.download/a.gguf.part"));
    }
}

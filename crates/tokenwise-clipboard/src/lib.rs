//! Reads the system clipboard for quick summarize, and says what it holds
//! ([`ClipboardContent`]): text, an image, files, something else, or nothing.
//!
//! The read runs on a thread of its own and gives up after a time limit: on Linux a read on
//! the main (GUI) thread can deadlock, and a program that owns the clipboard may never answer.
//! When the clipboard is empty, Linux's PRIMARY selection (text highlighted with the mouse)
//! is read instead, if asked for.

use std::sync::mpsc;
use std::time::Duration;

pub use tokenwise_core::ClipboardContent;

/// How long a read may take before it is reported as unreadable.
pub const READ_TIMEOUT: Duration = Duration::from_secs(3);

/// Reads the clipboard (then, when `selection_fallback` and it is empty, the PRIMARY
/// selection on Linux) on a new thread, waiting at most [`READ_TIMEOUT`].
pub fn read_clipboard(selection_fallback: bool) -> ClipboardContent {
    let (sender, receiver) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("clipboard-read".into())
        .spawn(move || {
            let _ = sender.send(read_now(selection_fallback));
        });
    if let Err(error) = spawned {
        return ClipboardContent::Unreadable {
            reason: format!("no thread to read it on ({error})."),
        };
    }
    receiver
        .recv_timeout(READ_TIMEOUT)
        .unwrap_or_else(|_| ClipboardContent::Unreadable {
            reason: format!(
                "the program that owns it did not answer within {} seconds.",
                READ_TIMEOUT.as_secs()
            ),
        })
}

fn read_now(selection_fallback: bool) -> ClipboardContent {
    let mut clipboard = match arboard::Clipboard::new() {
        Ok(clipboard) => clipboard,
        Err(error) => {
            return ClipboardContent::Unreadable {
                reason: described(&error),
            }
        }
    };
    let content = read_kind(&mut clipboard, Kind::Clipboard);
    if content == ClipboardContent::Empty && selection_fallback {
        if let ClipboardContent::Text { text, .. } = read_kind(&mut clipboard, Kind::Selection) {
            return ClipboardContent::Text {
                text,
                from_selection: true,
            };
        }
    }
    content
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Clipboard,
    Selection,
}

/// Files first (file managers also offer their paths as text), then text, then an image. A
/// text read that fails oddly (an owner that answers a text request with image bytes) is
/// reported only when there is no image either.
fn read_kind(clipboard: &mut arboard::Clipboard, kind: Kind) -> ClipboardContent {
    if let Ok(paths) = get(clipboard, kind).file_list() {
        if !paths.is_empty() {
            return ClipboardContent::Files {
                paths: paths.iter().map(|p| p.display().to_string()).collect(),
            };
        }
    }
    let text_problem = match get(clipboard, kind).text() {
        Ok(text) if text.is_empty() => None,
        Ok(text) => {
            return ClipboardContent::Text {
                text,
                from_selection: kind == Kind::Selection,
            }
        }
        Err(arboard::Error::ContentNotAvailable) => None,
        Err(arboard::Error::ConversionFailure) => Some(ClipboardContent::NotText),
        Err(error) => Some(ClipboardContent::Unreadable {
            reason: described(&error),
        }),
    };
    if kind == Kind::Clipboard {
        if let Ok(image) = get(clipboard, kind).image() {
            return ClipboardContent::Image {
                width: u32::try_from(image.width).unwrap_or(u32::MAX),
                height: u32::try_from(image.height).unwrap_or(u32::MAX),
            };
        }
    }
    text_problem.unwrap_or(ClipboardContent::Empty)
}

#[cfg(target_os = "linux")]
fn get(clipboard: &mut arboard::Clipboard, kind: Kind) -> arboard::Get<'_> {
    use arboard::GetExtLinux;
    let which = match kind {
        Kind::Clipboard => arboard::LinuxClipboardKind::Clipboard,
        Kind::Selection => arboard::LinuxClipboardKind::Primary,
    };
    clipboard.get().clipboard(which)
}

/// Only Linux has a PRIMARY selection; elsewhere both kinds read the clipboard.
#[cfg(not(target_os = "linux"))]
fn get(clipboard: &mut arboard::Clipboard, _kind: Kind) -> arboard::Get<'_> {
    clipboard.get()
}

fn described(error: &arboard::Error) -> String {
    match error {
        arboard::Error::ClipboardNotSupported => {
            "this desktop offers no clipboard to programs (no display?).".into()
        }
        arboard::Error::ClipboardOccupied => "another program is holding it; try again.".into(),
        other => format!("{other}."),
    }
}

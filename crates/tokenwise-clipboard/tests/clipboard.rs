//! The reader against a real X clipboard: `xclip` owns the selection, as a real program
//! would. Needs an X display (scripts/test.sh runs the tests under Xvfb). One test function:
//! the clipboard is one per display, so the cases must not run at the same time.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokenwise_clipboard::{read_clipboard, ClipboardContent};

/// `xclip` holding `data` as `target` in `selection` until dropped.
struct Owner {
    child: Child,
    selection: String,
    target: String,
    data: Vec<u8>,
}

impl Owner {
    fn new(selection: &str, target: &str, data: &[u8]) -> Owner {
        let mut owner = Owner {
            child: spawn_xclip(selection, target, data),
            selection: selection.into(),
            target: target.into(),
            data: data.into(),
        };
        owner.keep_alive();
        owner
    }

    /// An xclip that has exited lost the selection to another owner on the display (seen in
    /// a full run under load): it is started again.
    fn keep_alive(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            self.child = spawn_xclip(&self.selection, &self.target, &self.data);
        }
    }
}

fn spawn_xclip(selection: &str, target: &str, data: &[u8]) -> Child {
    let mut child = Command::new("xclip")
        .args(["-quiet", "-selection", selection, "-t", target, "-i"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("xclip runs (scripts/install-deps.sh test installs it)");
    child.stdin.take().unwrap().write_all(data).unwrap();
    child
}

impl Drop for Owner {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads until the clipboard holds `expected` (the new owner may need a moment to take the
/// selection, which takes longer on a loaded machine; an owner that exits is restarted), or
/// 60 s pass; returns the last read.
fn read_expecting(owner: &mut Owner, expected: &ClipboardContent) -> ClipboardContent {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let content = read_clipboard(true);
        if &content == expected || Instant::now() > deadline {
            return content;
        }
        owner.keep_alive();
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let out = Command::new("convert")
        .args(["-size", &format!("{width}x{height}"), "xc:red", "png:-"])
        .output()
        .expect("ImageMagick's convert runs");
    assert!(out.status.success());
    out.stdout
}

#[test]
fn every_kind_of_clipboard_content_is_told_apart() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "no X display: run under xvfb-run, as scripts/test.sh does"
    );
    // Nothing owns the clipboard yet on a fresh display.
    assert_eq!(read_clipboard(true), ClipboardContent::Empty);

    let text = "Quarterly numbers: revenue up 12 %, costs flat. — ünïcode ok";
    {
        let mut owner = Owner::new("clipboard", "UTF8_STRING", text.as_bytes());
        let expected = ClipboardContent::Text {
            text: text.into(),
            from_selection: false,
        };
        assert_eq!(read_expecting(&mut owner, &expected), expected);
    }
    {
        let mut owner = Owner::new("clipboard", "image/png", &png(3, 2));
        let expected = ClipboardContent::Image {
            width: 3,
            height: 2,
        };
        assert_eq!(read_expecting(&mut owner, &expected), expected);
    }
    {
        let uris = b"file:///home/ana/report.pdf\r\nfile:///home/ana/notes%20v2.txt\r\n";
        let mut owner = Owner::new("clipboard", "text/uri-list", uris);
        let expected = ClipboardContent::Files {
            paths: vec![
                "/home/ana/report.pdf".into(),
                "/home/ana/notes v2.txt".into(),
            ],
        };
        assert_eq!(read_expecting(&mut owner, &expected), expected);
    }
    {
        // Bytes that claim to be text but are not UTF-8.
        let mut owner = Owner::new("clipboard", "UTF8_STRING", &[0xff, 0xfe, 0x00, 0x9f, 0x92]);
        let expected = ClipboardContent::NotText;
        assert_eq!(read_expecting(&mut owner, &expected), expected);
    }
    {
        // An empty clipboard falls back to the PRIMARY selection, when asked to.
        let mut owner = Owner::new("primary", "UTF8_STRING", b"highlighted words");
        let expected = ClipboardContent::Text {
            text: "highlighted words".into(),
            from_selection: true,
        };
        assert_eq!(read_expecting(&mut owner, &expected), expected);
        assert_eq!(read_clipboard(false), ClipboardContent::Empty);
    }
}

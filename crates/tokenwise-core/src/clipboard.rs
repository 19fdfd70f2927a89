//! [`ClipboardContent`]: what a clipboard reader found, before anyone decides what to do
//! with it. The reader (`tokenwise-clipboard`) only reports; the facade judges.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// One read of the system clipboard (or, on Linux, the PRIMARY selection).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[ts(export)]
pub enum ClipboardContent {
    /// Text. `from_selection` is true when it came from the PRIMARY selection (text
    /// highlighted with the mouse) because the clipboard itself was empty.
    #[serde(rename_all = "camelCase")]
    Text { text: String, from_selection: bool },
    /// Something that is neither text, an image nor files (or text that is not valid UTF-8).
    NotText,
    /// An image (a screenshot, a copied picture).
    Image { width: u32, height: u32 },
    /// Files copied in a file manager.
    Files { paths: Vec<String> },
    /// Nothing is copied.
    Empty,
    /// The clipboard could not be read; `reason` says why.
    Unreadable { reason: String },
}

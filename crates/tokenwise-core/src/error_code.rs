//! [`ErrorCode`]: the stable, machine-readable name of every failure a front end can be told
//! about. Each crate's error type maps its variants here, the IPC boundary carries it, and
//! ts-rs exports it, so the UI matches on a closed set instead of string prefixes.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Declares the enum, its wire names and `as_str` from one list, so they cannot drift apart.
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $variant:ident => $wire:literal,)*) => {
        /// Why something failed, for programs (people read the message next to it).
        /// `snake_case` on the wire.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
        #[ts(export)]
        pub enum ErrorCode {
            $($(#[doc = $doc])* #[serde(rename = $wire)] $variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The wire name, e.g. `"cloud_timeout"`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $wire,)*
                }
            }
        }
    };
}

error_codes! {
    // The prompt and the local engine.
    EmptyPrompt => "empty_prompt",
    PromptTooLong => "prompt_too_long",
    PromptTooLarge => "prompt_too_large",
    EngineBusy => "engine_busy",
    EngineUnavailable => "engine_unavailable",
    GenerationFailed => "generation_failed",
    InvalidCatalog => "invalid_catalog",
    InvalidInput => "invalid_input",
    /// A local model could not be downloaded (network, server, checksum); the message says why.
    ModelDownloadFailed => "model_download_failed",
    /// Nothing to summarize: nothing copied, an image, files, binary data, too little text.
    NothingToSummarize => "nothing_to_summarize",
    /// A summary that takes minutes waits for the person's yes.
    SummaryNeedsConfirmation => "summary_needs_confirmation",
    // The history database and the ledger.
    DatabaseLocked => "database_locked",
    DatabaseCorrupt => "database_corrupt",
    DatabaseFolder => "database_folder",
    DiskFull => "disk_full",
    ConversationNotFound => "conversation_not_found",
    DatabaseError => "database_error",
    BudgetExceeded => "budget_exceeded",
    DuplicateRequest => "duplicate_request",
    RequestNotFound => "request_not_found",
    NotReserved => "not_reserved",
    // The budget file.
    InvalidBudgetConfig => "invalid_budget_config",
    BudgetConfigUnreadable => "budget_config_unreadable",
    UnknownTimeZone => "unknown_time_zone",
    InvalidAmount => "invalid_amount",
    InstantOutOfRange => "instant_out_of_range",
    // Cloud calls: nothing is charged for any of these.
    CloudInvalidUrl => "cloud_invalid_url",
    CloudUnreachable => "cloud_unreachable",
    CloudTimeout => "cloud_timeout",
    CloudRateLimited => "cloud_rate_limited",
    CloudUnauthorized => "cloud_unauthorized",
    GatewayBudgetExceeded => "gateway_budget_exceeded",
    CloudRejected => "cloud_rejected",
    CloudUpstreamFailed => "cloud_upstream_failed",
    CloudMalformedResponse => "cloud_malformed_response",
    CloudInterrupted => "cloud_interrupted",
    // The OS keyring.
    KeyringUnavailable => "keyring_unavailable",
    KeyringLocked => "keyring_locked",
    KeyringInvalidProvider => "keyring_invalid_provider",
    KeyringNotText => "keyring_not_text",
    KeyringAmbiguous => "keyring_ambiguous",
    // Refusals before anything is sent.
    /// A hard budget has less left than the request's maximum cost.
    BudgetTooLow => "budget_too_low",
    /// A cloud request without the person's yes to its cost.
    ConfirmationRequired => "confirmation_required",
    /// Cloud answers are off until a broken tier catalog or budget file is fixed.
    CloudBlocked => "cloud_blocked",
    // The company quota server.
    /// The company quota server cannot be reached or failed; cloud answers wait for it.
    CompanyUnreachable => "company_unreachable",
    /// The server refused this device (a wrong, used or expired code; a revoked token).
    CompanyUnauthorized => "company_unauthorized",
    /// The server refused the request (a tier the team may not use, a project not the user's).
    CompanyRefused => "company_refused",
}

impl ErrorCode {
    /// A cloud call that failed on the way (network, provider, gateway): it cost nothing, the
    /// question is saved, and the local model is the sensible offer.
    pub fn is_cloud_failure(self) -> bool {
        matches!(
            self,
            ErrorCode::CloudUnreachable
                | ErrorCode::CloudTimeout
                | ErrorCode::CloudRateLimited
                | ErrorCode::CloudUnauthorized
                | ErrorCode::GatewayBudgetExceeded
                | ErrorCode::CloudRejected
                | ErrorCode::CloudUpstreamFailed
                | ErrorCode::CloudMalformedResponse
                | ErrorCode::CloudInterrupted
                | ErrorCode::CloudInvalidUrl
        )
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lets tests and scripts compare with the wire name: `assert_eq!(error.code(), "engine_busy")`.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_are_unique_snake_case_and_match_serde() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let wire = code.as_str();
            assert!(seen.insert(wire), "{wire} twice");
            assert!(
                wire.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{wire}"
            );
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{wire}\""));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), *code);
        }
    }

    #[test]
    fn only_failed_cloud_calls_offer_the_local_answer() {
        assert!(ErrorCode::CloudTimeout.is_cloud_failure());
        assert!(ErrorCode::GatewayBudgetExceeded.is_cloud_failure());
        assert!(!ErrorCode::BudgetTooLow.is_cloud_failure());
        assert!(!ErrorCode::ConfirmationRequired.is_cloud_failure());
        assert!(!ErrorCode::GenerationFailed.is_cloud_failure());
    }
}

//! Tokenwise desktop notifications: budget threshold alerts.
//!
//! - [`budget_alert`] writes an alert's text from plain values (the caller formats money).
//! - [`Notifier`] is what the app raises alerts through: [`DesktopNotifier`] shows them with the
//!   desktop's notification service (freedesktop `org.freedesktop.Notifications` on the session
//!   D-Bus, through `notify-rust` and the pure-Rust zbus client: no libdbus);
//!   [`RecordingNotifier`] keeps them in memory for tests of the logic that decides when to
//!   alert.
//! - [`NotifyError`] is the crate's one error type; its messages say what to do.
//!
//! [`Notifier::notify`] blocks the calling thread for at most the delivery timeout
//! ([`DesktopNotifier::DEFAULT_DELIVERY_TIMEOUT`]); from async code call it through
//! `tokio::task::spawn_blocking`.

use std::sync::{mpsc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

/// One alert, ready to show.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BudgetAlert {
    /// One line, e.g. `Tokenwise: 80 % of today's budget used`.
    pub title: String,
    /// A sentence or two under the title.
    pub body: String,
    /// The threshold crossed, in percent: at or over 100 the alert is urgent.
    pub threshold_pct: u32,
}

impl BudgetAlert {
    /// Whether the budget is used up: the alert is shown as critical and stays until dismissed.
    pub fn is_critical(&self) -> bool {
        self.threshold_pct >= 100
    }
}

/// Why an alert could not be shown. Each message says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// Nothing owns `org.freedesktop.Notifications` on the session bus (and none could be
    /// started for it).
    #[error(
        "no desktop notification service is running (nothing provides \
         org.freedesktop.Notifications on the session bus): start your desktop's notification \
         daemon (for example dunst, mako or the one of GNOME/KDE) to see budget alerts ({detail})"
    )]
    NoService { detail: String },
    /// The session bus itself could not be reached.
    #[error(
        "cannot reach the D-Bus session bus: run Tokenwise inside a desktop session, or set \
         DBUS_SESSION_BUS_ADDRESS to the session bus's address, to see budget alerts ({detail})"
    )]
    NoSessionBus { detail: String },
    /// The notification service took longer than the delivery timeout to answer.
    #[error(
        "the desktop notification service did not answer within {} ms: it may be hung; \
         restart it (or log out and in again) to see budget alerts",
        after.as_millis()
    )]
    Timeout { after: Duration },
    /// The notification service answered with an error.
    #[error(
        "the desktop notification service refused the alert: {detail}; check that it \
         implements the freedesktop notification specification"
    )]
    Rejected { detail: String },
}

/// Shows budget alerts to the person at the computer.
pub trait Notifier: Send + Sync {
    /// Shows `alert`. Blocks until it is delivered or fails (bounded by the implementation's
    /// timeout).
    fn notify(&self, alert: &BudgetAlert) -> Result<(), NotifyError>;
}

/// The possessive of a budget window: `day` → `today's`, `week` → `this week's`, `month` →
/// `this month's` (also `daily`, `weekly`, `monthly`, any case). Anything else becomes
/// `this {label}'s`.
pub fn window_possessive(window_label: &str) -> String {
    let label = window_label.trim().to_lowercase();
    match label.as_str() {
        "day" | "daily" | "today" => "today's".to_string(),
        "week" | "weekly" => "this week's".to_string(),
        "month" | "monthly" => "this month's".to_string(),
        _ => format!("this {label}'s"),
    }
}

/// The text of the alert for a budget window whose spend crossed `threshold_pct` % of its
/// limit.
///
/// `scope_label` is who the budget belongs to, as the subject of a sentence: `You (alice)`,
/// `Team platform`, `Project apollo` (the verb agrees: "You … have", otherwise "has").
/// `window_label` is the window kind (`day`, `week`, `month`, as `WindowKind::as_str` gives).
/// `spent` and `limit` are money already formatted by the caller (`$4.00`).
///
/// ```
/// let alert = tokenwise_notify::budget_alert("You (alice)", "day", 80, "$4.00", "$5.00");
/// assert_eq!(alert.title, "Tokenwise: 80 % of today's budget used");
/// assert_eq!(
///     alert.body,
///     "You (alice) have used $4.00 of today's $5.00. \
///      Simple questions still answer locally, for free."
/// );
/// ```
pub fn budget_alert(
    scope_label: &str,
    window_label: &str,
    threshold_pct: u32,
    spent: &str,
    limit: &str,
) -> BudgetAlert {
    let window = window_possessive(window_label);
    let scope_label = scope_label.trim();
    let first_word = scope_label.split_whitespace().next().unwrap_or("");
    let verb = if first_word.eq_ignore_ascii_case("you") {
        "have"
    } else {
        "has"
    };
    let title = if threshold_pct >= 100 {
        format!("Tokenwise: {window} budget is used up ({threshold_pct} %)")
    } else {
        format!("Tokenwise: {threshold_pct} % of {window} budget used")
    };
    let used_up = if threshold_pct >= 100 {
        ": the budget is used up"
    } else {
        ""
    };
    let body = format!(
        "{scope_label} {verb} used {spent} of {window} {limit}{used_up}. \
         Simple questions still answer locally, for free."
    );
    BudgetAlert {
        title,
        body,
        threshold_pct,
    }
}

/// Shows alerts with the desktop's notification service (freedesktop notifications over the
/// session D-Bus; on macOS and Windows, notify-rust's native backends).
///
/// Application name `Tokenwise`. Below 100 % the alert has normal urgency and disappears after
/// [`DesktopNotifier::NORMAL_EXPIRY`]; at or over 100 % it is critical and stays until
/// dismissed. Delivery runs on a helper thread and is abandoned after the delivery timeout, so
/// a hung notification service never blocks the caller for longer.
#[derive(Debug, Clone)]
pub struct DesktopNotifier {
    delivery_timeout: Duration,
}

impl DesktopNotifier {
    /// The application name shown with every alert.
    pub const APP_NAME: &'static str = "Tokenwise";
    /// How long [`Notifier::notify`] waits for the notification service.
    pub const DEFAULT_DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);
    /// How long a normal (below 100 %) alert stays on screen.
    pub const NORMAL_EXPIRY: Duration = Duration::from_secs(10);

    /// A notifier with the default delivery timeout.
    pub fn new() -> DesktopNotifier {
        DesktopNotifier::with_delivery_timeout(DesktopNotifier::DEFAULT_DELIVERY_TIMEOUT)
    }

    /// A notifier that gives up on the notification service after `timeout`.
    pub fn with_delivery_timeout(timeout: Duration) -> DesktopNotifier {
        DesktopNotifier {
            delivery_timeout: timeout,
        }
    }

    /// How long [`Notifier::notify`] waits at most.
    pub fn delivery_timeout(&self) -> Duration {
        self.delivery_timeout
    }

    fn notification(alert: &BudgetAlert) -> notify_rust::Notification {
        let mut notification = notify_rust::Notification::new();
        notification
            .appname(DesktopNotifier::APP_NAME)
            .summary(&alert.title)
            .body(&alert.body);
        if alert.is_critical() {
            notification
                .icon("dialog-error")
                .timeout(notify_rust::Timeout::Never);
        } else {
            let expiry_ms =
                u32::try_from(DesktopNotifier::NORMAL_EXPIRY.as_millis()).unwrap_or(u32::MAX);
            notification
                .icon("dialog-warning")
                .timeout(notify_rust::Timeout::Milliseconds(expiry_ms));
        }
        #[cfg(all(unix, not(target_os = "macos")))]
        notification.urgency(if alert.is_critical() {
            notify_rust::Urgency::Critical
        } else {
            notify_rust::Urgency::Normal
        });
        notification
    }
}

impl Default for DesktopNotifier {
    fn default() -> DesktopNotifier {
        DesktopNotifier::new()
    }
}

impl DesktopNotifier {
    /// Shows a plain notice (not a budget alert), e.g. "Tokenwise is still running in the
    /// tray". Blocks like [`Notifier::notify`].
    pub fn notice(&self, title: &str, body: &str) -> Result<(), NotifyError> {
        let mut notification = notify_rust::Notification::new();
        notification
            .appname(DesktopNotifier::APP_NAME)
            .summary(title)
            .body(body)
            .icon("dialog-information");
        self.deliver(notification)
    }

    fn deliver(&self, notification: notify_rust::Notification) -> Result<(), NotifyError> {
        let (sender, receiver) = mpsc::sync_channel(1);
        // notify-rust blocks until the service answers, with no timeout of its own: deliver on
        // a helper thread, which is left to finish on its own if the service never answers.
        thread::Builder::new()
            .name("tokenwise-notify".to_string())
            .spawn(move || {
                let outcome = notification
                    .show()
                    .map(drop)
                    .map_err(|error| error.to_string());
                // The receiver is gone when the caller gave up waiting: nothing to tell.
                let _ = sender.send(outcome);
            })
            .map_err(|error| NotifyError::Rejected {
                detail: format!("could not start the delivery thread: {error}"),
            })?;
        match receiver.recv_timeout(self.delivery_timeout) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(detail)) => Err(classify(detail)),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(NotifyError::Timeout {
                after: self.delivery_timeout,
            }),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(NotifyError::Rejected {
                detail: "the delivery thread stopped without an answer".to_string(),
            }),
        }
    }
}

impl Notifier for DesktopNotifier {
    fn notify(&self, alert: &BudgetAlert) -> Result<(), NotifyError> {
        self.deliver(DesktopNotifier::notification(alert))
    }
}

/// Sorts a notify-rust error (only its text is public) into a [`NotifyError`].
fn classify(detail: String) -> NotifyError {
    const NO_SERVICE: [&str; 3] = [
        "org.freedesktop.DBus.Error.ServiceUnknown",
        "org.freedesktop.DBus.Error.NameHasNoOwner",
        "org.freedesktop.DBus.Error.Spawn",
    ];
    const NO_BUS: [&str; 4] = [
        "failed to connect to",
        "I/O error",
        "address error",
        "D-Bus handshake failed",
    ];
    if NO_SERVICE.iter().any(|name| detail.contains(name)) {
        NotifyError::NoService { detail }
    } else if NO_BUS.iter().any(|prefix| detail.starts_with(prefix)) {
        NotifyError::NoSessionBus { detail }
    } else {
        NotifyError::Rejected { detail }
    }
}

/// Keeps alerts in memory instead of showing them: for tests of the code that decides when to
/// alert. Can be set to fail, to test what happens when an alert cannot be shown.
#[derive(Debug, Default)]
pub struct RecordingNotifier {
    alerts: Mutex<Vec<BudgetAlert>>,
    failure: Option<NotifyError>,
}

impl RecordingNotifier {
    /// A notifier that records every alert and succeeds.
    pub fn new() -> RecordingNotifier {
        RecordingNotifier::default()
    }

    /// A notifier whose every [`Notifier::notify`] fails with `error` (recording nothing).
    pub fn failing(error: NotifyError) -> RecordingNotifier {
        RecordingNotifier {
            alerts: Mutex::default(),
            failure: Some(error),
        }
    }

    /// The alerts shown so far, oldest first.
    pub fn alerts(&self) -> Vec<BudgetAlert> {
        self.lock().clone()
    }

    /// Takes the alerts shown so far, leaving none.
    pub fn take(&self) -> Vec<BudgetAlert> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, Vec<BudgetAlert>> {
        // A panic elsewhere while holding the lock leaves a valid Vec: keep using it.
        self.alerts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Notifier for RecordingNotifier {
    fn notify(&self, alert: &BudgetAlert) -> Result<(), NotifyError> {
        if let Some(error) = &self.failure {
            return Err(error.clone());
        }
        self.lock().push(alert.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_alert() {
        let alert = budget_alert("You (alice)", "day", 80, "$4.00", "$5.00");
        assert_eq!(alert.title, "Tokenwise: 80 % of today's budget used");
        assert_eq!(
            alert.body,
            "You (alice) have used $4.00 of today's $5.00. \
             Simple questions still answer locally, for free."
        );
        assert_eq!(alert.threshold_pct, 80);
        assert!(!alert.is_critical());
    }

    #[test]
    fn windows_are_worded_as_today_this_week_this_month() {
        assert_eq!(window_possessive("day"), "today's");
        assert_eq!(window_possessive("week"), "this week's");
        assert_eq!(window_possessive("month"), "this month's");
        assert_eq!(window_possessive(" Monthly "), "this month's");
        assert_eq!(window_possessive("quarter"), "this quarter's");
        let alert = budget_alert("You (bob)", "week", 50, "$25.00", "$50.00");
        assert_eq!(alert.title, "Tokenwise: 50 % of this week's budget used");
        assert_eq!(
            alert.body,
            "You (bob) have used $25.00 of this week's $50.00. \
             Simple questions still answer locally, for free."
        );
        let alert = budget_alert("You (bob)", "month", 80, "$160.00", "$200.00");
        assert_eq!(alert.title, "Tokenwise: 80 % of this month's budget used");
    }

    #[test]
    fn teams_and_projects_have_the_third_person() {
        let alert = budget_alert("Team platform", "month", 50, "$250.00", "$500.00");
        assert_eq!(
            alert.body,
            "Team platform has used $250.00 of this month's $500.00. \
             Simple questions still answer locally, for free."
        );
        // "Youth team" is not "you".
        let alert = budget_alert("Youth team", "day", 50, "$1.00", "$2.00");
        assert!(
            alert.body.starts_with("Youth team has used"),
            "{}",
            alert.body
        );
    }

    #[test]
    fn at_or_over_the_limit_the_alert_says_used_up_and_is_critical() {
        let alert = budget_alert("You (alice)", "day", 100, "$5.00", "$5.00");
        assert_eq!(alert.title, "Tokenwise: today's budget is used up (100 %)");
        assert_eq!(
            alert.body,
            "You (alice) have used $5.00 of today's $5.00: the budget is used up. \
             Simple questions still answer locally, for free."
        );
        assert!(alert.is_critical());
        let alert = budget_alert("Project apollo", "week", 120, "$61.00", "$50.00");
        assert_eq!(
            alert.title,
            "Tokenwise: this week's budget is used up (120 %)"
        );
        assert!(alert.is_critical());
    }

    #[test]
    fn the_recording_notifier_records_in_order_or_fails_as_told() {
        let notifier = RecordingNotifier::new();
        let first = budget_alert("You (alice)", "day", 50, "$2.50", "$5.00");
        let second = budget_alert("You (alice)", "day", 80, "$4.00", "$5.00");
        notifier.notify(&first).unwrap();
        notifier.notify(&second).unwrap();
        assert_eq!(notifier.alerts(), [first.clone(), second.clone()]);
        assert_eq!(notifier.take(), [first.clone(), second]);
        assert!(notifier.alerts().is_empty());

        let failure = NotifyError::NoService {
            detail: "test".to_string(),
        };
        let failing = RecordingNotifier::failing(failure.clone());
        assert_eq!(failing.notify(&first), Err(failure));
        assert!(failing.alerts().is_empty());
    }

    #[test]
    fn errors_are_sorted_by_what_to_do() {
        let no_service = classify(
            "org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.Notifications \
             was not provided by any .service files"
                .to_string(),
        );
        assert!(matches!(no_service, NotifyError::NoService { .. }));
        assert!(no_service
            .to_string()
            .starts_with("no desktop notification service is running"));
        let no_bus = classify(
            "failed to connect to `unix:path=/run/user/1000/bus`: No such file or directory \
             (os error 2)"
                .to_string(),
        );
        assert!(matches!(no_bus, NotifyError::NoSessionBus { .. }));
        let no_bus = classify("I/O error: Connection reset by peer (os error 104)".to_string());
        assert!(matches!(no_bus, NotifyError::NoSessionBus { .. }));
        assert!(no_bus.to_string().contains("DBUS_SESSION_BUS_ADDRESS"));
        let other = classify("org.example.Error.Odd: odd".to_string());
        assert!(matches!(other, NotifyError::Rejected { .. }));
        let timeout = NotifyError::Timeout {
            after: Duration::from_millis(1500),
        };
        assert!(timeout.to_string().contains("within 1500 ms"));
    }

    #[test]
    fn notifiers_are_usable_as_shared_trait_objects() {
        let notifiers: Vec<std::sync::Arc<dyn Notifier>> = vec![
            std::sync::Arc::new(RecordingNotifier::new()),
            std::sync::Arc::new(DesktopNotifier::new()),
        ];
        assert_eq!(notifiers.len(), 2);
        assert_eq!(
            DesktopNotifier::default().delivery_timeout(),
            DesktopNotifier::DEFAULT_DELIVERY_TIMEOUT
        );
    }
}

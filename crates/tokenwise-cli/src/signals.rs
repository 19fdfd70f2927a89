//! The signals that end a command: Ctrl-C everywhere; SIGTERM and SIGHUP on Unix too.

/// Waits for the first termination signal and names it. If a handler cannot be installed,
/// that signal is simply not waited for (the default action then applies).
pub async fn termination() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).ok();
        let mut hangup = signal(SignalKind::hangup()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => "Ctrl-C (SIGINT)",
            Some(_) = async { term.as_mut()?.recv().await } => "SIGTERM",
            Some(_) = async { hangup.as_mut()?.recv().await } => "SIGHUP",
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

//! `tokenwise connect | disconnect | sync`: the link to the company's quota server.

use std::sync::Arc;

use tokenwise_app::{AppPaths, CompanyStatus, Tokenwise};
use tokenwise_core::SystemClock;

use crate::output::out;

#[derive(clap::Args)]
pub struct ConnectArgs {
    /// The quota server's address, e.g. https://quota.example.com.
    server_url: String,
    /// The one-time enrollment code from your administrator.
    #[arg(long, required_unless_present = "litellm", conflicts_with = "litellm")]
    code: Option<String>,
    /// The company runs a LiteLLM proxy: SERVER_URL is its address, and your virtual key is
    /// read from standard input (never from the command line, which shells keep).
    #[arg(long)]
    litellm: bool,
    /// How this device appears in the administrator's list (default: the host name).
    #[arg(long)]
    device_name: Option<String>,
}

async fn open() -> Result<Tokenwise, String> {
    Tokenwise::open(AppPaths::from_env(), Arc::new(SystemClock))
        .await
        .map_err(|e| e.to_string())
}

/// Enrolls this device and prints who it is on the server.
pub async fn connect(args: ConnectArgs) -> Result<(), String> {
    let virtual_key = if args.litellm {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| format!("could not read the virtual key from standard input: {e}"))?;
        Some(line)
    } else {
        None
    };
    let app = open().await?;
    let device_name = args.device_name.unwrap_or_else(host_name);
    let result = match (&virtual_key, &args.code) {
        (Some(key), _) => app.connect_litellm(&args.server_url, key).await,
        (None, Some(code)) => {
            app.connect_company(&args.server_url, code, &device_name)
                .await
        }
        (None, None) => Err(tokenwise_app::AppError::InvalidInput(
            "give --code CODE, or --litellm with the virtual key on standard input".into(),
        )),
    }
    .map_err(|e| e.to_string());
    app.close().await;
    let status = result?;
    out!("Connected to {} as {}.", status.server_url, who(&status));
    print_status(&status);
    Ok(())
}

/// Forgets the server and this device's token.
pub async fn disconnect() -> Result<(), String> {
    let app = open().await?;
    let result = app.disconnect_company().await.map_err(|e| e.to_string());
    app.close().await;
    match result? {
        0 => out!("Disconnected. Budgets now come from the budget file only."),
        dropped => {
            out!("Disconnected. {dropped} records the server had not received yet were dropped.")
        }
    }
    Ok(())
}

/// Pulls the company's quota and pushes what it has not heard yet; fails when offline.
pub async fn sync() -> Result<(), String> {
    let app = open().await?;
    let result = app.sync_company().await.map_err(|e| e.to_string());
    app.close().await;
    let Some(status) = result? else {
        return Err(
            "not connected to a company: run `tokenwise connect URL --code CODE` first.".into(),
        );
    };
    print_status(&status);
    match &status.offline {
        Some(reason) => Err(format!("offline: {reason}")),
        None => Ok(()),
    }
}

fn who(status: &CompanyStatus) -> String {
    let name = if status.user_name.is_empty() {
        status.user_id.clone()
    } else {
        format!("{} ({})", status.user_name, status.user_id)
    };
    if status.team_id.is_empty() {
        name
    } else {
        format!("{name}, team {}", status.team_name)
    }
}

/// The company block of `sync`, `connect` and `usage`.
pub fn print_status(status: &CompanyStatus) {
    out!("Company: {} at {}", who(status), status.server_url);
    if !status.projects.is_empty() {
        let projects: Vec<String> = status
            .projects
            .iter()
            .map(|p| format!("{} ({})", p.id, p.name))
            .collect();
        out!(
            "Projects you may charge (--project): {}",
            projects.join(", ")
        );
    }
    let as_of = status
        .synced_at_ms
        .map(crate::usage::clock_time)
        .unwrap_or_else(|| "never".into());
    match &status.offline {
        Some(reason) => out!("Figures as of {as_of} · OFFLINE: {reason}"),
        None => out!("Figures as of {as_of}"),
    }
    if status.pending_records > 0 {
        out!(
            "{} records wait to be sent to the server.",
            status.pending_records
        );
    }
    if status.refused_records > 0 {
        out!(
            "{} records were refused by the server: {}",
            status.refused_records,
            status.last_refusal.as_deref().unwrap_or("no reason given")
        );
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "Tokenwise CLI".into())
}

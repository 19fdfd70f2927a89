//! `tokenwise-server`: `serve` runs the API; `admin …` sets up the company directly in the
//! database (the same operations as the admin API).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use tokenwise_core::{Clock, SystemClock};
use tokenwise_server::company::{self, BudgetSpec, NewProject, NewTeam, NewUser};
use tokenwise_server::spend::{self, GroupBy};
use tokenwise_server::{router, tls, Db, RateLimit, RateLimiter, ServerError, ServerState};

#[derive(Parser)]
#[command(
    name = "tokenwise-server",
    version,
    about = "The Tokenwise company quota server"
)]
struct Cli {
    /// A SQLite file (created if missing) or a postgres:// URL.
    #[arg(
        long,
        env = "TOKENWISE_SERVER_DATABASE_URL",
        global = true,
        default_value = "tokenwise-server.sqlite3"
    )]
    database_url: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API.
    Serve(ServeArgs),
    /// Set up the company: teams, projects, users, budgets, catalog, devices, spend.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Args)]
struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// Serve HTTPS with this certificate chain (PEM, leaf first). Without it the server
    /// speaks plain HTTP: put TLS in front (a reverse proxy or load balancer).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// A file holding the admin token (first line). Or set TOKENWISE_SERVER_ADMIN_TOKEN.
    /// Without either, the admin API is off.
    #[arg(long)]
    admin_token_file: Option<PathBuf>,
    /// Requests per second per credential (a token bucket).
    #[arg(long, default_value_t = 20.0)]
    rate_per_second: f64,
    /// Requests a credential may make at once before the rate applies.
    #[arg(long, default_value_t = 60.0)]
    rate_burst: f64,
    /// Log lines as JSON (for a log collector) instead of text.
    #[arg(long)]
    json_logs: bool,
}

#[derive(Subcommand)]
enum AdminCommand {
    #[command(subcommand)]
    Team(TeamCommand),
    #[command(subcommand)]
    Project(ProjectCommand),
    #[command(subcommand)]
    User(UserCommand),
    #[command(subcommand)]
    Budget(BudgetCommand),
    #[command(subcommand)]
    Catalog(CatalogCommand),
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Spend since a date, grouped.
    Spend {
        #[arg(long, value_enum)]
        group_by: GroupByArg,
        /// YYYY-MM-DD (UTC) or milliseconds since the epoch; default: everything.
        #[arg(long)]
        since: Option<String>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum GroupByArg {
    Team,
    User,
    Project,
    Tier,
    Day,
}

#[derive(Subcommand)]
enum TeamCommand {
    Add {
        id: String,
        #[arg(long)]
        name: Option<String>,
    },
    List,
    /// Limit a team to some tiers of the catalog (none given: every tier).
    AllowTiers {
        id: String,
        tiers: Vec<String>,
    },
}

#[derive(Subcommand)]
enum ProjectCommand {
    Add {
        id: String,
        #[arg(long)]
        name: Option<String>,
    },
    List,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; prints a one-time enrollment code for their app.
    Add {
        id: String,
        #[arg(long)]
        team: String,
        #[arg(long = "project")]
        projects: Vec<String>,
        #[arg(long)]
        name: Option<String>,
    },
    /// A new enrollment code for another device of the user.
    Enroll { id: String },
}

#[derive(Subcommand)]
enum BudgetCommand {
    /// Create or replace a budget.
    Set {
        /// `user:ID`, `team:ID` or `project:ID`.
        #[arg(long)]
        scope: String,
        /// day, week or month.
        #[arg(long)]
        window: String,
        /// Dollars, exactly: 200 or 12.50.
        #[arg(long)]
        limit_usd: String,
        /// Warn instead of refusing when the limit is reached.
        #[arg(long)]
        soft: bool,
        /// Alert percentages, e.g. 50,80,100.
        #[arg(long, value_delimiter = ',')]
        thresholds: Option<Vec<u32>>,
        /// IANA time zone of the windows (default UTC).
        #[arg(long)]
        time_zone: Option<String>,
        /// First day of the week (default monday).
        #[arg(long)]
        week_start: Option<String>,
    },
    List,
    Rm {
        #[arg(long)]
        scope: String,
        #[arg(long)]
        window: String,
    },
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Replace the tier catalog with a TOML file (the app's format).
    Set {
        file: PathBuf,
    },
    Show,
}

#[derive(Subcommand)]
enum DeviceCommand {
    List {
        #[arg(long)]
        user: Option<String>,
    },
    /// Its token stops working at once.
    Revoke { id: String },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(&cli.database_url, args).await,
        Command::Admin(command) => admin(&cli.database_url, command).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tokenwise-server: {error}");
            ExitCode::FAILURE
        }
    }
}

fn admin_token(file: Option<&PathBuf>) -> Result<Option<String>, ServerError> {
    let token = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ServerError::Config(format!(
                    "cannot read the admin token file {}: {e}",
                    path.display()
                ))
            })?;
            Some(text.lines().next().unwrap_or("").trim().to_string())
        }
        None => std::env::var("TOKENWISE_SERVER_ADMIN_TOKEN").ok(),
    };
    match token {
        Some(token) if token.len() < 16 => Err(ServerError::Config(
            "the admin token must be at least 16 characters.".into(),
        )),
        other => Ok(other),
    }
}

async fn serve(database_url: &str, args: ServeArgs) -> Result<(), ServerError> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if args.json_logs {
        builder.json().init();
    } else {
        builder.init();
    }
    let admin_token = admin_token(args.admin_token_file.as_ref())?;
    // Checked before anything else starts: a bad certificate fails the start, not a client.
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls::load_config(cert, key)?),
        _ => None,
    };
    let db = Db::connect(database_url).await?;
    let state = Arc::new(ServerState {
        db,
        admin_token,
        clock: Arc::new(SystemClock),
        limiter: RateLimiter::new(RateLimit {
            per_second: args.rate_per_second,
            burst: args.rate_burst,
        }),
    });
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| ServerError::Config(format!("cannot listen on {}: {e}", args.listen)))?;
    let address = listener
        .local_addr()
        .map_err(|e| ServerError::Config(e.to_string()))?;
    tracing::info!(%address, admin_api = state.admin_token.is_some(), "listening");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    // The one line a script waits for.
    match tls {
        Some(config) => {
            println!("listening on https://{address}");
            tls::serve(listener, config, router(state), shutdown).await
        }
        None => {
            println!("listening on http://{address}");
            axum::serve(listener, router(state))
                .with_graceful_shutdown(shutdown)
                .await
                .map_err(|e| ServerError::Config(format!("the server stopped: {e}")))
        }
    }
}

fn print(value: &impl serde::Serialize) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("plain data serializes")
    );
}

fn scope(text: &str) -> Result<(String, String), ServerError> {
    text.split_once(':')
        .map(|(kind, id)| (kind.to_string(), id.to_string()))
        .ok_or_else(|| {
            ServerError::BadRequest(format!(
                "--scope {text:?} must be user:ID, team:ID or project:ID."
            ))
        })
}

async fn admin(database_url: &str, command: AdminCommand) -> Result<(), ServerError> {
    let db = Db::connect(database_url).await?;
    let now = SystemClock.now_ms();
    match command {
        AdminCommand::Team(TeamCommand::Add { id, name }) => {
            print(&company::add_team(&db, &NewTeam { id, name }, now).await?)
        }
        AdminCommand::Team(TeamCommand::List) => print(&company::list_teams(&db).await?),
        AdminCommand::Team(TeamCommand::AllowTiers { id, tiers }) => {
            let tiers = (!tiers.is_empty()).then_some(tiers);
            print(&company::set_allowed_tiers(&db, &id, tiers).await?)
        }
        AdminCommand::Project(ProjectCommand::Add { id, name }) => {
            print(&company::add_project(&db, &NewProject { id, name }, now).await?)
        }
        AdminCommand::Project(ProjectCommand::List) => print(&company::list_projects(&db).await?),
        AdminCommand::User(UserCommand::Add {
            id,
            team,
            projects,
            name,
        }) => {
            let user = NewUser {
                id,
                name,
                team_id: team,
                project_ids: projects,
            };
            let enrollment = company::add_user(&db, &user, now).await?;
            eprintln!(
                "Give {} this one-time code for Settings → Connect to your company (valid 7 days):",
                enrollment.user_id
            );
            print(&enrollment)
        }
        AdminCommand::User(UserCommand::Enroll { id }) => {
            print(&company::new_enrollment(&db, &id, now).await?)
        }
        AdminCommand::Budget(BudgetCommand::Set {
            scope: text,
            window,
            limit_usd,
            soft,
            thresholds,
            time_zone,
            week_start,
        }) => {
            let (scope_kind, scope_id) = scope(&text)?;
            let week_start = week_start
                .map(|day| {
                    serde_json::from_value(serde_json::Value::String(day.to_lowercase())).map_err(
                        |_| {
                            ServerError::BadRequest(format!(
                                "--week-start {day:?} is not a weekday."
                            ))
                        },
                    )
                })
                .transpose()?;
            let spec = BudgetSpec {
                scope_kind,
                scope_id,
                window,
                limit_usd,
                hard: !soft,
                thresholds,
                time_zone,
                week_start,
            };
            print(&company::set_budget(&db, &spec).await?)
        }
        AdminCommand::Budget(BudgetCommand::List) => print(&company::list_budgets(&db).await?),
        AdminCommand::Budget(BudgetCommand::Rm {
            scope: text,
            window,
        }) => {
            let (kind, id) = scope(&text)?;
            company::remove_budget(&db, &kind, &id, &window).await?;
        }
        AdminCommand::Catalog(CatalogCommand::Set { file }) => {
            let text = std::fs::read_to_string(&file).map_err(|e| {
                ServerError::BadRequest(format!("cannot read {}: {e}", file.display()))
            })?;
            company::set_catalog(&db, &text, now).await?;
        }
        AdminCommand::Catalog(CatalogCommand::Show) => {
            print!("{}", company::catalog_toml(&db).await?)
        }
        AdminCommand::Device(DeviceCommand::List { user }) => {
            print(&company::list_devices(&db, user.as_deref()).await?)
        }
        AdminCommand::Device(DeviceCommand::Revoke { id }) => {
            company::revoke_device(&db, &id, now).await?
        }
        AdminCommand::Spend { group_by, since } => {
            let group_by = match group_by {
                GroupByArg::Team => GroupBy::Team,
                GroupByArg::User => GroupBy::User,
                GroupByArg::Project => GroupBy::Project,
                GroupByArg::Tier => GroupBy::Tier,
                GroupByArg::Day => GroupBy::Day,
            };
            let since_ms = since
                .as_deref()
                .map(spend::parse_since)
                .transpose()?
                .unwrap_or(0);
            print(&spend::report(&db, group_by, since_ms, now).await?)
        }
    }
    db.pool.close().await;
    Ok(())
}

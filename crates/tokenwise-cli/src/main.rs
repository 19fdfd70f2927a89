//! `tokenwise`: the command-line front end over the same facade as the desktop app.
//!
//! - `tokenwise ask "…"` streams an answer from the local model to stdout (`--json` prints the
//!   answer with its usage figures instead).
//! - `tokenwise summarize FILE | - | --clipboard` streams a summary by the local model (long
//!   texts in parts); with `--clipboard` while the desktop app runs, its popup opens instead.
//! - `tokenwise classify "…"` prints the classifier's tier, confidence and reason;
//!   `--jsonl FILE` classifies a JSON-lines file (one verdict per line, in order).
//! - `tokenwise usage` prints the budget windows and the ledger (`--json`, `--since`,
//!   `--scope`).
//! - `tokenwise connect URL --code CODE`, `disconnect`, `sync`: the company's quota server
//!   (its budgets join the budget file's everywhere; cloud calls are held there first).
//! - `tokenwise bench local` prints load time, time to first token, prefill and decode speed and
//!   peak memory of the default model; `tokenwise bench summarize` times quick summarize as a
//!   person gets it.

mod ask;
mod bench;
mod bench_summary;
mod classify;
mod company;
mod desktop;
mod engine;
mod models;
mod output;
mod policy;
mod route;
mod route_score;
mod signals;
mod summarize;
mod usage;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "tokenwise",
    version,
    about = "Ask AI for less: local first, cloud when it pays."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Ask the local model a question; the answer streams to stdout.
    Ask(ask::AskArgs),
    /// Summarize a text file, standard input or the clipboard with the local model, free.
    Summarize(summarize::SummarizeArgs),
    /// Say how hard a prompt is: tier (simple / medium / complex), confidence and reason.
    Classify(classify::ClassifyArgs),
    /// Where the app would send a prompt after every rule (confidence, the local model's reach,
    /// length, budget, policy): an audit, nothing is sent.
    Route(route::RouteArgs),
    /// Budgets (tightest first) and spend: what the window's meter and spend view show.
    Usage(usage::UsageArgs),
    /// Connect this device to your company's quota server with a one-time code.
    Connect(company::ConnectArgs),
    /// Forget the company's quota server and this device's token.
    Disconnect,
    /// Pull the company's quota now and send what the server has not heard yet.
    Sync,
    /// The organization's policy: what is in force and from where, check files, the schema.
    Policy {
        #[command(subcommand)]
        command: policy::PolicyCommand,
    },
    /// Local models: which fit this laptop, download (resumable, checked), remove.
    Models(models::ModelsArgs),
    /// Measure performance.
    Bench {
        #[command(subcommand)]
        target: bench::BenchTarget,
    },
}

fn main() -> ExitCode {
    // Before anything large is allocated: a long prompt's buffers go back to the system.
    tokenwise_malloc::return_large_buffers_to_the_system();
    let cli = Cli::parse();
    // Before the runtime starts any thread (it sets an environment variable).
    tokenwise_local::confine_engine_cache(&tokenwise_app::AppPaths::from_env().engine_cache_dir());
    tokenwise_local::use_physical_cores();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("tokenwise: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Ask(args) => ask::run(args).await,
            Command::Summarize(args) => summarize::run(args).await,
            Command::Classify(args) => classify::run(args).await,
            Command::Route(args) => route::run(args).await,
            Command::Usage(args) => usage::run(args).await,
            Command::Connect(args) => company::connect(args).await,
            Command::Disconnect => company::disconnect().await,
            Command::Sync => company::sync().await,
            Command::Policy { command } => policy::run(command),
            Command::Models(args) => models::run(args).await,
            Command::Bench { target } => bench::run(target).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("tokenwise: {message}");
            ExitCode::FAILURE
        }
    }
}

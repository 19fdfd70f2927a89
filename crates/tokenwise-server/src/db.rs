//! The database: SQLite (one file, one server instance) or PostgreSQL (several instances),
//! behind one `sqlx::AnyPool` and one set of migrations. The SQL is written once, in the
//! subset both understand (`$1`-style parameters in order of first use, `ON CONFLICT`,
//! `CAST(… AS BIGINT)` around sums); [`Dialect`] names the one difference the code needs:
//! row locks.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::AnyPool;

use crate::error::ServerError;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Which database the pool talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The clause that locks the selected rows until the transaction ends. SQLite needs none:
    /// its pool has one connection, so transactions already run one at a time.
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }
}

/// A handle to the database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub dialect: Dialect,
}

impl Db {
    /// Connects to `url` and applies the migrations. `url` is `postgres://…` or a SQLite file
    /// path (`sqlite://…` or a plain path; the file is created if missing).
    pub async fn connect(url: &str) -> Result<Db, ServerError> {
        sqlx::any::install_default_drivers();
        let (dialect, url) = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Dialect::Postgres, url.to_string())
        } else {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            if path.is_empty() {
                return Err(ServerError::Config(
                    "--database-url is empty: give a SQLite file path or a postgres:// URL.".into(),
                ));
            }
            (Dialect::Sqlite, format!("sqlite://{path}?mode=rwc"))
        };
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|e| ServerError::Config(format!("--database-url is not usable: {e}")))?;
        let pool = match dialect {
            Dialect::Sqlite => {
                AnyPoolOptions::new()
                    // One connection: transactions run one at a time, so a reservation's sums
                    // and its insert are never interleaved with another's.
                    .max_connections(1)
                    .after_connect(|connection, _| {
                        Box::pin(async move {
                            use sqlx::Executor;
                            connection
                                .execute(
                                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                                )
                                .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Dialect::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?
            }
        };
        MIGRATIONS.run(&pool).await?;
        Ok(Db { pool, dialect })
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), ServerError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

//! Opening the database: folder, pragmas, integrity check, migrations.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, SqlitePool};

use crate::error::StoreError;

/// How long a write waits for another process's lock before giving up with
/// [`StoreError::Locked`].
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A handle to the database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: SqlitePool,
    pub(crate) path: PathBuf,
}

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Store {
    /// Opens (creating if needed) the database file at `path` and brings its schema up to date.
    ///
    /// Safe when several processes start at once on a new file (four `tokenwise ask` in a
    /// script): the schema set-up — WAL switch, integrity check, migrations — runs under an
    /// exclusive lock on `<path>.lock`, so one process migrates and the others wait for it and
    /// then find the schema current. Without it, two processes both see a migration as missing
    /// and the second fails ("duplicate column name").
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(|cause| StoreError::Folder {
                path: folder.to_path_buf(),
                cause,
            })?;
        }
        let _setup_lock = setup_lock(path).await?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        // WAL is a property of the file: set it once, on one connection, before the pool opens
        // several. Pool connections that each ask for it race for the exclusive lock the
        // switch needs, and the losers fail with "database is locked" (no busy wait applies).
        let first =
            SqliteConnection::connect_with(&options.clone().journal_mode(SqliteJournalMode::Wal))
                .await
                .map_err(|error| StoreError::from_sqlx(path, error))?;
        first
            .close()
            .await
            .map_err(|error| StoreError::from_sqlx(path, error))?;
        Self::connect(options, path.to_path_buf(), 4).await
    }

    /// A private database in memory: for tests, and for a session whose database file is
    /// damaged (the app says its chats will not be kept).
    pub async fn open_in_memory() -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(|error| StoreError::from_sqlx(Path::new(":memory:"), error))?
            .foreign_keys(true);
        // One connection: every connection to ":memory:" is a different database.
        Self::connect(options, PathBuf::from(":memory:"), 1).await
    }

    async fn connect(
        options: SqliteConnectOptions,
        path: PathBuf,
        max_connections: u32,
    ) -> Result<Self, StoreError> {
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(BUSY_TIMEOUT + Duration::from_secs(1))
            .connect_with(options)
            .await
            .map_err(|error| StoreError::from_sqlx(&path, error))?;
        let store = Store { pool, path };
        store.check_integrity().await?;
        MIGRATIONS
            .run(&store.pool)
            .await
            .map_err(|error| match error {
                sqlx::migrate::MigrateError::Execute(inner) => {
                    StoreError::from_sqlx(&store.path, inner)
                }
                other => StoreError::Database {
                    path: store.path.clone(),
                    detail: other.to_string(),
                },
            })?;
        Ok(store)
    }

    async fn check_integrity(&self) -> Result<(), StoreError> {
        let verdict: String = sqlx::query_scalar("PRAGMA quick_check")
            .fetch_one(&self.pool)
            .await
            .map_err(|error| self.error(error))?;
        if verdict == "ok" {
            Ok(())
        } else {
            Err(StoreError::Corrupt {
                path: self.path.clone(),
                detail: verdict,
            })
        }
    }

    /// Where the database file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn error(&self, error: sqlx::Error) -> StoreError {
        StoreError::from_sqlx(&self.path, error)
    }

    /// Moves everything written into the database file (the write-ahead log is emptied),
    /// then closes every connection. The checkpoint is explicit because a connection's own
    /// close, which would do the same, runs on sqlx's worker thread and may still be under
    /// way when the process exits.
    pub async fn close(&self) {
        if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await
        {
            eprintln!(
                "tokenwise: the history's write-ahead log could not be checkpointed: {}",
                self.error(error)
            );
        }
        self.pool.close().await;
    }
}

/// Takes the exclusive set-up lock of the database at `path` (released when the returned file
/// is dropped), waiting on a blocking thread for another process to finish its set-up.
async fn setup_lock(path: &Path) -> Result<std::fs::File, StoreError> {
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock");
    let lock_path = PathBuf::from(lock_path);
    let failed = |cause: std::io::Error| StoreError::Database {
        path: path.to_path_buf(),
        detail: format!(
            "could not take the set-up lock {}: {cause}",
            lock_path.display()
        ),
    };
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(&lock_path).map_err(failed)?;
    tokio::task::spawn_blocking(move || file.lock().map(|()| file))
        .await
        .map_err(|join| failed(std::io::Error::other(join.to_string())))?
        .map_err(failed)
}

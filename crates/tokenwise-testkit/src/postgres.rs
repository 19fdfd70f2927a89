//! A real PostgreSQL server for tests: a new cluster in a temporary folder, on a free
//! 127.0.0.1 port, stopped and removed when dropped (also when the test panics).
//!
//! PostgreSQL refuses to run as root, and CI runs as root: then the cluster is created and
//! run as the unprivileged `nobody` (through `runuser`), in a folder it owns. Clients connect
//! over TCP as the cluster's superuser `tokenwise` (trust authentication, loopback only).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A running PostgreSQL cluster.
pub struct Postgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_nobody: bool,
}

/// Where the server binaries are: `TOKENWISE_PG_BIN`, else the newest
/// `/usr/lib/postgresql/*/bin` (Debian's `postgresql` package).
pub fn postgres_bin() -> PathBuf {
    if let Some(dir) = std::env::var_os("TOKENWISE_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    versions.retain(|dir| dir.join("initdb").exists());
    versions.sort_by_key(|dir| {
        dir.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL's server is not installed: run scripts/install-deps.sh test (apt package \
             postgresql), or set TOKENWISE_PG_BIN to the folder holding initdb and pg_ctl"
        )
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Postgres {
    /// Creates and starts a cluster; waits until it accepts connections.
    pub fn start() -> Postgres {
        let bin = postgres_bin();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("tokenwise-pg-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let as_nobody = is_root();
        if as_nobody {
            let owned = Command::new("chown")
                .args(["-R", "nobody"])
                .arg(&dir)
                .status()
                .unwrap();
            assert!(
                owned.success(),
                "could not hand {} to nobody",
                dir.display()
            );
        }
        let postgres = Postgres {
            bin,
            dir,
            port,
            as_nobody,
        };
        let data = postgres.dir.join("data");
        postgres.run_server_tool(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "tokenwise",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            postgres.dir.display()
        );
        postgres.run_server_tool(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                postgres.dir.join("server.log").to_str().unwrap(),
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        postgres
    }

    fn run_server_tool(&self, tool: &str, args: &[&str]) {
        let program = self.bin.join(tool);
        let mut command = if self.as_nobody {
            let mut command = Command::new("runuser");
            command.args(["-u", "nobody", "--"]).arg(&program);
            command
        } else {
            Command::new(&program)
        };
        let output = command
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("could not run {}: {e}", program.display()));
        assert!(
            output.status.success(),
            "{tool} failed: {}{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
        );
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Creates a new, empty database and returns its URL.
    pub fn create_database(&self, name: &str) -> String {
        let output = Command::new(self.bin.join("createdb"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "tokenwise",
                name,
            ])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "createdb {name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        self.url(name)
    }

    /// `postgres://tokenwise@127.0.0.1:PORT/DATABASE`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://tokenwise@127.0.0.1:{}/{database}", self.port)
    }

    /// The cluster's folder (its log is `server.log`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let program = self.bin.join("pg_ctl");
        let mut command = if self.as_nobody {
            let mut command = Command::new("runuser");
            command.args(["-u", "nobody", "--"]).arg(&program);
            command
        } else {
            Command::new(&program)
        };
        let _ = command
            .args([
                "-D",
                data.to_str().unwrap_or(""),
                "-m",
                "immediate",
                "-w",
                "stop",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

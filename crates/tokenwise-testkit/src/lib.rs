//! Test support for Tokenwise's integration tests: real peers, started and stopped by the test.
//!
//! - [`LiteLlmProxy`]: a LiteLLM proxy (from `scripts/install-deps.sh test`'s virtualenv in
//!   `target/litellm-venv`, or `TOKENWISE_LITELLM_BIN`) on a free 127.0.0.1 port with the
//!   test's model list; killed when dropped, also when the test panics. [`MOCK_GATEWAY_YAML`]
//!   is the one mock gateway all tests use; the `tokenwise-test-gateway` binary starts it for
//!   the end-to-end tests (JavaScript), so there is one launcher.
//! - [`Postgres`]: a PostgreSQL cluster of Debian's `postgresql` in a temporary folder on a
//!   free 127.0.0.1 port (run as `nobody` when the tests run as root).
//! - [`QuotaServer`]: a real `tokenwise-server serve` on a free port; [`quota_admin`] runs its
//!   `admin` verbs.
//! - [`FaultProxy`]: an HTTP proxy in front of a real server that injects network faults
//!   ([`Fault`]) on the test's command: 500s, garbage, no answer, a lost or cut-off answer
//!   after the server acted, a duplicated delivery.
//! - [`start_gnome_keyring`]: gnome-keyring-daemon's Secret Service on the current (private,
//!   `dbus-run-session`) session bus, login keyring unlocked with an empty password.
//!
//! A missing tool fails the test with what to install: these tests are never skipped.

mod fault_proxy;
mod keyring;
mod litellm;
mod postgres;
mod server;

pub use fault_proxy::{Fault, FaultProxy};
pub use keyring::{secret_service_owned, start_gnome_keyring};
pub use litellm::{litellm_bin, LiteLlmProxy, MOCK_GATEWAY_YAML, MOCK_TEXT};
pub use postgres::{postgres_bin, Postgres};
pub use server::{assert_no_file_contains, quota_admin, quota_server_binary, QuotaServer};

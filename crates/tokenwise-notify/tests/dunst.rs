//! `DesktopNotifier` against real D-Bus notification services.
//!
//! - Delivery: starts `dunst` (a real notification daemon) on the session bus, watches the bus
//!   with `dbus-monitor`, sends alerts and checks that the `Notify` calls carried the alert's
//!   app name, title, body, urgency and expiry, and that dunst shows them.
//! - Failures: on private buses of their own (a `dbus-daemon` with no service files, so
//!   nothing can be started for the name), no service, a hung service and an unreachable bus
//!   each give their `NotifyError` quickly.
//!
//! Needs an X display and a session bus: run through `scripts/test.sh`, which wraps
//! `cargo test` in `xvfb-run … dbus-run-session --`. By hand:
//! `xvfb-run -a dbus-run-session -- cargo test -p tokenwise-notify`.
//!
//! notify-rust reads the bus address from `DBUS_SESSION_BUS_ADDRESS`, so the tests that point
//! it at a private bus change the process's environment: every test holds [`ENV_LOCK`].

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use tokenwise_notify::{budget_alert, DesktopNotifier, Notifier, NotifyError};

const NOTIFICATIONS: &str = "org.freedesktop.Notifications";
const BUS_VAR: &str = "DBUS_SESSION_BUS_ADDRESS";

static ENV_LOCK: Mutex<()> = Mutex::new(());

fn lock_env() -> MutexGuard<'static, ()> {
    ENV_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The session bus and display this test needs, or a failure that says how to get them.
fn require_session() {
    let missing: Vec<&str> = [BUS_VAR, "DISPLAY"]
        .into_iter()
        .filter(|name| std::env::var_os(name).is_none_or(|value| value.is_empty()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} {} not set: this test needs an X display and a private D-Bus session for dunst. \
         Run it through scripts/test.sh, or by hand: \
         xvfb-run -a dbus-run-session -- cargo test -p tokenwise-notify",
        missing.join(" and "),
        if missing.len() == 1 { "is" } else { "are" }
    );
}

/// A child process killed (and reaped) when dropped, also when the test panics.
struct KillOnDrop {
    name: &'static str,
    child: Child,
}

impl KillOnDrop {
    fn spawn(name: &'static str, command: &mut Command) -> KillOnDrop {
        let child = command.spawn().unwrap_or_else(|error| {
            panic!("cannot start {name}: {error}; install it with scripts/install-deps.sh test")
        });
        KillOnDrop { name, child }
    }

    fn assert_running(&mut self, log: &str) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{} exited early ({status}); its output:\n{log}", self.name);
        }
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh folder under the system's temporary folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(purpose: &str) -> TempDir {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "tokenwise-notify-{purpose}-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a temporary folder");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Collects a child's output on a thread, to read while it runs.
#[derive(Clone, Default)]
struct Output(Arc<Mutex<String>>);

impl Output {
    fn capture(stream: impl Read + Send + 'static) -> Output {
        let output = Output::default();
        let sink = output.clone();
        thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                let mut text = sink.0.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });
        output
    }

    fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }
}

/// Polls `condition` every 50 ms until it holds or `limit` passes.
fn wait_until(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Whether `name` has an owner on the session bus (the one in the environment).
fn name_has_owner(name: &str) -> bool {
    let output = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            &format!("string:{name}"),
        ])
        .output()
        .expect("run dbus-send (package dbus): install it with scripts/install-deps.sh test");
    assert!(
        output.status.success(),
        "dbus-send NameHasOwner failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).contains("boolean true")
}

/// The messages in `dbus-monitor` output (each starts on an unindented line).
fn monitored_messages(output: &str) -> Vec<String> {
    let mut messages: Vec<String> = Vec::new();
    for line in output.lines() {
        if !line.starts_with(' ') || messages.is_empty() {
            messages.push(String::new());
        }
        let message = messages.last_mut().expect("one message at least");
        message.push_str(line);
        message.push('\n');
    }
    messages
}

/// The `Notify` method call whose summary (title) is `title`, if the monitor has seen it.
fn notify_call(monitor: &Output, title: &str) -> Option<String> {
    let summary = format!("   string {title:?}\n");
    monitored_messages(&monitor.text())
        .into_iter()
        .find(|message| {
            message.starts_with("method call")
                && message.contains("interface=org.freedesktop.Notifications; member=Notify")
                && message.contains(&summary)
        })
}

#[test]
fn desktop_notifier_delivers_alerts_to_dunst() {
    let _env = lock_env();
    require_session();
    assert!(
        !name_has_owner(NOTIFICATIONS),
        "{NOTIFICATIONS} is already owned on this session bus, so this test cannot start its own \
         dunst: run it on a private bus through scripts/test.sh"
    );

    // dunst, with an empty configuration (its built-in defaults, no user dunstrc).
    let dir = TempDir::new("dunst");
    let config = dir.0.join("dunstrc");
    std::fs::write(&config, "").expect("write an empty dunstrc");
    let mut dunst_command = Command::new("dunst");
    dunst_command
        .arg("-config")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut dunst = KillOnDrop::spawn("dunst", &mut dunst_command);
    let dunst_log = Output::capture(dunst.child.stderr.take().expect("dunst's stderr"));
    let owned = wait_until(Duration::from_secs(10), || name_has_owner(NOTIFICATIONS));
    dunst.assert_running(&dunst_log.text());
    assert!(
        owned,
        "dunst did not take {NOTIFICATIONS} within 10 s; its output:\n{}",
        dunst_log.text()
    );

    // The monitor is ready once the bus has told it its own name (NameAcquired, NameLost).
    let mut monitor_command = Command::new("dbus-monitor");
    monitor_command
        .args(["--session", "interface='org.freedesktop.Notifications'"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut monitor_process = KillOnDrop::spawn("dbus-monitor", &mut monitor_command);
    let monitor = Output::capture(monitor_process.child.stdout.take().expect("monitor stdout"));
    let ready = wait_until(Duration::from_secs(10), || {
        monitor.text().contains("member=NameLost")
    });
    monitor_process.assert_running(&monitor.text());
    assert!(ready, "dbus-monitor did not start: {}", monitor.text());

    let notifier = DesktopNotifier::new();
    let warning = budget_alert("You (alice)", "day", 80, "$4.00", "$5.00");
    let used_up = budget_alert("Team platform", "month", 100, "$500.00", "$500.00");
    for alert in [&warning, &used_up] {
        if let Err(error) = notifier.notify(alert) {
            panic!(
                "notify failed: {error}\ndunst's output:\n{}",
                dunst_log.text()
            );
        }
    }

    // Each alert went over the bus as a Notify call with Tokenwise's app name, the title and
    // body, the urgency byte (1 normal, 2 critical) and the expiry (10 s; 0 = until dismissed).
    for (alert, urgency, expiry) in [(&warning, 1, 10_000), (&used_up, 2, 0)] {
        let found = wait_until(Duration::from_secs(10), || {
            notify_call(&monitor, &alert.title).is_some()
        });
        assert!(
            found,
            "no Notify call with the title {:?} on the bus; dbus-monitor saw:\n{}",
            alert.title,
            monitor.text()
        );
        let call = notify_call(&monitor, &alert.title).expect("seen above");
        for expected in [
            format!("   string {:?}\n", "Tokenwise"),
            format!("   string {:?}\n", alert.title),
            format!("   string {:?}\n", alert.body),
            format!("string \"urgency\"\n         variant             byte {urgency}\n"),
            format!("   int32 {expiry}\n"),
        ] {
            assert!(
                call.contains(&expected),
                "the Notify call lacks {expected:?}:\n{call}"
            );
        }
    }

    // And dunst took both: they are on screen (or queued, or already in its history).
    let count = Command::new("dunstctl")
        .arg("count")
        .output()
        .expect("run dunstctl (package dunst)");
    let count = String::from_utf8_lossy(&count.stdout).to_string();
    let total: u32 = count
        .lines()
        .filter_map(|line| line.rsplit(':').next()?.trim().parse::<u32>().ok())
        .sum();
    assert_eq!(total, 2, "dunstctl count:\n{count}");

    drop(monitor_process);
    drop(dunst);
}

/// A `dbus-daemon` of the test's own, with no service files: nothing is started on demand.
struct PrivateBus {
    address: String,
    _daemon: KillOnDrop,
    _dir: TempDir,
}

impl PrivateBus {
    fn start() -> PrivateBus {
        let dir = TempDir::new("bus");
        let config = dir.0.join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                dir.0.display()
            ),
        )
        .expect("write the bus configuration");
        let mut command = Command::new("dbus-daemon");
        command
            .arg("--nofork")
            .arg(format!("--config-file={}", config.display()))
            .arg("--print-address=1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut daemon = KillOnDrop::spawn("dbus-daemon", &mut command);
        let mut address = String::new();
        BufReader::new(daemon.child.stdout.take().expect("dbus-daemon's stdout"))
            .read_line(&mut address)
            .expect("read the private bus's address");
        let address = address.trim().to_string();
        assert!(!address.is_empty(), "dbus-daemon printed no address");
        PrivateBus {
            address,
            _daemon: daemon,
            _dir: dir,
        }
    }
}

/// Points `DBUS_SESSION_BUS_ADDRESS` at `address` until dropped (hold [`ENV_LOCK`]).
struct BusAddress(Option<std::ffi::OsString>);

impl BusAddress {
    fn set(address: &str) -> BusAddress {
        let previous = std::env::var_os(BUS_VAR);
        std::env::set_var(BUS_VAR, address);
        BusAddress(previous)
    }
}

impl Drop for BusAddress {
    fn drop(&mut self) {
        match self.0.take() {
            Some(previous) => std::env::set_var(BUS_VAR, previous),
            None => std::env::remove_var(BUS_VAR),
        }
    }
}

#[test]
fn no_notification_service_is_a_clear_error_not_a_hang() {
    let _env = lock_env();
    let bus = PrivateBus::start();
    let _address = BusAddress::set(&bus.address);
    assert!(!name_has_owner(NOTIFICATIONS));

    let notifier = DesktopNotifier::with_delivery_timeout(Duration::from_secs(10));
    let started = Instant::now();
    let error = notifier
        .notify(&budget_alert("You (alice)", "day", 50, "$2.50", "$5.00"))
        .expect_err("no service owns the name on this bus");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(matches!(error, NotifyError::NoService { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with("no desktop notification service is running")
            && message.contains("start your desktop's notification daemon"),
        "{message}"
    );
}

#[test]
fn a_hung_notification_service_times_out() {
    let _env = lock_env();
    let bus = PrivateBus::start();
    let _address = BusAddress::set(&bus.address);
    // Owns the name and never answers (no object server behind the connection).
    let hung = zbus::block_on(async {
        let connection = zbus::Connection::session().await?;
        connection.request_name(NOTIFICATIONS).await?;
        Ok::<_, zbus::Error>(connection)
    })
    .expect("own the notification service's name on the private bus");
    assert!(name_has_owner(NOTIFICATIONS));

    let timeout = Duration::from_millis(1500);
    let notifier = DesktopNotifier::with_delivery_timeout(timeout);
    let started = Instant::now();
    let error = notifier
        .notify(&budget_alert("You (alice)", "day", 100, "$5.00", "$5.00"))
        .expect_err("the service never answers");
    let elapsed = started.elapsed();
    assert_eq!(error, NotifyError::Timeout { after: timeout });
    assert!(
        elapsed >= timeout && elapsed < timeout + Duration::from_secs(2),
        "took {elapsed:?}"
    );
    assert!(
        error.to_string().contains("did not answer within 1500 ms"),
        "{error}"
    );
    drop(hung);
}

#[test]
fn an_unreachable_session_bus_is_a_clear_error() {
    let _env = lock_env();
    let dir = TempDir::new("nobus");
    let _address = BusAddress::set(&format!("unix:path={}", dir.0.join("none").display()));
    let error = DesktopNotifier::with_delivery_timeout(Duration::from_secs(10))
        .notify(&budget_alert("You (alice)", "week", 50, "$10.00", "$20.00"))
        .expect_err("nothing listens at that address");
    assert!(
        matches!(error, NotifyError::NoSessionBus { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("DBUS_SESSION_BUS_ADDRESS"),
        "{error}"
    );
}

//! Standard output for the commands. A reader that goes away (`tokenwise usage | head -4`,
//! `tokenwise classify hi | true`) ends the command quietly with success, as it would under
//! the default SIGPIPE handling that Rust programs do not get, instead of panicking in
//! `println!`. Whatever the command had to save (an answer, the ledger) is saved before it
//! prints.

use std::fmt;
use std::io::Write;

/// `println!` that ends the process quietly when stdout's reader has gone away.
macro_rules! out {
    () => {
        $crate::output::write_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::output::write_line(format_args!($($arg)*))
    };
}
pub(crate) use out;

/// Writes one line to stdout (see [`out!`]).
pub fn write_line(args: fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_fmt(args)
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush());
    if let Err(error) = written {
        exit_on_write_error(&error);
    }
}

/// Ends the process after stdout failed: quietly when its reader went away, else saying why.
pub fn exit_on_write_error(error: &std::io::Error) -> ! {
    if is_closed_reader(error) {
        std::process::exit(0);
    }
    eprintln!("tokenwise: cannot write the output: {error}");
    std::process::exit(1);
}

/// Whether a write failed because the reading end of the pipe was closed.
pub fn is_closed_reader(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::BrokenPipe
}

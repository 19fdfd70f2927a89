//! The patched rayon-core (`vendor/rayon-core`, `TOKENWISE PATCH` in `src/sleep/mod.rs`): an
//! idle worker keeps looking for work for a while (200 µs by default) before it goes to sleep,
//! so the parallel sections of a decoded token, separated by short serial steps, find the
//! other worker awake instead of waking it with a futex call. Upstream's worker falls asleep
//! after ~32 yields, a few tens of microseconds on an idle core.
//!
//! Observed from outside: a thread that blocks counts a *voluntary* context switch
//! (`/proc/<pid>/task/<tid>/status`); yielding does not. Linux only.
#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

/// Rounds of (serial gap, parallel section), as in a decoded token.
const ROUNDS: usize = 200;
/// The serial step between two parallel sections: longer than upstream's spin, well within
/// the patched budget.
const GAP: Duration = Duration::from_micros(80);

fn busy_for(duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {
        std::hint::spin_loop();
    }
}

/// The voluntary context switches so far of each of the pool's threads.
fn voluntary_switches(pool: &rayon::ThreadPool) -> Vec<u64> {
    pool.broadcast(|_| {
        let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("voluntary_ctxt_switches:"))
            .and_then(|count| count.trim().parse::<u64>().ok())
            .expect("voluntary_ctxt_switches in /proc/thread-self/status")
    })
}

#[test]
fn an_idle_worker_is_still_awake_for_the_next_parallel_section() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let before = voluntary_switches(&pool);
    pool.install(|| {
        for _ in 0..ROUNDS {
            busy_for(GAP);
            rayon::join(
                || busy_for(Duration::from_micros(20)),
                || busy_for(Duration::from_micros(20)),
            );
        }
    });
    let after = voluntary_switches(&pool);
    // `broadcast` itself may put a worker to sleep once or twice; a worker that slept in
    // each gap would count about ROUNDS.
    let slept: u64 = after.iter().zip(&before).map(|(a, b)| a - b).sum();
    println!("voluntary context switches of the pool over {ROUNDS} rounds: {slept}");
    assert!(
        slept < (ROUNDS / 4) as u64,
        "the pool's workers blocked {slept} times in {ROUNDS} rounds of {GAP:?} gaps: \
         they fell asleep between parallel sections"
    );
}

//! A token bucket per credential: each device token (and the admin token) may make `burst`
//! requests at once and `per_second` on average; beyond that the server answers 429 with
//! `Retry-After`. Per instance: behind a load balancer with N instances a client gets at most N
//! times the rate, which is what it is for (a runaway client, not an attacker with many
//! tokens).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::error::ServerError;

/// Requests per second and burst, per credential.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: f64,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            per_second: 20.0,
            burst: 60.0,
        }
    }
}

struct Bucket {
    tokens: f64,
    refilled: Instant,
}

/// The buckets of every credential seen.
pub struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// Buckets kept before idle ones are dropped.
const MAX_BUCKETS: usize = 100_000;

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        RateLimiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `key`'s bucket, or says how long to wait.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), ServerError> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(key) {
            let limit = self.limit;
            buckets.retain(|_, bucket| {
                bucket.tokens + now.duration_since(bucket.refilled).as_secs_f64() * limit.per_second
                    < limit.burst
            });
        }
        let bucket = buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: self.limit.burst,
            refilled: now,
        });
        let elapsed = now.saturating_duration_since(bucket.refilled).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.limit.per_second).min(self.limit.burst);
        bucket.refilled = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / self.limit.per_second.max(f64::MIN_POSITIVE);
            Err(ServerError::RateLimited {
                retry_after_s: wait.ceil().max(1.0) as u64,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_passes_then_the_rate_applies_per_credential() {
        let limiter = RateLimiter::new(RateLimit {
            per_second: 2.0,
            burst: 3.0,
        });
        let t0 = Instant::now();
        for _ in 0..3 {
            limiter.check("a", t0).unwrap();
        }
        let refused = limiter.check("a", t0).unwrap_err();
        assert!(matches!(
            refused,
            ServerError::RateLimited { retry_after_s: 1 }
        ));
        limiter
            .check("b", t0)
            .expect("another credential has its own bucket");
        limiter
            .check("a", t0 + Duration::from_millis(500))
            .expect("half a second refills one request at 2/s");
        assert!(limiter.check("a", t0 + Duration::from_millis(500)).is_err());
    }
}

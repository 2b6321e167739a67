//! Retrying storage calls with capped exponential backoff.
//!
//! Only errors whose [`StorageError::is_retryable`] verdict is true are retried; every retry
//! is logged with the operation and path, so an operator watching a NameNode restart sees
//! Lakeshore waiting for it rather than a silent stall.

use std::future::Future;
use std::time::Duration;

use crate::StorageError;

/// How long and how often to retry.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// First backoff.
    pub initial: Duration,
    /// Largest backoff between two attempts.
    pub max_backoff: Duration,
    /// Give up once this much time has passed since the first attempt (`None`: never).
    pub deadline: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
            deadline: None,
        }
    }
}

/// Runs `op` until it succeeds, fails with a non-retryable error, or the policy's deadline
/// passes. `what` names the call in logs.
pub async fn with_retry<T, F, Fut>(
    what: &str,
    policy: RetryPolicy,
    mut op: F,
) -> Result<T, StorageError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StorageError>>,
{
    let started = tokio::time::Instant::now();
    let mut backoff = policy.initial;
    let mut attempt = 1u32;
    loop {
        match op().await {
            Ok(v) => {
                if attempt > 1 {
                    tracing::info!(what, attempt, "storage call succeeded after retries");
                }
                return Ok(v);
            }
            Err(e) if e.is_retryable() => {
                if policy.deadline.is_some_and(|d| started.elapsed() >= d) {
                    return Err(e);
                }
                tracing::warn!(what, attempt, backoff_ms = backoff.as_millis() as u64, error = %e, "storage call failed, retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(policy.max_backoff);
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

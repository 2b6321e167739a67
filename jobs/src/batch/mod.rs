//! Batch jobs: bounded runs over the landed files that end with an exit status (EMR steps,
//! cron, Airflow).

pub mod daily_chunks;

//! Batch jobs: bounded runs over the landed files that end with an exit status (EMR steps,
//! cron, Airflow), and ad-hoc SQL over the same files.

pub mod daily_chunks;
pub mod query;
pub mod read;

//! Group commit for token rows: the token endpoint's one write per request is queued, and a single task writes
//! whatever has queued up in one multi-row insert and one commit, then answers every waiting request.
//!
//! Under load this turns N commits into one (SQLite has a single writer; Postgres pays a WAL flush per commit)
//! without delaying a lone request: the task writes as soon as it has anything, and batches only what arrived
//! while the previous batch was being written. A request returns only after its row is committed, so a token
//! is never handed out before introspection can find it.

use tessera_platform::db::Database;
use tessera_platform::tenant::TenantContext;
use tokio::sync::{mpsc, oneshot};

use crate::store::{NewToken, StoreError, TokenRow, insert_token_rows};

/// The most rows written in one statement (12 bound values each stays far below both databases' limits).
const MAX_BATCH: usize = 256;

struct Job {
    row: TokenRow,
    done: oneshot::Sender<Result<(), String>>,
}

/// The queue in front of the batching task.
#[derive(Debug, Clone)]
pub struct TokenWriter {
    queue: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

impl TokenWriter {
    /// Starts the batching task on the current runtime; it ends when the last writer is dropped.
    pub fn start(db: Database) -> Self {
        let (queue, jobs) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(db, jobs));
        Self { queue }
    }

    /// Stores one token row of `tenant`'s project, returning once it is committed.
    pub async fn write(&self, tenant: &TenantContext, token: &NewToken<'_>) -> Result<(), StoreError> {
        let (done, answer) = oneshot::channel();
        let row = TokenRow::new(tenant.project_id(), token);
        self.queue.send(Job { row, done }).await.map_err(|_| StoreError::Corrupt("the token writer stopped".into()))?;
        match answer.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StoreError::Corrupt(format!("writing a batch of tokens failed: {e}"))),
            Err(_) => Err(StoreError::Corrupt("the token writer stopped".into())),
        }
    }
}

async fn run(db: Database, mut jobs: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = jobs.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let rows: Vec<&TokenRow> = batch.iter().map(|j| &j.row).collect();
        let result = insert_token_rows(&db, &rows).await.map_err(|e| {
            tracing::error!(error = ?e, rows = rows.len(), "writing a batch of tokens failed");
            e.to_string()
        });
        for job in batch.drain(..) {
            let _ = job.done.send(result.clone());
        }
    }
}

//! The crate's one error type, and the internal split between "try again" and "give up".

/// Why a Stripe sync operation failed.
///
/// Transient failures (5xx, 429, 409, connection errors, timeouts) are retried inside each operation and only
/// surface as [`StripeSyncError::Unavailable`] once the retry budget is spent; everything else is final.
#[derive(Debug, thiserror::Error)]
pub enum StripeSyncError {
    /// Stripe answered with a 4xx that retrying cannot fix (bad parameter, unknown object, auth).
    #[error("{operation}: Stripe rejected the request with {status}{}: {message}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Rejected {
        /// Method and path of the request.
        operation: String,
        /// HTTP status.
        status: u16,
        /// Stripe's machine-readable error code, when it sent one.
        code: Option<String>,
        /// Stripe's message.
        message: String,
    },
    /// Every attempt failed transiently.
    #[error("{operation}: Stripe unavailable after {attempts} attempts; last error: {last}")]
    Unavailable {
        /// The logical operation.
        operation: String,
        /// Attempts made.
        attempts: u32,
        /// The last attempt's failure.
        last: String,
    },
    /// Stripe answered 2xx with a body this crate cannot read.
    #[error("{operation}: unreadable Stripe response: {reason}")]
    Decode {
        /// Method and path of the request.
        operation: String,
        /// What did not parse.
        reason: String,
    },
    /// Stripe's state contradicts what Tessera expects (a product owned by another plan, a price whose amount
    /// changed under a content-addressed id, malformed Tessera metadata); needs a person.
    #[error("Stripe state conflicts with Tessera: {0}")]
    Conflict(String),
    /// The period's usage is already on a finalised Stripe invoice with a smaller quantity, so it can no longer
    /// be raised there.
    #[error("usage of {meter} for {period} is already invoiced at {invoiced}; cannot report {requested}")]
    PeriodInvoiced {
        /// The meter.
        meter: String,
        /// The period, `YYYY-MM`.
        period: String,
        /// Quantity on the invoice.
        invoiced: u64,
        /// Quantity the caller reported.
        requested: u64,
    },
    /// The plan is not in the catalogue given.
    #[error("plan {0:?} is not in the catalogue")]
    UnknownPlan(String),
    /// A caller-supplied value is unusable (empty id, over-long key, amount beyond `i64::MAX`).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The client could not be built from its configuration.
    #[error("Stripe client configuration: {0}")]
    Config(String),
}

impl StripeSyncError {
    /// Whether Stripe said the object does not exist, which `ensure_*` operations treat as "create it".
    pub fn is_not_found(&self) -> bool {
        matches!(self, StripeSyncError::Rejected { status: 404, .. })
    }
}

/// One attempt's failure: retry it, or stop with a final error.
#[derive(Debug)]
pub(crate) enum AttemptError {
    /// Worth another attempt with the same idempotency key.
    Transient(String),
    /// Final.
    Fatal(StripeSyncError),
}

impl From<StripeSyncError> for AttemptError {
    fn from(e: StripeSyncError) -> Self {
        AttemptError::Fatal(e)
    }
}

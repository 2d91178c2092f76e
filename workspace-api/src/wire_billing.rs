//! The JSON of usage, invoices and subscriptions: Tessera's own endpoints (Ory Network's public spec has no
//! usage or invoice paths), named and shaped in the style of the rest of this API.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_control_plane::app::{InvoiceList as CpInvoiceList, UsageReport as CpUsageReport};
use tessera_platform::ids::{ProjectId, WorkspaceId};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// One day's quantity of a meter.
#[derive(Debug, Serialize, ToSchema)]
pub struct DayUsage {
    /// The UTC day, `YYYY-MM-DD`.
    pub day: String,
    pub quantity: u64,
}

/// One meter of one project.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeterUsage {
    /// `daily_active_identities`, `m2m_tokens`, `permission_checks` or `api_requests.<group>`.
    pub meter: String,
    /// The sum over the report's days (for `daily_active_identities`, the sum of the daily counts).
    pub total: u64,
    pub days: Vec<DayUsage>,
}

/// One project's usage.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectUsage {
    pub project_id: ProjectId,
    pub slug: String,
    /// Average daily active identities over the 30 days ending on the report's last day, rounded up.
    pub adau: u64,
    pub meters: Vec<MeterUsage>,
}

/// A quota threshold a project reached in a billing period.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageEvent {
    pub id: uuid::Uuid,
    pub project_id: ProjectId,
    /// The billing period, `YYYY-MM`.
    pub period: String,
    /// The billable meter.
    pub meter: String,
    /// 80 or 100 (percent of the hard limit).
    pub threshold: i32,
    pub used: i64,
    pub quota: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

/// `GET /workspaces/{workspace}/usage`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceUsage {
    pub workspace_id: WorkspaceId,
    /// First day covered, `YYYY-MM-DD`.
    pub from: String,
    /// Last day covered (inclusive).
    pub to: String,
    /// Projects with usage in the range.
    pub projects: Vec<ProjectUsage>,
    /// The workspace's quota events, newest first.
    pub events: Vec<UsageEvent>,
}

impl From<CpUsageReport> for WorkspaceUsage {
    fn from(r: CpUsageReport) -> Self {
        Self {
            workspace_id: r.workspace_id,
            from: r.from,
            to: r.to,
            projects: r
                .projects
                .into_iter()
                .map(|p| ProjectUsage {
                    project_id: p.project_id,
                    slug: p.slug,
                    adau: p.adau,
                    meters: p
                        .meters
                        .into_iter()
                        .map(|m| MeterUsage {
                            meter: m.meter,
                            total: m.total,
                            days: m.days.into_iter().map(|d| DayUsage { day: d.day, quantity: d.quantity }).collect(),
                        })
                        .collect(),
                })
                .collect(),
            events: r
                .events
                .into_iter()
                .map(|e| UsageEvent {
                    id: e.id,
                    project_id: e.project_id,
                    period: e.period,
                    meter: e.meter,
                    threshold: e.threshold,
                    used: e.used,
                    quota: e.quota,
                    created_at: e.created_at,
                })
                .collect(),
        }
    }
}

/// A price: `amount_minor` minor currency units per `per` units.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitPrice {
    pub amount_minor: u64,
    pub per: u64,
}

/// One line of an invoice.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceLine {
    /// `base` (a plan's fee for part of the period) or `usage`.
    pub kind: String,
    pub plan: String,
    pub project_id: Option<String>,
    /// The billable meter of a usage line.
    pub meter: Option<String>,
    #[schema(format = DateTime)]
    pub from: String,
    #[schema(format = DateTime)]
    pub to: String,
    /// Units measured (seconds for base lines).
    pub quantity: u64,
    pub included: u64,
    pub billable: u64,
    pub unit_price: Option<UnitPrice>,
    pub amount_minor: u64,
    pub description: String,
}

/// A workspace's invoice for one month (UTC); amounts in minor units of `currency`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Invoice {
    pub workspace_id: String,
    /// `YYYY-MM`.
    pub period: String,
    #[schema(format = DateTime)]
    pub period_start: String,
    #[schema(format = DateTime)]
    pub period_end: String,
    /// `draft` (the month in progress) or `final`.
    pub status: String,
    pub currency: String,
    pub lines: Vec<InvoiceLine>,
    pub subtotal_minor: u64,
    pub total_minor: u64,
}

/// `GET /workspaces/{workspace}/invoices`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListInvoices {
    /// Final invoices of closed months, newest first.
    #[schema(value_type = Vec<Invoice>)]
    pub invoices: Vec<Value>,
    /// The current month so far.
    #[schema(value_type = Invoice)]
    pub draft: Value,
    /// Pass as `page_token` for older invoices; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

impl From<CpInvoiceList> for ListInvoices {
    fn from(l: CpInvoiceList) -> Self {
        Self { invoices: l.invoices, draft: l.draft, next_page_token: l.next_page_token }
    }
}

/// `PUT /workspaces/{workspace}/subscription`, shaped as Ory's `updateSubscriptionBody`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateSubscriptionBody {
    /// A plan id of the catalogue (`developer`, `production`, `growth`, `enterprise` by default).
    pub plan: String,
    /// Only `monthly` is offered.
    pub interval: String,
    /// Accepted for compatibility; unused (there is no checkout page to return from).
    #[serde(default)]
    pub return_to: Option<String>,
}

use actix_web::web::{Data, Json, Path, Query};
use serde::Deserialize;
use tessera_platform::ApiError;
use tessera_platform::error::ErrorEnvelope;
use tessera_platform::ids::WorkspaceId;
use time::Date;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::state::ApiState;
use crate::wire::Workspace;
use crate::wire_billing::{ListInvoices, UpdateSubscriptionBody, WorkspaceUsage};

/// `from` and `to` of a usage report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// First UTC day, `YYYY-MM-DD`; default: the first day of `to`'s month.
    pub from: Option<String>,
    /// Last UTC day (inclusive), `YYYY-MM-DD`; default: today. At most 366 days after `from`.
    pub to: Option<String>,
}

/// `page_size` and `page_token` of the invoice list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvoiceQuery {
    /// Invoices per page, 1 to 100 (default 12).
    pub page_size: Option<usize>,
    /// The token from the previous page.
    pub page_token: Option<String>,
}

fn parse_day(name: &str, text: Option<&str>) -> Result<Option<Date>, ApiError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    text.map(|t| {
        Date::parse(t, &format).map_err(|_| ApiError::bad_request(format!("`{name}` must be a day as YYYY-MM-DD.")))
    })
    .transpose()
}

/// A workspace's usage per project, meter and UTC day, with its quota events.
#[utoipa::path(get, path = "/workspaces/{workspace}/usage", tag = "workspace", operation_id = "getWorkspaceUsage",
    params(("workspace" = WorkspaceId, Path, description = "The workspace's id"), UsageQuery),
    responses((status = 200, body = WorkspaceUsage), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn get_workspace_usage(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<WorkspaceId>,
    query: Query<UsageQuery>,
) -> Result<Json<WorkspaceUsage>, ApiError> {
    let from = parse_day("from", query.from.as_deref())?;
    let to = parse_day("to", query.to.as_deref())?;
    let report = state.control_plane.usage_report(&caller.0, path.into_inner(), from, to).await?;
    Ok(Json(report.into()))
}

/// A workspace's final invoices (newest first) and the current month's draft.
#[utoipa::path(get, path = "/workspaces/{workspace}/invoices", tag = "workspace", operation_id = "listWorkspaceInvoices",
    params(("workspace" = WorkspaceId, Path, description = "The workspace's id"), InvoiceQuery),
    responses((status = 200, body = ListInvoices), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn list_workspace_invoices(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<WorkspaceId>,
    query: Query<InvoiceQuery>,
) -> Result<Json<ListInvoices>, ApiError> {
    let list = state
        .control_plane
        .invoice_list(&caller.0, path.into_inner(), query.page_size, query.page_token.as_deref())
        .await?;
    Ok(Json(list.into()))
}

/// Change a workspace's plan: an upgrade applies at once (prorated), a downgrade at the next month.
#[utoipa::path(put, path = "/workspaces/{workspace}/subscription", tag = "workspace", operation_id = "updateWorkspaceSubscription",
    request_body = UpdateSubscriptionBody,
    params(("workspace" = WorkspaceId, Path, description = "The workspace's id")),
    responses((status = 200, body = Workspace), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn update_workspace_subscription(
    caller: Caller,
    state: Data<ApiState>,
    path: Path<WorkspaceId>,
    body: Json<UpdateSubscriptionBody>,
) -> Result<Json<Workspace>, ApiError> {
    if body.interval != "monthly" {
        return Err(ApiError::bad_request("Only the `monthly` interval is offered.").with_id("feature_not_available"));
    }
    let w = state.control_plane.subscription_set(&caller.0, path.into_inner(), &body.plan).await?;
    Ok(Json(w.into()))
}

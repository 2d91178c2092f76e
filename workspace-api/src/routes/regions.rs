use actix_web::web::{Data, Json};
use tessera_platform::ApiError;
use tessera_platform::error::ErrorEnvelope;

use crate::auth::Caller;
use crate::state::ApiState;
use crate::wire::Region;

/// The regions of this installation and their data-plane URLs (a Tessera extension).
#[utoipa::path(get, path = "/regions", tag = "region", operation_id = "listRegions",
    responses((status = 200, body = Vec<Region>), (status = 401, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub async fn list_regions(caller: Caller, state: Data<ApiState>) -> Result<Json<Vec<Region>>, ApiError> {
    let cp = &state.control_plane;
    let default = &cp.settings().default_region;
    Ok(Json(
        cp.regions(&caller.0)
            .into_iter()
            .map(|r| Region { default: &r.name == default, name: r.name, url: r.url })
            .collect(),
    ))
}

//! The `Caller` extractor: authenticates the bearer key and spends one unit of its rate budget.
//!
//! Order matters: a request without a valid key is charged to its client address *before* it is answered
//! 401, so key guessing is throttled; a request with a valid key is charged to that key.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use tessera_control_plane::auth::Actor;
use tessera_control_plane::error::Error;
use tessera_platform::ApiError;
use tessera_platform::http::bearer_token;
use tessera_platform::rate_limit::retry_after_secs;

use crate::state::ApiState;

/// An authenticated caller of the workspace API.
#[derive(Debug, Clone, Copy)]
pub struct Caller(pub Actor);

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<ApiState>>().cloned();
        let token = bearer_token(req).map(str::to_owned);
        let address = req.peer_addr().map(|a| a.ip()).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Box::pin(async move {
            let state = state.ok_or_else(ApiError::internal)?;
            let charge_address = || {
                state.per_address.check(&address).map_err(|wait| ApiError::too_many_requests(retry_after_secs(wait)))
            };
            let Some(token) = token else {
                charge_address()?;
                return Err(ApiError::unauthorized(
                    "This endpoint requires an API key: send `Authorization: Bearer <key>`.",
                ));
            };
            match state.control_plane.authenticate(&token).await {
                Ok(actor) => {
                    state
                        .per_caller
                        .check(&actor.label())
                        .map_err(|wait| ApiError::too_many_requests(retry_after_secs(wait)))?;
                    Ok(Caller(actor))
                }
                Err(e @ Error::Unauthenticated(_)) => {
                    charge_address()?;
                    Err(e.into())
                }
                Err(e) => Err(e.into()),
            }
        })
    }
}

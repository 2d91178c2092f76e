//! What every handler can reach: the control plane and the request budgets.

use std::net::IpAddr;

use tessera_control_plane::ControlPlane;
use tessera_platform::config::RateLimitConfig;
use tessera_platform::rate_limit::KeyedLimiter;

/// Shared state of the workspace API.
#[derive(Debug)]
pub struct ApiState {
    /// The control plane's operations.
    pub control_plane: ControlPlane,
    /// Budgets per authenticated caller.
    pub per_caller: KeyedLimiter<String>,
    /// Budgets per client address for requests without a valid key, so that guessing keys is slow
    /// and costs us no more than a hash and an index lookup per try.
    pub per_address: KeyedLimiter<IpAddr>,
}

impl ApiState {
    /// State over a control plane, with `limits` per caller and a stricter budget for failed authentication.
    pub fn new(control_plane: ControlPlane, limits: RateLimitConfig) -> Self {
        let anonymous = RateLimitConfig {
            requests_per_second: limits.requests_per_second.div_ceil(4).max(1),
            burst: limits.burst.div_ceil(4).max(1),
        };
        Self { control_plane, per_caller: KeyedLimiter::new(limits), per_address: KeyedLimiter::new(anonymous) }
    }
}

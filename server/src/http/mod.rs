//! HTTP pieces shared by the router and both transports: [`response`] (the
//! body type, the contract's error bodies, the event-stream head) and
//! [`body`] (bounded request body reading). Nothing here knows a route or a
//! key. This file only lists them.

pub mod body;
pub mod response;

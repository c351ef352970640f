//! HTTP pieces shared by the router and both transports: [`response`] (the
//! body type, the contract's error bodies, the event-stream head),
//! [`body`] (bounded request body reading) and [`proxy`] (which address is
//! the client's behind trusted proxies, RATE-6). Nothing here knows a route or a
//! key. This file only lists them.

pub mod body;
pub mod proxy;
pub mod response;

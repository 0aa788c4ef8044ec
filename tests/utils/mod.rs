//! Shared calls of the black-box suites: the hub under test, HTTP receivers standing in for
//! participants' letterboxes, and the hub's API as a participant and operator use it.

pub mod api;
pub mod dip;
pub mod hub;
pub mod receiver;

pub use api::{Fixture, Resp};
pub use hub::hub;
pub use receiver::Receiver;

//! The app's pages.

pub mod dashboard;
pub mod session;

//! The app's pages.

pub mod dashboard;

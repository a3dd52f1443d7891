//! The parts of the page, one per file.

pub mod data_table;
pub mod event_detail;
pub mod events_table;
pub mod experiment_panel;
pub mod header;
pub mod info_tip;
pub mod kpi_cards;
pub mod latency_panel;
pub mod panel;
pub mod policies_panel;
pub mod policy_outcomes_panel;
pub mod range_picker;
pub mod saved_views_menu;
pub mod shortcuts_help;
pub mod states;
pub mod suggestion_panels;
pub mod timeline_panel;

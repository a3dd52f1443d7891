//! An (i) button that explains a metric: the text shows on hover and on keyboard focus, and
//! screen readers hear it as the button's description.

use leptos::prelude::*;

#[component]
pub fn InfoTip(
    /// What the tip explains, for the button's name ("About Accept Rate").
    subject: &'static str,
    /// Unique in the page: ties the button to its text.
    id: String,
    text: &'static str,
) -> impl IntoView {
    let tip_id = format!("tip-{id}");
    view! {
        <span class="info-tip">
            <button type="button" class="info" aria-label=format!("About {subject}") aria-describedby=tip_id.clone()>"i"</button>
            <span class="tip" role="tooltip" id=tip_id>{text}</span>
        </span>
    }
}

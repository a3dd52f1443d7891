//! axe-core (npm, installed into `.tools/` by `make setup-browser`) run in the page: every
//! rule, colour contrast included. A violation fails the test with what axe says and where.

use std::path::PathBuf;

use serde_json::Value;

use crate::harness::Browser;

fn axe_source() -> String {
    let path = std::env::var_os("COACHBOARD_AXE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join(".tools/node_modules/axe-core/axe.min.js")
        });
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{} ({error}): run make setup-browser", path.display()))
}

/// Runs axe on the page as it is now and returns one line per violating node.
pub async fn violations(browser: &Browser) -> Vec<String> {
    browser
        .client
        .execute(&axe_source(), vec![])
        .await
        .expect("axe-core loads");
    // Every rule axe has, best practices included; the result reduced to what a person reads.
    let result = browser
        .client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
            axe.run(document, { resultTypes: ['violations'] })
              .then(result => done(result.violations.flatMap(v => v.nodes.map(n =>
                 `${v.id} (${v.impact}): ${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ')}`))))
              .catch(error => done([`axe failed: ${error}`]));"#,
            vec![],
        )
        .await
        .expect("axe runs");
    match result {
        Value::Array(lines) => lines
            .into_iter()
            .map(|line| line.as_str().unwrap_or_default().to_owned())
            .collect(),
        other => vec![format!("axe answered {other}")],
    }
}

/// Fails with every violation axe finds on the page, naming the view.
pub async fn assert_clean(browser: &Browser, view: &str) {
    let found = violations(browser).await;
    assert!(
        found.is_empty(),
        "axe: {} violation(s) on {view}:\n{}",
        found.len(),
        found.join("\n")
    );
}

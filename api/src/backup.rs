//! `coachboard-api backup --to FILE`: asks the running API (the one process that may open
//! the database) for a consistent copy, writes it to FILE.partial, checks that it opens as a
//! Coachboard database, and only then gives it its name.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};

use crate::cli::BackupArgs;
use crate::store::DuckDbStore;

pub fn run(args: &BackupArgs) -> anyhow::Result<()> {
    if args.to.exists() && !args.force {
        bail!(
            "{} exists; choose another path or pass --force to replace it",
            args.to.display()
        );
    }
    let started = Instant::now();
    let partial = partial_path(&args.to);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(download(args, &partial));
    if let Err(error) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(error);
    }
    let events = match DuckDbStore::count_events_in(&partial) {
        Ok(events) => events,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            bail!("the copy the API sent does not open as a database: {error}");
        }
    };
    std::fs::rename(&partial, &args.to).with_context(|| {
        format!(
            "cannot rename {} to {}",
            partial.display(),
            args.to.display()
        )
    })?;
    let bytes = std::fs::metadata(&args.to).map_or(0, |meta| meta.len());
    println!(
        "backup of {events} events ({:.1} MB) written to {} in {:.1} s",
        bytes as f64 / 1e6,
        args.to.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn partial_path(to: &Path) -> PathBuf {
    let mut name = to.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

async fn download(args: &BackupArgs, partial: &Path) -> anyhow::Result<()> {
    let url = format!("{}/admin/backup", args.api.trim_end_matches('/'));
    let mut request = reqwest::Client::new().post(&url);
    if let Some(token) = &args.token {
        request = request.bearer_auth(token);
    }
    let mut response = request
        .send()
        .await
        .with_context(|| format!("cannot reach the API at {url}"))?;
    if !response.status().is_success() {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        bail!("the API refused the backup ({status}): {body}");
    }
    let mut file = std::fs::File::create(partial)
        .with_context(|| format!("cannot create {}", partial.display()))?;
    while let Some(chunk) = response
        .chunk()
        .await
        .context("the API stopped sending the backup")?
    {
        file.write_all(&chunk)
            .with_context(|| format!("cannot write {}", partial.display()))?;
    }
    file.sync_all()
        .with_context(|| format!("cannot flush {}", partial.display()))?;
    Ok(())
}

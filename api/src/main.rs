//! `coachboard-api`: serve the API (default), generate demo data, back up a running API, or
//! copy events between stores.

use clap::Parser;
use coachboard_api::cli::{Cli, Command};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    coachboard_api::serve::init_logging(cli.log_json);
    let result = match cli.command {
        Some(Command::Generate(args)) => coachboard_api::serve::generate_file(&args),
        Some(Command::Backup(args)) => coachboard_api::backup::run(&args),
        Some(Command::Copy(args)) => coachboard_api::copy::run(&args),
        Some(Command::Token(args)) => coachboard_api::access::token_line(args.slice.as_deref())
            .map(|line| println!("{line}"))
            .map_err(anyhow::Error::from),
        None => coachboard_api::serve::run(cli.serve),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // A message for a person, not a backtrace.
            eprintln!("coachboard-api: {error:#}");
            std::process::ExitCode::from(1)
        }
    }
}

//! The `break-glass` job (issue 4): every emergency-account sign-in and change, alerted once.

use super::{JobContext, JobError, JobReport};
use crate::config::BreakGlassConfig;

pub async fn run(_ctx: &JobContext, _config: &BreakGlassConfig) -> Result<JobReport, JobError> {
    Err(JobError::Config(
        "the break-glass job is not built yet in this version".into(),
    ))
}

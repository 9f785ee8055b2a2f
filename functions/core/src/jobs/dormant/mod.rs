//! The `dormant` job (issue 5): dormant accounts by population, as stateful findings.

use super::{JobContext, JobError, JobReport};
use crate::config::DormantConfig;

/// `break_glass` is the tenant's emergency accounts: always excluded from dormant findings.
pub async fn run(
    _ctx: &JobContext,
    _config: &DormantConfig,
    _break_glass: &[String],
) -> Result<JobReport, JobError> {
    Err(JobError::Config(
        "the dormant job is not built yet in this version".into(),
    ))
}

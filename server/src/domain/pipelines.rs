//! Pipeline runs in OpenMetadata's `PipelineStatus` shape: the latest one is kept on the
//! pipeline's document (`pipelineStatus`), whether it came from
//! `PUT /pipelines/{fqn}/status` (the Python SDK's `add_pipeline_status`, Airflow's
//! lineage backend) or from an OpenLineage run.

use headwaters_engine::{EntityType, Include, NodeId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::{Error, Result};
use super::service::{Key, Service};

/// How a run or a task ended (OpenMetadata's `StatusType`).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub enum StatusType {
    /// Finished without error.
    Successful,
    /// Finished with an error.
    Failed,
    /// Not finished (or not started).
    Pending,
    /// Not run.
    Skipped,
}

/// One run of a pipeline. The fields Headwaters reads are typed; the rest of
/// OpenMetadata's model (`executionId`, `endTime`, `metrics`, ...) is kept as sent.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineStatus {
    /// When the run started, in milliseconds since the epoch.
    pub timestamp: i64,
    /// How it ended.
    pub execution_status: StatusType,
    /// Its tasks.
    #[serde(default)]
    pub task_status: Vec<TaskStatus>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// One task of a run.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskStatus {
    /// The task's name.
    pub name: String,
    /// How it ended.
    pub execution_status: StatusType,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Service {
    /// Records a run of the pipeline `key`: it becomes the pipeline's `pipelineStatus`
    /// unless the one kept started later. Answers the pipeline's document.
    pub fn put_pipeline_status(&self, key: &Key, status: &PipelineStatus) -> Result<Value> {
        let _docs = self.lock_docs();
        let view = self.store.read();
        let node = self.resolve(&view, EntityType::Pipeline, key, Include::NonDeleted)?;
        drop(view);
        self.keep_newer_pipeline_status(node, status)
    }

    /// [`Service::put_pipeline_status`] on a resolved pipeline; the caller holds the
    /// document lock.
    pub(crate) fn keep_newer_pipeline_status(
        &self,
        pipeline: NodeId,
        status: &PipelineStatus,
    ) -> Result<Value> {
        let view = self.store.read();
        let mut doc = self.document(&view, pipeline)?;
        drop(view);
        let newer = doc["pipelineStatus"]["timestamp"]
            .as_i64()
            .is_none_or(|old| status.timestamp >= old);
        if newer {
            doc["pipelineStatus"] =
                serde_json::to_value(status).map_err(|e| Error::json("pipeline status", e))?;
            self.replace_document(pipeline, doc.clone())?;
        }
        Ok(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_keep_unknown_fields_and_refuse_unknown_states() {
        let s: PipelineStatus = serde_json::from_value(serde_json::json!({
            "timestamp": 5, "executionStatus": "Failed", "executionId": "r1",
            "taskStatus": [{"name": "load", "executionStatus": "Successful", "logLink": "http://x"}],
        }))
        .unwrap();
        assert_eq!(s.execution_status, StatusType::Failed);
        let back = serde_json::to_value(&s).unwrap();
        assert_eq!(back["executionId"], "r1");
        assert_eq!(back["taskStatus"][0]["logLink"], "http://x");
        assert!(
            serde_json::from_value::<PipelineStatus>(
                serde_json::json!({"timestamp": 5, "executionStatus": "Done"})
            )
            .is_err()
        );
    }
}

//! Every write the API takes, as a command: a value that names the domain operation
//! and carries its inputs, so it can be run here (a single node) or published to the
//! cluster's replicated log and run by every node in log order (`crate::cluster`).
//!
//! A command's inputs are what the handler parsed from the request; anything the
//! operation would otherwise pick itself (new ids, timestamps, nonces) comes from
//! [`crate::domain::clock`], which a cluster node fixes per command, so every node
//! computes the same result from the same state. Handlers call [`execute`] and stay
//! as thin as before.

use std::any::Any;

use headwaters_engine::{EntityType, LineageSource};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::api::errors::ApiError;
use crate::api::{AppState, blocking, blocking_light};
use crate::domain::kinds::Kind;
use crate::domain::lineage::{EdgeSpec, EdgeView, EdgeWritten};
use crate::domain::pipelines::PipelineStatus;
use crate::domain::sql::{SqlBatch, SqlBatchReport, SqlLineage, SqlRequest};
use crate::domain::usage::UsageRequest;
use crate::domain::{self, Actor, Key, Mode, Service};
use crate::ingest::dbt::DbtReport;
use crate::ingest::openlineage::{Applied, BatchReport};

/// A write operation with its inputs.
pub trait Op: Into<Command> + Send + 'static {
    /// What it answers.
    type Out: Send + 'static;
    /// Runs it on this node's service.
    fn run(self, svc: &Service) -> domain::Result<Self::Out>;
}

macro_rules! commands {
    ($(
        $(#[$doc:meta])*
        $name:ident { $($(#[$fdoc:meta])* $field:ident : $ty:ty),* $(,)? }
            -> $out:ty = |$svc:ident, $this:ident| $body:expr;
    )*) => {
        $(
            $(#[$doc])*
            #[derive(Clone, Debug, Serialize, Deserialize)]
            pub struct $name { $($(#[$fdoc])* pub $field: $ty),* }

            impl Op for $name {
                type Out = $out;
                fn run(self, $svc: &Service) -> domain::Result<$out> {
                    let $this = self;
                    $body
                }
            }

            impl From<$name> for Command {
                fn from(op: $name) -> Command {
                    Command::$name(op)
                }
            }
        )*

        /// Every write, as one serializable value.
        #[derive(Clone, Debug, Serialize, Deserialize)]
        pub enum Command {
            $($(#[$doc])* $name($name)),*
        }

        impl Command {
            /// Runs the command; the answer is its operation's `domain::Result<Out>`,
            /// boxed (the node that received the request unboxes it).
            pub fn run(self, svc: &Service) -> Box<dyn Any + Send> {
                match self {
                    $(Command::$name(op) => Box::new(op.run(svc)),)*
                }
            }

            /// The operation's name (logs, metrics).
            pub fn name(&self) -> &'static str {
                match self {
                    $(Command::$name(_) => stringify!($name),)*
                }
            }
        }
    };
}

commands! {
    /// PUT or POST one entity.
    PutEntity {
        /// Its type.
        ty: EntityType,
        /// The create request.
        body: Value,
        /// Who writes.
        actor: Actor,
        /// POST or PUT.
        mode: Mode,
    } -> (Value, bool) = |svc, op| svc.put_entity(Kind::of(op.ty), op.body, &op.actor, op.mode);

    /// `PUT /{collection}/bulk`: each request on its own.
    PutEntities {
        /// Their type.
        ty: EntityType,
        /// The create requests.
        requests: Vec<Value>,
        /// Who writes.
        actor: Actor,
    } -> Vec<(Value, domain::Result<(Value, bool)>)> = |svc, op| Ok(op
        .requests
        .into_iter()
        .map(|r| {
            let name = r.get("name").cloned().unwrap_or(Value::Null);
            (name, svc.put_entity(Kind::of(op.ty), r, &op.actor, Mode::Upsert))
        })
        .collect());

    /// PATCH an entity (RFC 6902).
    PatchEntity {
        /// Its type.
        ty: EntityType,
        /// Which one.
        key: Key,
        /// The patch.
        patch: json_patch::Patch,
        /// Who writes.
        actor: Actor,
    } -> Value = |svc, op| svc.patch_entity(Kind::of(op.ty), &op.key, &op.patch, &op.actor);

    /// DELETE an entity.
    DeleteEntity {
        /// Its type.
        ty: EntityType,
        /// Which one.
        key: Key,
        /// For good.
        hard: bool,
        /// With its children.
        recursive: bool,
    } -> Value = |svc, op| svc.delete_entity(Kind::of(op.ty), &op.key, op.hard, op.recursive);

    /// Restore a soft-deleted entity.
    RestoreEntity {
        /// Its type.
        ty: EntityType,
        /// Its id.
        id: Uuid,
    } -> Value = |svc, op| svc.restore_entity(Kind::of(op.ty), op.id);

    /// A pipeline's run status.
    PutPipelineStatus {
        /// The pipeline.
        key: Key,
        /// The status.
        status: PipelineStatus,
    } -> Value = |svc, op| svc.put_pipeline_status(&op.key, &op.status);

    /// Create an edge or replace its details.
    PutEdge {
        /// The edge.
        spec: EdgeSpec,
        /// Who writes.
        actor: Actor,
    } -> EdgeWritten = |svc, op| svc.put_edge(op.spec, &op.actor);

    /// Patch an edge's details: `patch` applies to the details as the API shows them
    /// (`shape` renders them, so the patch paths are the API's).
    PatchEdge {
        /// Upstream end.
        from: (EntityType, Key),
        /// Downstream end.
        to: (EntityType, Key),
        /// The patch.
        patch: json_patch::Patch,
        /// Base URL the details are rendered with.
        base: String,
        /// Who writes.
        actor: Actor,
    } -> EdgeView = |svc, op| {
        let (patch, base) = (op.patch, op.base);
        svc.update_edge(op.from, op.to, |current| crate::api::rest::lineage::patched_details(current, &patch, &base), &op.actor)
    };

    /// Delete the edge between two entities.
    DeleteEdge {
        /// Upstream end.
        from: (EntityType, Key),
        /// Downstream end.
        to: (EntityType, Key),
    } -> bool = |svc, op| svc.delete_edge(op.from, op.to);

    /// Delete an entity's upstream edges of one source.
    DeleteEdgesBySource {
        /// The entity's type.
        ty: EntityType,
        /// The entity.
        key: Key,
        /// The source.
        source: LineageSource,
    } -> usize = |svc, op| svc.delete_by_source(op.ty, &op.key, op.source);

    /// Lineage from one SQL text, stored.
    SqlLineageOf {
        /// The request.
        req: SqlRequest,
        /// Who writes.
        actor: Actor,
    } -> SqlLineage = |svc, op| svc.lineage_from_sql(&op.req, &op.actor);

    /// Lineage from a batch of SQL texts, stored.
    SqlLineageBatch {
        /// The batch.
        batch: SqlBatch,
        /// Who writes.
        actor: Actor,
    } -> SqlBatchReport = |svc, op| svc.lineage_from_sql_batch(&op.batch, &op.actor);

    /// One OpenLineage event.
    OpenLineageEvent {
        /// The event.
        event: Value,
    } -> Applied = |svc, op| svc.openlineage_event(&op.event, "event");

    /// A batch of OpenLineage events. A single node stops starting events at the
    /// request's deadline; in a cluster every node applies the whole batch (a deadline
    /// would make the result depend on each node's speed).
    OpenLineageBatch {
        /// The batch.
        body: Value,
        /// When to stop starting events (single node only).
        #[serde(skip)]
        deadline: Option<std::time::Instant>,
    } -> BatchReport = |svc, op| svc.openlineage_batch(op.body, op.deadline);

    /// A dbt project's artifacts.
    ImportDbt {
        /// manifest.json.
        manifest: Value,
        /// catalog.json.
        catalog: Option<Value>,
        /// The database service dbt builds in.
        service: String,
        /// When to stop (single node only, as [`OpenLineageBatch`]).
        #[serde(skip)]
        deadline: Option<std::time::Instant>,
    } -> DbtReport = |svc, op| svc.import_dbt(&op.manifest, op.catalog.as_ref(), &op.service, &|_, _| {}, op.deadline);

    /// A day's usage count of an entity.
    RecordUsage {
        /// Its type.
        ty: EntityType,
        /// Its id.
        id: Uuid,
        /// The count.
        req: UsageRequest,
    } -> Value = |svc, op| svc.record_usage(op.ty, op.id, &op.req);

    /// Recompute usage percentiles of a type for a day.
    ComputePercentiles {
        /// The type.
        ty: EntityType,
        /// The day.
        date: String,
    } -> usize = |svc, op| svc.compute_percentiles(op.ty, &op.date);

    /// A table's join statistics.
    PutTableJoins {
        /// The table.
        id: Uuid,
        /// The joins.
        joins: Value,
    } -> Value = |svc, op| svc.put_table_joins(op.id, op.joins);

    /// Entities a query uses.
    AddQueryUsage {
        /// The query.
        id: Uuid,
        /// Entity references.
        refs: Vec<Value>,
    } -> Value = |svc, op| svc.add_query_usage(op.id, &op.refs);

    /// Users of a query.
    AddQueryUsers {
        /// The query.
        id: Uuid,
        /// User names.
        names: Vec<String>,
    } -> Value = |svc, op| svc.add_query_users(op.id, &op.names);

    /// What a query is used by.
    AddQueryUsedBy {
        /// The query.
        id: Uuid,
        /// Names.
        names: Vec<String>,
    } -> Value = |svc, op| svc.add_query_used_by(op.id, &op.names);

    /// A table's data model (dbt).
    PutDataModel {
        /// The table.
        id: Uuid,
        /// The model.
        model: Value,
    } -> Value = |svc, op| svc.put_data_model(op.id, op.model);
}

/// Runs a write: on a single node right here (tokio's blocking pool, as every domain
/// call), in a cluster through the replicated log (answered once this node has
/// applied it).
pub async fn execute<O: Op>(state: &AppState, op: O) -> Result<O::Out, ApiError> {
    match state.cluster.get() {
        None => blocking_light(state, move |svc| op.run(svc)).await,
        Some(c) => c.submit::<O>(op.into()).await,
    }
}

/// [`execute`] for long writes (batches, imports): on a single node they wait for a
/// work permit like traversals do.
pub async fn execute_heavy<O: Op>(state: &AppState, op: O) -> Result<O::Out, ApiError> {
    match state.cluster.get() {
        None => blocking(state, move |svc| op.run(svc)).await,
        Some(c) => c.submit::<O>(op.into()).await,
    }
}

/// Lineage from SQL: analyzed right here when it is a dry run (nothing is written),
/// else a write like any other.
pub async fn sql_lineage(
    state: &AppState,
    req: SqlRequest,
    actor: Actor,
) -> Result<SqlLineage, ApiError> {
    if req.dry_run {
        blocking(state, move |svc| svc.lineage_from_sql(&req, &actor)).await
    } else {
        execute_heavy(state, SqlLineageOf { req, actor }).await
    }
}

/// [`sql_lineage`] for a batch.
pub async fn sql_lineage_batch(
    state: &AppState,
    batch: SqlBatch,
    actor: Actor,
) -> Result<SqlBatchReport, ApiError> {
    if batch.dry_run {
        blocking(state, move |svc| svc.lineage_from_sql_batch(&batch, &actor)).await
    } else {
        execute_heavy(state, SqlLineageBatch { batch, actor }).await
    }
}

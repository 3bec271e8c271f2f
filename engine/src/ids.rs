//! Identity: dense node and column ids, entity types and lineage sources.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::UserError;

/// Dense id of a lineage node (an entity of any type). Ids are never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NodeId(pub u32);

/// Dense id of a column, in its own id space. Ids are never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ColumnId(pub u32);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node#{}", self.0)
    }
}

impl fmt::Display for ColumnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column#{}", self.0)
    }
}

/// Declares a closed string enum with a stable one-byte storage code.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident = ($code:literal, $text:literal)),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in storage-code order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name used on the wire (OpenMetadata's spelling).
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The one-byte code used in storage keys and values. Stable forever.
            pub fn code(self) -> u8 {
                match self { $($name::$variant => $code),+ }
            }

            /// Inverse of [`Self::code`].
            pub fn from_code(code: u8) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UserError;
            fn from_str(s: &str) -> Result<Self, UserError> {
                $(if s.eq_ignore_ascii_case($text) { return Ok($name::$variant); })+
                Err(UserError::BadInput(format!(
                    "unknown {} {s:?}; expected one of: {}",
                    $what,
                    [$($text),+].join(", ")
                )))
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

string_enum! {
    /// The type of a lineage node, spelled as OpenMetadata's entity types.
    EntityType, "entity type" {
        /// A table or view.
        Table = (1, "table"),
        /// A BI dashboard.
        Dashboard = (2, "dashboard"),
        /// A pipeline (job, DAG).
        Pipeline = (3, "pipeline"),
        /// A messaging topic.
        Topic = (4, "topic"),
        /// An ML model.
        MlModel = (5, "mlmodel"),
        /// A storage container (bucket, path).
        Container = (6, "container"),
        /// A search index.
        SearchIndex = (7, "searchIndex"),
        /// A stored procedure.
        StoredProcedure = (8, "storedProcedure"),
        /// A dashboard data model.
        DashboardDataModel = (9, "dashboardDataModel"),
        /// An API endpoint.
        ApiEndpoint = (10, "apiEndpoint"),
        /// A metric.
        Metric = (11, "metric"),
        /// A chart inside a dashboard.
        Chart = (12, "chart"),
        /// A database service (the root of databases, schemas, tables).
        DatabaseService = (13, "databaseService"),
        /// A database inside a database service.
        Database = (14, "database"),
        /// A schema inside a database.
        DatabaseSchema = (15, "databaseSchema"),
        /// A dashboard service.
        DashboardService = (16, "dashboardService"),
        /// A pipeline service.
        PipelineService = (17, "pipelineService"),
        /// A messaging service (topics).
        MessagingService = (18, "messagingService"),
        /// An ML model service.
        MlModelService = (19, "mlmodelService"),
        /// A storage service (containers).
        StorageService = (20, "storageService"),
        /// A search service (search indexes).
        SearchService = (21, "searchService"),
        /// An API service.
        ApiService = (22, "apiService"),
        /// A collection of API endpoints.
        ApiCollection = (23, "apiCollection"),
        /// A SQL query seen in a query log (not a lineage node; lineage cites it).
        Query = (24, "query"),
        /// A classification: a family of tags (`PII`, `dbtTags`, ...).
        Classification = (25, "classification"),
        /// A tag inside a classification.
        Tag = (26, "tag"),
        /// A user (owner, query author).
        User = (27, "user"),
        /// A team (owner).
        Team = (28, "team"),
    }
}

string_enum! {
    /// Where an edge's lineage came from (OpenMetadata's `LineageDetails.source`).
    LineageSource, "lineage source" {
        /// Added by hand (OpenMetadata's default).
        Manual = (0, "Manual"),
        /// From a view definition.
        ViewLineage = (1, "ViewLineage"),
        /// From a query.
        QueryLineage = (2, "QueryLineage"),
        /// From a pipeline.
        PipelineLineage = (3, "PipelineLineage"),
        /// From a dashboard.
        DashboardLineage = (4, "DashboardLineage"),
        /// From dbt.
        DbtLineage = (5, "DbtLineage"),
        /// From Spark.
        SparkLineage = (6, "SparkLineage"),
        /// From OpenLineage events.
        OpenLineage = (7, "OpenLineage"),
        /// From external table definitions.
        ExternalTableLineage = (8, "ExternalTableLineage"),
        /// Across databases.
        CrossDatabaseLineage = (9, "CrossDatabaseLineage"),
        /// Between an asset and its children.
        ChildAssets = (10, "ChildAssets"),
    }
}

// The enum comes out of `string_enum!`, which cannot carry `#[default]` for one type only.
#[allow(clippy::derivable_impls)]
impl Default for LineageSource {
    fn default() -> Self {
        LineageSource::Manual
    }
}

/// A set of entity types, as a bit mask over their storage codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EntityTypeSet(u32);

impl EntityTypeSet {
    /// Every type.
    pub const ALL: EntityTypeSet = EntityTypeSet(u32::MAX);

    /// No type.
    pub const NONE: EntityTypeSet = EntityTypeSet(0);

    /// Whether `t` is in the set.
    pub fn contains(self, t: EntityType) -> bool {
        self.0 & (1 << t.code()) != 0
    }

    /// Whether the type with storage code `code` is in the set.
    pub(crate) fn contains_code(self, code: u8) -> bool {
        self.0 & (1u32 << (code & 31)) != 0
    }

    /// The set with `t` added.
    pub fn with(self, t: EntityType) -> Self {
        EntityTypeSet(self.0 | (1 << t.code()))
    }
}

impl FromIterator<EntityType> for EntityTypeSet {
    fn from_iter<I: IntoIterator<Item = EntityType>>(iter: I) -> Self {
        iter.into_iter()
            .fold(EntityTypeSet::NONE, EntityTypeSet::with)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_names_parse() {
        for t in EntityType::ALL {
            assert_eq!(EntityType::from_code(t.code()), Some(*t));
            assert_eq!(t.as_str().parse::<EntityType>().unwrap(), *t);
        }
        for s in LineageSource::ALL {
            assert_eq!(LineageSource::from_code(s.code()), Some(*s));
        }
        let err = "tabel".parse::<EntityType>().unwrap_err().to_string();
        assert!(err.contains("tabel") && err.contains("dashboard"), "{err}");
    }

    #[test]
    fn type_sets() {
        let s: EntityTypeSet = [EntityType::Table, EntityType::Dashboard]
            .into_iter()
            .collect();
        assert!(s.contains(EntityType::Table));
        assert!(!s.contains(EntityType::Pipeline));
        assert!(EntityTypeSet::ALL.contains(EntityType::Metric));
    }
}

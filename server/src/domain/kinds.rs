//! The entity collections the server exposes, in OpenMetadata's shapes.
//!
//! Each [`Kind`] says where a collection lives under `/api/v1`, which engine
//! [`EntityType`] backs it, which create-request field names its parent (and the
//! parent's type), and which fields of the create request are stored and returned.
//! The field lists are those of OpenMetadata 1.11's entity schemas: the Python SDK
//! parses responses with extra fields forbidden, so nothing outside them is echoed.

use headwaters_engine::EntityType;

/// One entity collection.
#[derive(Debug)]
pub struct Kind {
    /// Path under `/api/v1`, e.g. `tables` or `services/databaseServices`.
    pub collection: &'static str,
    /// The engine type.
    pub ty: EntityType,
    /// The create-request field naming the parent by FQN, and the parent's type.
    pub parent: Option<(&'static str, EntityType)>,
    /// Create-request fields stored as given and returned.
    pub fields: &'static [&'static str],
    /// Create-request fields accepted but not stored (relations Headwaters does not model).
    pub ignored: &'static [&'static str],
    /// Fields a create request must carry besides `name` (and the parent).
    pub required: &'static [&'static str],
    /// The entity has `columns` (validated, given FQNs, used for column lineage).
    pub has_columns: bool,
    /// OpenMetadata's search index name for this type.
    pub index: &'static str,
}

const COMMON_IGNORED: &[&str] = &["domains", "dataProducts"];

macro_rules! kinds {
    ($($name:ident: $coll:literal, $ty:ident, $parent:expr, [$($f:literal),*], [$($ig:literal),*], [$($req:literal),*], $cols:literal, $index:literal;)*) => {
        $(
            #[doc = concat!("`/api/v1/", $coll, "`")]
            pub static $name: Kind = Kind {
                collection: $coll,
                ty: EntityType::$ty,
                parent: $parent,
                fields: &[$($f),*],
                ignored: &[$($ig),*],
                required: &[$($req),*],
                has_columns: $cols,
                index: $index,
            };
        )*
        /// Every collection.
        pub static ALL: &[&Kind] = &[$(&$name),*];
    };
}

kinds! {
    DATABASE_SERVICE: "services/databaseServices", DatabaseService, None,
        ["displayName", "description", "tags", "serviceType", "connection", "owners", "ingestionRunner"], [], ["serviceType"], false, "database_service_search_index";
    DATABASE: "databases", Database, Some(("service", EntityType::DatabaseService)),
        ["displayName", "description", "tags", "owners", "default", "retentionPeriod", "extension", "sourceUrl", "lifeCycle", "sourceHash"], [], [], false, "database_search_index";
    DATABASE_SCHEMA: "databaseSchemas", DatabaseSchema, Some(("database", EntityType::Database)),
        ["displayName", "description", "owners", "tags", "retentionPeriod", "extension", "sourceUrl", "lifeCycle", "sourceHash"], [], [], false, "database_schema_search_index";
    TABLE: "tables", Table, Some(("databaseSchema", EntityType::DatabaseSchema)),
        ["displayName", "description", "tableType", "columns", "dataModel", "locationPath", "tableConstraints", "tablePartition", "tableProfilerConfig", "owners", "tags", "schemaDefinition", "retentionPeriod", "extension", "sourceUrl", "fileFormat", "lifeCycle", "sourceHash"], [], ["columns"], true, "table_search_index";
    STORED_PROCEDURE: "storedProcedures", StoredProcedure, Some(("databaseSchema", EntityType::DatabaseSchema)),
        ["displayName", "description", "owners", "tags", "storedProcedureCode", "storedProcedureType", "extension", "sourceUrl", "lifeCycle", "sourceHash"], [], ["storedProcedureCode"], false, "stored_procedure_search_index";
    DASHBOARD_SERVICE: "services/dashboardServices", DashboardService, None,
        ["displayName", "description", "tags", "serviceType", "connection", "owners", "ingestionRunner"], [], ["serviceType"], false, "dashboard_service_search_index";
    DASHBOARD: "dashboards", Dashboard, Some(("service", EntityType::DashboardService)),
        ["displayName", "description", "dashboardType", "sourceUrl", "project", "tags", "owners", "extension", "lifeCycle", "sourceHash"], ["charts", "dataModels"], [], false, "dashboard_search_index";
    CHART: "charts", Chart, Some(("service", EntityType::DashboardService)),
        ["displayName", "description", "chartType", "sourceUrl", "tags", "owners", "lifeCycle", "sourceHash", "extension"], ["dashboards"], [], false, "chart_search_index";
    DASHBOARD_DATA_MODEL: "dashboard/datamodels", DashboardDataModel, Some(("service", EntityType::DashboardService)),
        ["displayName", "description", "tags", "owners", "dataModelType", "sourceUrl", "sql", "columns", "project", "lifeCycle", "sourceHash", "extension"], [], ["dataModelType", "columns"], true, "dashboard_data_model_search_index";
    PIPELINE_SERVICE: "services/pipelineServices", PipelineService, None,
        ["displayName", "description", "tags", "serviceType", "connection", "owners", "ingestionRunner"], ["scheduleInterval", "lifeCycle"], ["serviceType"], false, "pipeline_service_search_index";
    PIPELINE: "pipelines", Pipeline, Some(("service", EntityType::PipelineService)),
        ["displayName", "description", "sourceUrl", "concurrency", "pipelineLocation", "startDate", "tasks", "state", "tags", "owners", "extension", "scheduleInterval", "lifeCycle", "sourceHash"], [], [], false, "pipeline_search_index";
    MESSAGING_SERVICE: "services/messagingServices", MessagingService, None,
        ["displayName", "description", "tags", "serviceType", "connection", "owners", "ingestionRunner"], [], ["serviceType"], false, "messaging_service_search_index";
    TOPIC: "topics", Topic, Some(("service", EntityType::MessagingService)),
        ["displayName", "description", "messageSchema", "partitions", "cleanupPolicies", "replicationFactor", "retentionTime", "maximumMessageSize", "minimumInSyncReplicas", "retentionSize", "topicConfig", "owners", "tags", "extension", "sourceUrl", "lifeCycle", "sourceHash"], [], ["partitions"], false, "topic_search_index";
    MLMODEL_SERVICE: "services/mlmodelServices", MlModelService, None,
        ["displayName", "description", "tags", "serviceType", "connection", "owners", "ingestionRunner"], [], ["serviceType"], false, "mlmodel_service_search_index";
    MLMODEL: "mlmodels", MlModel, Some(("service", EntityType::MlModelService)),
        ["displayName", "description", "algorithm", "mlFeatures", "target", "mlHyperParameters", "mlStore", "server", "tags", "owners", "extension", "sourceUrl", "lifeCycle", "sourceHash"], ["dashboard"], [], false, "mlmodel_search_index";
    STORAGE_SERVICE: "services/storageServices", StorageService, None,
        ["displayName", "description", "tags", "serviceType", "connection", "owners", "ingestionRunner"], [], ["serviceType"], false, "storage_service_search_index";
    CONTAINER: "containers", Container, Some(("service", EntityType::StorageService)),
        ["displayName", "description", "parent", "dataModel", "prefix", "numberOfObjects", "size", "fileFormats", "owners", "tags", "extension", "sourceUrl", "fullPath", "lifeCycle", "sourceHash"], [], [], false, "container_search_index";
    SEARCH_SERVICE: "services/searchServices", SearchService, None,
        ["displayName", "description", "tags", "serviceType", "connection", "owners", "ingestionRunner"], [], ["serviceType"], false, "search_service_search_index";
    SEARCH_INDEX: "searchIndexes", SearchIndex, Some(("service", EntityType::SearchService)),
        ["displayName", "description", "fields", "searchIndexSettings", "indexType", "owners", "tags", "extension", "lifeCycle", "sourceHash"], [], ["fields"], false, "search_entity_search_index";
    API_SERVICE: "services/apiServices", ApiService, None,
        ["displayName", "description", "tags", "serviceType", "connection", "owners", "ingestionRunner"], [], ["serviceType"], false, "api_service_search_index";
    API_COLLECTION: "apiCollections", ApiCollection, Some(("service", EntityType::ApiService)),
        ["displayName", "description", "endpointURL", "tags", "owners", "extension", "lifeCycle", "sourceHash"], ["apiEndpoints"], [], false, "api_collection_search_index";
    API_ENDPOINT: "apiEndpoints", ApiEndpoint, Some(("apiCollection", EntityType::ApiCollection)),
        ["displayName", "description", "endpointURL", "requestMethod", "requestSchema", "responseSchema", "owners", "tags", "extension", "lifeCycle", "sourceHash"], ["sourceUrl"], [], false, "api_endpoint_search_index";
    QUERY: "queries", Query, Some(("service", EntityType::DatabaseService)),
        ["displayName", "description", "owners", "tags", "query", "query_type", "exclude_usage", "duration", "users", "usedBy", "queryDate", "queryUsedIn", "triggeredBy", "processedLineage"], ["dialect"], ["query"], false, "query_search_index";
    CLASSIFICATION: "classifications", Classification, None,
        ["displayName", "description", "provider", "mutuallyExclusive", "owners", "reviewers", "autoClassificationConfig"], [], ["description"], false, "classification_search_index";
    TAG: "tags", Tag, Some(("classification", EntityType::Classification)),
        ["displayName", "description", "style", "provider", "mutuallyExclusive", "owners", "reviewers", "recognizers", "autoClassificationEnabled", "autoClassificationPriority"], ["associatedTags"], ["description"], false, "tag_search_index";
    USER: "users", User, None,
        ["displayName", "description", "externalId", "email", "timezone", "isBot", "isAdmin", "profile"], ["scimUserName", "botName", "teams", "roles", "personas", "defaultPersona", "authenticationMechanism", "createPasswordType", "password", "confirmPassword"], ["email"], false, "user_search_index";
    TEAM: "teams", Team, None,
        ["teamType", "email", "displayName", "externalId", "description", "profile", "owners", "isJoinable"], ["parents", "children", "users", "defaultRoles", "policies"], ["teamType"], false, "team_search_index";
    METRIC: "metrics", Metric, None,
        ["displayName", "description", "metricExpression", "metricType", "unitOfMeasurement", "customUnitOfMeasurement", "granularity", "owners", "reviewers", "tags", "extension"], ["relatedMetrics"], [], false, "metric_search_index";
}

impl Kind {
    /// The collection of an engine type.
    pub fn of(ty: EntityType) -> &'static Kind {
        ALL.iter()
            .find(|k| k.ty == ty)
            .expect("every entity type has a collection")
    }

    /// The collection named by an OpenMetadata search index (`table_search_index`,
    /// also the short forms `table` and the type name).
    pub fn by_index(index: &str) -> Option<&'static Kind> {
        ALL.iter().copied().find(|k| {
            k.index.eq_ignore_ascii_case(index)
                || k.ty.as_str().eq_ignore_ascii_case(index)
                || k.index.trim_end_matches("_search_index") == index
        })
    }

    /// Whether `field` is accepted in a create request but not stored.
    pub fn ignores(&self, field: &str) -> bool {
        self.ignored.contains(&field) || COMMON_IGNORED.contains(&field)
    }

    /// Whether this type is a service (the root of a hierarchy).
    pub fn is_service(&self) -> bool {
        self.collection.starts_with("services/")
    }

    /// Types whose parent field points at this type (a service's databases, ...).
    pub fn children(&self) -> impl Iterator<Item = &'static Kind> + '_ {
        ALL.iter()
            .copied()
            .filter(move |k| k.parent.is_some_and(|(_, t)| t == self.ty))
    }
}

/// Column fields of OpenMetadata's `Column` schema.
pub const COLUMN_FIELDS: &[&str] = &[
    "name",
    "displayName",
    "dataType",
    "arrayDataType",
    "dataLength",
    "precision",
    "scale",
    "dataTypeDisplay",
    "description",
    "fullyQualifiedName",
    "tags",
    "constraint",
    "ordinalPosition",
    "jsonSchema",
    "children",
    "profile",
    "customMetrics",
];

/// OpenMetadata's column `dataType` enum.
pub const DATA_TYPES: &[&str] = &[
    "NUMBER",
    "TINYINT",
    "SMALLINT",
    "INT",
    "BIGINT",
    "BYTEINT",
    "BYTES",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
    "NUMERIC",
    "TIMESTAMP",
    "TIMESTAMPZ",
    "TIME",
    "DATE",
    "DATETIME",
    "INTERVAL",
    "STRING",
    "MEDIUMTEXT",
    "TEXT",
    "CHAR",
    "LONG",
    "VARCHAR",
    "BOOLEAN",
    "BINARY",
    "VARBINARY",
    "ARRAY",
    "BLOB",
    "LONGBLOB",
    "MEDIUMBLOB",
    "MAP",
    "STRUCT",
    "UNION",
    "SET",
    "GEOGRAPHY",
    "ENUM",
    "JSON",
    "UUID",
    "VARIANT",
    "GEOMETRY",
    "BYTEA",
    "AGGREGATEFUNCTION",
    "ERROR",
    "FIXED",
    "RECORD",
    "NULL",
    "SUPER",
    "HLLSKETCH",
    "PG_LSN",
    "PG_SNAPSHOT",
    "TSQUERY",
    "TXID_SNAPSHOT",
    "XML",
    "MACADDR",
    "TSVECTOR",
    "UNKNOWN",
    "CIDR",
    "INET",
    "CLOB",
    "ROWID",
    "LOWCARDINALITY",
    "YEAR",
    "POINT",
    "POLYGON",
    "TUPLE",
    "SPATIAL",
    "TABLE",
    "NTEXT",
    "IMAGE",
    "IPV4",
    "IPV6",
    "DATETIMERANGE",
    "HLL",
    "LARGEINT",
    "QUANTILE_STATE",
    "AGG_STATE",
    "BITMAP",
    "UINT",
    "BIT",
    "MONEY",
    "MEASURE HIDDEN",
    "MEASURE VISIBLE",
    "MEASURE",
    "KPI",
    "HEIRARCHY",
    "HIERARCHYID",
];

/// OpenMetadata's `tableType` enum.
pub const TABLE_TYPES: &[&str] = &[
    "Regular",
    "External",
    "Dynamic",
    "View",
    "SecureView",
    "MaterializedView",
    "Iceberg",
    "Local",
    "Partitioned",
    "Foreign",
    "Transient",
    "Stream",
    "Stage",
];

/// OpenLineage, dbt and SQL type names to OpenMetadata's `dataType` enum.
pub fn data_type(t: &str) -> String {
    let u = t.trim().to_uppercase();
    let base = u.split(['(', '<', ' ']).next().unwrap_or("");
    let mapped = match base {
        "INTEGER" | "INT4" | "INT32" => "INT",
        "INT8" | "INT64" | "LONG" => "BIGINT",
        "INT2" | "SHORT" => "SMALLINT",
        "FLOAT8" | "FLOAT64" | "DOUBLE PRECISION" => "DOUBLE",
        "FLOAT4" | "FLOAT32" | "REAL" => "FLOAT",
        "BOOL" => "BOOLEAN",
        "CHARACTER" => "CHAR",
        "TIMESTAMPTZ" | "TIMESTAMP_TZ" | "TIMESTAMP_LTZ" | "TIMESTAMP_NTZ" => "TIMESTAMP",
        "STR" => "STRING",
        "VARIANT" | "OBJECT" => "JSON",
        "LIST" => "ARRAY",
        "ROW" => "STRUCT",
        "HUGEINT" | "UBIGINT" => "LARGEINT",
        "BLOB" | "BYTEA" => "BLOB",
        other => other,
    };
    if DATA_TYPES.contains(&mapped) {
        mapped.to_string()
    } else if u.starts_with("CHARACTER VARYING") {
        "VARCHAR".into()
    } else {
        "UNKNOWN".into()
    }
}

"""Where govgate lives: the one place for the URLs that the package metadata, the policy schema,
``policy init`` and the README name (tests check they agree)."""

PROJECT_URL = "https://github.com/govgate/govgate"
# The policy schema, published in the repository; editors fetch it through this URL.
POLICY_SCHEMA_PATH = "schema/policy.schema.json"
POLICY_SCHEMA_URL = "https://raw.githubusercontent.com/govgate/govgate/main/" + POLICY_SCHEMA_PATH

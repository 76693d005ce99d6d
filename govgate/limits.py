"""Every bound govgate puts on hostile or oversized input, in one place (README "Limits" lists them).

Each bound turns unbounded work into a clear outcome: a policy error (exit 2), a file reported
"too large to inspect" among the change's problems, or a GitHub API error within the time bound.
"""

from __future__ import annotations

# -- policies -------------------------------------------------------------------------------------
# A policy is a few kilobytes; a megabyte is far beyond any real one and parses in well under a second.
MAX_POLICY_BYTES = 1024 * 1024
# YAML nodes after alias expansion (the shipped presets have a few hundred): stops "billion laughs"
# before PyYAML builds the document.
MAX_POLICY_NODES = 100_000
# Nesting depth of mappings and lists (the deepest real policy key is about 6 levels down).
MAX_POLICY_DEPTH = 64
# A memory file holds prose for many areas (``memory suggest`` drafts thousands); past this it is refused.
MAX_MEMORY_BYTES = 4 * 1024 * 1024

# -- file contents ----------------------------------------------------------------------------------
# Past either bound a changed file is not read by detectors: it is reported "too large to inspect".
MAX_INSPECT_BYTES = 4 * 1024 * 1024
MAX_INSPECT_LINES = 100_000
# Line pairs the fallback line diff may compare per file (the anchored diff needs none in the usual
# case); past it the remaining unmatched lines count as added, which only widens what is inspected.
DIFF_COMPARISON_BUDGET = 4_000_000

# Values a YAML document of a changed file may hold once its aliases are expanded: its length in
# characters plus this. Without aliases a document holds fewer values than characters; past it the
# document is read by the line scanner, which never expands aliases.
YAML_EXPANSION_ALLOWANCE = 10_000

# -- GitHub API ---------------------------------------------------------------------------------------
# One response body (a page of 100 items is well under 1 MiB).
MAX_API_BODY_BYTES = 32 * 1024 * 1024
# Characters of an API error message kept in govgate's own error line (after the token is redacted).
MAX_API_ERROR_CHARS = 200

# -- user patterns ---------------------------------------------------------------------------------
# Memory RE2 may use to compile one user regular expression (its own default).
REGEX_MAX_MEMORY = 8 * 1024 * 1024

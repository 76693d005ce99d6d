"""The audit's thresholds, in one place: the summary applies them, formats, caveats and --help show them."""

MIN_MONTH_CHANGES = 10  # fewer changes than this in a month (or one group of it): shares are shown, never judged
LARGE_MERGE_COMMITS = 100  # a merge bringing in this many commits or more is flagged
KNOWLEDGE_DAYS = 3 * 365  # history read before the range (never judged) to know who knew each path
MAX_AUTO_JOBS = 4  # worker processes --jobs 0 starts at most
PARALLEL_FROM = 500  # changes to judge: below this, starting worker processes costs more than it saves

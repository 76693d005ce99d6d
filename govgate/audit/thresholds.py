"""The audit's judgement thresholds, in one place: the summary applies them, formats and caveats show them."""

MIN_MONTH_CHANGES = 10  # fewer changes than this in a month (or one group of it): shares are shown, never judged
LARGE_MERGE_COMMITS = 100  # a merge bringing in this many commits or more is flagged

"""History audits: streaming aggregation of verdicts over a range of history (``govgate audit``)."""

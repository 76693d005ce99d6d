"""``audit --github``: verified reviews of merged pull requests, 50 per GraphQL query, cached on disk.

The pull requests are the ones the history names (``Merge pull request #N``, squash ``(#N)``).
A cheap first pass (``git log --first-parent --format=%s``) lists their numbers in stream order,
so each query asks for the next 50 numbers not in the cache. Answers (including "no such pull
request" and "an issue, not a pull request") are kept in a SQLite file, by default
``<git dir>/govgate-cache/github.sqlite3``, so a re-run makes no API call.

A pull request's data is attached only when GitHub says it was merged *as this very commit*
(``mergeCommit.oid`` equals the change's head): a ``(#N)`` that names another repository's pull
request, or a cherry-pick, never borrows someone else's reviews. An API failure stops further
queries for the run and is reported; the audit goes on offline.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from govgate.errors import GovgateError
from govgate.model import GHOST_LOGIN, Change, Review
from govgate.sources.git import GitRepo, log_format, log_records, record_fields
from govgate.sources.github_api import GitHubApiError, GitHubClient
from govgate.sources.history_walk import git_dir
from govgate.sources.merge_messages import github_repository, pull_number

BATCH = 50
QUERY_DEADLINE_SECONDS = 120.0
_UNRESOLVED = re.compile(r"with the number of (\d+)")
_FIELDS = """
fragment pr on PullRequest {
  number title body url merged mergeCommit { oid } headRefName headRefOid baseRefName
  author { login __typename }
  labels(first: 50) { nodes { name } }
  reviews(first: 100) { nodes { state submittedAt authorAssociation author { login __typename } commit { oid } } }
  commits(first: 100) { nodes { commit { oid author { user { login } } committer { user { login } } } } }
}
"""


class PullRequestCache:
    def __init__(self, path: Path | None, repository: str) -> None:
        self.repository = repository
        self._memory: dict[int, dict[str, Any]] = {}
        self._db: sqlite3.Connection | None = None
        self.problem: str | None = None
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(path)
                self._db.execute("CREATE TABLE IF NOT EXISTS pull_requests "
                                 "(repository TEXT, number INTEGER, data TEXT, PRIMARY KEY (repository, number))")
            except (OSError, sqlite3.Error) as exc:
                self.problem = f"--github cache {path} cannot be used ({exc}); answers were kept in memory only"
                self._db = None

    def get(self, number: int) -> dict[str, Any] | None:
        if number in self._memory:
            return self._memory[number]
        if self._db is None:
            return None
        row = self._db.execute("SELECT data FROM pull_requests WHERE repository = ? AND number = ?",
                               (self.repository, number)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, number: int, data: dict[str, Any]) -> None:
        if self._db is None:
            self._memory[number] = data
            return
        self._db.execute("INSERT OR REPLACE INTO pull_requests VALUES (?, ?, ?)", (self.repository, number, json.dumps(data)))

    def commit(self) -> None:
        if self._db is not None:
            self._db.commit()

    def close(self) -> None:
        if self._db is not None:
            self._db.commit()
            self._db.close()
            self._db = None


class GitHubReviewEnricher:
    def __init__(self, make_client: Any, owner: str, name: str, cache: PullRequestCache, upcoming: Iterable[int]) -> None:
        self._make_client = make_client
        self.owner, self.name = owner, name
        self.cache = cache
        self._upcoming: deque[int] = deque(upcoming)
        self.queries = 0
        self.problems: list[str] = [cache.problem] if cache.problem else []
        self._failed = False

    @property
    def failed(self) -> bool:
        """The API refused or failed: changes from then on were judged without its data."""
        return self._failed

    def enrich(self, changes: Iterator[Change]) -> Iterator[Change]:
        """The changes, with their pull requests' GitHub data; may be called for several stretches of one
        history (an incremental audit); ``close`` when done."""
        for change in changes:
            pr = change.pull_request
            if pr is not None and pr.number is not None:
                data = self.cache.get(pr.number)
                if data is None and not self._failed:
                    self._fetch_from(pr.number)
                    data = self.cache.get(pr.number)
                if data is not None:
                    apply(change, data)
            if not self._failed:
                change.forge = "github"  # judged with what GitHub said (or that it had nothing to say)
            yield change

    def close(self) -> None:
        self.cache.close()

    def _fetch_from(self, number: int) -> None:
        while self._upcoming and self._upcoming[0] != number:
            self._upcoming.popleft()
        batch: list[int] = []
        while self._upcoming and len(batch) < BATCH:
            candidate = self._upcoming.popleft()
            if candidate not in batch and self.cache.get(candidate) is None:
                batch.append(candidate)
        if number not in batch:
            batch.insert(0, number)
            batch = batch[:BATCH]
        self._query(batch)

    def _query(self, numbers: list[int]) -> None:
        remaining = list(numbers)
        while remaining:
            aliases = "\n".join(f"n{n}: issueOrPullRequest(number: {n}) {{ __typename ...pr }}" for n in remaining)
            query = f"query($owner: String!, $name: String!) {{ repository(owner: $owner, name: $name) {{\n{aliases}\n}} }}\n{_FIELDS}"
            self.queries += 1
            try:
                data = self._make_client().graphql(query, {"owner": self.owner, "name": self.name}) or {}
            except GitHubApiError as exc:
                unresolved = _UNRESOLVED.search(exc.message)
                if unresolved and int(unresolved.group(1)) in remaining:
                    # GitHub fails the whole query for a number this repository never had: drop it, ask again.
                    gone = int(unresolved.group(1))
                    self.cache.put(gone, {"missing": True})
                    remaining.remove(gone)
                    continue
                self._failed = True
                self.problems.append(f"--github: {exc.message}; the rest of the audit used no API data")
                return
            repository = data.get("repository") or {}
            for n in remaining:
                node = repository.get(f"n{n}")
                if not node:
                    self.cache.put(n, {"missing": True})
                elif node.get("__typename") != "PullRequest":
                    self.cache.put(n, {"not_pull_request": True})
                else:
                    self.cache.put(n, node)
            self.cache.commit()
            return


def apply(change: Change, data: dict[str, Any]) -> None:
    """Attach what GitHub knows about the change's pull request, if it was merged as this commit."""
    pr = change.pull_request
    if pr is None:
        return
    pr.landing_proven = False  # until GitHub says this very commit is the pull request's merge
    if data.get("missing") or data.get("not_pull_request"):
        return
    merged_as = (data.get("mergeCommit") or {}).get("oid")
    if not data.get("merged") or merged_as != change.head:
        change.problems.append(f"GitHub pull request #{pr.number} was not merged as {change.head[:12]}; its reviews were not used")
        return
    pr.landing_proven = True
    author = data.get("author") or {}
    pr.author_login = author.get("login") or pr.author_login
    pr.author_type = author.get("__typename") or pr.author_type
    pr.title = data.get("title") or pr.title
    pr.body = data.get("body") or ""
    pr.labels = tuple(label["name"] for label in (data.get("labels") or {}).get("nodes") or [] if label)
    pr.head_ref = data.get("headRefName") or pr.head_ref
    pr.base_ref = data.get("baseRefName") or pr.base_ref
    pr.head_sha = data.get("headRefOid") or pr.head_sha
    pr.url = data.get("url") or pr.url
    reviews = []
    for node in (data.get("reviews") or {}).get("nodes") or []:
        if not node:
            continue
        reviewer = node.get("author") or {}
        reviews.append(Review(
            reviewer=reviewer.get("login") or GHOST_LOGIN, reviewer_type=reviewer.get("__typename") or "User",
            state=str(node.get("state") or ""), commit_id=(node.get("commit") or {}).get("oid"),
            submitted_at=node.get("submittedAt"), author_association=node.get("authorAssociation"),
        ))
    pr.reviews = tuple(reviews)
    pr.contributors = _contributors(data)


def _contributors(data: dict[str, Any]) -> dict[str, str]:
    """Who authored or committed the pull request's commits (who pushed them, GraphQL does not say)."""
    found: dict[str, str] = {}
    for node in (data.get("commits") or {}).get("nodes") or []:
        commit = (node or {}).get("commit") or {}
        sha = str(commit.get("oid") or "")[:12]
        for role, verb in (("author", "authored"), ("committer", "committed")):
            login = ((commit.get(role) or {}).get("user") or {}).get("login")
            if login:
                found.setdefault(login.lower(), f"{verb} commit {sha}")
    return found


def enricher_for(repo: GitRepo, web_url: str | None, cache_dir: str | None, rev_args: list[str]) -> GitHubReviewEnricher:
    env = os.environ
    token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")
    if not token:
        raise GovgateError("--github needs a token in GITHUB_TOKEN (or GH_TOKEN)", "or run the audit offline without --github")
    found = github_repository(web_url)
    if env.get("GITHUB_REPOSITORY", "").count("/") == 1:
        owner, name = env["GITHUB_REPOSITORY"].split("/")
        host = (found or ("github.com", "", ""))[0]
    elif found:
        host, owner, name = found
    else:
        raise GovgateError("--github: cannot tell which GitHub repository this is",
                           "set GITHUB_REPOSITORY=owner/name, or give the clone an origin remote on GitHub")
    api_url = env.get("GITHUB_API_URL") or ("https://api.github.com" if host == "github.com" else f"https://{host}/api/v3")
    graphql_url = env.get("GITHUB_GRAPHQL_URL") or None
    directory = Path(cache_dir) if cache_dir else git_dir(repo) / "govgate-cache"
    cache = PullRequestCache(directory / "github.sqlite3", f"{host}/{owner}/{name}")

    def make_client() -> GitHubClient:
        return GitHubClient(api_url, token, graphql_url, deadline_seconds=QUERY_DEADLINE_SECONDS)

    return GitHubReviewEnricher(make_client, owner, name, cache, _numbers_in(repo, rev_args))


def _numbers_in(repo: GitRepo, rev_args: list[str]) -> Iterator[int]:
    """Pull request numbers named by first-parent subjects, newest first (one cheap git log)."""
    out = repo.try_run("log", "--first-parent", f"--format={log_format('%P', '%s')}", *rev_args, "--") or ""
    for record in log_records([out.encode()]):
        parents, subject, _ = (field.decode() for field in record_fields(record, 2))
        number = pull_number(subject.strip(), len(parents.split()) > 1)
        if number is not None:
            yield number

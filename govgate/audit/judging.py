"""Judging read changes into ChangeRecords, in whichever process does it (the main one, or a worker).

A Judge owns what judging needs besides the change: the policy, the day waivers expire against,
its own git processes for blob sizes and contents, and whether to write each change's
``govgate/check/v1`` object. Changes come in small batches so that one ``cat-file`` round trip
serves a whole batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TypeVar

from govgate.audit.failures import ChangeRefs, references_of
from govgate.audit.record import ChangeRecord, record_of
from govgate.model import Change, Severity
from govgate.policy.model import Policy
from govgate.sources.git import GitRepo
from govgate.sources.history_objects import BlobSizes, ChangeContents, SizeSettings

Tag = TypeVar("Tag")
BATCH = 64  # changes judged together in this process (one blob-size round trip each)


@dataclass(frozen=True)
class JudgeSettings:
    """Everything a Judge needs besides the repository (picklable: workers are started with it)."""

    policy: Policy
    fail_on: Severity
    today: dt.date
    sizes: SizeSettings
    with_json: bool  # write each change's check object (the JSON format and the cache need it)
    prints_json: bool = False  # the output prints check objects: cached ones are read back only then


class Judge:
    def __init__(self, repo: GitRepo, settings: JudgeSettings, *, bind_contents: bool) -> None:
        """``bind_contents``: give the changes' files content loaders of this process (a worker's
        changes arrive without them; a source in this process has bound its own)."""
        self.repo = repo
        self.settings = settings
        self._sizes = BlobSizes(repo, settings.sizes)
        self._bind = bind_contents

    def judge(self, changes: Sequence[Change]) -> list[ChangeRecord]:
        from govgate.detectors import reads_content
        from govgate.pipeline import evaluate

        settings = self.settings
        self._sizes.apply(changes)
        records = []
        for change in changes:
            if self._bind:
                contents = ChangeContents(self.repo.blobs, settings.sizes.present, change.files, reads_content)
                for f in change.files:
                    f._load_old = contents.loader(f.old_blob, prefetch=False)
                    f._load_new = contents.loader(f.new_blob, prefetch=True)
            verdict = evaluate(change, settings.policy, fail_on=settings.fail_on, today=settings.today)
            records.append(record_of(verdict, settings.policy, with_json=settings.with_json))
        return records

    def close(self) -> None:
        self._sizes.close()


def judged(items: Iterable[tuple[Change, Tag]], settings: JudgeSettings, repo: GitRepo, jobs: int) -> Iterator[tuple[ChangeRecord, Tag]]:
    """(record, tag) for each (change, tag), in order: in ``jobs`` worker processes, or in this one.
    The tag (what else this process needs of the change) never leaves this process."""
    if jobs > 1:
        from govgate.audit.parallel import judge_in_workers

        yield from judge_in_workers(items, settings, repo.path, jobs)
        return
    judge = Judge(repo, settings, bind_contents=False)
    source = iter(items)
    try:
        while batch := list(islice(source, BATCH)):
            yield from zip(judge.judge([change for change, _ in batch]), [tag for _, tag in batch], strict=True)
    finally:
        judge.close()


def with_references(changes: Iterable[Change]) -> Iterator[tuple[Change, ChangeRefs]]:
    """Each change with the references it makes to older ones, read here, where its messages are."""
    return ((change, references_of(change)) for change in changes)

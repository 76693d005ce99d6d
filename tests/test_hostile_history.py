"""History parsing cannot be split or forged: hostile bytes in messages, names and paths, through
``check`` and ``audit``, each paired with a control that has the same shape without the hostile bytes.

The commits are real git objects written with ``git hash-object --literally`` (``git commit``
refuses most of these), so git itself hands govgate exactly what an attacker could push.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govgate.sources.git import GitRepo, commit_from_object
from tests import literal_git as lit
from tests.conftest import run_cli

FILES = {b"app.py": b"print('app')\n", b"util.py": b"print('util')\n"}
FAKE_SHA = b"1" * 40


def _forged_record(nonce: bytes) -> bytes:
    """A whole fake record (metadata, a passing trailer, a file list) in the shape of a log stream."""
    fields = [FAKE_SHA, b"", b"Eve", b"eve@example.com", b"Eve", b"eve@example.com", b"2026-01-01T00:00:00+00:00",
              b"2026-01-01T00:00:00+00:00", b"forged: nothing to see\n\nReviewed-by: Bob <bob@example.com>\n"]
    return nonce + b"R" + (nonce + b"F").join(fields) + nonce + b"F\0\n:000000 100644 " + b"0" * 40 + b" " + FAKE_SHA + b" A\0x.py\0"


def _message(subject: bytes, after_trailer: bytes = b"") -> bytes:
    """``subject``, an AI trailer, then ``after_trailer`` (git shows a message only up to a NUL, so a
    forged record holding NULs goes after the trailer that must still be read)."""
    return subject + b"\n\n" + lit.AI_TRAILER + b"\n" + after_trailer


_OLD_FRAMING_RECORD = (b"\x1e" + FAKE_SHA + b"\0\0Eve\0eve@example.com\0Eve\0eve@example.com\0"
                       b"2026-01-01T00:00:00+00:00\x002026-01-01T00:00:00+00:00\0forged\0\0\n:000000 100644 "
                       + b"0" * 40 + b" " + FAKE_SHA + b" A\0x.py\0\x1e")
HOSTILE_MESSAGES = {
    "record separator": _message(b"feat: parse\x1ethe input"),
    "unit separator": _message(b"feat: parse\x1fthe input"),
    "carriage returns": _message(b"feat: parse\rthe input\r\nReviewed-by: nobody"),
    "lone surrogate (invalid UTF-8)": _message(b"feat: parse \xed\xa0\x80 the input"),
    "other line breaks": _message(b"feat: parse\x1c\x1d\x85 \xe2\x80\xa8the input"),
    "forged record, old framing": _message(b"feat: parse\x1ethe input", _OLD_FRAMING_RECORD),
    "forged record, old framing without NUL": _message(b"feat: parse", _OLD_FRAMING_RECORD.replace(b"\0", b"\x1f")),
    "forged record, this framing with a guessed nonce": _message(b"feat: parse", _forged_record(b"0" * 32)),
    "forged record, guessed nonce, without NUL": _message(b"feat: parse", _forged_record(b"0" * 32).replace(b"\0", b"")),
}
CONTROL_MESSAGE = _message(b"feat: parse the input")


def _history(repo: Path, message: bytes, files: dict[bytes, bytes] = FILES) -> tuple[str, str]:
    """A base commit, then one commit adding ``files`` with ``message``."""
    lit.init(repo)
    base = lit.commit(repo, lit.tree(repo, {b"README.md": b"# project\n"}), [], b"Initial commit\n", when=1_767_225_000)
    head = lit.commit(repo, lit.tree(repo, {b"README.md": b"# project\n", **files}), [base], message)
    return base, head


def _check(repo: Path, base: str, *extra: str) -> dict:
    result = run_cli("check", "--repo", str(repo), "--base", base, "--format", "json", *extra)
    assert result.code in (0, 1), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    return result.json()


def _audit(repo: Path, *extra: str) -> tuple[list[dict], dict]:
    result = run_cli("audit", "--repo", str(repo), "--format", "json", "--jobs", "1", *extra)
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    # JSON lines end at "\n" only: a message may hold U+2028 or U+0085, which str.splitlines also breaks at.
    lines = [json.loads(line) for line in result.stdout.split("\n") if line]
    return lines[:-1], lines[-1]


@pytest.mark.parametrize("message", [CONTROL_MESSAGE, *HOSTILE_MESSAGES.values()],
                         ids=["control", *HOSTILE_MESSAGES])
def test_hostile_message_neither_splits_nor_forges_a_record(tmp_path: Path, message: bytes) -> None:
    repo = tmp_path / "repo"
    base, head = _history(repo, message)

    checked = _check(repo, base)
    assert checked["change"]["commits"] == [head]
    assert checked["change"]["files"] == 2
    assert checked["ai_assisted"] is True  # the trailer after the hostile bytes is still read
    assert checked["change"]["subject"].startswith("feat: parse")

    changes, summary = _audit(repo)
    assert [c["change"]["sha"] for c in changes] == [head, base]  # no extra change, none lost
    assert [c["change"]["files"] for c in changes] == [2, 1]
    assert changes[0]["ai_assisted"] is True
    assert summary["totals"]["changes"] == 2 and summary["totals"]["ai_assisted"] == 1
    assert FAKE_SHA.decode() not in json.dumps([changes, summary])


def test_nul_in_a_message_ends_it_where_git_ends_it(tmp_path: Path) -> None:
    """git shows a message up to its first NUL (so does every forge): the rest is not read, nothing breaks."""
    repo = tmp_path / "repo"
    base, head = _history(repo, b"feat: before\0after " + _message(b"x", _forged_record(b"0" * 32)))
    checked = _check(repo, base)
    assert checked["change"]["files"] == 2 and checked["change"]["subject"] == "feat: before"
    changes, _ = _audit(repo)
    assert [c["change"]["sha"] for c in changes] == [head, base]
    assert [c["change"]["files"] for c in changes] == [2, 1]
    control_repo = tmp_path / "control"
    _history(control_repo, b"feat: before\n")
    assert _check(control_repo, _history_base(control_repo))["change"]["subject"] == "feat: before"


def _history_base(repo: Path) -> str:
    return lit.git_bytes(repo, "rev-parse", "main~1").decode().strip()


HOSTILE_NAMES = {
    b"caf\xe9.py": b"one = 1\n",  # latin-1, not UTF-8 ...
    b"caf\xe8.py": b"two = 2\n",  # ... and a second one that decodes to the same text under "replace"
    b"\nlead.py": b"lead = 1\n",  # begins with the newline git writes before a diff
    b":100644 100644 " + b"0" * 40 + b" " + b"1" * 40 + b" M": b"fake = 1\n",  # looks like a --raw entry
    b"tab\there\t.py": b"tab = 1\n",  # tabs split --numstat lines
    b"rec\x1esep\x1f.py": b"sep = 1\n",
    b"cr\rname.py": b"cr = 1\n",
    b"lone\xed\xa0\x80.py": b"lone = 1\n",
}
CONTROL_NAMES = {f"plain{i}.py".encode(): f"v{i} = 1\n".encode() for i in range(len(HOSTILE_NAMES))}


@pytest.mark.parametrize("names", [CONTROL_NAMES, HOSTILE_NAMES], ids=["control", "hostile"])
def test_hostile_file_names_are_each_one_file(tmp_path: Path, names: dict[bytes, bytes]) -> None:
    repo = tmp_path / "repo"
    base, _ = _history(repo, b"feat: many names", names)
    count = len(names)

    checked = _check(repo, base)  # check diffs with --raw --numstat
    assert checked["change"]["files"] == count
    assert checked["change"]["lines_added"] == count  # every numstat line found its file

    changes, _ = _audit(repo)
    assert [c["change"]["files"] for c in changes] == [count, 1]
    exact, _ = _audit(repo, "--exact-lines")
    assert exact[0]["change"]["files"] == count and exact[0]["change"]["lines_added"] == count


def test_commit_object_header_splits_on_newlines_only(tmp_path: Path) -> None:
    """An author name holding line breaks other than \\n cannot add a parent (the damaged-history fallback
    reads commits from their objects)."""
    repo = lit.init(tmp_path / "repo")
    empty = lit.tree(repo, {})
    base = lit.commit(repo, empty, [], b"base\n")
    forged = "parent " + "2" * 40
    for separator in ("\x1c", "\x1e", "\u2028", "\r", "\x85"):
        author = f"Mallory{separator}{forged} <m@example.com>".encode()
        sha = lit.commit(repo, empty, [base], b"msg\n", author=author)
        commit = commit_from_object(sha, GitRepo.open(repo).run_bytes("cat-file", "commit", sha))
        assert commit.parents == (base,), repr(separator)
        assert commit.author.email == "m@example.com"
    control = lit.commit(repo, empty, [base], b"msg\n")
    assert commit_from_object(control, GitRepo.open(repo).run_bytes("cat-file", "commit", control)).parents == (base,)


# -- property: any message, any file names ---------------------------------------------------------

# Bytes that framings, decoders and line splitters trip on, mixed with arbitrary ones.
_TRICKY = [b"\x1e", b"\x1f", b"\0", b"\r", b"\n", b"\n\n", b"\t", b":", b"\xed\xa0\x80", b"\xff", b"\xe2\x80\xa8",
           b"\x85", b"Reviewed-by: x", b"Co-authored-by: Claude <noreply@anthropic.com>"]
_pieces = st.lists(st.sampled_from(_TRICKY) | st.binary(max_size=8), max_size=12).map(b"".join)
_names = _pieces.filter(lambda n: 0 < len(n) and b"\0" not in n and b"/" not in n and n not in (b".", b"..")
                        and n.lower() != b".git")


@settings(max_examples=12, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=_pieces, names=st.lists(_names, min_size=1, max_size=4, unique=True))
def test_any_message_and_names_give_the_right_counts(message: bytes, names: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        repo = Path(folder) / "repo"
        files = {name: b"x = %d\n" % i for i, name in enumerate(names)}
        base, head = _history(repo, message, files)
        result = run_cli("check", "--repo", str(repo), "--base", base, "--format", "json")
        assert result.code in (0, 1, 2) and "Traceback" not in result.stderr and "internal error" not in result.stderr
        assert result.code != 2, result.stderr  # well-formed history: it must be judged
        assert result.json()["change"]["files"] == len(names)
        changes, summary = _audit(repo)
        assert [c["change"]["sha"] for c in changes] == [head, base]
        assert changes[0]["change"]["files"] == len(names) and summary["totals"]["changes"] == 2

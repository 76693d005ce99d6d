"""The configuration that judges a change, read from its trust root, the same way for every source.

The policy (with its waivers), CODEOWNERS and the memory file are read from the objects of the
revision the source names as trust root (``ChangeSource.trust_root``): the pull request's base
commit, the default branch for a push to another branch, the base revision of a local range, the
audited revision. Never from the working tree of the change, which its author controls, and never
through a symbolic link (``govgate.sources.base_files``). A change that edits the policy is judged
by the policy it replaces, and its edit is flagged (``when: {policy_changed: true}``).

Only ``--policy-from-worktree`` reads the working tree, for policy authors trying a policy locally;
a forge source refuses it. A preset is read from the installed package and a file outside the
repository from disk: neither is the change's to rewrite.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from govgate.errors import GovgateError
from govgate.limits import MAX_POLICY_BYTES
from govgate.policy.choice import PolicyChoice
from govgate.policy.loader import DEFAULT_POLICY_FILES, EMBEDDED_DEFAULT, load_policy, parse_policy, preset_path
from govgate.policy.model import OriginKind, Policy, PolicyOrigin
from govgate.sources import TrustRoot
from govgate.sources.base_files import DEFAULT_LIMIT, BaseFileError, BaseFiles
from govgate.sources.git import GitRepo
from govgate.sources.release_tags import with_release_tags

POLICY_LIMIT = MAX_POLICY_BYTES  # the loader's own bound: a policy is refused past it whichever way it is read
CODEOWNERS_LIMIT = 3 * (1 << 20)  # GitHub ignores a CODEOWNERS file over 3 MB


@dataclass
class TrustedConfig:
    policy: Policy
    root: TrustRoot
    files: BaseFiles | None  # the trust root's files; None when there is no trust root revision
    problems: list[str] = field(default_factory=list)  # notes on the lookup, said with the verdict

    def read_file(self, path: str, *, what: str = "file", limit: int = DEFAULT_LIMIT) -> str | None:
        """A regular file of the trust root (e.g. ``.govgate/memory.yml``), None when absent."""
        return self.files.read_text(path, what=what, limit=limit) if self.files else None

    @property
    def asks_for_code_owners(self) -> bool:
        """CODEOWNERS is read only when a rule asks for a code owner's approval."""
        return self.files is not None and any(req.codeowners for rule in self.policy.rules for req in rule.require)

    def codeowners(self, locations: tuple[str, ...]) -> tuple[str, str] | None:
        """(location, text) of the first CODEOWNERS file of the trust root, in the forge's lookup order."""
        return self.files.first_of(locations, what="CODEOWNERS", limit=CODEOWNERS_LIMIT) if self.files else None


def read_trusted(
    repo: GitRepo, root: TrustRoot, choice: PolicyChoice, *, from_worktree: bool = False, cwd: Path | None = None,
) -> TrustedConfig:
    if from_worktree and root.forge:
        raise GovgateError(
            f"--policy-from-worktree is for local runs: in CI the policy always comes from {root.role}",
            "remove --policy-from-worktree from the workflow",
        )
    files = BaseFiles(repo, root.revision, root.role) if root.revision else None
    problems: list[str] = []
    policy = _policy(repo, root, files, choice, from_worktree, cwd or Path.cwd(), problems)
    # Release-relative freezes end when their tag appears in this repository: every command judges alike.
    return TrustedConfig(with_release_tags(repo, policy), root, files, problems)


def _policy(
    repo: GitRepo, root: TrustRoot, files: BaseFiles | None, choice: PolicyChoice, from_worktree: bool, cwd: Path,
    problems: list[str],
) -> Policy:
    if choice.preset is not None:
        return dataclasses.replace(load_policy(preset_path(choice.preset)),
                                   origin=PolicyOrigin(OriginKind.PRESET, preset=choice.preset))
    candidates = DEFAULT_POLICY_FILES
    if choice.file is not None:
        located = locate(choice.file, repo, cwd)
        if isinstance(located, Path):
            return dataclasses.replace(load_policy(located), origin=PolicyOrigin(OriginKind.FILE, path=str(located)))
        candidates = (located,)
    watched = tuple(dict.fromkeys((*DEFAULT_POLICY_FILES, *candidates)))  # edits to these set policy_changed
    if from_worktree:
        found = _worktree_file(repo, candidates)
        where = "the working tree"
        if found is not None:
            path, text = found
            policy = parse_policy(text, str(repo.path / path))
            return dataclasses.replace(policy, policy_paths=watched, origin=PolicyOrigin(OriginKind.WORKTREE, path=path))
    elif files is not None:
        found = files.first_of(candidates, what="policy", limit=POLICY_LIMIT)
        where = files.label
        if found is not None:
            path, text = found
            policy = parse_policy(text, f"{path}@{files.revision[:12]}")
            origin = PolicyOrigin(OriginKind.REVISION, path=path, revision=files.revision, role=root.role)
            return dataclasses.replace(policy, policy_paths=watched, origin=origin)
    else:
        where = root.role
    reason = f"no {' or '.join(candidates)} at {where}"
    if choice.file is not None:
        problems.append(f"policy {choice.file} does not exist at {where}: judged by the embedded default policy")
    origin = PolicyOrigin(OriginKind.PRESET, preset=EMBEDDED_DEFAULT, embedded_default=True, reason=reason)
    return dataclasses.replace(load_policy(preset_path(EMBEDDED_DEFAULT)), policy_paths=watched, origin=origin)


def locate(given: str, repo: GitRepo, cwd: Path) -> str | Path:
    """A repository-relative path (read from the trust root), or a file outside the repository (read from disk).

    Relative paths are the current directory's when it is inside the repository, else the
    repository's (run from elsewhere with --repo). A path outside that leads inside through a
    link counts as inside: what the change controls is never read from disk.
    """
    path = Path(os.path.expanduser(given))
    if not path.is_absolute():
        path = (cwd if _relative(cwd.resolve(), repo.path.resolve()) is not None else repo.path) / path
    lexical = Path(os.path.normpath(path))
    for candidate, top in ((lexical, repo.path), (lexical, repo.path.resolve()), (path.resolve(), repo.path.resolve())):
        inside = _relative(candidate, top)
        if inside is not None:
            if not inside:
                raise GovgateError(f"--policy {given}: names the repository itself, not a policy file")
            return inside
    return path


def _relative(path: Path, top: Path) -> str | None:
    try:
        inside = path.relative_to(top).as_posix()
    except ValueError:
        return None
    return "" if inside == "." else inside


def _worktree_file(repo: GitRepo, candidates: tuple[str, ...]) -> tuple[str, str] | None:
    """(path, text) of the first candidate in the working tree; links anywhere on the way are refused."""
    if (repo.try_run("rev-parse", "--is-inside-work-tree") or "").strip() != "true":
        raise GovgateError(f"{repo.path} has no working tree to read the policy from", "drop --policy-from-worktree")
    for path in candidates:
        current = repo.path
        info: os.stat_result | None = None
        for part in path.split("/"):
            current = current / part
            try:
                info = os.lstat(current)
            except (FileNotFoundError, NotADirectoryError):
                info = None
                break
            if stat.S_ISLNK(info.st_mode):
                raise BaseFileError(
                    f"policy {path} in the working tree: {current.relative_to(repo.path).as_posix()} is a symbolic link, "
                    "and govgate never follows one to read a policy",
                    "replace the link with the file itself",
                )
        if info is None:
            continue
        if not stat.S_ISREG(info.st_mode):
            raise BaseFileError(f"policy {path} in the working tree is not a regular file")
        if info.st_size > POLICY_LIMIT:
            raise BaseFileError(f"policy {path} in the working tree is {info.st_size:,} bytes; the limit is {POLICY_LIMIT:,}")
        try:
            return path, current.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise BaseFileError(f"policy {path} in the working tree is not UTF-8 text") from None
        except OSError as exc:
            raise BaseFileError(f"policy {path} in the working tree cannot be read: {exc.strerror}") from None
    return None

"""Python schema migrations: Alembic revisions and Django migrations, read with ``ast``.

Alembic (``**/versions/*.py`` holding ``revision =`` and ``down_revision =``):
- supports when ``downgrade()`` undoes each ``op.*`` change of ``upgrade()`` (each operation
  has its inverse: add_column/drop_column, create_table/drop_table, ...; ``op.execute`` in the
  downgrade is taken to undo anything, because raw SQL cannot be read back);
- red flag (error) "irreversible migration" when ``upgrade()`` calls ``op.*`` but
  ``downgrade()`` is missing, holds only ``pass``/comments/a docstring, or only raises;
- merge revisions (a tuple ``down_revision`` and no ``op.*`` in ``upgrade()``) are never
  flagged: there is nothing to reverse;
- warning when ``downgrade()`` does not obviously undo ``upgrade()`` (no inverse found);
- warning when ``upgrade()`` drops a column or table: the downgrade brings the column back,
  but not the data it held (the caveat in apache/superset's migration a61b40f9f57f).

Django (``*/migrations/[0-9]*.py`` with a ``Migration`` class):
- ``RunPython(code, reverse_code)``, ``RunSQL(sql, reverse_sql)`` and ``.noop`` reverses are
  reversible, and so are the schema operations Django reverses itself (AddField, CreateModel...);
- ``RunPython`` without ``reverse_code`` and ``RunSQL`` without ``reverse_sql`` (or with None)
  are red flags (error): Django raises "You cannot reverse this operation";
- RemoveField / DeleteModel get the same data-loss warning as Alembic drops.

Helpers that ``upgrade()``/``downgrade()`` call in the same module (``data_upgrades()``) are
followed. A file that does not parse gives unavailable, low-confidence evidence.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from govgate.detectors.migration_common import Finder, live_files, read_text
from govgate.detectors.scope import FileScope
from govgate.model import Change, Confidence, Evidence, FileChange, Severity

_ALEMBIC = Finder("migrations_python", "alembic")
_DJANGO = Finder("migrations_python", "django")
_REVISION = re.compile(r"^\s*down_revision\s*(?::[^=\n]*)?=", re.MULTILINE)

# Each alembic change operation and the operations that undo it.
_DROP_CONSTRAINT = frozenset({"drop_constraint"})
_CREATE_CONSTRAINTS = frozenset({
    "create_foreign_key", "create_unique_constraint", "create_primary_key", "create_check_constraint",
    "create_exclude_constraint",
})
_INVERSES: dict[str, frozenset[str]] = {
    "create_table": frozenset({"drop_table"}),
    "drop_table": frozenset({"create_table"}),
    "add_column": frozenset({"drop_column"}),
    "drop_column": frozenset({"add_column"}),
    "create_index": frozenset({"drop_index"}),
    "drop_index": frozenset({"create_index"}),
    "drop_constraint": _CREATE_CONSTRAINTS,
    "alter_column": frozenset({"alter_column"}),
    "rename_table": frozenset({"rename_table"}),
    "create_table_comment": frozenset({"drop_table_comment", "create_table_comment"}),
    "drop_table_comment": frozenset({"create_table_comment"}),
    "create_sequence": frozenset({"drop_sequence"}),
    "drop_sequence": frozenset({"create_sequence"}),
    **{name: _DROP_CONSTRAINT for name in _CREATE_CONSTRAINTS},
}
_DATA_CHANGES = frozenset({"execute", "bulk_insert"})
# op.* calls that build values or read context and change nothing by themselves.
_OP_HELPERS = frozenset({"f", "inline_literal", "get_context", "batch_alter_table", "implementation_for"})
_DROPS = frozenset({"drop_column", "drop_table"})


class PythonMigrationDetector:
    name = "migrations_python"
    config_schema: Mapping[str, Any] | None = None
    speaks_to = (FileScope((".py",), accept=lambda path: _is_candidate(path)),)
    reads = speaks_to

    def detect(self, change: Change, settings: Mapping[str, Any]) -> Iterable[Evidence]:
        for file in live_files(change, _is_candidate):
            if _is_django_path(file.path):
                yield from _django(file)
            else:
                yield from _alembic(file)


def _is_candidate(path: str) -> bool:
    return path.endswith(".py") and (_is_alembic_path(path) or _is_django_path(path))


def _is_alembic_path(path: str) -> bool:
    parts = path.split("/")
    return len(parts) >= 2 and parts[-2] == "versions"


def _is_django_path(path: str) -> bool:
    parts = path.split("/")
    return len(parts) >= 2 and parts[-2] == "migrations" and parts[-1][:1].isdigit()


def _parse(file: FileChange, finder: Finder) -> tuple[ast.Module | None, str | None, Evidence | None]:
    text, missing = read_text(file, finder)
    if missing is not None or text is None:
        return None, None, missing
    try:
        return ast.parse(text, filename=file.path), text, None
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        line = getattr(exc, "lineno", None)
        return None, text, finder.unavailable(file.path, f"it does not parse as Python ({exc.__class__.__name__})", line)


# --- Alembic ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _OpCall:
    name: str
    line: int
    target: str  # "dbs.allow_run_sync" for drops, best effort


def _alembic(file: FileChange) -> Iterator[Evidence]:
    text = file.new_text()
    if not file.unavailable and (text is None or "revision" not in text or not _REVISION.search(text)):
        return
    tree, _, problem = _parse(file, _ALEMBIC)
    if problem is not None:
        yield problem
        return
    assert tree is not None
    revision, down_revision = _module_assignment(tree, "revision"), _module_assignment(tree, "down_revision")
    if revision is None or down_revision is None:
        return
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    upgrade, downgrade = functions.get("upgrade"), functions.get("downgrade")
    if upgrade is None:
        return
    path = file.path
    up_calls = _op_calls(upgrade, functions)
    up_changes = [c for c in up_calls if c.name not in _OP_HELPERS]
    is_merge = isinstance(down_revision, ast.Tuple | ast.List)
    if not up_changes:
        if is_merge:
            yield _ALEMBIC.supports("alembic-merge", "merge revision: upgrade() changes nothing, so nothing to reverse",
                                    path, upgrade.lineno)
        else:
            trivial = _is_trivial(upgrade)
            yield _ALEMBIC.supports(
                "alembic-empty",
                "upgrade() changes nothing" if trivial else "upgrade() makes no op.* calls; nothing known to reverse",
                path, upgrade.lineno, confidence=Confidence.MEDIUM if trivial else Confidence.LOW,
            )
        return
    first = up_changes[0]
    if downgrade is None:
        yield _ALEMBIC.flag("irreversible-migration",
                            f"irreversible migration: upgrade() calls op.{first.name} but there is no downgrade()",
                            path, upgrade.lineno, end_line=upgrade.end_lineno)
        return
    if _is_trivial(downgrade) or _only_raises(downgrade):
        how = "only raises" if _only_raises(downgrade) else "does nothing"
        yield _ALEMBIC.flag(
            "irreversible-migration",
            f"irreversible migration: upgrade() calls op.{first.name} (line {first.line}) but downgrade() {how}",
            path, downgrade.lineno, end_line=downgrade.end_lineno,
        )
        return
    down_changes = [c for c in _op_calls(downgrade, functions) if c.name not in _OP_HELPERS]
    if not down_changes:
        yield _ALEMBIC.flag(
            "alembic-downgrade-unclear",
            "downgrade() makes no op.* calls: cannot tell whether it undoes upgrade()",
            path, downgrade.lineno, end_line=downgrade.end_lineno, severity=Severity.WARNING, confidence=Confidence.LOW,
        )
        return
    unmatched = _unmatched(up_changes, down_changes)
    if unmatched:
        names = ", ".join(f"op.{c.name} (line {c.line})" for c in unmatched[:4])
        yield _ALEMBIC.supports("reversible-migration", f"downgrade() has {len(down_changes)} op.* calls, "
                                "but not the inverse of every upgrade() operation", path, downgrade.lineno,
                                end_line=downgrade.end_lineno, confidence=Confidence.LOW)
        yield _ALEMBIC.flag("alembic-partial-downgrade", f"downgrade() may not undo {names}", path, downgrade.lineno,
                            severity=Severity.WARNING, confidence=Confidence.MEDIUM)
    else:
        yield _ALEMBIC.supports(
            "reversible-migration",
            f"downgrade() has the inverse of every upgrade() operation ({_names(up_changes)})",
            path, downgrade.lineno, end_line=downgrade.end_lineno,
        )
    for drop in (c for c in up_changes if c.name in _DROPS):
        what = "column" if drop.name == "drop_column" else "table"
        yield _ALEMBIC.flag(
            "rollback-loses-data",
            f"upgrade() drops {what} {drop.target}: downgrade() brings the schema back, not the data",
            path, drop.line, severity=Severity.WARNING,
        )


def _names(calls: list[_OpCall]) -> str:
    names = list(dict.fromkeys(f"op.{c.name}" for c in calls))
    return ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")


def _module_assignment(tree: ast.Module, name: str) -> ast.expr | None:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return node.value
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            return node.value
    return None


def _op_calls(function: ast.FunctionDef | ast.AsyncFunctionDef,
              functions: Mapping[str, ast.FunctionDef | ast.AsyncFunctionDef]) -> list[_OpCall]:
    """op.* calls in a function and in the same-module helpers it calls, in source order."""
    found: list[_OpCall] = []
    seen: set[str] = {function.name}
    pending = [function]
    while pending:
        current = pending.pop()
        aliases = {"op"} | _batch_aliases(current)
        for node in ast.walk(current):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in aliases:
                found.append(_OpCall(func.attr, node.lineno, _target(node, func.value.id != "op", current)))
            elif isinstance(func, ast.Name) and func.id in functions and func.id not in seen:
                seen.add(func.id)
                pending.append(functions[func.id])
    return sorted(found, key=lambda c: c.line)


def _batch_aliases(function: ast.AST) -> set[str]:
    """Names bound by ``with op.batch_alter_table(...) as batch_op``."""
    names: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                call = item.context_expr
                if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                        and call.func.attr == "batch_alter_table" and isinstance(item.optional_vars, ast.Name)):
                    names.add(item.optional_vars.id)
    return names


def _target(call: ast.Call, batched: bool, function: ast.AST) -> str:
    literals = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    if batched:
        table = _batch_table(function)
        return ".".join([table, *literals[:1]]) if table else ".".join(literals[:1]) or "?"
    return ".".join(literals[:2]) or "?"


def _batch_table(function: ast.AST) -> str | None:
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "batch_alter_table":
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                return node.args[0].value
    return None


def _unmatched(up: list[_OpCall], down: list[_OpCall]) -> list[_OpCall]:
    down_names = {c.name for c in down}
    if "execute" in down_names:
        return []
    missing: list[_OpCall] = []
    for call in up:
        inverses = _INVERSES.get(call.name)
        if call.name in _DATA_CHANGES or inverses is None:
            continue  # raw SQL or an operation without a known inverse: any real downgrade may undo it
        if not inverses & down_names:
            missing.append(call)
    return missing


def _is_trivial(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Only ``pass``, ``...`` or a docstring (comments never reach the AST)."""
    return all(
        isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))
        for stmt in function.body
    )


def _only_raises(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    body = [s for s in function.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    return bool(body) and all(isinstance(s, ast.Raise | ast.Pass) for s in body) and any(
        isinstance(s, ast.Raise) for s in body)


# --- Django ----------------------------------------------------------------------------------

_DJANGO_SCHEMA_OPERATIONS = frozenset({
    "CreateModel", "DeleteModel", "RenameModel", "AlterModelTable", "AlterModelTableComment", "AlterUniqueTogether",
    "AlterIndexTogether", "AlterOrderWithRespectTo", "AlterModelOptions", "AlterModelManagers", "AddField",
    "RemoveField", "AlterField", "RenameField", "AddIndex", "RemoveIndex", "RenameIndex", "AddConstraint",
    "RemoveConstraint", "AlterConstraint",
    # django.contrib.postgres.operations
    "CreateExtension", "BloomExtension", "BtreeGinExtension", "BtreeGistExtension", "CITextExtension",
    "CryptoExtension", "HStoreExtension", "TrigramExtension", "UnaccentExtension", "AddIndexConcurrently",
    "RemoveIndexConcurrently", "CreateCollation", "RemoveCollation", "AddConstraintNotValid", "ValidateConstraint",
})
_DJANGO_REVERSE_ARGUMENT = {"RunPython": "reverse_code", "RunSQL": "reverse_sql"}
_DJANGO_DROPS = {"RemoveField": "field", "DeleteModel": "model"}


def _django(file: FileChange) -> Iterator[Evidence]:
    tree, text, problem = _parse(file, _DJANGO)
    if problem is not None:
        yield problem
        return
    assert tree is not None and text is not None
    migration = next((n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == "Migration"), None)
    if migration is None:
        return
    path = file.path
    value, line = _class_assignment(migration, "operations")
    if value is None:
        yield _DJANGO.supports("django-no-operations", "Migration has no operations list: nothing to reverse",
                               path, migration.lineno, confidence=Confidence.MEDIUM)
        return
    operations, opaque = _django_operations(value)
    flags: list[Evidence] = []
    warnings: list[Evidence] = []
    custom: list[str] = []
    for call in operations:
        name = _callee_name(call)
        if name in _DJANGO_REVERSE_ARGUMENT:
            if _django_reverse(call, _DJANGO_REVERSE_ARGUMENT[name]) is None:
                argument = _DJANGO_REVERSE_ARGUMENT[name]
                flags.append(_DJANGO.flag(
                    "irreversible-migration",
                    f"irreversible migration: {name} without {argument}; Django raises "
                    f"\"You cannot reverse this operation\" (pass {argument}=migrations.{name}.noop if nothing needs undoing)",
                    path, call.lineno, end_line=call.end_lineno,
                ))
        elif name in _DJANGO_DROPS:
            warnings.append(_DJANGO.flag(
                "rollback-loses-data",
                f"{name} {_django_target(call)}: reversing it brings the {_DJANGO_DROPS[name]} back, not the data",
                path, call.lineno, severity=Severity.WARNING,
            ))
        elif name not in _DJANGO_SCHEMA_OPERATIONS:
            custom.append(name or "?")
    yield from flags
    if flags:
        return
    count = len(operations)
    if opaque or custom:
        unknown = ", ".join(sorted(set(custom))) or "a computed operations list"
        yield _DJANGO.supports(
            "reversible-migration", f"{count} Django operations with reverses, but not known: {unknown}",
            path, line, confidence=Confidence.LOW if opaque else Confidence.MEDIUM,
        )
    elif count:
        yield _DJANGO.supports(
            "reversible-migration",
            f"all {count} Django operation{'s' if count != 1 else ''} can be reversed (schema operations, "
            "RunPython/RunSQL with a reverse)", path, line,
        )
    else:
        yield _DJANGO.supports("django-no-operations", "Migration has no operations: nothing to reverse", path, line)
    yield from warnings


def _class_assignment(cls: ast.ClassDef, name: str) -> tuple[ast.expr | None, int]:
    for node in cls.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return node.value, node.lineno
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            return node.value, node.lineno
    return None, cls.lineno


def _django_operations(value: ast.expr) -> tuple[list[ast.Call], bool]:
    """The operation calls of an operations list, and whether part of it could not be read."""
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
        left, left_opaque = _django_operations(value.left)
        right, right_opaque = _django_operations(value.right)
        return left + right, left_opaque or right_opaque
    if not isinstance(value, ast.List | ast.Tuple):
        return [], True
    calls: list[ast.Call] = []
    opaque = False
    for element in value.elts:
        if not isinstance(element, ast.Call):
            opaque = True
            continue
        if _callee_name(element) == "SeparateDatabaseAndState":
            # Only database_operations touch the database; state_operations never run SQL.
            nested = next((k.value for k in element.keywords if k.arg == "database_operations"), None)
            if nested is None and element.args:
                nested = element.args[0]
            if nested is not None:
                inner, inner_opaque = _django_operations(nested)
                calls.extend(inner)
                opaque = opaque or inner_opaque
            continue
        calls.append(element)
    return calls, opaque


def _callee_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _django_reverse(call: ast.Call, keyword: str) -> ast.expr | None:
    """The reverse argument, or None when it is absent or literally None."""
    value = next((k.value for k in call.keywords if k.arg == keyword), None)
    if value is None and len(call.args) >= 2:
        value = call.args[1]
    if isinstance(value, ast.Constant) and value.value is None:
        return None
    return value


def _django_target(call: ast.Call) -> str:
    words = {k.arg: k.value for k in call.keywords}
    names = [*call.args[:2], *(words[key] for key in ("model_name", "name") if key in words)]
    literals = [n.value for n in names if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return ".".join(literals) or "?"


DETECTOR = PythonMigrationDetector()

"""Migration detectors (Alembic, Django, golang-migrate, Flyway, Liquibase, Prisma, Rails, Knex).

Fixtures under tests/data/migrations/ are public files (tests/data/SOURCES.md),
section 3; tests/data/SOURCES.md lists each repository, path and commit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from govgate.detectors.migrations_python import DETECTOR as PYTHON
from govgate.detectors.migrations_rails_knex import DETECTOR as RAILS_KNEX
from govgate.detectors.migrations_sql import DETECTOR as SQL
from govgate.model import Change, Confidence, Evidence, Question, Trust
from tests.conftest import DATA, RepoBuilder, detect, local_change, run_cli

FIXTURES = DATA / "migrations"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def change_adding(repo: RepoBuilder, files: dict[str, str | None], before: dict[str, str] | None = None) -> Change:
    """A real commit on top of ``repo`` (optionally after a commit of ``before``), read as a Change."""
    if before:
        repo.commit("Earlier migrations", before)
    base = repo.head()
    repo.commit("Add migration", files)
    return local_change(repo, base)


def flags(found: list[Evidence], severity: str | None = None) -> list[Evidence]:
    return [e for e in found if e.contradicts and (severity is None or e.severity == severity)]


def supporting(found: list[Evidence]) -> list[Evidence]:
    return [e for e in found if e.supports and not e.unavailable]


def assert_common_shape(found: list[Evidence], source: str) -> None:
    for item in found:
        assert item.question is Question.ROLLBACK
        assert item.trust is Trust.INFERRED
        assert item.source == source
        assert item.attrs["path_kind"] == "schema-reverse"
        assert item.location.path
        assert item.facets == (frozenset({"reversible_migrations"}) if item.supports and not item.unavailable
                               else frozenset())


# --- Alembic -----------------------------------------------------------------------------------


def test_alembic_superset_downgrade_supports_and_warns_about_data(repo: RepoBuilder) -> None:
    # apache/superset superset/migrations/versions/a61b40f9f57f_remove_allow_run_sync.py
    path = "superset/migrations/versions/a61b40f9f57f_remove_allow_run_sync.py"
    found = detect(PYTHON, change_adding(repo, {path: fixture("a61b40f9f57f_remove_allow_run_sync.py.txt")}))
    assert_common_shape(found, "migrations_python")
    [good] = supporting(found)
    assert good.kind == "reversible-migration"
    assert good.location.path == path and good.location.line == 20  # def downgrade()
    assert good.confidence is Confidence.HIGH
    [warning] = flags(found)
    assert warning.severity == "warning" and warning.kind == "rollback-loses-data"
    assert "dbs.allow_run_sync" in warning.detail and warning.location.line == 17
    assert not flags(found, "error")


def test_alembic_lifelike_pass_downgrade_is_an_irreversible_red_flag(repo: RepoBuilder) -> None:
    # biosustain/lifelike appserver/migrations/versions/559b17bb1045_.py
    path = "appserver/migrations/versions/559b17bb1045_.py"
    found = detect(PYTHON, change_adding(repo, {path: fixture("559b17bb1045_.py.txt")}))
    assert_common_shape(found, "migrations_python")
    [flag] = found
    assert flag.contradicts and flag.severity == "error" and flag.kind == "irreversible-migration"
    assert "irreversible migration" in flag.detail and "op.drop_constraint" in flag.detail
    assert flag.location.line == 34  # def downgrade()


def test_alembic_lifelike_merge_revision_is_not_flagged(repo: RepoBuilder) -> None:
    # biosustain/lifelike appserver/migrations/versions/93149c8d6de3_merge.py
    path = "appserver/migrations/versions/93149c8d6de3_merge.py"
    found = detect(PYTHON, change_adding(repo, {path: fixture("93149c8d6de3_merge.py.txt")}))
    assert not flags(found)
    [merge] = found
    assert merge.kind == "alembic-merge" and merge.supports


ALEMBIC_TEMPLATE = '''"""{title}"""
from alembic import op
import sqlalchemy as sa

revision: str = "{rev}"
down_revision: str | None = "0000aaaa"


def upgrade() -> None:
{up}


def downgrade() -> None:
{down}
'''


@pytest.mark.parametrize(
    ("up", "down", "expected"),
    [
        # the inverse of every operation, including batch operations
        ('    with op.batch_alter_table("users") as batch_op:\n        batch_op.add_column(sa.Column("age", sa.Integer()))',
         '    with op.batch_alter_table("users") as batch_op:\n        batch_op.drop_column("age")', "supports"),
        # docstring only in downgrade
        ('    op.create_table("t", sa.Column("id", sa.Integer()))', '    """Nothing to do."""', "error"),
        ('    op.create_table("t", sa.Column("id", sa.Integer()))', '    raise NotImplementedError("forward only")', "error"),
        # raw SQL back: cannot be read, taken to undo anything
        ('    op.add_column("t", sa.Column("x", sa.Integer()))', '    op.execute("ALTER TABLE t DROP COLUMN x")', "supports"),
        # a real downgrade that forgets one operation
        ('    op.create_table("t", sa.Column("id", sa.Integer()))\n    op.create_index("ix", "t", ["id"])',
         '    op.drop_index("ix", table_name="t")', "partial"),
        # a downgrade that does something, but nothing through op
        ('    op.add_column("t", sa.Column("x", sa.Integer()))', '    print("rolled back")', "unclear"),
        # an upgrade that changes nothing
        ("    pass", "    pass", "empty"),
    ],
)
def test_alembic_rules(repo: RepoBuilder, up: str, down: str, expected: str) -> None:
    text = ALEMBIC_TEMPLATE.format(title="x", rev="1111bbbb", up=up, down=down)
    found = detect(PYTHON, change_adding(repo, {"alembic/versions/1111bbbb_x.py": text}))
    kinds = sorted((e.kind, e.severity if e.contradicts else "supports") for e in found)
    if expected == "supports":
        assert kinds == [("reversible-migration", "supports")]
    elif expected == "error":
        assert kinds == [("irreversible-migration", "error")]
    elif expected == "partial":
        assert kinds == [("alembic-partial-downgrade", "warning"), ("reversible-migration", "supports")]
        assert "op.create_table" in flags(found)[0].detail
        assert supporting(found)[0].confidence is Confidence.LOW
    elif expected == "unclear":
        assert kinds == [("alembic-downgrade-unclear", "warning")]
    else:
        assert kinds == [("alembic-empty", "supports")]


def test_alembic_helper_functions_are_followed(repo: RepoBuilder) -> None:
    text = ALEMBIC_TEMPLATE.format(title="x", rev="2222", up="    _create()", down="    pass") + (
        '\n\ndef _create():\n    op.create_table("t", sa.Column("id", sa.Integer()))\n')
    found = detect(PYTHON, change_adding(repo, {"db/versions/2222_x.py": text}))
    assert [e.kind for e in flags(found, "error")] == ["irreversible-migration"]


def test_alembic_needs_revision_markers_and_a_versions_folder(repo: RepoBuilder) -> None:
    text = fixture("559b17bb1045_.py.txt")
    not_alembic = text.replace("down_revision", "parent_rev")
    found = detect(PYTHON, change_adding(repo, {
        "app/versions/559b17bb1045_.py": not_alembic,  # right folder, no down_revision
        "app/scripts/559b17bb1045_.py": text,  # right content, wrong folder
    }))
    assert found == []


def test_unparsable_python_is_unavailable_not_a_crash(repo: RepoBuilder) -> None:
    broken = "revision = 'a'\ndown_revision = 'b'\ndef upgrade(:\n    op.drop_table('x')\n"
    found = detect(PYTHON, change_adding(repo, {
        "migrations/versions/a_broken.py": broken,
        "shop/migrations/0002_broken.py": "class Migration(:\n",
    }))
    assert len(found) == 2
    for item in found:
        assert item.unavailable and item.confidence is Confidence.LOW and not item.facets
        assert "does not parse" in item.detail


def test_deleted_migrations_produce_nothing(repo: RepoBuilder) -> None:
    irreversible = {
        "migrations/versions/559b17bb1045_.py": fixture("559b17bb1045_.py.txt"),
        "shop/migrations/0003_without_backwards.py": fixture("0003_without_backwards.py.txt"),
        "db/migrate/20130128192930_drop_context_messages.rb": fixture("20130128192930_drop_context_messages.rb"),
        "migrations/1_x.up.sql": "CREATE TABLE x (id int);\n",
    }
    change = change_adding(repo, dict.fromkeys(irreversible), before=irreversible)
    assert {f.status.value for f in change.files} == {"deleted"}
    assert detect(PYTHON, change) == detect(SQL, change) == detect(RAILS_KNEX, change) == []


def test_unreadable_content_gives_unavailable_evidence(repo: RepoBuilder) -> None:
    path = "migrations/versions/559b17bb1045_.py"
    change = change_adding(repo, {path: fixture("559b17bb1045_.py.txt")})
    # Remove the blob from the object store, as a partial clone would lack it.
    blob = change.files[0].new_blob
    assert blob is not None
    (repo.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    [item] = detect(PYTHON, change)
    assert change.files[0].unavailable
    assert item.unavailable and item.location.path == path and not item.facets


# --- Django ------------------------------------------------------------------------------------


def test_django_runpython_without_reverse_is_flagged_per_call(repo: RepoBuilder) -> None:
    # pylint-dev/pylint-django pylint_django/tests/input/migrations/0003_without_backwards.py
    path = "shop/migrations/0003_without_backwards.py"
    found = detect(PYTHON, change_adding(repo, {path: fixture("0003_without_backwards.py.txt")}))
    assert_common_shape(found, "migrations_python")
    assert [(e.kind, e.severity, e.location.line) for e in found] == [
        ("irreversible-migration", "error", line) for line in (13, 14, 16, 18)
    ]
    assert "reverse_code" in found[0].detail


def test_django_runpython_with_reverse_supports(repo: RepoBuilder) -> None:
    # pylint-dev/pylint-django pylint_django/tests/input/migrations/0004_noerror_with_backwards.py
    path = "shop/migrations/0004_noerror_with_backwards.py"
    found = detect(PYTHON, change_adding(repo, {path: fixture("0004_noerror_with_backwards.py.txt")}))
    assert_common_shape(found, "migrations_python")
    [good] = found
    assert good.supports and good.confidence is Confidence.HIGH and "all 3 Django operations" in good.detail


DJANGO_TEMPLATE = """from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [
{operations}
    ]
"""


@pytest.mark.parametrize(
    ("operations", "kinds"),
    [
        ('        migrations.AddField("order", "note", models.TextField(null=True)),\n'
         '        migrations.CreateModel("Tag", fields=[("id", models.AutoField(primary_key=True))]),',
         [("reversible-migration", "supports")]),
        ('        migrations.RunSQL("UPDATE t SET x = 1", migrations.RunSQL.noop),\n'
         '        migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop),',
         [("reversible-migration", "supports")]),
        ('        migrations.RunSQL("UPDATE t SET x = 1"),', [("irreversible-migration", "error")]),
        ('        migrations.RunSQL(sql="UPDATE t", reverse_sql=None),', [("irreversible-migration", "error")]),
        ('        migrations.SeparateDatabaseAndState(database_operations=[migrations.RunSQL("DROP TABLE t")]),',
         [("irreversible-migration", "error")]),
        ('        migrations.RemoveField(model_name="order", name="note"),',
         [("reversible-migration", "supports"), ("rollback-loses-data", "warning")]),
    ],
)
def test_django_operations(repo: RepoBuilder, operations: str, kinds: list[tuple[str, str]]) -> None:
    text = DJANGO_TEMPLATE.format(operations=operations)
    found = detect(PYTHON, change_adding(repo, {"shop/migrations/0002_change.py": text}))
    assert [(e.kind, e.severity if e.contradicts else "supports") for e in found] == kinds


def test_django_custom_operation_lowers_confidence(repo: RepoBuilder) -> None:
    text = DJANGO_TEMPLATE.format(operations="        myapp.ops.BackfillEverything(),")
    [item] = detect(PYTHON, change_adding(repo, {"shop/migrations/0002_custom.py": text}))
    assert item.supports and item.confidence is Confidence.MEDIUM and "BackfillEverything" in item.detail


def test_django_path_test_needs_a_numbered_file(repo: RepoBuilder) -> None:
    text = DJANGO_TEMPLATE.format(operations='        migrations.RunSQL("UPDATE t"),')
    found = detect(PYTHON, change_adding(repo, {"shop/migrations/helpers.py": text, "shop/0002_x.py": text}))
    assert found == []


# --- golang-migrate, Flyway, Liquibase, Prisma ----------------------------------------------------


def test_golang_migrate_pair_supports(repo: RepoBuilder) -> None:
    # golang-migrate/migrate database/postgres/examples/migrations/1485949617_create_movies_table.{up,down}.sql
    folder = "database/migrations/"
    found = detect(SQL, change_adding(repo, {
        folder + "1485949617_create_movies_table.up.sql": fixture("1485949617_create_movies_table.up.sql"),
        folder + "1485949617_create_movies_table.down.sql": fixture("1485949617_create_movies_table.down.sql"),
    }))
    assert_common_shape(found, "migrations_sql")
    [good] = found
    assert good.supports and good.location.path == folder + "1485949617_create_movies_table.up.sql"


def test_golang_migrate_up_without_down_is_flagged(repo: RepoBuilder) -> None:
    up = fixture("1485949617_create_movies_table.up.sql")
    found = detect(SQL, change_adding(repo, {"migrations/1485949617_create_movies_table.up.sql": up}))
    [flag] = found
    assert flag.severity == "error" and "1485949617_create_movies_table.down.sql" in flag.detail


def test_golang_migrate_empty_down_is_flagged(repo: RepoBuilder) -> None:
    found = detect(SQL, change_adding(repo, {
        "migrations/2_x.up.sql": "ALTER TABLE movies ADD COLUMN year int;\n",
        "migrations/2_x.down.sql": "-- nothing to undo\n\n",
    }))
    [flag] = found
    assert flag.kind == "empty-down-migration" and flag.severity == "error"


def test_golang_migrate_edited_up_with_down_at_head_is_not_flagged(repo: RepoBuilder) -> None:
    before = {"migrations/3_x.up.sql": "CREATE TABLE a (id int);\n", "migrations/3_x.down.sql": "DROP TABLE a;\n"}
    found = detect(SQL, change_adding(repo, {"migrations/3_x.up.sql": "CREATE TABLE a (id bigint);\n"}, before))
    assert found == []


def test_golang_migrate_destructive_up_with_down_warns_about_data(repo: RepoBuilder) -> None:
    found = detect(SQL, change_adding(repo, {
        "migrations/4_drop.up.sql": "-- drop it\nALTER TABLE movies DROP COLUMN director;\n",
        "migrations/4_drop.down.sql": "ALTER TABLE movies ADD COLUMN director varchar(40);\n",
    }))
    assert [(e.kind, e.severity if e.contradicts else "supports") for e in found] == [
        ("reversible-migration", "supports"), ("rollback-loses-data", "warning")]
    assert found[1].location.line == 2


def test_flyway_needs_undo_only_when_the_project_uses_them(repo: RepoBuilder) -> None:
    plain = detect(SQL, change_adding(repo, {"db/migration/V2__add_col.sql": "ALTER TABLE a ADD b int;\n"}))
    assert plain == []  # Flyway without undo files: nothing can be said
    with_undo = detect(SQL, change_adding(repo, {
        "db/migration/V3__add_c.sql": "ALTER TABLE a ADD c int;\n",
        "db/migration/U3__add_c.sql": "ALTER TABLE a DROP COLUMN c;\n",
        "db/migration/V3_1__add_d.sql": "ALTER TABLE a ADD d int;\n",
    }))
    kinds = sorted((e.kind, e.location.path) for e in with_undo)
    assert kinds == [("irreversible-migration", "db/migration/V3_1__add_d.sql"),
                     ("reversible-migration", "db/migration/V3__add_c.sql")]


def test_flyway_requires_undo_setting(repo: RepoBuilder) -> None:
    change = change_adding(repo, {"db/migration/V5__x.sql": "ALTER TABLE a ADD e int;\n"})
    assert detect(SQL, change) == []
    [flag] = detect(SQL, change, {"flyway_requires_undo": True})
    assert flag.severity == "error" and "U5__" in flag.detail


def test_liquibase_rollbacks_are_evidence_but_not_validated(repo: RepoBuilder) -> None:
    # nive-thi-dha/LB_repo changelog/change/tag_table1.sql: the second rollback is invalid SQL
    found = detect(SQL, change_adding(repo, {"changelog/change/tag_table1.sql": fixture("tag_table1.sql")}))
    assert_common_shape(found, "migrations_sql")
    [good] = found
    assert good.supports and good.confidence is Confidence.MEDIUM
    assert "not validated" in good.detail and "each of the 2 changesets" in good.detail and good.location.line == 2


def test_liquibase_destructive_changeset_without_rollback(repo: RepoBuilder) -> None:
    text = ("-- liquibase formatted sql\n\n--changeset ann:1\nCREATE TABLE t (id int);\n--rollback DROP TABLE t;\n\n"
            "--changeset ann:2\n-- comment: clean up\nDROP TABLE old_orders;\n\n--changeset ann:3\nINSERT INTO t VALUES (1);\n")
    found = detect(SQL, change_adding(repo, {"db/changelog.sql": text}))
    assert [(e.kind, e.severity, e.location.line) for e in found] == [
        ("irreversible-migration", "error", 9), ("liquibase-no-rollback", "warning", 11)]
    assert "ann:2" in found[0].detail


def test_plain_sql_files_are_not_liquibase(repo: RepoBuilder) -> None:
    assert detect(SQL, change_adding(repo, {"reports/cleanup.sql": "DROP TABLE tmp;\n"})) == []


def test_prisma_drop_without_down_is_flagged_and_additive_is_quiet(repo: RepoBuilder) -> None:
    drop = ('-- DropForeignKey\nALTER TABLE "Post" DROP CONSTRAINT "Post_authorId_fkey";\n\n'
            '-- AlterTable\nALTER TABLE "User" DROP COLUMN "nickname";\n')
    add = '-- AlterTable\nALTER TABLE "User" ADD COLUMN "bio" TEXT;\nALTER TABLE "User" ALTER COLUMN "x" DROP DEFAULT;\n'
    found = detect(SQL, change_adding(repo, {
        "prisma/migrations/20240101000000_drop_nick/migration.sql": drop,
        "prisma/migrations/20240102000000_add_bio/migration.sql": add,
    }))
    [flag] = found
    assert flag.severity == "error" and flag.location.line == 5 and "DROP COLUMN" in flag.detail


def test_prisma_down_sql_supports(repo: RepoBuilder) -> None:
    folder = "prisma/migrations/20240101000000_drop_nick/"
    found = detect(SQL, change_adding(repo, {
        folder + "migration.sql": 'DROP TABLE "Legacy";\n',
        folder + "down.sql": 'CREATE TABLE "Legacy" (id int);\n',
    }))
    assert [(e.kind, e.severity if e.contradicts else "supports") for e in found] == [
        ("reversible-migration", "supports"), ("rollback-loses-data", "warning")]


# --- Rails -------------------------------------------------------------------------------------


def test_rails_canvas_irreversible_migration(repo: RepoBuilder) -> None:
    # instructure/canvas-lms db/migrate/20130128192930_drop_context_messages.rb
    path = "db/migrate/20130128192930_drop_context_messages.rb"
    found = detect(RAILS_KNEX, change_adding(repo, {path: fixture("20130128192930_drop_context_messages.rb")}))
    assert_common_shape(found, "migrations_rails_knex")
    [flag] = found
    assert flag.severity == "error" and flag.location.line == 12 and "def down" in flag.detail


def test_rails_up_down_pair_supports(repo: RepoBuilder) -> None:
    # zophim/cins465-final db/migrate/20111210205234_remove_age_from_user.rb
    path = "db/migrate/20111210205234_remove_age_from_user.rb"
    found = detect(RAILS_KNEX, change_adding(repo, {path: fixture("20111210205234_remove_age_from_user.rb")}))
    assert_common_shape(found, "migrations_rails_knex")
    assert [(e.kind, e.severity if e.contradicts else "supports", e.location.line) for e in found] == [
        ("reversible-migration", "supports", 6), ("rollback-loses-data", "warning", 3)]
    assert "users.age" in found[1].detail


RAILS_CHANGE = """class Example < ActiveRecord::Migration[7.1]
  def change
{body}
  end
end
"""


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("    add_column :users, :age, :integer\n    create_table :tags do |t|\n      t.string :name\n    end",
         [("reversible-migration", "supports")]),
        ('    execute "UPDATE users SET age = 0"', [("irreversible-migration", "error")]),
        ("    remove_column :users, :age", [("irreversible-migration", "error")]),
        ("    remove_column :users, :age, :integer",
         [("reversible-migration", "supports"), ("rollback-loses-data", "warning")]),
        ("    drop_table :tags", [("irreversible-migration", "error")]),
        ("    change_column :users, :age, :bigint", [("irreversible-migration", "error")]),
        ("    change_column_default :users, :age, from: nil, to: 0", [("reversible-migration", "supports")]),
        ("    remove_index :users, name: :index_users_on_age", [("irreversible-migration", "error")]),
        ("    change_table :users do |t|\n      t.remove :age\n    end", [("irreversible-migration", "error")]),
        # execute inside reversible is fine, and so is a comment that says execute
        ('    # execute "nothing"\n    reversible do |dir|\n      dir.up do\n        execute "UPDATE users SET a = 1"\n'
         '      end\n      dir.down do\n        execute "UPDATE users SET a = 0"\n      end\n    end',
         [("reversible-migration", "supports")]),
        ('    reversible do |dir|\n      dir.up { execute "UPDATE users SET a = 1" }\n    end',
         [("reversible-migration", "supports"), ("rails-reversible-without-down", "warning")]),
        ("    execute <<~SQL\n      UPDATE users SET a = 1;\n    SQL", [("irreversible-migration", "error")]),
    ],
)
def test_rails_change_rules(repo: RepoBuilder, body: str, expected: list[tuple[str, str]]) -> None:
    text = RAILS_CHANGE.format(body=body)
    found = detect(RAILS_KNEX, change_adding(repo, {"db/migrate/20240101000000_example.rb": text}))
    assert [(e.kind, e.severity if e.contradicts else "supports") for e in found] == expected
    offending = ("execute", "remove_column", "drop_table", "change_column", "remove_index", "t.remove")
    for flag in flags(found, "error"):
        assert text.splitlines()[flag.location.line - 1].strip().startswith(offending)


def test_rails_up_without_down_is_flagged(repo: RepoBuilder) -> None:
    text = "class X < ActiveRecord::Migration[7.1]\n  def up\n    add_column :users, :age, :integer\n  end\nend\n"
    [flag] = detect(RAILS_KNEX, change_adding(repo, {"db/migrate/20240101000001_x.rb": text}))
    assert flag.severity == "error" and "without def down" in flag.detail


# --- Knex --------------------------------------------------------------------------------------


def test_knex_bookshare_down_supports(repo: RepoBuilder) -> None:
    # jawad3213/-BookShare backend/migrations/20250219162605_create_test_table.js
    path = "backend/migrations/20250219162605_create_test_table.js"
    found = detect(RAILS_KNEX, change_adding(repo, {path: fixture("20250219162605_create_test_table.js")}))
    assert_common_shape(found, "migrations_rails_knex")
    [good] = found
    assert good.supports and good.location.line == 7 and good.confidence is Confidence.MEDIUM


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("exports.up = function(knex) {\n  return knex.schema.createTable('t', t => t.increments());\n};\n",
         "error"),  # no down at all
        ("exports.up = async (knex) => knex.schema.createTable('t', t => t.increments());\n"
         "exports.down = async () => {\n  // TODO\n};\n", "error"),
        ("exports.up = knex => knex.raw('select 1');\nexports.down = () => Promise.resolve();\n", "error"),
        ("import type { Knex } from 'knex';\n\nexport async function up(knex: Knex): Promise<void> {\n"
         "  await knex.schema.createTable('t', (t) => t.increments());\n}\n\n"
         "export async function down(knex: Knex): Promise<void> {\n  await knex.schema.dropTable('t');\n}\n",
         "supports"),
        ("module.exports = {\n  async up(knex) { await knex.schema.createTable('t', t => t.increments()); },\n"
         "  async down(knex) { await knex.schema.dropTable('t'); },\n};\n", "supports"),
        ("function up(knex) { return knex.schema.createTable('t', t => t.increments()); }\n"
         "function down(knex) {}\nmodule.exports = { up, down };\n", "error"),
        # 'exports.down' inside a comment or string is not a definition
        ("exports.up = knex => knex.schema.createTable('t', t => t.increments());\n"
         "// exports.down = knex => knex.schema.dropTable('t');\nconst s = 'exports.down = 1';\n", "error"),
    ],
)
def test_knex_down_rules(repo: RepoBuilder, source: str, expected: str) -> None:
    found = detect(RAILS_KNEX, change_adding(repo, {"migrations/20240101_t.ts": source}))
    assert [("supports" if e.supports else e.severity) for e in found] == [expected]


def test_knex_drop_in_up_warns(repo: RepoBuilder) -> None:
    source = ("exports.up = (knex) => knex.schema.table('users', (t) => {\n  t.dropColumn('age');\n});\n"
              "exports.down = (knex) => knex.schema.table('users', (t) => {\n  t.integer('age');\n});\n")
    found = detect(RAILS_KNEX, change_adding(repo, {"db/migrations/20240101_drop_age.js": source}))
    assert [(e.kind, e.location.line) for e in found] == [("reversible-migration", 4), ("rollback-loses-data", 2)]


def test_js_outside_a_migrations_folder_is_ignored(repo: RepoBuilder) -> None:
    source = "exports.up = function(knex) { return knex.schema.createTable('t'); };\n"
    assert detect(RAILS_KNEX, change_adding(repo, {"src/up.js": source, "migrations/helpers/x.js": source})) == []


# --- end to end ----------------------------------------------------------------------------------


def _check(repo: RepoBuilder, files: dict[str, str | None]) -> tuple[int, dict]:
    base = repo.head()
    repo.commit("Add migration", files)
    result = run_cli("check", "--repo", str(repo.path), "--base", base, "--format", "json")
    assert result.code in (0, 1), result.stderr
    return result.code, result.json()


def _rule(verdict: dict, rule_id: str) -> dict:
    return next(r for r in verdict["rules"] if r["id"] == rule_id)


def test_cli_irreversible_alembic_fails_and_reversible_passes(tmp_path: Path) -> None:
    bad_repo = RepoBuilder(tmp_path / "bad")
    bad_repo.commit("Initial commit", {"README.md": "# app\n"})
    code, verdict = _check(bad_repo, {"app/migrations/versions/559b17bb1045_.py": fixture("559b17bb1045_.py.txt")})
    assert code == 1 and verdict["verdict"] == "fail"
    assert _rule(verdict, "migrations-must-reverse")["status"] == "fail"
    assert verdict["questions"]["rollback"]["status"] == "contradicted"

    good_repo = RepoBuilder(tmp_path / "good")
    good_repo.commit("Initial commit", {"README.md": "# app\n"})
    path = "superset/migrations/versions/a61b40f9f57f_remove_allow_run_sync.py"
    code, verdict = _check(good_repo, {path: fixture("a61b40f9f57f_remove_allow_run_sync.py.txt")})
    assert code == 0 and verdict["verdict"] == "pass", verdict
    assert _rule(verdict, "migrations-must-reverse")["status"] == "pass"

"""docs/*.md's docs-test markers and tests/docs/run_examples.py's table agree, and a disagreement fails (no sandbox needed).

Run by ``make docs-examples`` before the examples themselves: python -m pytest tests/docs
"""
from __future__ import annotations

import collections
import pathlib
import shutil
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import extract_examples  # noqa: E402  pylint: disable=wrong-import-position
import run_examples  # noqa: E402  pylint: disable=wrong-import-position

REPO = run_examples.REPO


class AnyEndpoint(collections.defaultdict):
    """cases() only reads the endpoint's values into the table; the test needs their names, not the values."""

    def __init__(self):
        super().__init__(lambda: "unused")


def table():
    return dict(run_examples.cases(AnyEndpoint(), pathlib.Path("/nonexistent")), **run_examples.shell_cases())


def disagreements(repo: pathlib.Path) -> list[str]:
    found = []
    examples = extract_examples.docs_blocks(repo)[0]
    agrees = run_examples.docs_table_agrees(lambda name, text: found.append("%s: %s" % (name, text)), examples, table(), repo)
    assert agrees == (not found)
    return found


@pytest.fixture(name="docs_copy")
def fixture_docs_copy(tmp_path):
    shutil.copytree(REPO / "docs", tmp_path / "docs")
    return tmp_path


def test_the_repository_agrees():
    assert disagreements(REPO) == []


def test_every_pasteable_block_of_the_users_pages_is_run_or_skipped_with_a_reason():
    examples = extract_examples.extract(REPO)
    docs = {name for name in examples if name.startswith("docs:")}
    ran = {name for name in table() if name.startswith("docs:")}
    assert docs == ran | set(run_examples.DOCS_SKIPS)
    assert "docs:automation-identity.md:modules-playbook" in ran
    assert all(len(reason) > 20 for reason in run_examples.DOCS_SKIPS.values())


def test_a_marker_removed_fails_twice(docs_copy):
    page = docs_copy / "docs" / "automation-identity.md"
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace("<!-- docs-test: modules-playbook -->\n", ""), encoding="utf-8")
    found = disagreements(docs_copy)
    assert any(line.startswith("docs/automation-identity.md line ") and "without a <!-- docs-test" in line for line in found)
    assert any(line.startswith("docs:automation-identity.md:modules-playbook: ") and "no longer exists" in line for line in found)
    assert len(found) == 2


def test_a_new_marked_block_the_table_does_not_know_fails(docs_copy):
    page = docs_copy / "docs" / "troubleshooting.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n<!-- docs-test: new-one -->\n```bash\nansible-playbook x.yml\n```\n",
                    encoding="utf-8")
    assert disagreements(docs_copy) == ["docs:troubleshooting.md:new-one: a marked block that tests/docs/run_examples.py "
                                        "neither runs nor skips"]


def test_a_new_unmarked_yaml_block_fails(docs_copy):
    page = docs_copy / "docs" / "troubleshooting.md"
    text = page.read_text(encoding="utf-8")
    page.write_text(text + "\n```yaml\n- name: x\n  ansible.builtin.debug:\n```\n", encoding="utf-8")
    found = disagreements(docs_copy)
    assert len(found) == 1 and found[0].startswith("docs/troubleshooting.md line %d: " % (text.count("\n") + 2))


def test_a_block_of_another_language_needs_no_marker(docs_copy):
    page = docs_copy / "docs" / "troubleshooting.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n```text\nAADSTS7000215\n```\n", encoding="utf-8")
    assert disagreements(docs_copy) == []


def test_two_blocks_with_one_label_are_refused(docs_copy):
    page = docs_copy / "docs" / "testing-live.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n<!-- docs-test: live-run -->\n```bash\ntrue\n```\n", encoding="utf-8")
    with pytest.raises(ValueError, match="two blocks are marked docs-test: live-run"):
        extract_examples.docs_blocks(docs_copy)

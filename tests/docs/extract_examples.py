"""Pull every example a user may copy out of the documentation, as text, exactly as written.

* ``module:<name>``: the EXAMPLES string of each module in plugins/modules (a list of tasks);
* ``role-readme:<n>``: the n-th ```yaml block of roles/entra_sso/README.md (a play, or tasks to put under one);
* ``guide``: docs/guide.md's playbook: its first ```yaml block (the play) with every later ```yaml block (tasks)
  put where the play says ``# the steps below``;
* ``readme:<label>``: README.md's fenced blocks that follow a ``<!-- docs-test: <label> -->`` line (shell blocks are
  run with bash, YAML blocks written to the file their label names);
* ``docs:<file>:<label>``: the yaml and shell blocks of docs/*.md (docs/guide.md is ``guide``), each marked with a
  ``<!-- docs-test: <label> -->`` line (one of the two lines before its fence); an unmarked one is listed by
  ``unmarked_docs_blocks`` so that the test can fail on it (every block a user can paste is run, or skipped with a reason).

Usage: python extract_examples.py [--repo DIR] [OUTDIR]: writes one file per example and manifest.json to OUTDIR
(without OUTDIR: prints the manifest). tests/docs/run_examples.py runs them against the sandbox.
"""
from __future__ import annotations

import argparse
import ast
import json
import pathlib
import re
import textwrap

FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)
MARKER = re.compile(r"<!--\s*docs-test:\s*(?P<label>[\w.-]+)\s*-->")
STEPS_PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)# the steps below[^\n]*$", re.M)


def fenced_blocks(text: str) -> list[dict]:
    """Every fenced block: language, body (dedented by the fence's own indent), offset, and the docs-test label if any."""
    blocks = []
    for match in FENCE.finditer(text):
        indent = match.group("indent")
        lines = match.group("body").splitlines(keepends=True)
        body = "".join(line[len(indent):] if line.startswith(indent) else line for line in lines)
        before = text[:match.start()].rstrip("\n").rsplit("\n", 2)[-2:]  # the marker's line, or the line before it
        marker = MARKER.search(before[-1]) or (MARKER.search(before[0]) if len(before) == 2 else None)
        blocks.append({"language": (match.group("info").split() or [""])[0], "body": body, "offset": match.start(),
                       "label": marker.group("label") if marker else None})
    return blocks


def module_examples(repo: pathlib.Path) -> dict[str, str]:
    """EXAMPLES of each module, read without importing it."""
    examples = {}
    for path in sorted((repo / "plugins" / "modules").glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == "EXAMPLES" for target in node.targets):
                examples["module:" + path.stem] = textwrap.dedent(ast.literal_eval(node.value)).strip("\n") + "\n"
    return examples


def role_readme_examples(repo: pathlib.Path) -> dict[str, str]:
    text = (repo / "roles" / "entra_sso" / "README.md").read_text(encoding="utf-8")
    section = text.split("## Examples", 1)[1] if "## Examples" in text else text
    blocks = [block for block in fenced_blocks(section) if block["language"] in ("yaml", "yml")]
    return {"role-readme:%d" % number: block["body"] for number, block in enumerate(blocks, 1)}


def guide_playbook(repo: pathlib.Path) -> dict[str, str]:
    """docs/guide.md as the one playbook it describes: the play, with the snippets in order as its tasks."""
    blocks = [block for block in fenced_blocks((repo / "docs" / "guide.md").read_text(encoding="utf-8"))
              if block["language"] in ("yaml", "yml")]
    play, steps = blocks[0]["body"], blocks[1:]
    placeholder = STEPS_PLACEHOLDER.search(play)
    if placeholder is None:
        raise ValueError("docs/guide.md: the first yaml block has no '# the steps below' line to put the snippets at")
    tasks = "\n".join(step["body"].rstrip("\n") + "\n" for step in steps)
    return {"guide": play[:placeholder.start()] + tasks + play[placeholder.end() + 1:]}


def readme_blocks(repo: pathlib.Path) -> dict[str, dict]:
    blocks = {}
    for block in fenced_blocks((repo / "README.md").read_text(encoding="utf-8")):
        if block["label"]:
            if block["label"] in blocks:
                raise ValueError("README.md: two blocks are marked docs-test: %s" % block["label"])
            blocks["readme:" + block["label"]] = {"language": block["language"], "body": block["body"]}
    return blocks


PASTEABLE = ("yaml", "yml", "sh", "bash", "shell")
# Pages for contributors, not users: their snippets are fragments of the code and test conventions they describe.
CONTRIBUTOR_DOCS = ("architecture.md", "performance.md")


def docs_blocks(repo: pathlib.Path) -> tuple[dict[str, dict], list[str]]:
    """docs/*.md's yaml and shell blocks (not guide.md's): the marked ones by name, and where the unmarked ones are."""
    blocks, unmarked = {}, []
    for path in sorted((repo / "docs").glob("*.md")):
        if path.name in ("guide.md",) + CONTRIBUTOR_DOCS:
            continue
        text = path.read_text(encoding="utf-8")
        for block in fenced_blocks(text):
            if block["language"] not in PASTEABLE:
                continue
            if not block["label"]:
                unmarked.append("docs/%s line %d" % (path.name, text.count("\n", 0, block["offset"]) + 1))
                continue
            name = "docs:%s:%s" % (path.name, block["label"])
            if name in blocks:
                raise ValueError("docs/%s: two blocks are marked docs-test: %s" % (path.name, block["label"]))
            blocks[name] = {"language": block["language"], "body": block["body"]}
    return blocks, unmarked


def unmarked_docs_blocks(repo: pathlib.Path) -> list[str]:
    return docs_blocks(repo)[1]


def extract(repo: pathlib.Path) -> dict[str, dict]:
    """Every example: name -> {kind, language, body}."""
    examples = {}
    for name, body in module_examples(repo).items():
        examples[name] = {"kind": "tasks", "language": "yaml", "body": body}
    for name, body in role_readme_examples(repo).items():
        examples[name] = {"kind": "play" if body.lstrip().startswith("- name:") and "\n  hosts:" in body else "tasks",
                          "language": "yaml", "body": body}
    for name, body in guide_playbook(repo).items():
        examples[name] = {"kind": "play", "language": "yaml", "body": body}
    for name, block in readme_blocks(repo).items():
        examples[name] = {"kind": "shell" if block["language"] in ("sh", "bash", "shell") else "file",
                          "language": block["language"], "body": block["body"]}
    for name, block in docs_blocks(repo)[0].items():
        body = block["body"]
        if block["language"] in ("sh", "bash", "shell"):
            kind = "shell"
        else:
            kind = "play" if body.lstrip().startswith("- name:") and "\n  hosts:" in body else "tasks" if body.lstrip().startswith("- ") else "file"
        examples[name] = {"kind": kind, "language": block["language"], "body": body}
    return examples


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repo", type=pathlib.Path, default=pathlib.Path(__file__).resolve().parents[2])
    parser.add_argument("outdir", nargs="?", type=pathlib.Path)
    args = parser.parse_args(argv)
    examples = extract(args.repo)
    if args.outdir is None:
        print(json.dumps({name: {k: v for k, v in example.items() if k != "body"} for name, example in examples.items()}, indent=1))
        return 0
    args.outdir.mkdir(parents=True, exist_ok=True)
    manifest = {}
    for name, example in examples.items():
        path = args.outdir / (re.sub(r"[^\w.-]", "_", name) + (".sh" if example["kind"] == "shell" else ".yml"))
        path.write_text(example["body"], encoding="utf-8")
        manifest[name] = dict(example, file=str(path))
    (args.outdir / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

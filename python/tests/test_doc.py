"""The examples of doc/python.md run as written, in order, in one namespace (those marked
'# needs PGLib' from the PGLib folder, skipped without it)."""
import pathlib
import re

import pytest

from conftest import PGLIB

DOC = pathlib.Path(__file__).parents[2] / "doc" / "python.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
NAMESPACE = {}


@pytest.mark.parametrize("k", range(len(BLOCKS)))
def test_doc_example(k, monkeypatch):
    code = BLOCKS[k]
    if code.startswith("# needs PGLib"):
        if not (PGLIB / "pglib_opf_case14_ieee.m").is_file():
            pytest.skip("PGLib cases not found")
        monkeypatch.chdir(PGLIB)
    exec(compile(code, f"{DOC}:block{k}", "exec"), NAMESPACE)


def test_doc_has_examples():
    assert len(BLOCKS) >= 10

"""go_quote writes free text as Go's %q does, which is how buf's messages quote it."""

import pytest

from protoengine.quoting import go_quote


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("plain", '"plain"'),
        ("A\\B", '"A\\\\B"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("tab\tnew\nline", '"tab\\tnew\\nline"'),
        ("\x01\x7f", '"\\x01\\x7f"'),
        ("café ✓", '"café ✓"'),
        ("\u00a0\u200b", '"\\u00a0\\u200b"'),
        ("\U000e0001", '"\\U000e0001"'),
    ],
)
def test_it_escapes_what_go_escapes_and_keeps_what_go_prints(text, quoted):
    assert go_quote(text) == quoted

"""README.es.md (Spanish) keeps README.md's commands.

The rule: take every ```bash and ```python block of each README; drop full-line comments and each line's
trailing `# comment`; collapse runs of spaces. The two READMEs must then hold the same set of lines.
Comments and prose are translated freely; commands and code are not.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```(bash|sh|shell|python)\n(.*?)^```", re.M | re.S)


def command_lines(markdown: str) -> set[str]:
    lines = set()
    for _, body in BLOCK.findall(markdown):
        for line in body.splitlines():
            code = re.sub(r"(^|\s)#\s.*$", "", line).strip()
            if code:
                lines.add(" ".join(code.split()))
    return lines


def test_command_lines_strip_comments_and_spacing():
    md = "```bash\nmake demo   # set up\n# a comment\nautocolor  colorize a.jpg\n```\n```\nnot code\n```\n"
    assert command_lines(md) == {"make demo", "autocolor colorize a.jpg"}


def test_spanish_readme_has_the_same_commands_as_the_english_one():
    en = command_lines((ROOT / "README.md").read_text())
    es = command_lines((ROOT / "README.es.md").read_text())
    assert len(en) > 10
    assert not en - es, f"README.es.md lacks these lines of README.md's code blocks: {sorted(en - es)}"
    assert not es - en, f"README.es.md has lines that README.md's code blocks do not: {sorted(es - en)}"


def test_each_readme_links_the_other():
    assert "(README.es.md)" in (ROOT / "README.md").read_text().split("\n## ")[0]
    assert "(README.md)" in (ROOT / "README.es.md").read_text().split("\n## ")[0]

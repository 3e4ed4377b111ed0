"""mkdocs hook: the site's home page is README.md, with its links pointed inside the site.

README.md stays the one copy of the overview; ``docs/index.md`` only names it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[1] / "README.md"


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    if page.file.src_uri != "index.md":
        return markdown
    text = README.read_text()
    return text.replace("](docs/", "](").replace("](CONTRIBUTING.md)", "](development.md)")


def on_files(files: Any, config: Any) -> Any:
    """benchmarks/RESULTS.md (included in benchmarks.md) shows the plot next to it."""
    from mkdocs.structure.files import File

    plot = README.parent / "benchmarks" / "throughput.png"
    files.append(File.generated(config, "throughput.png", abs_src_path=str(plot)))
    return files

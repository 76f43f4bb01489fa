"""report.html: report.md turned into one self-contained web page.

The page is built from the very text of report.md, so the two cannot disagree.
report.md uses a small part of Markdown, and this module reads exactly that
part: blocks separated by a blank line, each a heading (``#``), a table (every
line starting with ``|``), a list (every line starting with ``- ``), a figure
(``![alt](file.png)`` lines) or a paragraph; inside text, ``**bold**``,
``*italic*`` and ```code```. Figures are embedded as base64 ``data:`` URIs and
the style sheet is inline, so the page opens in any browser with no network and
no other file.
"""

import base64
import html
import re

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 80em; margin: 2em auto; padding: 0 1em;
       line-height: 1.45; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; }
th { background: #f2f2f2; }
tr:nth-child(even) td { background: #fafafa; }
td.right, th.right { text-align: right; }
figure { margin: 1.5em 0 0.3em; }
img { max-width: 100%; height: auto; }
code { background: #f2f2f2; padding: 0 0.2em; }
"""

_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")


def render(markdown, images):
    """The page of ``markdown`` (report.md's text); ``images`` maps each figure's file
    name to its PNG bytes. A figure missing from ``images`` is a ValueError."""
    blocks = [b.strip("\n") for b in markdown.split("\n\n") if b.strip()]
    title = next((b.lstrip("#").strip() for b in blocks if b.startswith("# ")), "descentlab report")
    body = "\n".join(_block(b, images) for b in blocks)
    return (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{_text(title, markup=False)}</title>\n<style>{STYLE}</style>\n</head>\n"
            f"<body>\n{body}\n</body>\n</html>\n")


def _block(block, images):
    lines = block.split("\n")
    if block.startswith("#"):
        level = len(block) - len(block.lstrip("#"))
        return f"<h{level}>{_text(block[level:].strip())}</h{level}>"
    if all(line.startswith("|") for line in lines):
        return _table(lines)
    if all(line.startswith("- ") for line in lines):
        return "<ul>\n" + "\n".join(f"<li>{_text(line[2:])}</li>" for line in lines) + "\n</ul>"
    if all(_IMAGE.fullmatch(line) for line in lines):
        return "\n".join(_figure(*_IMAGE.fullmatch(line).groups(), images) for line in lines)
    return f"<p>{_text(' '.join(lines))}</p>"


def _figure(alt, name, images):
    if name not in images:
        raise ValueError(f"report.md shows '{name}', which was not given to embed")
    data = base64.b64encode(images[name]).decode("ascii")
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"></figure>'


def _table(lines):
    rows = [_cells(line) for line in lines]
    header, rules, body = rows[0], rows[1], rows[2:]
    align = [' class="right"' if rule.endswith(":") and not rule.startswith(":") else "" for rule in rules]
    head = "".join(f"<th{a}>{_text(c)}</th>" for a, c in zip(align, header))
    rows_html = "\n".join("<tr>" + "".join(f"<td{a}>{_text(c)}</td>" for a, c in zip(align, row)) + "</tr>"
                          for row in body)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows_html}\n</tbody>\n</table>"


def _cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _text(text, markup=True):
    """Escaped text with ``code``, **bold** and *italic* turned into tags (code first:
    nothing inside backticks is markup)."""
    if not markup:
        return html.escape(text.replace("`", "").replace("*", ""))
    parts = text.split("`")
    out = []
    for i, part in enumerate(parts):
        escaped = html.escape(part)
        if i % 2:
            out.append(f"<code>{escaped}</code>")
        else:
            escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
            out.append(re.sub(r"\*(.+?)\*", r"<em>\1</em>", escaped))
    return "".join(out)

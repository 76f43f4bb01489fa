"""Plain-text tables and JSON for the listing commands."""

import json


def format_table(header, rows):
    """Left-aligned columns separated by two spaces, a rule under the header."""
    cells = [list(map(str, header))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def to_json(data):
    return json.dumps(data, indent=2, default=str)

"""Print pyproject.toml's lower bounds as pip constraints (name==lower), for the
CI job that installs descentlab with the oldest versions it says it supports.

    python3 .ci/lower_bounds.py test labs > lower.txt    # the extras to include
"""

import re
import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
requirements = list(project["dependencies"])
for extra in sys.argv[1:]:
    requirements += project["optional-dependencies"][extra]
for requirement in requirements:
    name, specifiers = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(.*)", requirement).groups()
    for specifier in specifiers.split(","):
        bound = re.fullmatch(r"\s*(==|>=)\s*(\S+)\s*", specifier)
        if bound:
            print(f"{name}=={bound.group(2)}")

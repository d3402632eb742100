"""Terraform resource addresses to the ``.tf`` file and line that declare them.

A plan names a resource by address (``module.training.aws_iam_role_policy.eval_read``), but
a pull request changes ``.tf`` files: code scanning can only annotate a line of one. With
``--tf-source DIR`` (the root module), each address in the findings' evidence is followed
through its ``module`` blocks (local ``source`` paths) to the block that declares it; the
files are parsed by python-hcl2, whose parse tree keeps each block's line. A file that does
not parse, a module from a registry or git, or an address no block declares is left out
(the alert then stays on the plan file), and is reported as a note, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_INDEX = re.compile(r"\[[^\]]*\]")


@dataclass
class ModuleSource:
    """The blocks of one module directory: resources and data sources, and module calls."""

    directory: Path
    resources: dict[str, tuple[Path, int]] = field(default_factory=dict)  # "type.name" or "data.type.name"
    modules: dict[str, tuple[str, Path, int]] = field(default_factory=dict)  # name -> (source, file, line)
    unreadable: list[str] = field(default_factory=list)


def _label(tree: Any) -> str:
    return "".join(str(token) for token in tree.scan_values(lambda _: True)).strip('"')


def _attribute(body: Any, name: str) -> str | None:
    for child in getattr(body, "children", []):
        if getattr(child, "data", None) == "attribute" and _label(child.children[0]) == name:
            value = child.children[-1]
            text = "".join(str(t) for t in value.scan_values(lambda _: True))
            return text.strip('"') if text.startswith('"') and text.endswith('"') else None
    return None


def read_module(directory: Path) -> ModuleSource:
    import hcl2
    from lark.exceptions import LarkError

    module = ModuleSource(directory)
    for path in sorted(directory.glob("*.tf")):
        try:
            tree = hcl2.parses_to_tree(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, LarkError, ValueError) as exc:
            module.unreadable.append(f"{path}: {type(exc).__name__}")
            continue
        body = tree.children[0]
        for block in getattr(body, "children", []):
            if getattr(block, "data", None) != "block" or block.meta.empty:
                continue
            kind = _label(block.children[0])
            labels = [_label(c) for c in block.children[1:] if getattr(c, "data", None) in ("string", "identifier")]
            if kind == "resource" and len(labels) >= 2:
                module.resources.setdefault(f"{labels[0]}.{labels[1]}", (path, block.meta.line))
            elif kind == "data" and len(labels) >= 2:
                module.resources.setdefault(f"data.{labels[0]}.{labels[1]}", (path, block.meta.line))
            elif kind == "module" and labels:
                inner = next((c for c in block.children if getattr(c, "data", None) == "body"), None)
                source = _attribute(inner, "source") if inner is not None else None
                if source:
                    module.modules[labels[0]] = (source, path, block.meta.line)
    return module


@dataclass
class SourceIndex:
    """Resolves addresses under one root module, reading each module directory once."""

    root: Path
    _modules: dict[Path, ModuleSource] = field(default_factory=dict)

    def _module(self, directory: Path) -> ModuleSource:
        key = directory.resolve()
        if key not in self._modules:
            self._modules[key] = read_module(directory)
        return self._modules[key]

    def locate(self, address: str) -> tuple[Path, int] | None:
        """The file and line of the block declaring ``address`` (count/for_each index ignored)."""
        parts = _INDEX.sub("", address).split(".")
        directory = self.root
        while len(parts) >= 2 and parts[0] == "module":
            call = self._module(directory).modules.get(parts[1])
            if call is None or not call[0].startswith(("./", "../")):
                return None  # a registry or git module: its code is not in this repository
            directory = directory / call[0]
            parts = parts[2:]
        return self._module(directory).resources.get(".".join(parts))

    @property
    def unreadable(self) -> list[str]:
        return [note for module in self._modules.values() for note in module.unreadable]


def plan_address(kind: str, location: str) -> tuple[str, str] | None:
    """(plan file, resource address) of a piece of Terraform evidence, whose location reads
    ``PLAN.json ADDRESS`` (perhaps followed by `` Statement[...]``); None for other evidence."""
    if kind != "terraform" and not (" " in location and location.split(" ", 1)[0].endswith(".json")):
        return None
    file, _, rest = location.partition(" ")
    address = rest.split(" Statement[")[0].split(" ")[0]
    return (file, address) if address else None


def locate_all(root: Path, addresses: set[str], base: Path) -> tuple[dict[str, str], list[str]]:
    """``{address: "file.tf:line"}`` (paths relative to ``base``) for each address found, and
    the notes on what could not be read or found."""
    from audit.paths import relative

    index = SourceIndex(root)
    located: dict[str, str] = {}
    missing = []
    for address in sorted(addresses):
        found = index.locate(address)
        if found is None:
            missing.append(address)
        else:
            located[address] = f"{relative(str(found[0].absolute()), base)}:{found[1]}"
    notes = [f"could not parse {note}" for note in index.unreadable]
    if missing:
        notes.append(f"{len(missing)} resource address(es) not found under {root}: {', '.join(missing[:5])}")
    return located, notes

"""List the optimizer registry: name, class, defaults, torch counterpart, lecture/paper source."""

HELP = "list the optimizers, their defaults and sources"


def add_arguments(parser):
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def rows():
    from descentlab import optimizers

    for name in optimizers.available():
        info = optimizers.info(name)
        yield {
            "name": name,
            "class": info.cls.__name__,
            "defaults": optimizers.defaults(name),
            "torch": f"torch.optim.{info.counterpart.torch_name}" if info.counterpart else None,
            "reference": info.reference,
            "description": info.description,
        }


def run(args):
    from descentlab.cli.table import format_table, to_json

    entries = list(rows())
    if args.json:
        print(to_json(entries))
        return 0
    shown = [[e["name"], e["class"], e["torch"] or "-", _short(e["defaults"]), e["description"]]
             for e in entries]
    print(format_table(["name", "class", "torch counterpart", "defaults", "what it does"], shown))
    return 0


def _short(defaults):
    return ", ".join(f"{k}={v}" for k, v in defaults.items()
                     if k not in ("maximize",) and v not in (False, None))

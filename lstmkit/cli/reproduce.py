"""``lstmkit reproduce NAME``: run one of the course's experiments and compare."""

from __future__ import annotations

from lstmkit.core.errors import expected

ORDER = 60


def register(sub) -> None:
    from lstmkit.experiments import experiment_names

    names = experiment_names()
    p = sub.add_parser("reproduce", help="re-run a course experiment beside its published figure",
                       description="Re-run one of the course's experiments beside its published "
                       "figure. Targets: " + ", ".join(names) + ".")
    p.add_argument("name", nargs="?", metavar="NAME",
                   help="experiment: " + ", ".join(names) + " (omit to list them with a line "
                   "each)")
    p.add_argument("--quick", action="store_true", help="fewer seeds/epochs, for a smoke test")
    p.set_defaults(func=run)


def run(args) -> int:
    from lstmkit.experiments import all_experiments

    experiments = all_experiments()
    if not args.name:
        for name, exp in experiments.items():
            print(f"{name:24s} {exp.summary}")
        return 0
    if args.name not in experiments:
        raise expected("Reproduce", "one of " + ", ".join(experiments), repr(args.name))
    print(experiments[args.name].run(quick=args.quick))
    return 0

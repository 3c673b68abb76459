"""``necc-bayes cache``: where the persistent compile cache is, how big, and emptying it."""

from __future__ import annotations

import argparse

from necc_bayes.errors import EXIT_OK


def add_cache(sub: argparse._SubParsersAction) -> None:
    """Register ``necc-bayes cache {info,clear}``."""
    p = sub.add_parser(
        "cache",
        help="show or clear the compiled-model cache ($NECC_BAYES_CACHE_DIR, "
        "NECC_BAYES_COMPILE_CACHE=off to bypass it)",
    )
    p.add_argument(
        "action", choices=["info", "clear"], help="info: location and size; clear: empty it"
    )
    p.set_defaults(func=_run_cache)


def _run_cache(args: argparse.Namespace) -> int:
    from necc_bayes.inference.compile_cache import cache_enabled, cache_info, clear_cache

    info = clear_cache() if args.action == "clear" else cache_info()
    verb = "removed" if args.action == "clear" else "holds"
    state = "" if cache_enabled() else " (bypassed: NECC_BAYES_COMPILE_CACHE=off)"
    print(
        f"compile cache {info.root}{state} {verb} {info.entries} compiled functions "
        f"({info.bytes / 2**20:.1f} MiB, {info.stacks} package/CPU combination(s))"
    )
    return EXIT_OK

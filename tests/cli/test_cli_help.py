"""Every registered subcommand answers --help (guards the CLI registry against drift)."""

from __future__ import annotations

import pytest

from necc_bayes.cli.main import build_parser, main

COMMANDS = sorted(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]


def test_design_commands_exist():
    # DESIGN §4 contract
    assert {"reproduce", "fit", "orr", "validate-data"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert "usage: necc-bayes" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["fitt"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err

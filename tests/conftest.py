"""Shared fixtures.

``report`` records a figure a test measured (e.g. the fitted scaling exponents); the
terminal summary prints them all, also when the tests ran in pytest-xdist workers.
"""

import pytest


@pytest.fixture
def report(request):
    def add(text):
        request.node.user_properties.append(("measured", text))

    return add


def pytest_terminal_summary(terminalreporter):
    lines = [
        f"{rep.nodeid}: {value}"
        for key in ("passed", "failed")
        for rep in terminalreporter.stats.get(key, [])
        if rep.when == "call"
        for name, value in rep.user_properties
        if name == "measured"
    ]
    if lines:
        terminalreporter.section("measured figures")
        for line in lines:
            terminalreporter.write_line(line)
